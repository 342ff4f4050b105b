//! Applying a change as production applies it: a ConfigMap volume's files replaced as the
//! kubelet replaces them (the new files in a fresh hidden folder, then one `rename` of the
//! `..data` link onto it: a reader sees all old or all new files), and SIGHUP as the chart's
//! config reloader sends it. `natscc up --watch` and the reload tests use these, so both do
//! what the cluster does.

use std::io;
use std::path::Path;

/// Writes `files` (name -> text) into the volume folder `dir` as the kubelet's atomic writer
/// does: `dir/..vN/<name>` holds the texts, `dir/..data` links to `..vN`, and `dir/<name>`
/// links to `..data/<name>`. The previous `..vN` folder is removed after the swap; a name no
/// longer in `files` loses its link, as a key removed from the ConfigMap does.
pub fn write_volume(dir: &Path, files: &[(String, String)]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let data = dir.join("..data");
    let old = std::fs::read_link(&data).ok();
    let next = old
        .as_ref()
        .and_then(|o| o.to_str()?.strip_prefix("..v")?.parse::<u64>().ok())
        .map_or(1, |n| n + 1);
    let version = format!("..v{next}");
    let vdir = dir.join(&version);
    let _ = std::fs::remove_dir_all(&vdir);
    std::fs::create_dir(&vdir)?;
    for (name, text) in files {
        std::fs::write(vdir.join(name), text)?;
    }
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&version, &tmp)?;
    std::fs::rename(&tmp, &data)?;
    for (name, _) in files {
        let link = dir.join(name);
        match std::fs::symlink_metadata(&link) {
            Ok(m) if m.file_type().is_symlink() => continue,
            // A plain file (a folder first written without the kubelet's layout) becomes a link.
            Ok(_) => std::fs::remove_file(&link)?,
            Err(_) => {}
        }
        std::os::unix::fs::symlink(Path::new("..data").join(name), &link)?;
    }
    // Links whose key is gone, then the old version folder.
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with("..") && !files.iter().any(|(n, _)| *n == name) {
            std::fs::remove_file(e.path())?;
        }
    }
    if let Some(o) = old.filter(|o| *o != Path::new(&version)) {
        let _ = std::fs::remove_dir_all(dir.join(o));
    }
    Ok(())
}

/// Sends SIGHUP to the process `pid`, as the reloader does once it sees a watched file change.
pub fn sighup(pid: u32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::other("pid out of range"))?;
    // SAFETY: kill(2) with a plain pid and signal number has no memory effects.
    if unsafe { libc::kill(pid, libc::SIGHUP) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
