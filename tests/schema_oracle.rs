//! natscc applies `schema/values.schema.json` and `schema/fleet.schema.json` with its own small
//! interpreter (fast to start). These tests hold it to the `jsonschema` crate's verdicts: on
//! every fixture, good and bad, and on hundreds of files made by mutating them at random.

use natscc::check::schema::{Finding, SCHEMA_TEXT, schema_json, unsupported_keywords, validate};
use natscc::check::schema_data::{FLEET, Json};
use natscc::diag::Sources;
use natscc::load::{self, Node};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// One violation reduced to what both validators can name: where, and which keyword.
fn ours(root: &Node) -> BTreeSet<(String, String)> {
    ours_with(schema_json(), root)
}

fn ours_with(schema: &'static Json, root: &Node) -> BTreeSet<(String, String)> {
    validate(schema, root)
        .into_iter()
        .map(|e| {
            let what = match e.finding {
                Finding::Unknown(mut keys) => {
                    keys.sort();
                    format!("unknown {}", keys.join(","))
                }
                Finding::Required(p) => format!("required {p}"),
                Finding::Type(_) => "type".into(),
                Finding::Enum(_) => "enum".into(),
                Finding::Const(_) => "const".into(),
                Finding::Pattern(_) => "pattern".into(),
                Finding::Minimum(_) => "minimum".into(),
                Finding::Maximum(_) => "maximum".into(),
                Finding::MinLength(_) => "minLength".into(),
                Finding::MinItems(_) => "minItems".into(),
                Finding::BadRef(r) => format!("bad ref {r}"),
            };
            (e.pointer, what)
        })
        .collect()
}

fn oracle(instance: &Value) -> BTreeSet<(String, String)> {
    oracle_with(&values_schema(), instance)
}

fn oracle_with(schema: &Value, instance: &Value) -> BTreeSet<(String, String)> {
    use jsonschema::error::ValidationErrorKind as K;
    let validator = jsonschema::validator_for(schema).expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| {
            let what = match e.kind() {
                K::AdditionalProperties { unexpected } => {
                    let mut keys = unexpected.clone();
                    keys.sort();
                    format!("unknown {}", keys.join(","))
                }
                K::Required { property } => {
                    format!("required {}", property.as_str().unwrap_or_default())
                }
                K::Type { .. } => "type".into(),
                K::Enum { .. } => "enum".into(),
                K::Constant { .. } => "const".into(),
                K::Pattern { .. } => "pattern".into(),
                K::Minimum { .. } => "minimum".into(),
                K::Maximum { .. } => "maximum".into(),
                K::MinLength { .. } => "minLength".into(),
                K::MinItems { .. } => "minItems".into(),
                other => format!("unexpected kind {other:?}"),
            };
            (e.instance_path().as_str().to_string(), what)
        })
        .collect()
}

fn parse(text: &str) -> Option<Node> {
    let mut sources = Sources::default();
    let id = load::add_file(&mut sources, "case.yaml", text.to_string());
    load::yaml::parse(id, &sources).0
}

fn fixture_files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut out = vec![];
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn fleet_schema() -> Value {
    serde_json::from_str(natscc::fleet::load::SCHEMA_TEXT).unwrap()
}

fn values_schema() -> Value {
    serde_json::from_str(SCHEMA_TEXT).unwrap()
}

#[test]
fn the_schemas_use_only_keywords_the_interpreter_applies() {
    assert_eq!(unsupported_keywords(schema_json()), Vec::<String>::new());
    assert_eq!(unsupported_keywords(&FLEET), Vec::<String>::new());
}

/// The schemas built into the binary are the schema files, value for value.
#[test]
fn the_built_in_schemas_are_the_files() {
    assert_eq!(schema_json().to_value(), values_schema());
    assert_eq!(FLEET.to_value(), fleet_schema());
}

/// Every fleet file in the repository (the example and each bad fleet).
fn fleet_files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![root.join("examples/fleet/fleet.yaml")];
    for entry in std::fs::read_dir(root.join("fixtures/bad/fleet")).unwrap() {
        let f = entry.unwrap().path().join("fleet.yaml");
        if f.exists() {
            out.push(f);
        }
    }
    out.sort();
    out
}

#[test]
fn agrees_with_jsonschema_on_every_fleet_file() {
    let schema = fleet_schema();
    let files = fleet_files();
    assert!(files.len() > 10);
    for file in files {
        let root = parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(
            ours_with(&FLEET, &root),
            oracle_with(&schema, &root.to_json()),
            "{}",
            file.display()
        );
    }
}

