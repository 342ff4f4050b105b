//! Rules on the cluster's identity: type, ids, endpoint, subject syntax, secret overrides.

use crate::diag::{Code, Diagnostic, Sources, Span, suggest};
use crate::load::{Node, V};
use crate::model::{ListKind, Model, names::secret_keys};
use crate::subject::Pattern;

pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// An id written as a YAML number. Helm reads every number as a float and the chart prints
/// ids with `%s`, so `clusterId: 9` becomes `cpc.%!s(float64=9).>` in subjects and
/// `nats-leaf-cpc-%!s(float64=9)` in secret names: the cluster routes nothing it should. Only
/// the ids the cluster uses are judged (clusterId on a CPC, cpcIds on a CSC), except a number
/// that does not even read back as written (`1.0`, `010`, `1e3`), which is refused anywhere.
pub fn numeric_ids(root: &Node, sources: &Sources) -> Vec<Diagnostic> {
    let Some(eb) = root.path(&["global", "eventBus"]) else {
        return vec![];
    };
    let cluster_type = eb.get("clusterType").and_then(Node::as_str).unwrap_or("");
    let cpc_ids = eb.get("cpcIds").map(Node::items).unwrap_or_default();
    let ids = eb
        .get("clusterId")
        .into_iter()
        .map(|n| ("clusterId", n, cluster_type == "cpc"))
        .chain(
            cpc_ids
                .iter()
                .map(|n| ("the CPC id", n, cluster_type == "csc")),
        );
    let mut out = vec![];
    for (what, n, used) in ids {
        if !matches!(n.v, V::Int(_) | V::Float(_)) {
            continue;
        }
        let src = sources.get(n.span.src);
        let written = src
            .text
            .get(n.span.offset as usize..(n.span.offset + n.span.len) as usize)
            .unwrap_or("")
            .trim()
            .to_string();
        let read = n.scalar_text().unwrap_or_default();
        let written = if written.is_empty() {
            read.clone()
        } else {
            written
        };
        let id = NumericId {
            what,
            from_set: src.name == "--set",
            ids: cpc_ids
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .or_else(|| i.scalar_text())
                        .unwrap_or_default()
                })
                .collect(),
            written,
            read,
            at: n.span,
        };
        if id.written != id.read {
            out.push(Finding::NumberNotAsWritten(id).into());
        } else if used {
            out.push(Finding::UnquotedId(id).into());
        }
    }
    out
}

/// Checks a leaf URL: `nats://`, `tls://`, `ws://` or `wss://`, a host, an optional port.
pub fn endpoint_problem(url: &str) -> Option<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some("it has no scheme; write nats://host:7422 or tls://host:7422".into());
    };
    if !matches!(scheme, "nats" | "tls" | "ws" | "wss") {
        return Some(format!(
            "the scheme `{scheme}` is not one a leaf remote dials (nats, tls, ws, wss)"
        ));
    }
    let authority = rest.split('/').next().unwrap_or("");
    let hostport = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
        match stripped.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => return Some("an IPv6 address is not closed with `]`".into()),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Some("it names no host".into());
    }
    if host.chars().any(|c| c.is_whitespace() || c == ',') {
        return Some("the host contains a space or a comma".into());
    }
    if let Some(p) = port {
        match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => {}
            _ => return Some(format!("the port `{p}` is not a number from 1 to 65535")),
        }
    }
    None
}

