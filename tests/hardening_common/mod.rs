//! The checks shared by the fuzz targets (`fuzz/fuzz_targets/*.rs` include this file with
//! `#[path]`) and the stable corpus replay (`tests/hardening_corpus.rs`), written once.
//!
//! Every input is plain bytes decoded by the small byte-driven [`Input`] reader (no
//! `arbitrary` crate), so a corpus file means the same thing to the fuzzer and to
//! `cargo test`. Each `check_*` function panics when an invariant is broken; on any
//! input it must otherwise return.
#![allow(dead_code)]

use std::borrow::Cow;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use capexec::Errno;
use capexec::abi::{
    Cloudabi32, Cloudabi32Activator, EFLAGS_CF, Entropy, Layout32, Regs32, SyscallAction, syscall32,
};
use capexec::argdata::print_yaml;
use capexec::argdata::{ArgdataRef, Encoded, MapIter, SeqIter, Timestamp, Type, Value};
use capexec::exec::{
    AddressSpace, ImageFile, MapRequest, Process, Protection, Restart, SingleThreadEnd, SyncMode,
    UserAccess, UserMemory, VirtualMemory, copyin, copyout,
};
use capexec::fdtable::{Fd, FdRights, FdTable, File, FileIo, FileType, Rights, SharedFdTable};
use capexec_sim::{SimAddressSpace, minimal_cloudabi_elf};

// ---------------------------------------------------------------------------------------
// The byte-driven decoder.

/// Reads fuzz input front to back; past the end every read gives zeros.
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data, pos: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    /// A number below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.u8()) % n
    }
    /// Up to `n` bytes (fewer at the end of the input).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.pos = self.pos.saturating_add(n);
        &self.data[start..end]
    }
    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        self.pos = self.data.len();
        &self.data[start..]
    }
}

/// A `fmt::Write` sink that counts bytes, and fails after `fail_after` bytes if set.
#[derive(Default)]
pub struct Sink {
    pub bytes: u64,
    pub fail_after: Option<u64>,
}

impl Write for Sink {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let n = s.len() as u64;
        if let Some(limit) = self.fail_after {
            if self.bytes + n > limit {
                return Err(std::fmt::Error);
            }
        }
        self.bytes += n;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// argdata_read: every typed read on every node reached.

/// Most nodes visited per view (bounds the work on a 256 KiB container).
pub const MAX_NODES: usize = 20_000;

fn odd_convert(raw: u32) -> Result<i32, Errno> {
    if raw % 2 == 1 {
        Ok((raw / 2) as i32)
    } else {
        Err(Errno::EBADF)
    }
}

fn is_within(outer: &[u8], inner: &[u8]) -> bool {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    inner.is_empty() || (i >= o && i + inner.len() <= o + outer.len())
}

macro_rules! int_consistent {
    ($ad:expr, $wide:expr, $($t:ty),*) => {$(
        match ($ad.read_int::<$t>(), $wide) {
            (Ok(v), Some(w)) => assert_eq!(i128::try_from(v).ok(), Some(w)),
            (Ok(_), None) => panic!("narrow int read where the wide read failed"),
            (Err(e), Some(w)) => {
                assert_eq!(e, Errno::ERANGE);
                assert!(<$t>::try_from(w).is_err(), "{w} fits but was refused");
            }
            (Err(e), None) => assert!(e == Errno::ERANGE || e == Errno::EINVAL),
        }
    )*};
}

/// Every typed read on one node, checked against its kind and each other.
pub fn check_node(ad: ArgdataRef<'_>) {
    let bytes = ad.bytes();
    let kind = ad.kind();
    assert_eq!(ad.is_null(), bytes.is_empty());
    assert_eq!(kind == Ok(Type::Null), bytes.is_empty());
    let is = |t: Type| kind == Ok(t);

    assert_eq!(ad.read_binary().is_ok(), is(Type::Binary));
    if let Ok(b) = ad.read_binary() {
        assert_eq!(b.len() + 1, bytes.len());
    }
    if ad.read_bool().is_ok() {
        assert!(is(Type::Bool));
    }
    match ad.read_raw_fd() {
        Ok(raw) => {
            assert!(is(Type::Fd));
            match ad.fd_convert() {
                None => assert_eq!(ad.read_fd(), Err(Errno::EBADF)),
                Some(c) => assert_eq!(ad.read_fd(), c.convert(raw)),
            }
        }
        Err(e) => {
            assert_eq!(e, Errno::EINVAL);
            assert_eq!(ad.read_fd(), Err(Errno::EINVAL));
        }
    }
    if let Ok(f) = ad.read_float() {
        assert!(is(Type::Float));
        assert_eq!(bytes.len(), 9);
        assert_eq!(f.to_bits().to_be_bytes(), bytes[1..]);
    }
    assert_eq!(ad.read_int_bytes().is_ok(), is(Type::Int));
    let signed = ad.read_int::<i64>().ok().map(i128::from);
    let unsigned = ad.read_int::<u64>().ok().map(i128::from);
    if let (Some(s), Some(u)) = (signed, unsigned) {
        assert_eq!(s, u);
    }
    assert_eq!(ad.read_int::<i128>().ok(), signed);
    assert_eq!(ad.read_int::<u128>().ok().map(|v| v as i128), unsigned);
    int_consistent!(ad, signed, i8, i16, i32, isize);
    int_consistent!(
        ad,
        unsigned.or(signed.filter(|&s| s >= 0)),
        u8,
        u16,
        u32,
        usize
    );

    match ad.read_str() {
        Ok(s) => {
            assert!(is(Type::Str));
            assert_eq!(s.len() + 2, bytes.len());
            match ad.read_cstr() {
                Ok(c) => {
                    assert_eq!(c.to_str(), Ok(s));
                    assert!(!s.as_bytes().contains(&0));
                }
                Err(e) => {
                    assert_eq!(e, Errno::EILSEQ);
                    assert!(s.as_bytes().contains(&0));
                }
            }
        }
        Err(_) => {
            assert!(ad.read_cstr().is_err());
        }
    }
    if let Ok(t) = ad.read_timestamp() {
        assert!(is(Type::Timestamp));
        assert!(t.nsec < 1_000_000_000);
    }
    assert_eq!(ad.map().is_ok(), is(Type::Map));
    assert_eq!(ad.seq().is_ok(), is(Type::Seq));
}

/// Drains a seq iterator, pushing children onto `work` (within the bound).
fn walk_seq<'a>(
    parent: &'a [u8],
    mut it: SeqIter<'a>,
    work: &mut Vec<ArgdataRef<'a>>,
    budget: &mut usize,
) {
    let mut n = 0usize;
    loop {
        match it.next() {
            Some(Ok(child)) => {
                assert!(is_within(parent, child.bytes()));
                n += 1;
                assert!(n <= parent.len(), "more elements than bytes");
                if *budget > 0 {
                    *budget -= 1;
                    work.push(child);
                }
            }
            Some(Err(e)) => {
                assert_eq!(e, Errno::EINVAL);
                assert!(!it.is_valid());
                assert!(it.next().is_none(), "iterator not fused after an error");
                return;
            }
            None => {
                assert!(it.next().is_none());
                return;
            }
        }
    }
}

