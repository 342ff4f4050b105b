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

pub fn check(
    conf: &ConfMap,
    spans: &Spans,
    fallback: Span,
    operator_mode: bool,
) -> Vec<Diagnostic> {
    let mut out = vec![];
    let span = |p: &[&str]| spans.at(&path(p)).unwrap_or(fallback);
    let dotted = |p: &[&str]| p.join(".");

    for (p, kind) in TUNABLES {
        let Some(v) = get(conf, p) else { continue };
        let name = dotted(p);
        match kind {
            Kind::Size { max } => match v {
                Conf::Str(t) => out.push(
                    Diagnostic::new(Code::TunableType, format!("`{name}` is the quoted string \"{t}\"; nats-server refuses a quoted size here (\"interface conversion: interface {{}} is string, not int64\")"))
                        .at(span(p), "quoted size")
                        .help(if crate::conf::is_size_word(t) { format!("write `{name}: << {t} >>` (the chart writes it bare) or a plain number") } else { format!("write a number for `{name}`") }),
                ),
                other => {
                    if let (Some(b), Some(max)) = (size_bytes(other), max)
                        && b > *max {
                            out.push(
                                Diagnostic::new(Code::TunableBound, format!("`{name}` is {b}, above the largest value nats-server accepts ({max}): \"{name} value is too big\""))
                                    .at(span(p), "too big")
                                    .help(format!("use at most {max}")),
                            );
                        }
                    if let Some(b) = size_bytes(other)
                        && b <= 0 && *p != ["max_connections"] {
                            out.push(
                                Diagnostic::new(Code::TunableAdvice, format!("`{name}` is {b}; the server takes that as no limit or its default, rarely what is meant"))
                                    .at(span(p), "zero or negative")
                                    .help(format!("give `{name}` a positive value, or leave it out")),
                            );
                        }
                }
            },
            Kind::Duration { always_ok } => match v {
                Conf::Int(_) | Conf::Float(_) => out.push(
                    Diagnostic::new(Code::TunableType, format!("`{name}` is a bare number; nats-server -t refuses it (\"{} should be converted to a duration\")", p.last().unwrap()))
                        .at(span(p), "number, not duration")
                        .help(format!("write a duration string, e.g. `{name}: \"20s\"`")),
                ),
                Conf::Str(t) if *always_ok && t.eq_ignore_ascii_case("always") => {}
                Conf::Str(t) => match go_duration(t) {
                    None => out.push(
                        Diagnostic::new(Code::TunableType, format!("`{name}` is \"{t}\", which is not a duration nats-server reads"))
                            .at(span(p), "not a duration")
                            .help(format!("write a Go duration such as \"20s\", \"2m\" or \"1h30m\"{}", if *always_ok { ", or \"always\"" } else { "" })),
                    ),
                    Some(secs) if secs < 0.0 => out.push(
                        Diagnostic::new(Code::TunableBound, format!("`{name}` is negative ({t})"))
                            .at(span(p), "negative duration")
                            .help("use a positive duration"),
                    ),
                    _ => {}
                },
                _ => {}
            },
        }
    }

    // max_payload above max_pending: -t passes, the server refuses to start.
    let payload = conf.get("max_payload").and_then(size_bytes);
    let pending = conf
        .get("max_pending")
        .and_then(size_bytes)
        .unwrap_or(DEFAULT_MAX_PENDING);
    if let Some(p) = payload {
        if p > pending && p <= I32_MAX {
            out.push(
                Diagnostic::new(
                    Code::MaxPayload,
                    format!("max_payload ({p}) is higher than max_pending ({pending}); nats-server passes -t but refuses to start"),
                )
                .at(span(&["max_payload"]), "too large")
                .help("lower max_payload (8MB is the server's recommended ceiling) or raise max_pending above it"),
            );
        } else if p > PAYLOAD_ADVICE && p <= pending {
            out.push(
                Diagnostic::new(
                    Code::TunableAdvice,
                    format!(
                        "max_payload ({p}) is above 8 MB; the server warns that such payloads are generally discouraged and could lead to poor performance"
                    ),
                )
                .at(span(&["max_payload"]), "large payload")
                .help("keep messages at 8MB or less, or split large payloads (object store)"),
            );
        }
    }

    // Two listeners on one port: -t passes, the second bind fails at start.
    let mut ports: Vec<(i64, Vec<&str>)> = vec![];
    let mut listener = |p: Vec<&'static str>, default: Option<i64>| {
        let v = get(conf, &p).and_then(|c| match c {
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
        if block(conf, block_key).is_some() {
            listener(
                match block_key {
                    "cluster" => vec!["cluster", "port"],
                    "leafnodes" => vec!["leafnodes", "port"],
                    "gateway" => vec!["gateway", "port"],
                    "mqtt" => vec!["mqtt", "port"],
                    _ => vec!["websocket", "port"],
                },
                None,
            );
        }
    }
    for (i, (port, p)) in ports.iter().enumerate() {
        if let Some((_, first)) = ports[..i].iter().find(|(q, _)| q == port) {
            out.push(
                Diagnostic::new(
                    Code::PortConflict,
                    format!("`{}` and `{}` both listen on port {port}; nats-server passes -t but cannot bind the second at start", dotted(first), dotted(p)),
                )
                .at(span(p), "port already taken")
                .at(span(first), "first listener on this port")
                .help("give every listener its own port"),
            );
        }
    }

    // `jetstream` is a block, or a switch (`true`, `enabled`); another value is the type
    // rule's finding, and the rules below that depend on it stay quiet.
    let js_value = conf.get("jetstream");
    let word = |v: Option<&Conf>| match v {
        Some(Conf::Str(t) | Conf::Bare(t)) => Some(t.to_ascii_lowercase()),
        _ => None,
    };
    let js = block(conf, "jetstream").is_some()
        || matches!(js_value, Some(Conf::Bool(true)))
        || word(js_value)
            .is_some_and(|w| matches!(w.as_str(), "enabled" | "enable" | "true" | "yes" | "on"));
    let js_off = js_value.is_none()
        || matches!(js_value, Some(Conf::Bool(false)))
        || word(js_value)
            .is_some_and(|w| matches!(w.as_str(), "disabled" | "disable" | "false" | "no" | "off"));
    let cluster = block(conf, "cluster");
    let server_name = conf.get("server_name").is_some();

    // Clustered JetStream needs a cluster name and a server name.
    if let (true, Some(c)) = (js, cluster)
        && (c.get("name").is_none() || !server_name)
    {
        let missing = if c.get("name").is_none() {
            "`cluster.name`"
        } else {
            "`server_name`"
        };
        out.push(
            Diagnostic::new(Code::JetStreamCluster, format!("clustered JetStream needs {missing}; nats-server passes -t but refuses to start"))
                .at(span(&["cluster"]), "JetStream cluster")
                .help("do not remove the chart's `cluster.name` and `server_name` (check config.patch and merge)"),
        );
    }

    // JetStream on a server that is not standalone (a cluster or a gateway listener) forms a
    // JetStream cluster: it needs routes, or a leaf remote bound to the system account
    // (nats-server's enableJetStreamClustering); without either the server stops at start.
    let listens =
        |k: &str| block(conf, k).is_some_and(|b| !matches!(b.get("port"), Some(Conf::Int(0))));
    let routes = cluster
        .and_then(|c| c.get("routes"))
        .is_some_and(|r| matches!(r, Conf::List(l) if !l.is_empty()));
    let system = conf.items.iter().find_map(|i| match i {
        crate::conf::Item::Kv(k, Conf::Str(v)) if k.eq_ignore_ascii_case("system_account") => {
            Some(v.as_str())
        }
        _ => None,
    });
    let leaf_system = block(conf, "leafnodes")
        .and_then(|l| l.get("remotes"))
        .is_some_and(|r| match r {
            Conf::List(items) => items.iter().any(|it| {
                matches!(it, Conf::Map(m) if matches!(m.get("account"),
                    Some(Conf::Str(a)) if Some(a.as_str()) == system.or(Some("$SYS"))))
            }),
            _ => false,
        });
    if js && (listens("cluster") || listens("gateway")) && !routes && !leaf_system {
        let at = if cluster.is_some() {
            "cluster"
        } else {
            "gateway"
        };
        out.push(
            Diagnostic::new(
                Code::JetStreamRoutes,
                format!(
                    "JetStream with a {at} listener and \
                no routes: the server forms a JetStream cluster and stops at start (\"JetStream \
                cluster requires configured routes or solicited leafnode for the system \
                account\"); -t passes"
                ),
            )
            .at(span(&[at]), "not standalone")
            .at(span(&["jetstream"]), "JetStream")
            .help(
                "enable `config.cluster` (the chart writes a route to every replica, this \
                    one included), or run this server without a gateway",
            ),
        );
    }

    // MQTT: JetStream when standalone, an explicit server_name in a cluster.
    if block(conf, "mqtt").is_some() {
        // The server only calls itself standalone with no cluster, no gateway and no leaf
        // remotes (a leaf can reach JetStream elsewhere; seen with nats-server 2.15.1).
        let remotes = block(conf, "leafnodes")
            .and_then(|l| l.get("remotes"))
            .is_some_and(|r| matches!(r, Conf::List(l) if !l.is_empty()));
        // In a cluster every replica runs this same config, so no server has JetStream: the
        // servers start (nats-server does not check it there) but keep failing to create their
        // MQTT streams, and a client's CONNECT never gets a CONNACK.
        // A leafnodes listener too: leaf servers that connect may bring JetStream (the
        // server's own standalone test, validateMQTTOptions, counts it).
        let leaf_listener = block(conf, "leafnodes")
            .is_some_and(|l| !matches!(l.get("port"), None | Some(Conf::Int(0))));
        if js_off && block(conf, "gateway").is_none() && !remotes && !leaf_listener {
            let message = if cluster.is_none() {
                "MQTT is enabled but JetStream is not; a standalone nats-server refuses to start (\"mqtt requires JetStream to be enabled\")"
            } else {
                "MQTT is enabled but JetStream is not, on every replica of this cluster: the servers start, but cannot create their MQTT streams, and MQTT clients never get a CONNACK"
            };
            out.push(
                Diagnostic::new(Code::MqttJetStream, message)
                    .at(span(&["mqtt"]), "MQTT without JetStream")
                    .help("set `config.jetstream.enabled: true` (MQTT keeps sessions and retained messages in streams)"),
            );
        }
        if cluster.is_some() && !server_name {
            out.push(
                Diagnostic::new(Code::MqttServerName, "MQTT in a cluster needs an explicit server_name; nats-server refuses to start without one")
                    .at(span(&["mqtt"]), "MQTT in a cluster")
                    .help("keep the chart's `server_name: $SERVER_NAME` (check config.patch)"),
            );
        }
    }

    // Leafnodes and a gateway need a system account (nats-server's validateLeafNode: a leaf
    // listener with a port, a gateway with a name or a port); -t passes, the start fails. In
    // operator mode the operator JWT may name it (operator.rs checks that JWT).
    let leaf_port = block(conf, "leafnodes")
        .and_then(|l| l.get("port"))
        .is_some_and(|p| !matches!(p, Conf::Int(0)));
    let gateway =
        block(conf, "gateway").is_some_and(|g| g.get("name").is_some() || g.get("port").is_some());
    let system_account = conf.items.iter().any(|i| {
        matches!(i, crate::conf::Item::Kv(k, v) if k.eq_ignore_ascii_case("system_account")
            && !matches!(v, Conf::Str(s) if s.is_empty()))
    });
    if leaf_port && gateway && !system_account && !operator_mode {
        out.push(
            Diagnostic::new(Code::LeafGatewaySystemAccount, "leafnodes and a gateway are both \
                defined without a system account; nats-server passes -t but refuses to start \
                (\"leaf nodes and gateways (both being defined) require a system account to \
                also be configured\")")
                .at(span(&["gateway"]), "gateway")
                .at(span(&["leafnodes"]), "leafnodes")
                .help("name a system account: `config.merge.system_account: SYS` with `SYS` \
                    defined in `config.merge.accounts` (e.g. `SYS: {}`), or switch off one of the two"),
        );
    }

    known_urls(conf, spans, fallback, &mut out);

    // Websocket without TLS must say so.
    if let Some(ws) = block(conf, "websocket") {
        let no_tls = matches!(ws.get("no_tls"), Some(Conf::Bool(true)));
        if ws.get("tls").is_none() && !no_tls {
            out.push(
                Diagnostic::new(Code::WebsocketTls, "the websocket listener has neither a tls block nor `no_tls: true`; nats-server refuses to start (\"websocket requires TLS configuration\")")
                    .at(span(&["websocket"]), "websocket without TLS")
                    .help("enable `config.websocket.tls` with a secretName, or keep the chart's `no_tls: true`"),
            );
        }
    }

    // HTTPS monitoring serves with the client TLS certificate; without one the server stops.
    if conf.get("https_port").is_some()
        && block(conf, "tls")
            .is_none_or(|t| t.get("cert_file").is_none() && t.get("certs").is_none())
    {
        out.push(
            Diagnostic::new(Code::StartHttps, "HTTPS monitoring (`config.monitor.tls`) without a client TLS certificate; nats-server passes -t but refuses to start (\"TLS cert and key required for HTTPS\")")
                .at(span(&["https_port"]), "HTTPS without a certificate")
                .help("enable `config.nats.tls` with a secretName (HTTPS monitoring uses its certificate), or turn `config.monitor.tls` off"),
        );
    }

    // A listener whose chart TLS has no certificate (tls.enabled without secretName).
    for key in ["", "mqtt", "leafnodes", "websocket", "cluster", "gateway"] {
        let (t, at): (Option<&ConfMap>, Vec<&str>) = if key.is_empty() {
            (block(conf, "tls"), vec!["tls"])
        } else {
            (
                block(conf, key).and_then(|b| block(b, "tls")),
                vec![key, "tls"],
            )
        };
        // `tls: {}` with `allow_non_tls: true` is the documented setup behind a
        // TLS-terminating proxy (the event-bus chart's own default): plaintext is meant.
        let proxied = key.is_empty() && conf.get("allow_non_tls") == Some(&Conf::Bool(true));
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
                Diagnostic::new(
                    Code::ChartTlsNoSecret,
                    format!(
                        "`{values}` is enabled without a certificate: the chart renders `{}` with no cert_file, and the server runs that listener without TLS",
                        dotted(&at)
                    ),
                )
                .at(span(&at), "TLS without a certificate")
                .help(format!("set `{values}.secretName` to the Secret holding tls.crt and tls.key")),
            );
        }
    }

    // Outside operator mode, the system account must be a defined account without JetStream.
    if !operator_mode && let Some(Conf::Str(sys)) = conf.get("system_account") {
        let acc = block(conf, "accounts").and_then(|a| a.get(sys));
        match acc {
                None if sys != "$SYS" => out.push(
                    Diagnostic::new(Code::StartSystemAccount, format!("system_account `{sys}` is not an account of this config; nats-server passes -t but refuses to start (\"error resolving system account\")"))
                        .at(span(&["system_account"]), "no such account")
                        .help(format!("define `{sys}` under `config.merge.accounts`, or drop system_account to use the built-in $SYS")),
                ),
                Some(Conf::Map(a)) if matches!(a.get("jetstream"), Some(Conf::Str(v)) if v == "enabled") || matches!(a.get("jetstream"), Some(Conf::Bool(true)) | Some(Conf::Map(_))) => out.push(
                    Diagnostic::new(Code::StartSystemAccount, format!("JetStream is enabled on the system account `{sys}`; nats-server refuses to start (\"Not allowed to enable JetStream on the system account\")"))
                        .at(span(&["accounts", sys, "jetstream"]), "JetStream on the system account")
                        .help("put JetStream users in another account"),
                ),
                _ => {}
            }
    }
    out
}

