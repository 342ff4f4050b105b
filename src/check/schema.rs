//! The values JSON Schema (`schema/values.schema.json`), applied to the merged values.
//! Each schema error is mapped back to the file, line and column of the value it is about.

use crate::diag::{Code, Diagnostic, suggest};
use crate::load::Node;
use jsonschema::error::ValidationErrorKind;
use std::sync::OnceLock;

pub const SCHEMA_TEXT: &str = include_str!("../../schema/values.schema.json");

/// The compiled schema; compiling it is the single costliest step of a small compile, so
/// `prepare` starts it on another core while the values load.
pub fn validator() -> &'static jsonschema::Validator {
    VALIDATOR.get_or_init(|| {
        let schema: serde_json::Value = serde_json::from_str(SCHEMA_TEXT).expect("schema is JSON");
        jsonschema::validator_for(&schema).expect("schema compiles")
    })
}

/// Starts compiling the schema in the background (idempotent).
pub fn prepare() {
    if VALIDATOR.get().is_none() {
        std::thread::spawn(|| {
            validator();
        });
    }
}

static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();

fn schema_json() -> &'static serde_json::Value {
    static S: OnceLock<serde_json::Value> = OnceLock::new();
    S.get_or_init(|| serde_json::from_str(SCHEMA_TEXT).expect("schema is JSON"))
}

/// The property names the schema allows at an instance path (for "did you mean").
fn known_keys(pointer: &str) -> Vec<String> {
    let mut node = schema_json();
    for tok in pointer.split('/').skip(1) {
        node = match node.get("properties").and_then(|p| p.get(tok)) {
            Some(n) => n,
            None => match node.get("additionalProperties") {
                Some(n) if n.is_object() => n,
                _ => return vec![],
            },
        };
    }
    node.get("properties").and_then(|p| p.as_object()).map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

fn dotted(pointer: &str) -> String {
    let p: Vec<&str> = pointer.split('/').skip(1).collect();
    if p.is_empty() { "the values".into() } else { p.join(".") }
}

pub fn check(root: &Node) -> Vec<Diagnostic> {
    let instance = root.to_json();
    let mut out = vec![];
    for err in validator().iter_errors(&instance) {
        let pointer = err.instance_path().as_str().to_string();
        let (node, entry) = root.at_pointer(&pointer);
        let span = entry.map(|e| e.value.span).or(node.map(|n| n.span)).unwrap_or_default();
        let where_ = dotted(&pointer);
        let d = match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    let key_span = node.and_then(|n| n.entry(key)).map(|e| e.key_span).unwrap_or(span);
                    let known = known_keys(&pointer);
                    let mut d = Diagnostic::new(Code::SchemaUnknownKey, format!("`{key}` is not a key of {where_}"))
                        .at(key_span, "unknown key");
                    d = match suggest(key, known.iter().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("the keys of {where_} are: {}", known.join(", "))),
                    };
                    out.push(d);
                }
                continue;
            }
            ValidationErrorKind::Required { property } => {
                let prop = property.as_str().unwrap_or_default();
                Diagnostic::new(Code::SchemaRequired, format!("{where_} needs the key `{prop}`"))
                    .at(entry.map(|e| e.key_span).unwrap_or(span), format!("`{prop}` is missing here"))
                    .help(format!("add `{prop}:` under {where_}"))
            }
            ValidationErrorKind::Type { kind } => {
                let found = node.map(Node::type_name).unwrap_or("value");
                Diagnostic::new(Code::SchemaType, format!("{where_} must be {}, not a {found}", type_words(kind)))
                    .at(span, format!("a {found}"))
                    .help("change the value to the expected type")
            }
            ValidationErrorKind::Enum { options } => Diagnostic::new(Code::SchemaEnum, format!("{where_} must be one of {options}"))
                .at(span, "not an allowed value")
                .help(format!("use one of {options}")),
            _ => Diagnostic::new(Code::SchemaInvalid, format!("{where_}: {err}")).at(span, "here"),
        };
        out.push(d);
    }
    out
}

fn type_words(kind: &jsonschema::error::TypeKind) -> String {
    let raw = format!("{kind:?}").to_lowercase();
    let raw = raw.replace("single(", "").replace("multiple(", "").replace(')', "");
    raw.replace("object", "a map").replace("array", "a list")
}
