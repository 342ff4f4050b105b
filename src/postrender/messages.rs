//! What the post-renderer's rules find, and the one place that says it in words: a rule
//! builds a `Finding` with what it saw, `From<Finding> for Diagnostic` writes the message,
//! the labels and the help (as `check::nats_chart::limits` does for its family).

use super::objects::ConfFile;
use crate::diag::{Code, Diagnostic, Span};
use crate::natsconf::ParseError;

pub(super) enum Finding<'a> {
    /// The stream is not UTF-8: the offset of the first bad byte.
    NotUtf8 { offset: usize },
    /// The stream holds no document.
    Empty,
    /// The stream holds no ConfigMap with a NATS config.
    Nothing,
    /// A config does not parse.
    Syntax {
        conf: &'a ConfFile,
        error: &'a ParseError,
        at: Span,
    },
    /// A config's include does not resolve in the pod (`owner`), whose server reads `root`
    /// at `path`.
    Include {
        conf: &'a ConfFile,
        error: &'a ParseError,
        at: Span,
        owner: &'a str,
        root: &'a str,
        path: &'a str,
    },
    /// The payload limit above max_pending.
    MaxPayload { bytes: i64, pending: i64, at: Span },
    /// A number printed in Go's exponent form.
    Exponent { text: &'a str, at: Span },
    /// A key that is no field of an account.
    AccountField {
        key: &'a str,
        account: &'a str,
        at: Span,
    },
    /// A TLSRoute without hostnames.
    TlsRouteHostnames { route: &'a str, at: Span },
}

/// What the rules on routes find: Gateway listeners and TLS passthrough.
pub(super) enum Route<'a> {
    /// No listener of the Gateway takes the route.
    NoListener {
        gateway: &'a str,
        kind: &'a str,
        route: &'a str,
        at: Span,
        listeners: Vec<String>,
    },
    /// `sectionName` names no listener of the Gateway.
    UnknownSection {
        kind: &'a str,
        route: &'a str,
        section: &'a str,
        gateway: &'a str,
        at: Span,
        names: Vec<&'a str>,
    },
    /// The named listener does not take the route's kind.
    WrongKind {
        kind: &'a str,
        route: &'a str,
        listener: String,
        /// The listener's TLS mode.
        mode: &'a str,
        gateway: &'a str,
        takes: Vec<String>,
        at: Span,
        listener_at: Span,
    },
    /// The route asks for a port the named listener does not listen on.
    WrongPort {
        kind: &'a str,
        route: &'a str,
        port: String,
        listener: &'a str,
        listens: i64,
        at: Span,
        listener_at: Span,
    },
}

/// How the values given with --values and the stream's ConfigMaps differ.
pub(super) enum Mismatch<'a> {
    /// A chart ConfigMap the values compile under no name (`mtls_off`: the mTLS release).
    NotCompiledMap {
        map: &'a str,
        key: &'a str,
        mtls_off: bool,
        at: Span,
    },
    /// A key the values compile that the stream's ConfigMap has not.
    MissingKey { map: &'a str, key: &'a str },
    /// A key of the stream's ConfigMap the values do not compile.
    NotCompiledKey {
        map: &'a str,
        key: &'a str,
        at: Span,
    },
    /// A ConfigMap the values compile that the stream has not.
    MissingMap { map: &'a str },
}

