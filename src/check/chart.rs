//! Rules on the event bus's NATS subcharts' `config` values: keys the chart never reads (Helm
//! drops them without a word; the key table is `chart::keys`) and limits the server only
//! enforces when it starts.

use crate::diag::{Code, Diagnostic, Sources};
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
    }
    // The rules plain-chart mode applies, on each release as the chart renders it (includes
    // read back): one judge for one config.
    for i in m.bus.instances() {
        let fallback = i.rendered.spans.at(&[]).unwrap_or(m.event_bus_span);
        let resolved = m.bus.resolved(i);
        for mut d in crate::chart::limits::check(&resolved, &i.rendered.spans, fallback, false) {
            d.message = format!("{}: {}", i.release, d.message);
            out.push(d);
        }
    }
    out
}
