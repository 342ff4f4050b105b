//! `natscc up` leaves nothing behind however it ends: after SIGINT, SIGTERM, SIGHUP or SIGKILL
//! (sent once it printed `ready`), no nats-server or auth callout it started (12 servers and 3
//! callouts on the example fleet) remains and its temporary folder is
//! gone, within a few seconds. SIGKILL runs none of natscc's code: the servers die by
//! PR_SET_PDEATHSIG, the folder goes by its watchdog; and if the watchdog died too, the next
//! `natscc up` removes the orphaned folder.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Ports are picked free a moment before the servers bind them: one fleet at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn fleet() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet/fleet.yaml")
}

/// Live processes (zombies have neither) whose working folder lies in `dir` or whose command
/// line names it: the servers (they run in their cluster's folder) and the watchdog.
fn processes_in(dir: &Path) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    let needle = dir.display().to_string();
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let in_dir = std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|cwd| cwd.starts_with(dir));
            (in_dir || cmdline.contains(&needle)).then_some((pid, cmdline))
        })
        .collect()
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) on a pid this test started (or found under its own folder).
    unsafe { libc::kill(pid as libc::pid_t, sig) };
}

/// A `natscc up` of the example fleet with its own TMPDIR. Dropping it (also when a test fails)
/// kills natscc, everything still running under its folder, and removes the folder.
struct Up {
    child: Child,
    /// Its TMPDIR: its own, or another run's (`start_in`).
    tmpdir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    dir: PathBuf,
    /// What ran under the folder at `ready` (servers, watchdog): reaped on drop.
    known: Vec<u32>,
}

/// Makes this test process the subreaper of what natscc leaves orphaned (a SIGKILLed natscc's
/// servers and watchdog), so it can reap them: where PID 1 reaps nothing (a container), they
/// would stay zombies.
fn adopt_orphans() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: prctl with plain integer arguments.
    ONCE.call_once(|| unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0);
    });
}

impl Up {
    /// Starts it and waits (30 s at most) for `ready`.
    fn start() -> Up {
        let tmp = tempfile::tempdir().unwrap();
        let mut up = Up::start_in(tmp.path());
        up._tmp = Some(tmp);
        up
    }

