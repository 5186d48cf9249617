//! Rights in descriptor mappings: `!fd {fd: N, rights: [...], inheriting: [...]}`,
//! `!file {path: P, ...}`, `!executable {...}`.

use super::*;

/// A resolver recording what each tag asked for. Host descriptor `n` becomes `n`,
/// a file 50, the executable 7; every descriptor holds `HELD`, and asking for more is
/// refused as a launcher refuses it.
struct Record(Vec<(String, RightsRequest)>, FdRights);

impl Default for Record {
    fn default() -> Record {
        Record(Vec::new(), HELD)
    }
}

const HELD: FdRights = FdRights::new(
    Rights::FD_READ
        .union(Rights::FD_WRITE)
        .union(Rights::FD_SEEK),
    Rights::FD_READ,
);

impl Record {
    fn ask(&mut self, what: String, r: RightsRequest, fd: i32) -> Result<i32, String> {
        self.0.push((what, r));
        match RightsRequest::widening(self.1, r.apply(self.1)) {
            Some(why) => Err(why),
            None => Ok(fd),
        }
    }
}

impl Descriptors for Record {
    fn host_fd(&mut self, n: i32, r: RightsRequest) -> Result<i32, String> {
        self.ask(format!("fd {n}"), r, n)
    }
    fn open_file(&mut self, path: &str, r: RightsRequest) -> Result<i32, String> {
        self.ask(format!("file {path}"), r, 50)
    }
    fn executable(&mut self, r: RightsRequest) -> Result<i32, String> {
        self.ask("executable".into(), r, 7)
    }
}

fn record(doc: &str) -> Result<(Value<'static>, Vec<(String, RightsRequest)>), String> {
    let mut r = Record::default();
    let v = to_argdata(doc, &mut r).map_err(|e| e.0)?;
    Ok((v, r.0))
}

fn req(base: Option<Rights>, inheriting: Option<Rights>) -> RightsRequest {
    RightsRequest { base, inheriting }
}

/// CloudABI's rights, name and value, from the `cloudabi` crate (the names of the C
/// header without `CLOUDABI_RIGHT_`), not from capexec.
fn cloudabi_rights() -> Vec<(String, u64)> {
    let all = cloudabi::rights::all().bits();
    (0..64)
        .map(|i| 1u64 << i)
        .filter(|bit| all & bit != 0)
        .map(|bit| {
            let one = cloudabi::rights::from_bits_truncate(bit);
            (format!("{one:?}").to_ascii_lowercase(), bit)
        })
        .collect()
}

#[test]
fn every_cloudabi_right_name_parses() {
    let rights = cloudabi_rights();
    assert_eq!(rights.len(), 31, "{rights:?}");
    for (name, bit) in &rights {
        assert_eq!(
            right_from_name(name).map(|r| r.bits()),
            Some(*bit),
            "{name}"
        );
        for doc in [
            format!("!fd {{fd: 5, rights: [{name}]}}\n"),
            format!("!fd {{fd: 5, inheriting: [{name}]}}\n"),
            format!("!file {{path: /p, rights: [{name}]}}\n"),
            format!("!executable {{rights: [{name}]}}\n"),
        ] {
            let mut r = Record::default();
            let got = to_argdata(&doc, &mut r);
            let asked = r.0.last().map(|(_, q)| *q).expect(&doc);
            let one = Some(Rights::from_bits_retain(*bit));
            if doc.contains("inheriting") {
                assert_eq!(asked, req(None, one), "{doc}");
            } else {
                assert_eq!(asked, req(one, None), "{doc}");
            }
            // The resolver refuses what it does not hold; the converter passes that on.
            let held = if doc.contains("inheriting") {
                HELD.inheriting
            } else {
                HELD.base
            };
            assert_eq!(got.is_ok(), held.bits() & bit != 0, "{doc}: {got:?}");
        }
    }
    // All of them at once: every right there is, and nothing else.
    let names: Vec<&str> = rights.iter().map(|(n, _)| n.as_str()).collect();
    let doc = format!(
        "!fd {{fd: 5, rights: [{}], inheriting: []}}\n",
        names.join(", ")
    );
    let mut all = Record(Vec::new(), FdRights::ALL);
    assert_eq!(to_argdata(&doc, &mut all), Ok(Value::Fd(5)));
    assert_eq!(all.0[0].1, req(Some(Rights::all()), Some(Rights::empty())));
    assert_eq!(Rights::all().bits(), cloudabi::rights::all().bits());
}

