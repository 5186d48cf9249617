//! The check behind the fuzz target `cloudabi_run_yaml` (`fuzz/fuzz_targets/`
//! includes this file with `#[path]`) and its stable corpus replay
//! (`cloudabi-run/tests/fuzz_corpus.rs`), written once.
//!
//! Any bytes are a configuration: the conversion must return, with an error that is
//! one line of text (no control characters) starting with its position, or with
//! argument data that prints as YAML which converts back to the same bytes.
#![allow(dead_code)]

use capexec::argdata::{ArgdataRef, Value, print_yaml};
use capexec::fdtable::{FdRights, Rights};
use cloudabi_run::config::{ConfigError, Descriptors, MAX_CONFIG_SIZE, RightsRequest, to_argdata};

/// A resolver without a host: `!fd N` is N (below 1,000), every `!file` a new number
/// from 1,000 (a path holding `missing` does not exist), `!executable` 3. Every
/// descriptor holds [`FakeHost::HELD`]; asking for more is refused, and a narrowed one
/// is a number of its own from 100,000, one per distinct descriptor and rights, as a
/// launcher does it. Its errors are fixed text, so control characters in an error come
/// from the converter.
#[derive(Default)]
pub struct FakeHost {
    next_file: i32,
    pub calls: usize,
    narrowed: Vec<(i32, FdRights)>,
}

impl FakeHost {
    /// What every descriptor of the fake host holds: the rights of a regular file
    /// opened read-write, and every inheriting right but `proc_exec`.
    pub const HELD: FdRights = FdRights::new(
        Rights::FD_READ
            .union(Rights::FD_WRITE)
            .union(Rights::FD_SEEK)
            .union(Rights::FD_TELL)
            .union(Rights::FILE_STAT_FGET)
            .union(Rights::PROC_EXEC),
        Rights::all().difference(Rights::PROC_EXEC),
    );

    fn narrow(&mut self, fd: i32, r: RightsRequest) -> Result<i32, String> {
        let want = r.apply(Self::HELD);
        if RightsRequest::widening(Self::HELD, want).is_some() {
            return Err("widens".into());
        }
        if want == Self::HELD {
            return Ok(fd);
        }
        let key = (fd, want);
        let i = match self.narrowed.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                self.narrowed.push(key);
                self.narrowed.len() - 1
            }
        };
        Ok(100_000 + i32::try_from(i).unwrap_or(i32::MAX - 100_000))
    }
}

impl Descriptors for FakeHost {
    fn host_fd(&mut self, n: i32, r: RightsRequest) -> Result<i32, String> {
        self.calls += 1;
        if n < 1000 {
            self.narrow(n, r)
        } else {
            Err("not open".into())
        }
    }
    fn open_file(&mut self, path: &str, r: RightsRequest) -> Result<i32, String> {
        self.calls += 1;
        if path.contains("missing") {
            return Err("no such file".into());
        }
        self.next_file += 1;
        self.narrow(1000 + self.next_file, r)
    }
    fn executable(&mut self, r: RightsRequest) -> Result<i32, String> {
        self.calls += 1;
        self.narrow(3, r)
    }
}

fn check_error(e: &ConfigError) {
    let m = &e.0;
    assert!(
        m.starts_with("line ") || m.starts_with("YAML syntax error at line "),
        "error without its position: {m:?}"
    );
    assert!(
        !m.chars().any(char::is_control),
        "control character in {m:?}"
    );
    assert!(m.len() < 1024, "error of {} bytes", m.len());
}

/// Makes every `-0.0` in `v` `0.0`: the printer writes either zero as `0`.
fn fold_negative_zero(v: &mut Value<'_>) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Float(f) if *f == 0.0 => *f = 0.0,
            Value::Seq(items) => stack.extend(items.iter_mut()),
            Value::Map(pairs) => {
                for (k, v) in pairs.iter_mut() {
                    stack.push(k);
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
}

/// Converts `data` as a configuration and checks the result.
pub fn check_config_yaml(data: &[u8]) {
    if data.len() as u64 > MAX_CONFIG_SIZE {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut value = match to_argdata(text, &mut FakeHost::default()) {
        Ok(v) => v,
        Err(e) => return check_error(&e),
    };
    fold_negative_zero(&mut value);
    let Ok((bytes, fds)) = value.serialize_with_fds() else {
        return;
    };
    // The program's view: descriptors renumbered from 0 in order of appearance.
    assert!(fds.iter().all(|f| *f >= 0));
    let mut printed = String::new();
    if print_yaml(ArgdataRef::for_program(&bytes), &mut printed).is_err() {
        return;
    }
    // The printed YAML is a configuration too, naming the program's descriptors.
    match to_argdata(&printed, &mut FakeHost::default()) {
        Ok(again) => {
            let (bytes2, fds2) = again.serialize_with_fds().unwrap_or_else(|e| {
                panic!("the reprinted data does not serialise: {e}\n{printed}")
            });
            assert_eq!(
                bytes, bytes2,
                "print then convert changed the data:\n{printed}"
            );
            assert_eq!(fds2.len(), fds.len());
        }
        // The printer writes years outside the four digits a YAML timestamp allows,
        // and nests in flow style, where the parser stops at 256 levels.
        Err(e) => {
            check_error(&e);
            assert!(
                e.0.contains("timestamp") || e.0.ends_with("recursion limit exceeded"),
                "{e}\n{printed}"
            );
        }
    }
}
