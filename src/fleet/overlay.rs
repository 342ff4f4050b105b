//! What `natscc up` changes in the compiled configs, and nothing else: the listed rewrites
//! (`REWRITES`, printed by `natscc up --explain-overlay` and in the README) applied to the
//! files each pod mounts. Every other key, value, include and block stays as compiled;
//! `diff` finds what differs between two configs so a test can hold the run to the list.

use crate::conf::{Conf, ConfMap, Item, s};
use std::path::{Path, PathBuf};

/// One rewrite: where (a key path: `.` between keys, `[]` for every item of a list, `*` for
/// any keys before), what it becomes, and why.
pub struct Rewrite {
    pub path: &'static str,
    pub becomes: &'static str,
    pub why: &'static str,
}

/// Every rewrite of a running config. `natscc up --explain-overlay` prints this table.
pub const REWRITES: &[Rewrite] = &[
    Rewrite {
        path: "host",
        becomes: "127.0.0.1 (added)",
        why: "the client listener, and the monitoring one that follows it, on loopback only",
    },
    Rewrite {
        path: "port",
        becomes: "a free port",
        why: "many servers on one machine",
    },
    Rewrite {
        path: "http_port",
        becomes: "a free port",
        why: "many servers on one machine",
    },
    Rewrite {
        path: "pid_file",
        becomes: "<pod folder>/nats.pid",
        why: "/var/run/nats is the pod's",
    },
    Rewrite {
        path: "jetstream.store_dir",
        becomes: "<pod folder>/jetstream (added or replaced)",
        why: "each server its own store in the temporary folder",
    },
    Rewrite {
        path: "cluster.host",
        becomes: "127.0.0.1 (added)",
        why: "routes on loopback only",
    },
    Rewrite {
        path: "cluster.port",
        becomes: "a free port",
        why: "many servers on one machine",
    },
    Rewrite {
        path: "cluster.routes",
        becomes: "nats://127.0.0.1:<route port> of each replica",
        why: "the headless Service names (nats-0.nats-headless) do not resolve here",
    },
    Rewrite {
        path: "leafnodes.host",
        becomes: "127.0.0.1 (added)",
        why: "the leaf listener on loopback only",
    },
    Rewrite {
        path: "leafnodes.port",
        becomes: "a free port",
        why: "many servers on one machine",
    },
    Rewrite {
        path: "leafnodes.remotes[].urls",
        becomes: "<scheme>://127.0.0.1:<leaf port> of each replica dialled",
        why: "a CPC's remotes dial its CSC's nats servers (the Gateway in production); nats-mtls's \
              remotes dial its own cluster's nats servers (the `nats` Service)",
    },
    Rewrite {
        path: "leafnodes.remotes[].url",
        becomes: "removed (its address is in urls)",
        why: "the server dials url and urls alike",
    },
    Rewrite {
        path: "mqtt.host",
        becomes: "127.0.0.1 (added)",
        why: "the MQTT listener on loopback only",
    },
    Rewrite {
        path: "mqtt.port",
        becomes: "a free port",
        why: "many servers on one machine",
    },
    Rewrite {
        path: "websocket.host",
        becomes: "127.0.0.1 (added)",
        why: "the WebSocket listener on loopback only",
    },
    Rewrite {
        path: "websocket.port",
        becomes: "a free port",
        why: "many servers on one machine",
    },
    Rewrite {
        path: "gateway.host",
        becomes: "127.0.0.1 (added)",
        why: "the gateway listener on loopback only",
    },
    Rewrite {
        path: "gateway.port",
        becomes: "a free port",
        why: "many servers on one machine",
    },
    Rewrite {
        path: "*.tls.cert_file",
        becomes: "<pod folder>/certs/<path as compiled>",
        why: "issued by the run's local CA (server certificates: the fleet file's serverCertSans, \
              else localhost and 127.0.0.1)",
    },
    Rewrite {
        path: "*.tls.key_file",
        becomes: "<pod folder>/certs/<path as compiled>",
        why: "the key of that certificate, 0600",
    },
    Rewrite {
        path: "*.tls.ca_file",
        becomes: "<pod folder>/certs/<path as compiled>",
        why: "the run's local CA certificate",
    },
];