fn walk_map<'a>(
    parent: &'a [u8],
    mut it: MapIter<'a>,
    work: &mut Vec<ArgdataRef<'a>>,
    budget: &mut usize,
) {
    let mut n = 0usize;
    loop {
        match it.next() {
            Some(Ok((k, v))) => {
                assert!(is_within(parent, k.bytes()));
                assert!(is_within(parent, v.bytes()));
                n += 1;
                assert!(n <= parent.len(), "more pairs than bytes");
                if *budget > 1 {
                    *budget -= 2;
                    work.push(k);
                    work.push(v);
                }
            }
            Some(Err(e)) => {
                assert_eq!(e, Errno::EINVAL);
                assert!(!it.is_valid());
                assert!(it.next().is_none(), "iterator not fused after an error");
                return;
            }
            None => {
                assert!(it.next().is_none());
                return;
            }
        }
    }
}

/// The `argdata_read` target: any bytes, three descriptor conversions, every typed read
/// on the root and on every node reached by iterating (explicit work list, bounded).
pub fn check_argdata_read(data: &[u8]) {
    let odd = odd_convert;
    for ad in [
        ArgdataRef::new(data),
        ArgdataRef::for_program(data),
        ArgdataRef::with_fds(data, &odd),
    ] {
        let _ = format!("{ad:?}").len();
        let mut work = vec![ad];
        let mut budget = MAX_NODES;
        while let Some(node) = work.pop() {
            check_node(node);
            if let Ok(it) = node.seq() {
                walk_seq(node.bytes(), it, &mut work, &mut budget);
            }
            if let Ok(it) = node.map() {
                walk_map(node.bytes(), it, &mut work, &mut budget);
            }
        }
        // Whole-tree walkers on the root: decoding never fails but for ENOMEM, and
        // re-serialising encoded bytes keeps their length.
        let tree = ad.to_value().expect("to_value");
        let (len, _) = tree.serialized_length().expect("serialized_length");
        assert_eq!(tree.to_bytes().expect("to_bytes").len(), len);
        let enc = Value::encoded(ad);
        let (out, fds) = enc.serialize_with_fds().expect("serialize encoded");
        assert_eq!(out.len(), data.len());
        assert!(fds.len() <= enc.serialized_length().unwrap().1);
    }
}

// ---------------------------------------------------------------------------------------
// argdata_roundtrip: a generated tree, serialised with descriptors, parsed back equal.

/// Deepest nesting the tree generator builds.
pub const GEN_DEPTH: usize = 24;
/// Most nodes the tree generator builds.
pub const GEN_NODES: usize = 512;

fn gen_int(inp: &mut Input<'_>) -> i128 {
    let n = inp.below(17);
    let b = inp.take(n);
    let mut v: i128 = if b.first().is_some_and(|&x| x & 0x80 != 0) {
        -1
    } else {
        0
    };
    for &x in b {
        v = (v << 8) | i128::from(x);
    }
    v
}

