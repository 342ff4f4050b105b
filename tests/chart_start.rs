//! The plain-chart rules that claim "nats-server passes -t but refuses to start" (or "-t
//! refuses it") are held to that claim: each bad fixture is rendered as the chart would render
//! it (ignoring natscc's verdict), then given to the real server, which must behave as the rule
//! says. natscc itself refuses every one of them (tests/bad_inputs.rs).

mod common;

use common::free_port;

use common::nats_server_path;
use natscc::diag::Sources;
use natscc::load::{Inputs, load_plain};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The config the chart would render for a fixture, with loopback ports and temporary paths.
fn render(fixture: &str, dir: &Path) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/bad")
        .join(fixture);
    let mut sources = Sources::default();
    let inputs = Inputs {
        files: vec![path],
        ..Default::default()
    };
    let (root, diags) = load_plain(&inputs, &mut sources);
    assert!(diags.is_empty(), "{fixture} does not load: {diags:?}");
    let r = natscc::chart::render::render(&root.unwrap());
    let mut text = natscc::conf::print("test", &r.conf);
    for (from, to) in [
        ("4222", free_port()),
        ("8222", free_port()),
        ("6222", free_port()),
        ("1883", free_port()),
        ("8080", free_port()),
        ("7422", free_port()),
        ("7222", free_port()),
    ] {
        text = text.replace(from, &to.to_string());
    }
    text = text.replace("\"/data\"", &format!("\"{}\"", dir.join("js").display()));
    text = text.replace(
        "\"/data/resolver\"",
        &format!("\"{}\"", dir.join("resolver").display()),
    );
    text.replace(
        "\"/var/run/nats/nats.pid\"",
        &format!("\"{}\"", dir.join("pid").display()),
    )
}

fn output(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Starts the server and reports whether it exited by itself within a few seconds, and its output.
fn start(dir: &Path) -> (bool, String) {
    let log = dir.join("server.log");
    let mut child = Command::new(nats_server_path())
        .args(["-c", "nats.conf"])
        .current_dir(dir)
        .env("SERVER_NAME", "n0")
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("server.err")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let begin = Instant::now();
    let exited = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break !status.success();
        }
        if begin.elapsed() > Duration::from_secs(4) {
            let _ = child.kill();
            let _ = child.wait();
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let said = std::fs::read_to_string(&log).unwrap_or_default()
        + &std::fs::read_to_string(dir.join("server.err")).unwrap_or_default();
    (exited, said)
}

#[test]
fn start_time_limits_pass_t_and_fail_at_start() {
    let cases = [
        (
            "chart-max-payload.yaml",
            "cannot be higher than max_pending",
        ),
        ("mqtt-no-jetstream.yaml", "mqtt requires JetStream"),
        (
            "mqtt-cluster-no-server-name.yaml",
            "server name to be explicitly set",
        ),
        ("jetstream-cluster-name.yaml", "requires `cluster.name`"),
        ("websocket-tls.yaml", "websocket requires TLS"),
        (
            "start-system-account.yaml",
            "error resolving system account",
        ),
        (
            "start-system-account-jetstream.yaml",
            "Not allowed to enable JetStream on the system account",
        ),
        ("port-conflict.yaml", "address already in use"),
        ("operator-missing.yaml", "no operator key found"),
        (
            "start-jetstream-routes.yaml",
            "JetStream cluster requires configured routes or solicited leafnode",
        ),
        (
            "start-leaf-gateway-system-account.yaml",
            "leaf nodes and gateways (both being defined) require a system account",
        ),
        (
            "start-https-no-cert.yaml",
            "TLS cert and key required for HTTPS",
        ),
    ];
    let mut problems = vec![];
    for (fixture, expected) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join("nats.conf"), render(fixture, dir)).unwrap();
        let (ok, said) = output(
            Command::new(nats_server_path())
                .args(["-t", "-c", "nats.conf"])
                .current_dir(dir)
                .env("SERVER_NAME", "n0"),
        );
        if !ok {
            problems.push(format!(
                "{fixture}: -t already refuses it, so the rule's claim is wrong:\n{said}"
            ));
            continue;
        }
        let (failed, said) = start(dir);
        if !failed || !said.contains(expected) {
            problems.push(format!(
                "{fixture}: expected the server to stop with `{expected}`; exited={failed}:\n{said}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn type_rules_match_what_t_refuses() {
    let cases = [
        ("tunable-quoted-size.yaml", "interface conversion"),
        ("tunable-bounds.yaml", "too big"),
        (
            "tls-known-urls-client.yaml",
            "verify_cert_and_check_known_urls not supported in this context",
        ),
        (
            "operator-resolver-type.yaml",
            "error parsing account resolver",
        ),
    ];
    let operator = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/operator-mode/jwt/operator.jwt"),
    )
    .unwrap();
    for (fixture, expected) in cases {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("nats.conf"), render(fixture, tmp.path())).unwrap();
        let (ok, said) = output(
            Command::new(nats_server_path())
                .args(["-t", "-c", "nats.conf"])
                .current_dir(tmp.path())
                .env("SERVER_NAME", "n0")
                .env("OPERATOR_JWT", operator.trim()),
        );
        assert!(
            !ok && said.contains(expected),
            "{fixture}: nats-server -t should refuse it with `{expected}`:\n{said}"
        );
    }
    // An integer duration: -t refuses it (pedantic), even though the server would start.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("nats.conf"), "ping_interval: 20\n").unwrap();
    let (ok, said) = output(
        Command::new(nats_server_path())
            .args(["-t", "-c", "nats.conf"])
            .current_dir(tmp.path()),
    );
    assert!(
        !ok && said.contains("should be converted to a duration"),
        "{said}"
    );
}
