//! nats.conf from the chart's values, built the way the chart's templates build it
//! (`files/config/*.yaml`): each block rendered, its `merge` laid over it, its `patch` applied;
//! `config.merge` and `config.patch` last. Every key of the result remembers the span of the
//! value that put it there, so a rule on the finished config can point at the user's line.

use super::spans::{Spans, path};
use crate::conf::{Conf, ConfMap, from_values, s, var};
use crate::load::{Node, V};

/// A value at a dotted path of the values.
pub fn val<'a>(root: &'a Node, dotted: &str) -> Option<&'a Node> {
    root.path(&dotted.split('.').collect::<Vec<_>>())
        .filter(|n| !n.is_null())
}

fn flag(root: &Node, dotted: &str) -> bool {
    val(root, dotted).and_then(Node::as_bool).unwrap_or(false)
}

fn text(root: &Node, dotted: &str) -> Option<String> {
    val(root, dotted)
        .and_then(Node::scalar_text)
        .filter(|t| !t.is_empty())
}

/// A chart value written into the config as the chart prints it (a port, a size, a name).
fn scalar(root: &Node, dotted: &str) -> Conf {
    match val(root, dotted) {
        Some(n) => from_values(n),
        None => Conf::Str(String::new()),
    }
}

/// The release natscc renders as: `nats`, installed in the namespace `nats`.
pub const RELEASE: &str = "nats";
pub const RELEASE_NAMESPACE: &str = "nats";
const CHART_NAME: &str = "nats";

/// Names the chart derives from the release (see `RELEASE`).
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub fullname: String,
    pub stateful_set: String,
    pub headless: String,
    pub config_map: String,
}

/// Sprig's `trunc 63 | trimSuffix "-"`: at most 63 bytes, then one trailing dash dropped.
fn dns_label(name: &str) -> String {
    let mut end = name.len().min(63);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &name[..end];
    cut.strip_suffix('-').unwrap_or(cut).to_string()
}

/// `trimSuffix "/"`: one trailing slash dropped.
fn trim_slash(dir: &str) -> &str {
    dir.strip_suffix('/').unwrap_or(dir)
}

pub fn names(root: &Node) -> Names {
    // The full name: the override as given, else the release name when it already holds the
    // chart's (or nameOverride's) name, else release-name.
    let fullname = match text(root, "fullnameOverride") {
        Some(f) => dns_label(&f),
        None => {
            let name = text(root, "nameOverride").unwrap_or_else(|| CHART_NAME.into());
            if RELEASE.contains(name.as_str()) {
                dns_label(RELEASE)
            } else {
                dns_label(&format!("{RELEASE}-{name}"))
            }
        }
    };
    Names {
        stateful_set: text(root, "statefulSet.name").unwrap_or_else(|| fullname.clone()),
        headless: text(root, "headlessService.name")
            .unwrap_or_else(|| format!("{fullname}-headless")),
        config_map: text(root, "configMap.name").unwrap_or_else(|| format!("{fullname}-config")),
        fullname,
    }
}

/// Go's `urlquery` (`url.QueryEscape`): letters, digits and `-_.~` as they are, a space as
/// `+`, every other byte as `%XX`.
pub fn urlquery(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub conf: ConfMap,
    pub spans: Spans,
    pub names: Names,
    /// Roles of the `natscc.tlsRoles` users, by certificate subject.
    pub roles: super::roles::Roles,
}

struct R<'a> {
    root: &'a Node,
    spans: Spans,
}

