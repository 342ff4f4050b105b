//! Rules across the clusters of a fleet: what no single values file can decide. Each finding
//! points at the value that is wrong and at the value (often in another file) it disagrees with.

use super::{Cluster, Fleet, GatewayFacts, Listener};
use crate::diag::{Code, Diagnostic, Span, suggest};
use crate::load::Node;
use crate::model::{ClusterType, Model, RouteKind, Spanned};
use std::collections::{HashMap, HashSet};

pub fn check(fleet: &Fleet) -> Vec<Diagnostic> {
    let mut out = vec![];
    let Some(spec) = &fleet.spec else { return out };
    for c in &fleet.clusters {
        let Some(m) = &c.model else { continue };
        if m.cluster_name() != c.name()
            && (m.cluster_type == ClusterType::Csc || m.cluster_id.is_some())
        {
            out.push(
                Finding::ClusterName {
                    fleet_name: c.name(),
                    values_name: m.cluster_name(),
                    at: c.spec.name.span,
                    id: m.cluster_id.as_ref().map(|id| id.span),
                }
                .into(),
            );
        }
        if let Some(gw) = &c.spec.gateway {
            out.extend(gateway_routes(m, gw));
        }
        out.extend(mtls_hostnames(c, m));
    }
    let cscs: Vec<&Cluster> = fleet
        .clusters
        .iter()
        .filter(|c| {
            c.model
                .as_ref()
                .is_some_and(|m| m.cluster_type == ClusterType::Csc)
        })
        .collect();
    match cscs.as_slice() {
        [] if fleet.complete => out.push(
            Finding::NoCsc {
                at: spec.clusters_span,
            }
            .into(),
        ),
        [_] | [] => {}
        [first, rest @ ..] => {
            for c in rest {
                out.push(
                    Finding::SecondCsc {
                        name: c.name(),
                        first: first.name(),
                        at: c.spec.name.span,
                        first_at: first.spec.name.span,
                    }
                    .into(),
                );
            }
        }
    }
    let cpcs: Vec<(&Cluster, &Model)> = fleet.of_type(ClusterType::Cpc).collect();
    // No two CPCs share an id: the first CPC with each id, found by lookup.
    let mut first_with: HashMap<&str, (&Cluster, &Model)> = HashMap::new();
    for &(c, m) in &cpcs {
        let Some(id) = &m.cluster_id else { continue };
        let (first, fm) = *first_with.entry(id.value.as_str()).or_insert((c, m));
        if !std::ptr::eq(first, c) {
            out.push(
                Ids::DuplicateCpcId {
                    first: first.name(),
                    second: c.name(),
                    id: &id.value,
                    at: id.span,
                    first_at: fm.cluster_id.as_ref().unwrap().span,
                }
                .into(),
            );
        }
    }
    if let [csc] = cscs.as_slice() {
        let cm = csc.model.as_ref().unwrap();
        out.extend(cpc_ids(fleet, csc, cm, &cpcs));
        let mut per_cpc = vec![];
        for (c, m) in &cpcs {
            per_cpc.extend(leaf_accounts(c, m, cm).into_iter().map(|d| (c.name(), d)));
            per_cpc.extend(endpoint(csc, cm, c, m).into_iter().map(|d| (c.name(), d)));
        }
        out.extend(group(per_cpc));
    }
    out
}

/// One mistake in a file several CPCs share is one finding: the first CPC's, naming the others.
fn group(tagged: Vec<(&str, Diagnostic)>) -> Vec<Diagnostic> {
    let mut out: Vec<(Diagnostic, Vec<&str>)> = vec![];
    let mut index: std::collections::HashMap<(Code, Vec<Span>), usize> = Default::default();
    for (name, d) in tagged {
        let key = (d.code, d.labels.iter().map(|l| l.span).collect());
        match index.get(&key) {
            Some(&i) => out[i].1.push(name),
            None => {
                index.insert(key, out.len());
                out.push((d, vec![]));
            }
        }
    }
    out.into_iter()
        .map(|(mut d, others)| {
            if !others.is_empty() {
                let shown: Vec<&str> = others.iter().take(4).copied().collect();
                let more = if others.len() > 4 {
                    format!(" and {} more", others.len() - 4)
                } else {
                    String::new()
                };
                d.message
                    .push_str(&format!(" (the same holds for {}{more})", shown.join(", ")));
            }
            d
        })
        .collect()
}