#[test]
fn names_are_lower_case_and_exact() {
    for bad in [
        "FD_READ",
        "Fd_read",
        "fd-read",
        "fdread",
        "read",
        "fd_read ",
        "cloudabi_right_fd_read",
        "file_create_fifo",
        "poll_modify",
        "",
    ] {
        assert_eq!(right_from_name(bad), None, "{bad:?}");
    }
    let e = record("log: !fd {fd: stderr, rights: [fd_write, FD_READ]}\n").unwrap_err();
    assert_eq!(
        e,
        "line 1, column 42: unknown right \"FD_READ\" (CloudABI right names in lower \
         case, such as fd_read)"
    );
    let e = record("- !file {path: /p, rights: [fd_read, \"\\e[31m\"]}\n").unwrap_err();
    assert!(e.contains("unknown right \"\\u{1b}[31m\""), "{e}");
}

#[test]
fn the_mapping_forms_ask_for_what_they_name() {
    let (v, asked) = record(
        "%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\n\
         - !fd stdout\n\
         - !fd {fd: stderr}\n\
         - !fd {fd: 4, rights: [fd_read, fd_seek]}\n\
         - !fd {rights: [fd_write], fd: stdin, inheriting: []}\n\
         - !fd {fd: 6, inheriting: [fd_read]}\n\
         - !fd {fd: 7, rights: []}\n\
         - !file {path: /etc/hosts, rights: [fd_read]}\n\
         - !file {path: /x}\n\
         - !executable\n\
         - !executable {}\n\
         - !executable {rights: [fd_read, fd_read]}\n\
         - !<tag:nuxi.nl,2015:cloudabi/fd> {fd: !!str 8, rights: !!seq [fd_write]}\n",
    )
    .unwrap();
    let r = |bits: Rights| Some(bits);
    assert_eq!(
        asked,
        vec![
            ("fd 1".into(), RightsRequest::KEEP),
            ("fd 2".into(), RightsRequest::KEEP),
            (
                "fd 4".into(),
                req(r(Rights::FD_READ | Rights::FD_SEEK), None)
            ),
            ("fd 0".into(), req(r(Rights::FD_WRITE), r(Rights::empty()))),
            ("fd 6".into(), req(None, r(Rights::FD_READ))),
            ("fd 7".into(), req(r(Rights::empty()), None)),
            ("file /etc/hosts".into(), req(r(Rights::FD_READ), None)),
            ("file /x".into(), RightsRequest::KEEP),
            ("executable".into(), RightsRequest::KEEP),
            ("executable".into(), RightsRequest::KEEP),
            ("executable".into(), req(r(Rights::FD_READ), None)),
            ("fd 8".into(), req(r(Rights::FD_WRITE), None)),
        ]
    );
    let fds: Vec<i32> = [1, 2, 4, 0, 6, 7, 50, 50, 7, 7, 7, 8].to_vec();
    assert_eq!(v, Value::Seq(fds.into_iter().map(Value::Fd).collect()));
}

#[test]
fn widening_is_a_launcher_error_with_its_position() {
    let e =
        record("a: 1\nlog: !fd {fd: stderr, rights: [fd_write, file_stat_fget]}\n").unwrap_err();
    assert_eq!(
        e,
        "line 2, column 6: the launcher does not hold rights file_stat_fget (rights can \
         only be narrowed)"
    );
    let e = record("- !file {path: /p, inheriting: [fd_write, proc_exec]}\n").unwrap_err();
    assert_eq!(
        e,
        "line 1, column 3: the launcher does not hold inheriting rights fd_write, proc_exec \
         (rights can only be narrowed)"
    );
}

