//! The closed shape of the NATS chart's values: every key of `config` the chart reads, with its
//! type, walked over the merged values. A key the chart does not read is reported with the
//! place the chart does read that setting; a key of the 0.x chart with its 1.x place.

use crate::diag::{Code, Diagnostic, Sources, suggest};
use crate::load::{Node, V};

/// What the chart expects at a key.
enum T {
    Bool,
    Port,
    Count,
    Str,
    /// A NATS size: an integer or a size word (`10Gi`).
    Size,
    /// `merge`: free-form NATS config (a map).
    Merge,
    /// `patch`: a list of JSON Patch operations.
    Patch,
    /// Anything (Kubernetes objects the chart passes through).
    Any,
    Map(&'static [(&'static str, T)]),
}

const TLS: T = T::Map(&[
    ("enabled", T::Bool),
    ("secretName", T::Str),
    ("dir", T::Str),
    ("cert", T::Str),
    ("key", T::Str),
    ("merge", T::Merge),
    ("patch", T::Patch),
]);
const PVC: T = T::Map(&[
    ("enabled", T::Bool),
    ("size", T::Size),
    ("storageClassName", T::Str),
    ("name", T::Any),
    ("merge", T::Any),
    ("patch", T::Patch),
]);

/// `config`, key by key (chart 1.x, app 2.12).
const CONFIG: T = T::Map(&[
    (
        "cluster",
        T::Map(&[
            ("enabled", T::Bool),
            ("port", T::Port),
            ("replicas", T::Count),
            ("tls", TLS),
            ("routeURLs", T::Map(&[("user", T::Str), ("password", T::Str), ("useFQDN", T::Bool), ("k8sClusterDomain", T::Str)])),
            ("merge", T::Merge),
            ("patch", T::Patch),
        ]),
    ),
    (
        "jetstream",
        T::Map(&[
            ("enabled", T::Bool),
            ("fileStore", T::Map(&[("enabled", T::Bool), ("dir", T::Str), ("pvc", PVC), ("maxSize", T::Size)])),
            ("memoryStore", T::Map(&[("enabled", T::Bool), ("maxSize", T::Size)])),
            ("merge", T::Merge),
            ("patch", T::Patch),
        ]),
    ),
    ("nats", T::Map(&[("port", T::Port), ("tls", TLS)])),
    ("leafnodes", T::Map(&[("enabled", T::Bool), ("port", T::Port), ("tls", TLS), ("merge", T::Merge), ("patch", T::Patch)])),
    (
        "websocket",
        T::Map(&[("enabled", T::Bool), ("port", T::Port), ("tls", TLS), ("ingress", T::Any), ("merge", T::Merge), ("patch", T::Patch)]),
    ),
    ("mqtt", T::Map(&[("enabled", T::Bool), ("port", T::Port), ("tls", TLS), ("merge", T::Merge), ("patch", T::Patch)])),
    ("gateway", T::Map(&[("enabled", T::Bool), ("port", T::Port), ("tls", TLS), ("merge", T::Merge), ("patch", T::Patch)])),
    ("monitor", T::Map(&[("enabled", T::Bool), ("port", T::Port), ("tls", T::Map(&[("enabled", T::Bool)]))])),
    ("profiling", T::Map(&[("enabled", T::Bool), ("port", T::Port)])),
    ("resolver", T::Map(&[("enabled", T::Bool), ("dir", T::Str), ("pvc", PVC), ("merge", T::Merge), ("patch", T::Patch)])),
    ("serverNamePrefix", T::Str),
    ("merge", T::Merge),
    ("patch", T::Patch),
]);

/// Top-level keys of the 1.x chart; their contents are Kubernetes objects natscc passes over.
const TOP: &[&str] = &[
    "global",
    "nameOverride",
    "fullnameOverride",
    "namespaceOverride",
    "config",
    "container",
    "reloader",
    "promExporter",
    "service",
    "statefulSet",
    "podTemplate",
    "headlessService",
    "configMap",
    "natsBox",
    "serviceAccount",
    "podDisruptionBudget",
    "tlsCA",
    "extraResources",
    "natscc",
];