    fn start_in(tmpdir: &Path) -> Up {
        adopt_orphans();
        let mut child = Command::new(env!("CARGO_BIN_EXE_natscc"))
            .arg("up")
            .arg(fleet())
            .env("NATS_SERVER_BIN", common::nats_server_path())
            .env("TMPDIR", tmpdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            BufReader::new(out)
                .lines()
                .map_while(Result::ok)
                .for_each(|l| drop(tx.send(l)))
        });
        std::thread::spawn(move || {
            BufReader::new(err)
                .lines()
                .map_while(Result::ok)
                .for_each(|l| drop(tx2.send(l)))
        });
        // Once built, the guard cleans up whatever happens next.
        let mut up = Up {
            child,
            tmpdir: tmpdir.to_path_buf(),
            _tmp: None,
            dir: PathBuf::new(),
            known: vec![],
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut said = String::new();
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("natscc up never printed ready:\n{said}"));
            said.push_str(&line);
            said.push('\n');
            if let Some(d) = line.split(" auth callouts in ").nth(1) {
                up.dir = PathBuf::from(d);
            }
            if line == "ready" {
                break;
            }
        }
        assert!(
            up.dir.starts_with(&up.tmpdir),
            "natscc up names its folder under TMPDIR:\n{said}"
        );
        assert!(up.dir.is_dir());
        up.known = processes_in(&up.dir)
            .into_iter()
            .map(|(pid, _)| pid)
            .collect();
        let running = processes_in(&up.dir);
        let servers = running
            .iter()
            .filter(|(_, cmd)| cmd.contains("nats-server"))
            .count();
        // 3 clusters x (3 nats replicas + nats-mtls), and an auth callout per cluster.
        assert_eq!(
            servers,
            12,
            "every pod's server runs in {}",
            up.dir.display()
        );
        let callouts = running
            .iter()
            .filter(|(_, cmd)| cmd.contains("auth-callout"))
            .count();
        assert_eq!(callouts, 3, "an auth callout per cluster: {running:?}");
        up
    }

    /// Sends `sig` to natscc and waits (10 s at most) for it to end.
    fn end_with(&mut self, sig: libc::c_int) -> ExitStatus {
        signal(self.child.id(), sig);
        let t = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "natscc up did not end after signal {sig}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (5 s at most) until nothing runs under the folder and the folder is gone.
    fn assert_nothing_left(&self, what: &str) {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5)
            && (!processes_in(&self.dir).is_empty() || self.dir.exists())
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        let left = processes_in(&self.dir);
        assert!(left.is_empty(), "{what}: still running 5 s later: {left:?}");
        assert!(
            !self.dir.exists(),
            "{what}: {} is left behind",
            self.dir.display()
        );
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.dir.as_os_str().is_empty() {
            return;
        }
        for _ in 0..50 {
            let left = processes_in(&self.dir);
            if left.is_empty() {
                break;
            }
            left.iter().for_each(|(pid, _)| signal(*pid, libc::SIGKILL));
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        // Orphans came to this process (adopt_orphans): reap them, however long they take to
        // die (up to 2 s). ECHILD: natscc reaped it, or it was never orphaned.
        for pid in &self.known {
            let t = Instant::now();
            // SAFETY: waitpid on one pid, no status wanted.
            while unsafe { libc::waitpid(*pid as libc::pid_t, std::ptr::null_mut(), libc::WNOHANG) }
                == 0
                && t.elapsed() < Duration::from_secs(2)
            {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

fn ends_cleanly_on(sig: libc::c_int, name: &str) {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut up = Up::start();
    let status = up.end_with(sig);
    assert!(
        status.success(),
        "natscc up exited with {status} after {name}"
    );
    up.assert_nothing_left(name);
}

#[test]
fn sigint_stops_every_server_and_removes_the_folder() {
    ends_cleanly_on(libc::SIGINT, "SIGINT");
}

#[test]
fn sigterm_stops_every_server_and_removes_the_folder() {
    ends_cleanly_on(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sighup_stops_every_server_and_removes_the_folder() {
    ends_cleanly_on(libc::SIGHUP, "SIGHUP");
}

/// SIGKILL: natscc runs no code, yet the kernel kills the servers (PR_SET_PDEATHSIG) and the
/// watchdog removes the folder.
#[test]
fn sigkill_leaves_no_server_and_no_folder() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut up = Up::start();
    let status = up.end_with(libc::SIGKILL);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );
    up.assert_nothing_left("SIGKILL");
}

/// SIGKILL to natscc and its watchdog at once (as when a whole cgroup is killed): the servers
/// still die with natscc, and the folder, left behind, is removed by the next `natscc up`
/// (here one that fails to start its servers right after: the sweep runs first), which leaves
/// a live run's folder alone.
#[test]
fn the_next_run_removes_a_folder_whose_owner_and_watchdog_were_killed() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let mut up = Up::start();
    let live = Up::start_in(&up.tmpdir);
    let watchdogs: Vec<u32> = processes_in(&up.dir)
        .into_iter()
        .filter(|(_, cmd)| cmd.contains("natscc-up-watchdog"))
        .map(|(pid, _)| pid)
        .collect();
    assert_eq!(
        watchdogs.len(),
        1,
        "one watchdog per folder: {:?}",
        processes_in(&up.dir)
    );
    signal(watchdogs[0], libc::SIGKILL);
    up.end_with(libc::SIGKILL);
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) && !processes_in(&up.dir).is_empty() {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        processes_in(&up.dir).is_empty(),
        "servers outlived natscc: {:?}",
        processes_in(&up.dir)
    );
    assert!(
        up.dir.exists(),
        "nothing was left to sweep: the watchdog was not killed in time"
    );
    // The next run, in the same TMPDIR as both folders.
    let next = Command::new(env!("CARGO_BIN_EXE_natscc"))
        .arg("up")
        .arg(fleet())
        .env("NATS_SERVER_BIN", "/bin/false")
        .env("TMPDIR", &up.tmpdir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        next.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&next.stderr)
    );
    assert!(
        !up.dir.exists(),
        "the next run left the orphaned {} behind",
        up.dir.display()
    );
    assert!(
        live.dir.exists(),
        "the next run removed a live run's folder"
    );
    let left: Vec<_> = std::fs::read_dir(&up.tmpdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| *p != live.dir)
        .collect();
    assert!(left.is_empty(), "the failed run left {left:?}");
    drop(live);
}
