//! The chart's own nats.conf printer (`nats.formatConfig`): the config as Go's indented JSON
//! (`toPrettyJson`, with the chart's un-escaping of `&`, `<` and `>`), then two regex rewrites:
//! `"$include": "x",` lines become `include x;` and `"<< X >>"` strings become the bare `X`.
//!
//! Every number is printed as Go prints a float64 (Helm reads values numbers as float64).

use crate::conf::{Conf, ConfMap, Item};
use crate::gotmpl::{json_float, json_string};
use regex_lite::Regex;
use std::sync::OnceLock;

/// The bytes `nats.formatConfig` prints for this config (no trailing newline; the ConfigMap's
/// `nats.conf` data is this followed by one `\n`).
pub fn format_config(conf: &ConfMap) -> String {
    let mut json = String::new();
    map_json(conf, 0, &mut json);
    static INCLUDE: OnceLock<Regex> = OnceLock::new();
    static RAW: OnceLock<Regex> = OnceLock::new();
    let include = INCLUDE.get_or_init(|| Regex::new(r#"".*\$include": "(.*)",?"#).expect("regex"));
    let raw = RAW
        .get_or_init(|| Regex::new(r#""<<[\t\n\x0C\r ]+(.*?)[\t\n\x0C\r ]+>>""#).expect("regex"));
    // Both rewrites stay within a line (`.` stops at a newline, and JSON strings hold none), so
    // only the lines that can match go through the regex engine.
    let mut out = String::with_capacity(json.len());
    for line in json.split_inclusive('\n') {
        let line = if line.contains("$include\": \"") {
            include.replace_all(line, "include ${1};")
        } else {
            line.into()
        };
        if line.contains("\"<<") {
            out.push_str(&raw.replace_all(&line, "${1}"));
        } else {
            out.push_str(&line);
        }
    }
    out
}

fn pad(n: usize, out: &mut String) {
    for _ in 0..n {
        out.push_str("  ");
    }
}

fn map_json(m: &ConfMap, indent: usize, out: &mut String) {
    let mut items: Vec<(&str, Option<&Conf>, Option<&str>)> = m
        .items
        .iter()
        .map(|i| match i {
            Item::Kv(k, v) => (k.as_str(), Some(v), None),
            Item::Include(p) => ("$include", None, Some(p.as_str())),
        })
        .collect();
    items.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if items.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (k, v, inc)) in items.iter().enumerate() {
        pad(indent + 1, out);
        json_string(k, false, out);
        out.push_str(": ");
        match (v, inc) {
            (Some(v), _) => value_json(v, indent + 1, out),
            (None, Some(p)) => json_string(p, false, out),
            _ => {}
        }
        if i + 1 < items.len() {
            out.push(',');
        }
        out.push('\n');
    }
    pad(indent, out);
    out.push('}');
}

fn value_json(v: &Conf, indent: usize, out: &mut String) {
    match v {
        Conf::Str(s) => json_string(s, false, out),
        Conf::Var(n) => {
            out.push('$');
            out.push_str(n);
        }
        Conf::Bare(b) => out.push_str(b),
        Conf::Int(i) => out.push_str(&json_float(*i as f64)),
        Conf::Float(f) => out.push_str(&json_float(*f)),
        Conf::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Conf::List(items) if items.is_empty() => out.push_str("[]"),
        Conf::List(items) => {
            out.push_str("[\n");
            for (i, it) in items.iter().enumerate() {
                pad(indent + 1, out);
                value_json(it, indent + 1, out);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(indent, out);
            out.push(']');
        }
        Conf::Map(m) => map_json(m, indent, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats() {
        // Go's encoding/json and `%v` forms, which the chart's printing and templates rely on.
        let mut s = String::new();
        json_string("a\u{8}b\u{c}c\u{1}d<&>", false, &mut s);
        assert_eq!(s, r#""a\bb\fc\u0001d<&>""#);
        assert_eq!(json_float(1e21), "1e+21");
        assert_eq!(json_float(1e-7), "1e-7");
        assert_eq!(json_float(1000000.0), "1000000");
        assert_eq!(json_float(0.5), "0.5");
        assert_eq!(crate::gotmpl::go_float(1e6), "1e+06");
        assert_eq!(crate::gotmpl::go_float(2e9), "2e+09");
        assert_eq!(crate::gotmpl::go_float(4222.0), "4222");
        assert_eq!(crate::gotmpl::go_float(1234567.0), "1.234567e+06");
        assert_eq!(crate::gotmpl::go_float(0.00001), "1e-05");
    }
}