/// Decodes one `Value` tree from the input (bounded depth and size).
pub fn gen_value(inp: &mut Input<'_>, depth: usize, budget: &mut usize) -> Value<'static> {
    if *budget == 0 || inp.is_empty() {
        return Value::Null;
    }
    *budget -= 1;
    match inp.u8() % 12 {
        0 => Value::Null,
        1 => {
            let n = inp.below(40);
            Value::Binary(Cow::Owned(inp.take(n).to_vec()))
        }
        2 => Value::Bool(inp.bool()),
        3 | 4 => {
            let b = inp.u8();
            Value::Fd(match b {
                0..=239 => i32::from(b % 20),
                240..=247 => -i32::from(b - 239),
                248 => i32::MIN,
                249 => i32::MAX,
                _ => (inp.u32() & 0x7fff_ffff) as i32,
            })
        }
        5 => Value::Float(f64::from_bits(inp.u64())),
        6 => Value::Int(gen_int(inp)),
        7 => {
            let n = inp.below(40);
            Value::Str(Cow::Owned(
                String::from_utf8_lossy(inp.take(n)).into_owned(),
            ))
        }
        8 => {
            let sec = inp.u64() as i64;
            let nsec = i64::from(inp.u32() % 1_000_000_000);
            Value::Timestamp(Timestamp::new(sec, nsec).expect("nsec in range"))
        }
        9 | 10 if depth < GEN_DEPTH => {
            let n = inp.below(9);
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(gen_value(inp, depth + 1, budget));
            }
            Value::Seq(items)
        }
        11 if depth < GEN_DEPTH => {
            let n = inp.below(6);
            let mut pairs = Vec::new();
            for _ in 0..n {
                let k = gen_value(inp, depth + 1, budget);
                let v = gen_value(inp, depth + 1, budget);
                pairs.push((k, v));
            }
            Value::Map(pairs)
        }
        _ => Value::Int(i128::from(inp.u8())),
    }
}

/// Depth-first (map key before value) descriptor nodes of a tree.
pub fn fd_nodes(v: &Value<'_>) -> Vec<i32> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Fd(n) => out.push(*n),
            Value::Seq(items) => stack.extend(items.iter().rev()),
            Value::Map(pairs) => {
                for (k, val) in pairs.iter().rev() {
                    stack.push(val);
                    stack.push(k);
                }
            }
            _ => {}
        }
    }
    out
}

/// The tree a reader gets back: a negative descriptor was written as the invalid marker
/// and decodes as an encoded node.
pub fn expected_back(v: &Value<'static>) -> Value<'static> {
    match v {
        Value::Fd(n) if *n < 0 => Value::Encoded(Encoded {
            bytes: Cow::Owned(vec![0x03, 0xff, 0xff, 0xff, 0xff]),
            convert: None,
        }),
        Value::Seq(items) => Value::Seq(items.iter().map(expected_back).collect()),
        Value::Map(pairs) => Value::Map(
            pairs
                .iter()
                .map(|(k, val)| (expected_back(k), expected_back(val)))
                .collect(),
        ),
        other => other.try_clone().expect("clone leaf"),
    }
}

/// The `argdata_roundtrip` target.
pub fn check_argdata_roundtrip(data: &[u8]) {
    let mut inp = Input::new(data);
    let mut budget = GEN_NODES;
    let tree = gen_value(&mut inp, 0, &mut budget);
    let nodes = fd_nodes(&tree);
    let mut want_fds: Vec<i32> = Vec::new();
    for &n in &nodes {
        if n >= 0 && !want_fds.contains(&n) {
            want_fds.push(n);
        }
    }

    let (len, upper) = tree.serialized_length().expect("serialized_length");
    assert_eq!(upper, nodes.len());
    let (bytes, fds) = tree.serialize_with_fds().expect("serialize_with_fds");
    assert_eq!(bytes.len(), len);
    assert_eq!(
        fds, want_fds,
        "fd list: distinct descriptors in first-appearance order"
    );
    // The slice API agrees with the vector API.
    let mut buf = vec![0u8; len];
    let mut slots = vec![-7; upper];
    let listed = tree.serialize(&mut buf, &mut slots).expect("serialize");
    assert_eq!(buf, bytes);
    assert_eq!(&slots[..listed], &fds[..]);
    // Literal serialisation has the same length.
    let mut lit = vec![0u8; len];
    tree.serialize_literal(&mut lit).expect("serialize_literal");

    // Parse back through the list: equal to the original (negative fds become invalid).
    let list = fds.clone();
    let conv = move |raw: u32| list.get(raw as usize).copied().ok_or(Errno::EBADF);
    let back = ArgdataRef::with_fds(&bytes, &conv)
        .to_value()
        .expect("to_value");
    let want = expected_back(&tree);
    assert!(back == want, "round trip differs:\n{tree:?}\n{back:?}");
    // Every node reached by the reader passes the typed-read checks.
    check_argdata_read(&bytes);

    // Re-serialising the encoded bytes keeps their length and, through the same
    // conversion, gives the same bytes and the same list.
    let enc = Value::encoded(ArgdataRef::with_fds(&bytes, &conv));
    let (again, fds2) = enc.serialize_with_fds().expect("re-serialise");
    assert_eq!(again, bytes);
    assert_eq!(fds2, fds);
    let (plain, none) = Value::encoded(ArgdataRef::new(&bytes))
        .serialize_with_fds()
        .expect("re-serialise without conversion");
    assert_eq!(plain.len(), bytes.len());
    assert!(none.is_empty());

    // Clone and equality.
    let copy = tree.try_clone().expect("try_clone");
    assert!(copy == tree);

    // The rest of the input, as encoded argdata, re-serialises length-preserving.
    let rest = inp.rest();
    let (out, _) = Value::encoded(ArgdataRef::for_program(rest))
        .serialize_with_fds()
        .expect("serialise rest");
    assert_eq!(out.len(), rest.len());
}

// ---------------------------------------------------------------------------------------
// argdata_yaml: the printer on any bytes.

/// The `argdata_yaml` target: the first byte picks a sink failure point.
pub fn check_argdata_yaml(data: &[u8]) {
    let (sel, bytes) = data.split_first().map_or((0, data), |(s, r)| (*s, r));
    let odd = odd_convert;
    for ad in [
        ArgdataRef::new(bytes),
        ArgdataRef::for_program(bytes),
        ArgdataRef::with_fds(bytes, &odd),
    ] {
        let mut sink = Sink::default();
        let r = print_yaml(ad, &mut sink);
        assert!(
            r == Ok(()) || r == Err(Errno::EOVERFLOW),
            "print_yaml gave {r:?}"
        );
        let total = sink.bytes;
        assert!(total >= 40);
        // Output grows at most with depth times size, well within this bound.
        assert!(total <= 64 + 64 * (bytes.len() as u64 + 1) * (bytes.len() as u64 + 1));
        // A sink that fails part-way gives EIO (or the depth error it reached first).
        let limit = u64::from(sel) * total / 256;
        let mut failing = Sink {
            bytes: 0,
            fail_after: Some(limit),
        };
        let r2 = print_yaml(ad, &mut failing);
        if r.is_ok() && limit < total {
            assert_eq!(r2, Err(Errno::EIO));
        }
        assert!(failing.bytes <= limit);
    }
    // Small inputs: the printed text is valid UTF-8 and starts with the header.
    if bytes.len() <= 64 {
        let mut s = String::new();
        let _ = print_yaml(ArgdataRef::for_program(bytes), &mut s);
        assert!(s.starts_with("%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n"));
    }
}

// ---------------------------------------------------------------------------------------
// syscall_i386: a whole simulated process.

/// The kinds of file in the hardening kernel.
pub enum HKind {
    Regular(Vec<u8>),
    Stream,
    Directory,
    Socket,
}

/// The hardening kernel's open file.
pub struct HFile {
    pub kind: HKind,
    pub passable: bool,
    pub written: AtomicU64,
}

impl HFile {
    pub fn new(kind: HKind, passable: bool) -> Arc<HFile> {
        Arc::new(HFile {
            kind,
            passable,
            written: AtomicU64::new(0),
        })
    }
}

impl File for HFile {
    fn io(&self) -> Option<&dyn FileIo> {
        Some(self)
    }
    fn file_type(&self) -> FileType {
        match self.kind {
            HKind::Regular(_) => FileType::RegularFile,
            HKind::Stream => FileType::CharacterDevice,
            HKind::Directory => FileType::Directory,
            HKind::Socket => FileType::SocketStream,
        }
    }
    fn is_passable(&self) -> bool {
        self.passable
    }
}

impl ImageFile for HFile {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        match &self.kind {
            HKind::Regular(b) => Ok(capexec_sim::read_slice_at(b, offset, buf)),
            _ => Err(Errno::EISDIR),
        }
    }
}

