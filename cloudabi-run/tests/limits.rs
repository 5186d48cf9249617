//! Unbounded input: the launcher reads at most a bounded amount of argument data,
//! configuration and executable, and fails at the first YAML event past a limit,
//! under an address-space limit far below what reading everything would take.

mod common;

use std::process::{Command, Output, Stdio};

use common::{BIN, assert_launcher_error, stderr, tmp};

/// 256 MiB of address space: enough for the launcher, far from what reading
/// `/dev/zero` to the end takes.
const AS_LIMIT: &str = "--as=268435456";

/// `cloudabi-run args` under `prlimit --as`, standard input from `stdin_file` (or
/// nothing).
fn limited(args: &[&str], stdin_file: Option<&str>) -> Output {
    let mut cmd = Command::new("prlimit");
    cmd.arg(AS_LIMIT).arg("--").arg(BIN).args(args);
    cmd.stdin(match stdin_file {
        Some(p) => Stdio::from(std::fs::File::open(p).unwrap()),
        None => Stdio::null(),
    });
    cmd.output()
        .expect("prlimit (util-linux) must be installed to run this test")
}

#[test]
fn raw_dev_zero_stops_at_arg_max() {
    let o = limited(&["--raw", "/dev/zero", "argdata"], None);
    assert_launcher_error(&o, "cannot read /dev/zero: larger than 262143 bytes");
}

#[test]
fn raw_data_just_under_arg_max_is_read() {
    // A 262,143-byte string node: the largest argument data there is.
    let mut data = vec![0x08];
    data.resize(262_142, b'a');
    data.push(0);
    let f = tmp("raw-max.bin", &data);
    let o = limited(&["--raw", f.to_str().unwrap(), "procstat"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    data.insert(1, b'a');
    let f = tmp("raw-max-plus-one.bin", &data);
    let o = limited(&["--raw", f.to_str().unwrap(), "procstat"], None);
    assert_launcher_error(&o, "larger than 262143 bytes");
}

#[test]
fn config_dev_zero_stops_at_the_config_limit() {
    let o = limited(&["argdata", "/dev/zero"], None);
    assert_launcher_error(&o, "cannot read /dev/zero: larger than 524288 bytes");
    // The same from standard input.
    let o = limited(&["argdata", "-"], Some("/dev/zero"));
    assert_launcher_error(&o, "standard input: larger than 524288 bytes");
}

/// `--native` exists on Linux x86_64 only.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn native_dev_zero_stops_at_the_executable_limit() {
    let o = limited(&["--native", "/dev/zero", "-"], Some("/dev/null"));
    assert_launcher_error(&o, "cannot read /dev/zero: larger than 67108864 bytes");
}

#[test]
fn a_huge_yaml_fails_at_the_first_event_past_the_size_limit() {
    // Block style: the error names the element that crosses the limit (a float costs
    // 10 bytes in a sequence), before the 13,785 lines after it are read.
    let doc = "- 0.5\n".repeat(40_000);
    let f = tmp("huge-block.yaml", doc.as_bytes());
    let o = limited(&["argdata", f.to_str().unwrap()], None);
    assert_launcher_error(
        &o,
        "line 26215, column 3: the argument data would be larger than 262143 bytes",
    );
    // Flow style, as large as the configuration limit allows: the YAML scanner holds a
    // flow collection whole before its first event, so the launcher's heap budget for
    // the conversion (48 MiB) stops it part-way.
    let n = 262_143;
    let doc = format!("[{}~]\n", "~,".repeat(n - 1));
    let f = tmp("huge-flow.yaml", doc.as_bytes());
    let o = limited(&["argdata", f.to_str().unwrap()], None);
    assert_launcher_error(&o, "cloudabi-run: line 1, column ");
    // Tokens are about 100 bytes on 64-bit hosts (the budget stops the scanner) and
    // half that on 32-bit ones (the whole collection fits and the size limit stops it).
    let err = stderr(&o);
    assert!(
        err.contains("the configuration needs more memory than the launcher allows")
            || err
                .ends_with("column 524286: the argument data would be larger than 262143 bytes\n"),
        "{err}"
    );
    // A flow collection of 20,000 elements is fine.
    let doc = format!("[{}~]\n", "1,".repeat(19_999));
    let f = tmp("big-flow.yaml", doc.as_bytes());
    let o = limited(&["argdata", f.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_config_over_the_limit_is_refused() {
    let doc = format!("# {}\n[]\n", "x".repeat(512 << 10));
    let f = tmp("too-long.yaml", doc.as_bytes());
    let o = limited(&["argdata", f.to_str().unwrap()], None);
    assert_launcher_error(&o, "larger than 524288 bytes");
}

#[test]
fn a_config_that_is_not_utf8_is_refused() {
    let f = tmp("latin1.yaml", b"- caf\xe9\n");
    let o = limited(&["argdata", f.to_str().unwrap()], None);
    assert_launcher_error(&o, "the configuration is not UTF-8 (byte 5)");
}
