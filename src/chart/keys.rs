//! The one table of what the official NATS Helm chart reads from its values: every key under
//! `config` (and `tlsCA`, and natscc's own `natscc`), its type, and what it renders in nats.conf.
//! Plain-chart mode (`check::nats_chart::schema`), the event-bus mode's ignored-key rule
//! (`check::chart`) and `natscc schema --chart` (schema/nats-chart.schema.json) all read it.
//!
//! Source: the chart's `values.yaml` and `files/config/*.yaml` templates in nats-io/k8s
//! (`helm/charts/nats`). natscc renders as release 2.12.6 does (the event-bus chart's
//! dependency), which reads `config.cluster.noAdvertise`. The table also holds three keys only
//! later releases read, so values written for them stay valid: `config.leafnodes.remotes` and
//! `config.lameDuckGracePeriod`/`lameDuckDuration`; 2.12.6 renders nothing from them (no remotes,
//! constant lame-duck settings) and `check::nats_chart::schema` reports each one set as ignored.

use serde_json::{Map, Value, json};

/// What the chart expects at a key. `null` is accepted everywhere: Helm reads it as unset.
pub enum T {
    Bool,
    Port,
    /// A whole number of at least 1.
    Count,
    Str,
    /// A NATS size: a number of bytes or a size word (`10Gi`).
    Size,
    /// A Go duration (`10s`, `1m30s`).
    Duration,
    /// A list of strings.
    Strings,
    /// `merge`: free-form NATS config (a map) laid over the block.
    Merge,
    /// `patch`: a list of JSON Patch operations applied to the block.
    Patch,
    /// Anything (Kubernetes objects and natscc maps the chart passes through).
    Any,
    /// A closed map.
    Map(&'static [K]),
    /// A list of closed maps.
    List(&'static [K]),
}

/// One key: its name, what it must hold, and what the chart does with it.
pub struct K {
    pub name: &'static str,
    pub t: T,
    pub doc: &'static str,
}

const fn k(name: &'static str, t: T, doc: &'static str) -> K {
    K { name, t, doc }
}

const MERGE: K = k(
    "merge",
    T::Merge,
    "NATS config merged over the rendered block",
);
const PATCH: K = k(
    "patch",
    T::Patch,
    "JSON Patch operations applied to the rendered block",
);

/// `files/config/tls.yaml`: cert and key from the mounted Secret, the CA from `tlsCA`.
const TLS_KEYS: &[K] = &[
    k("enabled", T::Bool, "renders this listener's `tls` block"),
    k(
        "secretName",
        T::Str,
        "Secret mounted at `dir`; without it the chart writes no cert_file/key_file",
    ),
    k("dir", T::Str, "mount path of the Secret"),
    k("cert", T::Str, "`cert_file` is dir/cert"),
    k("key", T::Str, "`key_file` is dir/key"),
    MERGE,
    PATCH,
];
const TLS: T = T::Map(TLS_KEYS);

const PVC: T = T::Map(&[
    k(
        "enabled",
        T::Bool,
        "a volume claim template for the directory",
    ),
    k("size", T::Size, "claim size"),
    k("storageClassName", T::Str, "storage class of the claim"),
    k("name", T::Str, "claim name"),
    k("merge", T::Any, "merged over the PersistentVolumeClaim"),
    PATCH,
]);

/// One entry of `config.leafnodes.remotes` (`files/config/leafnodes.yaml`).
const REMOTE: &[K] = &[
    k("url", T::Str, "first entry of the remote's `urls`"),
    k("urls", T::Strings, "the remote's `urls`"),
    k("account", T::Str, "the remote's `account`"),
    k(
        "credentials",
        T::Map(&[
            k(
                "secretName",
                T::Str,
                "Secret holding the credentials file; `credentials` is dir/key",
            ),
            k("key", T::Str, "key of the credentials file in the Secret"),
            k(
                "dir",
                T::Str,
                "mount path (default /etc/nats-creds/leafnodes-remote-<index>)",
            ),
        ]),
        "the remote's `credentials` file",
    ),
    k(
        "tls",
        T::Map(&[
            k("secretName", T::Str, "Secret with the client certificate"),
            k(
                "dir",
                T::Str,
                "mount path (default /etc/nats-certs/leafnodes-remote-<index>)",
            ),
            k("cert", T::Str, "`cert_file` is dir/cert"),
            k("key", T::Str, "`key_file` is dir/key"),
            MERGE,
            PATCH,
        ]),
        "the remote's `tls` block",
    ),
];

/// `config`, key by key.
pub const CONFIG: T = T::Map(&[
    k(
        "cluster",
        T::Map(&[
            k("enabled", T::Bool, "renders the `cluster` block"),
            k(
                "port",
                T::Port,
                "`cluster.port` and the port of every route",
            ),
            k(
                "replicas",
                T::Count,
                "one route per replica in `cluster.routes`",
            ),
            k(
                "noAdvertise",
                T::Bool,
                "`cluster.no_advertise` (earlier releases always write true)",
            ),
            k(
                "routeURLs",
                T::Map(&[
                    k(
                        "user",
                        T::Str,
                        "with password: route URL credentials and `cluster.authorization`",
                    ),
                    k(
                        "password",
                        T::Str,
                        "with user: route URL credentials and `cluster.authorization`",
                    ),
                    k(
                        "useFQDN",
                        T::Bool,
                        "routes use <pod>.<headless>.<namespace>.svc.<domain>",
                    ),
                    k("k8sClusterDomain", T::Str, "cluster domain of FQDN routes"),
                ]),
                "how the route URLs are written",
            ),
            k("tls", TLS, "`cluster.tls`; routes become tls://"),
            MERGE,
            PATCH,
        ]),
        "`cluster` (routes between the StatefulSet's pods)",
    ),
    k(
        "jetstream",
        T::Map(&[
            k("enabled", T::Bool, "renders the `jetstream` block"),
            k(
                "fileStore",
                T::Map(&[
                    k("enabled", T::Bool, "off: `max_file_store: 0`"),
                    k("dir", T::Str, "`jetstream.store_dir`"),
                    k(
                        "pvc",
                        PVC,
                        "volume for the store; its size is the default `max_file_store`",
                    ),
                    k("maxSize", T::Size, "`jetstream.max_file_store`"),
                ]),
                "file storage",
            ),
            k(
                "memoryStore",
                T::Map(&[
                    k("enabled", T::Bool, "off: `max_memory_store: 0`"),
                    k("maxSize", T::Size, "`jetstream.max_memory_store`"),
                ]),
                "memory storage",
            ),
            MERGE,
            PATCH,
        ]),
        "`jetstream`",
    ),
    k(
        "nats",
        T::Map(&[
            k("port", T::Port, "client `port`"),
            k("tls", TLS, "client `tls`"),
        ]),
        "the client listener",
    ),
    k(
        "leafnodes",
        T::Map(&[
            k("enabled", T::Bool, "renders the `leafnodes` block"),
            k("port", T::Port, "`leafnodes.port`"),
            k(
                "remotes",
                T::List(REMOTE),
                "`leafnodes.remotes` (newer releases; else `merge.remotes`)",
            ),
            k("tls", TLS, "`leafnodes.tls`"),
            MERGE,
            PATCH,
        ]),
        "`leafnodes`",
    ),
    k(
        "websocket",
        T::Map(&[
            k("enabled", T::Bool, "renders the `websocket` block"),
            k("port", T::Port, "`websocket.port`"),
            k(
                "tls",
                TLS,
                "`websocket.tls`; without it the chart writes `no_tls: true`",
            ),
            k("ingress", T::Any, "a Kubernetes Ingress"),
            MERGE,
            PATCH,
        ]),
        "`websocket`",
    ),
    k(
        "mqtt",
        T::Map(&[
            k("enabled", T::Bool, "renders the `mqtt` block"),
            k("port", T::Port, "`mqtt.port`"),
            k("tls", TLS, "`mqtt.tls`"),
            MERGE,
            PATCH,
        ]),
        "`mqtt`",
    ),
    k(
        "gateway",
        T::Map(&[
            k("enabled", T::Bool, "renders the `gateway` block"),
            k("port", T::Port, "`gateway.port`"),
            k("tls", TLS, "`gateway.tls`"),
            MERGE,
            PATCH,
        ]),
        "`gateway`",
    ),
    k(
        "monitor",
        T::Map(&[
            k("enabled", T::Bool, "renders `http_port`"),
            k("port", T::Port, "`http_port` (`https_port` with tls)"),
            k(
                "tls",
                T::Map(&[k(
                    "enabled",
                    T::Bool,
                    "`https_port` with the client TLS settings",
                )]),
                "HTTPS monitoring",
            ),
        ]),
        "the monitoring endpoint",
    ),
    k(
        "profiling",
        T::Map(&[
            k("enabled", T::Bool, "renders `prof_port`"),
            k("port", T::Port, "`prof_port`"),
        ]),
        "the profiling endpoint",
    ),
    k(
        "resolver",
        T::Map(&[
            k(
                "enabled",
                T::Bool,
                "renders `resolver` with only its `dir` (give `merge.type`)",
            ),
            k("dir", T::Str, "`resolver.dir`"),
            k("pvc", PVC, "volume for the resolver's JWTs"),
            MERGE,
            PATCH,
        ]),
        "`resolver` (the NATS-based account resolver's directory)",
    ),
    k(
        "lameDuckGracePeriod",
        T::Duration,
        "`lame_duck_grace_period` (earlier releases always write 10s)",
    ),
    k(
        "lameDuckDuration",
        T::Duration,
        "`lame_duck_duration` (earlier releases always write 30s)",
    ),
    k(
        "serverNamePrefix",
        T::Str,
        "prefix of `server_name` (the pod name)",
    ),
    MERGE,
    PATCH,
]);

/// `tlsCA`: one CA for every `tls` block (`ca_file`); `verify` still has to be set per block.
pub const TLS_CA: T = T::Map(&[
    k(
        "enabled",
        T::Bool,
        "adds `ca_file` to every rendered tls block",
    ),
    k(
        "configMapName",
        T::Str,
        "ConfigMap holding the CA, mounted at dir",
    ),
    k(
        "secretName",
        T::Str,
        "Secret holding the CA, mounted at dir",
    ),
    k("dir", T::Str, "mount path"),
    k("key", T::Str, "`ca_file` is dir/key"),
]);

/// natscc's own keys: shortcuts that compile to plain nats.conf (the chart never sees them).
pub const NATSCC: T = T::Map(&[
    k(
        "serverVersion",
        T::Str,
        "the nats-server release the image runs (\"2.12.6\"), when its tag names none",
    ),
    k(
        "tlsRoles",
        T::Map(&[
            k(
                "account",
                T::Str,
                "account of the admin and reader users (default APP)",
            ),
            k(
                "subjects",
                T::Strings,
                "the data subjects admin and reader apply to",
            ),
            k(
                "users",
                T::List(&[
                    k("subject", T::Str, "the client certificate's subject (a DN)"),
                    k("role", T::Str, "superuser, admin or reader"),
                ]),
                "certificate users and their roles",
            ),
        ]),
        "TLS certificate roles",
    ),
    k(
        "pushedAccounts",
        T::Any,
        "account JWTs pushed to the resolver after start, checked like preloaded ones",
    ),
]);

/// Top-level keys of the chart. Only `config`, `tlsCA` and `natscc` are walked key by key; the
/// others hold Kubernetes objects natscc passes over.
pub const TOP: &[&str] = &[
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

/// A key a chart release has read that the newest does not: where to put the setting instead.
/// Keyed by the dotted path under `config`.
pub const RETIRED: &[(&str, &str)] = &[(
    "jetstream.domain",
    "the newest chart releases do not read `config.jetstream.domain` (a few earlier ones did); \
     `config.jetstream.merge.domain` works in every release",
)];

/// Keys of the 0.x chart and where the 1.x chart reads the same setting. Longest prefix wins.
pub const LEGACY: &[(&str, &str)] = &[
    (
        "nats",
        "the 1.x chart reads server settings under `config` (see its values.yaml)",
    ),
    ("nats.image", "`container.image`"),
    ("nats.resources", "`container.merge.resources`"),
    ("nats.serverNamePrefix", "`config.serverNamePrefix`"),
    (
        "nats.tls",
        "`config.nats.tls` (secretName, cert, key; verify and CA through `config.nats.tls.merge` \
         and `tlsCA`)",
    ),
    ("nats.jetstream", "`config.jetstream`"),
    ("nats.jetstream.enabled", "`config.jetstream.enabled`"),
    ("nats.jetstream.domain", "`config.jetstream.merge.domain`"),
    (
        "nats.jetstream.encryption",
        "`config.jetstream.merge` (`cipher`, `key`)",
    ),
    (
        "nats.jetstream.memStorage",
        "`config.jetstream.memoryStore`",
    ),
    (
        "nats.jetstream.memStorage.enabled",
        "`config.jetstream.memoryStore.enabled`",
    ),
    (
        "nats.jetstream.memStorage.size",
        "`config.jetstream.memoryStore.maxSize`",
    ),
    ("nats.jetstream.fileStorage", "`config.jetstream.fileStore`"),
    (
        "nats.jetstream.fileStorage.enabled",
        "`config.jetstream.fileStore.enabled`",
    ),
    (
        "nats.jetstream.fileStorage.storageDirectory",
        "`config.jetstream.fileStore.dir`",
    ),
    (
        "nats.jetstream.fileStorage.size",
        "`config.jetstream.fileStore.pvc.size`",
    ),
    (
        "nats.jetstream.fileStorage.storageClassName",
        "`config.jetstream.fileStore.pvc.storageClassName`",
    ),
    (
        "nats.jetstream.fileStorage.existingClaim",
        "`config.jetstream.fileStore.pvc` (merge) or `statefulSet.patch`",
    ),
    ("nats.limits", "`config.merge` (raw server options)"),
    (
        "nats.limits.maxConnections",
        "`config.merge.max_connections`",
    ),
    (
        "nats.limits.maxSubscriptions",
        "`config.merge.max_subscriptions`",
    ),
    (
        "nats.limits.maxControlLine",
        "`config.merge.max_control_line`",
    ),
    ("nats.limits.maxPayload", "`config.merge.max_payload`"),
    ("nats.limits.writeDeadline", "`config.merge.write_deadline`"),
    ("nats.limits.maxPending", "`config.merge.max_pending`"),
    ("nats.limits.maxPings", "`config.merge.ping_max`"),
    (
        "nats.limits.lameDuckDuration",
        "`config.lameDuckDuration` (or `config.merge.lame_duck_duration`)",
    ),
    ("nats.pingInterval", "`config.merge.ping_interval`"),
    (
        "nats.logging",
        "`config.merge` (`debug`, `trace`, `logtime`)",
    ),
    ("cluster", "`config.cluster`"),
    ("cluster.enabled", "`config.cluster.enabled`"),
    ("cluster.replicas", "`config.cluster.replicas`"),
    ("cluster.tls", "`config.cluster.tls`"),
    ("cluster.name", "`config.cluster.merge.name`"),
    ("cluster.authorization", "`config.cluster.routeURLs`"),
    ("cluster.extraRoutes", "`config.cluster.merge.routes`"),
    (
        "cluster.noAdvertise",
        "`config.cluster.noAdvertise` (the 1.x chart writes `no_advertise: true` by default)",
    ),
    ("leafnodes", "`config.leafnodes`"),
    ("leafnodes.enabled", "`config.leafnodes.enabled`"),
    (
        "leafnodes.remotes",
        "`config.leafnodes.remotes` (or `config.leafnodes.merge.remotes`)",
    ),
    ("leafnodes.tls", "`config.leafnodes.tls`"),
    (
        "leafnodes.noAdvertise",
        "nowhere: the 1.x chart always writes `no_advertise: true` (override it in \
         `config.leafnodes.merge`)",
    ),
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
    (
        "websocket.noTLS",
        "nowhere: the chart writes `no_tls: true` whenever `config.websocket.tls` is off",
    ),
    (
        "websocket.sameOrigin",
        "`config.websocket.merge.same_origin`",
    ),
    (
        "websocket.allowedOrigins",
        "`config.websocket.merge.allowed_origins`",
    ),
    (
        "auth",
        "`config.merge` (`authorization`, `accounts`) or operator mode in `config.merge`",
    ),
    (
        "auth.resolver",
        "`config.resolver` and `config.merge.resolver`",
    ),
    (
        "auth.resolver.type",
        "`config.resolver.enabled` with `config.resolver.merge.type: full`, or \
         `config.merge.resolver: MEMORY`",
    ),
    ("auth.resolver.operator", "`config.merge.operator`"),
    (
        "auth.resolver.systemAccount",
        "`config.merge.system_account`",
    ),
    (
        "auth.resolver.resolverPreload",
        "`config.merge.resolver_preload`",
    ),
    (
        "auth.resolver.store",
        "`config.resolver.dir` and `config.resolver.pvc`",
    ),
    ("auth.resolver.store.dir", "`config.resolver.dir`"),
    ("auth.resolver.store.size", "`config.resolver.pvc.size`"),
    ("auth.systemAccount", "`config.merge.system_account`"),
    ("auth.operatorjwt", "`config.merge.operator`"),
    (
        "auth.basic",
        "`config.merge.accounts` or `config.merge.authorization`",
    ),
    ("auth.token", "`config.merge.authorization.token`"),
    ("auth.nkeys", "`config.merge.authorization.users`"),
    ("natsbox", "`natsBox`"),
    ("exporter", "`promExporter`"),
    (
        "bootconfig",
        "nowhere: the 1.x chart has no boot-config container",
    ),
    (
        "securityContext",
        "`podTemplate.merge.spec.securityContext`",
    ),
    ("podAnnotations", "`podTemplate.merge.metadata.annotations`"),
    ("affinity", "`podTemplate.merge.spec.affinity`"),
    ("nodeSelector", "`podTemplate.merge.spec.nodeSelector`"),
    ("tolerations", "`podTemplate.merge.spec.tolerations`"),
    (
        "topologySpreadConstraints",
        "`podTemplate.topologySpreadConstraints`",
    ),
    (
        "priorityClassName",
        "`podTemplate.merge.spec.priorityClassName`",
    ),
    (
        "statefulSetAnnotations",
        "`statefulSet.merge.metadata.annotations`",
    ),
    (
        "statefulSetPodLabels",
        "`podTemplate.merge.metadata.labels`",
    ),
    ("serviceAnnotations", "`service.merge.metadata.annotations`"),
    (
        "networkPolicy",
        "nowhere: the 1.x chart has no NetworkPolicy (add one under `extraResources`)",
    ),
    (
        "k8sClusterDomain",
        "`config.cluster.routeURLs.k8sClusterDomain`",
    ),
    ("imagePullSecrets", "`global.image.pullSecretNames`"),
];

/// The sub-keys of a map type (empty for anything else).
pub fn entries(t: &T) -> &'static [K] {
    match t {
        T::Map(ks) | T::List(ks) => ks,
        _ => &[],
    }
}

/// Every place under `prefix` (a `config` map) where a key of this name is read, client TLS
/// first (the block people misplace most).
pub fn places(name: &str, prefix: &str) -> Vec<String> {
    fn walk(t: &T, at: &str, name: &str, out: &mut Vec<String>) {
        let T::Map(entries) = t else { return };
        for key in *entries {
            let p = format!("{at}.{}", key.name);
            if key.name == name {
                out.push(format!("`{p}`"));
            }
            walk(&key.t, &p, name, out);
        }
    }
    let mut out = vec![];
    walk(&CONFIG, prefix, name, &mut out);
    let client = format!("`{prefix}.nats.");
    out.sort_by_key(|p| !p.starts_with(&client));
    out
}

/// What a retired key's setting should be written as, by its dotted path under `config`.
pub fn retired(under_config: &str) -> Option<&'static str> {
    RETIRED
        .iter()
        .find(|(p, _)| *p == under_config)
        .map(|(_, h)| *h)
}

/// Where the 1.x chart reads a 0.x key (longest matching prefix).
pub fn legacy_place(dotted: &str) -> Option<&'static str> {
    LEGACY
        .iter()
        .filter(|(p, _)| dotted == *p || dotted.starts_with(&format!("{p}.")))
        .max_by_key(|(p, _)| p.len())
        .map(|(_, place)| *place)
}