/// Where in the config a finding is, for configs whose lines do not map onto the stream.
fn in_config(c: &ConfFile, e: &ParseError) -> String {
    if c.mapped() {
        String::new()
    } else {
        format!(
            " (line {}, column {} of the config)",
            e.pos.line,
            e.pos.col + 1
        )
    }
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::NotUtf8 { offset } => Diagnostic::new(
                Code::YamlSyntax,
                format!(
                    "the manifest stream on stdin is not UTF-8 text (a bad byte at offset {offset})"
                ),
            )
            .help("Helm renders UTF-8; check what is piped into natscc post-render"),
            Finding::Empty => Diagnostic::new(
                Code::PostRenderEmpty,
                "the manifest stream on stdin is empty; a post-renderer never answers with an \
                 empty stream",
            )
            .help(
                "run natscc post-render from helm (--post-renderer), or pipe `helm template` \
                 output into it",
            ),
            Finding::Nothing => Diagnostic::new(
                Code::PostRenderNothing,
                "the manifest stream holds no ConfigMap with a NATS config (a `.conf` key); \
                 nothing of the event bus was checked",
            )
            .help("point the post-renderer at the event-bus chart's release"),
            Finding::Syntax { conf, error, at } => Diagnostic::new(
                Code::NatsConfSyntax,
                format!(
                    "{} in {} does not parse: {}{}",
                    conf.key,
                    conf.describe(),
                    error.message,
                    in_config(conf, error)
                ),
            )
            .at(at, "here")
            .help(
                "nats-server refuses to start with this config; fix the values that render \
                 it (a `<< >>` value or a merge block is the usual cause)",
            ),
            Finding::Include {
                conf,
                error,
                at,
                owner,
                root,
                path,
            } => {
                let pod = if owner.is_empty() {
                    String::new()
                } else {
                    format!(" in {owner}")
                };
                Diagnostic::new(
                    Code::NatsConfInclude,
                    format!(
                        "{} in {}: {}{}",
                        conf.key,
                        conf.describe(),
                        error.message,
                        in_config(conf, error)
                    ),
                )
                .at(at, "include")
                .help(format!(
                    "the server{pod} reads {root} at {path}: mount the ConfigMap key the \
                     include names where the include points (a projected volume puts \
                     several ConfigMaps in one folder), or fix the path",
                ))
            }
            Finding::MaxPayload { bytes, pending, at } => Diagnostic::new(
                Code::MaxPayload,
                format!(
                    "max_payload ({bytes}) is higher than max_pending ({pending}); nats-server \
                     passes -t but refuses to start"
                ),
            )
            .at(at, "too large")
            .help(
                "lower max_payload (4MB is the bus default; 8MB is the server's recommended \
                 ceiling) or raise max_pending",
            ),
            Finding::Exponent { text, at } => Diagnostic::new(
                Code::NumberFormat,
                format!(
                    "`{text}` is a number the chart printed in Go's exponent form; nats-server \
                     reads it as text and refuses it"
                ),
            )
            .at(at, "printed by the chart")
            .help(
                "in the values, write the number below 1000000 or as the server's own form (a size \
                 like 1MB, a duration like 1000s)",
            ),
            Finding::AccountField { key, account, at } => {
                use crate::check::accounts::SERVER_ACCOUNT_FIELDS;
                Diagnostic::new(
                    Code::AccountField,
                    format!(
                        "`{key}` in account `{account}` is not a field of a NATS account: \
                         nats-server refuses the config (unknown field)"
                    ),
                )
                .at(at, "not an account field")
                .help(format!(
                    "an account takes {} (connection limits go under `limits`)",
                    SERVER_ACCOUNT_FIELDS.join(", ")
                ))
            }
            Finding::TlsRouteHostnames { route, at } => Diagnostic::new(
                Code::TlsRouteHostnames,
                format!("TLSRoute `{route}` has no hostnames"),
            )
            .at(at, "TLSRoute")
            .help(crate::check::gateway::TLSROUTE_HOSTNAMES_HELP),
        }
    }
}

impl From<Route<'_>> for Diagnostic {
    fn from(f: Route<'_>) -> Diagnostic {
        match f {
            Route::NoListener {
                gateway,
                kind,
                route,
                at,
                listeners,
            } => Diagnostic::new(
                Code::RouteListener,
                format!(
                    "no listener of Gateway `{gateway}` takes {kind} `{route}`; the route never \
                     carries traffic"
                ),
            )
            .at(at, "route kind")
            .help(format!(
                "the listeners are: {}; name one with sectionName",
                listeners.join(", ")
            )),
            Route::UnknownSection {
                kind,
                route,
                section,
                gateway,
                at,
                names,
            } => {
                let mut help = format!("the listeners of `{gateway}` are: {}", names.join(", "));
                if let Some(s) = crate::diag::suggest(section, names.iter().copied()) {
                    help.push_str(&format!("; did you mean `{s}`?"));
                }
                Diagnostic::new(
                    Code::RouteListener,
                    format!(
                        "{kind} `{route}` attaches to listener `{section}` of Gateway `{gateway}`, \
                         which has no such listener; the route never carries traffic"
                    ),
                )
                .at(at, "no such listener")
                .help(help)
            }
            Route::WrongKind {
                kind,
                route,
                listener,
                mode,
                gateway,
                takes,
                at,
                listener_at,
            } => {
                let help = match (kind, mode) {
                    ("TLSRoute", _) => {
                        "a listener that terminates TLS takes TCPRoutes: make this route a \
                         TCPRoute, or make the listener TLS Passthrough when the pod must see the \
                         client certificate"
                    }
                    ("TCPRoute", "Passthrough") => {
                        "a TLS Passthrough listener takes TLSRoutes: make this route a TLSRoute \
                         with hostnames, or attach it to a listener that terminates TLS"
                    }
                    _ => "attach the route to a listener whose protocol carries it",
                };
                let takes = if takes.is_empty() {
                    "no TCP or TLS routes".to_string()
                } else {
                    format!("{} only", takes.join(" or "))
                };
                Diagnostic::new(
                    Code::RouteListener,
                    format!(
                        "{kind} `{route}` attaches to listener {listener} of Gateway `{gateway}`, \
                         which takes {takes}; the route never carries traffic"
                    ),
                )
                .at(at, "route kind")
                .at(listener_at, "the listener")
                .help(help)
            }
            Route::WrongPort {
                kind,
                route,
                port,
                listener,
                listens,
                at,
                listener_at,
            } => Diagnostic::new(
                Code::RouteListener,
                format!(
                    "{kind} `{route}` asks for port {port} of listener `{listener}`, which listens \
                     on {listens}"
                ),
            )
            .at(at, "wrong port")
            .at(listener_at, "the listener")
            .help(format!(
                "use port {listens}, or drop the port from the parentRef"
            )),
        }
    }
}

