//! The SARIF natscc writes is valid SARIF 2.1.0: `natscc lint --format sarif` on good and bad
//! values files, and `natscc post-render --format sarif` on a refused stream, are validated
//! against the schema vendored in tests/data.

mod common;

use common::natscc;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validate(what: &str, sarif: &[u8]) -> serde_json::Value {
    // The rtm.5 text carries a `language` pattern that is no valid regex (a stray `]`); it is
    // read with the pattern it means (two letters, optionally `-` and two more). Nothing else
    // changes.
    let text = std::fs::read_to_string(root().join("tests/data/sarif-2.1.0-rtm.5.json")).unwrap();
    let broken = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(
        text.matches(broken).count(),
        2,
        "the vendored schema is the rtm.5 text"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&text.replace(broken, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#)).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let doc: serde_json::Value =
        serde_json::from_slice(sarif).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: SARIF does not validate:\n{}",
        errors.join("\n")
    );
    doc
}

#[test]
fn lint_sarif_validates_against_the_sarif_2_1_0_schema() {
    // Good and bad values files in one run: findings with related locations, and clean files.
    let out = natscc()
        .current_dir(root().join("fixtures"))
        .args([
            "lint",
            "--format",
            "sarif",
            "csc-full/values.yaml",
            "cpc-cross-layer/values.yaml",
            "bad/",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc = validate("lint of good and bad files", &out.stdout);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.len() >= 40,
        "every bad file reports: {}",
        results.len()
    );
    assert!(
        results.iter().any(|r| r.get("relatedLocations").is_some()),
        "some findings point at two places"
    );
    assert!(
        results.iter().any(|r| r["level"] == "warning")
            && results.iter().any(|r| r["level"] == "error")
    );
    // A run without errors is valid SARIF too (the chart defaults' warnings only).
    let out = natscc()
        .current_dir(root().join("fixtures"))
        .args(["lint", "--format", "sarif", "csc-minimal/values.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = validate("clean lint", &out.stdout);
    assert!(
        doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["level"] == "warning")
    );
}

#[test]
fn post_render_sarif_validates_too() {
    let stream = std::fs::read_to_string(root().join("fixtures/post-render/stream.yaml"))
        .unwrap()
        .replacen("        { stream: \"csc2cpc.1.>\" }\n", "", 1);
    let out = natscc()
        .args(["post-render", "--format", "sarif"])
        .write_stdin(stream)
        .output()
        .unwrap();
    assert_eq!((out.status.code(), out.stdout.len()), (Some(1), 0));
    let doc = validate("post-render", &out.stderr);
    // Standard input is no file: a named input, not a URI a viewer would try to open.
    let artifact =
        &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(
        (artifact["uri"].as_str(), artifact["uriBaseId"].as_str()),
        (Some("stdin"), Some("NATSCC_INPUT")),
        "{artifact}"
    );
}

/// Relative paths are relative URIs on `%SRCROOT%` (the folder natscc ran in, given in
/// originalUriBaseIds), absolute paths are file URIs; both percent-encoded.
#[test]
fn sarif_locations_are_uris() {
    let tmp = tempfile::tempdir().unwrap();
    let odd = tmp.path().join("envs/a b");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::copy(
        root().join("fixtures/bad/subject-space.yaml"),
        odd.join("values,1:x%.yaml"),
    )
    .unwrap();
    let out = natscc()
        .current_dir(tmp.path())
        .args(["lint", "--format", "sarif", "envs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc = validate("lint of an oddly named file", &out.stdout);
    let run = &doc["runs"][0];
    let located: Vec<&serde_json::Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["locations"][0]["physicalLocation"]["artifactLocation"])
        .collect();
    let file = located
        .iter()
        .find(|a| a["uriBaseId"] == "%SRCROOT%")
        .expect("a finding in the linted file");
    assert_eq!(file["uri"], "envs/a%20b/values,1%3Ax%25.yaml");
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    // The chart defaults are no file of the repository.
    assert!(
        located
            .iter()
            .filter(|a| a["uriBaseId"] != "%SRCROOT%")
            .all(|a| a["uriBaseId"] == "NATSCC_INPUT" && !a["uri"].as_str().unwrap().contains('<'))
    );
    let abs = odd.join("values,1:x%.yaml");
    let out = natscc()
        .args(["lint", "--format", "sarif"])
        .arg(&abs)
        .output()
        .unwrap();
    let doc = validate("lint of an absolute path", &out.stdout);
    let uris: Vec<String> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert!(
        uris.iter()
            .any(|u| u.starts_with("file:///") && u.ends_with("/envs/a%20b/values,1%3Ax%25.yaml")),
        "{uris:?}"
    );
}
