//! A deterministic block-YAML printer for Kubernetes objects and the listing files.
//! Strings are written plain only when a YAML reader would read them back as the same string.

use serde_json::Value;

fn plain_ok(st: &str) -> bool {
    !st.is_empty()
        && st
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./-$@".contains(c))
        && !st.starts_with(['-', '.', '@'])
        && matches!(crate::load::yaml::resolve_plain(st), crate::load::V::Str(_))
}

/// A double-quoted scalar: JSON's escapes, plus `\u` escapes for what JSON leaves raw but a
/// YAML reader refuses (DEL, C1 controls, non-characters) or folds as a line break (NEL, LS, PS).
fn quoted(st: &str) -> String {
    let json = serde_json::to_string(st).unwrap();
    json.chars()
        .map(|c| match c {
            c if c.is_control()
                || matches!(
                    c,
                    '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                format!("\\u{:04x}", c as u32)
            }
            c => c.to_string(),
        })
        .collect()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(st) if plain_ok(st) => st.clone(),
        Value::String(st) => quoted(st),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    }
}

fn multiline(st: &str) -> bool {
    st.contains('\n')
        && !st.contains('\t')
        && !st.lines().any(|l| l.ends_with(' '))
        && !st.starts_with([' ', '\n'])
        // A literal block holds only printable text; YAML 1.1 readers (go-yaml, PyYAML) also
        // break lines at NEL, LS and PS.
        && !st.chars().any(|c| (c.is_control() && c != '\n') || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}'))
}

fn write(v: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(o) => {
            for (k, val) in o {
                out.push_str(&pad);
                out.push_str(&scalar(&Value::String(k.clone())));
                out.push(':');
                match val {
                    Value::String(st) if multiline(st) => {
                        // The chomping indicator keeps the trailing newlines exactly: `|-` none,
                        // `|` one, `|+` all (`|` would clip "a\n\n" to "a\n").
                        let body = st.trim_end_matches('\n');
                        out.push_str(match st.len() - body.len() {
                            0 => " |-\n",
                            1 => " |\n",
                            _ => " |+\n",
                        });
                        // Interior lines (empty ones included), then one empty line per newline
                        // kept.
                        for line in st.strip_suffix('\n').unwrap_or(st).split('\n') {
                            if !line.is_empty() {
                                out.push_str(&"  ".repeat(indent + 1));
                                out.push_str(line);
                            }
                            out.push('\n');
                        }
                    }
                    _ if is_block(val) => {
                        out.push('\n');
                        write(
                            val,
                            if matches!(val, Value::Array(_)) {
                                indent
                            } else {
                                indent + 1
                            },
                            out,
                        );
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(&scalar(val));
                        out.push('\n');
                    }
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                out.push_str(&pad);
                out.push_str("- ");
                if is_block(item) {
                    let mut inner = String::new();
                    write(item, indent + 1, &mut inner);
                    // The first line of the nested block goes on the dash line.
                    out.push_str(inner.trim_start());
                } else {
                    out.push_str(&scalar(item));
                    out.push('\n');
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

/// One document, without a leading `---`.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    write(v, 0, &mut out);
    out
}

/// Several documents as one stream.
pub fn stream(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| format!("---\n{}", to_yaml(d)))
        .collect()
}
