//! One `natscc lint` over the whole corpus finds exactly what linting each file alone finds.
//! Within one process, rules answer once for subtrees the files share with the defaults, and
//! the subcharts render once (`natscc::memo`); an answer kept for one file and handed to another
//! that differs would show here as a finding missing, added or moved.

mod common;

use common::natscc;
use serde_json::Value;

fn findings(args: &[&std::path::Path]) -> Vec<String> {
    findings_with(args, &[])
}

fn findings_with(args: &[&std::path::Path], with: &[&std::path::Path]) -> Vec<String> {
    let out = natscc()
        .args(["lint", "--format", "json"])
        .args(
            with.iter()
                .flat_map(|w| [std::ffi::OsStr::new("--with"), w.as_os_str()]),
        )
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "lint failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<String> = report
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    // A finding in an input the files share (the chart's defaults) is reported once.
    found.sort();
    found.dedup();
    found
}

#[test]
fn linting_files_together_finds_what_linting_each_alone_finds() {
    // Values files only: manifest streams are the post-renderer's input, not lint's.
    let files: Vec<_> = common::corpus_files()
        .into_iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "streams"))
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            !text.starts_with("apiVersion:") && !text.contains("\n---")
        })
        .collect();
    assert!(files.len() > 100, "the corpus is {} files", files.len());
    let refs: Vec<&std::path::Path> = files.iter().map(|f| f.as_path()).collect();
    let together = findings(&refs);
    let mut alone: Vec<String> = refs.iter().flat_map(|f| findings(&[f])).collect();
    alone.sort();
    alone.dedup();
    assert!(together.len() > 100, "{} findings", together.len());
    if together != alone {
        let missing: Vec<_> = alone.iter().filter(|f| !together.contains(f)).collect();
        let added: Vec<_> = together.iter().filter(|f| !alone.contains(f)).collect();
        panic!(
            "together: {} findings, alone: {}\nmissing together: {missing:#?}\nonly together: \
             {added:#?}",
            together.len(),
            alone.len()
        );
    }
}

/// A companion's subtrees are shared by every file linted with it, findings and all: a clear
/// password and a token, a key the chart ignores, and raw options the server refuses. Each
/// file still gets what it gets alone, and the companion's findings are there.
#[test]
fn a_companions_findings_are_the_same_together_and_alone() {
    let dir = tempfile::tempdir().unwrap();
    let companion = dir.path().join("common.yaml");
    std::fs::write(
        &companion,
        "nats:\n  config:\n    cluster:\n      routeURLs:\n        password: hunter2\n    \
         nosuchkey: true\n    merge:\n      max_payload: lots\n      ping_interval: 7\n\
         auth-callout:\n  serviceConfig:\n    token: s3cret\n",
    )
    .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let files: Vec<_> = [
        "examples/cpc-1.yaml",
        "examples/csc.yaml",
        "fixtures/version-2-15/values.yaml",
        "fixtures/mtls-off/values.yaml",
        "fixtures/cpc-extra-accounts/values.yaml",
        "fixtures/secret-overrides/values.yaml",
    ]
    .iter()
    .map(|f| root.join(f))
    .collect();
    let refs: Vec<&std::path::Path> = files.iter().map(|f| f.as_path()).collect();
    let together = findings_with(&refs, &[&companion]);
    let mut alone: Vec<String> = refs
        .iter()
        .flat_map(|f| findings_with(&[f], &[&companion]))
        .collect();
    alone.sort();
    alone.dedup();
    assert_eq!(together, alone);
    for code in [
        "natscc::secrets::clear_password",
        "natscc::nats_chart::ignored_key",
        "natscc::tunable::type",
    ] {
        assert!(
            together
                .iter()
                .any(|f| f.contains(code) && f.contains("common.yaml")),
            "no {code} in the companion: {together:#?}"
        );
    }
}
