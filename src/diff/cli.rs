//! `natscc diff`'s arguments and run: both sides read (values, values at a git revision, a
//! rendered manifest, fleets), the new side refused with its findings when it has errors, then
//! one plan per cluster. Returns the exit code: 0 no change, 2 every change live, 3 a change
//! needs a restart, rolls the pods, crashes them, or will fail; 1 findings or a source that
//! cannot be read.

use super::adapter::{self, Compiled};
use super::plan::{self, Ctx};
use super::render::{PlanFormat, render};
use super::snapshot::{self, Snapshot};
use crate::diag::{Code, Diagnostic, Sources, render::Format};
use crate::load::Inputs;
use crate::server_version::Stated;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Findings or a source that cannot be read.
pub const EXIT_FINDINGS: i32 = 1;

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The new values: as `compile` takes them (-f, --set, --set-string), or --fleet.
    #[command(flatten)]
    pub values: crate::driver::args::ValuesArgs,
    /// What runs now: its values files (with --fleet: its fleet file); later files win.
    #[arg(long = "from", value_name = "FILE", conflicts_with_all = ["from_rev", "from_manifest"])]
    pub from: Vec<PathBuf>,
    /// A --set for the --from values.
    #[arg(long = "from-set", value_name = "PATH=VALUE")]
    pub from_set: Vec<String>,
    /// A --set-string for the --from values.
    #[arg(long = "from-set-string", value_name = "PATH=VALUE")]
    pub from_set_string: Vec<String>,
    /// What runs now: the same -f files (or fleet) as they were at a git revision
    /// (`origin/main`), read with `git show REV:PATH`.
    #[arg(long, value_name = "REV", conflicts_with = "from_manifest")]
    pub from_rev: Option<String>,
    /// What runs now: the release's rendered manifests (`helm get manifest RELEASE`), a file
    /// or `-` for standard input; with --fleet, every release's manifest in one stream.
    #[arg(long, value_name = "FILE")]
    pub from_manifest: Option<PathBuf>,
    /// The namespace the restart commands name.
    #[arg(long, default_value = "nats")]
    pub namespace: String,
    /// How to print the plan.
    #[arg(long, value_enum, default_value = "human")]
    pub format: PlanFormat,
    /// The nats-server release an image runs when its tag names none.
    #[arg(long, value_name = "VERSION", value_parser = crate::server_version::Stated::from_flag)]
    pub server_version: Option<Stated>,
}

fn show(diags: &[Diagnostic], sources: &Sources) {
    let stderr = std::io::stderr();
    let color = stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let text = crate::diag::render::render(Format::Human, diags, sources, color);
    let _ = stderr.lock().write_all(text.as_bytes());
}

fn refuse(code: Code, message: String) -> i32 {
    let d = Diagnostic::new(code, message);
    show(&[d], &Sources::default());
    EXIT_FINDINGS
}

fn snapshots(c: &Compiled) -> Vec<Snapshot> {
    c.clusters.iter().map(snapshot::from_values).collect()
}

pub fn run(a: &DiffArgs) -> i32 {
    let stated = a.server_version.as_ref();
    let new = match &a.values.fleet {
        Some(f) => adapter::compile_fleet(f),
        None => adapter::compile_values(&a.values.inputs(), stated),
    };
    if new.has_errors() || new.clusters.is_empty() {
        show(&new.diags, &new.sources);
        return EXIT_FINDINGS;
    }
    let new_snaps = snapshots(&new);
    let old_snaps = match old_side(a, &new_snaps, stated) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let ctx = Ctx {
        namespace: &a.namespace,
    };
    let plans = pair(&old_snaps, &new_snaps, &ctx);
    let _ = std::io::stdout()
        .lock()
        .write_all(render(a.format, &plans).as_bytes());
    plan::exit_code(&plans)
}

/// Plans for every cluster on either side, in the new side's order, then removed ones. One
/// cluster on each side is the same release, whatever its name (a new clusterId renames it).
pub fn pair(old: &[Snapshot], new: &[Snapshot], ctx: &Ctx) -> Vec<plan::ClusterPlan> {
    if let ([o], [n]) = (old, new) {
        return vec![plan::cluster(Some(o), Some(n), ctx)];
    }
    let mut plans: Vec<_> = new
        .iter()
        .map(|n| {
            let o = old.iter().find(|o| o.cluster == n.cluster);
            plan::cluster(o, Some(n), ctx)
        })
        .collect();
    for o in old
        .iter()
        .filter(|o| !new.iter().any(|n| n.cluster == o.cluster))
    {
        plans.push(plan::cluster(Some(o), None, ctx));
    }
    plans
}