/// The rewrites outside the server configs: the environment the pods and the auth callout get.
pub const ENV_REWRITES: &[Rewrite] = &[
    Rewrite {
        path: "env SERVER_NAME",
        becomes: "the pod's name (nats-0, nats-1, ...), as its fieldRef gives it",
        why: "the Downward API",
    },
    Rewrite {
        path: "env of Secrets",
        becomes: "keys generated into the temporary folder (as `natscc keys generate`)",
        why: "no Secret exists here",
    },
    Rewrite {
        path: "auth-callout AUTH_CALLOUT_MTLS_CA_PATH",
        becomes: "the run's local CA certificate (also --mtls-ca)",
        why: "it verifies the client certificates the local CA issued",
    },
    Rewrite {
        path: "auth-callout nats.url",
        becomes: "--nats-url nats://127.0.0.1:<client port> of each nats server",
        why: "the `nats` Service does not resolve here",
    },
    Rewrite {
        path: "auth-callout jwks.url",
        becomes: "--jwks <temporary folder>/oauth2/jwks.json, the run's OAuth2 issuer (when the \
                  cluster has OAuth2 identities or a JWKS URL)",
        why: "the identity provider is not here; natscc up mints each OAuth2 identity's token",
    },
    Rewrite {
        path: "auth-callout jwks.issuer",
        becomes: "--jwks-issuer: the values' issuer, else natscc-local",
        why: "the tokens natscc up mints name it",
    },
    Rewrite {
        path: "auth-callout jwks.audience",
        becomes: "--jwks-audience: the values' audience, else natscc",
        why: "the tokens natscc up mints name it",
    },
    Rewrite {
        path: "auth-callout permissions.file",
        becomes: "--permissions <cluster>/auth-callout/permissions.json (the compiled file)",
        why: "/etc/auth-callout is the pod's",
    },
];

/// The explanation `natscc up --explain-overlay` prints: the config rewrites, then the
/// environment's, one per line as `PATH  -> WHAT  (WHY)`.
pub fn explain() -> String {
    let width = REWRITES
        .iter()
        .chain(ENV_REWRITES)
        .map(|r| r.path.len())
        .max()
        .unwrap_or(0);
    let line = |r: &Rewrite| format!("  {:width$}  -> {}  ({})\n", r.path, r.becomes, r.why);
    let mut out = String::from(
        "natscc up runs the files compile writes for every pod (nats-0..N-1 per cluster, \
         nats-mtls-0 when mTLS is on) and the auth callout, with only these rewrites.\n\nIn the \
         server configs (key paths, includes read in place):\n",
    );
    REWRITES.iter().for_each(|r| out.push_str(&line(r)));
    out.push_str("\nIn the environment and the auth callout's command line:\n");
    ENV_REWRITES.iter().for_each(|r| out.push_str(&line(r)));
    out
}

/// Where one server listens and whom it dials.
#[derive(Debug, Clone)]
pub struct Addresses {
    pub client: u16,
    pub http: u16,
    pub cluster: u16,
    pub leaf: u16,
    pub mqtt: u16,
    pub websocket: u16,
    pub gateway: u16,
    /// `nats://127.0.0.1:<route port>` of every replica of its release (itself included).
    pub routes: Vec<String>,
    /// `127.0.0.1:<leaf port>` of the servers its leaf remotes dial.
    pub leaf_targets: Vec<String>,
}

/// The pod folder's copy of a certificate file named in a config.
pub fn cert_path(pod_dir: &Path, compiled: &str) -> PathBuf {
    pod_dir.join("certs").join(compiled.trim_start_matches('/'))
}

fn loopback(m: &mut ConfMap, port: u16) {
    m.set("host", s("127.0.0.1"));
    m.set("port", Conf::Int(port.into()));
}

fn map<'a>(root: &'a mut ConfMap, key: &str) -> Option<&'a mut ConfMap> {
    match root.get_mut(key) {
        Some(Conf::Map(m)) => Some(m),
        _ => None,
    }
}

/// The remotes of a leafnodes block (or of the included leafnodes.conf): each dials the
/// local targets, its scheme kept.
pub fn remotes(leaf: &mut ConfMap, targets: &[String]) {
    let Some(Conf::List(remotes)) = leaf.get_mut("remotes") else {
        return;
    };
    for r in remotes.iter_mut() {
        let Conf::Map(r) = r else { continue };
        let first = match (r.get("urls"), r.get("url")) {
            (Some(Conf::List(l)), _) => l.first().cloned(),
            (_, Some(u)) => Some(u.clone()),
            _ => None,
        };
        let scheme = match first {
            Some(Conf::Str(u)) => u.split_once("://").map(|(sc, _)| sc.to_string()),
            _ => None,
        }
        .unwrap_or_else(|| "nats".into());
        r.remove("url");
        r.set(
            "urls",
            Conf::List(
                targets
                    .iter()
                    .map(|t| s(format!("{scheme}://{t}")))
                    .collect(),
            ),
        );
    }
}

/// Every `tls` block's file paths, anywhere in the tree, to the pod folder's copies.
pub fn tls_paths(m: &mut ConfMap, pod_dir: &Path) {
    for item in &mut m.items {
        let Item::Kv(k, v) = item else { continue };
        if k == "tls"
            && let Conf::Map(t) = v
        {
            for key in ["cert_file", "key_file", "ca_file"] {
                if let Some(Conf::Str(p)) = t.get(key) {
                    let local = cert_path(pod_dir, p).display().to_string();
                    t.set(key, s(local));
                }
            }
        }
        tls_in(v, pod_dir);
    }
}

fn tls_in(c: &mut Conf, pod_dir: &Path) {
    match c {
        Conf::Map(m) => tls_paths(m, pod_dir),
        Conf::List(l) => l.iter_mut().for_each(|x| tls_in(x, pod_dir)),
        _ => {}
    }
}