fn cpc_ids(
    fleet: &Fleet,
    csc: &Cluster,
    cm: &Model,
    cpcs: &[(&Cluster, &Model)],
) -> Vec<Diagnostic> {
    let mut out = vec![];
    let spec = fleet.spec.as_ref().unwrap();
    let ids: HashSet<&str> = cm.cpc_ids.iter().map(|x| x.value.as_str()).collect();
    let listed = |id: &str| ids.contains(id);
    let cpc_ids_span = cm
        .cpc_ids
        .first()
        .map(|s| s.span)
        .unwrap_or(cm.event_bus_span);
    // Every finding names the list: at most its first ids, so 10,000 findings stay small.
    const SHOWN_IDS: usize = 20;
    let listed_text = match cm.cpc_ids.len() {
        0 => "none".to_string(),
        n => {
            let shown: Vec<&str> = cm
                .cpc_ids
                .iter()
                .take(SHOWN_IDS)
                .map(|x| x.value.as_str())
                .collect();
            match n.saturating_sub(SHOWN_IDS) {
                0 => shown.join(", "),
                more => format!("{} and {more} more", shown.join(", ")),
            }
        }
    };
    for (c, m) in cpcs {
        let Some(id) = &m.cluster_id else { continue };
        if !listed(&id.value) {
            out.push(
                Ids::CpcNotListed {
                    cpc: c.name(),
                    id: &id.value,
                    listed: &listed_text,
                    csc: csc.name(),
                    at: id.span,
                    list_at: cpc_ids_span,
                }
                .into(),
            );
        }
    }
    // Only when every CPC's id is known: an unknown id is reported by the CPC's own checks.
    if fleet.complete && cpcs.iter().all(|(_, m)| m.cluster_id.is_some()) {
        let cpc_ids: HashSet<&str> = cpcs
            .iter()
            .filter_map(|(_, m)| m.cluster_id.as_ref().map(|x| x.value.as_str()))
            .collect();
        for id in &cm.cpc_ids {
            if !cpc_ids.contains(id.value.as_str()) {
                out.push(
                    Ids::NoSuchCpc {
                        id: &id.value,
                        at: id.span,
                        clusters_at: spec.clusters_span,
                    }
                    .into(),
                );
            }
        }
    }
    out
}

fn leaf_accounts(c: &Cluster, m: &Model, cm: &Model) -> Vec<Diagnostic> {
    m.extra_accounts
        .iter()
        .filter(|a| {
            !cm.extra_accounts
                .iter()
                .any(|b| b.name.value == a.name.value)
        })
        .map(|a| {
            Finding::LeafAccount {
                cpc: c.name(),
                account: &a.name.value,
                at: a.name.span,
                csc_at: cm.event_bus_span,
            }
            .into()
        })
        .collect()
}

/// Scheme, host and port of a URL; the port defaults as the dialler's does.
pub fn split_url(url: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let hostport = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, p) = v6.split_once(']')?;
        (h.to_string(), p.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hostport.to_string(), None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((scheme.to_ascii_lowercase(), host, port))
}

fn truthy(n: &Node) -> bool {
    match n.as_bool() {
        Some(b) => b,
        None => n.as_str().is_some_and(|s| !s.is_empty() && s != "false"),
    }
}

fn handshake_first(tls: Option<&Node>) -> bool {
    tls.and_then(|t| t.get("handshake_first"))
        .is_some_and(truthy)
}

/// The CSC's accepting leaf listener: whether the server itself speaks TLS there, and where that is
/// set.
fn server_leaf_tls(cm: &Model) -> Option<(Span, bool)> {
    if let Some(t) = &cm.csc_leaf_server_tls {
        return Some((t.span, handshake_first(Some(t))));
    }
    let chart = cm.nats.leafnodes.tls.as_ref()?;
    let span = cm
        .nats
        .raw
        .as_ref()
        .and_then(|r| r.path(&["leafnodes", "tls"]))
        .map(|n| n.span)
        .unwrap_or(cm.event_bus_span);
    Some((span, handshake_first(chart.merge.as_ref())))
}

fn config_span(m: &Model, path: &[&str]) -> Span {
    m.nats
        .raw
        .as_ref()
        .and_then(|r| r.path(path))
        .map(|n| n.span)
        .unwrap_or(m.event_bus_span)
}

/// The Gateway listener the CSC's leaf route attaches to, when the fleet states the Gateway.
fn leaf_listener<'a>(csc: &'a Cluster, cm: &Model) -> Option<&'a Listener> {
    let route = cm
        .routes
        .iter()
        .find(|r| r.key == "natsLeafnode" && r.enabled)?;
    csc.spec
        .gateway
        .as_ref()?
        .listeners
        .iter()
        .find(|l| l.name.value == route.section_name.value)
}

/// A CPC's leaf connection as it dials the CSC: the URL's parts and what the CSC serves.
struct Dial<'a> {
    cm: &'a Model,
    c: &'a Cluster,
    ep: &'a crate::model::Spanned<String>,
    scheme: String,
    port: Option<u16>,
    websocket: bool,
    scheme_tls: bool,
    listener: Option<&'a Listener>,
    server_tls: Option<(Span, bool)>,
    gw_terminates: bool,
    client_block: Option<&'a Node>,
}

