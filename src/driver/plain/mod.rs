//! Plain-chart mode: a values file without `global.eventBus` is read as the official NATS
//! chart's own values (`config.*`, `merge`, `patch`) on top of that chart's defaults, checked,
//! and compiled to the nats.conf and ConfigMap the chart would render. Operator mode (JWTs and
//! a resolver) and TLS certificate roles are checked here too.
//!
//! Its stages for the driver: render (the NATS-chart renderer, `chart::render`, then the
//! operator's JWT files and the ConfigMap's included files read back, [`includes`]) -> rules
//! (`check::nats_chart`: schema, operator, TLS roles, limits) -> [`emit`].

pub mod emit;
pub mod includes;

use crate::chart::render::{self, Rendered};
use crate::check::nats_chart::{limits, operator, schema, tls_roles};
use crate::conf::ConfMap;
use crate::diag::{Diagnostic, Sources, Span};
use crate::load::Node;
use crate::model::Model;
use crate::server_version::{Deployed, Stated};
use std::collections::BTreeMap;

/// The plain-chart mode's stages.
pub struct Plain<'a> {
    /// The nats-server release the operator states, for an image that names none.
    pub stated: Option<&'a Stated>,
}

/// What the chart renders from plain values, and what the pod then reads.
pub struct Server {
    /// The release the image runs: the server whose reading of the options counts.
    deployed: Deployed,
    rendered: Rendered,
    /// The ConfigMap's files besides nats.conf.
    data: BTreeMap<String, includes::DataFile>,
    /// The chart's printing as nats-server reads it (prefixed `$include`s are include lines).
    view: ConfMap,
    /// The same with the ConfigMap's extra files inlined where they are included.
    resolved: includes::Resolved,
    /// Where a finding on a key the values never wrote points.
    fallback: Span,
}

impl super::Stages for Plain<'_> {
    type Rendered = Server;

    fn render(&self, root: &Node, sources: &Sources) -> (Server, Vec<Diagnostic>) {
        let mut diags = vec![];
        let deployed = crate::server_version::from_values(root, "", self.stated, &mut diags);
        let mut rendered = render::render(root);
        let fallback: Span = root.get("config").map(|c| c.span).unwrap_or(root.span);
        diags.extend(operator::inline_files(
            &mut rendered.conf,
            &rendered.spans,
            sources,
            fallback,
        ));
        let (data, data_diags) = includes::config_map_data(root);
        diags.extend(data_diags);
        let view = crate::chart::view::server_view(&rendered.conf);
        let mut resolved = includes::resolve(
            &rendered.conf,
            &rendered.spans,
            &data,
            sources,
            fallback,
            &deployed,
        );
        diags.append(&mut resolved.diags);
        let server = Server {
            deployed,
            rendered,
            data,
            view,
            resolved,
            fallback,
        };
        (server, diags)
    }

    fn rules(&self, root: &Node, s: &Server, sources: &Sources) -> Vec<Diagnostic> {
        let mut diags = schema::check(root, sources, &s.deployed);
        // Every template of the chart reads `config.nats.tls.enabled`; without `config.nats` the
        // render stops with a nil pointer (measured with Helm 4.2.3 on chart 2.12.6).
        if root
            .get("config")
            .is_some_and(|c| c.get("nats").is_none_or(crate::load::Node::is_null))
        {
            let at = root
                .get("config")
                .and_then(|c| c.entry("nats"))
                .map_or(root.get("config").map_or(root.span, |c| c.span), |e| {
                    e.key_span
                });
            diags.push(
            crate::diag::Diagnostic::new(
                crate::diag::Code::ChartRenderFails,
                "without `config.nats` the NATS chart's templates fail to render (`nil pointer \
                 evaluating interface {}.tls`)",
            )
            .at(at, "config.nats removed here")
            .help("keep `config.nats` (the chart's defaults give it a port and TLS off); to change \
                   the port, set `config.nats.port`"),
        );
        }
        diags.extend(tls_roles::check_shortcut(root));
        // Values the chart prints but the server cannot read as an include.
        diags.extend(includes::check_values(
            &s.rendered.conf,
            &s.rendered.spans,
            s.fallback,
        ));
        let (conf, spans) = (&s.resolved.conf, &s.resolved.spans);
        let operator_mode = conf.get("operator").is_some();
        diags.extend(operator::check(conf, spans, root, sources, s.fallback));
        diags.extend(tls_roles::check(conf, spans, &s.rendered.roles, s.fallback));
        diags.extend(limits::check(conf, spans, s.fallback, operator_mode));
        diags
    }

    fn emit(&self, root: &Node, s: &Server) -> crate::emit::Files {
        emit::files(
            root,
            &s.rendered,
            &emit::Server {
                view: &s.view,
                resolved: &s.resolved.conf,
                data: &s.data,
            },
        )
    }

    fn keep(_: Server) -> (Option<Model>, Option<crate::bus::Bus>) {
        (None, None)
    }
}