/// Keys the chart reads only for the other cluster type, when the values give them a value
/// (the chart's defaults are all empty).
fn unused_for_cluster_type(eb: Option<&Node>, m: &Model, out: &mut Vec<Diagnostic>) {
    let Some(eb) = eb else { return };
    let (keys, here, there): (&[&str], &str, &str) = if m.is_cpc() {
        (&["cpcIds", "cscLeafServerTLS"], "CPC", "CSC")
    } else {
        (
            &["clusterId", "cscEndpoint", "cpcLeafClientTLS"],
            "CSC",
            "CPC",
        )
    };
    for key in keys {
        let Some(e) = eb.entry(key) else { continue };
        let set = match &e.value.v {
            V::Str(s) => !s.is_empty(),
            V::Seq(items) => !items.is_empty(),
            V::Map(entries) => !entries.is_empty(),
            V::Null => false,
            _ => true,
        };
        if set {
            out.push(
                Setting::UnusedForClusterType {
                    key,
                    here,
                    there,
                    at: e.key_span,
                }
                .into(),
            );
        }
    }
}

/// On a CSC, nats-mtls joins the bus through the cluster's own leaf listener, with remotes the
/// chart renders without TLS settings: no CA, no certificate. A listener serving TLS from a
/// private CA fails their handshake, and one that verifies client certificates refuses them
/// (measured with `natscc up`: nats-mtls logs "x509: certificate signed by unknown authority",
/// the CSC "tls: bad certificate"). The chart's own reference values do this, so it warns.
fn mtls_behind_leaf_tls(eb: Option<&Node>, m: &Model, out: &mut Vec<Diagnostic>) {
    let Some(tls) = eb.and_then(|e| e.get("cscLeafServerTLS")) else {
        return;
    };
    let Some(cert) = tls
        .get("cert_file")
        .filter(|c| c.as_str().is_some_and(|s| !s.is_empty()))
    else {
        return;
    };
    if m.is_cpc() || !m.mtls {
        return;
    }
    out.push(Setting::MtlsLeafTls { at: cert.span }.into());
}

/// An MQTT client keeps its session in a file-stored stream of its own account. NACK creates
/// the MQTT streams in memory for the CSC and CPC accounts only, so with the file store off
/// (the chart's default) a client landing in an extra account with JetStream is refused:
/// measured with `natscc up` on the lab values, 2.12.6 at CONNECT ("create sessions stream ...
/// insufficient storage resources available"), 2.15.1 at its first subscription ("unable to
/// persist session ... insufficient resources").
fn mqtt_without_file_store(root: &Node, m: &Model, out: &mut Vec<Diagnostic>) {
    let on = |path: &[&str]| root.path(path).is_some_and(Node::truthy);
    if !on(&["nats", "config", "mqtt", "enabled"])
        || !on(&["nats", "config", "jetstream", "enabled"])
        || on(&["nats", "config", "jetstream", "fileStore", "enabled"])
    {
        return;
    }
    let p = &m.permissions;
    let identities = p.oauth2.iter().chain(&p.nkey).chain(&p.noauth);
    for a in &m.extra_accounts {
        let Some(js) = a.fields.iter().find(|f| f.key == "jetstream") else {
            continue;
        };
        if !js.value.truthy() || crate::check::accounts::owned_account_field(m, "jetstream") {
            continue;
        }
        let users: Vec<&str> = identities
            .clone()
            .filter(|id| {
                id.account
                    .as_ref()
                    .is_some_and(|acc| acc.value == a.name.value)
            })
            .map(|id| id.name.value.as_str())
            .collect();
        if users.is_empty() {
            continue;
        }
        out.push(
            Setting::MqttFileStore {
                users,
                account: &a.name.value,
                at: js.key_span,
            }
            .into(),
        );
    }
}

/// The cluster's identity: type, ids, endpoint, cross-layer subjects, secret overrides; then
/// the keys for the other cluster type, mTLS behind leaf TLS, MQTT without a file store.
pub fn check(root: &Node, model: Option<&Model>) -> Vec<Diagnostic> {
    let mut out = vec![];
    let eb = root.path(&["global", "eventBus"]);
    cluster_type(eb, &mut out);
    let Some(m) = model else { return out };
    unused_for_cluster_type(eb, m, &mut out);
    mtls_behind_leaf_tls(eb, m, &mut out);
    mqtt_without_file_store(root, m, &mut out);
    if m.is_cpc() {
        cpc_identity(m, &mut out);
    }
    cpc_ids(m, &mut out);
    subjects(m, &mut out);
    secret_overrides(m, &mut out);
    out
}