/// `verify_cert_and_check_known_urls: true` is for the TLS of routes and gateways, whose peers'
/// URLs the server knows; in a client-side context (the client listener, leafnodes and their
/// remotes, websocket, MQTT, the resolver's TLS) nats-server -t refuses the config
/// (parseTLS with `isClientCtx`, 2.12.6).
fn known_urls(conf: &ConfMap, spans: &Spans, fallback: Span, out: &mut Vec<Diagnostic>) {
    let mut places: Vec<Vec<String>> = vec![
        path(&["tls"]),
        path(&["resolver_tls"]),
        path(&["leafnodes", "tls"]),
        path(&["websocket", "tls"]),
        path(&["mqtt", "tls"]),
    ];
    if let Some(Conf::List(remotes)) = block(conf, "leafnodes").and_then(|l| l.get("remotes")) {
        for i in 0..remotes.len() {
            places.push(path(&["leafnodes", "remotes", &i.to_string(), "tls"]));
        }
    }
    for p in places {
        let parts: Vec<&str> = p.iter().map(String::as_str).collect();
        let Some(Conf::Map(tls)) = get(conf, &parts) else {
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
                Diagnostic::new(
                    Code::ConfType,
                    format!(
                        "`{}.verify_cert_and_check_known_urls` \
                    is true in a client-side TLS block; nats-server refuses the config \
                    (\"verify_cert_and_check_known_urls not supported in this context\")",
                        parts.join(".")
                    ),
                )
                .at(spans.at(&at).unwrap_or(fallback), "not for this listener")
                .help(
                    "use it only in `cluster.tls` and `gateway.tls` (peers whose URLs the \
                        server knows); here write `verify: true`",
                ),
            );
        }
    }
}
