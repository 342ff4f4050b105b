//! Turns the JSON Schemas into Rust statics (`$OUT_DIR/schemas.rs`): the schema a compile
//! applies is then data in the binary, with nothing to parse or allocate at run time (parsing
//! the 40 KB values schema was a tenth of a small compile).

use serde_json::Value;
use std::fmt::Write;

fn emit(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("Json::Null"),
        Value::Bool(b) => write!(out, "Json::Bool({b})").unwrap(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => write!(out, "Json::Int({i})").unwrap(),
            (None, Some(f)) => write!(out, "Json::Float({f:?})").unwrap(),
            (None, None) => panic!("a schema number that is neither i64 nor f64: {n}"),
        },
        Value::String(s) => write!(out, "Json::Str({s:?})").unwrap(),
        Value::Array(items) => {
            out.push_str("Json::Arr(&[");
            for i in items {
                emit(i, out);
                out.push(',');
            }
            out.push_str("])");
        }
        Value::Object(entries) => {
            out.push_str("Json::Obj(&[");
            for (k, v) in entries {
                write!(out, "({k:?},").unwrap();
                emit(v, out);
                out.push_str("),");
            }
            out.push_str("])");
        }
    }
}

fn main() {
    let mut out = String::new();
    for (name, path) in [
        ("VALUES", "schema/values.schema.json"),
        ("FLEET", "schema/fleet.schema.json"),
    ] {
        println!("cargo:rerun-if-changed={path}");
        let text = std::fs::read_to_string(path).expect("schema file");
        let v: Value = serde_json::from_str(&text).expect("schema is JSON");
        write!(out, "pub static {name}: Json = ").unwrap();
        emit(&v, &mut out);
        out.push_str(";\n");
    }
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("schemas.rs");
    std::fs::write(dest, out).unwrap();
}
