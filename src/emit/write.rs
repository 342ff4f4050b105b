//! Writing an output folder atomically: the new tree is staged beside `-o` and exchanged with
//! it in one `renameat2(RENAME_EXCHANGE)`, so `-o` holds its old contents or all new files,
//! never a mix. One compile writes its files at once ([`write_atomic`]); a fleet streams each
//! cluster's files into a [`Stage`] as the cluster is ready and exchanges once at the end, so
//! the fleet's text is never all in memory.

use super::Files;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The record natscc keeps of what it wrote: `sha256sum` lines (hash, two spaces, path
/// relative to the folder holding the record), so `sha256sum -c .natscc-manifest` checks it.
/// It is what lets a later compile tell natscc's own files (safe to replace) from the user's.
pub const MANIFEST: &str = ".natscc-manifest";

const MANIFEST_HEADER: &str = "# natscc: the files natscc wrote here (SHA-256). A later compile \
                               replaces this folder only while they are unchanged.\n";

type Digest = [u8; 32];

/// Every file a new folder holds (manifests included): path -> SHA-256 of its contents. What
/// the checks against the old folder compare with, without keeping the text.
type Record = BTreeMap<String, Digest>;

/// SHA-256. ring's (already here for the auth callout) uses the CPU's SHA instructions:
/// hashing the outputs twice per compile is then a rounding error.
fn sha256(data: &[u8]) -> Digest {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

fn hex(d: &Digest) -> String {
    use std::fmt::Write;
    let mut hex = String::with_capacity(64);
    for b in d {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// SHA-256 as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

fn is_manifest(path: &str) -> bool {
    path.rsplit('/').next() == Some(MANIFEST)
}

/// The folders that get a manifest: the topmost ones holding a file directly. One compile
/// gets one at the top of `-o`; a fleet (only cluster folders at the top) one per cluster,
/// so each cluster's folder is exactly what compiling that cluster alone writes. A folder is
/// not topmost when one of its ancestors (found by lookup, never by scanning) holds a file.
fn manifest_roots(files: &Files) -> Vec<String> {
    let parents: BTreeSet<&str> = files
        .keys()
        .map(|k| k.rsplit_once('/').map_or("", |(p, _)| p))
        .collect();
    if parents.contains("") {
        return vec![String::new()];
    }
    parents
        .iter()
        .filter(|p| !p.match_indices('/').any(|(i, _)| parents.contains(&p[..i])))
        .map(|p| p.to_string())
        .collect()
}

/// The manifests recording `files` (path, text), and the record of everything written.
fn manifests(files: &Files) -> (Vec<(String, String)>, Record) {
    let mut record: Record = files
        .iter()
        .map(|(name, body)| (name.clone(), sha256(body.as_bytes())))
        .collect();
    let mut out = vec![];
    for root in manifest_roots(files) {
        let prefix = if root.is_empty() {
            String::new()
        } else {
            format!("{root}/")
        };
        let mut text = MANIFEST_HEADER.to_string();
        for (name, digest) in record
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            text.push_str(&hex(digest));
            text.push_str("  ");
            text.push_str(&name[prefix.len()..]);
            text.push('\n');
        }
        out.push((format!("{prefix}{MANIFEST}"), text));
    }
    for (name, text) in &out {
        record.insert(name.clone(), sha256(text.as_bytes()));
    }
    (out, record)
}

/// A manifest's entries (path -> hash). Lenient: a line cut short by a killed write is skipped.
fn read_manifest(path: &Path) -> Option<BTreeMap<String, String>> {
    let text = String::from_utf8(crate::input::read(path).ok()?).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once("  "))
            .filter(|(h, p)| {
                h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) && !p.is_empty()
            })
            .map(|(h, p)| (p.to_string(), h.to_string()))
            .collect(),
    )
}

/// Whether `dir` already holds exactly the recorded files, byte for byte, and nothing else.
fn holds_exactly(dir: &Path, record: &Record) -> bool {
    fn count_files(dir: &Path) -> Option<usize> {
        let mut n = 0;
        for entry in std::fs::read_dir(dir).ok()? {
            let entry = entry.ok()?;
            let ty = entry.file_type().ok()?;
            n += if ty.is_dir() {
                count_files(&entry.path())?
            } else {
                1
            };
        }
        Some(n)
    }
    count_files(dir) == Some(record.len())
        && record
            .iter()
            .all(|(name, d)| std::fs::read(dir.join(name)).is_ok_and(|old| sha256(&old) == *d))
}