impl R<'_> {
    /// Lays a block's `merge` over it and applies its `patch`, as `nats.loadMergePatch` does.
    fn merge_patch(&mut self, doc: &mut ConfMap, at: &[String], values: &str) {
        self.merge_patch_of(doc, at, val(self.root, values));
    }

    /// `merge_patch` with the values node that holds `merge` and `patch`.
    fn merge_patch_of(&mut self, doc: &mut ConfMap, at: &[String], values: Option<&Node>) {
        let Some(values) = values else { return };
        if let Some(m) = values.get("merge").filter(|m| matches!(m.v, V::Map(_))) {
            doc.merge_values(m);
            for e in m.entries() {
                let mut p = at.to_vec();
                p.push(e.key.clone());
                self.spans.index(&p, &e.value);
                self.spans.set(&p, e.key_span);
            }
        }
        if let Some(p) = values.get("patch").filter(|p| matches!(p.v, V::Seq(_))) {
            super::patch::apply(doc, p);
            for op in p.items() {
                if let (Some(ptr), Some(v)) =
                    (op.get("path").and_then(Node::as_str), op.get("value"))
                {
                    let mut full = at.to_vec();
                    full.extend(
                        ptr.split('/')
                            .skip(1)
                            .map(|t| t.replace("~1", "/").replace("~0", "~")),
                    );
                    self.spans.index(&full, v);
                }
            }
        }
    }

    /// `files/config/tls.yaml` for an enabled listener: certificate paths from the mounted
    /// secret, the CA from `tlsCA` (no `verify`: the chart leaves that to `merge`).
    fn tls(&mut self, values: &str, at: &[String]) -> Option<Conf> {
        if !flag(self.root, &format!("{values}.enabled")) {
            return None;
        }
        let here: Vec<String> = at.iter().cloned().chain(["tls".to_string()]).collect();
        if let Some(n) = val(self.root, &format!("{values}.enabled")) {
            self.spans.set(&here, n.span);
        }
        Some(Conf::Map(self.tls_doc(val(self.root, values), &here)))
    }

    /// The body of a `tls` block from its values node.
    fn tls_doc(&mut self, tls: Option<&Node>, here: &[String]) -> ConfMap {
        let mut doc = ConfMap::new();
        let get = |k: &str| {
            tls.and_then(|t| t.get(k))
                .filter(|n| !n.is_null())
                .and_then(Node::scalar_text)
                .filter(|t| !t.is_empty())
        };
        if get("secretName").is_some() {
            let dir = get("dir").unwrap_or_default();
            let dir = trim_slash(&dir);
            for (key, file, dflt) in [
                ("cert_file", "cert", "tls.crt"),
                ("key_file", "key", "tls.key"),
            ] {
                let name = get(file).unwrap_or_else(|| dflt.to_string());
                doc.set(key, s(format!("{dir}/{name}")));
            }
        }
        if flag(self.root, "tlsCA.enabled")
            && (text(self.root, "tlsCA.configMapName").is_some()
                || text(self.root, "tlsCA.secretName").is_some())
        {
            let dir = text(self.root, "tlsCA.dir").unwrap_or_default();
            let key = text(self.root, "tlsCA.key").unwrap_or_else(|| "ca.crt".into());
            doc.set("ca_file", s(format!("{}/{key}", trim_slash(&dir))));
            if let Some(n) = val(self.root, "tlsCA.enabled") {
                self.spans.set(
                    &here
                        .iter()
                        .cloned()
                        .chain(["ca_file".to_string()])
                        .collect::<Vec<_>>(),
                    n.span,
                );
            }
        }
        self.merge_patch_of(&mut doc, here, tls);
        doc
    }

    fn enabled(&mut self, values: &str, at: &[String]) -> bool {
        let on = flag(self.root, &format!("{values}.enabled"));
        if let (true, Some(n)) = (on, val(self.root, &format!("{values}.enabled"))) {
            self.spans.set(at, n.span);
        }
        on
    }

    fn port(&mut self, doc: &mut ConfMap, key: &str, values: &str, at: &[String]) {
        doc.set(key, scalar(self.root, values));
        if let Some(n) = val(self.root, values) {
            let mut p = at.to_vec();
            p.push(key.to_string());
            self.spans.set(&p, n.span);
        }
    }
}

/// The whole nats.conf tree: each block as the chart's `files/config/*.yaml` renders it, in
/// the templates' order, then natscc's shortcuts and the user's `config.merge`/`patch`.
pub fn render(root: &Node) -> Rendered {
    let names = names(root);
    let mut r = R {
        root,
        spans: Spans::default(),
    };
    let mut conf = ConfMap::new();
    if let Some(c) = val(root, "config") {
        r.spans.set(&[], c.span);
    }
    conf.set("server_name", var("SERVER_NAME"));
    // The 2.12.6 templates write both lame-duck settings and the pid file as constants (later
    // releases read `config.lameDuck*`; schema.rs reports those keys as not rendered).
    conf.set("lame_duck_grace_period", s("10s"));
    conf.set("lame_duck_duration", s("30s"));
    conf.set("pid_file", s("/var/run/nats/nats.pid"));

    r.client(&mut conf);
    r.listeners(&mut conf);
    r.cluster(&mut conf, &names);
    r.gateway(&mut conf, &names);
    r.monitor(&mut conf);
    r.jetstream(&mut conf);
    r.resolver(&mut conf);

    // natscc's own shortcuts compile to plain config before the user's raw merge.
    let roles = super::roles::apply(root, &mut conf, &mut r.spans);

    r.merge_patch(&mut conf, &[], "config");
    sort(&mut conf);
    Rendered {
        conf,
        spans: r.spans,
        names,
        roles,
    }
}

