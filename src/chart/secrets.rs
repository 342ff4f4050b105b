//! The TLS Secrets the NATS chart's pod mounts, and the keys its config reads from them: one
//! listing for plain-chart mode's `secrets.yaml` and each event-bus release's.

use crate::load::Node;

/// What a TLS Secret key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsFile {
    Certificate,
    PrivateKey,
    Ca,
}

/// The TLS Secrets the NATS chart mounts (`nats.secretNames`, `nats.tlsCAVolume`): a listener's
/// `tls.secretName` when the listener is on (the client port always), and `tlsCA.secretName`.
pub fn tls_secrets(values: &Node) -> Vec<(String, String, TlsFile)> {
    let text = |n: Option<&Node>| {
        n.filter(|n| !n.is_null())
            .and_then(Node::scalar_text)
            .filter(|t| !t.is_empty())
    };
    let on = |n: Option<&Node>| n.and_then(Node::as_bool).unwrap_or(false);
    let mut out = vec![];
    for protocol in [
        "nats",
        "leafnodes",
        "websocket",
        "mqtt",
        "cluster",
        "gateway",
    ] {
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
            out.push((secret.clone(), cert, TlsFile::Certificate));
            out.push((secret, key, TlsFile::PrivateKey));
        }
    }
    let ca = values.get("tlsCA");
    if on(ca.and_then(|c| c.get("enabled")))
        && text(ca.and_then(|c| c.get("configMapName"))).is_none()
        && let Some(secret) = text(ca.and_then(|c| c.get("secretName")))
    {
        out.push((
            secret,
            text(ca.and_then(|c| c.get("key"))).unwrap_or_else(|| "ca.crt".into()),
            TlsFile::Ca,
        ));
    }
    out
}
