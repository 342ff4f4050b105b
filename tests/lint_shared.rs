//! One `natscc lint` over the whole corpus finds exactly what linting each file alone finds.
//! Within one process, rules answer once for subtrees the files share with the defaults, and
//! the subcharts render once (`natscc::memo`); an answer kept for one file and handed to another
//! that differs would show here as a finding missing, added or moved. The last two tests hold
//! the rules themselves to that on one subtree shared in two places, and for two releases:
//! each fails when the memo's key leaves out the place or the release.

mod common;

use common::natscc;
use natscc::load::{Entry, Node, V};
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

/// The same tree with nothing shared: every list and map rebuilt, so no rule finds a subtree
/// it has answered before.
fn unshared(n: &Node) -> Node {
    let v = match &n.v {
        V::Seq(items) => V::Seq(items.iter().map(unshared).collect::<Vec<_>>().into()),
        V::Map(entries) => V::Map(
            entries
                .iter()
                .map(|e| Entry {
                    key: e.key.clone(),
                    key_span: e.key_span,
                    value: unshared(&e.value),
                })
                .collect::<Vec<_>>()
                .into(),
        ),
        other => other.clone(),
    };
    Node::new(v, n.span)
}

fn parsed(text: &str) -> Node {
    let mut sources = natscc::diag::Sources::default();
    let id = sources.add(natscc::diag::Source::new("shared.yaml", text));
    natscc::load::yaml::parse(id, &sources).0.unwrap()
}

/// One subtree under two keys (as a companion's section sits in many files' trees): each place
/// gets its own findings, named by its own path, as if nothing were shared, on first asking and
/// on every later one.
#[test]
fn a_shared_subtree_is_judged_in_each_place_it_sits() {
    let section = parsed("password: hunter2\nurl: nats://me:secret@example.com:4222\n");
    let mut root = Node::map(Default::default());
    if let V::Map(entries) = &mut root.v {
        for key in ["first", "second"] {
            std::sync::Arc::make_mut(entries).push(Entry {
                key: key.into(),
                key_span: Default::default(),
                value: section.clone(),
            });
        }
    }
    let alone = natscc::check::secrets::passwords(&unshared(&root));
    assert_eq!(alone.len(), 4, "{alone:#?}");
    for _ in 0..3 {
        assert_eq!(
            debug(&natscc::check::secrets::passwords(&root)),
            debug(&alone)
        );
    }
    let messages: Vec<&str> = alone.iter().map(|d| d.message.as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("`first.password`")));
    assert!(messages.iter().any(|m| m.contains("`second.password`")));
}

/// One shared `config` judged for two deployed releases: an option 2.12.6 refuses and 2.14.0
/// reads is refused for the one and accepted for the other, whichever is asked first.
#[test]
fn a_shared_config_is_judged_by_each_release() {
    use natscc::server_version::{Deployed, Version};
    let config = parsed("jetstream:\n  merge:\n    info_queue_limit: 5000\n");
    // Held twice, so it is shared as the defaults' subtrees are.
    let _held = config.clone();
    let deployed = |minor| Deployed {
        version: Version {
            major: 2,
            minor,
            patch: if minor == 12 { 6 } else { 1 },
        },
        from: "the test".into(),
        span: None,
    };
    let judge = |config: &Node, minor| {
        let mut out = vec![];
        natscc::check::server_conf::config(config, "nats.config", &deployed(minor), &mut out);
        out
    };
    let (old_alone, new_alone) = (judge(&unshared(&config), 12), judge(&unshared(&config), 15));
    assert_eq!(old_alone.len(), 1, "{old_alone:#?}");
    assert!(new_alone.is_empty(), "{new_alone:#?}");
    for _ in 0..2 {
        assert_eq!(debug(&judge(&config, 15)), debug(&new_alone));
        assert_eq!(debug(&judge(&config, 12)), debug(&old_alone));
    }
}

fn debug(found: &[natscc::diag::Diagnostic]) -> String {
    format!("{found:#?}")
}
