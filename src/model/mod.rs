//! Stage 2 (render, beside `bus`): the typed values. Built leniently from the merged tree: a
//! value of the wrong type is skipped here (the schema check has already reported it), so
//! every later rule can still run and one run reports everything.

pub mod names;
pub mod server;

use crate::diag::Span;
use crate::load::{Entry, Node, V};
pub use server::ServerConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterType {
    Csc,
    Cpc,
}

/// The three cross-layer lists, in the order the values give them.
#[derive(Debug, Clone, Default)]
pub struct CrossLayer {
    /// `E`: CSC subjects every CPC receives unchanged.
    pub csc_exports: Vec<Spanned<String>>,
    /// `P`: the CSC publishes `cpc.<id>.<s>`, CPC `<id>` receives `<s>`.
    pub csc_prefixed_exports: Vec<Spanned<String>>,
    /// `X`: CPC `<id>` publishes `<s>`, the CSC receives `cpc.<id>.<s>`.
    pub cpc_exports: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ListKind {
    CscExports,
    CscPrefixedExports,
    CpcExports,
}

impl ListKind {
    pub const ALL: [ListKind; 3] = [
        ListKind::CscExports,
        ListKind::CscPrefixedExports,
        ListKind::CpcExports,
    ];
    pub fn key(self) -> &'static str {
        match self {
            ListKind::CscExports => "cscExports",
            ListKind::CscPrefixedExports => "cscPrefixedExports",
            ListKind::CpcExports => "cpcExports",
        }
    }
}

impl CrossLayer {
    pub fn list(&self, kind: ListKind) -> &[Spanned<String>] {
        match kind {
            ListKind::CscExports => &self.csc_exports,
            ListKind::CscPrefixedExports => &self.csc_prefixed_exports,
            ListKind::CpcExports => &self.cpc_exports,
        }
    }
}