/// Why replacing `dir` could lose something of the user's, if it could: the first entry that
/// is not a file natscc wrote there, unchanged since (by its manifest), or one it is about to
/// write again byte for byte (an unchanged folder from a natscc that kept no manifest).
fn foreign(dir: &Path, new: &Record) -> Option<String> {
    fn walk(
        top: &Path,
        dir: &Path,
        rel: &str,
        mut record: Option<(String, BTreeMap<String, String>)>,
        new: &Record,
    ) -> Option<String> {
        let path = |name: &str| top.join(rel).join(name).display().to_string();
        if record.is_none() && dir.join(MANIFEST).is_file() {
            record = Some((
                rel.to_string(),
                read_manifest(&dir.join(MANIFEST)).unwrap_or_default(),
            ));
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Some(format!(
                "it holds {}, which natscc cannot read",
                dir.display()
            ));
        };
        let mut empty = true;
        for e in entries {
            empty = false;
            let Ok(e) = e else {
                return Some(format!(
                    "it holds {}, which natscc cannot read",
                    dir.display()
                ));
            };
            let name = e.file_name().to_string_lossy().into_owned();
            let sub = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            match e.file_type() {
                Ok(t) if t.is_dir() => {
                    if let Some(why) = walk(top, &e.path(), &sub, record.clone(), new) {
                        return Some(why);
                    }
                }
                Ok(t) if t.is_file() => {
                    let listed = record.as_ref().and_then(|(root, m)| {
                        if name == MANIFEST
                            && sub == format!("{root}/{MANIFEST}").trim_start_matches('/')
                        {
                            return Some(true);
                        }
                        let key = if root.is_empty() {
                            sub.as_str()
                        } else {
                            sub.strip_prefix(&format!("{root}/"))?
                        };
                        Some(
                            m.get(key)?
                                == &std::fs::read(e.path())
                                    .map(|b| sha256_hex(&b))
                                    .unwrap_or_default(),
                        )
                    });
                    // One of the new files (not a manifest), the same byte for byte.
                    let again = || {
                        !is_manifest(&sub)
                            && new.get(&sub).is_some_and(|d| {
                                std::fs::read(e.path()).is_ok_and(|b| sha256(&b) == *d)
                            })
                    };
                    match listed {
                        Some(true) => {}
                        _ if again() => {}
                        Some(false) => {
                            return Some(format!(
                                "{} was changed since natscc wrote it; replacing the folder would \
                                 lose the change",
                                path(&name)
                            ));
                        }
                        None => {
                            return Some(format!(
                                "it holds {}, which natscc did not write; replacing the folder \
                                 would delete it",
                                path(&name)
                            ));
                        }
                    }
                }
                _ => {
                    return Some(format!(
                        "it holds {}, which is a link or special file natscc did not write",
                        path(&name)
                    ));
                }
            }
        }
        // natscc never writes an empty folder: one inside the output is the user's.
        (empty && !rel.is_empty()).then(|| {
            format!(
                "it holds the empty folder {}, which natscc did not make",
                dir.display()
            )
        })
    }
    walk(dir, dir, "", None, new)
}