/// The old side's snapshots, or the exit code after its findings.
fn old_side(a: &DiffArgs, new: &[Snapshot], stated: Option<&Stated>) -> Result<Vec<Snapshot>, i32> {
    if let Some(m) = &a.from_manifest {
        if a.values.fleet.is_some() {
            return fleet_manifest_side(m, new, stated);
        }
        return manifest_side(m, &new[0].cluster, stated).map(|s| vec![s]);
    }
    if let Some(rev) = &a.from_rev {
        return rev_side(a, rev, stated);
    }
    if a.from.is_empty() {
        let msg = "say what runs now: --from FILE, --from-rev REV or --from-manifest FILE";
        return Err(refuse(Code::DiffManifest, msg.into()));
    }
    let old = match &a.values.fleet {
        Some(_) => adapter::compile_fleet(&a.from[0]),
        None => adapter::compile_values(
            &Inputs {
                files: a.from.clone(),
                set: a.from_set.clone(),
                set_string: a.from_set_string.clone(),
            },
            stated,
        ),
    };
    lenient(old)
}

/// The old side must compile too: a plan from values natscc cannot read would be a guess.
fn lenient(old: Compiled) -> Result<Vec<Snapshot>, i32> {
    if old.has_errors() || old.clusters.is_empty() {
        eprintln!("natscc diff: the values that run now (the --from side) do not compile:");
        show(&old.diags, &old.sources);
        return Err(EXIT_FINDINGS);
    }
    Ok(snapshots(&old))
}

/// A rendered stream's documents, or the exit code after its findings.
fn read_manifest(path: &Path) -> Result<Vec<serde_json::Value>, i32> {
    let bytes = if path == Path::new("-") {
        crate::input::read_stdin()
    } else {
        crate::input::read(path)
    };
    let text = bytes
        .map_err(|e| e.to_string())
        .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()))
        .map_err(|e| refuse(Code::DiffManifest, format!("{}: {e}", path.display())))?;
    let mut sources = Sources::default();
    let id = sources.add(crate::diag::Source::new(path.display().to_string(), text));
    let (docs, diags) = crate::load::yaml::parse_stream(id, &sources);
    let Some(docs) = docs.filter(|_| !diags.iter().any(Diagnostic::is_error)) else {
        show(&diags, &sources);
        return Err(EXIT_FINDINGS);
    };
    Ok(docs.iter().map(crate::load::Node::to_json).collect())
}

fn manifest_side(path: &Path, cluster: &str, stated: Option<&Stated>) -> Result<Snapshot, i32> {
    let docs = read_manifest(path)?;
    let name = snapshot::manifest_cluster(&docs).unwrap_or_else(|| cluster.to_string());
    snapshot::from_manifest(&docs, &name, stated).ok_or_else(|| {
        refuse(
            Code::DiffManifest,
            format!(
                "{}: no StatefulSet of the stream runs nats-server from a mounted nats.conf",
                path.display()
            ),
        )
    })
}

/// A fleet's releases from one stream (each release's `helm get manifest`, concatenated):
/// each matched to the fleet's cluster whose servers get the same `NATS_CLUSTER_NAME`; a
/// release no cluster matches keeps that name (the plan says it is removed).
fn fleet_manifest_side(
    path: &Path,
    new: &[Snapshot],
    stated: Option<&Stated>,
) -> Result<Vec<Snapshot>, i32> {
    let releases = super::releases::split(read_manifest(path)?);
    let mut out: Vec<Snapshot> = vec![];
    for (i, docs) in releases.iter().enumerate() {
        let which = match super::releases::release_name(docs) {
            Some(r) => format!("release {} of the stream (`{r}`)", i + 1),
            None => format!("release {} of the stream", i + 1),
        };
        let at = |why: &str| format!("{}: {which} {why}", path.display());
        let Some(name) = snapshot::manifest_cluster(docs) else {
            let why = "has no nats-env-config with NATS_CLUSTER_NAME: it cannot be matched to \
                       a cluster of the fleet (give each release's whole `helm get manifest`)";
            return Err(refuse(Code::DiffManifest, at(why)));
        };
        let cluster = new
            .iter()
            .find(|n| n.env_config.get("NATS_CLUSTER_NAME") == Some(&name))
            .map_or(name.clone(), |n| n.cluster.clone());
        if out.iter().any(|s| s.cluster == cluster) {
            let why = format!("runs cluster `{name}` again: give each release once");
            return Err(refuse(Code::DiffManifest, at(&why)));
        }
        let Some(snap) = snapshot::from_manifest(docs, &cluster, stated) else {
            let why = "has no StatefulSet that runs nats-server from a mounted nats.conf";
            return Err(refuse(Code::DiffManifest, at(why)));
        };
        out.push(snap);
    }
    if out.is_empty() {
        let why = "holds no release";
        return Err(refuse(
            Code::DiffManifest,
            format!("{}: {why}", path.display()),
        ));
    }
    Ok(out)
}

