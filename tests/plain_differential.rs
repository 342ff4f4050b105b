//! The plain-chart differential: random but realistic values for the official NATS chart
//! (cluster, JetStream, leafnodes, gateway, MQTT, websocket, monitoring and profiling, client
//! and listener TLS with a CA, operator mode with a full resolver, merge and patch at the top
//! and in the blocks, `$include`s at the top and in a block, files added to the ConfigMap,
//! included or not, a system account or none), each rendered by Helm's own engine from the
//! chart copied in `tests/data/event-bus-chart/charts/nats` (scripts/helm_template.py, helm-python-sdk) and
//! compiled by natscc. On every case:
//!
//! - both accept: natscc's ConfigMap has Helm's name, keys and bytes, and what natscc wrote
//!   starts on a real server ("Server is ready"), not only `-t`;
//! - natscc alone refuses: by policy (a password in clear) or for a reason the server confirms
//!   on Helm's render (it refuses it at `-t` or at start);
//! - Helm alone refuses: a difference (natscc must refuse what the chart cannot render);
//! - anything else is a difference; the test fails on any and prints the case's values.
//!
//! `NATSCC_PLAIN_CASES` sets the number of cases (default 60), `NATSCC_PLAIN_SEED` the seed
//! (default 23); `NATSCC_PLAIN_KEEP=DIR` keeps the cases. Run it on nats-server 2.12.6, the
//! chart's image (NATS_SERVER_BIN).

// A scenario reads top to bottom as one story; the 120-line limit is for src/.
#![allow(clippy::too_many_lines)]

mod common;
#[path = "common/plain.rs"]
mod plain;

use common::{Rng, config_maps, first_difference, stream_docs};
use plain::Start;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// Codes natscc refuses by its own policy, which no server enforces: secrets in the values.
const POLICY: &[&str] = &["natscc::secrets::clear_password", "natscc::secrets::seed"];

/// The least share (percent) of cases both must accept, so a natscc that refused everything
/// could not pass.
const MIN_BOTH_ACCEPT_PERCENT: usize = 30;

const SYS_ACCOUNT: &str = "AAUF7HODR2KOUDJQKIOJFZ4FAPWZQWMACD5UUIPRHROB5CPBYSJ56FBP";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn jwt(name: &str) -> String {
    std::fs::read_to_string(repo().join("fixtures/operator-mode/jwt").join(name))
        .unwrap()
        .trim()
        .to_string()
}

fn chance(r: &mut Rng, one_in: usize) -> bool {
    r.below(one_in) == 0
}

/// A listener's `tls` values: from a Secret, sometimes with a merge.
fn tls(r: &mut Rng, name: &str) -> Value {
    let mut t = json!({"enabled": true, "secretName": format!("{name}-tls")});
    if chance(r, 3) {
        t["merge"] = json!({"timeout": *r.pick(&[2, 3, 5])});
    }
    t
}

/// Texts of files the values add to the ConfigMap: options, an account with a bcrypt user, a
/// block, a password in clear now and then (natscc refuses it by policy).
const FILES: &[&str] = &[
    "max_payload: 1MB\n",
    "ping_max: 3\nping_interval: \"2m\"\n",
    "authorization {\n  timeout: 3\n}\n",
    "# accounts of the applications\naccounts {\n  APP {\n    users: [\n      {user: app, \
        password: \"$2a$11$PWIFAL8RsWyGI3jVZtO9Nu8.6jOxzxfZo7c/W0eLk017hjgUKWrhy\"}\n    ]\n  \
        }\n}\n",
    "accounts {\n  APP {\n    users: [\n      {user: app, password: hunter2}\n    ]\n  }\n}\n",
];

