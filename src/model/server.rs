//! The official NATS chart's `config` values, as far as they shape nats.conf.

use crate::load::{Node, V};

/// The chart's TLS block (`config.<listener>.tls`).
#[derive(Debug, Clone, Default)]
pub struct ChartTls {
    pub enabled: bool,
    pub dir: String,
    pub cert: String,
    pub key: String,
    pub merge: Option<Node>,
}

/// One listener block of the chart config.
#[derive(Debug, Clone, Default)]
pub struct Listener {
    pub enabled: bool,
    pub port: i64,
    pub tls: Option<ChartTls>,
    pub merge: Option<Node>,
}

#[derive(Debug, Clone, Default)]
pub struct JetStream {
    pub enabled: bool,
    pub memory_enabled: bool,
    pub memory_max: Option<Node>,
    pub file_enabled: bool,
    pub file_dir: String,
    pub file_max: Option<Node>,
    pub merge: Option<Node>,
}

#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    pub client: Listener,
    pub cluster: Listener,
    pub replicas: i64,
    pub jetstream: JetStream,
    pub mqtt: Listener,
    pub leafnodes: Listener,
    pub websocket: Listener,
    pub monitor: Listener,
    /// `config.merge`: free-form NATS config merged at the top level.
    pub merge: Option<Node>,
    /// `config.patch`: JSON patches applied to the finished config.
    pub patch: Option<Node>,
    /// The whole `config` map, for the ignored-key check.
    pub raw: Option<Node>,
}

fn flag(n: Option<&Node>, key: &str, default: bool) -> bool {
    n.and_then(|n| n.get(key))
        .and_then(Node::as_bool)
        .unwrap_or(default)
}

fn map_of(n: Option<&Node>, key: &str) -> Option<Node> {
    n.and_then(|n| n.get(key))
        .filter(|m| matches!(m.v, V::Map(_)))
        .cloned()
}

fn chart_tls(n: Option<&Node>, default_dir: &str) -> Option<ChartTls> {
    let t = n?;
    if !flag(Some(t), "enabled", false) {
        return None;
    }
    let s = |k: &str, d: &str| t.get(k).and_then(Node::as_str).unwrap_or(d).to_string();
    Some(ChartTls {
        enabled: true,
        dir: s("dir", default_dir),
        cert: s("cert", "tls.crt"),
        key: s("key", "tls.key"),
        merge: map_of(Some(t), "merge"),
    })
}

fn listener(cfg: Option<&Node>, key: &str, default_port: i64, default_on: bool) -> Listener {
    let b = cfg.and_then(|c| c.get(key));
    Listener {
        enabled: flag(b, "enabled", default_on),
        port: b
            .and_then(|b| b.get("port"))
            .and_then(Node::as_i64)
            .unwrap_or(default_port),
        tls: chart_tls(
            b.and_then(|b| b.get("tls")),
            &format!("/etc/nats-certs/{key}"),
        ),
        merge: map_of(b, "merge"),
    }
}

impl ServerConfig {
    pub fn from_values(cfg: Option<&Node>) -> Self {
        let js = cfg.and_then(|c| c.get("jetstream"));
        let mem = js.and_then(|j| j.get("memoryStore"));
        let file = js.and_then(|j| j.get("fileStore"));
        ServerConfig {
            client: listener(cfg, "nats", 4222, true),
            cluster: listener(cfg, "cluster", 6222, false),
            replicas: cfg
                .and_then(|c| c.path(&["cluster", "replicas"]))
                .and_then(Node::as_i64)
                .unwrap_or(3),
            jetstream: JetStream {
                enabled: flag(js, "enabled", false),
                memory_enabled: flag(mem, "enabled", true),
                memory_max: mem.and_then(|m| m.get("maxSize")).cloned(),
                file_enabled: flag(file, "enabled", false),
                file_dir: file
                    .and_then(|f| f.get("dir"))
                    .and_then(Node::as_str)
                    .unwrap_or("/data")
                    .to_string(),
                file_max: file.and_then(|f| f.get("maxSize")).cloned(),
                merge: map_of(js, "merge"),
            },
            mqtt: listener(cfg, "mqtt", 1883, false),
            leafnodes: listener(cfg, "leafnodes", 7422, false),
            websocket: listener(cfg, "websocket", 8080, false),
            monitor: listener(cfg, "monitor", 8222, true),
            merge: map_of(cfg, "merge"),
            patch: cfg
                .and_then(|c| c.get("patch"))
                .filter(|p| matches!(p.v, V::Seq(_)))
                .cloned(),
            raw: cfg.cloned(),
        }
    }
}
