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
    natscc()
        .current_dir(root())
        .args(["lint", "examples/cpc-1.yaml", "--format", "concise"])
        .assert()
        .code(0);
    natscc()
        .current_dir(root())
        .args([
            "lint",
            "examples/",
            "fixtures/bad/subject-space.yaml",
            "--format",
            "concise",
        ])
        .assert()
        .code(1);
    natscc()
        .current_dir(root())
        .args(["lint", "no/such/*.yaml"])
        .assert()
        .code(2);
    natscc()
        .current_dir(root())
        .args(["lint", "missing.yaml"])
        .assert()
        .code(2);
    // Warnings fail only when denied.
    natscc()
        .current_dir(root())
        .args([
            "lint",
            "fixtures/cpc-cross-layer/values.yaml",
            "--format",
            "concise",
        ])
        .assert()
        .code(0);
    natscc()
        .current_dir(root())
        .args([
            "lint",
            "fixtures/cpc-cross-layer/values.yaml",
            "--format",
            "concise",
            "--deny-warnings",
        ])
        .assert()
        .code(1);
}

#[test]
fn lint_formats() {
    let run = |format: &str| {
        let out = natscc()
            .current_dir(root())
            .args([
                "lint",
                "fixtures/bad/subject-space.yaml",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8(out.stdout).unwrap()
    };
    let concise = run("concise");
    assert!(
        concise
            .lines()
            .any(|l| l.starts_with("fixtures/bad/subject-space.yaml:")
                && l.contains(": error: natscc::values::subject: ")),
        "{concise}"
    );
    let github = run("github");
    assert!(
        github.lines().any(
            |l| l.starts_with("::error file=fixtures/bad/subject-space.yaml,line=")
                && l.contains("natscc::values::subject")
        ),
        "{github}"
    );
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert!(json.as_array().unwrap().iter().any(
        |d| d["code"] == "natscc::values::subject" && d["labels"][0]["line"].as_u64().is_some()
    ));
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    for r in run0["results"].as_array().unwrap() {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[idx]["id"], r["ruleId"],
            "ruleIndex points at the rule"
        );
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
    let human = run("human");
    assert!(
        human.contains("natscc::values::subject") && human.contains("subject-space.yaml"),
        "{human}"
    );
}

#[test]
fn set_and_io_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    // A malformed --set is a usage error, not a finding in the values.
    natscc()
        .current_dir(root())
        .args([
            "compile",
            "-f",
            "examples/cpc-1.yaml",
            "--set",
            "global.eventBus.clusterId",
            "-o",
        ])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("natscc::set::syntax"));
    assert!(!out.exists());
    natscc()
        .current_dir(root())
        .args(["compile", "-f", "nope.yaml", "-o"])
        .arg(&out)
        .assert()
        .code(2);
    assert!(!out.exists());
    natscc()
        .current_dir(root())
        .args([
            "compile",
            "-f",
            "examples/cpc-1.yaml",
            "--set",
            "global.eventBus.clusterId=Edge",
            "--format",
            "concise",
            "-o",
        ])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(
            predicates::str::contains("--set:1:")
                .and(predicates::str::contains("natscc::values::cluster_id")),
        );
}

/// Every file under `dir` (relative path, contents), recursively.
fn tree(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    common::files_under(dir)
        .into_iter()
        .map(|rel| (rel.clone(), std::fs::read(dir.join(&rel)).unwrap()))
        .collect()
}

#[test]
fn compile_replaces_the_output_folder_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    natscc()
        .current_dir(root())
        .args(["compile", "-f", "examples/cpc-1.yaml", "-o"])
        .arg(&out)
        .assert()
        .code(0);
    // Each pod's files where it mounts them.
    for f in [
        "nats/nats-config/nats.conf",
        "nats/nats-accounts/accounts.conf",
        "nats/nats-leafnodes/leafnodes.conf",
    ] {
        assert!(out.join(f).is_file(), "{f} is missing");
    }
    assert!(out.join("nats-mtls/nats-config/nats.conf").is_file());
    assert!(
        out.join("nats-mtls/nats-mtls-accounts/accounts.conf")
            .is_file()
    );
    // mTLS off: the old nats-mtls pod's files, and their folder, must not linger.
    natscc()
        .current_dir(root())
        .args([
            "compile",
            "-f",
            "examples/cpc-1.yaml",
            "--set",
            "global.eventBus.mtls.enabled=false",
            "-o",
        ])
        .arg(&out)
        .assert()
        .code(0);
    assert!(
        !out.join("nats-mtls").exists(),
        "nats-mtls/ lingers: {:?}",
        common::files_under(&out)
    );
    assert!(out.join("nats/nats-config/nats.conf").is_file());
    // A failing compile leaves the folder as it was, every file of the tree.
    let before = tree(&out);
    assert!(before.len() > 3, "{before:?}");
    natscc()
        .current_dir(root())
        .args(["compile", "-f", "fixtures/bad/subject-space.yaml", "-o"])
        .arg(&out)
        .assert()
        .code(1);
    assert_eq!(tree(&out), before);
}

