//! Stage 2: every rule over the merged values and the model. All rules run; each reports
//! with its own code. A specific rule wins over the schema when both point at one place.

pub mod accounts;
pub mod auth;
pub mod chart;
pub mod cross_layer;
pub mod gateway;
pub mod imports;
pub mod schema;
pub mod values;

use crate::diag::{Code, Diagnostic, Sources};
use crate::load::Node;
use crate::model::Model;

fn is_schema(c: Code) -> bool {
    matches!(c, Code::SchemaType | Code::SchemaUnknownKey | Code::SchemaRequired | Code::SchemaEnum | Code::SchemaInvalid)
}

/// Runs the schema and every semantic rule.
pub fn check(root: &Node, model: Option<&Model>, sources: &Sources) -> Vec<Diagnostic> {
    // The schema walk needs only the tree; on a second core it costs a compile nothing.
    std::thread::scope(|scope| {
        let schema = scope.spawn(|| schema::check(root));
        let semantic = semantic(root, model, sources);
        let mut out = schema.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        out.retain(|d| !(is_schema(d.code) && semantic.iter().any(|s| s.primary() == d.primary())));
        out.extend(semantic);
        out
    })
}

fn semantic(root: &Node, model: Option<&Model>, sources: &Sources) -> Vec<Diagnostic> {
    let mut semantic = values::check(root, model);
    if let Some(m) = model {
        semantic.extend(accounts::check(m));
        semantic.extend(auth::check(m));
        semantic.extend(chart::check(m, sources));
        semantic.extend(gateway::check(m));
        semantic.extend(cross_layer::check(m));
        if !semantic.iter().any(|d| d.code == Code::Subject) {
            let overlaps: Vec<_> = semantic.iter().filter(|d| d.code == Code::CrossLayerOverlap || d.code == Code::CrossLayerDuplicate).flat_map(|d| d.labels.iter().map(|l| l.span)).collect();
            // A cycle made only of entries the overlap rule already named is that same finding.
            semantic.extend(imports::check(m).into_iter().filter(|d| d.labels.is_empty() || !d.labels.iter().all(|l| overlaps.contains(&l.span))));
        }
    }
    semantic
}
