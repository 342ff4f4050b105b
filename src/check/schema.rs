//! The values JSON Schema (`schema/values.schema.json`), applied to the merged values.
//! Each schema error is mapped back to the file, line and column of the value it is about.
//!
//! The schema is interpreted directly over the span-carrying values tree instead of being
//! compiled by a general validator: compiling the 40 KB schema (and the draft-07 meta-schema)
//! cost about 2 ms, more than a whole compile, and a pre-commit hook pays it on every run.
//! The interpreter knows the keywords the schema uses and no others; a test holds it to the
//! `jsonschema` crate's verdicts on every fixture and on generated values, and another test
//! refuses any schema keyword it does not know, so the two cannot drift apart.

use super::schema_data::Json;
use crate::diag::{Code, Diagnostic, suggest};
use crate::load::Node;
use crate::load::V;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;

pub const SCHEMA_TEXT: &str = include_str!("../../schema/values.schema.json");

/// The schema, built into the binary from `SCHEMA_TEXT` (see `schema_data`).
pub fn schema_json() -> &'static Json {
    &super::schema_data::VALUES
}

/// The property names the schema allows at an instance path (for "did you mean").
fn known_keys(pointer: &str) -> Vec<String> {
    let mut node = schema_json();
    for tok in pointer.split('/').skip(1) {
        node = match node.get("properties").and_then(|p| p.get(tok)) {
            Some(n) => n,
            None => match node.get("additionalProperties") {
                Some(n @ Json::Obj(_)) => n,
                _ => return vec![],
            },
        };
    }
    node.get("properties")
        .and_then(Json::as_object)
        .map(|o| o.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default()
}

fn dotted(pointer: &str) -> String {
    let p: Vec<&str> = pointer.split('/').skip(1).collect();
    if p.is_empty() {
        "the values".into()
    } else {
        p.join(".")
    }
}

/// What a schema keyword found wrong at one place.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Keys that `additionalProperties: false` forbids.
    Unknown(Vec<String>),
    Required(String),
    /// The JSON types allowed here.
    Type(Vec<String>),
    Enum(Value),
    Const(Value),
    Pattern(String),
    Minimum(Value),
    Maximum(Value),
    MinLength(u64),
    MinItems(u64),
    /// A `$ref` that does not resolve inside the schema (a schema bug, reported, never skipped).
    BadRef(String),
}

impl Finding {
    /// A plain sentence for the rule-specific callers (the fleet file) that word their own.
    pub fn describe(&self) -> String {
        match self {
            Finding::Unknown(keys) => format!("unknown keys {}", keys.join(", ")),
            Finding::Required(p) => format!("the key `{p}` is missing"),
            Finding::Type(t) => format!("must be {}", type_words(t)),
            Finding::Enum(o) => format!("must be one of {o}"),
            Finding::Const(c) => format!("must be {c}"),
            Finding::Pattern(p) => format!("does not match \"{p}\""),
            Finding::Minimum(m) => format!("is less than the minimum of {m}"),
            Finding::Maximum(m) => format!("is greater than the maximum of {m}"),
            Finding::MinLength(n) => format!("must be at least {n} characters long"),
            Finding::MinItems(n) => format!("must have at least {n} items"),
            Finding::BadRef(r) => format!("the schema's reference {r} does not resolve"),
        }
    }
}

/// One schema violation: the JSON pointer of the value and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaError {
    pub pointer: String,
    pub finding: Finding,
}

/// Keywords that only annotate; they never make a value invalid.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
];
/// Keywords the interpreter applies.
pub const KEYWORDS: &[&str] = &[
    "type",
    "enum",
    "const",
    "properties",
    "additionalProperties",
    "required",
    "items",
    "minimum",
    "maximum",
    "pattern",
    "allOf",
    "if",
    "then",
    "else",
    "minLength",
    "minItems",
    "$ref",
    "definitions",
];