/// The CPC's cscEndpoint against the CSC's listener: scheme, then port, then leaf TLS.
fn endpoint(csc: &Cluster, cm: &Model, c: &Cluster, m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    let Some(ep) = &m.csc_endpoint else {
        return out;
    };
    // A malformed URL is the CPC's own finding.
    if crate::check::values::endpoint_problem(&ep.value).is_some() {
        return out;
    }
    let Some((scheme, _host, port)) = split_url(&ep.value) else {
        return out;
    };
    let listener = leaf_listener(csc, cm);
    let d = Dial {
        cm,
        c,
        ep,
        websocket: matches!(scheme.as_str(), "ws" | "wss"),
        scheme_tls: matches!(scheme.as_str(), "tls" | "wss"),
        scheme,
        port,
        listener,
        server_tls: server_leaf_tls(cm),
        gw_terminates: listener.is_some_and(Listener::terminates_tls),
        client_block: m.cpc_leaf_client_tls.as_ref(),
    };
    if let Some(problem) = endpoint_scheme(&d) {
        out.push(problem);
        return out;
    }
    if endpoint_port(&d, &mut out) {
        leaf_tls(&d, &mut out);
    }
    out
}

/// The scheme fits the listener: websocket, TLS, or plain text.
fn endpoint_scheme(d: &Dial) -> Option<Diagnostic> {
    let (cpc, endpoint, at) = (d.c.name(), d.ep.value.as_str(), d.ep.span);
    let problem = if d.websocket && !d.cm.nats.websocket.enabled {
        Scheme::NoWebsocket {
            cpc,
            endpoint,
            at,
            websocket_at: config_span(d.cm, &["websocket"]),
        }
    } else if d.scheme_tls && d.server_tls.is_none() && !d.gw_terminates {
        Scheme::NoServerTls {
            cpc,
            endpoint,
            at,
            csc_at: d.cm.event_bus_span,
        }
    } else if !d.scheme_tls && d.client_block.is_none() && d.gw_terminates {
        let l = d.listener.unwrap();
        Scheme::PlainToTls {
            cpc,
            endpoint,
            listener: l.describe(),
            port: l.port.value,
            at,
            mode_at: l.tls_mode.span,
        }
    } else {
        return None;
    };
    Some(Finding::Scheme(problem).into())
}

/// The port is the listener's; `false` when the CSC has no leaf listener at all (the rest
/// then says nothing).
fn endpoint_port(d: &Dial, out: &mut Vec<Diagnostic>) -> bool {
    // Port.
    let (expected, where_span, what): (u16, Span, String) = if d.websocket {
        (
            d.cm.nats.websocket.port as u16,
            config_span(d.cm, &["websocket", "port"]),
            "the CSC's websocket port".into(),
        )
    } else if let Some(l) = d.listener {
        (
            l.port.value,
            l.port.span,
            format!("the CSC Gateway listener `{}`", l.name.value),
        )
    } else if !d.cm.nats.leafnodes.enabled {
        out.push(
            Finding::LeafOff {
                cpc: d.c.name(),
                at: d.ep.span,
                leafnodes_at: config_span(d.cm, &["leafnodes", "enabled"]),
            }
            .into(),
        );
        return false;
    } else {
        (
            d.cm.nats.leafnodes.port as u16,
            config_span(d.cm, &["leafnodes", "port"]),
            "the CSC's leaf listener".into(),
        )
    };
    // Without a port a leaf remote dials the leafnode default; a websocket one the web default.
    let actual = d.port.unwrap_or(match d.scheme.as_str() {
        "ws" => 80,
        "wss" => 443,
        _ => 7422,
    });
    if actual != expected {
        out.push(
            Finding::Port {
                cpc: d.c.name(),
                endpoint: &d.ep.value,
                actual,
                expected,
                what,
                at: d.ep.span,
                listener_at: where_span,
            }
            .into(),
        );
    }

    true
}

/// TLS at both ends, and handshake_first alike.
fn leaf_tls(d: &Dial, out: &mut Vec<Diagnostic>) {
    let client_tls = d.client_block.is_some() || d.scheme_tls;
    let client_hf = handshake_first(d.client_block);
    let client_span = d.client_block.map(|b| b.span).unwrap_or(d.ep.span);
    if d.gw_terminates {
        let l = d.listener.unwrap();
        if !client_hf {
            out.push(
                Finding::LeafTls(LeafTls::GatewayHandshake {
                    listener: l.describe(),
                    cpc: d.c.name(),
                    at: client_span,
                    mode_at: l.tls_mode.span,
                })
                .into(),
            );
        }
        return;
    }
    let cpc = d.c.name();
    let found = match (d.server_tls, client_tls) {
        (Some((server_at, _)), false) => LeafTls::ServerOnly {
            cpc,
            endpoint: &d.ep.value,
            at: d.ep.span,
            server_at,
        },
        (None, true) => LeafTls::ClientOnly {
            cpc,
            at: client_span,
            csc_at: d.cm.event_bus_span,
        },
        (Some((server_at, server_hf)), true) if server_hf != client_hf => LeafTls::Handshake {
            cpc,
            server_hf,
            client_hf,
            at: client_span,
            server_at,
        },
        _ => return,
    };
    out.push(Finding::LeafTls(found).into());
}