#[test]
fn schema_command_prints_the_schema_file() {
    let out = natscc().arg("schema").output().unwrap();
    assert_eq!(
        out.stdout,
        std::fs::read(root().join("schema/values.schema.json")).unwrap()
    );
}

#[test]
fn pre_commit_manifest_names_existing_commands() {
    let text = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let mut sources = natscc::diag::Sources::default();
    let id = sources.add(natscc::diag::Source::new(".pre-commit-hooks.yaml", text));
    // The crate's YAML loader wants a map at the top; wrap the hook list.
    let (tree, diags) = {
        let wrapped = format!(
            "hooks:\n{}",
            sources
                .get(id)
                .text
                .lines()
                .map(|l| format!("  {l}\n"))
                .collect::<String>()
        );
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
    let generate = || {
        natscc()
            .args([
                "keys",
                "generate",
                "--cpc",
                "1",
                "--cpc",
                "2",
                "--extra-account",
                "Analytics",
                "-o",
            ])
            .arg(&dir)
            .output()
            .unwrap()
    };
    let first = generate();
    assert!(first.status.success());
    let snapshot = |d: &Path| {
        let mut v = vec![];
        for e in walk(d) {
            v.push((
                e.clone(),
                std::fs::read(&e).unwrap(),
                std::fs::metadata(&e).unwrap().permissions().mode() & 0o777,
            ));
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
    assert_eq!(
        std::fs::metadata(dir.join("csc/nats-xkey"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    natscc().args(["keys", "check"]).arg(&dir).assert().code(0);
    // A pubkey that does not match its seed is found.
    std::fs::write(
        dir.join("csc/nats-leaf-cpc-1/pubkey"),
        nkeys::KeyPair::new_user().public_key(),
    )
    .unwrap();
    natscc().args(["keys", "check"]).arg(&dir).assert().code(1);
}

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    let mut entries: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
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

const HOSTNAMES: &str = "natscc::gateway::tlsroute_hostnames";

/// `--allow`, `--warn`, `--deny` and the config file (.natscc.yaml, or --config) on lint,
/// compile and post-render; unknown codes and lowered errors are usage errors.
#[test]
fn per_code_severities_from_flags_and_the_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // The chart's default mqttMtls TLSRoute has no hostnames: one warning on these values.
    std::fs::copy(
        root().join("fixtures/cpc-cross-layer/values.yaml"),
        d.join("values.yaml"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = natscc().current_dir(d).args(args).output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let lint = |extra: &[&str]| {
        run(&[&["lint", "values.yaml", "--format", "concise"][..], extra].concat())
    };
    let (code, out, _) = lint(&["--deny-warnings"]);
    assert!(code == 1 && out.contains(HOSTNAMES), "{out}");
    let (code, out, _) = lint(&["--deny-warnings", "--allow", HOSTNAMES]);
    assert_eq!((code, out.as_str()), (0, ""), "allow drops the findings");
    assert_eq!(
        lint(&["--deny-warnings", "--allow", "gateway::tlsroute_hostnames"]).0,
        0,
        "the natscc:: prefix may be left out"
    );
    let (code, out, _) = lint(&["--deny", HOSTNAMES]);
    assert!(
        code == 1 && out.contains(&format!("error: {HOSTNAMES}")),
        "{out}"
    );
    let (code, out, _) = lint(&["--warn", HOSTNAMES]);
    assert!(
        code == 0 && out.contains(&format!("warning: {HOSTNAMES}")),
        "{out}"
    );
    let (code, _, err) = lint(&["--allow", "natscc::gateway::tlsroute_hostname"]);
    assert!(
        code == 2 && err.contains(&format!("did you mean `{HOSTNAMES}`")),
        "{err}"
    );
    let (code, _, err) = lint(&["--warn", "natscc::graph::cycle"]);
    assert!(code == 2 && err.contains("cannot be lowered"), "{err}");

    // The config file in the current folder: lint and compile read it.
    std::fs::write(
        d.join(".natscc.yaml"),
        format!("# acknowledged: our Gateway API accepts it\nallow: [{HOSTNAMES}]\n"),
    )
    .unwrap();
    assert_eq!(
        lint(&["--deny-warnings"]),
        (0, String::new(), String::new())
    );
    let (code, _, err) = run(&["compile", "-f", "values.yaml", "-o", "out"]);
    assert!(code == 0 && err.is_empty(), "{err}");
    // The command line wins over the file.
    assert_eq!(lint(&["--deny", HOSTNAMES]).0, 1);
    // A config file elsewhere, named with --config; its mistakes are usage errors with a place.
    std::fs::remove_file(d.join(".natscc.yaml")).unwrap();
    std::fs::write(d.join("deny.yaml"), format!("deny:\n  - {HOSTNAMES}\n")).unwrap();
    let (code, _, err) = run(&[
        "compile",
        "-f",
        "values.yaml",
        "-o",
        "out2",
        "--config",
        "deny.yaml",
    ]);
    assert!(
        code == 1 && err.contains(HOSTNAMES) && !d.join("out2").exists(),
        "{err}"
    );
    std::fs::write(
        d.join("typo.yaml"),
        "allow:\n  - natscc::gateway::tlsroute_hostname\n",
    )
    .unwrap();
    let (code, _, err) = lint(&["--config", "typo.yaml"]);
    assert!(
        code == 2 && err.contains("typo.yaml:2:5") && err.contains("did you mean"),
        "{err}"
    );
    std::fs::write(d.join("key.yaml"), "ignore: []\n").unwrap();
    let (code, _, err) = lint(&["--config", "key.yaml"]);
    assert!(code == 2 && err.contains("unknown key `ignore`"), "{err}");
    assert_eq!(lint(&["--config", "missing.yaml"]).0, 2);

    // post-render: a stream without NATS configs warns; denied, it stops the install.
    let stream = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: b}\n";
    let pr = |args: &[&str]| {
        natscc()
            .current_dir(d)
            .arg("post-render")
            .args(args)
            .write_stdin(stream)
            .output()
            .unwrap()
    };
    let out = pr(&[]);
    assert_eq!(
        (out.status.code(), out.stdout.as_slice()),
        (Some(0), stream.as_bytes())
    );
    let out = pr(&["--deny", "natscc::post_render::no_event_bus"]);
    assert!(out.status.code() == Some(1) && out.stdout.is_empty());
    let out = pr(&["--allow", "natscc::post_render::no_event_bus"]);
    assert!(
        out.status.code() == Some(0) && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // natscc rules documents it.
    let (_, rules, _) = run(&["rules"]);
    assert!(
        rules.contains("--allow CODE")
            && rules.contains("--deny CODE")
            && rules.contains(".natscc.yaml"),
        "{rules}"
    );
}

/// The shipped examples compile with no finding at all, and lint --deny-warnings passes.
#[test]
fn the_examples_have_no_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let mut values: Vec<String> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    values.push("examples/operator-mode/values.yaml".into());
    values.sort();
    assert!(values.len() >= 4, "{values:?}");
    for (i, v) in values.iter().enumerate() {
        let out = natscc()
            .current_dir(root())
            .args(["compile", "-f", v, "-o"])
            .arg(tmp.path().join(i.to_string()))
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{v}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = natscc()
        .current_dir(root())
        .args(["lint", "--deny-warnings", "--format", "concise"])
        .args(&values)
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = natscc()
        .current_dir(root())
        .args(["compile", "--fleet", "examples/fleet/fleet.yaml", "-o"])
        .arg(tmp.path().join("fleet"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Each fleet cluster's values, as lint sees them: the shared files merged under each.
    for (with, file) in [
        (&["common.yaml"][..], "csc.yaml"),
        (&["common.yaml", "cpc.yaml"][..], "cpc-1.yaml"),
    ] {
        let mut cmd = natscc();
        cmd.current_dir(root().join("examples/fleet")).args([
            "lint",
            "--deny-warnings",
            "--format",
            "concise",
            file,
        ]);
        for w in with {
            cmd.args(["--with", w]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// The pre-commit hook lints each staged file alone; `--with` gives it the shared files, which
/// are then merged under every file and never linted alone. The README pins a real revision.
#[test]
fn shared_values_files_in_the_pre_commit_hook() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Shared by every CPC; alone it lacks a clusterId.
    std::fs::write(
        d.join("values-common.yaml"),
        "global:\n  eventBus:\n    clusterType: cpc\n    cscEndpoint: nats://csc:7422\n",
    )
    .unwrap();
    std::fs::write(
        d.join("values-cpc.yaml"),
        "global:\n  eventBus:\n    clusterId: \"1\"\n",
    )
    .unwrap();
    let lint = |args: &[&str]| {
        let out = natscc()
            .current_dir(d)
            .args(["lint", "--format", "concise"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    // As pre-commit calls it: the hook's args, then every staged file.
    let (code, out) = lint(&["values-common.yaml", "values-cpc.yaml"]);
    assert_eq!(code, 1, "alone, the shared file is not a cluster: {out}");
    let (code, out) = lint(&[
        "--with",
        "values-common.yaml",
        "values-common.yaml",
        "values-cpc.yaml",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = lint(&["--with", "values-common.yaml", "values-*.yaml"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = lint(&["--with", "values-common.yaml", "values-common.yaml"]);
    assert!(code == 2 && out.contains("pass_filenames: false"), "{out}");

    // The README's example pins a revision that exists: a commit of this repository, or main.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme.find("## Pre-commit").unwrap()..];
    let rev = section
        .lines()
        .find_map(|l| l.trim().strip_prefix("rev: "))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let exists = rev == "main"
        || std::process::Command::new("git")
            .current_dir(root())
            .args(["cat-file", "-e", &format!("{rev}^{{commit}}")])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        exists,
        "README pins `rev: {rev}`, which is no revision of this repository"
    );
    assert!(
        section.contains("--with"),
        "the README shows the hook's --with"
    );
}

/// Only cli.rs turns outcomes into output and exit codes: the commands' modules return what
/// they found and never reach back into the CLI or end the process.
#[test]
fn command_modules_return_outcomes() {
    for file in [
        "src/lint.rs",
        "src/fleet/cli.rs",
        "src/postrender/mod.rs",
        "src/keys.rs",
    ] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        for banned in ["crate::cli", "EXIT_", "process::exit", "ReportArgs"] {
            assert!(!text.contains(banned), "{file} uses `{banned}`");
        }
    }
    // The outcomes themselves, through the library.
    let tmp = tempfile::tempdir().unwrap();
    let checked = natscc::keys::inspect(&tmp.path().join("missing"));
    assert!(
        checked.findings.is_empty()
            && checked
                .errors
                .iter()
                .any(|d| d.code.name() == "natscc::keys::io")
    );
    assert!(
        natscc::lint::run(&["no/such/*.yaml".to_string()], &[])
            .unwrap_err()
            .contains("no file matches")
    );
    let linted = natscc::lint::run(
        &[root()
            .join("fixtures/bad/subject-space.yaml")
            .display()
            .to_string()],
        &[],
    )
    .unwrap();
    assert!(
        linted[0]
            .0
            .iter()
            .any(|d| d.code.name() == "natscc::values::subject")
    );
}

/// The mode is what the values say: a `--set` or a `null` that breaks `global.eventBus` is an
/// error of the event bus, never a quiet compile of the plain NATS chart.
#[test]
fn a_set_never_switches_event_bus_values_to_plain_chart_mode() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    // (`--set global.eventBus=null` is no such case: under `global` Helm keeps the chart's
    // defaults beneath a null, and natscc compiles the chart's default CSC as Helm renders it.)
    for set in ["global=[1]", "[0]=1"] {
        let out = tmp.path().join("out");
        let run = natscc()
            .args(["compile", "-f"])
            .arg(root.join("examples/cpc-1.yaml"))
            .args(["--set", set, "-o"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(1),
            "--set {set}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(!out.exists(), "--set {set} wrote an output");
    }
}