#[test]
fn malformed_mappings_are_one_line_errors() {
    let cases = [
        ("!fd {}\n", "line 1, column 1: !fd needs fd"),
        ("!fd {rights: [fd_read]}\n", "!fd needs fd"),
        ("!file {rights: [fd_read]}\n", "!file needs a path"),
        (
            "!fd {fd: 1, path: /x}\n",
            "!fd has no attribute \"path\" (only fd, rights, inheriting)",
        ),
        (
            "!file {fd: 1}\n",
            "!file has no attribute \"fd\" (only path, rights, inheriting)",
        ),
        (
            "!executable {fd: 1}\n",
            "!executable has no attribute \"fd\" (only rights, inheriting)",
        ),
        ("!fd {fd: 1, fd: 2}\n", "!fd has \"fd\" twice"),
        (
            "!fd {fd: 1, rights: [], rights: []}\n",
            "!fd has \"rights\" twice",
        ),
        (
            "!fd {fd: 1, rights: fd_read}\n",
            "rights takes a list of right names",
        ),
        (
            "!fd {fd: 1, inheriting: ~}\n",
            "inheriting takes a list of right names",
        ),
        ("!fd {fd: [1]}\n", "!fd attribute \"fd\" takes a scalar"),
        (
            "!fd {fd: 1, rights: [[fd_read]]}\n",
            "a right name is a scalar",
        ),
        (
            "!fd {fd: 1, rights: [{a: b}]}\n",
            "a right name is a scalar",
        ),
        (
            "!fd {fd: 1, rights: {a: b}}\n",
            "!fd takes a mapping of scalars and lists",
        ),
        ("!fd {[a]: 1}\n", "!fd mapping keys are scalars"),
        ("!fd {fd: 1, rights: [!fd x]}\n", "takes untagged scalars"),
        ("!fd {fd: !fd 1}\n", "!fd takes untagged scalars"),
        (
            "!fd {fd: 1, rights: !fd [fd_read]}\n",
            "unknown tag !fd on a seq",
        ),
        (
            "!fd {fd: 1, rights}\n",
            "!fd rights takes a list of right names",
        ),
        (
            "!fd {fd: sdout}\n",
            "!fd takes stdin, stdout, stderr or a descriptor number",
        ),
        (
            "!executable {rights: [fd_read], x: 1}\n",
            "no attribute \"x\"",
        ),
        ("!file {path: /p, rights: [fd_read]}: 1\n", ""),
    ];
    for (doc, want) in cases {
        match record(doc) {
            Err(e) => {
                assert!(e.starts_with("line "), "{doc:?}: {e}");
                assert!(e.contains(want), "{doc:?}: {e:?} lacks {want:?}");
                assert!(!e.chars().any(char::is_control), "{e:?}");
            }
            // A descriptor as a mapping key is a value like any other.
            Ok((v, _)) => assert!(want.is_empty(), "{doc:?} gave {v:?}"),
        }
    }
}

#[test]
fn a_descriptor_mapping_costs_what_its_descriptor_costs() {
    // A descriptor node is 5 bytes whatever its mapping holds: a long path or a long
    // list of rights does not count towards the argument data.
    let names = vec!["fd_read"; 40_000].join(", ");
    let doc = format!("- !fd {{fd: 1, rights: [{names}]}}\n");
    assert!(record(&doc).is_ok());
    // Up to the limit exactly: a sequence (1 byte) of n descriptors of 6 bytes each
    // (a one-byte subfield length and the 5-byte node).
    let n = (MAX_ARGDATA_SIZE - 1) / 6;
    let doc = "- !executable {}\n".repeat(n);
    assert!(record(&doc).is_ok());
    let doc = "- !executable {}\n".repeat(n + 1);
    assert!(record(&doc).unwrap_err().contains("larger than"));
}