fn gateway_routes(m: &Model, gw: &GatewayFacts) -> Vec<Diagnostic> {
    let mut out = vec![];
    let names: Vec<&str> = gw.listeners.iter().map(|l| l.name.value.as_str()).collect();
    let elsewhere = |r: &&crate::model::Route| {
        gw.name.as_ref().is_some_and(|n| n.value != r.gateway_name)
            || gw
                .namespace
                .as_ref()
                .is_some_and(|n| n.value != r.gateway_namespace)
    };
    let wrong: Vec<&crate::model::Route> = m
        .routes
        .iter()
        .filter(|r| r.enabled)
        .filter(elsewhere)
        .collect();
    if !wrong.is_empty() {
        let this = match (&gw.namespace, &gw.name) {
            (Some(ns), Some(n)) => format!("{}/{}", ns.value, n.value),
            (Some(ns), None) => format!("{}/(any name)", ns.value),
            (None, Some(n)) => n.value.clone(),
            (None, None) => {
                unreachable!("a route is elsewhere only when the fleet names the Gateway")
            }
        };
        out.push(
            Route::RoutesElsewhere {
                keys: wrong.iter().map(|r| r.key).collect(),
                namespace: &wrong[0].gateway_namespace,
                name: &wrong[0].gateway_name,
                this,
                at: gw
                    .name
                    .as_ref()
                    .or(gw.namespace.as_ref())
                    .map(|n| n.span)
                    .unwrap_or(gw.span),
                routes: wrong.iter().map(|r| (r.span, r.key)).collect(),
            }
            .into(),
        );
    }
    for r in m.routes.iter().filter(|r| r.enabled && !elsewhere(r)) {
        let Some(l) = gw
            .listeners
            .iter()
            .find(|l| l.name.value == r.section_name.value)
        else {
            out.push(
                Route::UnknownSection {
                    key: r.key,
                    section: &r.section_name.value,
                    names: names.clone(),
                    at: r.section_name.span,
                    gateway_at: gw.span,
                }
                .into(),
            );
            continue;
        };
        let fits = match r.kind.value {
            RouteKind::Tls => {
                l.protocol.value == super::Protocol::Tls
                    && l.tls_mode.value == super::TlsMode::Passthrough
            }
            RouteKind::Tcp => {
                !(l.protocol.value == super::Protocol::Tls
                    && l.tls_mode.value == super::TlsMode::Passthrough)
            }
        };
        if !fits {
            out.push(
                Route::Kind {
                    key: r.key,
                    kind: r.kind.value,
                    listener: l.describe(),
                    at: r.kind.span,
                    mode_at: l.tls_mode.span,
                }
                .into(),
            );
        }
    }
    out
}

/// DNS-style match of a host against a certificate SAN (`*.` covers exactly one label).
fn san_matches(san: &str, host: &str) -> bool {
    let (san, host) = (san.to_ascii_lowercase(), host.to_ascii_lowercase());
    match san.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => san == host,
    }
}

/// Gateway API hostname match: a leading `*.` covers one or more labels.
fn route_hostname_matches(pattern: &str, host: &str) -> bool {
    let (pattern, host) = (pattern.to_ascii_lowercase(), host.to_ascii_lowercase());
    match pattern.strip_prefix("*.") {
        Some(rest) => host.len() > rest.len() + 1 && host.ends_with(&format!(".{rest}")),
        None => pattern == host,
    }
}

