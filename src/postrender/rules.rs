//! The rules on rendered objects: the account graph of each server config (import
//! authorisation, cycles, duplicates, and the cross-layer rule on the lists read back from a
//! CPC's accounts), the server's start-time limits, and Gateway API routes against the
//! Gateway's listeners and the servers behind them.

use super::messages::{Finding, Passthrough, Route};
use super::objects::{ConfFile, Doc, Vfs};
use crate::check::{cross_layer, imports, server_values};
use crate::conf::{ConfMap, Item, size_bytes};
use crate::diag::{Code, Diagnostic, Sources, Span};
use crate::graph::Graph;
use crate::load::{Node as YNode, V};
use crate::model::Spanned;
use crate::natsconf::{Block, Entry, Node, Parsed, Pos, Val};

/// One server config read with its includes, and how its places map onto the stream.
pub struct Server<'a> {
    pub parsed: Parsed,
    pub root: usize,
    pub vfs: Vfs<'a>,
    pub sources: &'a Sources,
    /// The nats-server release the workload's image runs.
    pub deployed: crate::server_version::Deployed,
}

impl Server<'_> {
    fn conf_of(&self, pos: Pos) -> &ConfFile {
        let path = &self.parsed.files[pos.file as usize].path;
        &self.vfs.confs[self.vfs.conf_at(path).unwrap_or(self.root)]
    }
    pub fn span(&self, pos: Pos) -> Span {
        self.conf_of(pos).span(pos, self.sources)
    }
    pub fn root_conf(&self) -> &ConfFile {
        &self.vfs.confs[self.root]
    }
}

pub fn server(s: &Server, out: &mut Vec<Diagnostic>) {
    let root = &s.parsed.root;
    payload(s, root, out);
    for e in &root.entries {
        if let Entry::Kv { value, .. } = e {
            exponent_numbers(s, value, out);
        }
    }
    // The options, kinds and account users as nats-server reads them: the rules compile
    // applies to the values' merge blocks and extra accounts, here on the config itself.
    let tree = as_values_block(s, root);
    crate::check::server_conf::rendered(&tree, &s.root_conf().key, &s.deployed, out);
    if let Some(accounts) = tree.get("accounts") {
        let accounts: Vec<server_values::Account> = accounts
            .entries()
            .iter()
            .map(|a| server_values::Account {
                name: &a.key,
                fields: a.value.entries(),
            })
            .collect();
        server_values::user_keys(&accounts, out);
        server_values::service_imports(&accounts, out);
    }
    if let Some((
        key_pos,
        Node {
            v: Val::Map(accounts),
            ..
        },
    )) = root.entry("accounts")
    {
        account_graph(s, *key_pos, accounts, out);
    }
}

/// A config block as the values rules read a tree: bare words and variables in the chart's
/// `<< X >>` form (the server types them by their word), and a Go exponent as `null`, as
/// `exponent_numbers` reports it. Places stay the stream's.
fn as_values_block(s: &Server, b: &Block) -> YNode {
    let bare = |t: &str| is_go_exponent(t).then_some(V::Null);
    crate::natsconf::values::block(
        b,
        &crate::natsconf::values::Placing {
            span: &|pos| s.span(pos),
            empty: Span::default(),
            bare: &bare,
        },
    )
}

/// What the server checks at start but `-t` does not: the payload limit against max_pending.
fn payload(s: &Server, root: &Block, out: &mut Vec<Diagnostic>) {
    let Some(p) = root.get("max_payload") else {
        return;
    };
    let pending = root
        .get("max_pending")
        .and_then(|n| size_bytes(&n.to_conf()))
        .unwrap_or(64 * 1024 * 1024);
    if let Some(bytes) = size_bytes(&p.to_conf()).filter(|b| *b > pending) {
        out.push(
            Finding::MaxPayload {
                bytes,
                pending,
                at: s.span(p.pos),
            }
            .into(),
        );
    }
}