impl FileIo for HFile {
    fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        match self.kind {
            HKind::Stream => {
                let n = buf.len().min(100);
                buf[..n].fill(b'r');
                Ok(n)
            }
            _ => Err(Errno::EBADF),
        }
    }
    fn write(&self, data: &[u8]) -> Result<usize, Errno> {
        match self.kind {
            HKind::Stream => {
                self.written.fetch_add(data.len() as u64, Ordering::Relaxed);
                Ok(data.len())
            }
            _ => Err(Errno::EBADF),
        }
    }
}

/// A simulated address space whose `map_region` refuses more than `budget` bytes in
/// total (a kernel out of memory for a hostile image: `ENOMEM`, after the point of no
/// return a kill).
pub struct HMem {
    pub sim: SimAddressSpace,
    pub budget: u64,
}

impl UserMemory for HMem {
    type Abi = Cloudabi32;

    fn read_user(&self, addr: u32, buf: &mut [u8]) -> Result<(), Errno> {
        self.sim.read_user(addr, buf)
    }
    fn write_user(&mut self, addr: u32, data: &[u8]) -> Result<(), Errno> {
        self.sim.write_user(addr, data)
    }
    fn check_access(&self, addr: u32, len: usize, access: UserAccess) -> Result<(), Errno> {
        self.sim.check_access(addr, len, access)
    }
}

impl AddressSpace for HMem {
    fn reset(&mut self) {
        self.sim.reset();
    }
    fn map_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        let cost = u64::from(len) + 8192;
        if cost > self.budget {
            return Err(Errno::ENOMEM);
        }
        self.budget -= cost;
        self.sim.map_region(addr, len, prot)
    }
    fn protect_region(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.sim.protect_region(addr, len, prot)
    }
}

/// The `mem_*` calls on the simulated VM; `mmap` draws on the same budget as
/// `map_region` (`ENOMEM` when it is spent, as a kernel out of memory).
impl VirtualMemory for HMem {
    fn user_range(&self) -> core::ops::Range<u32> {
        self.sim.user_range()
    }
    fn mmap(&mut self, request: &MapRequest<u32>) -> Result<u32, Errno> {
        let cost = u64::from(request.len) + 8192;
        if cost > self.budget {
            return Err(Errno::ENOMEM);
        }
        self.budget -= cost;
        self.sim.mmap(request)
    }
    fn munmap(&mut self, addr: u32, len: u32) -> Result<(), Errno> {
        self.sim.munmap(addr, len)
    }
    fn mprotect(&mut self, addr: u32, len: u32, prot: Protection) -> Result<(), Errno> {
        self.sim.mprotect(addr, len, prot)
    }
    fn msync(&mut self, addr: u32, len: u32, mode: SyncMode) -> Result<(), Errno> {
        self.sim.msync(addr, len, mode)
    }
}

/// The hardening kernel's process.
pub struct HProc {
    pub table: SharedFdTable<Arc<HFile>>,
    pub mem: HMem,
    /// Another thread is single-threading the process: `single_thread_begin` fails.
    pub busy: bool,
    /// Single-threading sections begun and not ended.
    pub stopped: u32,
    /// Whether the kernel provides its hooks (otherwise they are `ENOSYS`).
    pub hooks: bool,
    /// The file the kernel's creating hooks hand out (one of the pool).
    pub new_file: Arc<HFile>,
    /// A word that steers the hooks' answers.
    pub answer: u32,
    /// `Process::fd_table_exclusive`: an exec moves the descriptors it passes.
    pub exclusive: bool,
}