fn list(items: &[Spanned<String>]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items
            .iter()
            .map(|i| i.value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn mtls_hostnames(c: &Cluster, m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    let Some(facts) = &c.spec.mtls else {
        return out;
    };
    let Some(route) = m.routes.iter().find(|r| r.key == "mqttMtls" && r.enabled) else {
        return out;
    };
    let hostnames: &[Spanned<String>] = if route.kind.value == RouteKind::Tls {
        &route.hostnames
    } else {
        &[]
    };
    let sans = &facts.sans;
    let hostnames_span = hostnames.first().map(|h| h.span).unwrap_or(route.span);
    let sans_span = sans.first().map(|s| s.span).unwrap_or(facts.span);
    for url in &facts.broker_urls {
        let host = split_url(&url.value).map(|(_, h, _)| h).unwrap_or_else(|| {
            url.value
                .rsplit_once(':')
                .map(|(h, _)| h.to_string())
                .unwrap_or(url.value.clone())
        });
        let route_ok = hostnames.is_empty()
            || hostnames
                .iter()
                .any(|h| route_hostname_matches(&h.value, &host));
        let san_ok = sans.is_empty() || sans.iter().any(|s| san_matches(&s.value, &host));
        if route_ok && san_ok {
            continue;
        }
        out.push(
            Mtls::BrokerUrl {
                cluster: c.name(),
                url: &url.value,
                host: &host,
                hostnames,
                sans,
                route_ok,
                san_ok,
                at: url.span,
                hostnames_at: hostnames_span,
                sans_at: sans_span,
            }
            .into(),
        );
    }
    if !sans.is_empty() {
        for h in hostnames {
            let covered = sans
                .iter()
                .any(|s| s.value.eq_ignore_ascii_case(&h.value) || san_matches(&s.value, &h.value));
            if !covered {
                out.push(
                    Mtls::Hostname {
                        cluster: c.name(),
                        hostname: &h.value,
                        sans,
                        urls: &facts.broker_urls,
                        at: h.span,
                        sans_at: sans_span,
                    }
                    .into(),
                );
            }
        }
    }
    out
}

/// What the rules above find; `From<Finding> for Diagnostic` words every one of them, so a
/// rule says only what it saw.
enum Finding<'a> {
    /// The fleet's name for a cluster against the one its values give it.
    ClusterName {
        fleet_name: &'a str,
        values_name: String,
        at: Span,
        id: Option<Span>,
    },
    NoCsc {
        at: Span,
    },
    SecondCsc {
        name: &'a str,
        first: &'a str,
        at: Span,
        first_at: Span,
    },
    LeafAccount {
        cpc: &'a str,
        account: &'a str,
        at: Span,
        csc_at: Span,
    },
    /// The endpoint's scheme does not fit the CSC's listener.
    Scheme(Scheme<'a>),
    LeafOff {
        cpc: &'a str,
        at: Span,
        leafnodes_at: Span,
    },
    /// The endpoint's port against the listener's (`what` names the listener).
    Port {
        cpc: &'a str,
        endpoint: &'a str,
        actual: u16,
        expected: u16,
        what: String,
        at: Span,
        listener_at: Span,
    },
    /// Leaf TLS at the two ends.
    LeafTls(LeafTls<'a>),
}

/// What the rules on a cluster's routes find: the Gateway they attach to, their listener,
/// and the mTLS route's hostnames against the broker URLs and the certificate.
enum Route<'a> {
    /// Routes attached to another Gateway than the cluster's (`this`).
    RoutesElsewhere {
        keys: Vec<&'a str>,
        namespace: &'a str,
        name: &'a str,
        this: String,
        at: Span,
        routes: Vec<(Span, &'a str)>,
    },
    UnknownSection {
        key: &'a str,
        section: &'a str,
        names: Vec<&'a str>,
        at: Span,
        gateway_at: Span,
    },
    Kind {
        key: &'a str,
        kind: RouteKind,
        listener: String,
        at: Span,
        mode_at: Span,
    },
}

/// How a CPC's endpoint scheme misses the CSC's listener.
enum Scheme<'a> {
    NoWebsocket {
        cpc: &'a str,
        endpoint: &'a str,
        at: Span,
        websocket_at: Span,
    },
    NoServerTls {
        cpc: &'a str,
        endpoint: &'a str,
        at: Span,
        csc_at: Span,
    },
    PlainToTls {
        cpc: &'a str,
        endpoint: &'a str,
        listener: String,
        port: u16,
        at: Span,
        mode_at: Span,
    },
}

/// How the two ends of a leaf connection disagree on TLS.
enum LeafTls<'a> {
    /// The Gateway terminates TLS and the CPC does not open with the handshake.
    GatewayHandshake {
        listener: String,
        cpc: &'a str,
        at: Span,
        mode_at: Span,
    },
    ServerOnly {
        cpc: &'a str,
        endpoint: &'a str,
        at: Span,
        server_at: Span,
    },
    ClientOnly {
        cpc: &'a str,
        at: Span,
        csc_at: Span,
    },
    Handshake {
        cpc: &'a str,
        server_hf: bool,
        client_hf: bool,
        at: Span,
        server_at: Span,
    },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::ClusterName {
                fleet_name,
                values_name,
                at,
                id,
            } => {
                let mut d = Diagnostic::new(
                    Code::FleetClusterName,
                    format!(
                        "the fleet calls this cluster `{fleet_name}`, but its values make it \
                         `{values_name}` (its NATS cluster name and JetStream identity)"
                    ),
                )
                .at(at, "fleet name");
                if let Some(id) = id {
                    d = d.at(id, "clusterId");
                }
                d.help(format!(
                    "name it `{values_name}` in the fleet file, or fix its clusterId"
                ))
            }
            Finding::NoCsc { at } => Diagnostic::new(
                Code::FleetOneCsc,
                "the fleet has no CSC: every CPC's leaf connection needs the central cluster to \
                 dial",
            )
            .at(at, "no cluster with clusterType: csc")
            .help("add the CSC to `clusters:` with its values (global.eventBus.clusterType: csc)"),
            Finding::SecondCsc {
                name,
                first,
                at,
                first_at,
            } => Diagnostic::new(
                Code::FleetOneCsc,
                format!("`{name}` is a second CSC; a fleet has exactly one (`{first}`)"),
            )
            .at(at, "another CSC")
            .at(first_at, "the first CSC")
            .help("give this cluster clusterType: cpc, or split the fleet file in two"),
            Finding::LeafAccount {
                cpc,
                account,
                at,
                csc_at,
            } => Diagnostic::new(
                Code::FleetLeafAccount,
                format!(
                    "{cpc} binds a leaf connection to its extra account `{account}`, which the \
                     CSC does not have"
                ),
            )
            .at(at, "leaf remote for this account")
            .at(csc_at, "the CSC's values")
            .help(format!(
                "add `{account}` to the CSC's global.eventBus.extraAccounts, or disable it on \
                 this CPC"
            )),
            Finding::Scheme(s) => s.into(),
            Finding::LeafOff {
                cpc,
                at,
                leafnodes_at,
            } => Diagnostic::new(
                Code::FleetEndpointPort,
                format!(
                    "{cpc} dials the CSC's leaf listener, but the CSC has leafnodes switched off"
                ),
            )
            .at(at, "cscEndpoint")
            .at(leafnodes_at, "leafnodes off on the CSC")
            .help("enable nats.config.leafnodes on the CSC"),
            Finding::Port {
                cpc,
                endpoint,
                actual,
                expected,
                what,
                at,
                listener_at,
            } => Diagnostic::new(
                Code::FleetEndpointPort,
                format!(
                    "{cpc} dials port {actual} (`{endpoint}`), but {what} is on port {expected}"
                ),
            )
            .at(at, format!("port {actual}"))
            .at(listener_at, format!("port {expected}"))
            .help(format!("dial port {expected}")),
            Finding::LeafTls(t) => t.into(),
        }
    }
}