/// Runs git; its standard output, or the exit code after a finding.
fn git(args: &[&str]) -> Result<Vec<u8>, i32> {
    let out = std::process::Command::new("git").args(args).output();
    match out {
        Ok(o) if o.status.success() => Ok(o.stdout),
        Ok(o) => Err(refuse(
            Code::DiffRevision,
            format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            ),
        )),
        Err(e) => Err(refuse(Code::DiffRevision, format!("git: {e}"))),
    }
}

/// The -f files (or the fleet and every file it names) as they were at `rev`, in a temporary
/// folder that mirrors the repository, compiled there.
fn rev_side(a: &DiffArgs, rev: &str, stated: Option<&Stated>) -> Result<Vec<Snapshot>, i32> {
    let tmp = std::env::temp_dir().join(format!("natscc-diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)
        .map_err(|e| refuse(Code::DiffRevision, format!("{}: {e}", tmp.display())))?;
    let result = rev_compile(a, rev, stated, &tmp);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

fn rev_compile(
    a: &DiffArgs,
    rev: &str,
    stated: Option<&Stated>,
    tmp: &Path,
) -> Result<Vec<Snapshot>, i32> {
    let top = String::from_utf8_lossy(&git(&["rev-parse", "--show-toplevel"])?)
        .trim()
        .to_string();
    let top = std::fs::canonicalize(&top).unwrap_or_else(|_| PathBuf::from(&top));
    // The path of a file inside the repository, and its copy at `rev` under `tmp`.
    let at_rev = |p: &Path| -> Result<PathBuf, i32> {
        let abs = std::fs::canonicalize(p)
            .or_else(|_| std::env::current_dir().map(|d| d.join(p)))
            .map_err(|e| refuse(Code::DiffRevision, format!("{}: {e}", p.display())))?;
        let rel = abs.strip_prefix(&top).map_err(|_| {
            refuse(
                Code::DiffRevision,
                format!(
                    "{} is not inside the git repository {}",
                    p.display(),
                    top.display()
                ),
            )
        })?;
        let text = git(&["show", &format!("{rev}:{}", rel.display())])?;
        let copy = tmp.join(rel);
        let made = std::fs::create_dir_all(copy.parent().unwrap_or(tmp))
            .and_then(|()| std::fs::write(&copy, text));
        made.map_err(|e| refuse(Code::DiffRevision, format!("{}: {e}", copy.display())))?;
        Ok(copy)
    };
    let old = match &a.values.fleet {
        Some(fleet) => {
            let copy = at_rev(fleet)?;
            if let Some(spec) = fleet_files(&copy) {
                let dir = fleet.parent().unwrap_or(Path::new("."));
                for f in spec {
                    at_rev(&dir.join(f))?;
                }
            }
            adapter::compile_fleet(&copy)
        }
        None => {
            let files = a
                .values
                .values
                .iter()
                .map(|p| at_rev(p))
                .collect::<Result<Vec<_>, _>>()?;
            adapter::compile_values(
                &Inputs {
                    files,
                    set: a.from_set.clone(),
                    set_string: a.from_set_string.clone(),
                },
                stated,
            )
        }
    };
    lenient(old)
}

/// The values files a fleet file names (relative to its folder).
fn fleet_files(fleet: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(fleet).ok()?;
    let mut sources = Sources::default();
    let id = sources.add(crate::diag::Source::new("fleet", text));
    let (docs, _) = crate::load::yaml::parse_stream(id, &sources);
    let doc = docs?.into_iter().next()?.to_json();
    let mut out = vec![];
    for c in doc.get("clusters")?.as_array()? {
        for v in c
            .get("values")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            out.extend(v.as_str().map(str::to_string));
        }
    }
    Some(out)
}