fn account_graph(s: &Server, key_pos: Pos, block: &Block, out: &mut Vec<Diagnostic>) {
    // The last definition of an account wins, as in the server's map.
    let mut accs: Vec<(&str, &Node)> = vec![];
    for e in &block.entries {
        if let Entry::Kv { key, value, .. } = e {
            match accs.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => accs.push((key, value)),
            }
        }
    }
    account_fields(s, &accs, out);
    let conf = ConfMap {
        items: accs
            .iter()
            .map(|(k, n)| Item::Kv(k.to_string(), n.to_conf()))
            .collect(),
    };
    let import_at = |acc: &str, i: usize| -> Option<Span> {
        let (_, n) = accs.iter().find(|(k, _)| *k == acc)?;
        Some(s.span(n.as_block()?.get("imports")?.items().get(i)?.pos))
    };
    let mut g = Graph::default();
    g.add_accounts_traced("", &conf, &import_at);

    let lists = recover_lists(s, &accs);
    // A config the stream holds as a quoted scalar maps to the stream only as a whole: all
    // its imports share one place, so places cannot tell which finding another one already
    // covers, and none is dropped for it.
    let traced = accs.iter().all(|(_, n)| s.conf_of(n.pos).mapped());
    let list_spans: Vec<Span> = lists
        .iter()
        .filter(|_| traced)
        .flat_map(|(l, _)| l.iter().flatten().map(|x| x.span))
        .collect();
    let mut layer = match &lists {
        Some((l, id)) => cross_layer::check_lists([&l[0], &l[1], &l[2]], id),
        None => vec![],
    };
    for d in &mut layer {
        if let Some(h) = &mut d.help {
            h.push_str(
                " (here the lists are read back from the imports of the CSC and CPC accounts)",
            );
        }
    }
    let named: Vec<Span> = layer
        .iter()
        .filter(|d| traced && matches!(d.code, Code::CrossLayerOverlap | Code::CrossLayerDuplicate))
        .flat_map(|d| d.labels.iter().map(|l| l.span))
        .collect();
    let reported = |sp: Option<Span>| sp.is_some_and(|sp| list_spans.contains(&sp));
    let none = |_: &str, _: &str, _: &str| None;
    let ctx = imports::Context {
        defined: accs.iter().map(|(k, _)| k.to_string()).collect(),
        fallback: s.span(key_pos),
        span_of: &none,
        reported_elsewhere: &reported,
    };
    let mut found = imports::check_graph(&g, &ctx);
    // A cycle made only of entries the overlap rule already named is that same finding.
    found.retain(|d| d.labels.is_empty() || !d.labels.iter().all(|l| named.contains(&l.span)));
    out.extend(layer);
    out.extend(found);
}

/// A bare number in Go's `%v` exponent form (`1e+06`): the chart's printing of a values number
/// of a million or more. nats-server's reader takes it for text, and refuses it where a number
/// or a duration belongs.
fn exponent_numbers(s: &Server, n: &Node, out: &mut Vec<Diagnostic>) {
    match &n.v {
        Val::Bare(t) if is_go_exponent(t) => out.push(
            Finding::Exponent {
                text: t,
                at: s.span(n.pos),
            }
            .into(),
        ),
        Val::List(items) => items.iter().for_each(|i| exponent_numbers(s, i, out)),
        Val::Map(b) => {
            for e in &b.entries {
                if let Entry::Kv { value, .. } = e {
                    exponent_numbers(s, value, out);
                }
            }
        }
        _ => {}
    }
}

fn is_go_exponent(t: &str) -> bool {
    let t = t.strip_prefix('-').unwrap_or(t);
    let Some((mant, exp)) = t.split_once('e') else {
        return false;
    };
    let mant_ok = !mant.is_empty()
        && mant
            .split_once('.')
            .map_or(mant.chars().all(|c| c.is_ascii_digit()), |(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.chars().all(|c| c.is_ascii_digit())
                    && b.chars().all(|c| c.is_ascii_digit())
            });
    let exp_ok = exp.len() >= 3
        && matches!(exp.as_bytes()[0], b'+' | b'-')
        && exp[1..].chars().all(|c| c.is_ascii_digit());
    mant_ok && exp_ok
}

