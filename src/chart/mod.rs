//! Plain-chart mode: a values file without `global.eventBus` is read as the official NATS
//! chart's own values (`config.*`, `merge`, `patch`) on top of that chart's defaults, checked,
//! and compiled to the nats.conf and ConfigMap the chart would render. Operator mode (JWTs and
//! a resolver) and TLS certificate roles are checked here too.
//!
//! Stages, as for the event bus: load (shared) -> [`schema`] (closed shape of `config`) ->
//! [`render`] (the chart's templates, with spans) -> rules ([`operator`], [`tls_roles`],
//! [`limits`]) -> [`emit`].

pub mod emit;
pub mod includes;
pub mod jwt;
pub mod keys;
pub mod limits;
pub mod operator;
pub mod print;
pub mod render;
pub mod schema;
pub mod spans;
pub mod tls_roles;

use crate::diag::{Diags, Sources, Span};
use crate::load::{self, Inputs, Node};

pub const DEFAULTS: &str = include_str!("defaults.yaml");
pub const DEFAULTS_NAME: &str = "<NATS chart defaults>";

/// Whether the user's values (not the built-in defaults) set `global.eventBus`.
pub fn is_event_bus(root: &Node, sources: &Sources) -> bool {
    match root.path(&["global", "eventBus"]) {
        Some(n) => {
            !load::is_builtin(&sources.get(n.span.src).name)
                || n.entries()
                    .iter()
                    .any(|e| !load::is_builtin(&sources.get(e.key_span.src).name))
        }
        None => false,
    }
}

/// Loads, checks and (when asked and nothing is wrong) emits one plain-chart server.
pub fn compile(
    inputs: &Inputs,
    emit_files: bool,
    stated: Option<&crate::server_version::Stated>,
) -> crate::Compiled {
    let mut sources = Sources::default();
    let (root, load_diags) = load::load_over(inputs, &mut sources, DEFAULTS_NAME, DEFAULTS);
    let mut diags = Diags::default();
    diags.extend(load_diags);
    let mut files = crate::emit::Files::new();
    if let Some(root) = &root {
        let (f, d) = compile_tree(root, &sources, emit_files, stated);
        diags.extend(d);
        files = f;
    }
    let diags = diags.finish();
    if diags.iter().any(|d| d.is_error()) {
        files.clear();
    }
    crate::Compiled {
        files,
        diags,
        sources,
        model: None,
    }
}

/// The stages after loading.
pub fn compile_tree(
    root: &Node,
    sources: &Sources,
    emit_files: bool,
    stated: Option<&crate::server_version::Stated>,
) -> (crate::emit::Files, Vec<crate::diag::Diagnostic>) {
    // The release the image runs: the server whose reading of the options counts.
    let mut diags = vec![];
    let deployed = crate::server_version::from_values(root, "", stated, &mut diags);
    diags.extend(schema::check(root, sources, &deployed));
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
            .help(
                "keep `config.nats` (the chart's defaults give it a port and TLS off); to change \
                 the port, set `config.nats.port`",
            ),
        );
    }
    diags.extend(tls_roles::check_shortcut(root));
    let mut rendered = render::render(root);
    let fallback: Span = root.get("config").map(|c| c.span).unwrap_or(root.span);
    diags.extend(operator::inline_files(
        &mut rendered.conf,
        &rendered.spans,
        sources,
        fallback,
    ));
    // What the pod reads: the chart's printing (prefixed `$include`s become include lines)
    // with the ConfigMap's extra files inlined where they are included.
    diags.extend(includes::check_values(
        &rendered.conf,
        &rendered.spans,
        fallback,
    ));
    let (data, data_diags) = includes::config_map_data(root);
    diags.extend(data_diags);
    let view = includes::server_view(&rendered.conf);
    let resolved = includes::resolve(
        &rendered.conf,
        &rendered.spans,
        &data,
        sources,
        fallback,
        &deployed,
    );
    diags.extend(resolved.diags);
    let (conf, spans) = (&resolved.conf, &resolved.spans);
    let operator_mode = conf.get("operator").is_some();
    diags.extend(operator::check(conf, spans, root, sources, fallback));
    diags.extend(tls_roles::check(conf, spans, &rendered.roles, fallback));
    diags.extend(limits::check(conf, spans, fallback, operator_mode));
    let files = if emit_files && !diags.iter().any(|d| d.is_error()) {
        emit::files(
            root,
            &rendered,
            &emit::Server {
                view: &view,
                resolved: conf,
                data: &data,
            },
        )
    } else {
        crate::emit::Files::new()
    };
    (files, diags)
}