/// The hardening kernel's hooks: canned answers steered by the input (success, an
/// error, out-of-range counts), never touching the table themselves.
impl capexec::abi::KernelCalls for HProc {
    fn provides(&self, _: capexec::abi::cloudabi32::Syscall) -> bool {
        self.hooks
    }
    fn clock_res_get(&mut self, _: capexec::abi::cloudabi32::ClockId) -> Result<u64, Errno> {
        self.canned().map(u64::from)
    }
    fn clock_time_get(
        &mut self,
        _: capexec::abi::cloudabi32::ClockId,
        precision: u64,
    ) -> Result<u64, Errno> {
        self.canned().map(|a| precision ^ u64::from(a))
    }
    fn condvar_signal(
        &mut self,
        _: u32,
        _: capexec::abi::cloudabi32::Scope,
        _: u32,
    ) -> Result<(), Errno> {
        self.canned().map(drop)
    }
    fn lock_unlock(&mut self, _: u32, _: capexec::abi::cloudabi32::Scope) -> Result<(), Errno> {
        self.canned().map(drop)
    }
    fn fd_create1(
        &mut self,
        _: capexec::fdtable::FileType,
    ) -> Result<capexec::abi::NewFile<Arc<HFile>>, Errno> {
        self.canned()?;
        Ok(self.created())
    }
    fn fd_create2(
        &mut self,
        _: capexec::fdtable::FileType,
    ) -> Result<capexec::abi::NewPair<Arc<HFile>>, Errno> {
        self.canned()?;
        Ok((self.created(), self.created()))
    }
    fn file_open(
        &mut self,
        _: &Arc<HFile>,
        _: bool,
        _: &[u8],
        _: u16,
        _: &capexec::abi::wire::FdStat,
    ) -> Result<capexec::abi::NewFile<Arc<HFile>>, Errno> {
        self.canned()?;
        Ok(self.created())
    }
    fn file_readdir(&mut self, _: &Arc<HFile>, _: u32, _: u32, _: u64) -> Result<u32, Errno> {
        self.canned()
    }
    fn file_readlink(&mut self, _: &Arc<HFile>, _: &[u8], _: u32, _: u32) -> Result<u32, Errno> {
        self.canned()
    }
    fn file_stat_get(
        &mut self,
        _: &Arc<HFile>,
        _: bool,
        _: &[u8],
    ) -> Result<capexec::fdtable::FileStat, Errno> {
        self.canned()?;
        Ok(capexec::fdtable::FileStat::of_type(
            capexec::fdtable::FileType::Directory,
        ))
    }
    fn file_unlink(&mut self, _: &Arc<HFile>, _: &[u8], _: u8) -> Result<(), Errno> {
        self.canned().map(drop)
    }
    fn poll(
        &mut self,
        subs: &[capexec::abi::wire::Subscription],
        _: &mut [capexec::abi::wire::Event],
    ) -> Result<usize, Errno> {
        // May claim more events than there are: the library caps it.
        self.canned().map(|a| a as usize % (subs.len() + 2))
    }
    fn proc_fork(&mut self) -> Result<capexec::abi::Forked, Errno> {
        let a = self.canned()?;
        Ok(capexec::abi::Forked { fd: a, tid: !a })
    }
    fn sock_recv(
        &mut self,
        _: &Arc<HFile>,
        _: &[capexec::abi::wire::Iovec32],
        _: u32,
        _: u32,
        _: u16,
    ) -> Result<capexec::abi::wire::RecvOut32, Errno> {
        let a = self.canned()?;
        Ok(capexec::abi::wire::RecvOut32 {
            datalen: a,
            fdslen: a,
            flags: a as u16,
        })
    }
    fn sock_send(
        &mut self,
        _: &Arc<HFile>,
        _: &[capexec::abi::wire::Iovec32],
        _: &[u32],
        _: u16,
    ) -> Result<u32, Errno> {
        self.canned()
    }
    fn sock_shutdown(&mut self, _: &Arc<HFile>, _: u8) -> Result<(), Errno> {
        self.canned().map(drop)
    }
    fn thread_create(&mut self, _: &capexec::abi::wire::ThreadAttr32) -> Result<u32, Errno> {
        self.canned()
    }
}

impl HProc {
    /// The hooks' answer: an error for one value in four, else the steering word.
    fn canned(&self) -> Result<u32, Errno> {
        if self.answer % 4 == 3 {
            Err(Errno::from_raw((self.answer >> 8) as u16 % 76 + 1).unwrap_or(Errno::EIO))
        } else {
            Ok(self.answer)
        }
    }

    fn created(&self) -> capexec::abi::NewFile<Arc<HFile>> {
        capexec::abi::NewFile {
            file: self.new_file.clone(),
            rights: FdRights::ALL,
        }
    }
}

impl Process for HProc {
    fn install_fd_table(
        &mut self,
        new: capexec::fdtable::FdTable<Self::Handle>,
    ) -> capexec::fdtable::FdTable<Self::Handle> {
        capexec::fdtable::fdinstall_remapped(self.fd_table(), new)
    }