/// Keys of the 0.x chart and where the 1.x chart reads the same setting. Longest prefix wins.
const LEGACY: &[(&str, &str)] = &[
    ("nats", "the 1.x chart reads server settings under `config` (see its values.yaml)"),
    ("nats.image", "`container.image`"),
    ("nats.resources", "`container.merge.resources`"),
    ("nats.serverNamePrefix", "`config.serverNamePrefix`"),
    ("nats.tls", "`config.nats.tls` (secretName, cert, key; verify and CA through `config.nats.tls.merge` and `tlsCA`)"),
    ("nats.jetstream", "`config.jetstream`"),
    ("nats.jetstream.enabled", "`config.jetstream.enabled`"),
    ("nats.jetstream.domain", "`config.jetstream.merge.domain`"),
    ("nats.jetstream.encryption", "`config.jetstream.merge` (`cipher`, `key`)"),
    ("nats.jetstream.memStorage", "`config.jetstream.memoryStore`"),
    ("nats.jetstream.memStorage.enabled", "`config.jetstream.memoryStore.enabled`"),
    ("nats.jetstream.memStorage.size", "`config.jetstream.memoryStore.maxSize`"),
    ("nats.jetstream.fileStorage", "`config.jetstream.fileStore`"),
    ("nats.jetstream.fileStorage.enabled", "`config.jetstream.fileStore.enabled`"),
    ("nats.jetstream.fileStorage.storageDirectory", "`config.jetstream.fileStore.dir`"),
    ("nats.jetstream.fileStorage.size", "`config.jetstream.fileStore.pvc.size`"),
    ("nats.jetstream.fileStorage.storageClassName", "`config.jetstream.fileStore.pvc.storageClassName`"),
    ("nats.jetstream.fileStorage.existingClaim", "`config.jetstream.fileStore.pvc` (merge) or `statefulSet.patch`"),
    ("nats.limits", "`config.merge` (raw server options)"),
    ("nats.limits.maxConnections", "`config.merge.max_connections`"),
    ("nats.limits.maxSubscriptions", "`config.merge.max_subscriptions`"),
    ("nats.limits.maxControlLine", "`config.merge.max_control_line`"),
    ("nats.limits.maxPayload", "`config.merge.max_payload`"),
    ("nats.limits.writeDeadline", "`config.merge.write_deadline`"),
    ("nats.limits.maxPending", "`config.merge.max_pending`"),
    ("nats.limits.maxPings", "`config.merge.ping_max`"),
    ("nats.limits.lameDuckDuration", "`config.merge.lame_duck_duration`"),
    ("nats.pingInterval", "`config.merge.ping_interval`"),
    ("nats.logging", "`config.merge` (`debug`, `trace`, `logtime`)"),
    ("cluster", "`config.cluster`"),
    ("cluster.enabled", "`config.cluster.enabled`"),
    ("cluster.replicas", "`config.cluster.replicas`"),
    ("cluster.tls", "`config.cluster.tls`"),
    ("cluster.name", "`config.cluster.merge.name`"),
    ("cluster.authorization", "`config.cluster.routeURLs`"),
    ("cluster.extraRoutes", "`config.cluster.merge.routes`"),
    ("cluster.noAdvertise", "nowhere: the 1.x chart always writes `no_advertise: true`"),
    ("leafnodes", "`config.leafnodes`"),
    ("leafnodes.enabled", "`config.leafnodes.enabled`"),
    ("leafnodes.remotes", "`config.leafnodes.merge.remotes`"),
    ("leafnodes.tls", "`config.leafnodes.tls`"),
    ("leafnodes.noAdvertise", "nowhere: the 1.x chart always writes `no_advertise: true`"),
    ("gateway", "`config.gateway`"),
    ("gateway.enabled", "`config.gateway.enabled`"),
    ("gateway.name", "`config.gateway.merge.name`"),
    ("gateway.gateways", "`config.gateway.merge.gateways`"),
    ("gateway.tls", "`config.gateway.tls`"),
    ("mqtt", "`config.mqtt`"),
    ("mqtt.enabled", "`config.mqtt.enabled`"),
    ("mqtt.tls", "`config.mqtt.tls`"),
    ("mqtt.ackWait", "`config.mqtt.merge.ack_wait`"),
    ("mqtt.maxAckPending", "`config.mqtt.merge.max_ack_pending`"),
    ("websocket", "`config.websocket`"),
    ("websocket.enabled", "`config.websocket.enabled`"),
    ("websocket.port", "`config.websocket.port`"),
    ("websocket.noTLS", "nowhere: the chart writes `no_tls: true` whenever `config.websocket.tls` is off"),
    ("websocket.sameOrigin", "`config.websocket.merge.same_origin`"),
    ("websocket.allowedOrigins", "`config.websocket.merge.allowed_origins`"),
    ("auth", "`config.merge` (`authorization`, `accounts`) or operator mode in `config.merge`"),
    ("auth.resolver", "`config.resolver` and `config.merge.resolver`"),
    ("auth.resolver.type", "`config.resolver.enabled` with `config.resolver.merge.type: full`, or `config.merge.resolver: MEMORY`"),
    ("auth.resolver.operator", "`config.merge.operator`"),
    ("auth.resolver.systemAccount", "`config.merge.system_account`"),
    ("auth.resolver.resolverPreload", "`config.merge.resolver_preload`"),
    ("auth.resolver.store", "`config.resolver.dir` and `config.resolver.pvc`"),
    ("auth.resolver.store.dir", "`config.resolver.dir`"),
    ("auth.resolver.store.size", "`config.resolver.pvc.size`"),
    ("auth.systemAccount", "`config.merge.system_account`"),
    ("auth.operatorjwt", "`config.merge.operator`"),
    ("auth.basic", "`config.merge.accounts` or `config.merge.authorization`"),
    ("auth.token", "`config.merge.authorization.token`"),
    ("auth.nkeys", "`config.merge.authorization.users`"),
    ("natsbox", "`natsBox`"),
    ("exporter", "`promExporter`"),
    ("bootconfig", "nowhere: the 1.x chart has no boot-config container"),
    ("securityContext", "`podTemplate.merge.spec.securityContext`"),
    ("podAnnotations", "`podTemplate.merge.metadata.annotations`"),
    ("affinity", "`podTemplate.merge.spec.affinity`"),
    ("nodeSelector", "`podTemplate.merge.spec.nodeSelector`"),
    ("tolerations", "`podTemplate.merge.spec.tolerations`"),
    ("topologySpreadConstraints", "`podTemplate.topologySpreadConstraints`"),
    ("priorityClassName", "`podTemplate.merge.spec.priorityClassName`"),
    ("statefulSetAnnotations", "`statefulSet.merge.metadata.annotations`"),
    ("statefulSetPodLabels", "`podTemplate.merge.metadata.labels`"),
    ("serviceAnnotations", "`service.merge.metadata.annotations`"),
    ("networkPolicy", "nowhere: the 1.x chart has no NetworkPolicy (add one under `extraResources`)"),
    ("k8sClusterDomain", "`config.cluster.routeURLs.k8sClusterDomain`"),
    ("imagePullSecrets", "`global.image.pullSecretNames`"),
];

