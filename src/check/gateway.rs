//! Rules on the Gateway API routes that one cluster's values can decide alone.

use crate::diag::{Code, Diagnostic};
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
                Diagnostic::new(
                    Code::TlsRouteHostnames,
                    format!("the {} route is a TLSRoute without hostnames", r.key),
                )
                .at(r.kind.span, "TLSRoute")
                .help(
                    "list the SNI names clients use (they must match the server certificate SANs \
                     and the clients' broker URL); newer Gateway API versions require them",
                ),
            );
        }
        // Passthrough needs TLS first: the NATS and leaf protocols otherwise open with a plaintext
        // INFO.
        match r.key {
            "natsLeafnode" if m.cluster_type == ClusterType::Csc => {
                let server_tls = m.csc_leaf_server_tls.as_ref();
                if !handshake_first(server_tls) {
                    out.push(
                        Diagnostic::new(
                            Code::HandshakeFirst,
                            "the leaf route is a TLSRoute, but the CSC leaf listener does not set \
                             `handshake_first: true`",
                        )
                        .at(r.kind.span, "TLS passthrough")
                        .help(
                            "set `handshake_first: true` in global.eventBus.cscLeafServerTLS (and \
                             in every CPC's cpcLeafClientTLS), or use a TCPRoute",
                        ),
                    );
                }
            }
            "natsLeafnode" if !handshake_first(m.cpc_leaf_client_tls.as_ref()) => {
                out.push(
                    Diagnostic::new(
                        Code::HandshakeFirst,
                        "the leaf route is a TLSRoute, but cpcLeafClientTLS does not set \
                         `handshake_first: true`",
                    )
                    .at(r.kind.span, "TLS passthrough")
                    .help(
                        "set `handshake_first: true` in global.eventBus.cpcLeafClientTLS and in \
                         the CSC's cscLeafServerTLS, or use a TCPRoute",
                    ),
                );
            }
            "natsClient" => {
                let tls_merge = m.nats.client.tls.as_ref().and_then(|t| t.merge.as_ref());
                if !handshake_first(tls_merge) {
                    out.push(
                        Diagnostic::new(
                            Code::HandshakeFirst,
                            "the client route is a TLSRoute, but the client listener does not set \
                             TLS `handshake_first`",
                        )
                        .at(r.kind.span, "TLS passthrough")
                        .help(
                            "enable nats.config.nats.tls with `merge: {handshake_first: true}` and \
                             set handshake_first in every client, or use a TCPRoute",
                        ),
                    );
                }
            }
            _ => {}
        }
    }
    out
}