    type File = HFile;
    type Handle = Arc<HFile>;
    type Memory = HMem;
    type Lock = capexec::fdtable::DefaultRawMutex;
    fn single_thread_begin(&mut self) -> Result<(), Restart> {
        if self.busy {
            return Err(Restart);
        }
        self.stopped += 1;
        Ok(())
    }
    fn single_thread_end(&mut self, _: SingleThreadEnd) {
        self.stopped = self.stopped.saturating_sub(1);
    }
    fn fd_table(&self) -> &SharedFdTable<Arc<HFile>> {
        &self.table
    }
    fn memory(&self) -> &HMem {
        &self.mem
    }
    fn memory_mut(&mut self) -> &mut HMem {
        &mut self.mem
    }
    fn virtual_memory(&mut self) -> Option<&mut dyn VirtualMemory<Abi = Cloudabi32>> {
        Some(&mut self.mem)
    }
    fn fd_table_exclusive(&self) -> bool {
        self.exclusive
    }
}

/// A deterministic xorshift source.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

impl Entropy for XorShift {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), Errno> {
        for b in buf {
            *b = self.next() as u8;
        }
        Ok(())
    }
}

/// One descriptor as a snapshot sees it.
pub type Slot = (i32, *const HFile, FdRights, bool);

/// That an exec installed exactly `list`: table `after` is dense, entry `i` is `before`'s
/// descriptor `list[i]` with its rights and close-on-exec clear, and only passable files
/// crossed.
fn assert_is_list(after: &[Slot], before: &[Slot], list: &[i32], pool: &[Arc<HFile>]) {
    assert_eq!(after.len(), list.len(), "new table is not the list");
    for (i, (s, &old_fd)) in after.iter().zip(list).enumerate() {
        let old = before
            .iter()
            .find(|o| o.0 == old_fd)
            .expect("exec passed a descriptor that was not open");
        assert_eq!(s.0, i as i32, "new table is not dense");
        assert_eq!((s.1, s.2, s.3), (old.1, old.2, false));
        assert!(
            pool.iter().any(|f| Arc::as_ptr(f) == s.1 && f.passable),
            "a file that is not passable crossed an exec"
        );
    }
}

pub fn table_snapshot(t: &FdTable<Arc<HFile>>) -> Vec<Slot> {
    t.iter()
        .map(|(fd, e)| {
            (
                fd.raw(),
                Arc::as_ptr(e.file()),
                e.rights(),
                t.cloexec(fd).unwrap_or(false),
            )
        })
        .collect()
}

/// Asserts every file's reference count equals its holders: the pool, plus each slot of
/// each table given.
pub fn assert_counts(pool: &[Arc<HFile>], tables: &[&FdTable<Arc<HFile>>]) {
    assert_counts_with(pool, tables, None);
}

/// [`assert_counts`], with one more holder of `extra` (the kernel's own reference).
pub fn assert_counts_with(
    pool: &[Arc<HFile>],
    tables: &[&FdTable<Arc<HFile>>],
    extra: Option<&Arc<HFile>>,
) {
    for (i, f) in pool.iter().enumerate() {
        let kernel = usize::from(extra.is_some_and(|e| Arc::ptr_eq(e, f)));
        let held = tables
            .iter()
            .map(|t| t.iter().filter(|(_, e)| Arc::ptr_eq(e.file(), f)).count())
            .sum::<usize>();
        assert_eq!(
            Arc::strong_count(f),
            1 + held + kernel,
            "file {i}: reference count is not its holders"
        );
    }
}

/// Bases of the regions the world may map (one or two pages each).
pub const REGIONS: [u32; 6] = [
    0x7000_0000, // caller stack
    0x6000_0000, // argument data
    0x5000_0000, // fd lists, iovecs, buffers
    0x0000_0000, // the null page
    0xffff_e000, // the top of the address space
    0x0804_8000, // where the test image loads
];

/// Every call number, `proc_exec` twice (its paths are the deepest).
const SYSCALLS: [u32; 50] = {
    let mut all = [38u32; 50];
    let mut i = 0;
    while i < 49 {
        all[i] = i as u32;
        i += 1;
    }
    all
};

fn pick_word(inp: &mut Input<'_>) -> u32 {
    match inp.u8() % 8 {
        0 | 1 => u32::from(inp.u8() % 24),
        2 | 3 => {
            let r = REGIONS[inp.below(REGIONS.len())];
            r.wrapping_add(u32::from(inp.u16() % 0x2000))
        }
        4 => u32::from(inp.u16()),
        5 => [u32::MAX, i32::MAX as u32, 0x8000_0000, 4096, 65536][inp.below(5)],
        _ => inp.u32(),
    }
}

fn pick_rights(inp: &mut Input<'_>) -> FdRights {
    match inp.u8() % 6 {
        0 => FdRights::ALL,
        1 => FdRights::NONE,
        2 => FdRights::new(
            Rights::FD_READ | Rights::PROC_EXEC | Rights::MEM_MAP_EXEC,
            Rights::empty(),
        ),
        3 => FdRights::new(
            Rights::FD_READ | Rights::FD_WRITE | Rights::FD_STAT_PUT_FLAGS,
            Rights::empty(),
        ),
        _ => FdRights::new(
            Rights::from_bits_truncate(inp.u64()),
            Rights::from_bits_truncate(inp.u64()),
        ),
    }
}

/// The world a `syscall_i386` input describes.
pub struct World {
    pub pool: Vec<Arc<HFile>>,
    pub proc: HProc,
    pub layout: Layout32,
}