/// An enabled extra account, with its native NATS fields (those the compiler does not own).
#[derive(Debug, Clone)]
pub struct ExtraAccount {
    pub name: Spanned<String>,
    /// Upper-case token for env names (`LEAF_<TOKEN>_USER_SEED`).
    pub env_token: String,
    /// Lower-case token for secret names (`nats-leaf-<token>-csc`).
    pub secret_token: String,
    pub fields: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct Identity {
    pub name: Spanned<String>,
    pub node: Node,
    pub account: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct Permissions {
    pub oauth2: Vec<Identity>,
    pub mtls: Vec<Identity>,
    pub nkey: Vec<Identity>,
    pub noauth: Option<Identity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Tcp,
    Tls,
}

impl RouteKind {
    pub fn name(self) -> &'static str {
        match self {
            RouteKind::Tcp => "TCPRoute",
            RouteKind::Tls => "TLSRoute",
        }
    }
}

/// One Gateway API route: which listener, which NATS port.
#[derive(Debug, Clone)]
pub struct Route {
    /// The values key: mqtt, natsClient, natsLeafnode, mqttMtls.
    pub key: &'static str,
    pub resource: &'static str,
    pub enabled: bool,
    pub kind: Spanned<RouteKind>,
    pub gateway_name: String,
    pub gateway_namespace: String,
    pub section_name: Spanned<String>,
    pub hostnames: Vec<Spanned<String>>,
    pub backend: &'static str,
    pub port: u16,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct MqttStreams {
    pub max_bytes: i64,
    pub replicas: i64,
    pub storage: String,
    pub max_age: String,
}

/// Everything the emitters need about one cluster.
#[derive(Debug, Clone)]
pub struct Model {
    pub cluster_type: ClusterType,
    pub cluster_id: Option<Spanned<String>>,
    pub csc_endpoint: Option<Spanned<String>>,
    pub cpc_ids: Vec<Spanned<String>>,
    pub cross: CrossLayer,
    pub csc_leaf_server_tls: Option<Node>,
    pub cpc_leaf_client_tls: Option<Node>,
    pub mtls: bool,
    pub extra_accounts: Vec<ExtraAccount>,
    /// Extra accounts switched off with `enabled: false`.
    pub disabled_accounts: Vec<String>,
    /// (secret, key) -> the env value tree that replaces the generated `secretKeyRef`.
    pub secret_overrides: Vec<(Spanned<String>, Spanned<String>, serde_json::Value)>,
    pub permissions: Permissions,
    pub route_api_version: String,
    pub routes: Vec<Route>,
    pub mqtt_streams: MqttStreams,
    pub nats: ServerConfig,
    pub nats_mtls: ServerConfig,
    pub auth_callout_env: Vec<Spanned<String>>,
    /// `auth-callout.extraEnvs`: env name -> its value tree, in name order (the chart ranges over
    /// the map).
    pub auth_callout_extra_envs: Vec<(String, serde_json::Value)>,
    /// Where `global.eventBus` was written, for findings about missing keys.
    pub event_bus_span: Span,
    /// The keys of the TLS Secrets the NATS releases' pods mount and their configs read:
    /// (Secret, key, what), `nats` first.
    pub tls_secrets: Vec<(String, String, crate::chart::secrets::TlsFile)>,
    /// The nats-server release the operator states (`--server-version`), for images that name
    /// none.
    pub server_version: Option<crate::server_version::Stated>,
    /// The nats-server release each NATS release's image runs (`nats`, `nats-mtls`): what
    /// `natscc up` starts.
    pub deployed: Vec<(&'static str, crate::server_version::Version)>,
}

impl Model {
    pub fn is_cpc(&self) -> bool {
        self.cluster_type == ClusterType::Cpc
    }
    /// `csc` or `cpc-<id>`.
    pub fn cluster_name(&self) -> String {
        match self.cluster_type {
            ClusterType::Csc => "csc".into(),
            ClusterType::Cpc => format!("cpc-{}", self.id()),
        }
    }
    /// `csc-mtls` or `cpc-<id>-mtls`: the mTLS instance's server name.
    pub fn mtls_server_name(&self) -> String {
        format!("{}-mtls", self.cluster_name())
    }
    pub fn id(&self) -> &str {
        self.cluster_id
            .as_ref()
            .map(|s| s.value.as_str())
            .unwrap_or("")
    }
    /// Keeps of a CPC what the fleet's rules (`fleet::check`) read: its identity, endpoint,
    /// leaf TLS block, routes and account names. The rest (lists, users and server value trees)
    /// is dropped once its files are written, as its rendered bus is, so a fleet of 10,000
    /// CPCs holds a few KB each.
    pub fn keep_fleet_view(&mut self) {
        self.cross = CrossLayer::default();
        self.tls_secrets = vec![];
        self.permissions = Permissions::default();
        self.nats = ServerConfig::default();
        self.nats_mtls = ServerConfig::default();
        self.secret_overrides = vec![];
        self.auth_callout_env = vec![];
        self.auth_callout_extra_envs = vec![];
        self.extra_accounts
            .iter_mut()
            .for_each(|a| a.fields = vec![]);
    }
    /// The data-centre account and JetStream domain: `CSC` or `CPC`.
    pub fn dc_account(&self) -> &'static str {
        match self.cluster_type {
            ClusterType::Csc => "CSC",
            ClusterType::Cpc => "CPC",
        }
    }
}

pub(crate) fn text(n: Option<&Node>) -> Option<Spanned<String>> {
    let n = n?;
    match &n.v {
        V::Str(_) | V::Int(_) | V::Float(_) => Some(Spanned::new(n.scalar_text()?, n.span)),
        _ => None,
    }
}

fn string_list(n: Option<&Node>) -> Vec<Spanned<String>> {
    n.map(|n| n.items().iter().filter_map(|i| text(Some(i))).collect())
        .unwrap_or_default()
}

fn identities(n: Option<&Node>) -> Vec<Identity> {
    let Some(n) = n else { return vec![] };
    let mut out: Vec<Identity> = n
        .entries()
        .iter()
        .map(|e| Identity {
            name: Spanned::new(e.key.clone(), e.key_span),
            node: e.value.clone(),
            account: text(e.value.get_go("account")),
        })
        .collect();
    out.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    out
}

const ROUTES: [(&str, &str, &str, u16); 4] = [
    ("mqtt", "nats-mqtt", "nats", 1883),
    ("natsClient", "nats-client", "nats", 4222),
    ("natsLeafnode", "nats-leafnode", "nats", 7422),
    ("mqttMtls", "nats-mqtt-mtls", "nats-mtls", 1883),
];

/// Builds the model from the merged tree. Returns `None` when there is no usable cluster type.
pub fn build(root: &Node) -> Option<Model> {
    let typed = build_typed(root)?;
    // Findings about the image are compile's (check::server_conf); here only the release.
    let deployed = crate::server_version::for_bus(root, typed.mtls, None, &mut vec![])
        .into_iter()
        .map(|(r, d)| (r, d.version))
        .collect();
    let mut tls_secrets = vec![];
    for release in ["nats", "nats-mtls"] {
        if release == "nats" || crate::bus::mtls_enabled(root) {
            let empty = Node::map(root.span);
            let values = crate::bus::subchart_values(root, release).unwrap_or(&empty);
            tls_secrets.extend(crate::chart::secrets::tls_secrets(values));
        }
    }
    Some(Model {
        tls_secrets,
        server_version: None,
        deployed,
        ..typed
    })
}

/// The typed values alone, before rendering.
pub(crate) fn build_typed(root: &Node) -> Option<Model> {
    let eb = root.path(&["global", "eventBus"])?;
    let cluster_type = match eb.get("clusterType").and_then(Node::as_str) {
        Some("csc") => ClusterType::Csc,
        Some("cpc") => ClusterType::Cpc,
        _ => return None,
    };
    let cross = eb.get("crossLayer");
    let cross = CrossLayer {
        csc_exports: string_list(cross.and_then(|c| c.get("cscExports"))),
        csc_prefixed_exports: string_list(cross.and_then(|c| c.get("cscPrefixedExports"))),
        cpc_exports: string_list(cross.and_then(|c| c.get("cpcExports"))),
    };
    let tls_block = |key: &str| eb.get(key).filter(|n| !n.entries().is_empty()).cloned();
    let mtls = eb
        .path(&["mtls", "enabled"])
        .and_then(Node::as_bool)
        .unwrap_or(true);
    let gw = eb.get("gateway");

    Some(Model {
        cluster_type,
        // The chart's values.yaml sets both to "": empty means unset, as in its templates.
        cluster_id: text(eb.get("clusterId")).filter(|t| !t.value.is_empty()),
        csc_endpoint: text(eb.get("cscEndpoint")).filter(|t| !t.value.is_empty()),
        cpc_ids: string_list(eb.get("cpcIds")),
        cross,
        csc_leaf_server_tls: tls_block("cscLeafServerTLS"),
        cpc_leaf_client_tls: tls_block("cpcLeafClientTLS"),
        mtls,
        extra_accounts: extra_accounts(eb),
        disabled_accounts: eb
            .get("extraAccounts")
            .map(|n| n.entries())
            .unwrap_or_default()
            .iter()
            .filter(|e| e.value.get("enabled").and_then(Node::as_bool) == Some(false))
            .map(|e| e.key.clone())
            .collect(),
        secret_overrides: secret_overrides(eb),
        permissions: permissions(eb),
        route_api_version: gw
            .and_then(|g| g.get("apiVersion"))
            .and_then(Node::as_str)
            .unwrap_or("gateway.networking.k8s.io/v1alpha2")
            .to_string(),
        routes: ROUTES
            .iter()
            .filter(|(key, ..)| mtls || *key != "mqttMtls")
            .map(|row| route(eb, gw, *row))
            .collect(),
        mqtt_streams: mqtt_streams(eb.get("mqttStreams")),
        nats: ServerConfig::from_values(root.path(&["nats", "config"])),
        nats_mtls: ServerConfig::from_values(root.path(&["nats-mtls", "config"])),
        auth_callout_env: auth_callout_env(root),
        auth_callout_extra_envs: auth_callout_extra_envs(root),
        event_bus_span: root
            .get("global")
            .and_then(|g| g.entry("eventBus"))
            .map(|e| e.key_span)
            .unwrap_or(eb.span),
        tls_secrets: vec![],
        server_version: None,
        deployed: vec![],
    })
}

/// The enabled extra accounts (a map entry whose `enabled` is not false), by name.
fn extra_accounts(eb: &Node) -> Vec<ExtraAccount> {
    let mut out: Vec<ExtraAccount> = eb
        .get("extraAccounts")
        .map(|n| n.entries())
        .unwrap_or_default()
        .iter()
        .filter(|e| matches!(e.value.v, V::Map(_)))
        .filter(|e| e.value.get("enabled").and_then(Node::as_bool) != Some(false))
        .map(|e| ExtraAccount {
            name: Spanned::new(e.key.clone(), e.key_span),
            env_token: names::env_token(&e.key),
            secret_token: names::secret_token(&e.key),
            fields: e.value.entries().to_vec(),
        })
        .collect();
    out.sort_by(|a, b| a.name.value.cmp(&b.name.value));
    out
}

/// `nkeySecretRefOverrides`: each (Secret, key, value) as written.
fn secret_overrides(eb: &Node) -> Vec<(Spanned<String>, Spanned<String>, serde_json::Value)> {
    let mut out = vec![];
    for secret in eb
        .get("nkeySecretRefOverrides")
        .map(|n| n.entries())
        .unwrap_or_default()
    {
        for key in secret.value.entries() {
            out.push((
                Spanned::new(secret.key.clone(), secret.key_span),
                Spanned::new(key.key.clone(), key.key_span),
                key.value.to_json(),
            ));
        }
    }
    out
}

/// `auth.permissions`: the identities of each kind, and the one no-auth entry.
fn permissions(eb: &Node) -> Permissions {
    let perms = eb.path(&["auth", "permissions"]);
    Permissions {
        oauth2: identities(perms.and_then(|p| p.get("oauth2"))),
        mtls: identities(perms.and_then(|p| p.get("mtls"))),
        nkey: identities(perms.and_then(|p| p.get("nkey"))),
        noauth: perms
            .and_then(|p| p.entry("noauth"))
            .filter(|e| !e.value.is_null())
            .map(|e| Identity {
                name: Spanned::new("noauth".into(), e.key_span),
                node: e.value.clone(),
                account: text(e.value.get_go("account")),
            }),
    }
}

/// One row of `ROUTES` with the user's `gateway.routes.<key>` over it. `routes.<key>: null`
/// deletes the user's override: Helm renders values.yaml's route.
fn route(
    eb: &Node,
    gw: Option<&Node>,
    (key, resource, backend, port): (&'static str, &'static str, &'static str, u16),
) -> Route {
    let raw = gw.and_then(|g| g.path(&["routes", key]));
    let span = raw.map(|r| r.span).unwrap_or(eb.span);
    let r = raw.filter(|r| !r.is_null());
    let default_kind = if key == "mqttMtls" {
        RouteKind::Tls
    } else {
        RouteKind::Tcp
    };
    let kind_node = r.and_then(|r| r.get("kind"));
    let kind = match kind_node.and_then(Node::as_str) {
        Some("TLSRoute") => RouteKind::Tls,
        Some(_) => RouteKind::Tcp,
        None if r.is_none() => default_kind,
        None => RouteKind::Tcp,
    };
    let s = |k: &str, default: &str| match r {
        Some(r) => r
            .get(k)
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string(),
        None => default.to_string(),
    };
    let default_section = match key {
        "mqtt" => "mqtt",
        "natsClient" => "nats-client",
        "natsLeafnode" => "nats-leafnode",
        _ => "mqtt-mtls",
    };
    Route {
        key,
        resource,
        enabled: r
            .and_then(|r| r.get("enabled"))
            .and_then(Node::as_bool)
            .unwrap_or(true),
        kind: Spanned::new(kind, kind_node.map(|n| n.span).unwrap_or(span)),
        gateway_name: s("gatewayName", "shared-gateway"),
        gateway_namespace: s("gatewayNamespace", "envoy-gateway-system"),
        section_name: match r {
            Some(r) => text(r.get("sectionName")).unwrap_or(Spanned::new(String::new(), span)),
            None => Spanned::new(default_section.to_string(), span),
        },
        hostnames: string_list(r.and_then(|r| r.get("hostnames"))),
        backend,
        port,
        span,
    }
}

/// `mqttStreams`, on the chart's defaults.
fn mqtt_streams(ms: Option<&Node>) -> MqttStreams {
    let mq = |k: &str| ms.and_then(|m| m.get(k));
    MqttStreams {
        max_bytes: mq("maxBytes").and_then(Node::as_i64).unwrap_or(67108864),
        replicas: mq("replicas").and_then(Node::as_i64).unwrap_or(3),
        storage: mq("storage")
            .and_then(Node::as_str)
            .unwrap_or("memory")
            .to_string(),
        max_age: mq("maxAge")
            .and_then(Node::scalar_text)
            .unwrap_or_else(|| "3h".into()),
    }
}

/// The names of the callout's `extraEnv` variables.
fn auth_callout_env(root: &Node) -> Vec<Spanned<String>> {
    root.path(&["auth-callout", "extraEnv"])
        .map(|n| {
            n.items()
                .iter()
                .filter_map(|i| text(i.get("name")))
                .collect()
        })
        .unwrap_or_default()
}

/// The callout's `extraEnvs` map, by name.
fn auth_callout_extra_envs(root: &Node) -> Vec<(String, serde_json::Value)> {
    let mut out: Vec<(String, serde_json::Value)> = root
        .path(&["auth-callout", "extraEnvs"])
        .map(|n| {
            n.entries()
                .iter()
                .map(|e| (e.key.clone(), e.value.to_json()))
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
