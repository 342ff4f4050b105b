//! natscc's reload table (`natscc::diff::reload`) held to real servers: for every row, a
//! loopback server starts from an old config laid out as the pod mounts it (nats.conf, and
//! accounts.conf in its own volume), the files are replaced as the kubelet replaces them, the
//! server gets SIGHUP as the chart's reloader sends it, and its own log's verdict ("Reloaded
//! server configuration" / "config reload not supported for X" / a panic) must be the one
//! natscc predicts from the two configs, on 2.12.6 (the chart's), 2.12.7, 2.12.8, 2.14.0 and
//! 2.15.1.

mod common;
#[path = "common/reload.rs"]
mod reload_server;

use natscc::diff::confdiff::key_changes;
use natscc::diff::reload::{self, Verdict};
use natscc::server_version::Version;
use reload_server::{Server, Volumes, write_volumes};
use std::collections::BTreeMap;

const VERSIONS: &[&str] = &["2.12.6", "2.12.7", "2.12.8", "2.14.0", "2.15.1"];

/// The knobs of the probe config, by name; a case overrides some.
fn base() -> BTreeMap<&'static str, String> {
    [
        ("server_name", "s1"),
        ("port", "{P}"),
        ("http_port", "{H}"),
        ("max_payload", "1MB"),
        ("max_connections", "100"),
        ("max_subscriptions", "0"),
        ("lame_duck_duration", "\"30s\""),
        ("lame_duck_grace_period", "\"10s\""),
        ("system_account", "SYS"),
        ("callout_issuer", "{ISSUER1}"),
        ("js_mem", "1GB"),
        ("js_file", "1GB"),
        ("js_domain", "X"),
        ("store_dir", "{D}/js"),
        ("cluster_name", "c1"),
        ("cluster_port", "{C}"),
        ("cluster_no_advertise", "true"),
        ("routes", "[\"nats://127.0.0.1:{R1}\"]"),
        ("leaf_port", "{L}"),
        ("leaf_no_advertise", "true"),
        ("remotes", "[{url: \"nats://127.0.0.1:{L1}\", account: A}]"),
        ("mqtt_port", "{M}"),
        ("ack_wait", "\"30s\""),
        ("stream_replicas", "1"),
        ("consumer_memory_storage", "true"),
        ("a_extra", ""),
        ("extra_account", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect()
}

const MAIN: &str = r#"server_name: {server_name}
host: 127.0.0.1
port: {port}
http_port: {http_port}
max_payload: {max_payload}
max_connections: {max_connections}
max_subscriptions: {max_subscriptions}
lame_duck_duration: {lame_duck_duration}
lame_duck_grace_period: {lame_duck_grace_period}
system_account: {system_account}
accounts { include ../nats-accounts/accounts.conf }
authorization { auth_callout { issuer: {callout_issuer}, auth_users: [auth], account: AUTH } }
jetstream {
  store_dir: "{store_dir}", max_memory_store: {js_mem}, max_file_store: {js_file}
  domain: {js_domain}
}
cluster {
  name: {cluster_name}, host: 127.0.0.1, port: {cluster_port}
  no_advertise: {cluster_no_advertise}, routes: {routes}
}
leafnodes {
  host: 127.0.0.1, port: {leaf_port}, no_advertise: {leaf_no_advertise}, remotes: {remotes}
}
mqtt {
  host: 127.0.0.1, port: {mqtt_port}, ack_wait: {ack_wait}, stream_replicas: {stream_replicas}
  consumer_memory_storage: {consumer_memory_storage}
}
"#;

const ACCOUNTS: &str = r#"A { jetstream: enabled, users: [{user: a, password: a}] {a_extra} }
AUTH { users: [{user: auth, password: auth}] }
SYS { users: [{user: s, password: s}] }
{extra_account}
"#;

/// Each case: a name and the knobs it changes.
fn cases() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let two = concat!(
        "[{url: \"nats://127.0.0.1:{L1}\", account: A}, ",
        "{url: \"nats://127.0.0.1:{L3}\", account: SYS}]"
    );
    vec![
        ("server_name", vec![("server_name", "s2")]),
        ("port", vec![("port", "{P2}")]),
        ("max_connections", vec![("max_connections", "200")]),
        ("max_subscriptions", vec![("max_subscriptions", "1000")]),
        (
            "account added",
            vec![("extra_account", "B { users: [{user: b, password: b}] }")],
        ),
        (
            "export added",
            vec![("a_extra", ", exports: [{stream: \"x.>\"}]")],
        ),
        ("system_account", vec![("system_account", "A")]),
        ("auth_callout issuer", vec![("callout_issuer", "{ISSUER2}")]),
        ("http_port", vec![("http_port", "{H2}")]),
        ("max_payload", vec![("max_payload", "2MB")]),
        ("cluster.name", vec![("cluster_name", "c2")]),
        (
            "cluster.routes",
            vec![(
                "routes",
                "[\"nats://127.0.0.1:{R1}\", \"nats://127.0.0.1:{R2}\"]",
            )],
        ),
        (
            "cluster.no_advertise",
            vec![("cluster_no_advertise", "false")],
        ),
        ("cluster.port", vec![("cluster_port", "{C2}")]),
        ("leafnodes.port", vec![("leaf_port", "{L2}")]),
        (
            "leafnodes.no_advertise",
            vec![("leaf_no_advertise", "false")],
        ),
        ("leaf remote added", vec![("remotes", two)]),
        ("leaf remote removed", vec![("remotes", "[]")]),
        (
            "leaf remote url",
            vec![("remotes", "[{url: \"nats://127.0.0.1:{L3}\", account: A}]")],
        ),
        (
            "leaf remote account",
            vec![(
                "remotes",
                "[{url: \"nats://127.0.0.1:{L1}\", account: SYS}]",
            )],
        ),
        ("max_memory_store up", vec![("js_mem", "2GB")]),
        ("max_memory_store down", vec![("js_mem", "512MB")]),
        ("max_file_store up", vec![("js_file", "2GB")]),
        ("max_file_store down", vec![("js_file", "512MB")]),
        ("jetstream.domain", vec![("js_domain", "Y")]),
        ("jetstream.store_dir", vec![("store_dir", "{D}/js2")]),
        ("mqtt.port", vec![("mqtt_port", "{M2}")]),
        ("mqtt.ack_wait", vec![("ack_wait", "\"60s\"")]),
        ("mqtt.stream_replicas", vec![("stream_replicas", "3")]),
        (
            "mqtt.consumer_memory_storage",
            vec![("consumer_memory_storage", "false")],
        ),
        (
            "lame_duck_duration",
            vec![("lame_duck_duration", "\"60s\"")],
        ),
        (
            "lame_duck_grace_period",
            vec![("lame_duck_grace_period", "\"20s\"")],
        ),
        // The server's field order decides between a refusal and 2.12's crash.
        (
            "port + remote removed",
            vec![("port", "{P2}"), ("remotes", "[]")],
        ),
        (
            "cluster.port + remote removed",
            vec![("cluster_port", "{C2}"), ("remotes", "[]")],
        ),
        (
            "max_memory_store + remote removed",
            vec![("js_mem", "2GB"), ("remotes", "[]")],
        ),
        (
            "lame_duck + remote removed",
            vec![("lame_duck_duration", "\"60s\""), ("remotes", "[]")],
        ),
        (
            "account added + max_payload",
            vec![("extra_account", "B {}"), ("max_payload", "2MB")],
        ),
    ]
}

