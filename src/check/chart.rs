//! Rules on the event bus's NATS subcharts' `config` values: keys the chart never reads (Helm
//! drops them without a word; the key table is `chart::keys`) and limits the server only
//! enforces when it starts.

use crate::diag::{Code, Diagnostic, Sources};
use crate::emit::conf::size_bytes;
use crate::load::Node;
use crate::model::Model;

/// Keys of a NATS subchart's `config` that the chart never reads, from the one key table
/// (`chart::keys`) plain-chart mode checks against too.
fn ignored_keys(raw: &Node, config_at: &str, sources: &Sources, out: &mut Vec<Diagnostic>) {
    let extra = |e: &crate::load::Entry, here: &str| {
        crate::load::is_builtin(&sources.get(e.key_span.src).name)
            .then(|| format!("this key comes from the event-bus chart's own defaults: set `{here}: null` to drop it"))
    };
    let mut found = vec![];
    crate::chart::schema::check_config(raw, config_at, false, &extra, &mut found);
    // The chart's own values.yaml sets a key its templates never read (`nats-mtls.config.tls`):
    // the chart's quirk, not the user's mistake.
    out.extend(found.into_iter().filter(|d| !d.labels.first().is_some_and(|l| crate::load::is_builtin(&sources.get(l.span.src).name))));
}

fn merge_span(cfg: Option<&Node>, key: &str) -> Option<crate::diag::Span> {
    let cfg = cfg?;
    cfg.path(&["merge", key]).map(|n| n.span)
}

pub fn check(m: &Model, sources: &Sources) -> Vec<Diagnostic> {
    let mut out = vec![];
    for (release, cfg) in [("nats", &m.nats), ("nats-mtls", &m.nats_mtls)] {
        if release == "nats-mtls" && !m.mtls {
            continue;
        }
        if let Some(raw) = &cfg.raw {
            ignored_keys(raw, &format!("{release}.config"), sources, &mut out);
            // Newer chart releases read leaf remotes, but the bus writes its own (leafnodes.conf).
            if let Some(r) = raw.path(&["leafnodes", "remotes"]).filter(|r| !r.items().is_empty()) {
                out.push(
                    Diagnostic::new(
                        Code::IgnoredChartKey,
                        format!("`{release}.config.leafnodes.remotes` is not compiled: natscc writes the event bus's leaf remotes itself"),
                    )
                    .at(r.span, "not compiled")
                    .help("the bus's remotes come from its own values (the CSC endpoint and the extra accounts)"),
                );
            }
        }
        // The server refuses to start (not at -t) when max_payload exceeds max_pending.
        let conf = if release == "nats" { crate::emit::server::main_conf(m) } else { crate::emit::server::mtls_conf(m) };
        let payload = conf.get("max_payload").and_then(size_bytes);
        let pending = conf.get("max_pending").and_then(size_bytes).unwrap_or(64 * 1024 * 1024);
        if let Some(p) = payload {
            if p > pending {
                let span = merge_span(cfg.raw.as_ref(), "max_payload").or(merge_span(cfg.raw.as_ref(), "max_pending")).unwrap_or(m.event_bus_span);
                out.push(
                    Diagnostic::new(
                        Code::MaxPayload,
                        format!("{release}: max_payload ({p}) is higher than max_pending ({pending}); nats-server passes -t but refuses to start"),
                    )
                    .at(span, "too large")
                    .help("lower max_payload (4MB is the bus default; 8MB is the server's recommended ceiling) or raise max_pending"),
                );
            }
        }
    }
    out
}