/// clusterType is csc or cpc.
fn cluster_type(eb: Option<&Node>, out: &mut Vec<Diagnostic>) {
    if let Some(ct) = eb.and_then(|e| e.get("clusterType"))
        && !matches!(ct.as_str(), Some("csc" | "cpc"))
    {
        let shown = ct
            .scalar_text()
            .unwrap_or_else(|| ct.type_name().to_string());
        let lower = ct
            .as_str()
            .map(str::to_ascii_lowercase)
            .filter(|l| matches!(l.as_str(), "csc" | "cpc"));
        out.push(
            Finding::ClusterType {
                shown,
                lower,
                at: ct.span,
            }
            .into(),
        );
    }
}

/// A CPC's clusterId and cscEndpoint.
fn cpc_identity(m: &Model, out: &mut Vec<Diagnostic>) {
    match &m.cluster_id {
        None => out.push(
            Finding::MissingClusterId {
                at: m.event_bus_span,
            }
            .into(),
        ),
        Some(id) if !valid_id(&id.value) => out.push(
            Finding::InvalidId {
                what: "clusterId",
                id: &id.value,
                at: id.span,
            }
            .into(),
        ),
        _ => {}
    }
    match &m.csc_endpoint {
        None => out.push(
            Finding::MissingCscEndpoint {
                at: m.event_bus_span,
            }
            .into(),
        ),
        Some(ep) => {
            if let Some(problem) = endpoint_problem(&ep.value) {
                out.push(
                    Finding::CscEndpoint {
                        endpoint: &ep.value,
                        problem,
                        at: ep.span,
                    }
                    .into(),
                );
            }
        }
    }
}

/// The CSC's cpcIds: valid ids, each once.
fn cpc_ids(m: &Model, out: &mut Vec<Diagnostic>) {
    let mut first_of: std::collections::HashMap<&str, &crate::model::Spanned<String>> =
        std::collections::HashMap::new();
    for id in &m.cpc_ids {
        if !valid_id(&id.value) {
            out.push(
                Finding::InvalidId {
                    what: "the CPC id",
                    id: &id.value,
                    at: id.span,
                }
                .into(),
            );
        }
        if let Some(first) = first_of.get(id.value.as_str()).copied().or_else(|| {
            first_of.insert(&id.value, id);
            None
        }) {
            out.push(
                Listed::DuplicateCpcId {
                    id: &id.value,
                    at: id.span,
                    first_at: first.span,
                }
                .into(),
            );
        }
    }
}

/// The cross-layer lists hold valid subject patterns.
fn subjects(m: &Model, out: &mut Vec<Diagnostic>) {
    for kind in ListKind::ALL {
        for sub in m.cross.list(kind) {
            if let Err(e) = Pattern::parse(&sub.value) {
                out.push(
                    Listed::Subject {
                        subject: &sub.value,
                        list: kind.key(),
                        error: e.to_string(),
                        at: sub.span,
                    }
                    .into(),
                );
            }
        }
    }
}

