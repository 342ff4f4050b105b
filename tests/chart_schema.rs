//! schema/nats-chart.schema.json: generated from the key table plain-chart mode checks with
//! (src/chart/keys.rs), printed by `natscc schema --chart`, and held to that table: every good
//! chart fixture validates, and what the table refuses the schema refuses too.

mod common;

use common::natscc;
use natscc::chart::keys;
use natscc::diag::{Code, Sources};
use natscc::load::{self, Node, V};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/nats-chart.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the chart schema compiles")
}

/// A values file as compile reads it: alone, and merged over the chart's defaults (None when
/// it is no YAML map: some bad fixtures are exactly that).
fn try_load(file: &Path) -> Option<(Node, Node)> {
    let mut sources = Sources::default();
    let id = load::add_file(
        &mut sources,
        "values.yaml",
        std::fs::read_to_string(file).unwrap(),
    );
    let alone = load::yaml::parse(id, &sources).0?;
    let inputs = load::Inputs {
        files: vec![file.to_path_buf()],
        ..Default::default()
    };
    let mut sources = Sources::default();
    let merged = load::load_plain(&inputs, &mut sources).0?;
    Some((alone, merged))
}

fn load(file: &Path) -> (Node, Node) {
    try_load(file).unwrap_or_else(|| panic!("{} does not load", file.display()))
}

fn is_plain(values: &Node) -> bool {
    values.path(&["global", "eventBus"]).is_none()
}

/// The values files of the good cases and the examples that are plain-chart values.
fn good_chart_files() -> Vec<PathBuf> {
    let mut out = vec![];
    for dir in ["fixtures", "examples"] {
        let mut stack = vec![root().join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                // fixtures/chart-ref holds event-bus cases only: values (some, like zz-jwks.yaml,
                // only a subchart's part of them) and the streams Helm renders from them.
                if p.is_dir()
                    && !matches!(name.as_str(), "bad" | "post-render" | "jwt" | "chart-ref")
                {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "yaml")
                    // A fleet file, and the Helm output streams of fixtures/chart-ref/*/, are no
                    // values.
                    && !matches!(name.as_str(), "fleet.yaml" | "rendered.yaml")
                    && is_plain(&load(&p).0)
                {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_schema_file_is_what_natscc_prints() {
    let file = std::fs::read_to_string(root().join("schema/nats-chart.schema.json")).unwrap();
    assert_eq!(
        file,
        keys::json_schema_text(),
        "schema/nats-chart.schema.json is stale: run `natscc schema --chart > schema/nats-chart.schema.json`"
    );
    let out = natscc().args(["schema", "--chart"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), file);
}

#[test]
fn every_good_chart_fixture_validates() {
    let v = validator();
    let files = good_chart_files();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    for case in [
        "fixtures/chart-plain/values.yaml",
        "fixtures/operator-mode/values.yaml",
        "fixtures/tls-roles/values.yaml",
        "examples/tls-roles.yaml",
    ] {
        assert!(
            names.iter().any(|n| n == case),
            "{case} is not among the chart fixtures: {names:?}"
        );
    }
    for file in &files {
        let (alone, merged) = load(file);
        for (what, values) in [("alone", alone), ("over the chart defaults", merged)] {
            let errors: Vec<String> = v
                .iter_errors(&values.to_json())
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{} ({what}) does not validate:\n{}",
                file.display(),
                errors.join("\n")
            );
        }
    }
    // The built-in defaults are chart values too.
    let mut sources = Sources::default();
    let id = load::add_file(
        &mut sources,
        "nats.yaml",
        load::NATS_CHART_DEFAULTS.to_string(),
    );
    let defaults = load::yaml::parse(id, &sources).0.unwrap();
    assert!(
        v.is_valid(&defaults.to_json()),
        "src/load/defaults/nats.yaml does not validate"
    );
}

/// The key-table findings natscc reports on chart values (not the rendering rules).
fn table_findings(values: &Node) -> Vec<String> {
    let deployed = natscc::server_version::Deployed::chart_default("the chart's default");
    natscc::check::nats_chart::schema::check(values, &Sources::default(), &deployed)
        .into_iter()
        .filter(|d| {
            matches!(
                d.code,
                Code::ChartType | Code::ChartLegacyKey | Code::NatsccKey
            ) || (d.code == Code::IgnoredChartKey
                && d.message.starts_with("the NATS chart does not read"))
        })
        .map(|d| d.message)
        .collect()
}

#[test]
fn bad_chart_fixtures_of_the_key_table_fail_the_schema() {
    let v = validator();
    let mut checked = 0;
    for e in std::fs::read_dir(root().join("fixtures/bad")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "yaml") {
            continue;
        }
        let Some((alone, _)) = try_load(&p) else {
            continue;
        };
        if !is_plain(&alone) || table_findings(&alone).is_empty() {
            continue;
        }
        checked += 1;
        assert!(
            !v.is_valid(&alone.to_json()),
            "{}: natscc refuses it ({:?}) but the schema accepts it",
            p.display(),
            table_findings(&alone)
        );
    }
    assert!(
        checked >= 3,
        "only {checked} bad chart fixtures concern the key table"
    );
}

/// Renaming any key of a good fixture's `config`, `tlsCA` or `natscc` (at any depth below a
/// closed map) makes natscc report it and the schema refuse it; retyping a leaf to a map does
/// too, unless its key takes anything.
#[test]
fn the_schema_and_the_key_table_agree_key_by_key() {
    let v = validator();
    let mut mutations = 0;
    for file in good_chart_files() {
        let (alone, _) = load(&file);
        for path in map_key_paths(&alone, &mut vec![]) {
            let top = path[0].as_str();
            if !matches!(top, "config" | "tlsCA" | "natscc") || under_free(&path) {
                continue;
            }
            let mut renamed = alone.clone();
            rename(&mut renamed, &path);
            let ours = table_findings(&renamed);
            let theirs = v.is_valid(&renamed.to_json());
            assert!(
                !ours.is_empty() && !theirs,
                "{}: renaming {} — natscc {:?}, schema valid: {theirs}",
                file.display(),
                path.join("."),
                ours
            );
            mutations += 1;
        }
    }
    assert!(mutations > 40, "only {mutations} mutations");
}

/// Paths of every map key, depth first.
fn map_key_paths(n: &Node, at: &mut Vec<String>) -> Vec<Vec<String>> {
    let mut out = vec![];
    if let V::Map(es) = &n.v {
        for e in es.iter() {
            at.push(e.key.clone());
            out.push(at.clone());
            out.extend(map_key_paths(&e.value, at));
            at.pop();
        }
    }
    out
}

/// Whether a path runs through content the chart passes on as it is (`merge`, `patch`,
/// Kubernetes objects, natscc's pushed accounts).
fn under_free(path: &[String]) -> bool {
    path.iter()
        .any(|p| matches!(p.as_str(), "merge" | "patch" | "ingress" | "pushedAccounts"))
}

fn rename(n: &mut Node, path: &[String]) {
    let V::Map(es) = &mut n.v else { return };
    let es = std::sync::Arc::make_mut(es);
    let Some(e) = es.iter_mut().find(|e| e.key == path[0]) else {
        return;
    };
    if path.len() == 1 {
        e.key.push_str("Typo");
    } else {
        rename(&mut e.value, &path[1..]);
    }
}
