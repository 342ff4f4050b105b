//! `natscc lint`: many values files, checked in parallel, one report.

use crate::cli::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, ReportArgs};
use crate::diag::render::{Format, render_many};
use crate::diag::{Diagnostic, Severity, Sources};
use crate::load::Inputs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Expands files, folders (every .yaml/.yml below) and glob patterns, in a stable order.
pub fn expand(patterns: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut out = vec![];
    for p in patterns {
        let path = Path::new(p);
        if path.is_dir() {
            for ext in ["yaml", "yml"] {
                // The folder's own name is literal, even with `[` or `*` in it.
                let pat = format!("{}/**/*.{ext}", glob::Pattern::escape(p.trim_end_matches('/')));
                out.extend(glob::glob(&pat).map_err(|e| format!("bad pattern {pat}: {e}"))?.filter_map(Result::ok));
            }
        } else if p.contains(['*', '?', '[']) {
            // Folders a pattern matches (`envs/*`) hold the files; they are not values files.
            let matched: Vec<PathBuf> = glob::glob(p).map_err(|e| format!("bad pattern `{p}`: {e}"))?.filter_map(Result::ok).filter(|m| !m.is_dir()).collect();
            if matched.is_empty() {
                return Err(format!("no file matches `{p}`"));
            }
            out.extend(matched);
        } else if path.exists() {
            out.push(path.to_path_buf());
        } else {
            return Err(format!("no such file: {p}"));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Checks each file (with the companions merged under it) on all cores.
pub fn lint_files(files: &[PathBuf], with: &[PathBuf]) -> Vec<(Vec<Diagnostic>, Sources)> {
    crate::parallel::map(files.len(), |i| {
        let mut inputs = Inputs { files: with.to_vec(), ..Default::default() };
        inputs.files.push(files[i].clone());
        let c = crate::check_only(&inputs);
        (c.diags, c.sources)
    })
}

pub fn run(patterns: &[String], with: &[PathBuf], args: &ReportArgs) -> i32 {
    let files = match expand(patterns) {
        Ok(f) if f.is_empty() => {
            eprintln!("natscc lint: no values files found");
            return EXIT_USAGE;
        }
        Ok(f) => f,
        Err(e) => {
            eprintln!("natscc lint: {e}");
            return EXIT_USAGE;
        }
    };
    for w in with {
        if !w.exists() {
            eprintln!("natscc lint: no such companion file: {}", w.display());
            return EXIT_USAGE;
        }
    }
    let mut results = lint_files(&files, with);
    if args.deny_warnings {
        for (diags, _) in &mut results {
            diags.iter_mut().for_each(|d| d.severity = Severity::Error);
        }
    }
    let io_error = results.iter().any(|(d, _)| d.iter().any(|d| d.code == crate::diag::Code::Io));
    // A finding in what every file shares (the built-in defaults, a --with companion) is the
    // same finding for each file: it is reported once, where it first appears.
    let mut seen = std::collections::HashSet::new();
    let items: Vec<(&Diagnostic, &Sources)> = results
        .iter()
        .flat_map(|(ds, s)| ds.iter().map(move |d| (d, s)))
        .filter(|(d, s)| {
            let at: Vec<(&str, u32, u32)> = d.labels.iter().map(|l| (s.get(l.span.src).name.as_str(), l.span.line, l.span.col)).collect();
            d.labels.is_empty() || seen.insert((d.code, d.severity, d.message.clone(), at))
        })
        .collect();
    let stdout = std::io::stdout();
    let format = args.format.unwrap_or(if stdout.is_terminal() { Format::Human } else { Format::Concise });
    let color = format == Format::Human && stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = stdout.lock().write_all(render_many(format, &items, color).as_bytes());
    if io_error {
        EXIT_USAGE
    } else if items.iter().any(|(d, _)| d.severity == Severity::Error) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
