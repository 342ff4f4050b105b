//! `natscc up` runs the compiled files: for every server of every cluster (each `nats` replica,
//! `nats-mtls`), the config it runs, read back with its includes as nats-server reads it,
//! differs from the one `natscc compile --fleet` writes only at the key paths
//! `natscc up --explain-overlay` lists (and the README lists); every one loads in a real
//! nats-server with the environment its pod gets; and every certificate it names was issued by
//! the run's CA, with the right names, and is private.

mod common;

use natscc::fleet::overlay;
use natscc::fleet::up::{self, Plan};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The config key paths `natscc up --explain-overlay` lists.
fn explained() -> Vec<String> {
    let out = common::natscc()
        .args(["up", "--explain-overlay"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let configs = text
        .split("In the server configs")
        .nth(1)
        .and_then(|t| t.split("In the environment").next())
        .expect("--explain-overlay has a section for the server configs");
    let paths: Vec<String> = configs
        .lines()
        .filter_map(|l| l.split("  -> ").next())
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty() && !p.starts_with('('))
        .collect();
    assert!(paths.len() > 10, "{text}");
    paths
}

fn plan(fleet: &Path, tmp: &Path) -> (Plan, PathBuf) {
    let out = tmp.join("compiled");
    common::natscc()
        .args(["compile", "--fleet"])
        .arg(fleet)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(0);
    let compiled = natscc::fleet::compile(fleet, false);
    let dir = tmp.join("run");
    std::fs::create_dir(&dir).unwrap();
    (up::plan(&compiled, &dir).unwrap(), out)
}

/// `nats-server -t` in the pod folder with the pod's environment, killed after 10 s.
fn loads(dir: &Path, env: &[(String, String)]) -> (bool, String) {
    let mut child = Command::new(common::nats_server_path())
        .args(["-t", "-c", "nats-config/nats.conf"])
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("nats-server -t did not answer in {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

fn only_listed_rewrites(fleet: &str, servers: usize) {
    let listed = explained();
    let tmp = tempfile::tempdir().unwrap();
    let (plan, out) = plan(&root().join(fleet), tmp.path());
    let mut seen = 0;
    for c in &plan.clusters {
        for s in &c.servers {
            seen += 1;
            let compiled = up::read_config(
                &out.join(&c.name)
                    .join(s.release)
                    .join("nats-config/nats.conf"),
            )
            .unwrap();
            let running = up::read_config(&s.config()).unwrap();
            let diff = overlay::diff(&compiled, &running);
            eprintln!("{}/{}: {diff:?}", c.name, s.pod);
            let unlisted: Vec<&String> = diff
                .iter()
                .filter(|d| !listed.iter().any(|p| overlay::matches(p, d)))
                .collect();
            assert!(
                unlisted.is_empty(),
                "{}/{}: rewrites not listed by --explain-overlay: {unlisted:?}",
                c.name,
                s.pod
            );
            assert!(diff.contains(&"port".to_string()), "{diff:?}");
            let (ok, said) = loads(&s.dir, &s.env);
            assert!(ok, "{}/{} does not load:\n{said}", c.name, s.pod);
        }
    }
    assert_eq!(seen, servers, "servers of {fleet}");
}

#[test]
fn the_example_fleet_runs_its_compiled_configs_with_only_the_listed_rewrites() {
    // 3 clusters x (3 nats replicas, the chart's default, + 1 nats-mtls).
    only_listed_rewrites("examples/fleet/fleet.yaml", 12);
}

/// The peer's Kind lab values (tests/fleets/lab): 3 clusters x (3 nats replicas + nats-mtls),
/// with the LaunchLayer extra account's leaf remotes and OAuth2 and mTLS identities.
#[test]
fn the_lab_fleet_runs_its_compiled_configs_with_only_the_listed_rewrites() {
    only_listed_rewrites("tests/fleets/lab/fleet.yaml", 12);
}

#[test]
fn a_fleet_with_leaf_tls_runs_its_compiled_configs_with_only_the_listed_rewrites() {
    only_listed_rewrites("tests/fleets/tls/fleet.yaml", 7);
}

/// The README's section on `natscc up` lists every rewrite --explain-overlay prints.
#[test]
fn the_readme_lists_every_rewrite() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for r in overlay::REWRITES.iter().chain(overlay::ENV_REWRITES) {
        assert!(
            readme.contains(&format!("`{}`", r.path)),
            "README.md does not list the rewrite `{}`",
            r.path
        );
    }
}

fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every certificate the configs name chains to the run's CA, with the fleet file's SANs on the
/// mTLS listener and loopback on the leaf listener, and every file is 0600; the mTLS identity
/// gets a client certificate with its subject.
#[test]
fn every_certificate_comes_from_the_local_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let (plan, _) = plan(&root().join("tests/fleets/tls/fleet.yaml"), tmp.path());
    let ca = plan.ca.display().to_string();
    let mut certs = 0;
    for c in &plan.clusters {
        for s in &c.servers {
            for f in common::files_under(&s.dir.join("certs")) {
                let path = s.dir.join("certs").join(&f);
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", path.display());
                let name = path.file_name().unwrap().to_str().unwrap();
                if name == "tls.crt" {
                    certs += 1;
                    let p = path.display().to_string();
                    assert!(openssl(&["verify", "-CAfile", &ca, &p]).contains("OK"));
                    let text = openssl(&["x509", "-in", &p, "-noout", "-text"]);
                    if s.release == "nats-mtls" {
                        let san = format!("DNS:mqtt.{}.example.com", c.name);
                        assert!(text.contains(&san), "{p}: no {san}:\n{text}");
                    } else {
                        assert!(text.contains("IP Address:127.0.0.1"), "{p}:\n{text}");
                    }
                }
            }
        }
    }
    // Leaf TLS at both ends on every nats replica (3 + 3), the CPC's mTLS listener.
    assert_eq!(certs, 7);
    let cpc = plan.clusters.iter().find(|c| !c.is_csc).unwrap();
    assert_eq!(cpc.clients.len(), 1);
    let cert = cpc.clients[0].dir.join("tls.crt").display().to_string();
    let subject = openssl(&[
        "x509", "-in", &cert, "-noout", "-subject", "-nameopt", "RFC2253",
    ]);
    assert!(subject.contains("CN=plant-gateway"), "{subject}");
    assert!(openssl(&["verify", "-CAfile", &ca, &cert]).contains("OK"));
}