/// Keys nats-server does not know in an account block: it refuses to start ("unknown field").
fn account_fields(s: &Server, accs: &[(&str, &Node)], out: &mut Vec<Diagnostic>) {
    use crate::check::accounts::SERVER_ACCOUNT_FIELDS;
    for (name, node) in accs {
        let Some(block) = node.as_block() else {
            continue;
        };
        for e in &block.entries {
            if let Entry::Kv { key, key_pos, .. } = e
                && !SERVER_ACCOUNT_FIELDS.contains(&key.as_str())
            {
                out.push(
                    Finding::AccountField {
                        key,
                        account: name,
                        at: s.span(*key_pos),
                    }
                    .into(),
                );
            }
        }
    }
}

/// The three cross-layer lists of a CPC, read back from the imports its accounts carry:
/// CSC imports `s` from CPC to `cpc.<id>.s` (cpcExports); CPC imports `s` from CSC unchanged
/// (cscExports) or `cpc.<id>.s` to `s` (cscPrefixedExports).
fn recover_lists(
    s: &Server,
    accs: &[(&str, &Node)],
) -> Option<([Vec<Spanned<String>>; 3], String)> {
    let find = |name: &str| {
        accs.iter()
            .find(|(k, _)| *k == name)
            .and_then(|(_, n)| n.as_block())
    };
    let (csc, cpc) = (find("CSC")?, find("CPC")?);
    let id = csc.get("exports")?.items().iter().find_map(|e| {
        e.as_block()?
            .get("stream")?
            .as_text()?
            .strip_prefix("csc2cpc.")?
            .strip_suffix(".>")
            .map(str::to_string)
    })?;
    let stream_import = |n: &Node| -> Option<(String, String, Option<String>)> {
        let b = n.as_block()?;
        let src = b.get("stream")?.as_block()?;
        Some((
            src.get("account")?.as_text()?.to_string(),
            src.get("subject")?.as_text()?.to_string(),
            b.get("to").and_then(Node::as_text).map(str::to_string),
        ))
    };
    let prefix = format!("cpc.{id}.");
    let own = format!("csc2cpc.{id}.>");
    let (mut e, mut p, mut x) = (vec![], vec![], vec![]);
    for imp in csc.get("imports").map(Node::items).unwrap_or_default() {
        if let Some((acc, subject, Some(to))) = stream_import(imp)
            && acc == "CPC"
            && to == format!("{prefix}{subject}")
        {
            x.push(Spanned::new(subject, s.span(imp.pos)));
        }
    }
    for imp in cpc.get("imports").map(Node::items).unwrap_or_default() {
        let Some((acc, subject, to)) = stream_import(imp) else {
            continue;
        };
        if acc != "CSC" || subject == own {
            continue;
        }
        match to {
            None => e.push(Spanned::new(subject, s.span(imp.pos))),
            Some(to) if to == subject => e.push(Spanned::new(subject, s.span(imp.pos))),
            Some(to) if subject == format!("{prefix}{to}") => {
                p.push(Spanned::new(to, s.span(imp.pos)))
            }
            Some(_) => {}
        }
    }
    Some(([e, p, x], id))
}

/// A Gateway listener as the routes see it.
struct Listener<'a> {
    name: &'a str,
    span: Span,
    port: Option<i64>,
    protocol: String,
    mode: String,
    kinds: Option<Vec<String>>,
}

impl Listener<'_> {
    /// The route kinds that can attach: those listed, else what the protocol and TLS mode carry.
    fn takes(&self) -> Vec<String> {
        if let Some(k) = &self.kinds {
            return k.clone();
        }
        let v: &[&str] = match (self.protocol.as_str(), self.mode.as_str()) {
            ("TCP", _) => &["TCPRoute"],
            ("TLS", "Passthrough") => &["TLSRoute"],
            ("TLS", _) => &["TCPRoute"],
            ("UDP", _) => &["UDPRoute"],
            ("HTTP" | "HTTPS", _) => &["HTTPRoute", "GRPCRoute"],
            _ => &[],
        };
        v.iter().map(|s| s.to_string()).collect()
    }
    fn describe(&self) -> String {
        if self.protocol == "TLS" {
            format!("`{}` (TLS, {})", self.name, self.mode)
        } else {
            format!("`{}` ({})", self.name, self.protocol)
        }
    }
}