/// One case's values.
fn values(r: &mut Rng) -> Value {
    let mut config = Map::new();
    let mut merge = Map::new();
    let mut data = Map::new();
    let mut any_tls = false;
    let leaf = chance(r, 3);
    let gateway = chance(r, 4);
    if chance(r, 3) {
        let mut c = json!({"enabled": true, "replicas": *r.pick(&[1, 2, 3])});
        if chance(r, 3) {
            c["port"] = json!(6333);
        }
        if chance(r, 4) {
            c["noAdvertise"] = json!(false);
        }
        if chance(r, 4) {
            c["routeURLs"] = json!({"useFQDN": true});
        }
        if chance(r, 4) {
            c["tls"] = tls(r, "cluster");
            any_tls = true;
        }
        if chance(r, 3) {
            c["merge"] = json!({"pool_size": 3});
        }
        config.insert("cluster".into(), c);
    }
    if chance(r, 2) {
        let mut js = json!({"enabled": true});
        match r.below(4) {
            0 => js["memoryStore"] = json!({"enabled": true, "maxSize": "512Mi"}),
            1 => js["fileStore"] = json!({"maxSize": "2Gi"}),
            2 => js["fileStore"] = json!({"pvc": {"size": "5Gi"}}),
            _ => {}
        }
        match r.below(5) {
            0 => js["merge"] = json!({"max_outstanding_catchup": "<< 64MB >>"}),
            1 => js["merge"] = json!({"domain": "hub"}),
            2 => {
                js["merge"] = json!({"zzz$include": "js.conf"});
                data.insert("js.conf".into(), json!("max_file_store: 1GB\n"));
            }
            _ => {}
        }
        config.insert("jetstream".into(), js);
    }
    if leaf {
        let mut l = json!({"enabled": true});
        if chance(r, 3) {
            l["port"] = json!(7433);
        }
        if chance(r, 4) {
            l["tls"] = tls(r, "leafnodes");
            any_tls = true;
        }
        if chance(r, 3) {
            l["merge"] = json!({"authorization": {"timeout": 3}});
        }
        config.insert("leafnodes".into(), l);
    }
    if gateway {
        let mut g = json!({"enabled": true});
        if chance(r, 2) {
            g["merge"] = json!({"gateways": []});
        }
        config.insert("gateway".into(), g);
    }
    if chance(r, 4) {
        let mut m = json!({"enabled": true});
        if chance(r, 3) {
            m["tls"] = tls(r, "mqtt");
            any_tls = true;
        }
        if chance(r, 3) {
            m["merge"] = json!({"ack_wait": "1m"});
        }
        config.insert("mqtt".into(), m);
    }
    if chance(r, 4) {
        let mut w = json!({"enabled": true});
        if chance(r, 3) {
            w["tls"] = tls(r, "websocket");
            any_tls = true;
        }
        if chance(r, 3) {
            w["merge"] = json!({"compression": true});
        }
        config.insert("websocket".into(), w);
    }
    if chance(r, 4) {
        config.insert("nats".into(), json!({"tls": tls(r, "nats")}));
        any_tls = true;
    }
    if chance(r, 6) {
        config.insert("monitor".into(), json!({"tls": {"enabled": true}}));
    }
    if chance(r, 6) {
        config.insert("profiling".into(), json!({"enabled": true}));
    }
    let operator = chance(r, 7);
    if operator {
        config.insert(
            "resolver".into(),
            json!({"enabled": true, "merge": {"type": "full", "interval": "2m"}}),
        );
        merge.insert("operator".into(), json!(jwt("operator.jwt")));
        merge.insert("system_account".into(), json!(SYS_ACCOUNT));
        merge.insert(
            "resolver_preload".into(),
            json!({ SYS_ACCOUNT: jwt("sys.jwt") }),
        );
    } else if (leaf && gateway && !chance(r, 4)) || chance(r, 8) {
        merge.insert("system_account".into(), json!("SYS"));
        merge.insert("accounts".into(), json!({"SYS": {}}));
    }
    for (k, v) in [
        ("max_payload", json!("<< 2MB >>")),
        ("write_deadline", json!("10s")),
        ("max_connections", json!(1000)),
        ("ping_interval", json!("2m")),
    ] {
        if chance(r, 4) {
            merge.insert(k.into(), v);
        }
    }
    // Includes at the top: a file of the ConfigMap, now and then one it does not carry.
    for prefix in ["00", "01"] {
        if chance(r, 4) {
            let file = format!("f{prefix}.conf");
            merge.insert(format!("{prefix}$include"), json!(file));
            if !chance(r, 6) {
                let text = if operator {
                    FILES[r.below(3)]
                } else {
                    *r.pick(FILES)
                };
                data.insert(file, json!(text));
            }
        }
    }
    if chance(r, 5) {
        data.insert("notes.txt".into(), json!("not included anywhere\n"));
    }
    if !merge.is_empty() {
        config.insert("merge".into(), Value::Object(merge));
    }
    match r.below(5) {
        0 => {
            config.insert(
                "patch".into(),
                json!([{"op": "remove", "path": "/lame_duck_grace_period"}]),
            );
        }
        1 => {
            config.insert(
                "patch".into(),
                json!([{"op": "add", "path": "/ping_max", "value": 4}]),
            );
        }
        _ => {}
    }
    // Now and then values the chart's own templates fail on (Helm refuses to render).
    if chance(r, 20) {
        config.insert("nats".into(), Value::Null);
    }
    let mut root = json!({"config": config});
    if any_tls && chance(r, 2) {
        root["tlsCA"] = json!({"enabled": true, "secretName": "nats-ca"});
    }
    if !data.is_empty() {
        root["configMap"] = json!({"merge": {"data": data}});
    }
    if chance(r, 6) {
        root["fullnameOverride"] = json!("events");
    }
    root
}