/// nkeySecretRefOverrides: a secret and key the cluster uses, an env value tree, no seed.
fn secret_overrides(m: &Model, out: &mut Vec<Diagnostic>) {
    let keys = secret_keys(m);
    for (secret, key, value) in &m.secret_overrides {
        let known_secret = keys.iter().any(|k| k.secret == secret.value);
        if !known_secret {
            let mut names: Vec<&str> = keys.iter().map(|k| k.secret.as_str()).collect();
            names.dedup();
            out.push(
                Listed::UnknownSecret {
                    secret: &secret.value,
                    names,
                    at: secret.span,
                }
                .into(),
            );
            continue;
        }
        if !keys
            .iter()
            .any(|k| k.secret == secret.value && k.key == key.value)
        {
            let ks: Vec<&str> = keys
                .iter()
                .filter(|k| k.secret == secret.value)
                .map(|k| k.key.as_str())
                .collect();
            out.push(
                Listed::UnknownSecretKey {
                    secret: &secret.value,
                    key: &key.value,
                    keys: ks,
                    at: key.span,
                }
                .into(),
            );
            continue;
        }
        let literal = value
            .get("value")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if literal.starts_with('S')
            && (nkeys::KeyPair::from_seed(literal).is_ok()
                || nkeys::XKey::from_seed(literal).is_ok())
        {
            out.push(
                Listed::SeedInOverride {
                    secret: &secret.value,
                    key: &key.value,
                    at: key.span,
                }
                .into(),
            );
            continue;
        }
        let ok = value
            .as_object()
            .is_some_and(|o| o.contains_key("valueFrom") || o.contains_key("value"));
        if !ok {
            out.push(
                Listed::NotEnvTree {
                    secret: &secret.value,
                    key: &key.value,
                    at: key.span,
                }
                .into(),
            );
        }
    }
}

/// A cluster id written as a YAML number: what was written, how it reads, and where it came
/// from (a values file or `--set`), for the fix.
struct NumericId<'a> {
    /// `clusterId` or `the CPC id`.
    what: &'a str,
    from_set: bool,
    /// The CSC's cpcIds as text, for the quoted list.
    ids: Vec<String>,
    written: String,
    read: String,
    at: Span,
}

impl NumericId<'_> {
    /// What to write instead.
    fn fix(&self) -> String {
        let written = &self.written;
        match (self.what == "clusterId", self.from_set) {
            (true, false) => format!("quote it: clusterId: \"{written}\""),
            (false, false) => {
                let quoted: Vec<String> = self.ids.iter().map(|i| format!("\"{i}\"")).collect();
                format!("quote each id: cpcIds: [{}]", quoted.join(", "))
            }
            // `--set` reads digits as a number, in Helm as here; `--set-string` keeps the text.
            (true, true) => {
                format!("pass it as text: --set-string global.eventBus.clusterId={written}")
            }
            (false, true) => {
                "pass the ids as text: --set-string 'global.eventBus.cpcIds={1,2}'".to_string()
            }
        }
    }
}