fn fill(
    template: &str,
    knobs: &BTreeMap<&str, String>,
    ports: &BTreeMap<String, String>,
) -> String {
    let mut t = template.to_string();
    for (k, v) in knobs {
        t = t.replace(&format!("{{{k}}}"), v);
    }
    for (k, v) in ports {
        t = t.replace(&format!("{{{k}}}"), v);
    }
    t
}

fn volumes(knobs: &BTreeMap<&str, String>, ports: &BTreeMap<String, String>) -> Volumes {
    vec![
        (
            "nats-config".into(),
            vec![("nats.conf".into(), fill(MAIN, knobs, ports))],
        ),
        (
            "nats-accounts".into(),
            vec![("accounts.conf".into(), fill(ACCOUNTS, knobs, ports))],
        ),
    ]
}

fn parsed(dir: &std::path::Path) -> natscc::conf::ConfMap {
    natscc::fleet::up::read_config(&dir.join("nats-config/nats.conf")).expect("config reads")
}

fn kind(v: &Verdict) -> &'static str {
    match v {
        Verdict::Live => "live",
        Verdict::Refused(_) => "refused",
        Verdict::Crash => "crash",
    }
}

#[test]
fn the_reload_table_is_what_the_servers_do() {
    let mut failures = vec![];
    let mut covered = std::collections::BTreeSet::new();
    let mut counts = BTreeMap::new();
    for version in VERSIONS {
        let bin = common::nats_server_of(version);
        let ver = Version::parse(version).unwrap();
        for (name, change) in cases() {
            let tmp = tempfile::tempdir().unwrap();
            let mut ports: BTreeMap<String, String> = [
                "P", "P2", "H", "H2", "C", "C2", "L", "L2", "M", "M2", "R1", "R2", "L1", "L3",
            ]
            .iter()
            .map(|k| (k.to_string(), common::free_port().to_string()))
            .collect();
            ports.insert("D".into(), tmp.path().display().to_string());
            for k in ["ISSUER1", "ISSUER2"] {
                ports.insert(k.into(), nkeys::KeyPair::new_account().public_key());
            }
            let old = base();
            let mut new = base();
            for (k, v) in &change {
                new.insert(k, v.to_string());
            }
            let dir = tmp.path().join("pod");
            write_volumes(&dir, &volumes(&old, &ports));
            let before = parsed(&dir);
            let mut server = Server::start(&bin, &dir, &[]).unwrap_or_else(|log| {
                panic!("{version} {name}: the old config did not start:\n{log}")
            });
            let said = server.reload(&volumes(&new, &ports));
            let after = parsed(&dir);
            let changes = key_changes(&before, &after);
            for c in &changes {
                if let Some(r) = reload::row_of(&c.path) {
                    covered.insert(r.path);
                }
            }
            let predicted = reload::judge(&changes, ver);
            *counts.entry((version, kind(&said))).or_insert(0) += 1;
            if kind(&predicted) != kind(&said) {
                failures.push(format!(
                    "{version} {name}: natscc predicts {predicted:?}, the server said {said:?} \
                     (changes: {:?})",
                    changes.iter().map(|c| &c.path).collect::<Vec<_>>()
                ));
            }
        }
    }
    eprintln!("verdicts: {counts:?}");
    let uncovered: Vec<_> = reload::ROWS
        .iter()
        .filter(|r| !covered.contains(r.path))
        .map(|r| r.path)
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(uncovered.is_empty(), "rows no case measures: {uncovered:?}");
}