/// Renders every case with Helm's engine, in one process.
fn helm_render(cases: &[PathBuf]) {
    common::helm_template("tests/data/event-bus-chart/charts/nats", &[], cases);
}

#[derive(Default, Debug)]
struct Counts {
    both_accept: usize,
    both_refuse: usize,
    natscc_only_policy: usize,
    natscc_only_server: usize,
    helm_only: usize,
    differ: Vec<String>,
    /// The codes of natscc's refusals the chart renders, by case.
    natscc_only_codes: std::collections::BTreeMap<String, usize>,
}

/// Judges one rendered case.
fn judge(case: &Path, counts: &mut Counts) {
    let name = case.file_name().unwrap().to_string_lossy().to_string();
    let (compiled, errors) = common::compile_case(case);
    let rendered = std::fs::read_to_string(case.join("rendered.yaml")).ok();
    let mut differ = |why: String| {
        let values = std::fs::read_to_string(case.join("values.yaml")).unwrap();
        counts
            .differ
            .push(format!("{name}: {why}\n--- values.yaml\n{values}"));
    };
    let tmp = tempfile::tempdir().unwrap();
    match (errors.is_empty(), rendered) {
        (true, None) => {
            counts.helm_only += 1;
            let said = std::fs::read_to_string(case.join("refused.txt")).unwrap_or_default();
            differ(format!("Helm refuses what natscc accepts: {said}"));
        }
        (false, None) => counts.both_refuse += 1,
        (true, Some(chart)) => {
            let theirs = config_maps(&stream_docs(&chart));
            let mine = config_maps(&stream_docs(&compiled.files["manifests.yaml"]));
            for (cm, data) in &mine {
                match theirs.get(cm) {
                    None => differ(format!("Helm renders no ConfigMap {cm}")),
                    Some(t) if t != data => {
                        let keys = |m: &std::collections::BTreeMap<String, String>| {
                            m.keys().cloned().collect::<Vec<_>>()
                        };
                        let first =
                            data.iter()
                                .find(|(k, v)| t.get(*k) != Some(*v))
                                .map(|(k, v)| {
                                    format!(
                                        "{k}: {}",
                                        first_difference(v, t.get(k).map_or("", |s| s))
                                    )
                                });
                        differ(format!(
                            "ConfigMap {cm}: keys {:?} / Helm's {:?}; {first:?}",
                            keys(data),
                            keys(t)
                        ));
                    }
                    Some(_) => {}
                }
            }
            let data = mine.into_values().next().unwrap_or_default();
            match plain::pod_config(&data).map(|c| plain::start(&c, tmp.path())) {
                Ok(Start::Ready) => counts.both_accept += 1,
                Ok(other) => differ(format!("natscc accepts, the server does not: {other:?}")),
                Err(e) => differ(format!("natscc accepts, the server cannot read it: {e}")),
            }
        }
        (false, Some(chart)) => {
            *counts
                .natscc_only_codes
                .entry(errors.join(" + "))
                .or_default() += 1;
            if errors.iter().all(|e| POLICY.contains(e)) {
                counts.natscc_only_policy += 1;
                return;
            }
            let data = config_maps(&stream_docs(&chart))
                .into_values()
                .find(|d| d.contains_key("nats.conf"))
                .unwrap_or_default();
            // MQTT without JetStream in a cluster: the servers start, and an MQTT client
            // never gets its CONNACK ("unable to connect: lookup sessions stream").
            let mqtt_only = errors == ["natscc::mqtt::jetstream"];
            let probe: &dyn Fn(&natscc::conf::ConfMap) -> bool = &plain::mqtt_connack;
            let answer = match plain::pod_config(&data) {
                Ok(c) => plain::start_and(&c, tmp.path(), mqtt_only.then_some(probe)),
                Err(e) => (Start::Refused(e), None),
            };
            match answer {
                (Start::Ready, Some(false)) => counts.natscc_only_server += 1,
                (Start::Ready, _) => differ(format!(
                    "natscc refuses ({errors:?}) what the server starts from Helm's render"
                )),
                _ => counts.natscc_only_server += 1,
            }
        }
    }
}