/// One block per top-level key of nats.conf, in the order `render` calls them.
impl R<'_> {
    /// The client port and its TLS. `config.nats: null` renders no client block at all (the
    /// server's own default port).
    fn client(&mut self, conf: &mut ConfMap) {
        if val(self.root, "config.nats").is_some() {
            self.port(conf, "port", "config.nats.port", &[]);
            if let Some(t) = self.tls("config.nats.tls", &[]) {
                conf.set("tls", t);
            }
        }
    }

    /// `leafnodes`, `websocket` and `mqtt`: a port, TLS (websocket says `no_tls` without it),
    /// then the block's merge and patch.
    fn listeners(&mut self, conf: &mut ConfMap) {
        let listeners: [(&str, &str); 3] = [
            ("leafnodes", "config.leafnodes"),
            ("websocket", "config.websocket"),
            ("mqtt", "config.mqtt"),
        ];
        for (key, values) in listeners {
            let at = path(&[key]);
            if !self.enabled(values, &at) {
                continue;
            }
            let mut doc = ConfMap::new();
            self.port(&mut doc, "port", &format!("{values}.port"), &at);
            if key == "leafnodes" {
                doc.set("no_advertise", Conf::Bool(true));
            }
            match self.tls(&format!("{values}.tls"), &at) {
                Some(t) => {
                    doc.set("tls", t);
                }
                None if key == "websocket" => {
                    doc.set("no_tls", Conf::Bool(true));
                }
                None => {}
            }
            self.merge_patch(&mut doc, &at, values);
            conf.set(key, Conf::Map(doc));
        }
    }

    /// The `cluster` block: its name, port, routes to every replica, route credentials, TLS.
    fn cluster(&mut self, conf: &mut ConfMap, names: &Names) {
        let root = self.root;
        let at = path(&["cluster"]);
        if !self.enabled("config.cluster", &at) {
            return;
        }
        let mut doc = ConfMap::new();
        doc.set("name", s(names.stateful_set.clone()));
        self.port(&mut doc, "port", "config.cluster.port", &at);
        // Newer releases read `noAdvertise` (default true); earlier ones write true.
        let no_advertise = val(root, "config.cluster.noAdvertise")
            .and_then(Node::as_bool)
            .unwrap_or(true);
        doc.set("no_advertise", Conf::Bool(no_advertise));
        if let Some(n) = val(root, "config.cluster.noAdvertise") {
            self.spans.set(&path(&["cluster", "no_advertise"]), n.span);
        }
        let user = text(root, "config.cluster.routeURLs.user");
        let password = text(root, "config.cluster.routeURLs.password");
        // The chart writes route credentials only when both are set.
        let credentials = user.zip(password);
        doc.set(
            "routes",
            Conf::List(routes(root, names, credentials.as_ref())),
        );
        if let Some(n) = val(root, "config.cluster.replicas") {
            self.spans.set(&path(&["cluster", "routes"]), n.span);
        }
        if let Some((u, p)) = credentials {
            let mut a = ConfMap::new();
            a.set("user", s(u));
            a.set("password", s(p));
            doc.set("authorization", Conf::Map(a));
        }
        if let Some(t) = self.tls("config.cluster.tls", &at) {
            doc.set("tls", t);
        }
        self.merge_patch(&mut doc, &at, "config.cluster");
        conf.set("cluster", Conf::Map(doc));
    }

    /// The `gateway` block: its name, port and TLS.
    fn gateway(&mut self, conf: &mut ConfMap, names: &Names) {
        let at = path(&["gateway"]);
        if !self.enabled("config.gateway", &at) {
            return;
        }
        let mut doc = ConfMap::new();
        doc.set("name", s(names.stateful_set.clone()));
        self.port(&mut doc, "port", "config.gateway.port", &at);
        if let Some(t) = self.tls("config.gateway.tls", &at) {
            doc.set("tls", t);
        }
        self.merge_patch(&mut doc, &at, "config.gateway");
        conf.set("gateway", Conf::Map(doc));
    }

    /// The monitoring port (`https_port` with TLS) and the profiling port.
    fn monitor(&mut self, conf: &mut ConfMap) {
        let root = self.root;
        if flag(root, "config.monitor.enabled") {
            let https = flag(root, "config.monitor.tls.enabled");
            let key = if https { "https_port" } else { "http_port" };
            self.port(conf, key, "config.monitor.port", &[]);
            if let Some(n) = val(root, "config.monitor.tls.enabled").filter(|_| https) {
                self.spans.set(&path(&["https_port"]), n.span);
            }
        }
        if flag(root, "config.profiling.enabled") {
            self.port(conf, "prof_port", "config.profiling.port", &[]);
        }
    }

    /// The `jetstream` block: each store's size (0 when the store is off) and the file
    /// store's folder.
    fn jetstream(&mut self, conf: &mut ConfMap) {
        let root = self.root;
        let at = path(&["jetstream"]);
        if !self.enabled("config.jetstream", &at) {
            return;
        }
        let mut doc = ConfMap::new();
        let size = |n: &Node| match from_values(n) {
            Conf::Str(st) => Conf::Bare(st),
            other => other,
        };
        if flag(root, "config.jetstream.memoryStore.enabled") {
            if let Some(n) = val(root, "config.jetstream.memoryStore.maxSize") {
                doc.set("max_memory_store", size(n));
                self.spans
                    .set(&path(&["jetstream", "max_memory_store"]), n.span);
            }
        } else {
            doc.set("max_memory_store", Conf::Int(0));
        }
        if flag(root, "config.jetstream.fileStore.enabled") {
            self.port(&mut doc, "store_dir", "config.jetstream.fileStore.dir", &at);
            let max = val(root, "config.jetstream.fileStore.maxSize").or_else(|| {
                flag(root, "config.jetstream.fileStore.pvc.enabled")
                    .then(|| val(root, "config.jetstream.fileStore.pvc.size"))
                    .flatten()
            });
            if let Some(n) = max {
                doc.set("max_file_store", size(n));
                self.spans
                    .set(&path(&["jetstream", "max_file_store"]), n.span);
            }
        } else {
            doc.set("max_file_store", Conf::Int(0));
        }
        self.merge_patch(&mut doc, &at, "config.jetstream");
        conf.set("jetstream", Conf::Map(doc));
    }

    /// The `resolver` block: its folder, then merge and patch.
    fn resolver(&mut self, conf: &mut ConfMap) {
        let at = path(&["resolver"]);
        if !self.enabled("config.resolver", &at) {
            return;
        }
        let mut doc = ConfMap::new();
        self.port(&mut doc, "dir", "config.resolver.dir", &at);
        self.merge_patch(&mut doc, &at, "config.resolver");
        conf.set("resolver", Conf::Map(doc));
    }
}

