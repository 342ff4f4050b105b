//! The JSON Schemas as data built into the binary (`build.rs` writes them from `schema/`):
//! a compile applies the schema without parsing or allocating it.

use serde_json::Value;

/// A JSON value whose every part is `'static`. Object keys keep the files' order as
/// serde_json reads it (sorted), so "did you mean" lists read the same as before.
#[derive(Debug)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'static str),
    Arr(&'static [Json]),
    Obj(&'static [(&'static str, Json)]),
}

include!(concat!(env!("OUT_DIR"), "/schemas.rs"));

impl Json {
    pub fn get(&self, key: &str) -> Option<&'static Json> {
        self.as_object()?
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
    pub fn as_object(&self) -> Option<&'static [(&'static str, Json)]> {
        match self {
            Json::Obj(o) => Some(o),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&'static [Json]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&'static str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Int(i) => Some(*i as f64),
            Json::Float(f) => Some(*f),
            _ => None,
        }
    }
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        }
    }
    /// The value at a JSON pointer (`/definitions/port`), as `$ref`s name them.
    pub fn pointer(&'static self, pointer: &str) -> Option<&'static Json> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut at = self;
        for token in pointer.strip_prefix('/')?.split('/') {
            let token = token.replace("~1", "/").replace("~0", "~");
            at = match at {
                Json::Obj(_) => at.get(&token)?,
                Json::Arr(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(at)
    }
    /// As a serde_json value: for findings that quote the schema, and for tests.
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::from(*i),
            Json::Float(f) => Value::from(*f),
            Json::Str(s) => Value::from(*s),
            Json::Arr(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Obj(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}