fn listeners<'a>(gw: &Doc<'a>) -> Vec<Listener<'a>> {
    gw.node
        .path(&["spec", "listeners"])
        .map(YNode::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|l| {
            let name = l.get("name")?;
            Some(Listener {
                name: name.as_str()?,
                span: name.span,
                port: l.get("port").and_then(YNode::as_i64),
                protocol: l
                    .get("protocol")
                    .and_then(YNode::as_str)
                    .unwrap_or("")
                    .to_ascii_uppercase(),
                mode: l
                    .path(&["tls", "mode"])
                    .and_then(YNode::as_str)
                    .unwrap_or("Terminate")
                    .to_string(),
                kinds: l.path(&["allowedRoutes", "kinds"]).map(|k| {
                    k.items()
                        .iter()
                        .filter_map(|k| k.get("kind")?.as_str().map(str::to_string))
                        .collect()
                }),
            })
        })
        .collect()
}

fn is_route(d: &Doc) -> bool {
    d.is_gateway_api() && matches!(d.kind, "TCPRoute" | "TLSRoute")
}

/// Routes against the listeners of a Gateway the stream carries (others are not known here).
pub fn routes(docs: &[Doc], out: &mut Vec<Diagnostic>) {
    let gateways: Vec<&Doc> = docs
        .iter()
        .filter(|d| d.is_gateway_api() && d.kind == "Gateway")
        .collect();
    for r in docs.iter().filter(|d| is_route(d)) {
        let kind_span = r.node.get("kind").map(|k| k.span).unwrap_or(r.node.span);
        if r.kind == "TLSRoute"
            && r.node
                .path(&["spec", "hostnames"])
                .is_none_or(|h| h.items().is_empty())
        {
            out.push(
                Finding::TlsRouteHostnames {
                    route: r.name,
                    at: kind_span,
                }
                .into(),
            );
        }
        for pr in r
            .node
            .path(&["spec", "parentRefs"])
            .map(YNode::items)
            .unwrap_or_default()
        {
            if pr
                .get("kind")
                .and_then(YNode::as_str)
                .is_some_and(|k| k != "Gateway")
            {
                continue;
            }
            let Some(gname) = pr.get("name").and_then(YNode::as_str) else {
                continue;
            };
            let ns = pr.get("namespace").and_then(YNode::as_str);
            let Some(gw) = gateways.iter().find(|g| {
                g.name == gname && (ns.is_none() || g.namespace.is_none() || g.namespace == ns)
            }) else {
                continue;
            };
            let ls = listeners(gw);
            let port = pr.get("port");
            let fits = |l: &Listener| {
                l.takes().iter().any(|k| k == r.kind)
                    && port
                        .and_then(YNode::as_i64)
                        .is_none_or(|p| l.port == Some(p))
            };
            match pr.get("sectionName") {
                Some(section) => section_listener(r, gw, &ls, section, port, kind_span, out),
                None if !ls.iter().any(fits) => {
                    out.push(
                        Route::NoListener {
                            gateway: gw.name,
                            kind: r.kind,
                            route: r.name,
                            at: kind_span,
                            listeners: ls.iter().map(|l| l.describe()).collect(),
                        }
                        .into(),
                    );
                }
                None => {}
            }
        }
    }
}

/// A route that names its listener (sectionName): the listener exists, takes the route's kind,
/// and listens on the port the route asks for.
fn section_listener(
    r: &Doc,
    gw: &Doc,
    ls: &[Listener],
    section: &YNode,
    port: Option<&YNode>,
    kind_span: Span,
    out: &mut Vec<Diagnostic>,
) {
    let sname = section.as_str().unwrap_or("");
    let Some(l) = ls.iter().find(|l| l.name == sname) else {
        out.push(
            Route::UnknownSection {
                kind: r.kind,
                route: r.name,
                section: sname,
                gateway: gw.name,
                at: section.span,
                names: ls.iter().map(|l| l.name).collect(),
            }
            .into(),
        );
        return;
    };
    let takes = l.takes();
    if !takes.iter().any(|k| k == r.kind) {
        out.push(
            Route::WrongKind {
                kind: r.kind,
                route: r.name,
                listener: l.describe(),
                mode: &l.mode,
                gateway: gw.name,
                takes,
                at: kind_span,
                listener_at: l.span,
            }
            .into(),
        );
    } else if let (Some(p), Some(lp)) = (port, l.port)
        && p.as_i64() != Some(lp)
    {
        out.push(
            Route::WrongPort {
                kind: r.kind,
                route: r.name,
                port: p.scalar_text().unwrap_or_default(),
                listener: l.name,
                listens: lp,
                at: p.span,
                listener_at: l.span,
            }
            .into(),
        );
    }
}