/// What the rules above find; `From<Finding> for Diagnostic` words every one of them.
enum Finding<'a> {
    InvalidId {
        what: &'a str,
        id: &'a str,
        at: Span,
    },
    NumberNotAsWritten(NumericId<'a>),
    UnquotedId(NumericId<'a>),
    /// `lower`: the value in lower case, when that is a cluster type.
    ClusterType {
        shown: String,
        lower: Option<String>,
        at: Span,
    },
    MissingClusterId {
        at: Span,
    },
    MissingCscEndpoint {
        at: Span,
    },
    CscEndpoint {
        endpoint: &'a str,
        problem: String,
        at: Span,
    },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::InvalidId { what, id, at } => {
                let fixed: String = id
                    .to_ascii_lowercase()
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect();
                Diagnostic::new(
                    Code::ClusterId,
                    format!("{what} `{id}` is not lower-case letters and digits only"),
                )
                .at(at, "invalid id")
                .help(if fixed.is_empty() || fixed == id {
                    "use only a-z and 0-9, e.g. `1` or `edge7`".to_string()
                } else {
                    format!("write it as `{fixed}`")
                })
            }
            Finding::NumberNotAsWritten(id) => Diagnostic::new(
                Code::ClusterId,
                format!(
                    "{} `{}` is a number that reads as `{}`, not as written",
                    id.what, id.written, id.read
                ),
            )
            .at(id.at, "numeric id")
            .help(format!(
                "{} (ids are lower-case letters and digits)",
                id.fix()
            )),
            Finding::UnquotedId(id) => Diagnostic::new(
                Code::UnquotedId,
                format!(
                    "{} `{}` is a YAML number: the chart prints it as `%!s(float64={})` in \
                     subjects, secret names and env names",
                    id.what, id.written, id.read
                ),
            )
            .at(id.at, "unquoted id")
            .help(id.fix()),
            Finding::ClusterType { shown, lower, at } => {
                let d = Diagnostic::new(
                    Code::ClusterType,
                    format!("clusterType `{shown}` is neither `csc` nor `cpc`"),
                )
                .at(at, "unknown cluster type");
                match lower {
                    Some(l) => d.help(format!("write it in lower case: `{l}`")),
                    None => {
                        d.help("use `csc` for the central cluster or `cpc` for an edge cluster")
                    }
                }
            }
            Finding::MissingClusterId { at } => {
                Diagnostic::new(Code::MissingClusterId, "a CPC needs `clusterId`")
                    .at(at, "global.eventBus has no clusterId")
                    .help(
                        "add `clusterId: \"1\"` (lower-case letters and digits) under \
                         global.eventBus",
                    )
            }
            Finding::MissingCscEndpoint { at } => Diagnostic::new(
                Code::MissingCscEndpoint,
                "a CPC needs `cscEndpoint`, the CSC leaf listener it dials",
            )
            .at(at, "global.eventBus has no cscEndpoint")
            .help("add e.g. `cscEndpoint: nats://csc-gateway:7422` under global.eventBus"),
            Finding::CscEndpoint {
                endpoint,
                problem,
                at,
            } => Diagnostic::new(
                Code::CscEndpoint,
                format!("cscEndpoint `{endpoint}` is not a usable leaf URL: {problem}"),
            )
            .at(at, "invalid endpoint")
            .help("write it as nats://HOST:7422 or tls://HOST:7422"),
        }
    }
}

/// What the rules on the values' lists find: cpcIds, crossLayer subjects, secret overrides.
enum Listed<'a> {
    DuplicateCpcId {
        id: &'a str,
        at: Span,
        first_at: Span,
    },
    Subject {
        subject: &'a str,
        list: &'a str,
        error: String,
        at: Span,
    },
    UnknownSecret {
        secret: &'a str,
        names: Vec<&'a str>,
        at: Span,
    },
    UnknownSecretKey {
        secret: &'a str,
        key: &'a str,
        keys: Vec<&'a str>,
        at: Span,
    },
    SeedInOverride {
        secret: &'a str,
        key: &'a str,
        at: Span,
    },
    NotEnvTree {
        secret: &'a str,
        key: &'a str,
        at: Span,
    },
}

impl From<Listed<'_>> for Diagnostic {
    fn from(f: Listed<'_>) -> Diagnostic {
        match f {
            Listed::DuplicateCpcId { id, at, first_at } => Diagnostic::new(
                Code::DuplicateCpcId,
                format!("the CPC id `{id}` is listed twice in cpcIds"),
            )
            .at(at, "listed again here")
            .at(first_at, "first listed here")
            .help("remove the second entry"),
            Listed::Subject {
                subject,
                list,
                error,
                at,
            } => Diagnostic::new(
                Code::Subject,
                format!("`{subject}` in crossLayer.{list} is not a valid NATS subject: {error}"),
            )
            .at(at, "invalid subject")
            .help(
                "tokens are separated by `.`, `*` matches one token, `>` matches the rest and \
                 stands last, e.g. `sensor.>`",
            ),
            Listed::UnknownSecret { secret, names, at } => {
                let d = Diagnostic::new(
                    Code::SecretRefOverride,
                    format!(
                        "nkeySecretRefOverrides names the secret `{secret}`, which this cluster \
                         does not use"
                    ),
                )
                .at(at, "unknown secret");
                match suggest(secret, names.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!(
                        "the secrets of this cluster are: {}",
                        names.join(", ")
                    )),
                }
            }
            Listed::UnknownSecretKey {
                secret,
                key,
                keys,
                at,
            } => Diagnostic::new(
                Code::SecretRefOverride,
                format!("the secret `{secret}` has no key `{key}`"),
            )
            .at(at, "unknown key")
            .help(format!("its keys are: {}", keys.join(", "))),
            Listed::SeedInOverride { secret, key, at } => Diagnostic::new(
                Code::SecretRefOverride,
                format!(
                    "the override for `{secret}`/`{key}` writes a seed into the values; it would \
                     reach env.yaml and the pod spec in clear"
                ),
            )
            .at(at, "a secret in the values")
            .help("point at a Secret instead: `valueFrom: {secretKeyRef: {name: ..., key: ...}}`"),
            Listed::NotEnvTree { secret, key, at } => Diagnostic::new(
                Code::SecretRefOverride,
                format!("the override for `{secret}`/`{key}` is not an env value tree"),
            )
            .at(at, "needs `valueFrom:` or `value:`")
            .help("write e.g. `valueFrom: {secretKeyRef: {name: my-secret, key: seed}}`"),
        }
    }
}

