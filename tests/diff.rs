//! `natscc diff`: the expected plan of every fixture pair (fixtures/diff/<case>/{old,new}.yaml
//! -> golden/diff/<case>/plan.{txt,json,md}; `NATSCC_BLESS=1` re-blesses), the same plan from
//! Helm's own render of the old values (`--from-manifest`, the event-bus chart copied in
//! tests/data/event-bus-chart, rendered by scripts/helm_template.py), `--from-rev` from a git
//! repository, fleets, exit codes, and new values with errors refused before any plan.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("fixtures/diff"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("old.yaml").is_file())
        .collect();
    v.sort();
    v
}

/// natscc diff with these arguments in `dir`: (exit code, stdout, stderr).
fn diff(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = common::natscc()
        .current_dir(dir)
        .arg("diff")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn bless() -> bool {
    std::env::var_os("NATSCC_BLESS").is_some_and(|v| v == "1")
}

#[test]
fn every_fixture_pair_gives_its_golden_plan() {
    let mut failures = vec![];
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let golden = repo().join("golden/diff").join(&name);
        for (format, file) in [
            ("human", "plan.txt"),
            ("json", "plan.json"),
            ("markdown", "plan.md"),
        ] {
            let (code, out, err) = diff(
                &case,
                &["--from", "old.yaml", "-f", "new.yaml", "--format", format],
            );
            assert!(
                [0, 2, 3].contains(&code),
                "{name}: natscc diff exited {code}:\n{err}"
            );
            let path = golden.join(file);
            if bless() {
                std::fs::create_dir_all(&golden).unwrap();
                std::fs::write(&path, &out).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_default();
            if want != out {
                failures.push(format!(
                    "{name}/{file}: {}",
                    common::first_difference(&out, &want)
                ));
            }
            if format == "json" {
                let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
                assert_eq!(doc["exit_code"], code, "{name}: the JSON's exit code");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Renders each case's old values with Helm's engine and the event-bus chart copied in
/// tests/data (one process); returns each case's rendered stream.
fn helm_render(tmp: &Path, cases: &[PathBuf]) -> Vec<PathBuf> {
    let dirs: Vec<PathBuf> = cases
        .iter()
        .map(|c| {
            let d = tmp.join(c.file_name().unwrap());
            std::fs::create_dir_all(&d).unwrap();
            std::fs::copy(c.join("old.yaml"), d.join("values.yaml")).unwrap();
            d
        })
        .collect();
    let release = ["--release", "nats-event-bus", "-n", "nats"];
    common::helm_template("tests/data/event-bus-chart", &release, &dirs);
    dirs.iter().map(|d| d.join("rendered.yaml")).collect()
}

#[test]
fn from_manifest_of_helms_render_gives_the_plan_of_from_values() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = cases();
    let rendered = helm_render(tmp.path(), &cases);
    let mut failures = vec![];
    for (case, stream) in cases.iter().zip(&rendered) {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            stream.is_file(),
            "{name}: Helm refused the old values: {}",
            std::fs::read_to_string(stream.with_file_name("refused.txt")).unwrap_or_default()
        );
        let from_values = diff(
            case,
            &["--from", "old.yaml", "-f", "new.yaml", "--format", "json"],
        );
        let manifest = stream.display().to_string();
        let from_manifest = diff(
            case,
            &[
                "--from-manifest",
                &manifest,
                "-f",
                "new.yaml",
                "--format",
                "json",
            ],
        );
        // The same from standard input, as `helm get manifest R | natscc diff --from-manifest -`.
        let piped = common::natscc()
            .current_dir(case)
            .args([
                "diff",
                "--from-manifest",
                "-",
                "-f",
                "new.yaml",
                "--format",
                "json",
            ])
            .pipe_stdin(stream)
            .unwrap()
            .output()
            .unwrap();
        if from_values != from_manifest {
            failures.push(format!(
                "{name}: --from gives\n{}\n--from-manifest gives\n{}\n{}",
                from_values.1, from_manifest.1, from_manifest.2
            ));
        }
        assert_eq!(
            String::from_utf8_lossy(&piped.stdout),
            from_manifest.1,
            "{name}: --from-manifest - reads standard input"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn no_change_exits_0_and_new_values_with_errors_are_refused_before_any_plan() {
    let case = repo().join("fixtures/diff/cpc-exports-added");
    let (code, out, _) = diff(&case, &["--from", "old.yaml", "-f", "old.yaml"]);
    assert_eq!((code, out.as_str()), (0, "cpc-1: no change\n"));
    let (code, out, err) = diff(
        &case,
        &[
            "--from",
            "old.yaml",
            "-f",
            "new.yaml",
            "--set",
            "global.eventBus.crossLayer.cpcExports={bad..subject}",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "no plan is drawn: {out}");
    assert!(
        err.contains("natscc::values::"),
        "the usual diagnostics: {err}"
    );
    // A usage error is 1 too: diff's 2 means "every change live".
    let (code, _, _) = diff(&case, &["--no-such-flag"]);
    assert_eq!(code, 1);
    let (code, _, err) = diff(&case, &["-f", "new.yaml"]);
    assert_eq!(code, 1);
    assert!(err.contains("natscc::diff::manifest"), "{err}");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn from_rev_reads_the_values_files_at_a_revision() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let case = repo().join("fixtures/diff/csc-endpoint");
    std::fs::create_dir(dir.join("env")).unwrap();
    std::fs::copy(case.join("old.yaml"), dir.join("env/values.yaml")).unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "old"]);
    std::fs::copy(case.join("new.yaml"), dir.join("env/values.yaml")).unwrap();
    let (code, out, err) = diff(
        &dir.join("env"),
        &["--from-rev", "HEAD", "-f", "values.yaml"],
    );
    let (want_code, want, _) = diff(&case, &["--from", "old.yaml", "-f", "new.yaml"]);
    assert_eq!((code, out), (want_code, want), "{err}");
    let (code, _, err) = diff(
        &dir.join("env"),
        &["--from-rev", "nope", "-f", "values.yaml"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("natscc::diff::revision"), "{err}");
}

#[test]
fn fleets_are_diffed_cluster_by_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
    for d in [&old, &new] {
        std::fs::create_dir(d).unwrap();
        for e in std::fs::read_dir(repo().join("examples/fleet")).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, d.join(p.file_name().unwrap())).unwrap();
        }
    }
    // cpcExports grows on every cluster (common.yaml): each CPC exports it into its CSC
    // account, which its leaf connection binds; the CSC's own config does not name it.
    let common_yaml = std::fs::read_to_string(new.join("common.yaml")).unwrap();
    std::fs::write(
        new.join("common.yaml"),
        common_yaml.replace(
            r#"cpcExports: ["sensor.>", "alarm.*"]"#,
            r#"cpcExports: ["sensor.>", "alarm.*", "orders.>"]"#,
        ),
    )
    .unwrap();
    let (code, out, err) = diff(
        tmp.path(),
        &["--from", "old/fleet.yaml", "--fleet", "new/fleet.yaml"],
    );
    assert_eq!(code, 2, "{out}{err}");
    let summaries: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    assert!(summaries.contains(&"csc: no change"), "{out}");
    for cluster in ["cpc-1", "cpc-2"] {
        assert!(
            summaries
                .iter()
                .any(|l| l.starts_with(&format!("{cluster}: ")) && l.contains("live")),
            "{cluster} has a summary line:\n{out}"
        );
    }
    assert!(
        out.contains("`orders.>` starts crossing CPC -> CSC"),
        "{out}"
    );
}

#[test]
fn from_rev_reads_a_fleet_and_its_values_at_a_revision() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fleet");
    std::fs::create_dir(&dir).unwrap();
    for e in std::fs::read_dir(repo().join("examples/fleet")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "."]);
    git(tmp.path(), &["commit", "-qm", "old"]);
    let common_yaml = dir.join("common.yaml");
    let text = std::fs::read_to_string(&common_yaml).unwrap();
    let text = text.replace(r#""alarm.*"]"#, r#""alarm.*", "orders.>"]"#);
    std::fs::write(&common_yaml, text).unwrap();
    let (code, out, err) = diff(&dir, &["--from-rev", "HEAD", "--fleet", "fleet.yaml"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("`orders.>` starts crossing CPC -> CSC"),
        "{out}"
    );
    assert!(out.contains("csc: no change"), "{out}");
}

#[test]
fn plain_chart_values_are_not_diffed() {
    // The official NATS chart's own values (its README's example): no event bus to plan.
    let case = repo().join("fixtures/chart-corpus/readme-container-resources");
    let (code, out, err) = diff(&case, &["--from", "values.yaml", "-f", "values.yaml"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "no plan is drawn: {out}");
    assert!(err.contains("natscc::diff::plain_chart"), "{err}");
}
