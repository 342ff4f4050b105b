//! `--values`: the generated ConfigMaps' contents replaced by what natscc compiles, every
//! other byte of the stream left as it was.

use super::messages::Mismatch;
use super::objects::Doc;
use crate::diag::{Diagnostic, Span};
use crate::emit::Files;

/// The ConfigMap keys the bus's configs live under.
pub const GENERATED: &[&str] = &[
    "nats.conf",
    "accounts.conf",
    "leafnodes.conf",
    "permissions.json",
];

/// The names of the event-bus chart's own ConfigMaps that only some values render (the mTLS
/// release's two) or that every event-bus values renders: one of them in the stream that the
/// values do not compile means the stream was rendered from other values.
const CHART_CONFIG_MAPS: &[&str] = &[
    "nats-config",
    "nats-mtls-config",
    "nats-accounts-config",
    "nats-leafnodes-config",
    "nats-mtls-accounts-config",
    "nats-env-config",
    "auth-callout-permissions",
];

/// The ConfigMaps a compile emits (its manifests.yaml): name -> key -> contents.
fn compiled_config_maps(
    files: &Files,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    let mut sources = crate::diag::Sources::default();
    let Some(text) = files.get("manifests.yaml") else {
        return Default::default();
    };
    let id = sources.add(crate::diag::Source::new("manifests.yaml", text.clone()));
    let docs = crate::load::yaml::parse_stream(id, &sources)
        .0
        .unwrap_or_default();
    docs.iter()
        .filter(|d| d.get("kind").and_then(crate::load::Node::as_str) == Some("ConfigMap"))
        .filter_map(|d| {
            let name = d
                .path(&["metadata", "name"])
                .and_then(crate::load::Node::as_str)?
                .to_string();
            let data = d
                .get("data")
                .map(crate::load::Node::entries)
                .unwrap_or_default();
            Some((
                name,
                data.iter()
                    .filter_map(|e| Some((e.key.clone(), e.value.as_str()?.to_string())))
                    .collect(),
            ))
        })
        .collect()
}

/// Can `text` be written as a literal block scalar and read back unchanged?
fn literal_safe(text: &str) -> bool {
    !text.is_empty()
        && text.chars().all(|c| {
            c == '\n'
                || c == '\t'
                || (c >= ' '
                    && c != '\u{7f}'
                    && c != '\u{feff}'
                    && !('\u{80}'..='\u{9f}').contains(&c))
        })
        && !text
            .lines()
            .any(|l| l.ends_with([' ', '\t']) && l.trim().is_empty())
}

/// `key: |` and the text, indented; the header says how to keep the final new lines.
fn literal(text: &str, indent: usize) -> String {
    let chomp = if !text.ends_with('\n') {
        "-"
    } else if text.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    let first = text.lines().find(|l| !l.is_empty()).unwrap_or("");
    let indicator = if first.starts_with(' ') {
        indent.to_string()
    } else {
        String::new()
    };
    let mut out = format!(": |{indicator}{chomp}\n");
    for l in text.split_inclusive('\n') {
        if l != "\n" {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(l);
    }
    if !text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The end of a block scalar whose content starts at `value` under a key at column `key_col`:
/// the last line indented at least as deep and deeper than the key, blank lines inside
/// included; returns the byte after that line's new line. An empty block (`leafnodes.conf: |`
/// then `---`) has its span on the next line at column 0: the key's column bounds it, or the
/// block would run to the end of the stream.
fn block_end(text: &str, value: Span, key_col: usize) -> usize {
    let start_of_line = text[..value.offset as usize]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let indent = (value.col as usize).max(key_col + 1);
    let mut end = start_of_line;
    let mut at = start_of_line;
    for line in text[start_of_line..].split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let blank = body.trim().is_empty();
        let deep = body.len() - body.trim_start_matches(' ').len() >= indent;
        if !blank && !deep {
            break;
        }
        at += line.len();
        if !blank {
            end = at;
        }
    }
    end
}

/// The stream with every ConfigMap natscc compiles set to its compiled contents, or the
/// reasons the values and the stream do not fit together. A key whose contents already equal
/// the compiled ones keeps its bytes.
pub fn replace(text: &str, docs: &[Doc], files: &Files) -> Result<String, Vec<Diagnostic>> {
    let compiled = compiled_config_maps(files);
    let mut edits: Vec<(usize, usize, String)> = vec![];
    let mut diags = vec![];
    let mut seen: Vec<&str> = vec![];
    for d in docs
        .iter()
        .filter(|d| d.kind == "ConfigMap" && d.api == "v1")
    {
        let Some(data) = compiled.get(d.name) else {
            // A chart ConfigMap these values do not render: left as it is, it would keep
            // configs of other values (an mTLS release the values turn off).
            if CHART_CONFIG_MAPS.contains(&d.name) {
                for e in d
                    .node
                    .get("data")
                    .map(crate::load::Node::entries)
                    .unwrap_or_default()
                {
                    diags.push(
                        Mismatch::NotCompiledMap {
                            map: d.name,
                            key: &e.key,
                            mtls_off: d.name.contains("mtls"),
                            at: e.key_span,
                        }
                        .into(),
                    );
                }
            }
            continue;
        };
        seen.push(d.name);
        let entries = d
            .node
            .get("data")
            .map(crate::load::Node::entries)
            .unwrap_or_default();
        for key in data
            .keys()
            .filter(|k| !entries.iter().any(|e| &e.key == *k))
        {
            diags.push(Mismatch::MissingKey { map: d.name, key }.into());
        }
        for e in entries {
            let Some(new) = data.get(&e.key) else {
                diags.push(
                    Mismatch::NotCompiledKey {
                        map: d.name,
                        key: &e.key,
                        at: e.key_span,
                    }
                    .into(),
                );
                continue;
            };
            if e.value.as_str() == Some(new.as_str()) {
                continue;
            }
            let key_end = (e.key_span.offset + e.key_span.len) as usize;
            if e.value.span.line > e.key_span.line && literal_safe(new) {
                let indent = (e.value.span.col as usize).max(e.key_span.col as usize + 2);
                edits.push((
                    key_end,
                    block_end(text, e.value.span, e.key_span.col as usize),
                    literal(new, indent),
                ));
            } else if e.value.span.line > e.key_span.line {
                edits.push((
                    key_end,
                    block_end(text, e.value.span, e.key_span.col as usize),
                    format!(": {}\n", serde_json::to_string(new).expect("a string")),
                ));
            } else {
                let start = e.value.span.offset as usize;
                edits.push((
                    start,
                    start + e.value.span.len as usize,
                    serde_json::to_string(new).expect("a string"),
                ));
            }
        }
    }
    for name in compiled.keys().filter(|n| !seen.contains(&n.as_str())) {
        diags.push(Mismatch::MissingMap { map: name }.into());
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, new) in edits {
        out.push_str(&text[at..start]);
        out.push_str(&new);
        at = end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_blocks_keep_the_text() {
        assert_eq!(literal("a: 1\n\nb\n", 4), ": |\n    a: 1\n\n    b\n");
        assert_eq!(literal("x", 2), ": |-\n  x\n");
        assert_eq!(literal("x\n\n", 2), ": |+\n  x\n\n");
        assert_eq!(literal("  y\n", 4), ": |4\n      y\n");
        assert!(!literal_safe("a\u{1}b"));
        assert!(literal_safe("a\tb\n"));
    }
}