/// What the rules on settings the cluster's type or listeners undo find.
enum Setting<'a> {
    UnusedForClusterType {
        key: &'a str,
        here: &'a str,
        there: &'a str,
        at: Span,
    },
    MtlsLeafTls {
        at: Span,
    },
    /// Identities landing in an extra account with JetStream, without a file store.
    MqttFileStore {
        users: Vec<&'a str>,
        account: &'a str,
        at: Span,
    },
}

impl From<Setting<'_>> for Diagnostic {
    fn from(f: Setting<'_>) -> Diagnostic {
        match f {
            Setting::UnusedForClusterType {
                key,
                here,
                there,
                at,
            } => Diagnostic::new(
                Code::UnusedForClusterType,
                format!("`{key}` does nothing on a {here}: the chart reads it only on a {there}"),
            )
            .at(at, format!("ignored on a {here}"))
            .help(format!(
                "remove it from this {here}'s values, or move it to the {there}'s"
            )),
            Setting::MtlsLeafTls { at } => Diagnostic::new(
                Code::MtlsLeafTls,
                "mTLS is on, and this CSC's leaf listener serves TLS (cscLeafServerTLS): \
                 nats-mtls joins through that listener with remotes the chart renders without a \
                 CA or a certificate, so the handshake fails (\"x509: certificate signed by \
                 unknown authority\"; with `verify`, \"tls: bad certificate\") and MQTT clients on \
                 the mTLS listener reach no other client",
            )
            .at(at, "TLS on the leaf listener nats-mtls dials")
            .help(
                "turn mTLS off on this CSC (`global.eventBus.mtls.enabled: false`), or serve its \
                 leaf listener without TLS",
            ),
            Setting::MqttFileStore { users, account, at } => {
                let (who, lands) = if users.len() == 1 {
                    ("the identity", "lands")
                } else {
                    ("the identities", "land")
                };
                Diagnostic::new(
                    Code::MqttFileStore,
                    format!(
                        "MQTT is on and the file store is off, and {who} `{}` {lands} in the \
                         extra account `{account}`, which has JetStream: an MQTT client there is \
                         refused (nats-server 2.12.6 at CONNECT: \"create sessions stream ... \
                         insufficient storage resources available\"; 2.14+ at its first \
                         subscription: \"unable to persist session\"): NACK prepares MQTT streams \
                         in memory only for the CSC and CPC accounts",
                        users.join("`, `"),
                    ),
                )
                .at(at, "JetStream in this account, no file store")
                .help(
                    "turn the file store on (`nats.config.jetstream.fileStore.enabled: true`), or \
                     have MQTT clients land in the CSC or CPC account; NATS clients of this \
                     account are not affected",
                )
            }
        }
    }
}
