//! The documented cross-layer rule, wildcard-aware: no pattern may overlap a pattern of
//! another list; no pattern twice in one list; a pattern inside another of its list is noise.

use crate::diag::{Code, Diagnostic};
use crate::model::{ListKind, Model, Spanned};
use crate::subject::{Pattern, PatternIndex};

/// What an overlap between two lists does on a running bus (measured on nats-server 2.15.1).
fn effect(a: ListKind, b: ListKind, id: &str) -> String {
    use ListKind::*;
    let id = if id.is_empty() { "<id>" } else { id };
    match (a.min(b), a.max(b)) {
        (CscPrefixedExports, CpcExports) => format!(
            "the CPC imports it from the CSC account and the CSC account imports it back as \
             cpc.{id}.<subject>: an import cycle, and nats-server refuses to start"
        ),
        (CscExports, CpcExports) => format!(
            "the CPC's accounts then import it both ways (down unprefixed, up as \
             cpc.{id}.<subject>), and nats-server 2.12.6 refuses that (\"import forms a cycle\") \
             in the starts where it loads the accounts in one order and not the other (9 of 40 \
             runs): the pod crash-loops at random"
        ),
        _ => "the CSC exports the same subjects twice, once unchanged and once from the cpc.<id> \
              prefix"
            .into(),
    }
}

/// Is this span one of the cross-layer list entries?
pub fn is_list_entry(m: &Model, span: crate::diag::Span) -> bool {
    ListKind::ALL
        .iter()
        .any(|k| m.cross.list(*k).iter().any(|e| e.span == span))
}

/// The loop a prefixed-export/cpc-export overlap makes, in message order.
fn cycle_path(x: &str, p: &str, id: &str) -> String {
    let id = if id.is_empty() { "<id>" } else { id };
    format!("CPC {x} -> CSC cpc.{id}.{x} -> CPC {p}")
}

struct Entry<'a> {
    kind: ListKind,
    sub: &'a Spanned<String>,
    pattern: Pattern,
}

fn duplicate(kind: ListKind, first: &Spanned<String>, again: &Spanned<String>) -> Diagnostic {
    Diagnostic::new(
        Code::CrossLayerDuplicate,
        format!(
            "`{}` is listed twice in crossLayer.{}; the server refuses the duplicate import",
            again.value,
            kind.key()
        ),
    )
    .at(again.span, "listed again here")
    .at(first.span, "first listed here")
    .help("remove the second entry")
}

pub fn check(m: &Model) -> Vec<Diagnostic> {
    check_lists(ListKind::ALL.map(|k| m.cross.list(k)), m.id())
}

/// The rule over three lists in `ListKind::ALL` order (from values, or recovered from a
/// rendered CPC's accounts), for the CPC `id`.
pub fn check_lists(lists: [&[Spanned<String>]; 3], id: &str) -> Vec<Diagnostic> {
    let mut out = vec![];
    let mut entries: Vec<Entry> = vec![];
    for (kind, list) in ListKind::ALL.into_iter().zip(lists) {
        // A repeat is reported against the first entry and then left out, so thousands of
        // copies cost one finding each, not one per pair.
        let mut first: std::collections::HashMap<&str, &Spanned<String>> =
            std::collections::HashMap::new();
        for sub in list {
            if let Some(a) = first.get(sub.value.as_str()) {
                out.push(duplicate(kind, a, sub));
                continue;
            }
            if let Ok(pattern) = Pattern::parse(&sub.value) {
                first.insert(&sub.value, sub);
                entries.push(Entry { kind, sub, pattern });
            }
        }
    }
    let mut index = PatternIndex::new();
    for (i, e) in entries.iter().enumerate() {
        index.insert(&e.pattern, i);
    }
    for (i, a) in entries.iter().enumerate() {
        for j in index.overlapping(&a.pattern) {
            if j <= i {
                continue;
            }
            let b = &entries[j];
            let witness = a
                .pattern
                .overlap(&b.pattern)
                .map(|w| w.to_string())
                .unwrap_or_default();
            if a.kind != b.kind {
                let same = a.sub.value == b.sub.value;
                let msg = if same {
                    format!(
                        "`{}` is in both crossLayer.{} and crossLayer.{}",
                        a.sub.value,
                        a.kind.key(),
                        b.kind.key()
                    )
                } else {
                    format!(
                        "`{}` in crossLayer.{} and `{}` in crossLayer.{} overlap: both match \
                         `{witness}`",
                        a.sub.value,
                        a.kind.key(),
                        b.sub.value,
                        b.kind.key()
                    )
                };
                let mut what = effect(a.kind, b.kind, id);
                if let Some((x, p)) = match (a.kind, b.kind) {
                    (ListKind::CpcExports, ListKind::CscPrefixedExports) => Some((a, b)),
                    (ListKind::CscPrefixedExports, ListKind::CpcExports) => Some((b, a)),
                    _ => None,
                } {
                    what.push_str(&format!(
                        " (cycle: {})",
                        cycle_path(&x.sub.value, &p.sub.value, id)
                    ));
                }
                out.push(
                    Diagnostic::new(Code::CrossLayerOverlap, format!("{msg}; {what}"))
                        .at(b.sub.span, format!("in {}", b.kind.key()))
                        .at(a.sub.span, format!("in {}", a.kind.key()))
                        .help(format!(
                            "the three crossLayer lists must not overlap: remove `{}` from one of \
                             the two lists, or narrow one pattern so no subject (such as \
                             `{witness}`) matches both",
                            b.sub.value
                        )),
                );
            } else if a.pattern == b.pattern {
                out.push(duplicate(a.kind, a.sub, b.sub));
            } else {
                let (wide, narrow) = if a.pattern.contains(&b.pattern) {
                    (a, b)
                } else if b.pattern.contains(&a.pattern) {
                    (b, a)
                } else {
                    continue;
                };
                out.push(
                    Diagnostic::new(
                        Code::CrossLayerRedundant,
                        format!(
                            "`{}` in crossLayer.{} adds nothing: `{}` already covers it",
                            narrow.sub.value,
                            narrow.kind.key(),
                            wide.sub.value
                        ),
                    )
                    .at(narrow.sub.span, "covered")
                    .at(wide.sub.span, "by this pattern")
                    .help(format!("remove `{}`", narrow.sub.value)),
                );
            }
        }
    }
    out
}
