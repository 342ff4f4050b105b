//! Server tunables typed and bounded as nats-server 2.15 reads them, and the limits the server
//! only enforces when it starts (`nats-server -t` passes them, the pod then crash-loops).
//! Each fact was measured with the real server: see the README's "What -t does not catch".

use crate::chart::spans::{Spans, path};
use crate::conf::{Conf, ConfMap, size_bytes};
use crate::diag::{Code, Diagnostic, Span};
use crate::gotmpl::go_duration;

const I32_MAX: i64 = i32::MAX as i64;
/// The server's default `max_pending` (64 MB).
const DEFAULT_MAX_PENDING: i64 = 64 * 1024 * 1024;
/// The server warns above this payload ("generally discouraged").
const PAYLOAD_ADVICE: i64 = 8 * 1024 * 1024;

enum Kind {
    /// An integer or a bare size word; a quoted string is refused by the server.
    Size { max: Option<i64> },
    /// A duration string; an integer is refused by `-t`.
    Duration { always_ok: bool },
}

/// The tunables seed 003 sets, where they sit, and how the server reads them.
const TUNABLES: &[(&[&str], Kind)] = &[
    (&["max_connections"], Kind::Size { max: None }),
    (&["max_subscriptions"], Kind::Size { max: None }),
    (&["max_control_line"], Kind::Size { max: Some(I32_MAX) }),
    (&["max_payload"], Kind::Size { max: Some(I32_MAX) }),
    (&["max_pending"], Kind::Size { max: None }),
    (&["ping_interval"], Kind::Duration { always_ok: false }),
    (&["write_deadline"], Kind::Duration { always_ok: false }),
    (&["lame_duck_duration"], Kind::Duration { always_ok: false }),
    (
        &["lame_duck_grace_period"],
        Kind::Duration { always_ok: false },
    ),
    (
        &["jetstream", "sync_interval"],
        Kind::Duration { always_ok: true },
    ),
    (
        &["jetstream", "max_outstanding_catchup"],
        Kind::Size { max: None },
    ),
];

fn get<'a>(conf: &'a ConfMap, p: &[&str]) -> Option<&'a Conf> {
    let (first, rest) = p.split_first()?;
    let v = conf.get(first)?;
    if rest.is_empty() {
        return Some(v);
    }
    in_conf(v, rest)
}

/// One step down a map, or a list by index.
fn in_conf<'a>(v: &'a Conf, p: &[&str]) -> Option<&'a Conf> {
    let Some((first, rest)) = p.split_first() else {
        return Some(v);
    };
    match v {
        Conf::Map(m) => get(m, p),
        Conf::List(items) => in_conf(items.get(first.parse::<usize>().ok()?)?, rest),
        _ => None,
    }
}

fn block<'a>(conf: &'a ConfMap, key: &str) -> Option<&'a ConfMap> {
    match conf.get(key) {
        Some(Conf::Map(m)) => Some(m),
        _ => None,
    }
}

/// One rendered server config under judgement, with the values' span behind each key.
struct Server<'a> {
    conf: &'a ConfMap,
    spans: &'a Spans,
    fallback: Span,
}

impl Server<'_> {
    fn span(&self, p: &[&str]) -> Span {
        self.spans.at(&path(p)).unwrap_or(self.fallback)
    }

    fn block(&self, key: &str) -> Option<&ConfMap> {
        block(self.conf, key)
    }
}

/// The tunables, then the start-time limits, each rule in its own function below; the enums
/// at the end of the file word what they find, one per family of codes.
pub fn check(
    conf: &ConfMap,
    spans: &Spans,
    fallback: Span,
    operator_mode: bool,
) -> Vec<Diagnostic> {
    let s = Server {
        conf,
        spans,
        fallback,
    };
    let mut out: Vec<Diagnostic> = vec![];
    tunables(&s, &mut out);
    max_payload(&s, &mut out);
    port_conflict(&s, &mut out);
    let js = JetStream::of(conf);
    jetstream_cluster(&s, &js, &mut out);
    jetstream_routes(&s, &js, &mut out);
    mqtt(&s, &js, &mut out);
    if !operator_mode {
        leaf_gateway_system_account(&s, &mut out);
    }
    known_urls(&s, &mut out);
    websocket_tls(&s, &mut out);
    start_https(&s, &mut out);
    tls_no_secret(&s, &mut out);
    if !operator_mode {
        system_account(&s, &mut out);
    }
    out
}

