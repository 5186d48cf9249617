//! The reference i386 image activator: a static ELF32 CloudABI image plus the initial
//! stack, in the two phases [`proc_exec`](crate::exec::proc_exec) expects.
//!
//! `prepare` does everything that can be refused: parses the headers, checks that every
//! segment lies in user space (from the second page up to [`Layout32::user_top`]) and
//! clear of the new stack and the [vDSO](super::vdso), builds the initial stack and reads every segment's bytes from
//! the executable (or, for an executable held in memory, [`ImageFile::bytes`], checks
//! that they are there). `activate`, after the point of no return, only resets the
//! address space, maps, copies and protects (the image, the stack, the vDSO).

use super::cloudabi32::Cloudabi32;
use super::stack::{AuxInfo, Entropy, StackImage};
use super::vdso::{VDSO_SIZE, vdso_image};
use arrayvec::ArrayVec;

use crate::Errno;
use crate::exec::{
    AddressSpace, ElfImage, ImageActivator, ImageArgs, ImageFile, MAX_LOAD_SEGMENTS, MIN_LOAD_ADDR,
    Process, Protection, SegmentContents, UserMemory,
};

/// Where a new i386 image starts running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryState32 {
    /// The entry point.
    pub eip: u32,
    /// The initial stack pointer (`[esp]` = TCB pointer, `[esp+4]` = auxv pointer).
    pub esp: u32,
    /// The `%gs` base (equal to `esp`, so `%gs:0` reads the TCB pointer).
    pub gs_base: u32,
}

/// Where the kernel puts things (the stack, `ET_DYN` images) and what only it knows
/// (number of CPUs, thread id, vDSO address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout32 {
    /// One past the highest stack byte (`U`).
    pub stack_top: u32,
    /// Bytes of stack mapped below `stack_top`.
    pub stack_size: u32,
    /// Load base of `ET_DYN` images.
    pub dyn_base: u32,
    /// `AT_NCPUS`.
    pub ncpus: u32,
    /// `AT_TID`.
    pub tid: u32,
    /// Where the activator maps the [vDSO](super::vdso) in every new image, reported as
    /// `AT_SYSINFO_EHDR`: a page-aligned user address clear of the stack (otherwise
    /// `ENOMEM`, before the point of no return); an image segment overlapping it is
    /// `ENOEXEC`. 0 maps no vDSO (the program then links no system call).
    pub sysinfo_ehdr: u32,
    /// One past the highest address an image may use: the kernel's half (or whatever
    /// the kernel keeps for itself) starts here. An image segment reaching it is
    /// `ENOEXEC` before the point of no return, as is one overlapping the stack.
    pub user_top: u32,
}

impl Default for Layout32 {
    /// A 1 MiB stack ending at `0xbfc0_0000` (FreeBSD i386's `USRSTACK` neighbourhood),
    /// the vDSO at `0xbfe0_0000` (between the stack and the kernel), `ET_DYN` images at 4 MiB, one CPU,
    /// thread id 1, the kernel's half from 3 GiB (the usual i386 split).
    fn default() -> Layout32 {
        Layout32 {
            stack_top: 0xbfc0_0000,
            stack_size: 1 << 20,
            dyn_base: 0x0040_0000,
            ncpus: 1,
            tid: 1,
            sysinfo_ehdr: 0xbfe0_0000,
            user_top: 0xc000_0000,
        }
    }
}

/// Phase one's result: the checked image, its segments' bytes and the stack, all in
/// kernel memory, so that phase two only maps and copies.
#[derive(Debug)]
pub struct PreparedImage32 {
    /// The image's headers.
    pub image: ElfImage,
    /// The file bytes of the image's segments (none for an executable held in memory:
    /// they are copied from its [`ImageFile::bytes`]).
    pub contents: SegmentContents,
    /// The initial stack.
    pub stack: StackImage,
}

impl PreparedImage32 {
    /// Nothing prepared yet: what phase one fills.
    const EMPTY: PreparedImage32 = PreparedImage32 {
        image: ElfImage::EMPTY,
        contents: SegmentContents::EMPTY,
        stack: StackImage::EMPTY,
    };
}

