//! `cargo xtask bench [--no-criterion] [SECTION...]`: the benchmarks of `bench/`, in release
//! mode. Each section runs its criterion benches (full statistics and reports under
//! `target/criterion`), then prints a Markdown table of throughputs and ratios measured by the
//! `castellan-bench` binary.
//!
//! - `parse`: policy parsing, Castellan against `serde_json::Value`.
//! - `eval`: decisions, Castellan's evaluator against Cedar (`cedar-policy`, a dependency of
//!   `castellan-bench` only) on the shared workloads, every decision checked first; latency
//!   percentiles, decisions per second and time ratios.
//! - `sigv4`: SigV4 verifications per second, with and without the signing-key cache.
//! - `credentials`: password hash time and TOTP checks per second (table only, no criterion bench).
//! - `store`: identity store writes, snapshot update latency, memory (table only).
//! - `sts`: `AssumeRole` calls per second, session token opening latency (table only).
//! - `serve`: `castellan serve` (release build) over loopback, driven by a load generator that
//!   signs every request, side by side with moto's server (installed with pip into
//!   `target/bench-venv` on first use; left out, with a note, when it cannot be installed).
//!
//! A new section (evaluator, store, sigv4) is a function here, listed in [`SECTIONS`], with a
//! bench target and a section of the same name in `bench/`.

use std::path::{Path, PathBuf};

use crate::{cargo, root, run};

/// What every section is told.
struct Options {
    /// Whether to run the criterion benches before printing the table.
    criterion: bool,
}

/// A section: runs its benchmarks and prints its table.
type Section = fn(&Options) -> Result<(), String>;

/// The sections, in the order they run when none is named.
const SECTIONS: &[(&str, Section)] = &[
    ("parse", parse),
    ("eval", eval),
    ("sigv4", sigv4),
    ("credentials", credentials),
    ("store", store),
    ("sts", sts),
    ("serve", serve),
];

const USAGE: &str = "usage: cargo xtask bench [--no-criterion] [SECTION...] (sections: parse, eval, sigv4, credentials, store, sts, serve)";

pub(crate) fn bench(args: &[String]) -> Result<(), String> {
    let mut options = Options { criterion: true };
    let mut selected = Vec::new();
    for arg in args {
        match arg.as_str() {
            "--no-criterion" => options.criterion = false,
            flag if flag.starts_with('-') => {
                return Err(format!("unknown option `{flag}`\n{USAGE}"));
            }
            name => match SECTIONS.iter().find(|(section, _)| *section == name) {
                Some(&section) => selected.push(section),
                None => return Err(format!("unknown section `{name}`\n{USAGE}")),
            },
        }
    }
    if selected.is_empty() {
        selected.extend_from_slice(SECTIONS);
    }
    for (_, section) in selected {
        section(&options)?;
    }
    Ok(())
}

/// Policy parsing: Castellan against `serde_json::Value` on the same documents.
fn parse(options: &Options) -> Result<(), String> {
    section("parse", options)
}

/// Policy evaluation: Castellan's `CompiledLayers::decide` against Cedar's `is_authorized` on the
/// small, large and full-chain workloads.
fn eval(options: &Options) -> Result<(), String> {
    section("eval", options)
}

/// SigV4 verification: verifications per second with and without the signing-key cache.
fn sigv4(options: &Options) -> Result<(), String> {
    section("sigv4", options)
}

/// Credentials: PBKDF2 password hashing at the default iteration count and TOTP code checks. The
/// table printer only: a login-sized cost needs no criterion statistics.
fn credentials(_: &Options) -> Result<(), String> {
    section("credentials", &Options { criterion: false })
}

/// The identity store: writes per second, snapshot update latency and memory per principal,
/// for both backends. The table printer only.
fn store(_: &Options) -> Result<(), String> {
    section("store", &Options { criterion: false })
}

/// STS: `AssumeRole` calls per second and session token opening latency. The table printer only.
fn sts(_: &Options) -> Result<(), String> {
    section("sts", &Options { criterion: false })
}

/// The server: signed requests per second and latency over loopback, Castellan against moto.
/// The table printer only (the load generator is its own measurement).
fn serve(_: &Options) -> Result<(), String> {
    let cargo = cargo();
    run(&cargo, &["build", "--release", "--quiet", "--package", "castellan-cli", "--bin", "castellan"], &[])?;
    let target = target_dir();
    let castellan = target.join("release").join("castellan");
    let castellan = castellan.to_str().ok_or("the target path is not UTF-8")?.to_owned();
    let mut env = vec![("CASTELLAN_BIN", castellan)];
    match moto(&target) {
        Ok(moto) => env.push(("MOTO_SERVER", moto)),
        Err(e) => eprintln!("moto's server is not measured: {e}"),
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run_table("serve", &env)
}

/// The cargo target directory.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// moto's `moto_server`, installed with pip into `target/bench-venv` on first use.
fn moto(target: &Path) -> Result<String, String> {
    let venv = target.join("bench-venv");
    let server = venv.join("bin").join("moto_server");
    let venv_text = venv.to_str().ok_or("the target path is not UTF-8")?;
    if !server.exists() {
        run("python3", &["-m", "venv", venv_text], &[])?;
        let pip = venv.join("bin").join("pip");
        let pip = pip.to_str().ok_or("the target path is not UTF-8")?;
        run(pip, &["install", "--quiet", "--disable-pip-version-check", "moto[server]"], &[])?;
    }
    server.to_str().map(str::to_owned).ok_or_else(|| "the target path is not UTF-8".to_owned())
}

/// Runs the criterion bench target `name`, then the table printer's section `name`.
fn section(name: &str, options: &Options) -> Result<(), String> {
    if options.criterion {
        run(&cargo(), &["bench", "--package", "castellan-bench", "--bench", name], &[])?;
    }
    run_table(name, &[])
}

/// Runs the table printer's section `name`.
fn run_table(name: &str, env: &[(&str, &str)]) -> Result<(), String> {
    run(
        &cargo(),
        &["run", "--release", "--quiet", "--package", "castellan-bench", "--bin", "castellan-bench", "--", name],
        env,
    )
}