#[test]
fn plain_chart_values_compile_as_helm_renders_them_and_start() {
    let n: usize = env_or("NATSCC_PLAIN_CASES", 60);
    let seed: u64 = env_or("NATSCC_PLAIN_SEED", 23);
    let tmp = tempfile::tempdir().unwrap();
    let keep = std::env::var_os("NATSCC_PLAIN_KEEP").map(PathBuf::from);
    let base = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let cases: Vec<PathBuf> = (0..n)
        .map(|i| {
            let dir = base.join(format!("c{i:03}"));
            std::fs::create_dir_all(&dir).unwrap();
            let text = serde_json::to_string_pretty(&values(&mut r)).unwrap() + "\n";
            std::fs::write(dir.join("values.yaml"), text).unwrap();
            dir
        })
        .collect();
    helm_render(&cases);
    let mut counts = Counts::default();
    for case in &cases {
        judge(case, &mut counts);
    }
    eprintln!(
        "plain differential, seed {seed}, {n} cases: {} both accept, {} both refuse, {} natscc \
            only ({} by policy, {} refused by the server too), {} Helm only, {} differ",
        counts.both_accept,
        counts.both_refuse,
        counts.natscc_only_policy + counts.natscc_only_server,
        counts.natscc_only_policy,
        counts.natscc_only_server,
        counts.helm_only,
        counts.differ.len()
    );
    for (codes, n) in &counts.natscc_only_codes {
        eprintln!("  natscc only, {n}: {codes}");
    }
    assert!(
        counts.differ.is_empty(),
        "{} cases differ:\n{}",
        counts.differ.len(),
        counts.differ.join("\n")
    );
    assert!(
        counts.both_accept * 100 >= n * MIN_BOTH_ACCEPT_PERCENT,
        "only {} of {n} cases accepted by both",
        counts.both_accept
    );
}
