//! What makes `natscc up` leave nothing behind however it ends: its private temporary folder
//! (locked, watched), the sweep of folders whose owner died, SIGHUP handled as SIGTERM, and
//! children (servers, auth callouts) that the kernel kills when natscc dies.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A fresh private folder under the system temporary folder, removed however natscc ends.
///
/// The normal ways out (`Running::stop`, Ctrl-C, SIGTERM, SIGHUP) remove it in process. A
/// SIGKILL runs no code of ours, so two things outside the process cover it:
/// - a watchdog (`sh`, in its own process group) reads a pipe only this process holds open; the
///   kernel closes it when natscc dies, however, and the watchdog then removes the folder;
/// - the folder holds a lock (`flock`) for as long as its owner lives; each new `natscc up`
///   first removes every `natscc-up-*` folder whose lock is free (its owner is gone), in case
///   the watchdog died with natscc (a killed cgroup, a reboot without a tmpfs /tmp).
pub fn temp_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    stop_on_hangup();
    remove_orphans();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!("natscc-up-{}-{nanos}", std::process::id());
    // Locked before it gets its name, so a sweep never sees it without an owner.
    let staging = std::env::temp_dir().join(format!(".{name}.new"));
    std::fs::create_dir(&staging)?;
    std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o700))?;
    let dir = std::env::temp_dir().join(name);
    let lock = std::fs::File::create(staging.join(LOCK_FILE))
        .and_then(|f| lock_now(&f).map(|_| f))
        .and_then(|f| std::fs::rename(&staging, &dir).map(|_| f));
    let lock = match lock {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let watchdog = watchdog(&dir);
    owned().push(Owned {
        dir: dir.clone(),
        _lock: lock,
        watchdog,
    });
    Ok(dir)
}

/// The file whose `flock` says a `natscc up` folder's owner is alive.
const LOCK_FILE: &str = ".owner.lock";

/// The folders this process made with `temp_dir`: their lock and watchdog.
struct Owned {
    dir: PathBuf,
    _lock: std::fs::File,
    watchdog: Option<(std::io::PipeWriter, Child)>,
}

fn owned() -> std::sync::MutexGuard<'static, Vec<Owned>> {
    static OWNED: std::sync::Mutex<Vec<Owned>> = std::sync::Mutex::new(Vec::new());
    OWNED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes `f`'s exclusive lock without waiting: Ok(false) when another open file holds it.
fn lock_now(f: &std::fs::File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this File owns.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Removes the `natscc-up-*` folders of runs that are gone (their lock is free). Folders
/// without a lock file (another user's, an older natscc's) are left alone.
fn remove_orphans() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        if !e
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with("natscc-up-"))
        {
            continue;
        }
        let Ok(lock) = std::fs::File::open(e.path().join(LOCK_FILE)) else {
            continue;
        };
        if lock_now(&lock).unwrap_or(false) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A `sh` that waits for EOF on a pipe whose only writer is this process, then removes `dir`
/// (retrying while the servers, killed at the same moment, finish dying). None if it cannot
/// start: the in-process cleanup and the next run's sweep remain.
fn watchdog(dir: &Path) -> Option<(std::io::PipeWriter, Child)> {
    use std::os::unix::process::CommandExt;
    // The pipe's ends are close-on-exec: no server inherits the writer, so EOF means natscc died.
    let (reader, writer) = std::io::pipe().ok()?;
    const SCRIPT: &str = concat!(
        r#"trap '' HUP INT; read -r _; i=0; "#,
        r#"while [ -e "$1" ] && [ $i -lt 50 ]; do rm -rf -- "$1" 2>/dev/null || sleep 0.1; "#,
        r#"i=$((i+1)); done"#,
    );
    let child = Command::new("/bin/sh")
        .args(["-c", SCRIPT, "natscc-up-watchdog"])
        .arg(dir)
        .current_dir("/")
        .stdin(reader)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C or a kill of natscc's group leaves it to clean up.
        .process_group(0)
        .spawn()
        .ok()?;
    Some((writer, child))
}

/// Forgets a folder `temp_dir` made (already removed): its watchdog is told and waited for.
pub fn release(dir: &Path) {
    let gone: Vec<Owned> = {
        let mut owned = owned();
        let (gone, keep) = std::mem::take(&mut *owned)
            .into_iter()
            .partition(|o| o.dir == dir);
        *owned = keep;
        gone
    };
    for o in gone {
        if let Some((writer, mut child)) = o.watchdog {
            drop(writer);
            let _ = child.wait();
        }
    }
}

/// SIGHUP (a closed terminal, a hangup) stops `natscc up` as SIGTERM does: the handler raises
/// SIGTERM, which `natscc up` handles (where SIGTERM is not handled, both kill the process).
pub fn stop_on_hangup() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the action only calls raise(3), which is async-signal-safe.
        let _ = unsafe {
            signal_hook::low_level::register(signal_hook::consts::SIGHUP, || {
                libc::raise(libc::SIGTERM);
            })
        };
    });
}

/// The child gets SIGKILL when the thread that started it dies, however it dies (even by
/// SIGKILL, which runs none of natscc's cleanup). Linux only; elsewhere only the in-process
/// stop covers the servers.
#[cfg(target_os = "linux")]
pub fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl, getppid and raise are async-signal-safe and allocate nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // natscc died between fork and prctl: the signal will never come, so go now.
            if libc::getppid() != parent {
                libc::raise(libc::SIGKILL);
            }
            Ok(())
        })
    };
}

#[cfg(not(target_os = "linux"))]
pub fn die_with_parent(_: &mut Command) {}
