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

/// One cluster's values for the fleet below.
fn fleet_values(cluster: &str, cpc_ids: &str, exports: &str) -> String {
    let kind = match cluster.strip_prefix("cpc-") {
        Some(id) => format!(
            "clusterType: cpc\n    clusterId: \"{id}\"\n    \
             cscEndpoint: nats://csc.example.com:7422"
        ),
        None => format!("clusterType: csc\n    cpcIds: {cpc_ids}"),
    };
    format!(
        "global:\n  eventBus:\n    {kind}\n    crossLayer:\n      \
         cscExports: [\"broadcast.>\"]\n      cpcExports: {exports}\n"
    )
}

/// Writes a fleet of `clusters` (one values file each) into `dir`.
fn write_fleet(dir: &Path, clusters: &[&str], cpc_ids: &str, exports: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let mut fleet = String::from("clusters:\n");
    for c in clusters {
        fleet.push_str(&format!("  - {{ name: {c}, values: [{c}.yaml] }}\n"));
        let values = fleet_values(c, cpc_ids, exports);
        std::fs::write(dir.join(format!("{c}.yaml")), values).unwrap();
    }
    std::fs::write(dir.join("fleet.yaml"), fleet).unwrap();
}

/// `--from-manifest` with `--fleet`: every release's manifest in one stream (Helm's render of
/// each cluster's old values, concatenated in another order than the fleet's) gives the plan
/// `--from` gives with the old fleet: each release matched to its cluster, a release the new
/// fleet no longer has removed, a cluster it does not hold added.
#[test]
fn a_fleets_releases_in_one_stream_give_the_plan_of_from_values() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
    let exports = r#"["sensor.>"]"#;
    write_fleet(&old, &["csc", "cpc-1", "cpc-2"], r#"["1", "2"]"#, exports);
    let exports = r#"["sensor.>", "orders.>"]"#;
    write_fleet(&new, &["csc", "cpc-1", "cpc-3"], r#"["1", "3"]"#, exports);
    let order = ["cpc-2", "csc", "cpc-1"];
    let cases: Vec<PathBuf> = order
        .iter()
        .map(|c| {
            let d = tmp.path().join("render").join(c);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::copy(old.join(format!("{c}.yaml")), d.join("values.yaml")).unwrap();
            d
        })
        .collect();
    let release = ["--release", "nats-event-bus", "-n", "nats"];
    common::helm_template("tests/data/event-bus-chart", &release, &cases);
    let mut stream = String::new();
    for d in &cases {
        let text = std::fs::read_to_string(d.join("rendered.yaml"))
            .unwrap_or_else(|_| panic!("Helm refused {}", d.display()));
        stream.push_str(&text);
    }
    std::fs::write(tmp.path().join("all.yaml"), stream).unwrap();

    let args = ["--fleet", "new/fleet.yaml", "--format", "json"];
    let from_values = diff(
        tmp.path(),
        &[&["--from", "old/fleet.yaml"][..], &args].concat(),
    );
    let from_manifest = diff(
        tmp.path(),
        &[&["--from-manifest", "all.yaml"][..], &args].concat(),
    );
    assert_eq!(from_values.0, 3, "{}{}", from_values.1, from_values.2);
    assert_eq!(
        from_manifest, from_values,
        "--from-manifest of the fleet's stream differs from --from"
    );
    let plans: serde_json::Value = serde_json::from_str(&from_values.1).unwrap();
    let summaries: Vec<&str> = plans["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["summary"].as_str().unwrap())
        .collect();
    assert_eq!(summaries.len(), 4, "{summaries:?}");
    assert!(
        summaries.iter().any(|s| s.starts_with("cpc-2: 1 change")),
        "{summaries:?}"
    );
    assert!(
        summaries.iter().any(|s| s.starts_with("cpc-3: 1 change")),
        "{summaries:?}"
    );
    assert!(
        summaries
            .iter()
            .any(|s| s.starts_with("csc: ") && s.contains("rolls")),
        "{summaries:?}"
    );

    // A release twice in the stream: refused, naming it.
    let twice = std::fs::read_to_string(cases[1].join("rendered.yaml")).unwrap();
    let all = std::fs::read_to_string(tmp.path().join("all.yaml")).unwrap();
    std::fs::write(tmp.path().join("twice.yaml"), format!("{all}{twice}")).unwrap();
    let (code, _, err) = diff(
        tmp.path(),
        &[&["--from-manifest", "twice.yaml"][..], &args].concat(),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("natscc::diff::manifest"), "{err}");
    assert!(err.contains("release 4 of the stream"), "{err}");
}