/// Every place under `config` where a key of this name is read.
fn places(name: &str) -> Vec<String> {
    fn walk(t: &T, at: &str, name: &str, out: &mut Vec<String>) {
        if let T::Map(entries) = t {
            for (key, sub) in *entries {
                let p = format!("{at}.{key}");
                if *key == name {
                    out.push(format!("`{p}`"));
                }
                walk(sub, &p, name, out);
            }
        }
    }
    let mut out = vec![];
    walk(&CONFIG, "config", name, &mut out);
    // Client TLS is the one people misplace most: name the client block first.
    out.sort_by_key(|p| !p.starts_with("`config.nats."));
    out
}

fn type_problem(t: &T, n: &Node) -> Option<String> {
    let ok = match t {
        T::Bool => matches!(n.v, V::Bool(_)),
        T::Port => n.as_i64().is_some_and(|p| (1..=65535).contains(&p)),
        T::Count => n.as_i64().is_some_and(|c| c >= 1),
        T::Str => matches!(n.v, V::Str(_)),
        T::Size => n.as_i64().is_some_and(|i| i >= 0) || n.as_str().is_some_and(crate::emit::conf::is_size_word),
        T::Merge => matches!(n.v, V::Map(_)),
        T::Patch => matches!(n.v, V::Seq(_)) && n.items().iter().all(|op| op.get("op").and_then(Node::as_str).is_some() && op.get("path").and_then(Node::as_str).is_some()),
        T::Any => true,
        T::Map(_) => matches!(n.v, V::Map(_)),
    };
    if ok || n.is_null() {
        return None;
    }
    Some(match t {
        T::Bool => "must be true or false".into(),
        T::Port => "must be a port number between 1 and 65535".into(),
        T::Count => "must be a whole number of at least 1".into(),
        T::Str => "must be a string".into(),
        T::Size => "must be a size: a number of bytes or a word such as 10Gi or 512Mi".into(),
        T::Merge => "must be a map of NATS config (merged into the block)".into(),
        T::Patch => "must be a list of JSON Patch operations, each with `op` and `path`".into(),
        T::Map(_) => "must be a map".into(),
        T::Any => unreachable!(),
    })
}