/// Every keyword in a schema that the interpreter would not apply (for the test that keeps
/// the schema inside what `validate` understands).
pub fn unsupported_keywords(schema: &Json) -> Vec<String> {
    let mut out = vec![];
    let mut stack = vec![schema];
    while let Some(s) = stack.pop() {
        let Some(obj) = s.as_object() else { continue };
        for (k, v) in obj {
            match *k {
                "properties" | "definitions" => stack.extend(
                    v.as_object()
                        .into_iter()
                        .flat_map(|m| m.iter().map(|(_, v)| v)),
                ),
                "allOf" => stack.extend(v.as_array().into_iter().flatten()),
                "additionalProperties" | "items" | "if" | "then" | "else" => stack.push(v),
                k if KEYWORDS.contains(&k) || ANNOTATIONS.contains(&k) => {}
                other => out.push(other.to_string()),
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Applies `schema` to `node` and returns every violation (all of them, not the first).
pub fn validate(schema: &'static Json, node: &Node) -> Vec<SchemaError> {
    walk(schema, node, false)
}

/// `nulls_absent`: a map entry whose value is `null` counts as not there.
fn walk(schema: &'static Json, node: &Node, nulls_absent: bool) -> Vec<SchemaError> {
    let mut out = vec![];
    let mut pointer = String::new();
    Walk {
        root: schema,
        nulls_absent,
    }
    .apply(schema, node, &mut pointer, &mut out);
    out
}

/// The schema being applied, for resolving `$ref`s (local ones: `#/definitions/x`).
struct Walk {
    root: &'static Json,
    nulls_absent: bool,
}

fn json_type_matches(ty: &str, node: &Node) -> bool {
    match (&node.v, ty) {
        (V::Null, "null")
        | (V::Bool(_), "boolean")
        | (V::Str(_), "string")
        | (V::Seq(_), "array")
        | (V::Map(_), "object") => true,
        (V::Int(_), "integer" | "number") | (V::Float(_), "number") => true,
        // JSON Schema counts 2.0 as an integer.
        (V::Float(f), "integer") => f.fract() == 0.0 && f.is_finite(),
        _ => false,
    }
}

fn as_f64(node: &Node) -> Option<f64> {
    match node.v {
        V::Int(i) => Some(i as f64),
        V::Float(f) => Some(f),
        _ => None,
    }
}

/// JSON equality as JSON Schema defines it (1 equals 1.0).
fn json_equal(a: &Json, b: &Value) -> bool {
    match (a, b) {
        (Json::Int(_) | Json::Float(_), Value::Number(y)) => a.as_f64() == y.as_f64(),
        (Json::Null, Value::Null) => true,
        (Json::Bool(x), Value::Bool(y)) => x == y,
        (Json::Str(x), Value::String(y)) => x == y,
        (Json::Arr(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Json::Obj(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(*k).is_some_and(|w| json_equal(v, w)))
        }
        _ => false,
    }
}

fn pattern_matches(pattern: &str, text: &str) -> bool {
    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<regex_lite::Regex>>> =
            RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let re = c
            .entry(pattern.to_string())
            .or_insert_with(|| regex_lite::Regex::new(pattern).ok());
        // A pattern the regex engine cannot read constrains nothing (the schema test catches it).
        re.as_ref().is_none_or(|re| re.is_match(text))
    })
}

fn push_pointer(pointer: &mut String, token: &str) -> usize {
    let len = pointer.len();
    pointer.push('/');
    for ch in token.chars() {
        match ch {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
    len
}

impl Walk {
    /// A value as JSON, as the walk sees it.
    fn json(&self, node: &Node) -> Value {
        match &node.v {
            V::Map(_) | V::Seq(_) if self.nulls_absent => without_nulls(node).to_json(),
            _ => node.to_json(),
        }
    }

    fn apply(
        &self,
        schema: &'static Json,
        node: &Node,
        pointer: &mut String,
        out: &mut Vec<SchemaError>,
    ) {
        let s = schema;
        if s.as_object().is_none() {
            if matches!(schema, Json::Bool(false)) {
                out.push(SchemaError {
                    pointer: pointer.clone(),
                    finding: Finding::Type(vec![]),
                });
            }
            return;
        };
        if let Some(reference) = s.get("$ref").and_then(Json::as_str) {
            // Draft 7: a `$ref` replaces its siblings.
            match reference
                .strip_prefix('#')
                .and_then(|p| self.root.pointer(p))
            {
                Some(target) => self.apply(target, node, pointer, out),
                None => out.push(SchemaError {
                    pointer: pointer.clone(),
                    finding: Finding::BadRef(reference.to_string()),
                }),
            }
            return;
        }
        for finding in self.keywords(s, node) {
            out.push(SchemaError {
                pointer: pointer.clone(),
                finding,
            });
        }
        self.children(s, node, pointer, out);
        for sub in s
            .get("allOf")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            self.apply(sub, node, pointer, out);
        }
        if let Some(cond) = s.get("if") {
            let mut probe = vec![];
            self.apply(cond, node, &mut pointer.clone(), &mut probe);
            let branch = if probe.is_empty() {
                s.get("then")
            } else {
                s.get("else")
            };
            if let Some(branch) = branch {
                self.apply(branch, node, pointer, out);
            }
        }
    }

    /// `apply`, once per process for a subtree the tree shares with the defaults.
    fn apply_shared(
        &self,
        schema: &'static Json,
        node: &Node,
        pointer: &mut String,
        out: &mut Vec<SchemaError>,
    ) {
        static SHARED: super::Shared<(usize, usize, String, bool), SchemaError> =
            super::Shared::new(4096);
        if node.identity().is_none() {
            return self.apply(schema, node, pointer, out);
        }
        let root = std::ptr::from_ref(self.root) as usize;
        let at = std::ptr::from_ref(schema) as usize;
        let context = (root, at, pointer.clone(), self.nulls_absent);
        let mut here = pointer.clone();
        let walk = |found: &mut Vec<SchemaError>| self.apply(schema, node, &mut here, found);
        super::once_shared(&SHARED, node, || context, walk, out);
    }

    /// The keywords that judge the value itself: type, enum, const, bounds, lengths, pattern.
    fn keywords(&self, s: &'static Json, node: &Node) -> Vec<Finding> {
        let mut found = vec![];
        if let Some(ty) = s.get("type") {
            let allowed: &[Json] = match ty {
                Json::Str(_) => std::slice::from_ref(ty),
                Json::Arr(ts) => ts,
                _ => &[],
            };
            if !allowed
                .iter()
                .filter_map(Json::as_str)
                .any(|t| json_type_matches(t, node))
            {
                found.push(Finding::Type(
                    allowed
                        .iter()
                        .filter_map(Json::as_str)
                        .map(str::to_string)
                        .collect(),
                ));
            }
        }
        if let Some(options) = s.get("enum").and_then(Json::as_array) {
            let here = self.json(node);
            if !options.iter().any(|o| json_equal(o, &here)) {
                found.push(Finding::Enum(Value::Array(
                    options.iter().map(Json::to_value).collect(),
                )));
            }
        }
        if let Some(expected) = s.get("const")
            && !json_equal(expected, &self.json(node))
        {
            found.push(Finding::Const(expected.to_value()));
        }
        if let Some(n) = as_f64(node) {
            if let Some(min) = s
                .get("minimum")
                .filter(|m| m.as_f64().is_some_and(|m| n < m))
            {
                found.push(Finding::Minimum(min.to_value()));
            }
            if let Some(max) = s
                .get("maximum")
                .filter(|m| m.as_f64().is_some_and(|m| n > m))
            {
                found.push(Finding::Maximum(max.to_value()));
            }
        }
        if let (V::Str(text), Some(min)) = (&node.v, s.get("minLength").and_then(Json::as_u64))
            && (text.chars().count() as u64) < min
        {
            found.push(Finding::MinLength(min));
        }
        if let (V::Seq(items), Some(min)) = (&node.v, s.get("minItems").and_then(Json::as_u64))
            && (items.len() as u64) < min
        {
            found.push(Finding::MinItems(min));
        }
        if let (V::Str(text), Some(pattern)) = (&node.v, s.get("pattern").and_then(Json::as_str))
            && !pattern_matches(pattern, text)
        {
            found.push(Finding::Pattern(pattern.to_string()));
        }
        found
    }

    /// The keywords that reach into a map (required, properties, additionalProperties) or a
    /// list (items).
    fn children(
        &self,
        s: &'static Json,
        node: &Node,
        pointer: &mut String,
        out: &mut Vec<SchemaError>,
    ) {
        match &node.v {
            V::Map(entries) => {
                let present = |e: &&crate::load::Entry| !(self.nulls_absent && e.value.is_null());
                if let Some(required) = s.get("required").and_then(Json::as_array) {
                    for prop in required.iter().filter_map(Json::as_str) {
                        if !entries.iter().filter(present).any(|e| e.key == prop) {
                            out.push(SchemaError {
                                pointer: pointer.clone(),
                                finding: Finding::Required(prop.to_string()),
                            });
                        }
                    }
                }
                let props = s.get("properties");
                let additional = s.get("additionalProperties");
                let mut unknown = vec![];
                for e in entries.iter().filter(present) {
                    let len = push_pointer(pointer, &e.key);
                    match (props.and_then(|p| p.get(&e.key)), additional) {
                        (Some(sub), _) => self.apply_shared(sub, &e.value, pointer, out),
                        (None, Some(Json::Bool(false))) => unknown.push(e.key.clone()),
                        (None, Some(sub)) => self.apply_shared(sub, &e.value, pointer, out),
                        (None, None) => {}
                    }
                    pointer.truncate(len);
                }
                if !unknown.is_empty() {
                    out.push(SchemaError {
                        pointer: pointer.clone(),
                        finding: Finding::Unknown(unknown),
                    });
                }
            }
            V::Seq(items) => {
                if let Some(sub) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let len = push_pointer(pointer, &i.to_string());
                        self.apply(sub, item, pointer, out);
                        pointer.truncate(len);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The tree without `null` map entries.
fn without_nulls(node: &Node) -> Node {
    match &node.v {
        V::Map(es) => Node {
            v: V::Map(
                es.iter()
                    .filter(|e| !e.value.is_null())
                    .map(|e| crate::load::Entry {
                        key: e.key.clone(),
                        key_span: e.key_span,
                        value: without_nulls(&e.value),
                    })
                    .collect::<Vec<_>>()
                    .into(),
            ),
            span: node.span,
        },
        V::Seq(items) => Node {
            v: V::Seq(items.iter().map(without_nulls).collect::<Vec<_>>().into()),
            span: node.span,
        },
        _ => node.clone(),
    }
}

/// Applies the values schema and turns each violation into a diagnostic at its value.
pub fn check(root: &Node) -> Vec<Diagnostic> {
    let mut out = vec![];
    // After Helm's merge a null can only come from a chart's own values.yaml (a user's null
    // deletes the key), where it means "not set".
    for err in walk(schema_json(), root, true) {
        let pointer = err.pointer.as_str();
        let (node, entry) = root.at_pointer(pointer);
        let span = entry
            .map(|e| e.value.span)
            .or(node.map(|n| n.span))
            .unwrap_or_default();
        let where_ = dotted(pointer);
        let value_text = || node.map(|n| n.to_json().to_string()).unwrap_or_default();
        let d = match err.finding {
            Finding::Unknown(keys) => {
                let known = known_keys(pointer);
                for key in keys {
                    let key_span = node
                        .and_then(|n| n.entry(&key))
                        .map(|e| e.key_span)
                        .unwrap_or(span);
                    let mut d = Diagnostic::new(
                        Code::SchemaUnknownKey,
                        format!("`{key}` is not a key of {where_}"),
                    )
                    .at(key_span, "unknown key");
                    d = match suggest(&key, known.iter().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("the keys of {where_} are: {}", known.join(", "))),
                    };
                    out.push(d);
                }
                continue;
            }
            Finding::Required(prop) => Diagnostic::new(
                Code::SchemaRequired,
                format!("{where_} needs the key `{prop}`"),
            )
            .at(
                entry.map(|e| e.key_span).unwrap_or(span),
                format!("`{prop}` is missing here"),
            )
            .help(format!("add `{prop}:` under {where_}")),
            Finding::Type(allowed) => {
                let found = node.map(Node::type_name).unwrap_or("value");
                let found = if found == "integer" {
                    "an integer".to_string()
                } else {
                    format!("a {found}")
                };
                Diagnostic::new(
                    Code::SchemaType,
                    format!("{where_} must be {}, not {found}", type_words(&allowed)),
                )
                .at(span, found)
                .help(type_help(&allowed, node))
            }
            Finding::Enum(options) => Diagnostic::new(
                Code::SchemaEnum,
                format!("{where_} must be one of {options}"),
            )
            .at(span, "not an allowed value")
            .help(format!("use one of {options}")),
            Finding::Const(expected) => Diagnostic::new(
                Code::SchemaInvalid,
                format!("{where_}: {expected} was expected"),
            )
            .at(span, "here")
            .help(format!("set it to {expected}")),
            Finding::Pattern(pattern) => Diagnostic::new(
                Code::SchemaInvalid,
                format!("{where_}: {} does not match \"{pattern}\"", value_text()),
            )
            .at(span, "does not match the pattern")
            .help(format!(
                "write a value that matches the regular expression {pattern}"
            )),
            Finding::Minimum(min) => Diagnostic::new(
                Code::SchemaInvalid,
                format!(
                    "{where_}: {} is less than the minimum of {min}",
                    value_text()
                ),
            )
            .at(span, "too small")
            .help(format!("use a value of at least {min}")),
            Finding::Maximum(max) => Diagnostic::new(
                Code::SchemaInvalid,
                format!(
                    "{where_}: {} is greater than the maximum of {max}",
                    value_text()
                ),
            )
            .at(span, "too large")
            .help(format!("use a value of at most {max}")),
            other => Diagnostic::new(
                Code::SchemaInvalid,
                format!("{where_} {}", other.describe()),
            )
            .at(span, "here"),
        };
        out.push(d);
    }
    out
}

/// What to write instead, for the first allowed type, shown with the value at hand.
fn type_help(allowed: &[String], node: Option<&Node>) -> String {
    let text = node.and_then(Node::scalar_text);
    let quoted_scalar = node.and_then(Node::as_str).map(str::trim);
    match allowed.first().map(String::as_str) {
        Some("boolean") => match quoted_scalar {
            Some(b @ ("true" | "false")) => {
                format!("remove the quotes: `{b}` is a boolean, `\"{b}\"` a string")
            }
            _ => "write `true` or `false`".into(),
        },
        Some("array") => match quoted_scalar {
            Some(s) if s.contains(',') => {
                let items: Vec<&str> = s.split(',').map(str::trim).collect();
                format!(
                    "write a YAML list, not a comma-separated string: `[{}]`",
                    items.join(", ")
                )
            }
            _ => "write a YAML list: `[a, b]`, or one `- item` per line under the key".into(),
        },
        Some("object") => {
            "write a map: `key: value` lines indented under this key (`{}` for an empty one)".into()
        }
        Some("string") => match text {
            Some(t) => format!("quote it so YAML reads text: \"{t}\""),
            None => "write a text value (quote it if it looks like a number or boolean)".into(),
        },
        Some("integer" | "number") => match quoted_scalar {
            Some(n) if n.parse::<f64>().is_ok() => format!("remove the quotes: `{n}`"),
            _ => "write a number without quotes, e.g. `4222`".into(),
        },
        _ => format!("write {} here", type_words(allowed)),
    }
}

fn type_words(allowed: &[String]) -> String {
    let words: Vec<&str> = allowed
        .iter()
        .map(|t| match t.as_str() {
            "object" => "a map",
            "array" => "a list",
            "string" => "a string",
            "integer" => "an integer",
            "number" => "a number",
            "boolean" => "a boolean",
            "null" => "null",
            other => other,
        })
        .collect();
    match words.as_slice() {
        [] => "absent".to_string(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
