//! `natscc lint`: many values files, checked in parallel. It returns the findings; the CLI
//! applies the severity levels, prints the report and picks the exit code.

use crate::diag::{Diagnostic, Sources};
use crate::load::{self, Node, merge, yaml};
use std::path::{Path, PathBuf};

/// Expands files, folders (every .yaml/.yml below) and glob patterns, in a stable order.
pub fn expand(patterns: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut out = vec![];
    for p in patterns {
        let path = Path::new(p);
        if path.is_dir() {
            for ext in ["yaml", "yml"] {
                // The folder's own name is literal, even with `[` or `*` in it.
                let pat = format!(
                    "{}/**/*.{ext}",
                    glob::Pattern::escape(p.trim_end_matches('/'))
                );
                out.extend(
                    glob::glob(&pat)
                        .map_err(|e| format!("bad pattern {pat}: {e}"))?
                        .filter_map(Result::ok),
                );
            }
        } else if path.exists() {
            // A file that exists is that file, even with `[` or `*` in its name.
            out.push(path.to_path_buf());
        } else if p.contains(['*', '?', '[']) {
            // Folders a pattern matches (`envs/*`) hold the files; they are not values files.
            let matched: Vec<PathBuf> = glob::glob(p)
                .map_err(|e| format!("bad pattern `{p}`: {e}"))?
                .filter_map(Result::ok)
                .filter(|m| !m.is_dir())
                .collect();
            if matched.is_empty() {
                return Err(format!("no file matches `{p}`"));
            }
            out.extend(matched);
        } else {
            return Err(format!("no such file: {p}"));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// What every linted file shares, made once: the built-in defaults (parsed, their sources
/// first in every file's `Sources`, as `load` puts them) and the `--with` companions, read,
/// parsed and merged. Each file then costs only its own reading, merging and checks.
struct Shared {
    sources: Sources,
    /// The event-bus chart's defaults and the NATS chart's, for either mode.
    bus: crate::load::BusDefaults,
    nats_chart: Node,
    /// The companions merged, or `None` when one could not be read or parsed.
    companions: Option<Node>,
    /// Whether a companion names `global.eventBus`.
    companions_name_bus: bool,
    diags: Vec<Diagnostic>,
}

impl Shared {
    fn new(with: &[PathBuf]) -> Shared {
        let mut sources = Sources::default();
        let defaults = crate::load::default_sources(&mut sources);
        let mut diags = vec![];
        let mut companions = Some(Node::map(Default::default()));
        let mut companions_name_bus = false;
        for path in with {
            let tree = read(path, &mut sources, &mut diags);
            companions_name_bus |= tree.as_ref().is_some_and(crate::load::names_event_bus);
            companions = companions.zip(tree).map(|(a, b)| merge::merge_user(a, b));
        }
        Shared {
            bus: defaults.bus(&sources),
            nats_chart: defaults.nats_chart(&sources),
            sources,
            companions,
            companions_name_bus,
            diags,
        }
    }

    /// One file checked as `check_only` checks it with the companions before it.
    fn check(&self, file: &Path) -> (Vec<Diagnostic>, Sources) {
        let mut sources = self.sources.clone();
        let mut diags = self.diags.clone();
        let tree = read(file, &mut sources, &mut diags);
        let named = self.companions_name_bus || tree.as_ref().is_some_and(load::names_event_bus);
        let user = self
            .companions
            .clone()
            .zip(tree)
            .map(|(a, b)| merge::merge_user(a, b));
        let mode = load::Mode::of(user.as_ref(), named);
        let root = user.and_then(|u| match mode {
            load::Mode::EventBus => Some(self.bus.coalesce(u)),
            load::Mode::PlainChart => load::coalesce_plain(u, &self.nats_chart),
        });
        let c = crate::driver::run_mode(mode, root, diags, sources, false, None);
        (c.diags, c.sources)
    }
}

/// Reads and parses one values file into `sources`, as `load` does.
fn read(path: &Path, sources: &mut Sources, diags: &mut Vec<Diagnostic>) -> Option<Node> {
    let name = path.display().to_string();
    match crate::input::read_text(path) {
        Ok(text) => {
            let id = crate::load::add_file(sources, &name, text);
            let (tree, d) = yaml::parse(id, sources);
            diags.extend(d);
            tree
        }
        Err(e) => {
            diags.push(crate::load::read_error(&name, &e));
            None
        }
    }
}

/// Checks each file (with the companions merged under it) on all cores; what the files share
/// is made once.
pub fn lint_files(files: &[PathBuf], with: &[PathBuf]) -> Vec<(Vec<Diagnostic>, Sources)> {
    let shared = Shared::new(with);
    crate::parallel::map(files.len(), |i| shared.check(&files[i]))
}

/// Each file's findings with its sources, in path order; `Err` is a usage error (no file
/// matches, a companion file is missing).
pub fn run(
    patterns: &[String],
    with: &[PathBuf],
) -> Result<Vec<(Vec<Diagnostic>, Sources)>, String> {
    if let Some(w) = with.iter().find(|w| !w.is_file()) {
        return Err(format!("no such companion file: {}", w.display()));
    }
    let mut files = expand(patterns)?;
    if files.is_empty() {
        return Err("no values files found".into());
    }
    // A companion is checked under every other file, never alone: a shared values-common.yaml
    // that a pattern (or pre-commit) names too is not a whole cluster's values.
    let shared: Vec<PathBuf> = with.iter().filter_map(|w| w.canonicalize().ok()).collect();
    files.retain(|f| !f.canonicalize().is_ok_and(|f| shared.contains(&f)));
    if files.is_empty() {
        let names: Vec<String> = with.iter().map(|w| w.display().to_string()).collect();
        return Err(format!(
            "every file given is a --with companion ({}); name the values files that use it \
             (pre-commit: `pass_filenames: false` and their pattern)",
            names.join(", ")
        ));
    }
    Ok(lint_files(&files, with))
}

/// A finding in what every file shares (the built-in defaults, a --with companion) is the
/// same finding for each file: it is kept once, where it first appears.
pub fn shared_once(results: &[(Vec<Diagnostic>, Sources)]) -> Vec<(&Diagnostic, &Sources)> {
    let mut seen = std::collections::HashSet::new();
    results
        .iter()
        .flat_map(|(ds, s)| ds.iter().map(move |d| (d, s)))
        .filter(|(d, s)| {
            let at: Vec<(&str, u32, u32)> = d
                .labels
                .iter()
                .map(|l| (s.get(l.span.src).name.as_str(), l.span.line, l.span.col))
                .collect();
            d.labels.is_empty() || seen.insert((d.code, d.severity, d.message.clone(), at))
        })
        .collect()
}
