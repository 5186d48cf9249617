#!/usr/bin/env bash
# Regenerates the figures of BENCHMARKS.md.
#
#   bash benches/report.sh instr    instruction counts (callgrind), any load
#   bash benches/report.sh instr-exec  instructions per exec of the exec bench (callgrind)
#   bash benches/report.sh bench    criterion runs of every group (native runner included), then the tables
#   bash benches/report.sh tables   the tables from the last criterion run
#   bash benches/report.sh syscalls host system calls per trapped call of the native runner
#                                   (strace -c of `cloudabi-run --native loop`, N calls - none)
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
    for c in remap3 remap3i remap3m arc3 remap64 remap64i remap64m arc64 remap1024 \
        remap1024m arc1024 lookup64 lookup64_vec churn64 churn64_onelevel_hint fork16 \
        fork16i fork16m fork16_vec forksparse16 forksparse16i forksparse16_vec \
        forksparse1024 forksparse1024m forksparse1024_vec; do
        valgrind --tool=callgrind --toggle-collect='*timed_*' \
            --callgrind-out-file="$out/$c.out" "$target/release/examples/instr" "$c" \
            2>"$out/$c.log"
        ir=$(grep -oP 'Collected : \K[0-9]+' "$out/$c.log")
        echo "| $c | $((ir / 1000)) |"
    done
    echo "(uptime: $(uptime | sed 's/.*load/load/'))"
}

# Instructions per exec (one trapped `proc_exec`) of the exec bench's `capexec_flat` cases:
# the bench binary under callgrind, counting inside `syscall32` only, minus a run whose
# filter matches no benchmark (the execs that check each case before it is timed),
# divided by the number of `syscall32` calls.
instr_exec() {
    CARGO_PROFILE_BENCH_DEBUG=line-tables-only cargo bench --bench exec --no-run
    local bin out
    bin=$(ls -t "$target"/release/deps/exec-* | grep -v '\.d$' | head -1)
    out=$(mktemp -d)
    one() { # filter name -> "instructions calls"
        valgrind --tool=callgrind --toggle-collect='*syscall32*' \
            --callgrind-out-file="$out/$2.out" "$bin" --bench --profile-time 1 "$1" \
            >"$out/$2.log" 2>&1
        python3 - "$out/$2.out" <<'PY'
import re, sys
names, fn, cfn, calls, total = {}, "", "", 0, 0
for line in open(sys.argv[1]):
    m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
    if m:
        kind, i, name = m.groups()
        if name:
            names[i] = name
        if kind == "fn":
            fn = names.get(i, "")
        else:
            cfn = names.get(i, "")
        continue
    m = re.match(r"calls=(\d+)", line)
    if m and "syscall32" in cfn and "syscall32" not in fn:
        calls += int(m.group(1))
    m = re.match(r"summary: (\d+)", line)
    if m:
        total = int(m.group(1))
print(total, calls)
PY
    }
    read -r base_ir base_calls < <(one 'exec/nomatch$' none)
    echo "| exec case | Ir/exec |"
    echo "|---|---|"
    for p in 0B_0fds 4096B_16fds; do
        read -r ir calls < <(one "exec/capexec_flat/$p\$" "$p")
        echo "| $p | $(((ir - base_ir) / (calls - base_calls))) |"
    done
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

syscalls() {
    cargo build --release -p cloudabi-run
    local out n=10000
    out=$(mktemp -d)
    for c in 0 "$n"; do
        printf '%%TAG ! tag:nuxi.nl,2015:cloudabi/\n---\nout: !fd stdout\ncount: %d\n' "$c" \
            >"$out/loop$c.yaml"
        # Not -f: the runner itself must be able to trace its stub.
        strace -c -o "$out/calls$c" "$target/release/cloudabi-run" --native loop "$out/loop$c.yaml"
    done
    echo "| host system call | per trapped call |"
    echo "|---|---|"
    awk -v n="$n" '
        /^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+ / && $NF != "total" {
            calls = $4
            if (FILENAME ~ /calls0$/) base[$NF] = calls; else with[$NF] = calls
        }
        END {
            for (k in with) {
                d = (with[k] - base[k]) / n
                if (d >= 0.5) { printf "| %s | %.2f |\n", k, d; total += d }
            }
            printf "| total | %.2f |\n", total
        }' "$out/calls0" "$out/calls$n"
}

case "${1:-}" in
instr) instr ;;
instr-exec) instr_exec ;;
syscalls) syscalls ;;
bench) bench ;;
tables) tables ;;
*)
    echo "usage: $0 instr|instr-exec|bench|tables|syscalls" >&2
    exit 2
    ;;
esac
