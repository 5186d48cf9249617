//! Every vector of `print_yaml.jsonl`: the printer's output, and which typed read succeeds.

mod argdata_common;

use argdata_common::{vectors, yaml_document};
use capexec::Errno;
use capexec::argdata::{ArgdataRef, print_yaml};

fn printed(bytes: &[u8]) -> String {
    let mut out = String::new();
    print_yaml(ArgdataRef::for_program(bytes), &mut out).expect("print_yaml");
    out
}

#[test]
fn print_yaml_vectors() {
    let rows = vectors("print_yaml.jsonl");
    for row in &rows {
        let input = row.hex("in");
        assert_eq!(
            printed(&input),
            yaml_document(row.str("yaml")),
            "in = {}",
            row.str("in")
        );
    }
}

/// The tag the YAML shows tells which typed read succeeds; `!!null` means none does and
/// iteration is invalid at once.
#[test]
fn yaml_tag_matches_typed_reads() {
    for row in &vectors("print_yaml.jsonl") {
        let input = row.hex("in");
        let ad = ArgdataRef::for_program(&input);
        let yaml = row.str("yaml");
        let tag = yaml.split(' ').next().unwrap();
        let ok = [
            ("!!binary", ad.read_binary().is_ok()),
            ("!!bool", ad.read_bool().is_ok()),
            ("!fd", ad.read_raw_fd().is_ok()),
            ("!!float", ad.read_float().is_ok()),
            (
                "!!int",
                ad.read_int::<i64>().is_ok() || ad.read_int::<u64>().is_ok(),
            ),
            (
                "!!map",
                ad.map()
                    .is_ok_and(|mut it| !matches!(it.next(), Some(Err(_)))),
            ),
            (
                "!!seq",
                ad.seq()
                    .is_ok_and(|mut it| !matches!(it.next(), Some(Err(_)))),
            ),
            ("!!str", ad.read_str().is_ok()),
            ("!!timestamp", ad.read_timestamp().is_ok()),
        ];
        for (name, succeeded) in ok {
            assert_eq!(succeeded, name == tag, "{name} on in = {}", row.str("in"));
        }
        if tag == "!!null" && !input.is_empty() {
            assert_eq!(ad.read_fd().err(), Some(Errno::EINVAL));
        }
    }
}
