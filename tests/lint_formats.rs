//! `natscc lint` on a folder of many good and bad values files: every format is well-formed
//! (GitHub workflow commands escaped per the Actions toolkit, one concise line per finding,
//! JSON and SARIF parse), the report is byte-identical from run to run although files are
//! checked in parallel, findings in shared inputs are reported once, and exit codes are
//! 0 clean, 1 findings (warnings only with --deny-warnings), 2 usage or I/O.

mod common;

use common::natscc;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A tree of values files: every bad fixture and good example, several times, under names
/// that need escaping (space, comma, colon, percent).
fn populate(dir: &Path, copies: usize) -> usize {
    let mut sources: Vec<std::path::PathBuf> = std::fs::read_dir(root().join("fixtures/bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    for good in [
        "examples/cpc-1.yaml",
        "examples/csc.yaml",
        "fixtures/csc-minimal/values.yaml",
        "fixtures/cpc-cross-layer/values.yaml",
    ] {
        sources.push(root().join(good));
    }
    sources.sort();
    let mut n = 0;
    for copy in 0..copies {
        let sub = dir.join(format!("env {copy}, a:b%"));
        std::fs::create_dir_all(&sub).unwrap();
        for s in &sources {
            // operator fixtures name JWT files next to them; keep those beside the copies.
            std::fs::copy(s, sub.join(s.file_name().unwrap())).unwrap();
            n += 1;
        }
        let jwt = root().join("fixtures/bad/jwt");
        if jwt.is_dir() {
            std::fs::create_dir_all(sub.join("jwt")).unwrap();
            for e in std::fs::read_dir(&jwt).unwrap() {
                let p = e.unwrap().path();
                std::fs::copy(&p, sub.join("jwt").join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    n
}

fn lint(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = natscc()
        .current_dir(dir)
        .arg("lint")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn many_files_every_format_deterministic_and_well_formed() {
    let tmp = tempfile::tempdir().unwrap();
    let files = populate(tmp.path(), 3);
    assert!(files >= 200, "{files} files");
    for format in ["concise", "json", "sarif", "github", "human"] {
        let (code, first) = lint(tmp.path(), &[".", "--format", format]);
        assert_eq!(code, 1, "{format}");
        for _ in 0..2 {
            let (_, again) = lint(tmp.path(), &[".", "--format", format]);
            assert!(
                again == first,
                "{format}: two lint runs of the same files differ"
            );
        }
        match format {
            "concise" => {
                let files: Vec<&str> = first
                    .lines()
                    .filter_map(|l| l.find(".yaml:").map(|i| &l[..i + 5]))
                    .filter(|f| f.starts_with("env "))
                    .collect();
                let out_of_order = files.windows(2).find(|w| Path::new(w[0]) > Path::new(w[1]));
                assert!(
                    out_of_order.is_none(),
                    "findings come file by file, in path order: {out_of_order:?}"
                );
                // The chart defaults' warnings are one finding, not one per file.
                let defaults = first
                    .lines()
                    .filter(|l| l.starts_with("<chart defaults>:"))
                    .count();
                assert!(defaults <= 4, "{defaults} chart-defaults lines");
                // A finding's line, then one `note` line per related place.
                assert!(
                    first.lines().all(|l| l.contains(": error: natscc::")
                        || l.contains(": warning: natscc::")
                        || l.contains(": note: natscc::")),
                    "{first}"
                );
            }
            "json" => {
                let v: serde_json::Value = serde_json::from_str(&first).unwrap();
                for d in v.as_array().unwrap() {
                    assert!(
                        d["code"].as_str().unwrap().starts_with("natscc::")
                            && d["message"].is_string()
                            && d["labels"].is_array(),
                        "{d}"
                    );
                    assert!(matches!(d["severity"].as_str(), Some("error" | "warning")));
                }
            }
            "sarif" => {
                let v: serde_json::Value = serde_json::from_str(&first).unwrap();
                assert_eq!(v["version"], "2.1.0");
            }
            "github" => {
                for l in first.lines() {
                    let (head, data) = l
                        .split_once("::")
                        .map(|(_, rest)| rest.split_once("::").unwrap())
                        .unwrap();
                    assert!(
                        l.starts_with("::error ")
                            || l.starts_with("::warning ")
                            || l.starts_with("::notice "),
                        "{l}"
                    );
                    let file = head.split(',').find_map(|p| {
                        p.strip_prefix("error file=")
                            .or(p.strip_prefix("warning file="))
                            .or(p.strip_prefix("notice file="))
                    });
                    if let Some(file) = file {
                        // Per the toolkit: a property escapes % CR LF : , — so the name below reads
                        // back.
                        assert!(file.starts_with("env "), "{file}");
                        assert!(!file.contains(',') && !file.contains(':'), "{file}");
                        assert!(
                            file.contains("%2C") && file.contains("%3A") && file.contains("%25"),
                            "{file}"
                        );
                    }
                    assert!(!data.contains('\r'), "{l}");
                }
            }
            _ => {}
        }
    }
}

#[test]
fn github_escapes_messages_and_properties() {
    let tmp = tempfile::tempdir().unwrap();
    let name = "odd, a:b%.yaml";
    std::fs::write(
        tmp.path().join(name),
        "global:\n  eventBus:\n    clusterType: csc\n    \"a%b\\r\\nc,d:e\": 1\n",
    )
    .unwrap();
    let (code, out) = lint(tmp.path(), &[name, "--format", "github"]);
    assert_eq!(code, 1);
    let line = out.lines().find(|l| l.starts_with("::error ")).unwrap();
    assert!(line.starts_with("::error file=odd%2C a%3Ab%25.yaml,line=4,col=5,title=natscc%3A%3Aschema%3A%3Aunknown_key::"), "{line}");
    // Message data escapes % CR LF only.
    assert!(line.contains("`a%25b%0D%0Ac,d:e`"), "{line}");
    // Findings in the built-in defaults annotate no file of the repository.
    assert!(
        out.lines()
            .filter(|l| l.contains("<chart defaults>"))
            .all(|l| !l.contains("file=")),
        "{out}"
    );
    // Concise stays one line per finding.
    let (_, concise) = lint(tmp.path(), &[name, "--format", "concise"]);
    assert!(
        concise.lines().any(|l| l.contains("`a%b\\r\\nc,d:e`")),
        "{concise}"
    );
}

#[test]
fn exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    std::fs::create_dir(&good).unwrap();
    std::fs::copy(
        root().join("fixtures/cpc-cross-layer/values.yaml"),
        good.join("values-a.yaml"),
    )
    .unwrap();
    std::fs::copy(root().join("examples/csc.yaml"), good.join("values-b.yaml")).unwrap();
    let (code, out) = lint(tmp.path(), &["good", "--format", "concise"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(": warning: "),
        "the chart defaults warn: {out}"
    );
    assert_eq!(
        lint(
            tmp.path(),
            &["good", "--format", "concise", "--deny-warnings"]
        )
        .0,
        1
    );
    // A folder is taken literally, glob characters in its name included.
    let bracketed = tmp.path().join("envs [prod]");
    std::fs::create_dir(&bracketed).unwrap();
    std::fs::copy(
        root().join("fixtures/bad/subject-gt-middle.yaml"),
        bracketed.join("values.yaml"),
    )
    .unwrap();
    let (code, out) = lint(tmp.path(), &["envs [prod]", "--format", "concise"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("envs [prod]/values.yaml:"), "{out}");
    std::fs::copy(
        root().join("fixtures/bad/subject-gt-middle.yaml"),
        good.join("values-c.yaml"),
    )
    .unwrap();
    assert_eq!(lint(tmp.path(), &["good", "--format", "json"]).0, 1);
    assert_eq!(
        lint(tmp.path(), &["good/*.yml", "--format", "json"]).0,
        2,
        "a pattern that matches nothing"
    );
    assert_eq!(lint(tmp.path(), &["missing.yaml"]).0, 2);
    assert_eq!(lint(tmp.path(), &["good", "--with", "missing.yaml"]).0, 2);
    std::fs::write(good.join("values-d.yaml"), [0xffu8, 0xfe, 0]).unwrap();
    let (code, out) = lint(tmp.path(), &["good", "--format", "concise"]);
    assert_eq!(code, 2, "an unreadable file is an I/O error: {out}");
    assert!(out.contains("natscc::load::io"), "{out}");
}

/// A path that exists is that file, even with glob characters in its name.
#[test]
fn an_existing_file_is_not_read_as_a_glob() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/bad/subject-gt-middle.yaml"),
        tmp.path().join("values[1].yaml"),
    )
    .unwrap();
    let (code, out) = lint(tmp.path(), &["values[1].yaml", "--format", "concise"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("values[1].yaml:")),
        "{out}"
    );
    std::fs::copy(
        root().join("fixtures/cpc-cross-layer/values.yaml"),
        tmp.path().join("values*.yaml"),
    )
    .unwrap();
    let (code, out) = lint(tmp.path(), &["values*.yaml", "--format", "concise"]);
    assert_eq!(
        code, 0,
        "only the file of that name, not the pattern's matches: {out}"
    );
    // A pattern still matches.
    assert_eq!(
        lint(tmp.path(), &["values?1?.yaml", "--format", "concise"]).0,
        1
    );
}

/// A finding with places in two spots (a cycle through two imports) shows both in every format.
#[test]
fn related_locations_reach_every_format() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad/import-cycle-extra-accounts.yaml");
    let run = |format: &str| {
        let out = common::natscc()
            .args(["lint", "--format", format])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
    };
    assert!(run("concise").contains(
        "import-cycle-extra-accounts.yaml:14:13: note: natscc::graph::cycle: part of the cycle"
    ));
    let github = run("github");
    let notice = github
        .lines()
        .find(|l| l.starts_with("::notice file="))
        .unwrap_or_else(|| panic!("no related annotation:\n{github}"));
    assert!(
        notice.contains(
            "import-cycle-extra-accounts.yaml,line=14,col=13,title=natscc%3A%3Agraph%3A%3Acycle::"
        ),
        "{notice}"
    );
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let cycle = json
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "natscc::graph::cycle")
        .unwrap();
    assert_eq!(cycle["labels"][1]["line"], 14);
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "natscc::graph::cycle")
        .unwrap()
        .clone();
    assert_eq!(
        result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        14
    );
    assert!(run("human").contains("part of the cycle"));
}

/// Keys the chart reads only for the other cluster type are dropped by Helm without a word:
/// natscc warns, at the key.
#[test]
fn keys_for_the_other_cluster_type_are_warned() {
    let tmp = tempfile::tempdir().unwrap();
    let csc = tmp.path().join("csc.yaml");
    std::fs::write(&csc, "global:\n  eventBus:\n    clusterType: csc\n    clusterId: \"4\"\n    cscEndpoint: nats://csc:7422\n").unwrap();
    let cpc = tmp.path().join("cpc.yaml");
    std::fs::write(&cpc, "global:\n  eventBus:\n    clusterType: cpc\n    clusterId: \"4\"\n    cscEndpoint: nats://csc:7422\n    cpcIds: [\"1\"]\n    cscLeafServerTLS: {verify: true}\n").unwrap();
    for (file, lines) in [(&csc, vec![4, 5]), (&cpc, vec![6, 7])] {
        let out = natscc()
            .args(["lint", "--format", "concise"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "warnings only");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        let found: Vec<u32> = text
            .lines()
            .filter(|l| l.contains("warning: natscc::values::unused_for_cluster_type"))
            .filter_map(|l| l.split(':').nth(1).and_then(|n| n.parse().ok()))
            .collect();
        assert_eq!(found, lines, "{text}");
        let denied = natscc()
            .args(["lint", "--deny-warnings"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(denied.status.code(), Some(1));
    }
}