#[test]
fn agrees_with_jsonschema_on_every_fixture() {
    let mut compared = 0;
    for file in fixture_files() {
        // Each file alone and merged over the chart defaults, as compile sees it.
        let inputs = load::Inputs {
            files: vec![file.clone()],
            ..Default::default()
        };
        let mut sources = Sources::default();
        let (merged, _) = load::load(&inputs, &mut sources);
        let single = parse(&std::fs::read_to_string(&file).unwrap());
        for root in [merged, single].into_iter().flatten() {
            assert_eq!(ours(&root), oracle(&root.to_json()), "{}", file.display());
            compared += 1;
        }
    }
    assert!(compared > 40, "only {compared} fixture trees compared");
}

/// A random JSON value, small, with the types and near-miss values the schema cares about.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..70_000).prop_map(|n| json!(n)),
        Just(json!(1.5)),
        Just(json!(2.0)),
        prop::sample::select(vec![
            "csc",
            "cpc",
            "1",
            "Abc",
            "a-b",
            "10s",
            "1h30m",
            "0",
            "x",
            "",
            "TLSRoute",
            "TCPRoute",
            "nats://h:7422"
        ])
        .prop_map(|s| json!(s)),
        Just(json!([])),
        Just(json!({})),
        Just(json!(["a", 1])),
        Just(json!({"clusterType": "cpc"})),
        Just(json!({"enabled": "yes", "bogus": 1})),
    ]
}

/// Every path (as keys and indices) to a node of a JSON value.
fn paths(v: &Value, here: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(here.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                here.push(json!(k));
                paths(child, here, out);
                here.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                here.push(json!(i));
                paths(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(v, |v, step| match step {
        Value::String(k) => &mut v[k.as_str()],
        Value::Number(i) => &mut v[i.as_u64().unwrap() as usize],
        _ => unreachable!(),
    })
}

fn good_trees() -> Vec<Value> {
    fixture_files()
        .into_iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "bad"))
        .filter_map(|f| {
            let inputs = load::Inputs {
                files: vec![f],
                ..Default::default()
            };
            let mut sources = Sources::default();
            load::load(&inputs, &mut sources).0.map(|n| n.to_json())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn agrees_with_jsonschema_on_mutated_values(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), leaf(), 0u8..3), 1..4),
    ) {
        let trees = good_trees();
        let mut value = trees[pick.index(trees.len())].clone();
        for (at, new, how) in edits {
            let mut all = vec![];
            paths(&value, &mut vec![], &mut all);
            // The top level stays a mapping: anything else is refused before the schema runs.
            all.retain(|p| !p.is_empty() || how == 0);
            let path = all[at.index(all.len())].clone();
            let target = at_mut(&mut value, &path);
            match (how, target) {
                // Add a key next to the existing ones (a typo, or a misplaced setting).
                (0, Value::Object(m)) => { m.insert("enabeld".into(), new); }
                // Drop a key (a required one, sometimes).
                (1, Value::Object(m)) => { if let Some(k) = m.keys().next().cloned() { m.remove(&k); } }
                (_, t) => *t = new,
            }
        }
        // JSON text is YAML, so the interpreter sees it through natscc's own reader.
        let root = parse(&value.to_string()).expect("JSON is YAML");
        prop_assert_eq!(ours(&root), oracle(&root.to_json()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn agrees_with_jsonschema_on_mutated_fleet_files(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), leaf(), 0u8..3), 1..4),
    ) {
        let schema = fleet_schema();
        let files = fleet_files();
        let text = std::fs::read_to_string(&files[pick.index(files.len())]).unwrap();
        let mut value = parse(&text).unwrap().to_json();
        for (at, new, how) in edits {
            let mut all = vec![];
            paths(&value, &mut vec![], &mut all);
            all.retain(|p| !p.is_empty() || how == 0);
            let path = all[at.index(all.len())].clone();
            match (how, at_mut(&mut value, &path)) {
                (0, Value::Object(m)) => { m.insert("enabeld".into(), new); }
                (1, Value::Object(m)) => { if let Some(k) = m.keys().next().cloned() { m.remove(&k); } }
                (_, t) => *t = new,
            }
        }
        let root = parse(&value.to_string()).expect("JSON is YAML");
        prop_assert_eq!(ours_with(&FLEET, &root), oracle_with(&schema, &root.to_json()));
    }
}