/// Sizes quoted or too big, durations that are numbers, not Go durations, or negative, and
/// limits of zero or less.
fn tunables(s: &Server, out: &mut Vec<Diagnostic>) {
    for (p, kind) in TUNABLES {
        let Some(v) = get(s.conf, p) else { continue };
        let name = p.join(".");
        let at = s.span(p);
        match (kind, v) {
            (Kind::Size { .. }, Conf::Str(t)) => out.push(
                Tunable::QuotedSize {
                    name,
                    text: t.clone(),
                    at,
                }
                .into(),
            ),
            (Kind::Size { max }, other) => {
                let Some(bytes) = size_bytes(other) else {
                    continue;
                };
                if let Some(max) = max
                    && bytes > *max
                {
                    out.push(
                        Tunable::SizeTooBig {
                            name: name.clone(),
                            bytes,
                            max: *max,
                            at,
                        }
                        .into(),
                    );
                }
                if bytes <= 0 && *p != ["max_connections"] {
                    out.push(Tunable::NoLimit { name, bytes, at }.into());
                }
            }
            (Kind::Duration { .. }, Conf::Int(_) | Conf::Float(_)) => out.push(
                Tunable::BareDuration {
                    name,
                    key: p.last().unwrap_or(&"").to_string(),
                    at,
                }
                .into(),
            ),
            (Kind::Duration { always_ok }, Conf::Str(t))
                if !(*always_ok && t.eq_ignore_ascii_case("always")) =>
            {
                match go_duration(t) {
                    None => out.push(
                        Tunable::NotDuration {
                            name,
                            text: t.clone(),
                            always_ok: *always_ok,
                            at,
                        }
                        .into(),
                    ),
                    Some(secs) if secs < 0.0 => out.push(
                        Tunable::NegativeDuration {
                            name,
                            text: t.clone(),
                            at,
                        }
                        .into(),
                    ),
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

/// max_payload above max_pending: -t passes, the server refuses to start; above 8 MB the
/// server warns.
fn max_payload(s: &Server, out: &mut Vec<Diagnostic>) {
    let Some(payload) = s.conf.get("max_payload").and_then(size_bytes) else {
        return;
    };
    let pending = s
        .conf
        .get("max_pending")
        .and_then(size_bytes)
        .unwrap_or(DEFAULT_MAX_PENDING);
    let at = s.span(&["max_payload"]);
    if payload > pending && payload <= I32_MAX {
        out.push(
            Tunable::PayloadAbovePending {
                payload,
                pending,
                at,
            }
            .into(),
        );
    } else if payload > PAYLOAD_ADVICE && payload <= pending {
        out.push(Tunable::LargePayload { payload, at }.into());
    }
}

/// Two listeners on one port: -t passes, the second bind fails at start.
fn port_conflict(s: &Server, out: &mut Vec<Diagnostic>) {
    let mut ports: Vec<(i64, Vec<&str>)> = vec![];
    let mut listener = |p: Vec<&'static str>, default: Option<i64>| {
        let v = get(s.conf, &p).and_then(|c| match c {
            Conf::Int(i) => Some(*i),
            _ => None,
        });
        if let Some(port) = v.or(default)
            && port > 0
        {
            ports.push((port, p));
        }
    };
    listener(vec!["port"], Some(4222));
    for key in ["http_port", "https_port", "prof_port"] {
        listener(vec![key], None);
    }
    for block_key in ["cluster", "leafnodes", "gateway", "mqtt", "websocket"] {
        if s.block(block_key).is_some() {
            listener(vec![block_key, "port"], None);
        }
    }
    for (i, (port, p)) in ports.iter().enumerate() {
        if let Some((_, first)) = ports[..i].iter().find(|(q, _)| q == port) {
            out.push(
                Start::PortConflict {
                    first: first.join("."),
                    second: p.join("."),
                    port: *port,
                    at: s.span(p),
                    first_at: s.span(first),
                }
                .into(),
            );
        }
    }
}

/// Whether the config runs JetStream. `jetstream` is a block, or a switch (`true`,
/// `enabled`); another value is the type rule's finding, and the rules that depend on it
/// stay quiet.
struct JetStream {
    on: bool,
    off: bool,
}

impl JetStream {
    fn of(conf: &ConfMap) -> JetStream {
        let value = conf.get("jetstream");
        let word = match value {
            Some(Conf::Str(t) | Conf::Bare(t)) => Some(t.to_ascii_lowercase()),
            _ => None,
        };
        let word_in = |words: &[&str]| word.as_deref().is_some_and(|w| words.contains(&w));
        JetStream {
            on: block(conf, "jetstream").is_some()
                || matches!(value, Some(Conf::Bool(true)))
                || word_in(&["enabled", "enable", "true", "yes", "on"]),
            off: value.is_none()
                || matches!(value, Some(Conf::Bool(false)))
                || word_in(&["disabled", "disable", "false", "no", "off"]),
        }
    }
}

/// Clustered JetStream needs a cluster name and a server name.
fn jetstream_cluster(s: &Server, js: &JetStream, out: &mut Vec<Diagnostic>) {
    let Some(c) = s.block("cluster").filter(|_| js.on) else {
        return;
    };
    let missing = if c.get("name").is_none() {
        "`cluster.name`"
    } else if s.conf.get("server_name").is_none() {
        "`server_name`"
    } else {
        return;
    };
    out.push(
        Start::JetStreamCluster {
            missing,
            at: s.span(&["cluster"]),
        }
        .into(),
    );
}

/// The system account the config names, if a string.
fn system_account_name(conf: &ConfMap) -> Option<&str> {
    conf.items.iter().find_map(|i| match i {
        crate::conf::Item::Kv(k, Conf::Str(v)) if k.eq_ignore_ascii_case("system_account") => {
            Some(v.as_str())
        }
        _ => None,
    })
}

/// JetStream on a server that is not standalone (a cluster or a gateway listener) forms a
/// JetStream cluster: it needs routes, or a leaf remote bound to the system account
/// (nats-server's enableJetStreamClustering); without either the server stops at start.
fn jetstream_routes(s: &Server, js: &JetStream, out: &mut Vec<Diagnostic>) {
    let listens = |k: &str| {
        s.block(k)
            .is_some_and(|b| !matches!(b.get("port"), Some(Conf::Int(0))))
    };
    if !js.on || !(listens("cluster") || listens("gateway")) {
        return;
    }
    let cluster = s.block("cluster");
    let routes = cluster
        .and_then(|c| c.get("routes"))
        .is_some_and(|r| matches!(r, Conf::List(l) if !l.is_empty()));
    let system = system_account_name(s.conf);
    let leaf_system = s
        .block("leafnodes")
        .and_then(|l| l.get("remotes"))
        .is_some_and(|r| match r {
            Conf::List(items) => items.iter().any(|it| {
                matches!(it, Conf::Map(m) if matches!(m.get("account"),
                    Some(Conf::Str(a)) if Some(a.as_str()) == system.or(Some("$SYS"))))
            }),
            _ => false,
        });
    if routes || leaf_system {
        return;
    }
    let listener = if cluster.is_some() {
        "cluster"
    } else {
        "gateway"
    };
    out.push(
        Start::JetStreamRoutes {
            listener,
            at: s.span(&[listener]),
            jetstream: s.span(&["jetstream"]),
        }
        .into(),
    );
}

/// MQTT: JetStream when standalone, an explicit server_name in a cluster.
fn mqtt(s: &Server, js: &JetStream, out: &mut Vec<Diagnostic>) {
    if s.block("mqtt").is_none() {
        return;
    }
    let at = s.span(&["mqtt"]);
    let clustered = s.block("cluster").is_some();
    // The server only calls itself standalone with no cluster, no gateway and no leaf
    // remotes (a leaf can reach JetStream elsewhere; seen with nats-server 2.15.1).
    let leafnodes = s.block("leafnodes");
    let remotes = leafnodes
        .and_then(|l| l.get("remotes"))
        .is_some_and(|r| matches!(r, Conf::List(l) if !l.is_empty()));
    // In a cluster every replica runs this same config, so no server has JetStream: the
    // servers start (nats-server does not check it there) but keep failing to create their
    // MQTT streams, and a client's CONNECT never gets a CONNACK.
    // A leafnodes listener too: leaf servers that connect may bring JetStream (the
    // server's own standalone test, validateMQTTOptions, counts it).
    let leaf_listener =
        leafnodes.is_some_and(|l| !matches!(l.get("port"), None | Some(Conf::Int(0))));
    if js.off && s.block("gateway").is_none() && !remotes && !leaf_listener {
        out.push(Mqtt::MqttJetStream { clustered, at }.into());
    }
    if clustered && s.conf.get("server_name").is_none() {
        out.push(Mqtt::MqttServerName { at }.into());
    }
}

/// Leafnodes and a gateway need a system account (nats-server's validateLeafNode: a leaf
/// listener with a port, a gateway with a name or a port); -t passes, the start fails. In
/// operator mode the operator JWT may name it (operator.rs checks that JWT).
fn leaf_gateway_system_account(s: &Server, out: &mut Vec<Diagnostic>) {
    let leaf_port = s
        .block("leafnodes")
        .and_then(|l| l.get("port"))
        .is_some_and(|p| !matches!(p, Conf::Int(0)));
    let gateway = s
        .block("gateway")
        .is_some_and(|g| g.get("name").is_some() || g.get("port").is_some());
    let system_account = s.conf.items.iter().any(|i| {
        matches!(i, crate::conf::Item::Kv(k, v) if k.eq_ignore_ascii_case("system_account")
            && !matches!(v, Conf::Str(s) if s.is_empty()))
    });
    if leaf_port && gateway && !system_account {
        out.push(
            Start::LeafGatewaySystemAccount {
                gateway: s.span(&["gateway"]),
                leafnodes: s.span(&["leafnodes"]),
            }
            .into(),
        );
    }
}

/// `verify_cert_and_check_known_urls: true` is for the TLS of routes and gateways, whose peers'
/// URLs the server knows; in a client-side context (the client listener, leafnodes and their
/// remotes, websocket, MQTT, the resolver's TLS) nats-server -t refuses the config
/// (parseTLS with `isClientCtx`, 2.12.6).
fn known_urls(s: &Server, out: &mut Vec<Diagnostic>) {
    let mut places: Vec<Vec<String>> = vec![
        path(&["tls"]),
        path(&["resolver_tls"]),
        path(&["leafnodes", "tls"]),
        path(&["websocket", "tls"]),
        path(&["mqtt", "tls"]),
    ];
    if let Some(Conf::List(remotes)) = s.block("leafnodes").and_then(|l| l.get("remotes")) {
        for i in 0..remotes.len() {
            places.push(path(&["leafnodes", "remotes", &i.to_string(), "tls"]));
        }
    }
    for p in places {
        let parts: Vec<&str> = p.iter().map(String::as_str).collect();
        let Some(Conf::Map(tls)) = get(s.conf, &parts) else {
            continue;
        };
        let on = tls.items.iter().any(|i| {
            matches!(i, crate::conf::Item::Kv(k, Conf::Bool(true))
                if k.eq_ignore_ascii_case("verify_cert_and_check_known_urls"))
        });
        if on {
            let mut at = p.clone();
            at.push("verify_cert_and_check_known_urls".into());
            out.push(
                Tls::KnownUrls {
                    block: parts.join("."),
                    at: s.spans.at(&at).unwrap_or(s.fallback),
                }
                .into(),
            );
        }
    }
}

/// A websocket listener without TLS must say so.
fn websocket_tls(s: &Server, out: &mut Vec<Diagnostic>) {
    if let Some(ws) = s.block("websocket") {
        let no_tls = matches!(ws.get("no_tls"), Some(Conf::Bool(true)));
        if ws.get("tls").is_none() && !no_tls {
            out.push(
                Start::WebsocketTls {
                    at: s.span(&["websocket"]),
                }
                .into(),
            );
        }
    }
}

/// HTTPS monitoring serves with the client TLS certificate; without one the server stops.
fn start_https(s: &Server, out: &mut Vec<Diagnostic>) {
    if s.conf.get("https_port").is_some()
        && s.block("tls")
            .is_none_or(|t| t.get("cert_file").is_none() && t.get("certs").is_none())
    {
        out.push(
            Start::Https {
                at: s.span(&["https_port"]),
            }
            .into(),
        );
    }
}

/// A listener whose chart TLS has no certificate (tls.enabled without secretName).
fn tls_no_secret(s: &Server, out: &mut Vec<Diagnostic>) {
    for key in ["", "mqtt", "leafnodes", "websocket", "cluster", "gateway"] {
        let (t, at): (Option<&ConfMap>, Vec<&str>) = if key.is_empty() {
            (s.block("tls"), vec!["tls"])
        } else {
            (s.block(key).and_then(|b| block(b, "tls")), vec![key, "tls"])
        };
        // `tls: {}` with `allow_non_tls: true` is the documented setup behind a
        // TLS-terminating proxy (the event-bus chart's own default): plaintext is meant.
        let proxied = key.is_empty() && s.conf.get("allow_non_tls") == Some(&Conf::Bool(true));
        if let Some(t) = t
            && !proxied
            && t.get("cert_file").is_none()
            && t.get("certs").is_none()
        {
            let values = if key.is_empty() {
                "config.nats.tls".to_string()
            } else {
                format!("config.{key}.tls")
            };
            out.push(
                Tls::TlsNoSecret {
                    values,
                    rendered: at.join("."),
                    at: s.span(&at),
                }
                .into(),
            );
        }
    }
}

/// Outside operator mode, the system account must be a defined account without JetStream.
fn system_account(s: &Server, out: &mut Vec<Diagnostic>) {
    let Some(Conf::Str(sys)) = s.conf.get("system_account") else {
        return;
    };
    match s.block("accounts").and_then(|a| a.get(sys)) {
        None if sys != "$SYS" => out.push(
            Start::SystemAccountUndefined {
                sys: sys.clone(),
                at: s.span(&["system_account"]),
            }
            .into(),
        ),
        Some(Conf::Map(a))
            if matches!(a.get("jetstream"), Some(Conf::Str(v)) if v == "enabled")
                || matches!(
                    a.get("jetstream"),
                    Some(Conf::Bool(true)) | Some(Conf::Map(_))
                ) =>
        {
            out.push(
                Start::SystemAccountJetStream {
                    sys: sys.clone(),
                    at: s.span(&["accounts", sys, "jetstream"]),
                }
                .into(),
            )
        }
        _ => {}
    }
}

/// What the rules above find, by family of codes; each `From` words its family's messages.
/// The tunables: types, bounds, advice (natscc::tunable::*, natscc::nats_chart::max_payload).
enum Tunable {
    QuotedSize {
        name: String,
        text: String,
        at: Span,
    },
    SizeTooBig {
        name: String,
        bytes: i64,
        max: i64,
        at: Span,
    },
    NoLimit {
        name: String,
        bytes: i64,
        at: Span,
    },
    BareDuration {
        name: String,
        key: String,
        at: Span,
    },
    NotDuration {
        name: String,
        text: String,
        always_ok: bool,
        at: Span,
    },
    NegativeDuration {
        name: String,
        text: String,
        at: Span,
    },
    PayloadAbovePending {
        payload: i64,
        pending: i64,
        at: Span,
    },
    LargePayload {
        payload: i64,
        at: Span,
    },
}

impl From<Tunable> for Diagnostic {
    fn from(f: Tunable) -> Diagnostic {
        match f {
            Tunable::QuotedSize { name, text, at } => Diagnostic::new(
                Code::TunableType,
                format!(
                    "`{name}` is the quoted string \"{text}\"; nats-server refuses a quoted \
                     size here (\"interface conversion: interface {{}} is string, not int64\")"
                ),
            )
            .at(at, "quoted size")
            .help(if crate::conf::is_size_word(&text) {
                format!("write `{name}: << {text} >>` (the chart writes it bare) or a plain number")
            } else {
                format!("write a number for `{name}`")
            }),
            Tunable::SizeTooBig {
                name,
                bytes,
                max,
                at,
            } => Diagnostic::new(
                Code::TunableBound,
                format!(
                    "`{name}` is {bytes}, above the largest value nats-server accepts ({max}): \
                     \"{name} value is too big\""
                ),
            )
            .at(at, "too big")
            .help(format!("use at most {max}")),
            Tunable::NoLimit { name, bytes, at } => Diagnostic::new(
                Code::TunableAdvice,
                format!(
                    "`{name}` is {bytes}; the server takes that as no limit or its default, \
                     rarely what is meant"
                ),
            )
            .at(at, "zero or negative")
            .help(format!("give `{name}` a positive value, or leave it out")),
            Tunable::BareDuration { name, key, at } => Diagnostic::new(
                Code::TunableType,
                format!(
                    "`{name}` is a bare number; nats-server -t refuses it (\"{key} should be \
                     converted to a duration\")"
                ),
            )
            .at(at, "number, not duration")
            .help(format!("write a duration string, e.g. `{name}: \"20s\"`")),
            Tunable::NotDuration {
                name,
                text,
                always_ok,
                at,
            } => Diagnostic::new(
                Code::TunableType,
                format!("`{name}` is \"{text}\", which is not a duration nats-server reads"),
            )
            .at(at, "not a duration")
            .help(format!(
                "write a Go duration such as \"20s\", \"2m\" or \"1h30m\"{}",
                if always_ok { ", or \"always\"" } else { "" }
            )),
            Tunable::NegativeDuration { name, text, at } => {
                Diagnostic::new(Code::TunableBound, format!("`{name}` is negative ({text})"))
                    .at(at, "negative duration")
                    .help("use a positive duration")
            }
            Tunable::PayloadAbovePending {
                payload,
                pending,
                at,
            } => Diagnostic::new(
                Code::MaxPayload,
                format!(
                    "max_payload ({payload}) is higher than max_pending ({pending}); \
                     nats-server passes -t but refuses to start"
                ),
            )
            .at(at, "too large")
            .help(
                "lower max_payload (8MB is the server's recommended ceiling) or raise \
                 max_pending above it",
            ),
            Tunable::LargePayload { payload, at } => Diagnostic::new(
                Code::TunableAdvice,
                format!(
                    "max_payload ({payload}) is above 8 MB; the server warns that such payloads \
                     are generally discouraged and could lead to poor performance"
                ),
            )
            .at(at, "large payload")
            .help("keep messages at 8MB or less, or split large payloads (object store)"),
        }
    }
}

/// What -t passes and the start refuses (natscc::start::*).
enum Start {
    PortConflict {
        first: String,
        second: String,
        port: i64,
        at: Span,
        first_at: Span,
    },
    JetStreamCluster {
        missing: &'static str,
        at: Span,
    },
    JetStreamRoutes {
        listener: &'static str,
        at: Span,
        jetstream: Span,
    },
    LeafGatewaySystemAccount {
        gateway: Span,
        leafnodes: Span,
    },
    WebsocketTls {
        at: Span,
    },
    Https {
        at: Span,
    },
    SystemAccountUndefined {
        sys: String,
        at: Span,
    },
    SystemAccountJetStream {
        sys: String,
        at: Span,
    },
}

impl From<Start> for Diagnostic {
    fn from(f: Start) -> Diagnostic {
        match f {
            Start::PortConflict {
                first,
                second,
                port,
                at,
                first_at,
            } => Diagnostic::new(
                Code::PortConflict,
                format!(
                    "`{first}` and `{second}` both listen on port {port}; nats-server passes -t \
                     but cannot bind the second at start"
                ),
            )
            .at(at, "port already taken")
            .at(first_at, "first listener on this port")
            .help("give every listener its own port"),
            Start::JetStreamCluster { missing, at } => Diagnostic::new(
                Code::JetStreamCluster,
                format!(
                    "clustered JetStream needs {missing}; nats-server passes -t but refuses to \
                     start"
                ),
            )
            .at(at, "JetStream cluster")
            .help(
                "do not remove the chart's `cluster.name` and `server_name` (check config.patch \
                 and merge)",
            ),
            Start::JetStreamRoutes {
                listener,
                at,
                jetstream,
            } => Diagnostic::new(
                Code::JetStreamRoutes,
                format!(
                    "JetStream with a {listener} listener and no routes: the server forms a \
                     JetStream cluster and stops at start (\"JetStream cluster requires \
                     configured routes or solicited leafnode for the system account\"); -t \
                     passes"
                ),
            )
            .at(at, "not standalone")
            .at(jetstream, "JetStream")
            .help(
                "enable `config.cluster` (the chart writes a route to every replica, this one \
                 included), or run this server without a gateway",
            ),
            Start::LeafGatewaySystemAccount { gateway, leafnodes } => Diagnostic::new(
                Code::LeafGatewaySystemAccount,
                "leafnodes and a gateway are both defined without a system account; \
                 nats-server passes -t but refuses to start (\"leaf nodes and gateways (both \
                 being defined) require a system account to also be configured\")",
            )
            .at(gateway, "gateway")
            .at(leafnodes, "leafnodes")
            .help(
                "name a system account: `config.merge.system_account: SYS` with `SYS` defined \
                 in `config.merge.accounts` (e.g. `SYS: {}`), or switch off one of the two",
            ),
            Start::WebsocketTls { at } => Diagnostic::new(
                Code::WebsocketTls,
                "the websocket listener has neither a tls block nor `no_tls: true`; nats-server \
                 refuses to start (\"websocket requires TLS configuration\")",
            )
            .at(at, "websocket without TLS")
            .help(
                "enable `config.websocket.tls` with a secretName, or keep the chart's `no_tls: \
                 true`",
            ),
            Start::Https { at } => Diagnostic::new(
                Code::StartHttps,
                "HTTPS monitoring (`config.monitor.tls`) without a client TLS certificate; \
                 nats-server passes -t but refuses to start (\"TLS cert and key required for \
                 HTTPS\")",
            )
            .at(at, "HTTPS without a certificate")
            .help(
                "enable `config.nats.tls` with a secretName (HTTPS monitoring uses its \
                 certificate), or turn `config.monitor.tls` off",
            ),
            Start::SystemAccountUndefined { sys, at } => Diagnostic::new(
                Code::StartSystemAccount,
                format!(
                    "system_account `{sys}` is not an account of this config; nats-server \
                     passes -t but refuses to start (\"error resolving system account\")"
                ),
            )
            .at(at, "no such account")
            .help(format!(
                "define `{sys}` under `config.merge.accounts`, or drop system_account to use the \
                 built-in $SYS"
            )),
            Start::SystemAccountJetStream { sys, at } => Diagnostic::new(
                Code::StartSystemAccount,
                format!(
                    "JetStream is enabled on the system account `{sys}`; nats-server refuses to \
                     start (\"Not allowed to enable JetStream on the system account\")"
                ),
            )
            .at(at, "JetStream on the system account")
            .help("put JetStream users in another account"),
        }
    }
}

/// MQTT (natscc::mqtt::*).
enum Mqtt {
    MqttJetStream { clustered: bool, at: Span },
    MqttServerName { at: Span },
}

impl From<Mqtt> for Diagnostic {
    fn from(f: Mqtt) -> Diagnostic {
        match f {
            Mqtt::MqttJetStream { clustered, at } => Diagnostic::new(
                Code::MqttJetStream,
                if clustered {
                    "MQTT is enabled but JetStream is not, on every replica of this cluster: the \
                     servers start, but cannot create their MQTT streams, and MQTT clients never \
                     get a CONNACK"
                } else {
                    "MQTT is enabled but JetStream is not; a standalone nats-server refuses to \
                     start (\"mqtt requires JetStream to be enabled\")"
                },
            )
            .at(at, "MQTT without JetStream")
            .help(
                "set `config.jetstream.enabled: true` (MQTT keeps sessions and retained \
                 messages in streams)",
            ),
            Mqtt::MqttServerName { at } => Diagnostic::new(
                Code::MqttServerName,
                "MQTT in a cluster needs an explicit server_name; nats-server refuses to start \
                 without one",
            )
            .at(at, "MQTT in a cluster")
            .help("keep the chart's `server_name: $SERVER_NAME` (check config.patch)"),
        }
    }
}

/// TLS blocks (natscc::nats_chart::tls_no_secret, and natscc::server::type for a client-side
/// known-URLs check).
enum Tls {
    KnownUrls {
        block: String,
        at: Span,
    },
    TlsNoSecret {
        values: String,
        rendered: String,
        at: Span,
    },
}

impl From<Tls> for Diagnostic {
    fn from(f: Tls) -> Diagnostic {
        match f {
            Tls::KnownUrls { block, at } => Diagnostic::new(
                Code::ConfType,
                format!(
                    "`{block}.verify_cert_and_check_known_urls` is true in a client-side TLS \
                     block; nats-server refuses the config (\"verify_cert_and_check_known_urls \
                     not supported in this context\")"
                ),
            )
            .at(at, "not for this listener")
            .help(
                "use it only in `cluster.tls` and `gateway.tls` (peers whose URLs the server \
                 knows); here write `verify: true`",
            ),
            Tls::TlsNoSecret {
                values,
                rendered,
                at,
            } => Diagnostic::new(
                Code::ChartTlsNoSecret,
                format!(
                    "`{values}` is enabled without a certificate: the chart renders `{rendered}` \
                     with no cert_file, and the server runs that listener without TLS"
                ),
            )
            .at(at, "TLS without a certificate")
            .help(format!(
                "set `{values}.secretName` to the Secret holding tls.crt and tls.key"
            )),
        }
    }
}
