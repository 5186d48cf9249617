//! `cloudabi-run`: start a CloudABI program with exactly the descriptors a YAML
//! description names, on a simulated kernel built from capexec.
//!
//! The YAML becomes argdata; the launcher process (a simulated 32-bit CloudABI process
//! holding the host's standard streams and the files the YAML opens) traps into the i386
//! `proc_exec` system call with a real register frame; the new program reads its
//! argument data and descriptors only through the program's side of the ABI.

mod native;
mod programs;
mod resolve;
mod sim;

use std::process::ExitCode;

use capexec::argdata::Value;
use capexec_host::{HostEntropy, HostFile, StartupFds, read_bounded};
use cloudabi_run::config::{self, MAX_ARGDATA_SIZE, MAX_CONFIG_SIZE};

mod heap;

use crate::sim::{Ended, Launcher, builtin_image};

/// The most heap converting one configuration may take: 48 MiB (a 512 KiB block-style
/// configuration takes a few MiB; a flow collection about 100 bytes per token).
const CONVERSION_HEAP: usize = 48 << 20;

/// The man page example: three times standard output.
pub const MAN_PAGE_EXAMPLE: &str = "%TAG ! tag:nuxi.nl,2015:cloudabi/
---
- !fd stdout
- !fd stdout
- !fd stdout
";

const USAGE: &str = "usage: cloudabi-run [--trace] [--raw FILE] [--native] [PROGRAM [CONFIG]]

  PROGRAM   built-in program to start: hello (default), argdata, procstat, copy;
            with --native, a compiled i386 CloudABI ELF file, or one of the bundled
            C programs (hello, procstat, spawn, errors, loop, tryio), built on demand
  CONFIG    YAML file describing the argument data ('-' for standard input);
            without it, the man page example runs; at most 512 KiB
  --raw FILE  use FILE's bytes as the argument data unchanged, with no descriptors;
              at most 262143 bytes (ARG_MAX - 1)
  --trace     print what crosses the system call boundary to standard error
  --native    run real i386 machine code under ptrace, every system call served by
              capexec (Linux x86_64; needs gcc-multilib for the bundled programs)

CONFIGURATION
  One YAML document, optionally after '%TAG ! tag:nuxi.nl,2015:cloudabi/'. Scalars
  (YAML 1.2 core schema, and the !!binary and !!timestamp tags), sequences and
  mappings become argument data; the descriptor tags pass descriptors, renumbered
  from 0 in order of first appearance:
    !fd stdin|stdout|stderr|N   the launcher's descriptor (N open when it started)
    !file {path: P}             P opened read-only
    !executable                 the program being started

RIGHTS
  Each descriptor tag also takes a mapping that passes fewer rights (least
  privilege):
    log: !fd {fd: stderr, rights: [fd_write]}
    data: !file {path: /etc/hosts, rights: [fd_read, fd_seek], inheriting: []}
    self: !executable {rights: [proc_exec]}
  'rights' replaces the base rights, 'inheriting' the inheriting rights; one left
  out keeps what the launcher holds. Rights can only be narrowed: naming a right
  the launcher does not hold, or an unknown name, is an error (exit 127). The same
  descriptor with different rights becomes separate descriptors of the program;
  identical descriptor and rights are one. --trace shows each narrowing.
";

/// `words` after `first`, wrapped at 80 columns, continued lines indented by `indent`.
fn wrap(first: &str, indent: &str, words: &[&str]) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    for (i, w) in words.iter().enumerate() {
        let sep = if i == 0 { "" } else { " " };
        if line.len() + sep.len() + w.len() > 80 && line.len() > indent.len() {
            out.push_str(line.trim_end());
            out.push('\n');
            line = format!("{indent}{w}");
        } else {
            line.push_str(sep);
            line.push_str(w);
        }
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The rights part of `--help` that comes from the tables: the right names and what
/// the launcher holds for each kind of descriptor.
fn rights_help() -> String {
    use capexec::fdtable::Rights;
    use capexec_host::rights;
    use cloudabi_run::config::right_names;

    let names = right_names(Rights::all());
    let names: Vec<&str> = names.split(", ").collect();
    let mut out = String::from("  Right names (CloudABI's, in lower case):\n");
    out.push_str(&wrap("    ", "    ", &names));
    out.push_str("  What the launcher holds (no inheriting rights):\n");
    for (what, r) in [
        ("stdin:", rights::STDIN),
        ("stdout, stderr:", rights::STDOUT),
        ("!file, !executable:", rights::FILE),
    ] {
        let held = right_names(r.base);
        let held: Vec<&str> = held.split(", ").collect();
        out.push_str(&wrap(&format!("    {what} "), "      ", &held));
    }
    out.push_str("    !fd N: the rights of its type and open mode\n");
    out
}

struct Options {
    program: String,
    config: Option<String>,
    raw: Option<String>,
    trace: bool,
    native: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        program: "hello".into(),
        config: None,
        raw: None,
        trace: false,
        native: false,
    };
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                print!("{USAGE}{}", rights_help());
                std::process::exit(0);
            }
            "--trace" => o.trace = true,
            "--native" => o.native = true,
            "--raw" => o.raw = Some(args.next().ok_or("--raw needs a file")?),
            "-" => positional.push(a),
            s if s.starts_with('-') => {
                return Err(format!("unknown option {s} (see cloudabi-run --help)"));
            }
            _ => positional.push(a),
        }
    }
    let mut positional = positional.into_iter();
    if let Some(p) = positional.next() {
        o.program = p;
    }
    o.config = positional.next();
    if let Some(extra) = positional.next() {
        return Err(format!(
            "unexpected argument {extra} (see cloudabi-run --help)"
        ));
    }
    if !o.native
        && !matches!(
            o.program.as_str(),
            "hello" | "argdata" | "procstat" | "copy"
        )
    {
        return Err(format!(
            "unknown program {:?} (built-in programs: hello, argdata, procstat, copy)",
            o.program
        ));
    }
    if o.raw.is_some() && o.config.is_some() {
        return Err("--raw and CONFIG cannot be used together".into());
    }
    Ok(o)
}

