//! Scalars and timestamps through the built binary: the YAML 1.2 core schema exactly,
//! verbatim tags, and every bad value one line with its position, exit 127.

mod common;

use common::{assert_launcher_error, run, stderr, stdout};

/// The `argdata` program's report of a one-element sequence holding `scalar`.
fn printed(scalar: &str) -> String {
    let o = run(&["argdata", "-"], format!("- {scalar}\n").as_bytes());
    assert_eq!(o.status.code(), Some(0), "{scalar}: {}", stderr(&o));
    let out = stdout(&o);
    out.lines()
        .nth(3)
        .unwrap_or_default()
        .trim()
        .trim_end_matches(',')
        .to_string()
}

#[test]
fn signed_hex_and_octal_are_strings() {
    assert_eq!(printed("0x-10"), "!!str \"0x-10\"");
    assert_eq!(printed("0x+10"), "!!str \"0x+10\"");
    assert_eq!(printed("0o-7"), "!!str \"0o-7\"");
    assert_eq!(printed("0x10"), "!!int \"16\"");
    assert_eq!(printed("-10"), "!!int \"-10\"");
    assert_eq!(printed("+.inf"), "!!float \".inf\"");
}

#[test]
fn an_int_too_large_for_argdata_is_an_error_not_a_float() {
    let o = run(
        &["argdata", "-"],
        format!("- {}\n", "9".repeat(50)).as_bytes(),
    );
    assert_launcher_error(&o, "line 1, column 3: integer \"999");
}

#[test]
fn verbatim_tags_are_honoured() {
    assert_eq!(printed("!<tag:yaml.org,2002:int> \"12\""), "!!int \"12\"");
    assert_eq!(printed("!<tag:yaml.org,2002:str> 12"), "!!str \"12\"");
    let o = run(
        &["hello", "-"],
        b"- !<tag:nuxi.nl,2015:cloudabi/fd> stdout\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "Hello, world\n");
}

#[test]
fn timestamps_that_do_not_exist_are_errors() {
    let cases = [
        (
            "- !!timestamp 2001-02-30\n",
            "line 1, column 3: \"2001-02-30\" is not a valid timestamp: no such date",
        ),
        (
            "- !!timestamp 2001-12-14T21:59:43+99:99\n",
            "line 1, column 3: \"2001-12-14T21:59:43+99:99\" is not a valid timestamp: the zone offset",
        ),
        // Used to panic (exit 101) in debug builds and wrap in release builds.
        (
            "- !!timestamp 99999999999999-01-01\n",
            "line 1, column 3: \"99999999999999-01-01\" is not a valid timestamp",
        ),
        (
            "- !!timestamp 2001-01-01T00:00:00+9999999999999:00\n",
            "is not a valid timestamp",
        ),
    ];
    for (doc, want) in cases {
        let o = run(&["argdata", "-"], doc.as_bytes());
        assert_launcher_error(&o, want);
    }
    assert_eq!(
        printed("!!timestamp 2000-02-29T23:59:59.5+01:00"),
        "!!timestamp \"2000-02-29T22:59:59.500000000Z\""
    );
}