/// The Stream fields the values change (mqttStreams: storage, maxBytes, maxAge; clusterId: the
/// sources' prefixes): a NACK-style update of a stream made from the compiled spec is refused by
/// the JetStream API exactly for the fields of `natscc::diff::plan::IMMUTABLE`.
#[tokio::test(flavor = "multi_thread")]
async fn the_stream_fields_jetstream_refuses_to_update_are_the_plans() {
    use natscc::diff::plan::IMMUTABLE;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let c = natscc::compile(&natscc::load::Inputs {
        files: vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cpc-1.yaml")],
        ..Default::default()
    });
    natscc::emit::write_atomic(&out, &c.files).unwrap();
    let streams = std::fs::read_to_string(out.join("streams.yaml")).unwrap();
    let docs = common::stream_docs(&streams);
    let msgs = docs
        .iter()
        .map(|d| d.to_json())
        .find(|d| d["metadata"]["name"] == "mqtt-msgs")
        .expect("the mqtt-msgs Stream");
    let changes: &[(&str, serde_json::Value)] = &[
        ("storage", serde_json::json!("file")),
        ("maxBytes", serde_json::json!(1_000_000)),
        ("maxAge", serde_json::json!("1h")),
        (
            "sources",
            serde_json::json!([{"name": "$MQTT_msgs", "externalApiPrefix": "$JS.CSC.API",
                "externalDeliverPrefix": "csc2cpc.2"}]),
        ),
    ];
    for version in ["2.12.6", "2.15.1"] {
        let bin = common::nats_server_of(version);
        for (field, value) in changes {
            let tmp = tempfile::tempdir().unwrap();
            let port = common::free_port();
            let _server = KillOnDrop(
                std::process::Command::new(&bin)
                    .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
                    .arg(tmp.path())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            );
            let url = format!("nats://127.0.0.1:{port}");
            let mut client = None;
            for _ in 0..100 {
                if let Ok(c) = async_nats::connect(&url).await {
                    client = Some(c);
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            let client = client.expect("the server answers");
            let mut spec = msgs["spec"].clone();
            spec["replicas"] = serde_json::json!(1);
            let request = |subject: &str, spec: &serde_json::Value| {
                let body = natscc::fleet::up::stream_config(spec).to_string();
                let client = client.clone();
                let subject = subject.to_string();
                async move {
                    let m = client.request(subject, body.into()).await.unwrap();
                    serde_json::from_slice::<serde_json::Value>(&m.payload).unwrap()
                }
            };
            let created = request("$JS.API.STREAM.CREATE.$MQTT_msgs", &spec).await;
            assert!(
                created.get("error").is_none(),
                "{version}: create: {created}"
            );
            spec[*field] = value.clone();
            let updated = request("$JS.API.STREAM.UPDATE.$MQTT_msgs", &spec).await;
            let refused = updated.get("error").is_some();
            let immutable = IMMUTABLE.iter().find(|(f, _)| f == field);
            assert_eq!(
                refused,
                immutable.is_some(),
                "{version}: updating {field}: {updated}"
            );
            if let Some((_, words)) = immutable {
                let said = updated["error"]["description"].as_str().unwrap_or("");
                assert!(
                    words.starts_with(said),
                    "{version}: {field}: {said:?} vs {words:?}"
                );
            }
        }
    }
}

/// A server process killed when the test ends, however it ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