/// A pod's main config (nats.conf), rewritten.
pub fn main_config(conf: &mut ConfMap, pod_dir: &Path, a: &Addresses) {
    conf.set("host", s("127.0.0.1"));
    conf.set("port", Conf::Int(a.client.into()));
    if conf.get("http_port").is_some() || conf.get("http").is_none() {
        conf.set("http_port", Conf::Int(a.http.into()));
    }
    if conf.get("pid_file").is_some() {
        conf.set(
            "pid_file",
            s(pod_dir.join("nats.pid").display().to_string()),
        );
    }
    if let Some(js) = map(conf, "jetstream") {
        js.set(
            "store_dir",
            s(pod_dir.join("jetstream").display().to_string()),
        );
    }
    if let Some(c) = map(conf, "cluster") {
        loopback(c, a.cluster);
        if c.get("routes").is_some() {
            c.set(
                "routes",
                Conf::List(a.routes.iter().map(|r| s(r.clone())).collect()),
            );
        }
    }
    if let Some(l) = map(conf, "leafnodes") {
        loopback(l, a.leaf);
        remotes(l, &a.leaf_targets);
    }
    if let Some(mq) = map(conf, "mqtt") {
        loopback(mq, a.mqtt);
    }
    if let Some(ws) = map(conf, "websocket") {
        loopback(ws, a.websocket);
    }
    if let Some(gw) = map(conf, "gateway") {
        loopback(gw, a.gateway);
    }
    tls_paths(conf, pod_dir);
}

/// An included file, rewritten: the leaf remotes (leafnodes.conf is included in `leafnodes`)
/// and TLS paths; the accounts files have nothing to rewrite.
pub fn included(conf: &mut ConfMap, pod_dir: &Path, a: &Addresses, in_leafnodes: bool) {
    if in_leafnodes {
        remotes(conf, &a.leaf_targets);
    }
    tls_paths(conf, pod_dir);
}

/// The paths at which two configs differ: a key only in one, or a different value (lists of
/// maps item by item as `key[]`, other lists as a whole).
pub fn diff(a: &ConfMap, b: &ConfMap) -> Vec<String> {
    let mut out = vec![];
    diff_maps(a, b, "", &mut out);
    out.sort();
    out.dedup();
    out
}

fn diff_maps(a: &ConfMap, b: &ConfMap, at: &str, out: &mut Vec<String>) {
    let join = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    let (ea, eb) = (a.entries(), b.entries());
    fn find<'a>(e: &[(&str, &'a Conf)], k: &str) -> Option<&'a Conf> {
        e.iter()
            .find(|(x, _)| x.eq_ignore_ascii_case(k))
            .map(|(_, v)| *v)
    }
    for (k, va) in &ea {
        match find(&eb, k) {
            None => out.push(join(k)),
            Some(vb) => diff_values(va, vb, &join(k), out),
        }
    }
    for (k, _) in &eb {
        if find(&ea, k).is_none() {
            out.push(join(k));
        }
    }
}

fn diff_values(a: &Conf, b: &Conf, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Conf::Map(x), Conf::Map(y)) => diff_maps(x, y, at, out),
        (Conf::List(x), Conf::List(y))
            if x.len() == y.len() && x.iter().all(|i| matches!(i, Conf::Map(_))) =>
        {
            for (i, j) in x.iter().zip(y) {
                diff_values(i, j, &format!("{at}[]"), out);
            }
        }
        _ if a == b => {}
        // The printers differ in how they write a number or a string the server reads alike.
        (Conf::Int(x), Conf::Bare(y)) | (Conf::Bare(y), Conf::Int(x)) if x.to_string() == *y => {}
        _ => out.push(at.to_string()),
    }
}

/// Whether a diff path is one the table lists.
pub fn listed(path: &str) -> bool {
    REWRITES.iter().any(|r| matches(r.path, path))
}

/// `*.` stands for any keys before (none too); `[]` marks list items on both sides.
pub fn matches(pattern: &str, path: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(rest) => path == rest || path.ends_with(&format!(".{rest}")),
        None => pattern == path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("*.tls.cert_file", "mqtt.tls.cert_file"));
        assert!(matches(
            "*.tls.cert_file",
            "leafnodes.remotes[].tls.cert_file"
        ));
        assert!(matches("*.tls.cert_file", "tls.cert_file"));
        assert!(!matches("*.tls.cert_file", "tls.cert_filex"));
        assert!(matches("cluster.routes", "cluster.routes"));
        assert!(!matches("port", "mqtt.port"));
        assert!(listed("leafnodes.remotes[].urls"));
        assert!(!listed("authorization"));
    }

    #[test]
    fn diffs() {
        let a = "a: 1\nd: [\"x\"]\nb {\n  c: 2\n}\nr: [{u: 1}]\n";
        let b = "a: 1\nd: [\"x\", \"y\"]\nb {\n  c: 3\n}\nr: [{u: 2}]\nz: 1\n";
        let (a, b) = (
            crate::natsconf::parse_conf(a).unwrap(),
            crate::natsconf::parse_conf(b).unwrap(),
        );
        assert_eq!(diff(&a, &b), vec!["b.c", "d", "r[].u", "z"]);
    }
}