/// A value's problem against its key's type, or None (null always passes).
pub fn type_problem(t: &T, n: &crate::load::Node) -> Option<String> {
    use crate::load::{Node, V};
    if n.is_null() {
        return None;
    }
    let ok = match t {
        T::Bool => matches!(n.v, V::Bool(_)),
        T::Port => n.as_i64().is_some_and(|p| (1..=65535).contains(&p)),
        T::Count => n.as_i64().is_some_and(|c| c >= 1),
        T::Str => matches!(n.v, V::Str(_)),
        T::Size => {
            n.as_i64().is_some_and(|i| i >= 0) || n.as_str().is_some_and(crate::conf::is_size_word)
        }
        T::Duration => n.as_str().is_some_and(is_duration),
        T::Strings => {
            matches!(n.v, V::Seq(_)) && n.items().iter().all(|i| matches!(i.v, V::Str(_)))
        }
        T::Merge => matches!(n.v, V::Map(_)),
        T::Patch => {
            matches!(n.v, V::Seq(_))
                && n.items().iter().all(|op| {
                    op.get("op").and_then(Node::as_str).is_some()
                        && op.get("path").and_then(Node::as_str).is_some()
                })
        }
        T::Any => true,
        T::Map(_) => matches!(n.v, V::Map(_)),
        T::List(_) => {
            matches!(n.v, V::Seq(_)) && n.items().iter().all(|i| matches!(i.v, V::Map(_)))
        }
    };
    if ok {
        return None;
    }
    Some(
        match t {
            T::Bool => "must be true or false",
            T::Port => "must be a port number between 1 and 65535",
            T::Count => "must be a whole number of at least 1",
            T::Str => "must be a string",
            T::Size => "must be a size: a number of bytes or a word such as 10Gi or 512Mi",
            T::Duration => "must be a duration such as 10s or 1m30s",
            T::Strings => "must be a list of strings",
            T::Merge => "must be a map of NATS config (merged into the block)",
            T::Patch => "must be a list of JSON Patch operations, each with `op` and `path`",
            T::Map(_) => "must be a map",
            T::List(_) => "must be a list of maps",
            T::Any => "",
        }
        .to_string(),
    )
}

