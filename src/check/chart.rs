//! Rules on the official NATS chart's `config` values: keys the chart never reads (Helm
//! drops them without a word) and limits the server only enforces when it starts.

use crate::diag::{Code, Diagnostic, Sources, suggest};
use crate::emit::conf::size_bytes;
use crate::load::{DEFAULTS_NAME, Node};
use crate::model::Model;

/// The shape of the chart's `config` map: what the chart reads, key by key.
enum K {
    /// A value the chart reads as it is.
    Leaf,
    /// Free-form content (`merge`, `patch`): not ours to check.
    Free,
    Map(&'static [(&'static str, K)]),
}

const TLS: K = K::Map(&[("enabled", K::Leaf), ("secretName", K::Leaf), ("dir", K::Leaf), ("cert", K::Leaf), ("key", K::Leaf), ("merge", K::Free), ("patch", K::Free)]);
const PVC: K = K::Map(&[("enabled", K::Leaf), ("size", K::Leaf), ("storageClassName", K::Leaf), ("name", K::Leaf)]);

const CONFIG: K = K::Map(&[
    ("cluster", K::Map(&[
        ("enabled", K::Leaf), ("port", K::Leaf), ("replicas", K::Leaf), ("noAdvertise", K::Leaf),
        ("routeURLs", K::Map(&[("user", K::Leaf), ("password", K::Leaf), ("useFQDN", K::Leaf), ("k8sClusterDomain", K::Leaf)])),
        ("tls", TLS), ("merge", K::Free), ("patch", K::Free),
    ])),
    ("nats", K::Map(&[("port", K::Leaf), ("tls", TLS), ("merge", K::Free), ("patch", K::Free)])),
    ("leafnodes", K::Map(&[("enabled", K::Leaf), ("port", K::Leaf), ("tls", TLS), ("merge", K::Free), ("patch", K::Free)])),
    ("websocket", K::Map(&[("enabled", K::Leaf), ("port", K::Leaf), ("tls", TLS), ("ingress", K::Free), ("merge", K::Free), ("patch", K::Free)])),
    ("mqtt", K::Map(&[("enabled", K::Leaf), ("port", K::Leaf), ("tls", TLS), ("merge", K::Free), ("patch", K::Free)])),
    ("gateway", K::Map(&[("enabled", K::Leaf), ("port", K::Leaf), ("tls", TLS), ("merge", K::Free), ("patch", K::Free)])),
    ("monitor", K::Map(&[("enabled", K::Leaf), ("port", K::Leaf), ("tls", K::Map(&[("enabled", K::Leaf)])), ("merge", K::Free), ("patch", K::Free)])),
    ("profiling", K::Map(&[("enabled", K::Leaf), ("port", K::Leaf)])),
    ("resolver", K::Map(&[("enabled", K::Leaf), ("dir", K::Leaf), ("pvc", PVC), ("merge", K::Free), ("patch", K::Free)])),
    ("jetstream", K::Map(&[
        ("enabled", K::Leaf),
        ("fileStore", K::Map(&[("enabled", K::Leaf), ("dir", K::Leaf), ("pvc", PVC), ("maxSize", K::Leaf)])),
        ("memoryStore", K::Map(&[("enabled", K::Leaf), ("maxSize", K::Leaf)])),
        ("merge", K::Free), ("patch", K::Free),
    ])),
    ("serverNamePrefix", K::Leaf),
    ("merge", K::Free),
    ("patch", K::Free),
]);

/// Every place in the chart's config where a key of this name is read.
fn places(name: &str) -> Vec<String> {
    fn walk(k: &K, path: &str, name: &str, out: &mut Vec<String>) {
        if let K::Map(entries) = k {
            for (key, sub) in *entries {
                let p = if path.is_empty() { format!("config.{key}") } else { format!("{path}.{key}") };
                if *key == name {
                    out.push(p.clone());
                }
                walk(sub, &p, name, out);
            }
        }
    }
    let mut out = vec![];
    walk(&CONFIG, "", name, &mut out);
    out
}

fn walk(node: &Node, shape: &K, path: &str, sources: &Sources, out: &mut Vec<Diagnostic>) {
    let K::Map(entries) = shape else { return };
    for e in node.entries() {
        let here = format!("{path}.{}", e.key);
        match entries.iter().find(|(k, _)| *k == e.key) {
            Some((_, sub)) => walk(&e.value, sub, &here, sources, out),
            None => {
                let from_defaults = sources.get(e.key_span.src).name == DEFAULTS_NAME;
                let elsewhere = places(&e.key);
                let mut help = if !elsewhere.is_empty() {
                    format!("the chart reads `{}` at {}", e.key, elsewhere.join(", "))
                } else if let Some(s) = suggest(&e.key, entries.iter().map(|(k, _)| *k)) {
                    format!("did you mean `{path}.{s}`? To set a raw NATS option, put it under `{path}.merge`")
                } else {
                    format!("to set a raw NATS option, put it under `{path}.merge`")
                };
                if from_defaults {
                    help.push_str(&format!("; this key comes from the event-bus chart's own defaults: set `{here}: null` to drop it"));
                }
                out.push(
                    Diagnostic::new(Code::IgnoredChartKey, format!("the NATS chart does not read `{here}`; Helm drops it without a word"))
                        .at(e.key_span, "ignored by the chart")
                        .help(help),
                );
            }
        }
    }
}

fn merge_span(cfg: Option<&Node>, key: &str) -> Option<crate::diag::Span> {
    let cfg = cfg?;
    cfg.path(&["merge", key]).map(|n| n.span)
}

pub fn check(m: &Model, sources: &Sources) -> Vec<Diagnostic> {
    let mut out = vec![];
    for (release, cfg) in [("nats", &m.nats), ("nats-mtls", &m.nats_mtls)] {
        if release == "nats-mtls" && !m.mtls {
            continue;
        }
        if let Some(raw) = &cfg.raw {
            walk(raw, &CONFIG, &format!("{release}.config"), sources, &mut out);
        }
        // The server refuses to start (not at -t) when max_payload exceeds max_pending.
        let conf = if release == "nats" { crate::emit::server::main_conf(m) } else { crate::emit::server::mtls_conf(m) };
        let payload = conf.get("max_payload").and_then(size_bytes);
        let pending = conf.get("max_pending").and_then(size_bytes).unwrap_or(64 * 1024 * 1024);
        if let Some(p) = payload {
            if p > pending {
                let span = merge_span(cfg.raw.as_ref(), "max_payload").or(merge_span(cfg.raw.as_ref(), "max_pending")).unwrap_or(m.event_bus_span);
                out.push(
                    Diagnostic::new(Code::MaxPayload, format!("{release}: max_payload ({p}) is higher than max_pending ({pending}); nats-server passes -t but refuses to start"))
                        .at(span, "too large")
                        .help("lower max_payload (4MB is the bus default; 8MB is the server's recommended ceiling) or raise max_pending"),
                );
            }
        }
    }
    out
}
