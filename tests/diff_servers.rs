//! natscc diff's "live" and "at restart only" held to real servers: random pairs of valid
//! values (1-3 knobs changed), the old one's `nats` pod started on loopback (its files laid out
//! as the pod mounts them, only addresses rewritten), the new files swapped in as the kubelet
//! does and SIGHUP sent as the reloader does; the server's verdict in its log must be the
//! plan's, on 2.12.6 (the chart's) and 2.15.1. `NATSCC_DIFF_SEED` picks the seed,
//! `NATSCC_DIFF_PAIRS` the pairs per release (default 60).

mod common;
#[path = "common/reload.rs"]
mod reload_server;

use common::Rng;
use natscc::conf::{Conf, ConfMap};
use natscc::diff::plan::{self, How};
use natscc::diff::reload::Verdict;
use natscc::diff::{adapter, snapshot};
use natscc::fleet::overlay::{self, Addresses};
use natscc::load::Inputs;
use reload_server::{Server, Volumes};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One knob: its name and the `--set`s of each value it can take.
type Knob = (&'static str, &'static [&'static str]);

const KNOBS: &[Knob] = &[
    (
        "cpcExports",
        &[
            "global.eventBus.crossLayer.cpcExports={sensor.>,alarm.*}",
            "global.eventBus.crossLayer.cpcExports={sensor.>}",
            "global.eventBus.crossLayer.cpcExports={sensor.>,alarm.*,orders.>}",
        ],
    ),
    (
        "cscExports",
        &[
            "global.eventBus.crossLayer.cscExports={broadcast.>}",
            "global.eventBus.crossLayer.cscExports={broadcast.>,notice.*}",
        ],
    ),
    (
        "cscPrefixedExports",
        &[
            "global.eventBus.crossLayer.cscPrefixedExports={command.>}",
            "global.eventBus.crossLayer.cscPrefixedExports={command.>,config.>}",
        ],
    ),
    (
        "cscEndpoint",
        &[
            "global.eventBus.cscEndpoint=nats://csc-gateway:7422",
            "global.eventBus.cscEndpoint=nats://csc-gateway-2:7422",
        ],
    ),
    (
        "max_payload",
        &[
            "nats.config.merge.max_payload=4194304",
            "nats.config.merge.max_payload=8388608",
        ],
    ),
    (
        "max_connections",
        &[
            "nats.config.merge.max_connections=10000",
            "nats.config.merge.max_connections=20000",
        ],
    ),
    (
        "memoryStore",
        &[
            "nats.config.jetstream.memoryStore.maxSize=2Gi",
            "nats.config.jetstream.memoryStore.maxSize=1Gi",
            "nats.config.jetstream.memoryStore.maxSize=3Gi",
        ],
    ),
    (
        "lame_duck_duration",
        &[
            "nats.config.merge.lame_duck_duration=30s",
            "nats.config.merge.lame_duck_duration=45s",
        ],
    ),
    (
        "mqtt ack_wait",
        &[
            "nats.config.mqtt.merge.ack_wait=30s",
            "nats.config.mqtt.merge.ack_wait=1m",
        ],
    ),
];

fn inputs(base: &Path, sets: &[String], tag: &str) -> Inputs {
    let mut set = sets.to_vec();
    set.push(format!("nats.container.image.tag={tag}"));
    set.push(format!("nats-mtls.container.image.tag={tag}"));
    Inputs {
        files: vec![base.to_path_buf()],
        set,
        set_string: vec![],
    }
}

/// The `nats` release's plan from natscc: live, refused (at restart) or crash, or `None` when
/// its config does not change.
fn predicted(old: &Inputs, new: &Inputs) -> Option<Option<Verdict>> {
    let (o, n) = (
        adapter::compile_values(old, None),
        adapter::compile_values(new, None),
    );
    if o.has_errors() || n.has_errors() {
        return None;
    }
    let (os, ns) = (
        snapshot::from_values(&o.clusters[0]),
        snapshot::from_values(&n.clusters[0]),
    );
    let ctx = plan::Ctx { namespace: "nats" };
    let p = plan::cluster(Some(&os), Some(&ns), &ctx);
    let config = [
        "environment",
        "server version",
        "container variable",
        "pod template",
    ];
    let hows: Vec<How> = p
        .changes
        .iter()
        .filter(|c| c.part == "nats" && !config.contains(&c.topic))
        .map(|c| c.how)
        .collect();
    Some(if hows.is_empty() {
        None
    } else if hows.contains(&How::Crashes) {
        Some(Verdict::Crash)
    } else if hows.contains(&How::AtRestart) {
        Some(Verdict::Refused(String::new()))
    } else {
        assert!(hows.iter().all(|h| *h == How::Live), "{hows:?}");
        Some(Verdict::Live)
    })
}

/// Leaf remote URLs to loopback ports that nothing listens on, one per compiled URL, so a
/// changed `cscEndpoint` stays a changed remote.
fn remotes_local(c: &mut Conf, ports: &mut BTreeMap<String, u16>) {
    match c {
        Conf::Str(u) if u.contains("://") => {
            let p = *ports.entry(u.clone()).or_insert_with(common::free_port);
            let scheme = u.split("://").next().unwrap_or("nats").to_string();
            *u = format!("{scheme}://127.0.0.1:{p}");
        }
        Conf::List(l) => l.iter_mut().for_each(|x| remotes_local(x, ports)),
        Conf::Map(m) => m.items.iter_mut().for_each(|i| {
            if let natscc::conf::Item::Kv(_, v) = i {
                remotes_local(v, ports)
            }
        }),
        _ => {}
    }
}

/// The `nats-0` pod's volumes from a compile, on loopback.
fn pod_volumes(
    inputs: &Inputs,
    dir: &Path,
    addr: &Addresses,
    urls: &mut BTreeMap<String, u16>,
) -> Volumes {
    let c = natscc::compile(inputs);
    assert!(!c.has_errors());
    let mut by_dir: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (path, text) in &c.files {
        let Some(rel) = path.strip_prefix("nats/") else {
            continue;
        };
        let (folder, name) = rel.split_once('/').unwrap();
        let mut conf: ConfMap = natscc::natsconf::parse_conf(text).unwrap();
        if rel == "nats-config/nats.conf" {
            overlay::main_config(&mut conf, dir, addr);
        }
        if folder == "nats-leafnodes" {
            conf.items.iter_mut().for_each(|i| {
                if let natscc::conf::Item::Kv(_, v) = i {
                    remotes_local(v, urls)
                }
            });
        }
        let text = natscc::chart::print::format_config(&conf) + "\n";
        by_dir
            .entry(folder.into())
            .or_default()
            .push((name.into(), text));
    }
    by_dir.into_iter().collect()
}

fn server_env(inputs: &Inputs, scratch: &Path) -> Vec<(String, String)> {
    let c = natscc::compile(inputs);
    let out = scratch.join("compiled");
    natscc::emit::write_atomic(&out, &c.files).unwrap();
    common::server_env(&out)
}

fn kind(v: &Option<Verdict>) -> &'static str {
    match v {
        None => "no change",
        Some(Verdict::Live) => "live",
        Some(Verdict::Refused(_)) => "at restart",
        Some(Verdict::Crash) => "crash",
    }
}

#[test]
fn the_plan_agrees_with_the_servers_on_random_pairs() {
    let seed: u64 = std::env::var("NATSCC_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let pairs: usize = std::env::var("NATSCC_DIFF_PAIRS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let base = repo().join("examples/cpc-1.yaml");
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = vec![];
    for (version, tag) in [("2.12.6", "2.12.6-alpine"), ("2.15.1", "2.15.1-alpine")] {
        let bin = common::nats_server_of(version);
        for i in 0..pairs {
            let mut old: BTreeMap<&str, usize> = BTreeMap::new();
            for _ in 0..rng.below(3) {
                let k = rng.below(KNOBS.len());
                old.insert(KNOBS[k].0, rng.below(KNOBS[k].1.len()));
            }
            let mut new = old.clone();
            for _ in 0..1 + rng.below(3) {
                let k = rng.below(KNOBS.len());
                new.insert(KNOBS[k].0, rng.below(KNOBS[k].1.len()));
            }
            let sets = |m: &BTreeMap<&str, usize>| -> Vec<String> {
                KNOBS
                    .iter()
                    .filter_map(|(n, vals)| m.get(n).map(|v| vals[*v].to_string()))
                    .collect()
            };
            let (oi, ni) = (
                inputs(&base, &sets(&old), tag),
                inputs(&base, &sets(&new), tag),
            );
            let Some(predicted) = predicted(&oi, &ni) else {
                *counts
                    .entry(format!("{version} refused by natscc"))
                    .or_default() += 1;
                continue;
            };
            if predicted.is_none() {
                *counts
                    .entry(format!("{version} no config change"))
                    .or_default() += 1;
                continue;
            }
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("nats-0");
            let cluster = common::free_port();
            let addr = Addresses {
                client: common::free_port(),
                http: common::free_port(),
                cluster,
                leaf: common::free_port(),
                mqtt: common::free_port(),
                websocket: common::free_port(),
                gateway: common::free_port(),
                routes: vec![format!("nats://127.0.0.1:{cluster}")],
                leaf_targets: vec![],
            };
            let mut urls = BTreeMap::new();
            reload_server::write_volumes(&dir, &pod_volumes(&oi, &dir, &addr, &mut urls));
            let env = server_env(&oi, tmp.path());
            let mut server = Server::start(&bin, &dir, &env).unwrap_or_else(|log| {
                panic!("{version} pair {i}: old values did not start:\n{log}")
            });
            let said = Some(server.reload(&pod_volumes(&ni, &dir, &addr, &mut urls)));
            *counts
                .entry(format!("{version} {}", kind(&said)))
                .or_default() += 1;
            if kind(&said) != kind(&predicted) {
                failures.push(format!(
                    "{version} pair {i}: natscc says {}, the server {said:?}\n  old: {:?}\n  \
                     new: {:?}",
                    kind(&predicted),
                    sets(&old),
                    sets(&new)
                ));
            }
        }
    }
    eprintln!("seed {seed}: {counts:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let agreed: usize = counts
        .iter()
        .filter(|(k, _)| {
            k.ends_with(" live") || k.ends_with(" at restart") || k.ends_with(" crash")
        })
        .map(|(_, n)| n)
        .sum();
    assert!(
        agreed >= pairs,
        "too few pairs reached a server: {counts:?}"
    );
}