fn truthy(n: Option<&Node>) -> bool {
    match n.map(|n| &n.v) {
        Some(Val::Bool(b)) => *b,
        Some(Val::Str(s) | Val::Bare(s)) => !s.is_empty() && !s.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

fn handshake_first(b: Option<&Block>) -> bool {
    truthy(
        b.and_then(|b| b.get("tls"))
            .and_then(Node::as_block)
            .and_then(|t| t.get("handshake_first")),
    )
}

/// TLS passthrough to a NATS client or leaf listener needs TLS first at both ends: the
/// protocols otherwise open with a plaintext INFO the route cannot carry.
pub fn passthrough(docs: &[Doc], servers: &[Server], out: &mut Vec<Diagnostic>) {
    for r in docs.iter().filter(|d| is_route(d) && d.kind == "TLSRoute") {
        let kind_span = r.node.get("kind").map(|k| k.span).unwrap_or(r.node.span);
        let backends = r
            .node
            .path(&["spec", "rules"])
            .map(YNode::items)
            .unwrap_or_default()
            .iter()
            .flat_map(|rule| {
                rule.get("backendRefs")
                    .map(YNode::items)
                    .unwrap_or_default()
            });
        for b in backends {
            let (Some(name), Some(port)) = (
                b.get("name").and_then(YNode::as_str),
                b.get("port").and_then(YNode::as_i64),
            ) else {
                continue;
            };
            // The NATS chart names a release's config ConfigMap `<release>-config`.
            let Some(s) = servers
                .iter()
                .find(|s| s.root_conf().cm == format!("{name}-config"))
            else {
                continue;
            };
            let root = &s.parsed.root;
            let client_port = match root.get("port").map(|n| &n.v) {
                Some(Val::Int(p)) => *p,
                _ => 4222,
            };
            let leaf = root.get("leafnodes").and_then(Node::as_block);
            let leaf_port = match leaf.and_then(|l| l.get("port")).map(|n| &n.v) {
                Some(Val::Int(p)) => Some(*p),
                _ => leaf.map(|_| 7422),
            };
            let mut d = None;
            if port == client_port && !handshake_first(Some(root)) {
                let at = root
                    .get("tls")
                    .map(|t| t.pos)
                    .unwrap_or(root.entry("port").map(|(k, _)| *k).unwrap_or_default());
                d = Some(
                    Passthrough::ClientHandshake {
                        route: r.name,
                        backend: name,
                        port,
                        config: &s.root_conf().key,
                        at: kind_span,
                        listener_at: s.span(at),
                    }
                    .into(),
                );
            } else if Some(port) == leaf_port {
                let l = leaf.expect("a leaf port comes from a leafnodes block");
                let remotes = l.get("remotes").map(Node::items).unwrap_or_default();
                let missing: Vec<&Node> = remotes
                    .iter()
                    .filter(|r| !handshake_first(r.as_block()))
                    .collect();
                let (bad, at) = if remotes.is_empty() {
                    (
                        !handshake_first(Some(l)),
                        vec![root.get("leafnodes").map(|n| n.pos).unwrap_or_default()],
                    )
                } else {
                    (!missing.is_empty(), missing.iter().map(|n| n.pos).collect())
                };
                if bad {
                    d = Some(
                        Passthrough::LeafHandshake {
                            route: r.name,
                            backend: name,
                            port,
                            config: &s.root_conf().key,
                            at: kind_span,
                            remotes: !remotes.is_empty(),
                            places: at.into_iter().map(|p| s.span(p)).collect(),
                        }
                        .into(),
                    );
                }
            }
            out.extend(d);
        }
    }
}