/// A route URL to every replica of the StatefulSet through the headless Service, with the
/// route credentials (query-escaped) and the cluster domain when `useFQDN` is on.
fn routes(root: &Node, names: &Names, credentials: Option<&(String, String)>) -> Vec<Conf> {
    let proto = if flag(root, "config.cluster.tls.enabled") {
        "tls"
    } else {
        "nats"
    };
    let auth = match credentials {
        Some((u, p)) => format!("{}:{}@", urlquery(u), urlquery(p)),
        None => String::new(),
    };
    let fqdn = if flag(root, "config.cluster.routeURLs.useFQDN") {
        let ns = text(root, "namespaceOverride").unwrap_or_else(|| RELEASE_NAMESPACE.into());
        format!(
            ".{ns}.svc.{}",
            text(root, "config.cluster.routeURLs.k8sClusterDomain")
                .unwrap_or_else(|| "cluster.local".into())
        )
    } else {
        String::new()
    };
    let port = val(root, "config.cluster.port")
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| "6222".into());
    let replicas = val(root, "config.cluster.replicas")
        .and_then(Node::as_i64)
        .unwrap_or(0)
        .clamp(0, 1000);
    (0..replicas)
        .map(|i| {
            s(format!(
                "{proto}://{auth}{}-{i}.{}{fqdn}:{port}",
                names.stateful_set, names.headless
            ))
        })
        .collect()
}

/// Keys in byte order, as the chart's JSON printer writes them; an include sorts as its key
/// `$include`, so it comes before every plain key, as in the chart's nats.conf.
pub fn sort(m: &mut ConfMap) {
    fn key(item: &crate::conf::Item) -> &[u8] {
        match item {
            crate::conf::Item::Kv(k, _) => k.as_bytes(),
            crate::conf::Item::Include(_) => b"$include",
        }
    }
    m.items.sort_by(|a, b| key(a).cmp(key(b)));
    for item in &mut m.items {
        if let crate::conf::Item::Kv(_, v) = item {
            sort_conf(v);
        }
    }
}

fn sort_conf(c: &mut Conf) {
    match c {
        Conf::Map(m) => sort(m),
        Conf::List(items) => items.iter_mut().for_each(sort_conf),
        _ => {}
    }
}