/// The i386 page size: segments are placed in whole pages.
const PAGE_SIZE: u32 = 4096;

/// The vDSO's pages `[start, end)` at `at`, checked against the layout: page-aligned,
/// above the first page, below `user_top` and clear of the stack (`ENOMEM`); `None` when
/// the layout maps no vDSO.
fn vdso_range(l: &Layout32, stack: (u32, u32)) -> Result<Option<(u32, u32)>, Errno> {
    let at = l.sysinfo_ehdr;
    if at == 0 {
        return Ok(None);
    }
    let len = (VDSO_SIZE as u32).next_multiple_of(PAGE_SIZE);
    let end = at.checked_add(len).ok_or(Errno::ENOMEM)?;
    let overlaps_stack = at < stack.1 && stack.0 < end;
    if at % PAGE_SIZE != 0 || at < MIN_LOAD_ADDR || end > l.user_top || overlaps_stack {
        return Err(Errno::ENOMEM);
    }
    Ok(Some((at, end)))
}

/// The reference activator for static ELF32 i386 CloudABI images.
pub struct Cloudabi32Activator<'a> {
    /// Where things go.
    pub layout: Layout32,
    /// The kernel's randomness (canary, process id; `random_get` through the activator's
    /// own [`Entropy`] implementation).
    pub rng: &'a mut dyn Entropy,
}

/// The most regions [`Cloudabi32Activator::mapped_regions`] lists: every load segment,
/// the stack and the vDSO.
pub const MAX_MAPPED_REGIONS: usize = MAX_LOAD_SEGMENTS + 2;

impl<'a> Cloudabi32Activator<'a> {
    /// An activator with `layout` and `rng`.
    pub fn new(layout: Layout32, rng: &'a mut dyn Entropy) -> Cloudabi32Activator<'a> {
        Cloudabi32Activator { layout, rng }
    }

    /// Every region `(address, length)` that [`activate`](ImageActivator::activate) will
    /// map for `prepared`: the image's load segments and the stack (with
    /// [`AddressSpace::map_region`]) and the vDSO (when the layout maps one, with
    /// [`AddressSpace::map_shared`], whose default maps a page of its own), in that order.
    ///
    /// A kernel that builds the new image without allocating after the point of no
    /// return sizes its reservation (pages, page tables) from these in its own
    /// `prepare`, before the point of no return, and stays right as the activator
    /// changes.
    pub fn mapped_regions(
        &self,
        prepared: &PreparedImage32,
    ) -> ArrayVec<(u32, u32), MAX_MAPPED_REGIONS> {
        let l = &self.layout;
        let mut regions: ArrayVec<(u32, u32), MAX_MAPPED_REGIONS> = prepared
            .image
            .segments
            .iter()
            .map(|s| (s.vaddr, s.memsz))
            .collect();
        regions.push((l.stack_top.saturating_sub(l.stack_size), l.stack_size));
        if l.sysinfo_ehdr != 0 {
            regions.push((l.sysinfo_ehdr, VDSO_SIZE as u32));
        }
        regions
    }
}

/// The activator lends its generator to the system calls that need randomness
/// (`random_get` in [`syscall32`](super::syscall32)): the kernel's one source.
impl Entropy for Cloudabi32Activator<'_> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        self.rng.fill(buf)
    }
}