/// A non-negative Go duration, as nats-server parses one (`10s`, `1m30s`, `0`).
pub fn is_duration(s: &str) -> bool {
    crate::gotmpl::go_duration(s).is_some_and(|d| d >= 0.0) && !s.trim_start().starts_with('+')
}

pub const SIZE_PATTERN: &str = "^[0-9]+([kKmMgGtT]([iI]?[bB]?)?)?$";
pub const DURATION_PATTERN: &str = "^(0|([0-9.]+(ns|us|µs|μs|ms|s|m|h))+)$";

fn nullable(t: &str) -> Value {
    json!([t, "null"])
}

/// The JSON Schema of one type.
fn schema_of(t: &T, doc: &str) -> Value {
    let mut s = match t {
        T::Bool => json!({"type": nullable("boolean")}),
        T::Port => json!({"type": nullable("integer"), "minimum": 1, "maximum": 65535}),
        T::Count => json!({"type": nullable("integer"), "minimum": 1}),
        T::Str => json!({"type": nullable("string")}),
        T::Size => {
            json!({"anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": SIZE_PATTERN},
                {"type": "null"},
            ]})
        }
        T::Duration => json!({"type": nullable("string"), "pattern": DURATION_PATTERN}),
        T::Strings => json!({"type": nullable("array"), "items": {"type": "string"}}),
        T::Merge => json!({"type": nullable("object")}),
        T::Patch => json!({"type": nullable("array"), "items": {
            "type": "object",
            "required": ["op", "path"],
            "properties": {"op": {"type": "string"}, "path": {"type": "string"}},
        }}),
        T::Any => json!({}),
        T::Map(ks) => object(ks),
        T::List(ks) => {
            let mut item = object(ks);
            item["type"] = json!("object");
            json!({"type": nullable("array"), "items": item})
        }
    };
    if !doc.is_empty() {
        s["description"] = json!(doc);
    }
    s
}

