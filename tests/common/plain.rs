//! Plain-chart configs on a real server: the ConfigMap a chart render (Helm's or natscc's)
//! carries, read as the pod reads it (nats.conf at /etc/nats-config, its includes from the
//! ConfigMap's other keys), moved onto loopback (free ports, temporary folders, generated
//! certificates, a value for every variable) and started. Used by tests/plain_corpus.rs and
//! tests/plain_differential.rs.
#![allow(dead_code)]

use crate::common::{free_port, make_certs, nats_server_path, server_test};
use natscc::conf::{Conf, ConfMap, Item};
use natscc::natsconf::{self, Found, Reader};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the pod mounts the ConfigMap.
const MOUNT: &str = "/etc/nats-config";

/// The ConfigMap's keys as the pod's files.
struct Data<'a>(&'a BTreeMap<String, String>);

impl Reader for Data<'_> {
    fn read(&self, path: &str) -> Result<Found, String> {
        let key = path
            .strip_prefix(MOUNT)
            .and_then(|k| k.strip_prefix('/'))
            .ok_or_else(|| format!("{path}: not in {MOUNT}"))?;
        self.0
            .get(key)
            .map(|t| Found::Text(path.to_string(), t.clone()))
            .ok_or_else(|| format!("open {path}: no such file or directory"))
    }
}

/// The config the pod's server reads from a ConfigMap's data, includes spliced in; the
/// server's own words when it could not read it.
pub fn pod_config(data: &BTreeMap<String, String>) -> Result<ConfMap, String> {
    let text = data.get("nats.conf").ok_or("no nats.conf")?;
    natsconf::parse_with(
        &format!("{MOUNT}/nats.conf"),
        text,
        &Data(data),
        natsconf::Options::default(),
    )
    .map(|p| p.root.to_conf())
    .map_err(|(e, _)| e.message)
}

/// What a start on loopback came to.
#[derive(Debug, PartialEq)]
pub enum Start {
    /// Up and serving ("Server is ready"), then stopped.
    Ready,
    /// `nats-server -t` refused the config, with what it said.
    Refused(String),
    /// -t passed, the server stopped at start, with what it said.
    Stopped(String),
}

impl Start {
    pub fn words(&self) -> &str {
        match self {
            Start::Ready => "",
            Start::Refused(w) | Start::Stopped(w) => w,
        }
    }
}

/// Every variable a config names, with a stand-in value.
fn variables(m: &ConfMap, out: &mut Vec<(String, String)>) {
    fn walk(c: &Conf, out: &mut Vec<(String, String)>) {
        match c {
            Conf::Var(v) if !out.iter().any(|(n, _)| n == v) => {
                out.push((v.clone(), format!("natscc-test-{}", v.to_ascii_lowercase())))
            }
            Conf::List(items) => items.iter().for_each(|i| walk(i, out)),
            Conf::Map(m) => variables(m, out),
            _ => {}
        }
    }
    for item in &m.items {
        if let Item::Kv(_, v) = item {
            walk(v, out);
        }
    }
}