fn walk(node: &Node, shape: &T, at: &str, out: &mut Vec<Diagnostic>) {
    let T::Map(entries) = shape else { return };
    for e in node.entries() {
        let here = format!("{at}.{}", e.key);
        match entries.iter().find(|(k, _)| *k == e.key) {
            Some((_, sub)) => {
                if let Some(p) = type_problem(sub, &e.value) {
                    out.push(
                        Diagnostic::new(Code::ChartType, format!("`{here}` {p}, not a {}", e.value.type_name()))
                            .at(e.value.span, "wrong type")
                            .help(format!("`{here}` {p}")),
                    );
                    continue;
                }
                walk(&e.value, sub, &here, out);
            }
            None => {
                let elsewhere = places(&e.key);
                let help = if !elsewhere.is_empty() {
                    format!("the chart reads `{}` at {}", e.key, elsewhere.join(", "))
                } else if let Some(s) = suggest(&e.key, entries.iter().map(|(k, _)| *k)) {
                    format!("did you mean `{at}.{s}`? To set a raw NATS option, put it under `{at}.merge`")
                } else {
                    format!("to set a raw NATS option, put it under `{at}.merge`")
                };
                out.push(
                    Diagnostic::new(Code::IgnoredChartKey, format!("the NATS chart does not read `{here}`; Helm drops it without a word"))
                        .at(e.key_span, "ignored by the chart")
                        .help(help),
                );
            }
        }
    }
}

fn legacy_place(dotted: &str) -> Option<&'static str> {
    LEGACY.iter().filter(|(p, _)| dotted == *p || dotted.starts_with(&format!("{p}."))).max_by_key(|(p, _)| p.len()).map(|(_, place)| *place)
}

/// Reports each 0.x key at its own line: leaves of a moved block, or the block itself when
/// the table moves it whole (no finer entry below it).
fn legacy(node: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    for e in node.entries() {
        let here = if at.is_empty() { e.key.clone() } else { format!("{at}.{}", e.key) };
        let finer = LEGACY.iter().any(|(p, _)| p.starts_with(&format!("{here}.")));
        if finer && matches!(e.value.v, V::Map(_)) && !e.value.entries().is_empty() {
            legacy(&e.value, &here, out);
            continue;
        }
        let place = legacy_place(&here).unwrap_or("`config`");
        out.push(
            Diagnostic::new(Code::ChartLegacyKey, format!("`{here}` is a key of the 0.x NATS chart; the 1.x chart does not read it and the setting is lost"))
                .at(e.key_span, "0.x key")
                .help(format!("the 1.x chart reads this at {place}")),
        );
    }
}

