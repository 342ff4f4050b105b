//! Rules on the event bus's NATS subcharts' `config` values: keys the chart never reads (Helm
//! drops them without a word; the key table is `chart::keys`) and limits the server only
//! enforces when it starts.

use super::accounts::owned_account_field;
use crate::diag::{Code, Diagnostic, Sources, Span};
use crate::load::{Node, V};
use crate::model::Model;

/// Keys of a NATS subchart's `config` that the chart never reads, from the one key table
/// (`chart::keys`) plain-chart mode checks against too.
fn ignored_keys(raw: &Node, config_at: &str, sources: &Sources, out: &mut Vec<Diagnostic>) {
    // A release's `config` the defaults share is judged once per process. `sources` only tells
    // built-in files from the user's, and the built-in ones come first in every compile.
    static SHARED: super::Shared<String, Diagnostic> = super::Shared::new(1024);
    let walk = |out: &mut Vec<Diagnostic>| ignored_keys_walk(raw, config_at, sources, out);
    super::once_shared(&SHARED, raw, || config_at.to_string(), walk, out);
}

fn ignored_keys_walk(raw: &Node, config_at: &str, sources: &Sources, out: &mut Vec<Diagnostic>) {
    let extra = |e: &crate::load::Entry, here: &str| {
        crate::load::is_builtin(&sources.get(e.key_span.src).name).then(|| from_defaults(here))
    };
    let mut found = vec![];
    super::nats_chart::schema::check_config(raw, config_at, false, &extra, &mut found);
    // The chart's own values.yaml sets a key its templates never read (`nats-mtls.config.tls`):
    // the chart's quirk, not the user's mistake.
    out.extend(found.into_iter().filter(|d| {
        !d.labels
            .first()
            .is_some_and(|l| crate::load::is_builtin(&sources.get(l.span.src).name))
    }));
}

pub fn check(m: &Model, bus: &crate::bus::Bus, sources: &Sources) -> Vec<Diagnostic> {
    let mut out = vec![];
    for (release, cfg) in [("nats", &m.nats), ("nats-mtls", &m.nats_mtls)] {
        if release == "nats-mtls" && !m.mtls {
            continue;
        }
        if let Some(raw) = &cfg.raw {
            ignored_keys(raw, &format!("{release}.config"), sources, &mut out);
            // Newer chart releases read leaf remotes, but the bus writes its own (leafnodes.conf).
            if let Some(r) = raw
                .path(&["leafnodes", "remotes"])
                .filter(|r| !r.items().is_empty())
            {
                out.push(
                    Finding::Remotes {
                        release,
                        at: r.span,
                    }
                    .into(),
                );
            }
        }
    }
    // The rules plain-chart mode applies, on each release as the chart renders it (includes
    // read back): one judge for one config.
    for i in bus.instances() {
        let fallback = i.rendered.spans.at(&[]).unwrap_or(m.event_bus_span);
        let resolved = bus.resolved(i);
        for mut d in super::nats_chart::limits::check(resolved, &i.rendered.spans, fallback, false)
        {
            d.message = in_release(i.release, &d.message);
            out.push(d);
        }
    }
    out
}

/// Numbers under a map the chart prints field by field with `{{ $value }}` (its
/// `natsConfFields`); lists it prints as JSON, which keeps them as written.
fn printed_numbers(node: &Node, path: &str, out: &mut Vec<Diagnostic>) {
    match &node.v {
        V::Map(entries) => {
            for e in entries.iter() {
                printed_numbers(&e.value, &format!("{path}.{}", e.key), out);
            }
        }
        V::Int(_) | V::Float(_) => {
            let v = match node.v {
                V::Int(i) => i as f64,
                V::Float(f) => f,
                _ => unreachable!(),
            };
            // Go's `%v` of a float64 (every Helm number is one): `1e+06` from 1e6 up and below
            // 1e-4.
            let printed = crate::gotmpl::go_float(v);
            if printed.contains('e') {
                let shown = node.scalar_text().unwrap_or_default();
                out.push(
                    Finding::Exponent {
                        path,
                        shown: &shown,
                        printed: &printed,
                        at: node.span,
                    }
                    .into(),
                );
            }
        }
        _ => {}
    }
}