impl From<Scheme<'_>> for Diagnostic {
    fn from(s: Scheme<'_>) -> Diagnostic {
        let (msg, at, other, label, help) = match s {
            Scheme::NoWebsocket {
                cpc,
                endpoint,
                at,
                websocket_at,
            } => (
                format!(
                    "{cpc} dials the CSC over websocket (`{endpoint}`), but the CSC has no \
                     websocket listener"
                ),
                at,
                websocket_at,
                "the CSC's websocket block",
                "dial nats://HOST:7422 (or tls://), or enable nats.config.websocket on the CSC"
                    .to_string(),
            ),
            Scheme::NoServerTls {
                cpc,
                endpoint,
                at,
                csc_at,
            } => (
                format!(
                    "{cpc} dials `{endpoint}` with TLS, but neither the CSC's leaf listener nor \
                     its Gateway speaks TLS"
                ),
                at,
                csc_at,
                "no cscLeafServerTLS on the CSC",
                "dial nats://, or give the CSC a cscLeafServerTLS block".to_string(),
            ),
            Scheme::PlainToTls {
                cpc,
                endpoint,
                listener,
                port,
                at,
                mode_at,
            } => (
                format!(
                    "{cpc} dials `{endpoint}` in plain text, but the CSC's Gateway listener \
                     {listener} terminates TLS"
                ),
                at,
                mode_at,
                "terminates TLS",
                format!(
                    "dial tls://HOST:{port} and set `handshake_first: true` in cpcLeafClientTLS"
                ),
            ),
        };
        Diagnostic::new(Code::FleetEndpointScheme, msg)
            .at(at, "cscEndpoint")
            .at(other, label)
            .help(help)
    }
}

