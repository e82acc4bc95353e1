//! `castellan policy check` and `castellan policy fmt`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use castellan_policy::{Diagnostic, PolicyKind, Severity, check_grammar, to_pretty_string};
use serde_json::json;

use crate::Outcome;

/// Expands the command-line paths: a file stands for itself, a folder for every `*.json` file
/// below it, in sorted order. Prints and returns `Err` for a path that cannot be read.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ()> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let mut found = Vec::new();
                if let Err(e) = walk(path, &mut found) {
                    eprintln!("castellan: cannot read {}: {e}", path.display());
                    return Err(());
                }
                found.sort();
                files.extend(found);
            }
            Ok(_) => files.push(path.clone()),
            Err(e) => {
                eprintln!("castellan: cannot read {}: {e}", path.display());
                return Err(());
            }
        }
    }
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
    Ok(())
}

fn read(path: &Path) -> std::io::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
    }
}

/// `castellan policy check`.
pub(crate) fn check(paths: &[PathBuf], kind: PolicyKind, json_output: bool) -> Outcome {
    let Ok(files) = expand(paths) else {
        return Outcome::Usage;
    };
    let (mut invalid, mut warnings) = (0usize, 0usize);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in &files {
        let text = match read(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("castellan: cannot read {}: {e}", file.display());
                return Outcome::Usage;
            }
        };
        let checked = castellan_policy::check(&text, kind);
        let valid = checked.is_valid();
        invalid += usize::from(!valid);
        warnings += checked.warnings().count();
        let written = if json_output {
            let record = json!({
                "path": file.display().to_string(),
                "valid": valid,
                "errors": checked.errors().map(diagnostic_json).collect::<Vec<_>>(),
                "warnings": checked.warnings().map(diagnostic_json).collect::<Vec<_>>(),
            });
            writeln!(out, "{record}")
        } else {
            checked.diagnostics.iter().try_for_each(|d| write_human(&mut out, file, &text, d))
        };
        if written.is_err() {
            // Standard output is gone (a closed pipe); nothing more can be reported.
            return if invalid > 0 { Outcome::Findings } else { Outcome::Clean };
        }
    }
    if !json_output {
        let total = files.len();
        let noun = if total == 1 { "file" } else { "files" };
        // A closed pipe here only loses the summary.
        let _ = writeln!(
            out,
            "{total} {noun} checked as {kind} policies: {} valid, {invalid} invalid, {warnings} warnings",
            total - invalid
        );
    }
    if invalid > 0 { Outcome::Findings } else { Outcome::Clean }
}

fn diagnostic_json(d: &Diagnostic) -> serde_json::Value {
    json!({
        "code": d.code.as_str(),
        "message": d.message,
        "detail": d.detail,
        "line": d.position.line,
        "column": d.position.column,
    })
}

/// `path:line:column: error: Code: message`, AWS's message, then ours under the source line.
fn write_human(out: &mut impl Write, file: &Path, text: &str, d: &Diagnostic) -> std::io::Result<()> {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let (line, column) = (d.position.line, d.position.column);
    if d.severity == Severity::Error {
        writeln!(out, "{}:{line}:{column}: {severity}: {}: {}", file.display(), d.code, d.message)?;
    } else {
        writeln!(out, "{}:{line}:{column}: {severity}: {}", file.display(), d.detail)?;
    }
    if let Some(source) = text.lines().nth(line.saturating_sub(1) as usize) {
        let gutter = line.to_string();
        let pad = " ".repeat(gutter.len());
        // Long minified lines are shown around the column only.
        let chars: Vec<char> = source.chars().collect();
        let col = (column as usize).saturating_sub(1).min(chars.len());
        let start = col.saturating_sub(60);
        let end = (col + 60).min(chars.len());
        let shown: String = chars.get(start..end).unwrap_or_default().iter().collect();
        let prefix = if start > 0 { "..." } else { "" };
        writeln!(out, "{pad} |")?;
        writeln!(out, "{gutter} | {prefix}{shown}")?;
        let caret_at = " ".repeat(prefix.len() + col - start);
        if d.severity == Severity::Error && d.detail != d.message {
            writeln!(out, "{pad} | {caret_at}^ {}", d.detail)?;
        } else {
            writeln!(out, "{pad} | {caret_at}^")?;
        }
    }
    Ok(())
}

/// `castellan policy fmt`.
pub(crate) fn fmt(paths: &[PathBuf], check_only: bool) -> Outcome {
    let Ok(files) = expand(paths) else {
        return Outcome::Usage;
    };
    let mut findings = false;
    for file in &files {
        let text = match read(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("castellan: cannot read {}: {e}", file.display());
                return Outcome::Usage;
            }
        };
        let checked = check_grammar(&text);
        let Some(policy) = &checked.policy else {
            findings = true;
            let mut err = std::io::stderr().lock();
            for d in checked.errors() {
                let _ = write_human(&mut err, file, &text, d);
            }
            continue;
        };
        let canonical = to_pretty_string(policy);
        if file.as_os_str() == "-" {
            print!("{canonical}");
            continue;
        }
        if canonical == text {
            continue;
        }
        if check_only {
            findings = true;
            println!("{} is not in canonical form", file.display());
        } else if let Err(e) = write_atomically(file, &canonical) {
            eprintln!("castellan: cannot write {}: {e}", file.display());
            return Outcome::Usage;
        }
    }
    if findings { Outcome::Findings } else { Outcome::Clean }
}

/// Writes through a temporary file and a rename, so a crash never leaves half a policy.
fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".castellan-fmt.tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}
