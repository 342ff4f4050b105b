//! A deterministic block-YAML printer for Kubernetes objects and the listing files.
//! Strings are written plain only when a YAML reader would read them back as the same string.

use serde_json::Value;

fn plain_ok(st: &str) -> bool {
    !st.is_empty()
        && st.bytes().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b'-' | b'$' | b'@')
        })
        && !st.starts_with(['-', '.', '@'])
        && crate::load::yaml::reads_as_text(st)
}

/// A double-quoted scalar: JSON's escapes, plus `\u` escapes for what JSON leaves raw but a
/// YAML reader refuses (DEL, C1 controls, non-characters) or folds as a line break (NEL, LS, PS).
fn push_quoted(st: &str, out: &mut String) {
    // Most quoted strings (URLs, subjects with `>`, text) need no escape at all.
    if st
        .bytes()
        .all(|b| (b' '..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push('"');
        out.push_str(st);
        out.push('"');
        return;
    }
    let json = serde_json::to_string(st).unwrap();
    for c in json.chars() {
        if c.is_control()
            || matches!(
                c,
                '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            )
        {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
}

fn push_str_scalar(st: &str, out: &mut String) {
    if plain_ok(st) {
        out.push_str(st);
    } else {
        push_quoted(st, out);
    }
}

fn push_scalar(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(st) => push_str_scalar(st, out),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
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
        && !st.chars().any(|c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
        })
}

fn push_pad(indent: usize, out: &mut String) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

/// `first_padded`: the caller already wrote the first line's indentation (a list item's
/// `- `), so the value's first line starts without it.
fn write(v: &Value, indent: usize, first_padded: bool, out: &mut String) {
    let mut pad = !first_padded;
    match v {
        Value::Object(o) => {
            for (k, val) in o {
                if pad {
                    push_pad(indent, out);
                }
                pad = true;
                push_str_scalar(k, out);
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
                                push_pad(indent + 1, out);
                                out.push_str(line);
                            }
                            out.push('\n');
                        }
                    }
                    _ if is_block(val) => {
                        out.push('\n');
                        let inner = if matches!(val, Value::Array(_)) {
                            indent
                        } else {
                            indent + 1
                        };
                        write(val, inner, false, out);
                    }
                    _ => {
                        out.push(' ');
                        push_scalar(val, out);
                        out.push('\n');
                    }
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                if pad {
                    push_pad(indent, out);
                }
                pad = true;
                out.push_str("- ");
                if is_block(item) {
                    // The first line of the nested block goes on the dash line.
                    write(item, indent + 1, true, out);
                } else {
                    push_scalar(item, out);
                    out.push('\n');
                }
            }
        }
        other => {
            if pad {
                push_pad(indent, out);
            }
            push_scalar(other, out);
            out.push('\n');
        }
    }
}

/// One document, without a leading `---`.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    write(v, 0, false, &mut out);
    out
}

/// Several documents as one stream.
pub fn stream(docs: &[Value]) -> String {
    let mut out = String::new();
    for d in docs {
        out.push_str("---\n");
        write(d, 0, false, &mut out);
    }
    out
}
