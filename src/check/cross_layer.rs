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
                out.push(
                    Finding::Duplicate {
                        kind,
                        first: a,
                        again: sub,
                    }
                    .into(),
                );
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
            let found = if a.kind != b.kind {
                Finding::Overlap {
                    a: (a.kind, a.sub),
                    b: (b.kind, b.sub),
                    witness,
                    id,
                }
            } else if a.pattern == b.pattern {
                Finding::Duplicate {
                    kind: a.kind,
                    first: a.sub,
                    again: b.sub,
                }
            } else if a.pattern.contains(&b.pattern) {
                Finding::Redundant {
                    kind: b.kind,
                    narrow: b.sub,
                    wide: a.sub,
                }
            } else if b.pattern.contains(&a.pattern) {
                Finding::Redundant {
                    kind: a.kind,
                    narrow: a.sub,
                    wide: b.sub,
                }
            } else {
                continue;
            };
            out.push(found.into());
        }
    }
    out
}

/// What the rule finds; `From<Finding> for Diagnostic` words it.
enum Finding<'a> {
    /// Two patterns of two lists that one subject (`witness`) matches, on the CPC `id`.
    Overlap {
        a: (ListKind, &'a Spanned<String>),
        b: (ListKind, &'a Spanned<String>),
        witness: String,
        id: &'a str,
    },
    Duplicate {
        kind: ListKind,
        first: &'a Spanned<String>,
        again: &'a Spanned<String>,
    },
    /// A pattern of `kind` inside a wider one of the same list.
    Redundant {
        kind: ListKind,
        narrow: &'a Spanned<String>,
        wide: &'a Spanned<String>,
    },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::Overlap {
                a: (a_kind, a),
                b: (b_kind, b),
                witness,
                id,
            } => {
                let msg = if a.value == b.value {
                    format!(
                        "`{}` is in both crossLayer.{} and crossLayer.{}",
                        a.value,
                        a_kind.key(),
                        b_kind.key()
                    )
                } else {
                    format!(
                        "`{}` in crossLayer.{} and `{}` in crossLayer.{} overlap: both match \
                         `{witness}`",
                        a.value,
                        a_kind.key(),
                        b.value,
                        b_kind.key()
                    )
                };
                let mut what = effect(a_kind, b_kind, id);
                if let Some((x, p)) = match (a_kind, b_kind) {
                    (ListKind::CpcExports, ListKind::CscPrefixedExports) => Some((a, b)),
                    (ListKind::CscPrefixedExports, ListKind::CpcExports) => Some((b, a)),
                    _ => None,
                } {
                    what.push_str(&format!(" (cycle: {})", cycle_path(&x.value, &p.value, id)));
                }
                Diagnostic::new(Code::CrossLayerOverlap, format!("{msg}; {what}"))
                    .at(b.span, format!("in {}", b_kind.key()))
                    .at(a.span, format!("in {}", a_kind.key()))
                    .help(format!(
                        "the three crossLayer lists must not overlap: remove `{}` from one of the \
                         two lists, or narrow one pattern so no subject (such as `{witness}`) \
                         matches both",
                        b.value
                    ))
            }
            Finding::Duplicate { kind, first, again } => Diagnostic::new(
                Code::CrossLayerDuplicate,
                format!(
                    "`{}` is listed twice in crossLayer.{}; the server refuses the duplicate \
                     import",
                    again.value,
                    kind.key()
                ),
            )
            .at(again.span, "listed again here")
            .at(first.span, "first listed here")
            .help("remove the second entry"),
            Finding::Redundant { kind, narrow, wide } => Diagnostic::new(
                Code::CrossLayerRedundant,
                format!(
                    "`{}` in crossLayer.{} adds nothing: `{}` already covers it",
                    narrow.value,
                    kind.key(),
                    wide.value
                ),
            )
            .at(narrow.span, "covered")
            .at(wide.span, "by this pattern")
            .help(format!("remove `{}`", narrow.value)),
        }
    }
}
