//! Rules on the Gateway API routes that one cluster's values can decide alone.

use crate::diag::{Code, Diagnostic, Span};
use crate::load::Node;
use crate::model::{ClusterType, Model, RouteKind};

fn handshake_first(tls: Option<&Node>) -> bool {
    tls.and_then(|t| t.get("handshake_first"))
        .is_some_and(|h| match h.as_bool() {
            Some(b) => b,
            None => h.as_str().is_some_and(|s| !s.is_empty() && s != "false"),
        })
}

pub fn check(m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    for r in m
        .routes
        .iter()
        .filter(|r| r.enabled && r.kind.value == RouteKind::Tls)
    {
        if r.hostnames.is_empty() {
            out.push(
                Finding::NoHostnames {
                    route: r.key,
                    at: r.kind.span,
                }
                .into(),
            );
        }
        // Passthrough needs TLS first: the NATS and leaf protocols otherwise open with a plaintext
        // INFO.
        match r.key {
            "natsLeafnode" if m.cluster_type == ClusterType::Csc => {
                let server_tls = m.csc_leaf_server_tls.as_ref();
                if !handshake_first(server_tls) {
                    out.push(Finding::CscLeaf { at: r.kind.span }.into());
                }
            }
            "natsLeafnode" if !handshake_first(m.cpc_leaf_client_tls.as_ref()) => {
                out.push(Finding::CpcLeaf { at: r.kind.span }.into());
            }
            "natsClient" => {
                let tls_merge = m.nats.client.tls.as_ref().and_then(|t| t.merge.as_ref());
                if !handshake_first(tls_merge) {
                    out.push(Finding::Client { at: r.kind.span }.into());
                }
            }
            _ => {}
        }
    }
    out
}

/// What to write for a TLSRoute without hostnames, in the values or in a rendered stream.
pub const TLSROUTE_HOSTNAMES_HELP: &str = "list the SNI names clients use (they must match the \
     server certificate SANs and the clients' broker URL); newer Gateway API versions require \
     them";

/// What the rules on the routes find; `From<Finding> for Diagnostic` words them.
enum Finding<'a> {
    NoHostnames {
        route: &'a str,
        at: Span,
    },
    /// The leaf route passes TLS through to a CSC leaf listener without `handshake_first`.
    CscLeaf {
        at: Span,
    },
    /// The leaf route passes TLS through, and the CPC's leaf TLS lacks `handshake_first`.
    CpcLeaf {
        at: Span,
    },
    /// The client route passes TLS through to a listener without `handshake_first`.
    Client {
        at: Span,
    },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        let (message, at, help) = match f {
            Finding::NoHostnames { route, at } => {
                return Diagnostic::new(
                    Code::TlsRouteHostnames,
                    format!("the {route} route is a TLSRoute without hostnames"),
                )
                .at(at, "TLSRoute")
                .help(TLSROUTE_HOSTNAMES_HELP);
            }
            Finding::CscLeaf { at } => (
                "the leaf route is a TLSRoute, but the CSC leaf listener does not set \
                 `handshake_first: true`",
                at,
                "set `handshake_first: true` in global.eventBus.cscLeafServerTLS (and in every \
                 CPC's cpcLeafClientTLS), or use a TCPRoute",
            ),
            Finding::CpcLeaf { at } => (
                "the leaf route is a TLSRoute, but cpcLeafClientTLS does not set \
                 `handshake_first: true`",
                at,
                "set `handshake_first: true` in global.eventBus.cpcLeafClientTLS and in the CSC's \
                 cscLeafServerTLS, or use a TCPRoute",
            ),
            Finding::Client { at } => (
                "the client route is a TLSRoute, but the client listener does not set TLS \
                 `handshake_first`",
                at,
                "enable nats.config.nats.tls with `merge: {handshake_first: true}` and set \
                 handshake_first in every client, or use a TCPRoute",
            ),
        };
        Diagnostic::new(Code::HandshakeFirst, message)
            .at(at, "TLS passthrough")
            .help(help)
    }
}