impl<P> ImageActivator<P> for Cloudabi32Activator<'_>
where
    P: Process + ?Sized,
    P::File: ImageFile,
    P::Memory: AddressSpace + UserMemory<Abi = Cloudabi32>,
{
    type PreparedImage = PreparedImage32;
    type Entry = EntryState32;

    #[inline(always)]
    fn prepare(
        &mut self,
        _process: &P,
        executable: &P::Handle,
        args: &ImageArgs<P::Handle>,
    ) -> Result<PreparedImage32, Errno> {
        let mut prepared = PreparedImage32::EMPTY;
        self.fill_prepared::<P>(executable, args, &mut prepared)?;
        Ok(prepared)
    }

    #[inline(always)]
    fn activate(
        &mut self,
        process: &mut P,
        prepared: PreparedImage32,
        executable: &P::Handle,
        args: &ImageArgs<P::Handle>,
    ) -> Result<EntryState32, Errno> {
        self.activate_from::<P>(process, &prepared, executable, args)
    }

    // Built where it stays, in the driver's storage: the segment table and the stack
    // header are hundreds of bytes, not moved through a `Result`.
    #[inline(always)]
    fn prepare_in_place(
        &mut self,
        _process: &P,
        executable: &P::Handle,
        args: &ImageArgs<P::Handle>,
        out: &mut Option<PreparedImage32>,
    ) -> Result<(), Errno> {
        let prepared = out.insert(PreparedImage32::EMPTY);
        self.fill_prepared::<P>(executable, args, prepared)
    }

    #[inline(always)]
    fn activate_in_place(
        &mut self,
        process: &mut P,
        prepared: &mut Option<PreparedImage32>,
        executable: &P::Handle,
        args: &ImageArgs<P::Handle>,
    ) -> Result<EntryState32, Errno> {
        let prepared = prepared.as_ref().ok_or(Errno::EINVAL)?;
        self.activate_from::<P>(process, prepared, executable, args)
    }
}

impl Cloudabi32Activator<'_> {
    /// Phase one into `prepared` (empty parts): each step fills its part in place.
    #[inline(always)]
    fn fill_prepared<P>(
        &mut self,
        executable: &P::Handle,
        args: &ImageArgs<P::Handle>,
        prepared: &mut PreparedImage32,
    ) -> Result<(), Errno>
    where
        P: Process + ?Sized,
        P::File: ImageFile,
    {
        let l = self.layout;
        let image = &mut prepared.image;
        image.parse_into(&**executable, l.dyn_base)?;
        let stack = (l.stack_top.saturating_sub(l.stack_size), l.stack_top);
        match vdso_range(&l, stack)? {
            Some(v) => image.check_placement(PAGE_SIZE, l.user_top, &[stack, v])?,
            None => image.check_placement(PAGE_SIZE, l.user_top, &[stack])?,
        }
        let aux = AuxInfo {
            base: image.base,
            phdr: image.phdr,
            phnum: image.phnum,
            ncpus: l.ncpus,
            tid: l.tid,
            sysinfo_ehdr: l.sysinfo_ehdr,
            ..AuxInfo::default()
        };
        prepared
            .stack
            .build(l.stack_top, args.data_with_nul(), &aux, self.rng)?;
        if prepared.stack.esp < l.stack_top.saturating_sub(l.stack_size) {
            return Err(Errno::E2BIG);
        }
        // Last, the costliest: every byte the new image needs from the file is read
        // here, so nothing is read after the point of no return.
        prepared.contents = prepared.image.read_segments(&**executable)?;
        Ok(())
    }

    /// Phase two from `prepared`.
    #[inline(always)]
    fn activate_from<P>(
        &mut self,
        process: &mut P,
        prepared: &PreparedImage32,
        executable: &P::Handle,
        args: &ImageArgs<P::Handle>,
    ) -> Result<EntryState32, Errno>
    where
        P: Process + ?Sized,
        P::File: ImageFile,
        P::Memory: AddressSpace + UserMemory<Abi = Cloudabi32>,
    {
        let mem = process.memory_mut();
        mem.reset();
        prepared
            .image
            .load(&prepared.contents, &**executable, mem)?;
        let l = &self.layout;
        let bottom = l.stack_top.saturating_sub(l.stack_size);
        mem.map_region(bottom, l.stack_size, Protection::READ | Protection::WRITE)?;
        prepared.stack.copy_out(mem, args.data_with_nul())?;
        // The vDSO: checked in `prepare`, so only the kernel's own failure remains. The
        // same bytes in every process: the kernel maps its prepared copy.
        if l.sysinfo_ehdr != 0 {
            mem.map_shared(
                l.sysinfo_ehdr,
                vdso_image(),
                Protection::READ | Protection::EXEC,
            )?;
        }
        Ok(EntryState32 {
            eip: prepared.image.entry,
            esp: prepared.stack.esp,
            gs_base: prepared.stack.esp,
        })
    }
}