impl From<Mismatch<'_>> for Diagnostic {
    fn from(m: Mismatch<'_>) -> Diagnostic {
        let (msg, at) = match m {
            Mismatch::NotCompiledMap {
                map,
                key,
                mtls_off,
                at,
            } => {
                let why = if mtls_off {
                    " (mTLS is off in them)"
                } else {
                    ""
                };
                (
                    format!(
                        "ConfigMap `{map}` carries `{key}`, but the values given with --values \
                         compile no ConfigMap of that name{why}"
                    ),
                    Some(at),
                )
            }
            Mismatch::MissingKey { map, key } => (
                format!(
                    "the values given with --values compile `{key}` in ConfigMap `{map}`, which \
                     the stream's has not"
                ),
                None,
            ),
            Mismatch::NotCompiledKey { map, key, at } => (
                format!(
                    "ConfigMap `{map}` carries `{key}`, which the values given with --values do \
                     not compile"
                ),
                Some(at),
            ),
            Mismatch::MissingMap { map } => (
                format!(
                    "the values given with --values compile ConfigMap `{map}`, but the stream has \
                     none of that name"
                ),
                None,
            ),
        };
        let d = Diagnostic::new(Code::PostRenderValues, msg)
            .help("pass the same values files and --set options to the post-renderer as to helm");
        match at {
            Some(at) => d.at(at, "not compiled from these values"),
            None => d,
        }
    }
}

/// What the rule on TLS passthrough finds: a listener whose NATS protocol needs TLS first.
pub(super) enum Passthrough<'a> {
    /// TLS passed through to a client listener without `handshake_first`.
    ClientHandshake {
        route: &'a str,
        backend: &'a str,
        port: i64,
        config: &'a str,
        at: Span,
        listener_at: Span,
    },
    /// TLS passed through to a leaf listener whose connection lacks `handshake_first` at
    /// this end: the leafnodes block (`remotes` false) or each remote without it.
    LeafHandshake {
        route: &'a str,
        backend: &'a str,
        port: i64,
        config: &'a str,
        at: Span,
        remotes: bool,
        places: Vec<Span>,
    },
}

impl From<Passthrough<'_>> for Diagnostic {
    fn from(f: Passthrough<'_>) -> Diagnostic {
        match f {
            Passthrough::ClientHandshake {
                route,
                backend,
                port,
                config,
                at,
                listener_at,
            } => Diagnostic::new(
                Code::HandshakeFirst,
                format!(
                    "TLSRoute `{route}` passes TLS through to {backend}:{port}, the NATS client \
                     listener of {config}, which does not set `handshake_first: true` in its tls \
                     block; clients never connect"
                ),
            )
            .at(at, "TLS passthrough")
            .at(listener_at, "the client listener")
            .help(
                "set `handshake_first: true` in the server's tls block and in every \
                 client, or use a TCPRoute on a listener that terminates TLS",
            ),
            Passthrough::LeafHandshake {
                route,
                backend,
                port,
                config,
                at,
                remotes,
                places,
            } => {
                let mut diag = Diagnostic::new(
                Code::HandshakeFirst,
                format!(
                    "TLSRoute `{route}` passes TLS through to {backend}:{port}, the leaf listener \
                     of {config}, but the leaf connection does not set `handshake_first: true` \
                     at this end; the leaf never connects"
                ),
            )
            .at(at, "TLS passthrough");
                let label = if remotes {
                    "remote without handshake_first"
                } else {
                    "leafnodes block"
                };
                for p in places {
                    diag = diag.at(p, label);
                }
                diag.help(
                    "set `handshake_first: true` in the leaf TLS block at both ends \
                     (cscLeafServerTLS and every cpcLeafClientTLS), or use a TCPRoute",
                )
            }
        }
    }
}
