//! Stage 3: every rule over the merged values, the model and the rendered bus. All rules run;
//! each reports with its own code. A specific rule wins over the schema when both point at one
//! place. `nats_chart` holds the rules on the NATS chart's values and renders, for both modes.

pub mod accounts;
pub mod auth;
pub mod chart;
pub mod cross_layer;
pub mod gateway;
pub mod imports;
pub mod nats_chart;
pub mod permissions;
pub mod rendered;
pub mod schema;
pub mod schema_data;
pub mod secrets;
pub mod server_conf;
pub mod server_values;
pub mod values;

use crate::bus::Bus;
use crate::diag::{Code, Diagnostic, Sources, Span};
use crate::load::Node;
use crate::model::Model;

/// Findings about subtrees, kept by identity (`memo::ByIdentity`): the subtree's, then
/// whatever else the findings depend on.
pub(crate) type Shared<C, T> = crate::memo::ByIdentity<Node, ((usize, Span), C), Vec<T>>;

/// `walk`'s findings over `node`, found once per process when the values share `node` with the
/// defaults (or a lint run's companions); `context` is everything else they depend on.
pub(crate) fn once_shared<C: std::hash::Hash + Eq, T: Clone>(
    memo: &Shared<C, T>,
    node: &Node,
    context: impl FnOnce() -> C,
    walk: impl FnOnce(&mut Vec<T>),
    out: &mut Vec<T>,
) {
    let Some(id) = node.identity() else {
        return walk(out);
    };
    out.extend(memo.get(
        (id, context()),
        || node.clone(),
        || {
            let mut found = vec![];
            walk(&mut found);
            found
        },
    ));
}

fn is_schema(c: Code) -> bool {
    matches!(
        c,
        Code::SchemaType
            | Code::SchemaUnknownKey
            | Code::SchemaRequired
            | Code::SchemaEnum
            | Code::SchemaInvalid
    )
}

/// Runs the schema and every semantic rule, on the values, the typed model and the rendered bus
/// (both `None` without a usable cluster type).
pub fn check(root: &Node, model: Option<(&Model, &Bus)>, sources: &Sources) -> Vec<Diagnostic> {
    // The schema walk needs only the tree, so big values run it on a second core. Small ones
    // do not: waking another core costs more than the walk (tens of microseconds).
    let (mut out, semantic) = if model.is_some_and(|(m, _)| is_big(m)) {
        std::thread::scope(|scope| {
            let schema = scope.spawn(|| schema::check(root));
            let semantic = semantic(root, model, sources);
            (
                schema
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                semantic,
            )
        })
    } else {
        (schema::check(root), semantic(root, model, sources))
    };
    out.retain(|d| !(is_schema(d.code) && semantic.iter().any(|s| s.primary() == d.primary())));
    out.extend(semantic);
    out
}

/// Big values (many cross-layer entries) are checked on two threads.
fn is_big(m: &Model) -> bool {
    m.cross.csc_exports.len() + m.cross.csc_prefixed_exports.len() + m.cross.cpc_exports.len()
        >= PARALLEL_FROM
}

fn semantic(root: &Node, model: Option<(&Model, &Bus)>, sources: &Sources) -> Vec<Diagnostic> {
    let mut semantic = values::check(root, model.map(|(m, _)| m));
    semantic.extend(values::numeric_ids(root, sources));
    semantic.extend(secrets::seeds(root));
    semantic.extend(secrets::passwords(root));
    if let Some((m, bus)) = model {
        semantic.extend(model_rules(root, m, bus, sources));
        // The import graph needs valid subjects; with none broken it runs beside the overlap rule.
        let subjects_ok = !semantic.iter().any(|d| d.code == Code::Subject);
        semantic.extend(graph_rules(m, bus, subjects_ok));
    }
    seeds_win(&mut semantic);
    semantic
}

/// The rules on the typed model (and the chart's rendering of it), in the order they report.
fn model_rules(root: &Node, m: &Model, bus: &Bus, sources: &Sources) -> Vec<Diagnostic> {
    let mut out = accounts::check(m);
    out.extend(server_values::check(m));
    out.extend(server_conf::bus(root, m.mtls, m.server_version.as_ref()));
    out.extend(auth::check(m));
    out.extend(permissions::check(m));
    out.extend(auth::callout(root, m));
    out.extend(chart::number_format(m));
    out.extend(chart::leaf_tls_conflict(root, m));
    out.extend(chart::check(m, bus, sources));
    out.extend(gateway::check(m));
    out.extend(rendered::check(root, m, bus));
    out
}

/// The cross-layer overlap rule and the import graph (on two threads for big values). A cycle
/// made only of entries the overlap rule already named is that same finding, so it is dropped.
fn graph_rules(m: &Model, bus: &Bus, imports: bool) -> Vec<Diagnostic> {
    let (overlap_diags, import_diags) = if imports && is_big(m) {
        std::thread::scope(|scope| {
            let imports = scope.spawn(|| imports::check(m, bus));
            let overlap = cross_layer::check(m);
            (
                overlap,
                imports
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            )
        })
    } else {
        let import_diags = if imports {
            imports::check(m, bus)
        } else {
            vec![]
        };
        (cross_layer::check(m), import_diags)
    };
    let overlaps: Vec<_> = overlap_diags
        .iter()
        .filter(|d| d.code == Code::CrossLayerOverlap || d.code == Code::CrossLayerDuplicate)
        .flat_map(|d| d.labels.iter().map(|l| l.span))
        .collect();
    let mut out = overlap_diags;
    out.extend(
        import_diags.into_iter().filter(|d| {
            d.labels.is_empty() || !d.labels.iter().all(|l| overlaps.contains(&l.span))
        }),
    );
    out
}

/// A seed is one mistake: the finding that says so wins over others at the same place (an
/// invalid public key, an upper-case id), which only describe the seed's shape.
fn seeds_win(semantic: &mut Vec<Diagnostic>) {
    let seeds: Vec<_> = semantic
        .iter()
        .filter(|d| d.code == Code::SecretSeed)
        .filter_map(Diagnostic::primary)
        .collect();
    if !seeds.is_empty() {
        semantic.retain(|d| {
            d.code == Code::SecretSeed || !d.primary().is_some_and(|p| seeds.contains(&p))
        });
    }
}

/// Cross-layer entries from which the overlap rule and the import graph run on two threads.
const PARALLEL_FROM: usize = 1_000;
