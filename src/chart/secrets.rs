//! The TLS files the NATS chart's pod mounts (`nats.secretNames`, `nats.tlsCAVolume`), and the
//! key of each its config reads: one listing for plain-chart mode's `secrets.yaml` and each
//! event-bus release's. Measured with Helm's engine on chart 2.12.6 (`tests/tls_secrets.rs`):
//! a listener's Secret is mounted only when the listener is on (the client port always), an
//! empty `cert`/`key` reads `tls.crt`/`tls.key`, and a CA ConfigMap wins over a CA Secret.

use crate::load::Node;

/// What a TLS key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFile {
    Certificate,
    PrivateKey,
    Ca,
}

/// Where mounted TLS files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Secret(String),
    ConfigMap(String),
}

/// One mounted volume of TLS files: who reads it (`config.nats.tls`, `tlsCA`), where its files
/// come from, and the keys the config reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsMount {
    pub used_by: String,
    pub holder: Holder,
    pub keys: Vec<(String, TlsFile)>,
}

const LISTENERS: [&str; 6] = [
    "nats",
    "leafnodes",
    "websocket",
    "mqtt",
    "cluster",
    "gateway",
];

/// Every TLS volume the chart mounts for these values, listeners in the chart's order, then
/// the CA.
pub fn tls_mounts(values: &Node) -> Vec<TlsMount> {
    let text = |n: Option<&Node>| {
        n.filter(|n| !n.is_null())
            .and_then(Node::scalar_text)
            .filter(|t| !t.is_empty())
    };
    let on = |n: Option<&Node>| n.and_then(Node::as_bool).unwrap_or(false);
    let mut out = vec![];
    for protocol in LISTENERS {
        let block = values.path(&["config", protocol]);
        let tls = block.and_then(|b| b.get("tls"));
        let enabled = protocol == "nats" || on(block.and_then(|b| b.get("enabled")));
        if let (true, true, Some(secret)) = (
            enabled,
            on(tls.and_then(|t| t.get("enabled"))),
            text(tls.and_then(|t| t.get("secretName"))),
        ) {
            let cert = text(tls.and_then(|t| t.get("cert"))).unwrap_or_else(|| "tls.crt".into());
            let key = text(tls.and_then(|t| t.get("key"))).unwrap_or_else(|| "tls.key".into());
            out.push(TlsMount {
                used_by: format!("config.{protocol}.tls"),
                holder: Holder::Secret(secret),
                keys: vec![(cert, TlsFile::Certificate), (key, TlsFile::PrivateKey)],
            });
        }
    }
    let ca = values.get("tlsCA");
    if on(ca.and_then(|c| c.get("enabled"))) {
        let key = text(ca.and_then(|c| c.get("key"))).unwrap_or_else(|| "ca.crt".into());
        let holder = match text(ca.and_then(|c| c.get("configMapName"))) {
            Some(cm) => Some(Holder::ConfigMap(cm)),
            None => text(ca.and_then(|c| c.get("secretName"))).map(Holder::Secret),
        };
        if let Some(holder) = holder {
            out.push(TlsMount {
                used_by: "tlsCA".into(),
                holder,
                keys: vec![(key, TlsFile::Ca)],
            });
        }
    }
    out
}

/// The keys of the TLS Secrets the chart mounts: (Secret, key, what).
pub fn tls_secrets(values: &Node) -> Vec<(String, String, TlsFile)> {
    let mut out = vec![];
    for m in tls_mounts(values) {
        if let Holder::Secret(secret) = m.holder {
            for (key, what) in m.keys {
                out.push((secret.clone(), key, what));
            }
        }
    }
    out
}