/// natscc's own keys: closed, since a typo there would silently drop a shortcut.
const NATSCC: &[(&str, &[&str])] = &[("tlsRoles", &["account", "subjects", "users"]), ("pushedAccounts", &[])];

fn natscc_keys(node: &Node, out: &mut Vec<Diagnostic>) {
    for e in node.entries() {
        match NATSCC.iter().find(|(k, _)| *k == e.key) {
            Some((key, inner)) if !inner.is_empty() => {
                for ie in e.value.entries() {
                    if !inner.contains(&ie.key.as_str()) {
                        out.push(
                            Diagnostic::new(Code::NatsccKey, format!("`natscc.{key}.{}` is not a key natscc reads", ie.key))
                                .at(ie.key_span, "unknown key")
                                .help(match suggest(&ie.key, inner.iter().copied()) {
                                    Some(s) => format!("did you mean `{s}`?"),
                                    None => format!("the keys of natscc.{key} are: {}", inner.join(", ")),
                                }),
                        );
                    }
                }
            }
            Some(_) => {}
            None => out.push(
                Diagnostic::new(Code::NatsccKey, format!("`natscc.{}` is not a key natscc reads", e.key))
                    .at(e.key_span, "unknown key")
                    .help(match suggest(&e.key, NATSCC.iter().map(|(k, _)| *k)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "natscc reads `natscc.tlsRoles` and `natscc.pushedAccounts`".into(),
                    }),
            ),
        }
    }
}

/// Strings that hold `<< ... >>` inside other text: the chart leaves them as they are.
fn embedded_refs(node: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    match &node.v {
        V::Str(t) => {
            let whole = t.trim().starts_with("<<") && t.trim().ends_with(">>");
            // The chart writes the route credentials inside the route URLs, never as a value.
            let in_url = at.starts_with("config.cluster.routeURLs.");
            if (in_url || !whole) && t.contains("<<") && t.contains(">>") {
                let (msg, help) = if in_url {
                    (format!("`{at}` is a `<< ... >>` reference, but the chart writes route credentials inside the route URLs, where it is never unwrapped"), "give the route credentials literally, or set the routes yourself in `config.cluster.merge.routes`")
                } else {
                    (format!("`{at}` holds `<< ... >>` inside a longer string; the chart unwraps only a whole value, so nats.conf gets the text literally"), "make the reference the whole value, or write the text without `<< >>`")
                };
                out.push(Diagnostic::new(Code::ChartEmbeddedRef, msg).at(node.span, "not unwrapped").help(help));
            }
        }
        V::Map(es) => es.iter().for_each(|e| embedded_refs(&e.value, &format!("{at}.{}", e.key), out)),
        V::Seq(items) => items.iter().enumerate().for_each(|(i, n)| embedded_refs(n, &format!("{at}[{i}]"), out)),
        _ => {}
    }
}

pub fn check(root: &Node, _sources: &Sources) -> Vec<Diagnostic> {
    let mut out = vec![];
    if let Some(n) = root.get("natscc") {
        natscc_keys(n, &mut out);
    }
    if let Some(c) = root.get("config") {
        embedded_refs(c, "config", &mut out);
    }
    for e in root.entries() {
        if e.key == "config" {
            match type_problem(&CONFIG, &e.value) {
                Some(p) => out.push(Diagnostic::new(Code::ChartType, format!("`config` {p}")).at(e.value.span, "wrong type")),
                None => walk(&e.value, &CONFIG, "config", &mut out),
            }
        } else if TOP.contains(&e.key.as_str()) {
            continue;
        } else if legacy_place(&e.key).is_some() {
            let mut single = Node::map(e.value.span);
            single.v = V::Map(vec![e.clone()]);
            legacy(&single, "", &mut out);
        } else {
            let help = match suggest(&e.key, TOP.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "the NATS chart's settings live under `config`; raw server options under `config.merge`".into(),
            };
            out.push(
                Diagnostic::new(Code::IgnoredChartKey, format!("the NATS chart does not read the top-level key `{}`; Helm drops it without a word", e.key))
                    .at(e.key_span, "ignored by the chart")
                    .help(help),
            );
        }
    }
    out
}
