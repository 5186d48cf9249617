#!/usr/bin/env bash
# Regenerates the figures of BENCHMARKS.md.
#
#   bash benches/report.sh instr    instruction counts (callgrind), any load
#   bash benches/report.sh bench    criterion runs of every group (native runner included), then the tables
#   bash benches/report.sh tables   the tables from the last criterion run
#
# CARGO_TARGET_DIR is honoured (default: target).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}

instr() {
    CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --example instr
    local out
    out=$(mktemp -d)
    echo "| case | Ir/op |"
    echo "|---|---|"
    for c in remap3 arc3 remap64 arc64 remap1024 arc1024 lookup64 lookup64_vec \
        churn64 churn64_onelevel_hint fork16 fork16_vec forksparse1024 forksparse1024_vec; do
        valgrind --tool=callgrind --toggle-collect='*timed_*' \
            --callgrind-out-file="$out/$c.out" "$target/release/examples/instr" "$c" \
            2>"$out/$c.log"
        ir=$(grep -oP 'Collected : \K[0-9]+' "$out/$c.log")
        echo "| $c | $((ir / 1000)) |"
    done
    echo "(uptime: $(uptime | sed 's/.*load/load/'))"
}

bench() {
    echo "load before: $(uptime | sed 's/.*load/load/')"
    for b in fdtable remap exec argdata; do
        cargo bench --bench "$b"
        echo "load after $b: $(uptime | sed 's/.*load/load/')"
    done
    cargo run --release --example memory
    cargo bench -p capexec-native --bench trap
    echo "load after trap: $(uptime | sed 's/.*load/load/')"
    tables
}

tables() {
    python3 benches/report.py "$target/criterion"
}

case "${1:-}" in
instr) instr ;;
bench) bench ;;
tables) tables ;;
*)
    echo "usage: $0 instr|bench|tables" >&2
    exit 2
    ;;
esac