/// Builds the files, table, memory and layout from the input.
pub fn build_world(inp: &mut Input<'_>) -> World {
    let good = minimal_cloudabi_elf(0x0804_8000, &[0x90; 16]);
    let mut bad = good.clone();
    for _ in 0..inp.below(4) {
        let off = usize::from(inp.u8()) % bad.len();
        bad[off] = inp.u8();
    }
    let mut dyn_elf = good.clone();
    dyn_elf[16] = 3; // ET_DYN
    let pool = vec![
        HFile::new(HKind::Regular(good.clone()), true),
        HFile::new(HKind::Regular(bad), true),
        HFile::new(HKind::Regular(dyn_elf), true),
        HFile::new(HKind::Stream, true),
        HFile::new(HKind::Stream, false),
        HFile::new(HKind::Directory, true),
        HFile::new(HKind::Socket, true),
        HFile::new(HKind::Regular(good), false),
    ];
    let limit = match inp.u8() % 4 {
        0 => 16,
        1 => 4096,
        _ => capexec::fdtable::DEFAULT_LIMIT,
    };
    let mut t = FdTable::with_limit(limit);
    let n = inp.below(20);
    for i in 0..n {
        let b = inp.u8();
        if b % 5 == 0 {
            continue;
        }
        let f = pool[usize::from(b) % pool.len()].clone();
        let r = pick_rights(inp);
        let fd = Fd::from_index(i).unwrap();
        let _ = t.alloc(fd, f, r, b & 0x80 != 0);
    }
    if inp.u8() % 4 == 0 {
        let f = pool[inp.below(pool.len())].clone();
        let fd = Fd::from_index(64 + usize::from(inp.u16() % 2000)).unwrap();
        let _ = t.alloc(fd, f, FdRights::ALL, inp.bool());
    }
    let mut sim = SimAddressSpace::new();
    for &base in &REGIONS {
        match inp.u8() % 5 {
            0 => {}
            1 => sim.map_readonly(base, 0x2000),
            2 => sim.map(base, 0x1000),
            _ => sim.map(base, 0x2000),
        }
    }
    let patches = inp.below(48);
    for _ in 0..patches {
        let base = REGIONS[inp.below(REGIONS.len())];
        let addr = base.wrapping_add(u32::from(inp.u16() % 0x2000));
        let w = pick_word(inp);
        let _ = sim.write_user(addr, &w.to_le_bytes());
    }
    // A run of raw bytes (argument data) at the data region.
    let n = inp.below(200);
    let raw = inp.take(n);
    let _ = copyout(&mut sim, REGIONS[1], raw);
    let layout = Layout32 {
        stack_top: [0xbfc0_0000, 0x7000_2000, 0x1000, 0xffff_f000][inp.below(4)],
        stack_size: [0x4000, 0x1000, 0, 0x10_0000][inp.below(4)],
        ..Layout32::default()
    };
    let busy = inp.u8() == 0xff;
    let hooks = inp.u8() % 4 != 0;
    let new_file = pool[inp.below(pool.len())].clone();
    let answer = inp.u32();
    World {
        pool,
        proc: HProc {
            table: SharedFdTable::new(t),
            mem: HMem {
                sim,
                budget: 4 << 20,
            },
            busy,
            stopped: 0,
            hooks,
            new_file,
            answer,
            // Half the worlds pass descriptors by moving them (a bit of `answer`, so
            // that the corpus's inputs keep their meaning).
            exclusive: answer & 0x100 != 0,
        },
        layout,
    }
}

/// The raw words at `esp + 4` (zeros where unreadable).
fn arg_words(mem: &HMem, esp: u32) -> Option<[u32; 5]> {
    let mut b = [0u8; 20];
    copyin(mem, esp.checked_add(4)?, &mut b).ok()?;
    let mut w = [0u32; 5];
    for (i, x) in w.iter_mut().enumerate() {
        *x = u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
    }
    Some(w)
}

