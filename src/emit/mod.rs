//! Stage 5: the files of one cluster, as text, and their atomic writing.
//! Emit runs only on a model with no error; everything it writes is deterministic.

pub mod conf;
pub mod k8s;
pub mod patch;
pub mod server;
pub mod yaml;

use crate::bus::Bus;
use crate::model::Model;
use std::collections::BTreeMap;
use std::path::Path;

/// The files of one cluster: name -> contents.
pub type Files = BTreeMap<String, String>;

/// The files of one event-bus cluster: each pod's config files where the pod mounts them,
/// the chart's ConfigMaps (byte for byte), routes, NACK streams and the listings.
pub fn emit(m: &Model, bus: &Bus) -> Files {
    let header = server::HEADER;
    let mut files = Files::new();
    for i in bus.instances() {
        files.extend(bus.pod_files(i));
    }
    let mut nats_vars = vec![];
    k8s::variables(&bus.resolved(&bus.nats), &mut nats_vars);
    let mut mtls_vars = vec![];
    if let Some(i) = &bus.mtls {
        k8s::variables(&bus.resolved(i), &mut mtls_vars);
    }
    let routes = k8s::routes(m);
    let streams = k8s::streams(m);
    if let Some(p) = bus.config_map("auth-callout-permissions").and_then(|c| c.data.get("permissions.json")) {
        files.insert("permissions.json".into(), p.clone());
    }
    files.insert("gateway.yaml".into(), yaml::stream(&routes));
    files.insert("streams.yaml".into(), yaml::stream(&streams));
    files.insert("env.yaml".into(), format!("# {header}\n{}", yaml::to_yaml(&k8s::env(m, &nats_vars, &mtls_vars))));
    files.insert("secrets.yaml".into(), format!("# {header}\n{}", yaml::to_yaml(&k8s::secrets(m))));
    let mut docs: Vec<_> = bus.config_maps.iter().map(|c| k8s::config_map(&c.name, &c.data)).collect();
    docs.extend(routes);
    docs.extend(streams);
    files.insert("manifests.yaml".into(), yaml::stream(&docs));
    files
}

/// Whether `dir` already holds exactly `files`, byte for byte, and nothing else.
fn holds_exactly(dir: &Path, files: &BTreeMap<String, String>) -> bool {
    fn count_files(dir: &Path) -> Option<usize> {
        let mut n = 0;
        for entry in std::fs::read_dir(dir).ok()? {
            let entry = entry.ok()?;
            let ty = entry.file_type().ok()?;
            n += if ty.is_dir() { count_files(&entry.path())? } else { 1 };
        }
        Some(n)
    }
    count_files(dir) == Some(files.len()) && files.iter().all(|(name, text)| std::fs::read(dir.join(name)).is_ok_and(|old| old == text.as_bytes()))
}

/// Every file name natscc writes into an output folder (event bus and plain chart).
const OUTPUT_NAMES: &[&str] = &[
    "nats.conf",
    "accounts.conf",
    "leafnodes.conf",
    "nats-mtls.conf",
    "mtls-accounts.conf",
    "gateway.yaml",
    "streams.yaml",
    "permissions.json",
    "env.yaml",
    "secrets.yaml",
    "manifests.yaml",
];

/// A file under `dir` that is none of natscc's outputs (by name), if there is one.
fn foreign_file(dir: &Path, files: &BTreeMap<String, String>) -> Option<std::path::PathBuf> {
    let ours = |name: &str| OUTPUT_NAMES.contains(&name) || files.keys().any(|k| k.rsplit('/').next() == Some(name));
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { return Some(d) };
        for e in entries.flatten() {
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                _ if ours(&e.file_name().to_string_lossy()) => {}
                _ => return Some(path),
            }
        }
    }
    None
}

/// Writes a tree of files so that `dir` holds either its old contents or all new files,
/// never a mix: the tree is staged beside `dir` and swapped in by renames. A folder that
/// already holds exactly these files is left alone, so re-running a compile (a pre-commit
/// hook, a CI step) touches nothing and keeps modification times.
pub fn write_atomic(dir: &Path, files: &BTreeMap<String, String>) -> std::io::Result<()> {
    if dir.is_dir() && holds_exactly(dir, files) {
        return Ok(());
    }
    // Renaming a file out of the way would replace the user's file with a folder.
    if std::fs::symlink_metadata(dir).is_ok() && !dir.is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it exists and is not a folder; name a folder (new or existing) with -o"));
    }
    // Replacing a folder deletes what it held: only a folder of natscc outputs may go, never
    // one holding other files (`-o envs` next to the values, `-o ~` by a slip).
    if dir.is_dir()
        && let Some(foreign) = foreign_file(dir, files)
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("it holds {}, which natscc did not write; replacing the folder would delete it: name a new folder or one natscc wrote", foreign.display()),
        ));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    // Folders created for the output are removed again if writing fails.
    let created: Vec<std::path::PathBuf> = parent.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).map(Path::to_path_buf).collect();
    let result = std::fs::create_dir_all(&parent).and_then(|()| write_staged(dir, &parent, files));
    if result.is_err() {
        for c in &created {
            let _ = std::fs::remove_dir(c);
        }
    }
    result
}

fn write_staged(dir: &Path, parent: &Path, files: &BTreeMap<String, String>) -> std::io::Result<()> {
    let base = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let stage = parent.join(format!(".{base}.natscc-stage-{}", std::process::id()));
    let old = parent.join(format!(".{base}.natscc-old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&stage);
    let result = (|| {
        for (name, text) in files {
            let path = stage.join(name);
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p)?;
            }
            std::fs::write(&path, text)?;
        }
        if dir.exists() {
            std::fs::rename(dir, &old)?;
            if let Err(e) = std::fs::rename(&stage, dir) {
                let _ = std::fs::rename(&old, dir);
                return Err(e);
            }
            // The new folder is in place: a leftover old copy is not a failed write.
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&stage, dir)?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&stage);
    }
    result
}