/// Values the event-bus templates print with `{{ }}` into accounts.conf and leafnodes.conf.
pub fn number_format(m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    for a in &m.extra_accounts {
        for f in a.fields.iter().filter(|f| !owned_account_field(m, &f.key)) {
            printed_numbers(
                &f.value,
                &format!("global.eventBus.extraAccounts.{}.{}", a.name.value, f.key),
                &mut out,
            );
        }
    }
    let (key, tls) = if m.is_cpc() {
        ("cpcLeafClientTLS", &m.cpc_leaf_client_tls)
    } else {
        ("cscLeafServerTLS", &m.csc_leaf_server_tls)
    };
    if let Some(t) = tls {
        printed_numbers(t, &format!("global.eventBus.{key}"), &mut out);
    }
    out
}

/// On a CSC, `nats.config.leafnodes.tls` renders a `tls` key after the include of
/// leafnodes.conf that carries cscLeafServerTLS; nats-server keeps the later key, so the
/// cscLeafServerTLS block (handshake_first, verify, its CA) is silently replaced.
pub fn leaf_tls_conflict(root: &Node, m: &Model) -> Vec<Diagnostic> {
    let (Some(server_tls), false) = (&m.csc_leaf_server_tls, m.is_cpc()) else {
        return vec![];
    };
    let leaf = root.path(&["nats", "config", "leafnodes"]);
    if leaf.and_then(|l| l.get("enabled")).and_then(Node::as_bool) == Some(false) {
        return vec![];
    }
    let Some(tls) = leaf
        .and_then(|l| l.get("tls"))
        .filter(|t| t.get("enabled").and_then(Node::as_bool) == Some(true))
    else {
        return vec![];
    };
    let at = leaf
        .and_then(|l| l.entry("tls"))
        .map(|e| e.key_span)
        .unwrap_or(tls.span);
    let server_at = root
        .path(&["global", "eventBus"])
        .and_then(|e| e.entry("cscLeafServerTLS"))
        .map(|e| e.key_span)
        .unwrap_or(server_tls.span);
    vec![Finding::LeafTls { at, server_at }.into()]
}

/// The help added to an ignored key that comes from the event-bus chart's own defaults.
fn from_defaults(here: &str) -> String {
    format!("this key comes from the event-bus chart's own defaults: set `{here}: null` to drop it")
}

/// A NATS-chart finding on one release of the bus, named by the release.
fn in_release(release: &str, message: &str) -> String {
    format!("{release}: {message}")
}

/// What the rules above find; `From<Finding> for Diagnostic` words them.
enum Finding<'a> {
    /// Leaf remotes in a release's config, which the bus writes itself.
    Remotes { release: &'a str, at: Span },
    /// A number the chart prints in Go's exponent form.
    Exponent {
        path: &'a str,
        shown: &'a str,
        printed: &'a str,
        at: Span,
    },
    /// Both leaf TLS blocks set: `at` wins over `server_at`.
    LeafTls { at: Span, server_at: Span },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::Remotes { release, at } => Diagnostic::new(
                Code::IgnoredChartKey,
                format!(
                    "`{release}.config.leafnodes.remotes` is not compiled: natscc writes the event \
                     bus's leaf remotes itself"
                ),
            )
            .at(at, "not compiled")
            .help(
                "the bus's remotes come from its own values (the CSC endpoint and the extra \
                 accounts)",
            ),
            Finding::Exponent {
                path,
                shown,
                printed,
                at,
            } => Diagnostic::new(
                Code::NumberFormat,
                format!(
                    "`{path}: {shown}` reaches the NATS config as `{printed}` (the chart prints \
                     numbers in Go's %v form), which nats-server refuses"
                ),
            )
            .at(at, "printed in exponent form")
            .help(
                "use a value below 1000000, e.g. 999999, or -1 for no limit, or leave the key out; \
                 quoting does not help: the chart then writes a string, and nats-server refuses a \
                 string for a limit",
            ),
            Finding::LeafTls { at, server_at } => Diagnostic::new(
                Code::LeafTlsConflict,
                "both `nats.config.leafnodes.tls` and `global.eventBus.cscLeafServerTLS` are set: \
                 the chart writes the `tls` key after the included cscLeafServerTLS block, so \
                 nats-server uses only nats.config.leafnodes.tls",
            )
            .at(at, "this tls block wins")
            .at(server_at, "this block is silently dropped")
            .help(
                "keep one: put the leaf TLS settings (cert_file, key_file, ca_file, verify, \
                 handshake_first) in cscLeafServerTLS and remove nats.config.leafnodes.tls, or the \
                 other way round",
            ),
        }
    }
}
