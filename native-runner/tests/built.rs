//! `BuiltPrograms`: the programs built in a private folder that is gone when the build
//! returns, the stub run from a sealed memory file.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use std::path::Path;
use std::sync::Arc;

use capexec_native::{BUNDLED_PROGRAMS, BuiltPrograms, HostFile, Termination, rights, run_program};
use common::{drain, fd, gate, pipe, seq, table};

#[test]
fn programs_are_built_in_memory_and_nothing_stays_on_disk() {
    let name = "programs_are_built_in_memory_and_nothing_stays_on_disk";
    if !gate::machine_ready(name) {
        return;
    }
    gate::ran(name);
    let parent = Path::new(env!("CARGO_TARGET_TMPDIR")).join("built-in-memory");
    let _ = std::fs::remove_dir_all(&parent);
    std::fs::create_dir(&parent).unwrap();
    let built = BuiltPrograms::build_in(&parent).unwrap();
    assert_eq!(
        std::fs::read_dir(&parent).unwrap().count(),
        0,
        "left on disk"
    );
    for name in BUNDLED_PROGRAMS {
        let image = built.image(name).unwrap();
        assert_eq!(&image[..4], b"\x7fELF", "{name}");
        assert_eq!(image[7], 17, "{name} is marked CloudABI");
    }
    assert_eq!(built.image("stub"), None, "the stub is not a program");

    let (out_r, out) = pipe();
    let hello = HostFile::from_bytes(built.image("hello").unwrap().to_vec());
    let launcher = table(&[(out, rights::STDOUT), (Arc::new(hello), rights::EXECUTABLE)]);
    let end = run_program(&built.stub_path(), launcher, 1, &seq(&[fd(0)]), &[0]).unwrap();
    assert_eq!(end, Termination::Exited(0));
    assert_eq!(drain(out_r), "Hello, world\n");
    std::fs::remove_dir(&parent).unwrap();
}