/// The rewrites that move a pod's config onto this machine, key by key at every level:
/// listeners on free loopback ports, the pod's folders in `dir`, certificate files generated.
fn localise(m: &mut ConfMap, dir: &Path, certs: &mut Option<(String, String, String)>) {
    for item in &mut m.items {
        let Item::Kv(k, v) = item else { continue };
        let key = k.to_ascii_lowercase();
        match (key.as_str(), &mut *v) {
            ("port" | "http_port" | "https_port" | "prof_port", Conf::Int(p)) if *p > 0 => {
                *v = Conf::Int(free_port().into());
            }
            ("store_dir" | "pid_file" | "dir", Conf::Str(p)) => {
                let name = p.trim_start_matches('/').replace('/', "_");
                *v = Conf::Str(dir.join(name).display().to_string());
            }
            ("cert_file" | "key_file" | "ca_file", Conf::Str(_)) => {
                let (ca, cert, key_file) = certs.get_or_insert_with(|| {
                    let cd = dir.join("certs");
                    std::fs::create_dir_all(&cd).unwrap();
                    let (a, b, c) = make_certs(&cd);
                    let p = |f: &str| cd.join(f).display().to_string();
                    (p(a), p(b), p(c))
                });
                let file = match key.as_str() {
                    "cert_file" => cert.clone(),
                    "key_file" => key_file.clone(),
                    _ => ca.clone(),
                };
                *v = Conf::Str(file);
            }
            (_, Conf::Map(inner)) => localise(inner, dir, certs),
            (_, Conf::List(items)) => {
                for it in items {
                    if let Conf::Map(inner) = it {
                        localise(inner, dir, certs);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Moves a pod's config onto loopback in `dir` and starts it: `-t` first, then a real start
/// that must reach "Server is ready" within 20 s (then it is stopped) or stop by itself.
pub fn start(conf: &ConfMap, dir: &Path) -> Start {
    start_and(conf, dir, None).0
}

/// Whether an MQTT client is accepted by a config's MQTT listener (a CONNACK with return code
/// 0), rather than left without an answer (the connection closed, or nothing within 15 s).
pub fn mqtt_connack(conf: &ConfMap) -> bool {
    use std::io::{Read, Write};
    let Some(Conf::Map(m)) = conf.get("mqtt") else {
        return false;
    };
    let Some(Conf::Int(port)) = m.get("port") else {
        return false;
    };
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", *port as u16)) else {
        return false;
    };
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    // CONNECT: protocol "MQTT" level 4, clean session, keep-alive 60 s, client id "probe".
    let body = b"\x00\x04MQTT\x04\x02\x00\x3c\x00\x05probe";
    let mut packet = vec![0x10, body.len() as u8];
    packet.extend_from_slice(body);
    if s.write_all(&packet).is_err() {
        return false;
    }
    let mut answer = [0u8; 4];
    // A CONNACK with return code 0 accepts the client.
    matches!(s.read_exact(&mut answer), Ok(()) if answer[0] == 0x20 && answer[3] == 0)
}

/// `start`, and while the server is up, `probe` on the config it runs (after which it is
/// stopped): the probe's answer comes back beside the start's.
pub fn start_and(
    conf: &ConfMap,
    dir: &Path,
    probe: Option<&dyn Fn(&ConfMap) -> bool>,
) -> (Start, Option<bool>) {
    let mut local = conf.clone();
    if probe.is_some() {
        // The probe's client has no credentials and no certificate: on loopback the MQTT
        // listener takes it in plain text, and nobody is asked who they are.
        if let Some(Conf::Map(m)) = local.get_mut("mqtt") {
            m.remove("tls");
        }
        for key in [
            "accounts",
            "authorization",
            "system_account",
            "no_auth_user",
            "operator",
            "resolver",
            "resolver_preload",
        ] {
            while local.remove(key).is_some() {}
        }
    }
    let mut certs = None;
    localise(&mut local, dir, &mut certs);
    let mut env = vec![];
    variables(&local, &mut env);
    let file = dir.join("server.conf");
    std::fs::write(
        &file,
        natscc::conf::print("local copy of a pod's config", &local),
    )
    .unwrap();
    let (ok, said) = server_test(dir, "server.conf", env.clone(), dir);
    if !ok {
        return (Start::Refused(said), None);
    }
    let log = dir.join("server.log");
    let mut child = Command::new(nats_server_path())
        .args(["-c", "server.conf"])
        .current_dir(dir)
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("server.err")).unwrap(),
        ))
        .spawn()
        .expect("nats-server runs");
    let begun = Instant::now();
    let said = || {
        std::fs::read_to_string(&log).unwrap_or_default()
            + &std::fs::read_to_string(dir.join("server.err")).unwrap_or_default()
    };
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let words = if status.success() {
                format!("exited 0 at start: {}", said())
            } else {
                said()
            };
            return (Start::Stopped(words), None);
        }
        if said().contains("Server is ready") {
            let answer = probe.map(|p| p(&local));
            let _ = child.kill();
            let _ = child.wait();
            return (Start::Ready, answer);
        }
        if begun.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            return (
                Start::Stopped(format!("not ready within 20 s: {}", said())),
                None,
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