/// The standard streams open at startup, as descriptors 0, 1 and 2 of the launcher.
fn insert_std_streams(launcher: &mut Launcher, startup: &StartupFds) -> Result<(), String> {
    type Open = fn() -> std::io::Result<HostFile>;
    let streams: [(i32, Open); 3] = [
        (0, HostFile::stdin),
        (1, HostFile::stdout),
        (2, HostFile::stderr),
    ];
    for (fd, open) in streams {
        if startup.contains(fd) {
            let f = open().map_err(|e| format!("descriptor {fd}: {e}"))?;
            launcher.insert_at(fd, f)?;
        }
    }
    Ok(())
}

/// The configuration text: at most `MAX_CONFIG_SIZE` bytes of UTF-8 (one byte more is
/// read to tell a larger file, never the rest).
fn read_config(path: &str) -> Result<String, String> {
    let bytes = if path == "-" {
        read_bounded(std::io::stdin().lock(), MAX_CONFIG_SIZE)
            .map_err(|e| format!("reading the configuration from standard input: {e}"))?
    } else {
        let f = std::fs::File::open(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        read_bounded(f, MAX_CONFIG_SIZE).map_err(|e| format!("cannot read {path}: {e}"))?
    };
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the configuration is not UTF-8 (byte {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The argument data of `--raw`: at most `MAX_ARGDATA_SIZE` bytes.
fn read_raw(path: &str) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    read_bounded(f, MAX_ARGDATA_SIZE as u64).map_err(|e| {
        format!("cannot read {path}: {e} (the argument data must be shorter than ARG_MAX)")
    })
}

fn launch(o: &Options, startup: &StartupFds) -> Result<u32, String> {
    // No fixed-seed fallback: a host without randomness cannot start a program.
    HostEntropy::new().map_err(|e| e.to_string())?;
    let mut launcher = Launcher::new(o.trace);
    insert_std_streams(&mut launcher, startup)?;
    let native = if o.native {
        Some(native::build()?)
    } else {
        None
    };
    let image = match &native {
        Some(built) => native::executable(&o.program, built)?,
        None => image_file(&o.program),
    };
    if let Some(raw) = &o.raw {
        let exe = launcher.insert(image)?;
        let data = read_raw(raw)?;
        return finish(launcher, native.as_ref(), exe, &data, &[]);
    }
    let text = match &o.config {
        Some(path) => read_config(path)?,
        None => MAN_PAGE_EXAMPLE.to_string(),
    };
    let exe = launcher.insert(image)?;
    let mut resolver = resolve::Resolver::new(&mut launcher, startup, exe);
    // The YAML scanner holds a flow collection whole before its first event: bound the
    // heap the conversion may add.
    let budget = heap::in_use().saturating_add(CONVERSION_HEAP);
    let value: Value<'static> =
        config::to_argdata_within(&text, &mut resolver, &mut || heap::in_use() > budget)
            .map_err(|e| e.to_string())?;
    let (data, fds) = value
        .serialize_with_fds()
        .map_err(|e| format!("serialising argdata: {e}"))?;
    finish(launcher, native.as_ref(), exe, &data, &fds)
}

fn image_file(program: &str) -> HostFile {
    HostFile::from_bytes(builtin_image(program)).with_name(format!("builtin:{program}"))
}

fn finish(
    mut launcher: Launcher,
    native: Option<&native::Built>,
    exe: i32,
    data: &[u8],
    fds: &[i32],
) -> Result<u32, String> {
    if let Some(built) = native {
        if launcher.trace {
            eprintln!(
                "native: proc_exec(fd={exe}, data_len={}, fds={fds:?})",
                data.len()
            );
        }
        let trace = launcher.trace;
        return native::run(
            built,
            launcher.proc.table.into_inner(),
            exe,
            data,
            fds,
            trace,
        );
    }
    match launcher.exec_and_run(exe, data, fds)? {
        Ended::Exit(code) => Ok(code),
        Ended::ExecFailed(e) => Err(format!("proc_exec failed: {e}")),
        Ended::Killed(why) => Err(why),
    }
}

/// `msg` on one line: every control character (a newline, an escape sequence from a
/// hostile configuration) escaped as Rust would (`\n`, `\u{1b}`).
fn one_line(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    for c in msg.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

fn main() -> ExitCode {
    // Before anything opens a file: which descriptors the parent passed.
    let startup = StartupFds::record();
    let result = parse_args().and_then(|o| launch(&o, &startup));
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX)),
        Err(msg) => {
            eprintln!("cloudabi-run: {}", one_line(&msg));
            ExitCode::from(127)
        }
    }
}
