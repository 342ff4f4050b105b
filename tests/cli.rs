//! The command line as users meet it: exit codes, lint formats, schema, pre-commit manifest.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

mod common;

fn natscc() -> Command {
    Command::cargo_bin("natscc").unwrap()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn lint_exit_codes() {
    natscc().current_dir(root()).args(["lint", "examples/cpc-1.yaml", "--format", "concise"]).assert().code(0);
    natscc().current_dir(root()).args(["lint", "examples/", "fixtures/bad/subject-space.yaml", "--format", "concise"]).assert().code(1);
    natscc().current_dir(root()).args(["lint", "no/such/*.yaml"]).assert().code(2);
    natscc().current_dir(root()).args(["lint", "missing.yaml"]).assert().code(2);
    // Warnings fail only when denied.
    natscc().current_dir(root()).args(["lint", "examples/csc.yaml", "--format", "concise"]).assert().code(0);
    natscc().current_dir(root()).args(["lint", "examples/csc.yaml", "--format", "concise", "--deny-warnings"]).assert().code(1);
}

#[test]
fn lint_formats() {
    let run = |format: &str| {
        let out = natscc().current_dir(root()).args(["lint", "fixtures/bad/subject-space.yaml", "--format", format]).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stdout).unwrap()
    };
    let concise = run("concise");
    assert!(concise.lines().any(|l| l.starts_with("fixtures/bad/subject-space.yaml:") && l.contains(": error: natscc::values::subject: ")), "{concise}");
    let github = run("github");
    assert!(github.lines().any(|l| l.starts_with("::error file=fixtures/bad/subject-space.yaml,line=") && l.contains("natscc::values::subject")), "{github}");
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert!(json.as_array().unwrap().iter().any(|d| d["code"] == "natscc::values::subject" && d["labels"][0]["line"].as_u64().is_some()));
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    for r in run0["results"].as_array().unwrap() {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"], "ruleIndex points at the rule");
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    let human = run("human");
    assert!(human.contains("natscc::values::subject") && human.contains("subject-space.yaml"), "{human}");
}

#[test]
fn set_and_io_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    natscc().current_dir(root()).args(["compile", "-f", "examples/cpc-1.yaml", "--set", "global.eventBus.clusterId", "-o"]).arg(&out).assert().code(1);
    assert!(!out.exists());
    natscc().current_dir(root()).args(["compile", "-f", "nope.yaml", "-o"]).arg(&out).assert().code(2);
    assert!(!out.exists());
    natscc()
        .current_dir(root())
        .args(["compile", "-f", "examples/cpc-1.yaml", "--set", "global.eventBus.clusterId=Edge", "--format", "concise", "-o"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("--set:1:").and(predicates::str::contains("natscc::values::cluster_id")));
}

/// Every file under `dir` (relative path, contents), recursively.
fn tree(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    common::files_under(dir).into_iter().map(|rel| (rel.clone(), std::fs::read(dir.join(&rel)).unwrap())).collect()
}

#[test]
fn compile_replaces_the_output_folder_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    natscc().current_dir(root()).args(["compile", "-f", "examples/cpc-1.yaml", "-o"]).arg(&out).assert().code(0);
    // Each pod's files where it mounts them.
    for f in ["nats/nats-config/nats.conf", "nats/nats-accounts/accounts.conf", "nats/nats-leafnodes/leafnodes.conf"] {
        assert!(out.join(f).is_file(), "{f} is missing");
    }
    assert!(out.join("nats-mtls/nats-config/nats.conf").is_file());
    assert!(out.join("nats-mtls/nats-mtls-accounts/accounts.conf").is_file());
    // mTLS off: the old nats-mtls pod's files, and their folder, must not linger.
    natscc().current_dir(root()).args(["compile", "-f", "examples/cpc-1.yaml", "--set", "global.eventBus.mtls.enabled=false", "-o"]).arg(&out).assert().code(0);
    assert!(!out.join("nats-mtls").exists(), "nats-mtls/ lingers: {:?}", common::files_under(&out));
    assert!(out.join("nats/nats-config/nats.conf").is_file());
    // A failing compile leaves the folder as it was, every file of the tree.
    let before = tree(&out);
    assert!(before.len() > 3, "{before:?}");
    natscc().current_dir(root()).args(["compile", "-f", "fixtures/bad/subject-space.yaml", "-o"]).arg(&out).assert().code(1);
    assert_eq!(tree(&out), before);
}

#[test]
fn schema_command_prints_the_schema_file() {
    let out = natscc().arg("schema").output().unwrap();
    assert_eq!(out.stdout, std::fs::read(root().join("schema/values.schema.json")).unwrap());
}

#[test]
fn pre_commit_manifest_names_existing_commands() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let mut sources = natscc::diag::Sources::default();
    let id = sources.add(natscc::diag::Source::new(".pre-commit-hooks.yaml", text));
    // The crate's YAML loader wants a map at the top; wrap the hook list.
    let (tree, diags) = {
        let wrapped = format!("hooks:\n{}", sources.get(id).text.lines().map(|l| format!("  {l}\n")).collect::<String>());
        let id = sources.add(natscc::diag::Source::new("wrapped", wrapped));
        natscc::load::yaml::parse(id, &sources)
    };
    assert!(diags.is_empty(), "{diags:?}");
    let hooks = tree.unwrap();
    let hooks = hooks.get("hooks").unwrap().items();
    assert!(hooks.len() >= 2);
    for h in hooks {
        let entry = h.get("entry").unwrap().as_str().unwrap();
        let mut words = entry.split_whitespace();
        assert_eq!(words.next(), Some("natscc"));
        let sub = words.next().unwrap();
        natscc().args([sub, "--help"]).assert().code(0);
    }
}

#[test]
fn keys_generate_is_stable_and_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys");
    let generate = || natscc().args(["keys", "generate", "--cpc", "1", "--cpc", "2", "--extra-account", "Analytics", "-o"]).arg(&dir).output().unwrap();
    let first = generate();
    assert!(first.status.success());
    let snapshot = |d: &Path| {
        let mut v = vec![];
        for e in walk(d) {
            v.push((e.clone(), std::fs::read(&e).unwrap(), std::fs::metadata(&e).unwrap().permissions().mode() & 0o777));
        }
        v
    };
    let a = snapshot(&dir);
    assert!(generate().status.success());
    assert_eq!(a, snapshot(&dir), "a second run changes no byte");
    for (path, bytes, mode) in &a {
        assert_eq!(*mode, 0o600, "{}", path.display());
        // No seed is ever printed.
        let text = String::from_utf8_lossy(bytes).trim().to_string();
        if text.starts_with('S') {
            assert!(!String::from_utf8_lossy(&first.stdout).contains(&text));
        }
    }
    assert_eq!(std::fs::metadata(dir.join("csc/nats-xkey")).unwrap().permissions().mode() & 0o777, 0o700);
    natscc().args(["keys", "check"]).arg(&dir).assert().code(0);
    // A pubkey that does not match its seed is found.
    std::fs::write(dir.join("csc/nats-leaf-cpc-1/pubkey"), nkeys::KeyPair::new_user().public_key()).unwrap();
    natscc().args(["keys", "check"]).arg(&dir).assert().code(1);
}

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let mut entries: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