/// Whether a leftover folder holds only natscc's own files: each is a manifest or listed in one
/// (by path; a kill may have cut a file short, so contents are not required to match).
fn only_ours(dir: &Path) -> bool {
    fn walk(dir: &Path, rel: &str, mut record: Option<(String, BTreeMap<String, String>)>) -> bool {
        if record.is_none()
            && let Some(m) = read_manifest(&dir.join(MANIFEST))
        {
            record = Some((rel.to_string(), m));
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.into_iter().all(|e| {
            let Ok(e) = e else { return false };
            let name = e.file_name().to_string_lossy().into_owned();
            let sub = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            match e.file_type() {
                Ok(t) if t.is_dir() => walk(&e.path(), &sub, record.clone()),
                Ok(t) if t.is_file() => {
                    name == MANIFEST
                        || record.as_ref().is_some_and(|(root, m)| {
                            let key = if root.is_empty() {
                                Some(sub.as_str())
                            } else {
                                sub.strip_prefix(&format!("{root}/"))
                            };
                            key.is_some_and(|k| m.contains_key(k))
                        })
                }
                _ => false,
            }
        })
    }
    walk(dir, "", None)
}

/// Whether process `pid` is running (its staging folder may still be in use).
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    unsafe {
        libc::kill(pid, 0) == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
}

/// Removes the staging and old folders of `dir` that killed natscc runs left beside it: only
/// ones named as natscc names them, whose process is gone, and holding nothing but its files.
fn remove_leftovers(parent: &Path, base: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = [
            format!(".{base}.natscc-stage-"),
            format!(".{base}.natscc-old-"),
        ]
        .iter()
        .find_map(|p| name.strip_prefix(p.as_str())) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && (pid == std::process::id() || !alive(pid)) && only_ours(&e.path()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn refuse(why: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::AlreadyExists, why)
}

/// The output folder `-o` names, checked: what can be replaced, and where its stage goes.
struct Target {
    dir: PathBuf,
    parent: PathBuf,
    base: String,
    exists: bool,
}

fn target(dir: &Path) -> std::io::Result<Target> {
    // Without its trailing slash, so that `-o link/` is seen as the link it is.
    let dir = dir.components().collect::<PathBuf>();
    let meta = std::fs::symlink_metadata(&dir);
    // Replacing a link would swap a real folder in for it; writing through it could not be atomic.
    if meta.as_ref().is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(refuse(
            "it is a symbolic link, which natscc will not replace: give -o the folder it points \
             to, or a new folder"
                .into(),
        ));
    }
    // Renaming a file out of the way would replace the user's file with a folder.
    if meta.as_ref().is_ok_and(|m| !m.is_dir()) {
        return Err(refuse(
            "it exists and is not a folder; name a folder (new or existing) with -o".into(),
        ));
    }
    let Some(base) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Err(refuse(
            "it names no folder natscc can replace (`.`, `..` or `/`); name the output folder \
             itself"
                .into(),
        ));
    };
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(Target {
        exists: meta.is_ok(),
        dir,
        parent,
        base,
    })
}

/// Why the old folder must stay, if it must: `Ok(true)` when it already holds exactly the new
/// files (nothing to do), `Err` when replacing it could lose something of the user's.
fn compare(t: &Target, record: &Record) -> std::io::Result<bool> {
    if t.exists && holds_exactly(&t.dir, record) {
        remove_leftovers(&t.parent, &t.base);
        return Ok(true);
    }
    if t.exists
        && let Some(why) = foreign(&t.dir, record)
    {
        return Err(refuse(format!(
            "{why}: move it out of the folder (or delete the folder), or name a new folder with -o"
        )));
    }
    Ok(false)
}

/// Writes a tree of files so that `dir` holds either its old contents or all new files, never
/// a mix and never nothing, even if natscc is killed. A `.natscc-manifest` records what was
/// written; a folder is replaced only while everything in it is natscc's, unchanged. A folder
/// that already holds exactly these files is left alone, so re-running a compile (a
/// pre-commit hook, a CI step) touches nothing and keeps modification times.
pub fn write_atomic(dir: &Path, files: &BTreeMap<String, String>) -> std::io::Result<()> {
    let t = target(dir)?;
    let (manifests, record) = manifests(files);
    // Checked before staging: an unchanged folder costs no new inode.
    if compare(&t, &record)? {
        return Ok(());
    }
    let stage = Stage::begin(t)?;
    stage.write_files(&manifests, files)?;
    stage.swap()
}

/// Exchanges two paths in one step (Linux `renameat2(RENAME_EXCHANGE)`); `Unsupported` where
/// the kernel or file system cannot.
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            std::ffi::CString::new(p.as_os_str().as_bytes())
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
        };
        let (a, b) = (c(a)?, c(b)?);
        // SAFETY: both are valid NUL-terminated paths for the duration of the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP) => {
                Err(std::io::ErrorKind::Unsupported.into())
            }
            _ => Err(e),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

/// A new output folder being written beside `-o` (`.<name>.natscc-stage-<pid>`). Trees are
/// added to it (from several threads at once), then [`Stage::commit`] exchanges it with `-o`;
/// dropped uncommitted, it is removed with the folders made for it, and `-o` is untouched.
pub struct Stage {
    target: Target,
    path: PathBuf,
    /// Folders created for `-o`'s parent, removed again if the write fails.
    created: Vec<PathBuf>,
    record: Mutex<Record>,
    done: bool,
}

