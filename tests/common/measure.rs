//! How much one natscc process cost: the one reader of a child's CPU time and peak memory,
//! shared by the scale tests and the benchmark (which includes this file by path).
//!
//! Peak memory is the child's own `VmHWM`, read from /proc while it runs: `wait4`'s
//! `ru_maxrss` would also count the parent's memory, which the child holds until its exec.
//! CPU time is the kernel's count from `wait4`, which also reaps the child.
#![allow(dead_code)] // each includer reads its own fields

use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// What one finished process cost.
pub struct Measured {
    pub status: ExitStatus,
    /// From spawn to exit.
    pub wall: Duration,
    /// User plus system CPU time.
    pub cpu: Duration,
    /// The largest resident memory seen (KiB).
    pub peak_kib: i64,
}

fn vm_hwm_kib(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `command` to its end, looking at its memory every 2 ms; a process still running after
/// `limit` is killed and the call panics (an input that never ends would hang the caller).
// The child is reaped by `wait4`, which clippy does not see.
#[allow(clippy::zombie_processes)]
pub fn measure(mut command: Command, limit: Duration) -> Measured {
    use std::os::unix::process::ExitStatusExt;
    let start = Instant::now();
    let mut child = command.spawn().expect("the process starts");
    let pid = child.id();
    let mut peak_kib = 0;
    loop {
        if let Some(kib) = vm_hwm_kib(pid) {
            peak_kib = peak_kib.max(kib);
        }
        let mut status = 0;
        // SAFETY: wait4 on our own child into zeroed, owned buffers.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid as libc::pid_t {
            let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
            return Measured {
                status: ExitStatus::from_raw(status),
                wall: start.elapsed(),
                cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
                peak_kib,
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
