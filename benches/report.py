#!/usr/bin/env python3
"""Prints the tables of BENCHMARKS.md from criterion's last run (medians).

Usage: python3 benches/report.py [CRITERION_DIR [OTHER_RUN_DIR...]]
(default: $CARGO_TARGET_DIR/criterion). Each OTHER_RUN_DIR (a copy of another run's
criterion directory) adds a column with that run's ratio. Called by
`bash benches/report.sh tables`.
"""
import glob
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")
others = sys.argv[2:]


def median(group, impl, param, run="new", base=None):
    """The median of one benchmark in criterion's `run` directory ("new": the last run)
    under `base` (default: root)."""
    paths = glob.glob(os.path.join(base or root, group, impl, param, run, "estimates.json"))
    try:
        with open(paths[0]) as f:
            return json.load(f)["median"]["point_estimate"]
    except (IndexError, OSError, KeyError, ValueError):
        return None


def fmt(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def row(name, group, impl, base, param, goal, limit, inverse=False):
    """One row: capexec / baseline (inverse: baseline / capexec, a speed-up)."""
    a, b = median(group, impl, param), median(group, base, param)
    extra = ""
    for o in others:
        x, y = median(group, impl, param, base=o), median(group, base, param, base=o)
        extra += f" {(y / x if inverse else x / y):.2f}x |" if x and y else " - |"
    if a is None or b is None:
        print(f"| {name} | {fmt(a)} | {fmt(b)} ({base}) | - |{extra} {goal} | not run |")
        return
    ratio = b / a if inverse else a / b
    ok = ratio >= limit if inverse else ratio <= limit
    verdict = "met" if ok else "**missed**"
    print(f"| {name} | {fmt(a)} | {fmt(b)} ({base}) | {ratio:.2f}x |{extra} {goal} "
          f"| {verdict} |")


print("| benchmark | capexec | baseline | ratio |" + "".join(
    f" ratio, {os.path.basename(o.rstrip('/'))} |" for o in others)
    + " goal | result |")
print("|---|---|---|---|" + "---|" * len(others) + "---|---|")
for n in (3, 64, 1024, 65536):
    row(f"`fdcopy_remapped`, old table 1<<20, n = {n}", "fdcopy_remapped", "capexec",
        "arc_clone_loop", f"old1048576_n{n}", "<= 1.5x", 1.5)
for n in (3, 64, 1024, 65536):
    row(f"`fdcopy_remapped_into` (in place), old table 1<<20, n = {n}", "fdcopy_remapped",
        "capexec_in_place", "arc_clone_loop", f"old1048576_n{n}", "<= 1.5x", 1.5)
for n in (3, 64, 1024, 65536):
    row(f"`fdcopy_remapped`, four rights sets, n = {n}", "fdcopy_remapped", "capexec_mixed",
        "arc_clone_loop", f"old1048576_n{n}", "(<= 1.5x)", 1.5)
row("exec flat, 4 KiB + 16 fds", "exec", "capexec_flat", "limit", "4096B_16fds", "<= 3x", 3)
row("exec flat, 0 B + 0 fds", "exec", "capexec_flat", "limit", "0B_0fds", "<= 5x", 5)
row("exec flat, 256 KiB - 1 + 1024 fds", "exec", "capexec_flat", "limit", "262143B_1024fds",
    "<= 3x", 3)
for n in (64, 65536):
    row(f"lookup, {n} open (1024 lookups)", "lookup", "capexec", "vec_option_arc", str(n),
        "<= 1.2x", 1.2)
for g in ("alloc_churn", "alloc_top"):
    row(f"{g}, N = 64", g, "capexec", "onelevel_hint", "64", "<= 1.2x", 1.2)
    row(f"{g}, N = 1<<20, one-level (no hint) / capexec", g, "capexec", "onelevel",
        "1048576", ">= 10x", 10, inverse=True)
    row(f"{g}, N = 1<<20, linear / capexec", g, "capexec", "linear", "1048576", ">= 700x",
        700, inverse=True)
for layout in ("dense", "sparse"):
    for n in (16, 1024, 65536):
        row(f"fork copy, {layout} {n}", "fork_copy", "capexec", "vec_clone", f"{layout}_{n}",
            "<= 1.5x", 1.5)
for layout in ("dense", "sparse"):
    for n in (16, 1024, 65536):
        row(f"fork copy in place (`fork_copy_into`), {layout} {n}", "fork_copy",
            "capexec_in_place", "vec_clone", f"{layout}_{n}", "<= 1.5x", 1.5)
for layout in ("dense", "sparse"):
    for n in (16, 1024, 65536):
        row(f"fork copy, four rights sets, {layout} {n}", "fork_copy", "capexec_mixed",
            "vec_clone", f"{layout}_{n}", "(<= 1.5x)", 1.5)
row("argdata read, 1 MiB 10,000-entry map, crate / capexec", "argdata_read", "capexec",
    "argdata_crate", "10000", ">= 3x", 3, inverse=True)
for n in (1000, 10000):
    row(f"argdata serialise, {n} descriptors, linear dedup / capexec", "argdata_serialize",
        "capexec", "linear_dedup", str(n), "grows with n", 1, inverse=True)
row("native runner, trapped `fd_write`, shim / bare trap", "native_trapped_fd_write",
    "capexec_shim", "trap_alone", "", "<= 1.2x", 1.2)
row("native runner, trapped `fd_write`, shim + `--trace` observer / bare trap",
    "native_trapped_fd_write", "capexec_shim_traced", "trap_alone", "", "<= 1.2x", 1.2)
for g in ("close_range", "cloexec_sweep"):
    a, b = median(g, "capexec", "1048576"), median(g, "capexec", "4096")
    r = f"{a / b:.2f}x" if a and b else "-"
    print(f"| {g}, 16 open, 1<<20 vs 1<<12 slots | {fmt(a)} | {fmt(b)} (1<<12 slots) | {r} |"
          + " - |" * len(others)
          + f" flat | {'met' if a and b and a / b <= 1.5 else '-'} |")

# Every other measurement of the run (groups 6 and 8 included), medians.
print()
print("| group | implementation | parameter | median |")
print("|---|---|---|---|")
for group in sorted(os.listdir(root)) if os.path.isdir(root) else []:
    gdir = os.path.join(root, group)
    if not os.path.isdir(gdir) or group == "report":
        continue
    for impl in sorted(os.listdir(gdir)):
        idir = os.path.join(gdir, impl)
        if not os.path.isdir(idir) or impl == "report":
            continue
        for param in sorted(os.listdir(idir)):
            m = median(group, impl, param)
            if m is not None:
                print(f"| {group} | {impl} | {param} | {fmt(m)} |")