impl Stage {
    /// Checks `-o` and starts its stage. Nothing is compared with the old folder yet: that is
    /// [`Stage::commit`]'s, once every file is known.
    pub fn new(dir: &Path) -> std::io::Result<Stage> {
        Stage::begin(target(dir)?)
    }

    fn begin(target: Target) -> std::io::Result<Stage> {
        remove_leftovers(&target.parent, &target.base);
        let path = target.parent.join(format!(
            ".{}.natscc-stage-{}",
            target.base,
            std::process::id()
        ));
        let created: Vec<PathBuf> = target
            .parent
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
            .map(Path::to_path_buf)
            .collect();
        let mut stage = Stage {
            target,
            path,
            created,
            record: Mutex::new(Record::new()),
            // Nothing of ours to remove until the stage folder exists.
            done: true,
        };
        std::fs::create_dir_all(&stage.target.parent)?;
        // A folder already at the stage's name that `remove_leftovers` could not prove
        // natscc's makes this fail rather than be deleted.
        std::fs::create_dir(&stage.path)?;
        stage.done = false;
        Ok(stage)
    }

    /// Adds `files` under `prefix` (a cluster's folder; "" for the top) with their manifests.
    pub fn add(&self, prefix: &str, files: &Files) -> std::io::Result<()> {
        let (manifests, record) = manifests(files);
        self.write_in(prefix, &manifests, files)?;
        let mut all = self.record.lock().unwrap_or_else(|e| e.into_inner());
        let join = |name: String| match prefix {
            "" => name,
            p => format!("{p}/{name}"),
        };
        all.extend(record.into_iter().map(|(name, d)| (join(name), d)));
        Ok(())
    }

    fn write_files(&self, manifests: &[(String, String)], files: &Files) -> std::io::Result<()> {
        self.write_in("", manifests, files)
    }

    fn write_in(
        &self,
        prefix: &str,
        manifests: &[(String, String)],
        files: &Files,
    ) -> std::io::Result<()> {
        let top = self.path.join(prefix);
        // Each folder once: on a busy disk every file-system call counts.
        let mut made: HashSet<PathBuf> = HashSet::from([self.path.clone()]);
        // Manifests first: a stage cut short by a kill then proves itself natscc's to the
        // next run, which removes it.
        let all = manifests.iter().map(|(n, t)| (n, t)).chain(files.iter());
        for (name, text) in all {
            let path = top.join(name);
            if let Some(p) = path.parent()
                && !made.contains(p)
            {
                std::fs::create_dir_all(p)?;
                made.insert(p.to_path_buf());
            }
            std::fs::write(&path, text)?;
        }
        Ok(())
    }

    /// Makes `-o` the new folder, unless it already holds exactly these files (then it is left
    /// untouched) or holds something of the user's (refused, `-o` untouched).
    pub fn commit(self) -> std::io::Result<()> {
        // `-o` is looked at again: it may have been made while the stage was written.
        let now = target(&self.target.dir)?;
        let record = std::mem::take(&mut *self.record.lock().unwrap_or_else(|e| e.into_inner()));
        if compare(&now, &record)? {
            return Ok(());
        }
        self.swap()
    }

    /// Renames the stage to `-o`, or exchanges the two and removes the old folder.
    fn swap(mut self) -> std::io::Result<()> {
        let (stage, dir) = (&self.path, &self.target.dir);
        let old = self.target.parent.join(format!(
            ".{}.natscc-old-{}",
            self.target.base,
            std::process::id()
        ));
        if std::fs::symlink_metadata(dir).is_err() {
            std::fs::rename(stage, dir)?;
            self.done = true;
            self.created.clear();
            return Ok(());
        }
        match exchange(stage, dir) {
            // The stage now holds the old folder, which `drop` removes; a leftover old copy is
            // not a failed write.
            Ok(()) => {}
            // No exchange here: two renames, with a moment in which `dir` is missing.
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                std::fs::rename(dir, &old)?;
                if let Err(e) = std::fs::rename(stage, dir) {
                    let _ = std::fs::rename(&old, dir);
                    return Err(e);
                }
                let _ = std::fs::remove_dir_all(&old);
                self.done = true;
            }
            Err(e) => return Err(e),
        }
        self.created.clear();
        Ok(())
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.path);
        }
        for c in &self.created {
            let _ = std::fs::remove_dir(c);
        }
    }
}
