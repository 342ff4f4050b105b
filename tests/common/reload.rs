//! A real nats-server started from pod-style volume folders, changed as production changes it
//! (`natscc::diff::apply`: the kubelet's `..data` swap, then SIGHUP), and its own verdict read
//! from its log. The process is killed when the handle drops: a test leaves nothing running.

use natscc::diff::apply;
use natscc::diff::reload::{Verdict, verdict_in_log};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub dir: PathBuf,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Volumes: folder name (under the pod folder) -> files in it.
pub type Volumes = Vec<(String, Vec<(String, String)>)>;

pub fn write_volumes(dir: &Path, volumes: &Volumes) {
    for (name, files) in volumes {
        apply::write_volume(&dir.join(name), files).expect("volume written");
    }
}

impl Server {
    /// Starts `bin` on `dir/nats-config/nats.conf` with `env`; waits until it is ready.
    /// `Err` carries its log when it exits or does not get ready within 20 s.
    pub fn start(bin: &Path, dir: &Path, env: &[(String, String)]) -> Result<Server, String> {
        let log = dir.join("server.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin)
            .args(["-c", "nats-config/nats.conf"])
            .current_dir(dir)
            .env_clear()
            .envs(env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("nats-server runs");
        let mut s = Server {
            child,
            dir: dir.to_path_buf(),
            log,
        };
        let started = Instant::now();
        loop {
            let text = s.log_text();
            if text.contains("Server is ready") {
                return Ok(s);
            }
            if s.child.try_wait().unwrap().is_some() || started.elapsed() > Duration::from_secs(20)
            {
                return Err(text);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Replaces the volumes' files as the kubelet does, sends SIGHUP as the reloader does and
    /// returns the server's verdict (its log; a panic or an exit is a crash).
    pub fn reload(&mut self, volumes: &Volumes) -> Verdict {
        let from = self.log_text().len();
        write_volumes(&self.dir, volumes);
        apply::sighup(self.child.id()).expect("SIGHUP sent");
        let started = Instant::now();
        loop {
            let text = self.log_text();
            if let Some(v) = verdict_in_log(&text, from) {
                if v == Verdict::Crash {
                    let _ = self.child.wait();
                }
                return v;
            }
            if self.child.try_wait().unwrap().is_some() {
                return Verdict::Crash;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no reload verdict within 20 s:\n{}",
                &text[from..]
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