fn object(ks: &[K]) -> Value {
    let mut props = Map::new();
    for key in ks {
        props.insert(key.name.to_string(), schema_of(&key.t, key.doc));
    }
    json!({"type": nullable("object"), "properties": props, "additionalProperties": false})
}

/// The JSON Schema of a plain-chart values file, from the tables above: `config`, `tlsCA` and
/// `natscc` closed key by key, the other top-level keys open, anything else refused.
pub fn json_schema() -> Value {
    let mut props = Map::new();
    for name in TOP {
        let s = match *name {
            "config" => schema_of(
                &CONFIG,
                "the NATS server config the chart renders (files/config/*.yaml)",
            ),
            "tlsCA" => schema_of(&TLS_CA, "one CA for every tls block"),
            "natscc" => schema_of(
                &NATSCC,
                "natscc's own shortcuts; they compile to plain nats.conf",
            ),
            _ => json!({}),
        };
        props.insert(name.to_string(), s);
    }
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://natscc.dev/schema/nats-chart.schema.json",
        "title": "Values of the official NATS Helm chart, as natscc reads them",
        "type": "object",
        "properties": props,
        "additionalProperties": false,
    })
}

/// The schema as `natscc schema --chart` prints it and schema/nats-chart.schema.json holds it.
pub fn json_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("a schema prints");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for ok in ["10s", "1m30s", "1.5h", "250ms", "2µs", "0"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "10", "s", "10x", "10 s", "-1s", "+1s"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn places_name_client_tls_first() {
        let p = places("tls", "config");
        assert_eq!(p[0], "`config.nats.tls`");
        assert!(p.contains(&"`config.cluster.tls`".to_string()));
        assert!(p.contains(&"`config.monitor.tls`".to_string()));
    }
}