impl From<LeafTls<'_>> for Diagnostic {
    fn from(t: LeafTls<'_>) -> Diagnostic {
        match t {
            LeafTls::GatewayHandshake {
                listener,
                cpc,
                at,
                mode_at,
            } => Diagnostic::new(
                Code::FleetLeafTls,
                format!(
                    "the CSC's Gateway listener {listener} terminates TLS, so {cpc} must open \
                     with the TLS handshake; without handshake_first it waits for an INFO the \
                     Gateway never passes"
                ),
            )
            .at(at, "no handshake_first")
            .at(mode_at, "terminates TLS")
            .help("set `handshake_first: true` in this CPC's cpcLeafClientTLS"),
            LeafTls::ServerOnly {
                cpc,
                endpoint,
                at,
                server_at,
            } => Diagnostic::new(
                Code::FleetLeafTls,
                format!(
                    "the CSC's leaf listener requires TLS, but {cpc} dials `{endpoint}` without \
                     any TLS"
                ),
            )
            .at(at, "no TLS on this end")
            .at(server_at, "TLS on the CSC's leaf listener")
            .help(
                "give the CPC a cpcLeafClientTLS block (and dial tls://), or remove the CSC's leaf \
                 TLS",
            ),
            LeafTls::ClientOnly { cpc, at, csc_at } => Diagnostic::new(
                Code::FleetLeafTls,
                format!(
                    "{cpc} sets leaf TLS (cpcLeafClientTLS), but the CSC's leaf listener has none"
                ),
            )
            .at(at, "TLS on this end")
            .at(csc_at, "no cscLeafServerTLS on the CSC")
            .help(
                "set TLS at both ends of the leaf connection (cscLeafServerTLS on the CSC) or at \
                 neither",
            ),
            LeafTls::Handshake {
                cpc,
                server_hf,
                client_hf,
                at,
                server_at,
            } => {
                let (on, off) = if server_hf {
                    ("the CSC", cpc)
                } else {
                    (cpc, "the CSC")
                };
                let state = |on: bool| if on { "on" } else { "off" };
                Diagnostic::new(
                    Code::FleetLeafTls,
                    format!(
                        "handshake_first is on at {on} and off at {off}: one end waits for an \
                         INFO, the other for a TLS handshake"
                    ),
                )
                .at(at, format!("handshake_first {}", state(client_hf)))
                .at(server_at, format!("handshake_first {}", state(server_hf)))
                .help(
                    "set `handshake_first: true` at both ends (cscLeafServerTLS and \
                     cpcLeafClientTLS) or at neither",
                )
            }
        }
    }
}

impl From<Route<'_>> for Diagnostic {
    fn from(r: Route<'_>) -> Diagnostic {
        match r {
            Route::RoutesElsewhere {
                keys,
                namespace,
                name,
                this,
                at,
                routes,
            } => {
                let mut d = Diagnostic::new(
                    Code::FleetRouteSection,
                    format!(
                        "the routes {} attach to Gateway `{namespace}/{name}`, but this cluster's \
                         Gateway is `{this}`; they never carry traffic",
                        keys.join(", "),
                    ),
                )
                .at(at, "this cluster's Gateway");
                for (span, key) in routes {
                    d = d.at(span, format!("the {key} route"));
                }
                d.help(
                    "set gatewayName and gatewayNamespace of each route \
                     (global.eventBus.gateway.routes) to the cluster's Gateway, or correct the \
                     fleet file",
                )
            }
            Route::UnknownSection {
                key,
                section,
                names,
                at,
                gateway_at,
            } => {
                let d = Diagnostic::new(
                    Code::FleetRouteSection,
                    format!(
                        "the {key} route's sectionName `{section}` names no listener of the \
                         Gateway (listeners: {}); the route never carries traffic",
                        names.join(", ")
                    ),
                )
                .at(at, "no such listener")
                .at(gateway_at, "the Gateway's listeners");
                match suggest(section, names.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(
                        "set sectionName to the name of the listener that carries this traffic",
                    ),
                }
            }
            Route::Kind {
                key,
                kind,
                listener,
                at,
                mode_at,
            } => {
                let (needs, fix) = match kind {
                    RouteKind::Tls => (
                        "a TLSRoute needs a TLS listener in Passthrough mode",
                        "TCPRoute",
                    ),
                    RouteKind::Tcp => ("a Passthrough listener takes only TLSRoutes", "TLSRoute"),
                };
                Diagnostic::new(
                    Code::FleetRouteKind,
                    format!(
                        "the {key} route is a {} on listener {listener}: {needs}; the route never \
                         carries traffic",
                        kind.name(),
                    ),
                )
                .at(at, kind.name())
                .at(mode_at, "the listener's TLS mode")
                .help(format!("make the route a {fix}, or change the listener"))
            }
        }
    }
}

/// What the rule on the mTLS route finds: broker URLs, the route's hostnames and the certificate.
enum Mtls<'a> {
    /// A broker URL's host the TLSRoute hostnames or the certificate SANs do not cover.
    BrokerUrl {
        cluster: &'a str,
        url: &'a str,
        host: &'a str,
        hostnames: &'a [Spanned<String>],
        sans: &'a [Spanned<String>],
        route_ok: bool,
        san_ok: bool,
        at: Span,
        hostnames_at: Span,
        sans_at: Span,
    },
    /// A TLSRoute hostname not among the certificate SANs.
    Hostname {
        cluster: &'a str,
        hostname: &'a str,
        sans: &'a [Spanned<String>],
        urls: &'a [Spanned<String>],
        at: Span,
        sans_at: Span,
    },
}