fn read_fd_list(mem: &HMem, addr: u32, n: u32) -> Option<Vec<i32>> {
    if n > 4096 {
        return None;
    }
    let mut b = vec![0u8; n as usize * 4];
    copyin(mem, addr, &mut b).ok()?;
    Some(
        b.chunks_exact(4)
            .map(|w| i32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect(),
    )
}

fn mem_image(mem: &HMem) -> (usize, Vec<u8>) {
    let mut out = Vec::new();
    for &base in &REGIONS {
        for page in 0..2u32 {
            let mut b = vec![0u8; 4096];
            if mem
                .sim
                .read_user(base.wrapping_add(page * 4096), &mut b)
                .is_ok()
            {
                out.extend_from_slice(&b);
            }
        }
    }
    (mem.sim.mapped_pages(), out)
}

/// The `syscall_i386` target: a world, then up to four system calls with invariants
/// checked after each.
pub fn check_syscall_i386(data: &[u8]) {
    let mut inp = Input::new(data);
    let World {
        pool,
        mut proc,
        layout,
    } = build_world(&mut inp);
    assert_counts_with(&pool, &[&proc.table.lock()], Some(&proc.new_file));
    let calls = 1 + inp.below(4);
    for _ in 0..calls {
        let eax = if inp.u8() < 230 {
            SYSCALLS[inp.below(SYSCALLS.len())]
        } else {
            inp.u32()
        };
        let esp = match inp.u8() % 4 {
            0 => inp.u32(),
            _ => REGIONS[0].wrapping_add(u32::from(inp.u16() % 0x2000)),
        };
        // Argument words written at esp + 4 (if mapped), fd-list words at the fd region.
        // Seven words: mem_map's count, the most any call reads.
        for i in 0..7u32 {
            let w = pick_word(&mut inp);
            if inp.u8() % 4 != 0 {
                let _ = proc
                    .mem
                    .sim
                    .write_user(esp.wrapping_add(4 + 4 * i), &w.to_le_bytes());
            }
        }
        for i in 0..inp.below(8) as u32 {
            let w = u32::from(inp.u8() % 24);
            let _ = proc
                .mem
                .sim
                .write_user(REGIONS[2].wrapping_add(4 * i), &w.to_le_bytes());
        }
        let mut regs = Regs32 {
            eax,
            esp,
            eip: 0x1234,
            eflags: u32::from(inp.u8()),
            ..Regs32::default()
        };
        let before_regs = regs;
        let before = table_snapshot(&proc.table.lock());
        let before_mem = (eax == 38 || (32..=36).contains(&eax)).then(|| mem_image(&proc.mem));
        let words = arg_words(&proc.mem, esp);
        let list = words.and_then(|w| read_fd_list(&proc.mem, w[3], w[4]));

        let mut rng_exec = XorShift(0x9e37_79b9_7f4a_7c15);
        let action = {
            let mut act = Cloudabi32Activator::new(layout, &mut rng_exec);
            syscall32(&mut proc, &mut act, &mut regs)
        };

        assert!(
            !proc.table.is_locked(),
            "table lock held after a system call"
        );
        // Every single-threading section that began has ended, whatever the outcome.
        assert_eq!(proc.stopped, 0, "single-threading begun and not ended");
        let after = table_snapshot(&proc.table.lock());
        assert_counts_with(&pool, &[&proc.table.lock()], Some(&proc.new_file));
        match action {
            SyscallAction::Resume if regs.carry() => {
                assert!((1..=76).contains(&regs.eax), "errno {}", regs.eax);
                assert_eq!(after, before, "a failed system call changed the table");
                assert_eq!(regs.eip, before_regs.eip);
                assert_eq!(regs.esp, before_regs.esp);
                if let Some(m) = before_mem {
                    assert!(
                        mem_image(&proc.mem) == m,
                        "a failed call {eax} changed memory"
                    );
                }
            }
            SyscallAction::Resume => {
                assert_eq!(regs.eflags & EFLAGS_CF, 0);
                let w = words.unwrap_or_default();
                match eax {
                    3 if words.is_some() => {
                        assert_eq!(after.len() + 1, before.len());
                        assert!(!after.iter().any(|s| s.0 as u32 == w[0]));
                    }
                    7 if words.is_some() => {
                        assert_eq!(after.len(), before.len() + 1);
                        let new = after.iter().find(|s| s.0 as u32 == regs.eax).unwrap();
                        let old = before.iter().find(|s| s.0 as u32 == w[0]).unwrap();
                        assert_eq!((new.1, new.2, new.3), (old.1, old.2, false));
                    }
                    11 | 14 => assert_eq!(after.len(), before.len()),
                    33 => {
                        // Anonymous only (the default map_file is ENODEV): a whole
                        // page, mapped, in the user range.
                        assert_eq!(regs.eax % 4096, 0, "mem_map returned {:#x}", regs.eax);
                        assert!(proc.mem.sim.is_mapped(regs.eax));
                        assert!(proc.mem.sim.user_range().contains(&regs.eax));
                        assert_eq!(after, before, "mem_map changed the table");
                    }
                    // fd_create1, file_open: one new descriptor; fd_create2: two.
                    4 | 21 => {
                        assert!(proc.hooks);
                        assert_eq!(after.len(), before.len() + 1);
                        assert!(after.iter().any(|s| s.0 as u32 == regs.eax));
                    }
                    5 => {
                        assert!(proc.hooks);
                        assert_eq!(after.len(), before.len() + 2);
                        assert_ne!(regs.eax, regs.edx);
                    }
                    3 | 7 => {}
                    _ => assert_eq!(after, before, "syscall {eax} changed the table"),
                }
            }
            SyscallAction::Restart => {
                assert_eq!(eax, 38);
                assert!(
                    proc.busy,
                    "a restart without another single-threading thread"
                );
                assert_eq!(after, before, "a restarted exec changed the table");
                assert_eq!(regs, before_regs, "a restarted exec changed the registers");
            }
            SyscallAction::Exec(entry) => {
                assert_eq!(eax, 38);
                assert_eq!(
                    (regs.eip, regs.esp, regs.gs_base),
                    (entry.eip, entry.esp, entry.esp)
                );
                let list = list.expect("a successful exec read its list");
                assert_is_list(&after, &before, &list, &pool);
            }
            SyscallAction::Exit(_) => {
                assert_eq!(after, before);
                return;
            }
            SyscallAction::Kill(_) => {
                assert_eq!(eax, 38);
                match list {
                    // A moving exec installed the new table at its point of no return:
                    // exactly the list, the old table released.
                    Some(list) if proc.exclusive && !list.is_empty() => {
                        assert_is_list(&after, &before, &list, &pool);
                    }
                    // The old table is left for the kernel's exit path.
                    _ => assert_eq!(after, before, "a killed exec changed the table"),
                }
                return;
            }
            SyscallAction::Terminate(sig) => {
                assert_eq!(eax, 41, "{sig:?}");
                assert_eq!(after, before);
                return;
            }
            SyscallAction::Stop(_) | SyscallAction::Yield => {
                assert!(eax == 41 || eax == 48, "syscall {eax}");
                assert!(!regs.carry());
                assert_eq!(after, before);
            }
            SyscallAction::ThreadExit => panic!("thread_exit of the only thread"),
        }
    }
    drop(proc);
    for f in &pool {
        assert_eq!(Arc::strong_count(f), 1, "a reference leaked");
    }
}