impl From<Mtls<'_>> for Diagnostic {
    fn from(f: Mtls<'_>) -> Diagnostic {
        match f {
            Mtls::BrokerUrl {
                cluster,
                url,
                host,
                hostnames,
                sans,
                route_ok,
                san_ok,
                at,
                hostnames_at,
                sans_at,
            } => {
                let why = match (route_ok, san_ok) {
                    (false, false) => {
                        "neither the TLSRoute hostnames nor the certificate SANs cover it"
                    }
                    (false, true) => "the TLSRoute drops it before the handshake reaches NATS",
                    _ => {
                        "the server certificate does not name it, so the client refuses the \
                         handshake"
                    }
                };
                let hostnames = if hostnames.is_empty() {
                    "any (none listed)".into()
                } else {
                    list(hostnames)
                };
                let sans = if sans.is_empty() {
                    "not stated".into()
                } else {
                    list(sans)
                };
                Diagnostic::new(
                    Code::FleetMtlsHostname,
                    format!(
                        "{cluster}: the broker URL `{url}` sends SNI `{host}`; TLSRoute \
                         hostnames: {hostnames}; certificate SANs: {sans}: {why}"
                    ),
                )
                .at(at, "broker URL")
                .at(hostnames_at, "TLSRoute hostnames")
                .at(sans_at, "certificate SANs")
                .help(
                    "make the broker URL host, the mqttMtls route's hostnames and the certificate \
                     SANs name the same host (a client dialling an IP address sends that address \
                     as SNI)",
                )
            }
            Mtls::Hostname {
                cluster,
                hostname,
                sans,
                urls,
                at,
                sans_at,
            } => Diagnostic::new(
                Code::FleetMtlsHostname,
                format!(
                    "{cluster}: the TLSRoute hostname `{hostname}` is not among the certificate \
                     SANs ({}); clients dialling it fail the handshake (broker URLs: {})",
                    list(sans),
                    list(urls)
                ),
            )
            .at(at, "TLSRoute hostname")
            .at(sans_at, "certificate SANs")
            .help("add the hostname to the certificate, or remove it from the route"),
        }
    }
}

/// What the rules on CPC ids find: each once, and the CSC's cpcIds against the fleet's CPCs.
enum Ids<'a> {
    DuplicateCpcId {
        first: &'a str,
        second: &'a str,
        id: &'a str,
        at: Span,
        first_at: Span,
    },
    /// A CPC's id the CSC's cpcIds (`listed`, shortened) do not list.
    CpcNotListed {
        cpc: &'a str,
        id: &'a str,
        listed: &'a str,
        csc: &'a str,
        at: Span,
        list_at: Span,
    },
    /// An id of the CSC's cpcIds no CPC of the fleet has.
    NoSuchCpc {
        id: &'a str,
        at: Span,
        clusters_at: Span,
    },
}

impl From<Ids<'_>> for Diagnostic {
    fn from(f: Ids<'_>) -> Diagnostic {
        match f {
            Ids::DuplicateCpcId {
                first,
                second,
                id,
                at,
                first_at,
            } => Diagnostic::new(
                Code::FleetDuplicateCpcId,
                format!("`{first}` and `{second}` both have clusterId `{id}`"),
            )
            .at(at, format!("{second}'s id"))
            .at(first_at, format!("{first}'s id"))
            .help("every CPC needs its own id: it prefixes its subjects and names its leaf user"),
            Ids::CpcNotListed {
                cpc,
                id,
                listed,
                csc,
                at,
                list_at,
            } => Diagnostic::new(
                Code::FleetCpcIds,
                format!(
                    "the CPC `{cpc}` has clusterId `{id}`, which the CSC's cpcIds do not list \
                     ({listed}): the CSC has no leaf user for it"
                ),
            )
            .at(at, "not in the CSC's cpcIds")
            .at(list_at, format!("{csc}'s cpcIds"))
            .help(format!("add \"{id}\" to global.eventBus.cpcIds of the CSC")),
            Ids::NoSuchCpc {
                id,
                at,
                clusters_at,
            } => Diagnostic::new(
                Code::FleetCpcIds,
                format!("the CSC's cpcIds list `{id}`, but no CPC of the fleet has that clusterId"),
            )
            .at(at, "no such CPC in the fleet")
            .at(clusters_at, "the fleet's clusters")
            .help(format!(
                "add the CPC with clusterId \"{id}\" to the fleet file, or remove the id from \
                 cpcIds"
            )),
        }
    }
}
