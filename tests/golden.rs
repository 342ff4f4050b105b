//! Golden test of the compile pipeline. Each folder `fixtures/<case>/` (except `bad`, `post-render`
//! and `chart-ref`) holds values files and an optional `args` file (the `natscc compile` arguments,
//! whitespace-separated, paths relative to the case; default `-f values.yaml`). `golden/<case>/`
//! mirrors the whole output tree (event-bus cases nest each pod's configs where it mounts them:
//! `nats/nats-config/nats.conf`, `nats/nats-accounts/accounts.conf`, ...) plus `stderr.txt`
//! (concise diagnostics) and `exit-code`. `NATSCC_BLESS=1` rewrites the goldens.
//! Every case must also compile byte-identically twice, and every nats.conf of every accepted
//! case must load in the real nats-server, its relative includes resolved as in the pod.

mod common;

use common::{files_under, natscc};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

type Tree = BTreeMap<String, Vec<u8>>;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("fixtures"))
        .expect("fixtures/ exists")
        .map(|e| e.unwrap())
        // `bad` holds bad-input cases; `post-render` a rendered stream (tests/post_render.rs);
        // `chart-ref` and `chart-plain-ref` folders of cases compared with the charts' own renders
        // (tests/chart_ref.rs, tests/plain_ref.rs); `chart-corpus` the NATS chart's own examples
        // (tests/plain_corpus.rs); `access` the explain queries of tests/access.rs; `diff` the
        // value pairs of tests/diff.rs.
        .filter(|e| {
            e.path().is_dir()
                && ![
                    "bad",
                    "post-render",
                    "chart-ref",
                    "chart-plain-ref",
                    "chart-corpus",
                    "access",
                    "diff",
                ]
                .contains(&&*e.file_name().to_string_lossy())
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every file under `dir`, keyed by its `/`-separated path relative to `dir`.
fn read_tree(dir: &Path) -> Tree {
    if !dir.is_dir() {
        return Tree::new();
    }
    // natscc's `.natscc-manifest` (hashes of the other files) is no output of its own: not
    // compared.
    files_under(dir)
        .into_iter()
        .filter(|rel| rel.file_name().is_none_or(|n| n != natscc::emit::MANIFEST))
        .map(|rel| {
            (
                rel.to_string_lossy().replace('\\', "/"),
                std::fs::read(dir.join(&rel)).unwrap(),
            )
        })
        .collect()
}

/// Compiles one case; returns the whole observable result and the output folder (kept alive).
fn run(case_dir: &Path) -> (Tree, tempfile::TempDir) {
    let args =
        std::fs::read_to_string(case_dir.join("args")).unwrap_or_else(|_| "-f values.yaml".into());
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("out");
    let output = natscc()
        .current_dir(case_dir)
        .arg("compile")
        .args(args.split_whitespace())
        .arg("-o")
        .arg(&out_dir)
        .args(["--format", "concise"])
        .output()
        .unwrap();
    let mut tree = read_tree(&out_dir);
    tree.insert("stderr.txt".into(), output.stderr);
    tree.insert(
        "exit-code".into(),
        format!("{}\n", output.status.code().expect("natscc exited")).into_bytes(),
    );
    (tree, tmp)
}

/// The first differing lines of two texts, with a little context, diff-style.
fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let (e, a) = (
        String::from_utf8_lossy(expected),
        String::from_utf8_lossy(actual),
    );
    let (e, a): (Vec<&str>, Vec<&str>) = (e.lines().collect(), a.lines().collect());
    let at = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    // The run of lines that differ pairwise from there (a length change shows its tail).
    let run = (at..e.len().max(a.len()))
        .take_while(|i| e.get(*i) != a.get(*i))
        .take(6)
        .count()
        .max(1);
    let mut s = format!("@@ line {} @@\n", at + 1);
    for l in &e[at.saturating_sub(2)..at] {
        s += &format!("  {l}\n");
    }
    for l in e.iter().skip(at).take(run) {
        s += &format!("- {l}\n");
    }
    for l in a.iter().skip(at).take(run) {
        s += &format!("+ {l}\n");
    }
    s
}

fn compare(case: &str, expected: &Tree, actual: &Tree) -> Vec<String> {
    let mut problems = vec![];
    for (name, want) in expected {
        match actual.get(name) {
            None => problems.push(format!("{case}: {name} is expected but was not produced")),
            Some(got) if got != want => problems.push(format!(
                "{case}: {name} differs (- golden, + actual)\n{}",
                first_difference(want, got)
            )),
            _ => {}
        }
    }
    for name in actual.keys().filter(|n| !expected.contains_key(*n)) {
        problems.push(format!(
            "{case}: {name} was produced but has no golden file"
        ));
    }
    problems
}

fn bless(dir: &Path, tree: &Tree) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in tree {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn golden_cases() {
    let blessing = std::env::var("NATSCC_BLESS").is_ok_and(|v| v == "1");
    let cases = cases();
    assert!(!cases.is_empty(), "no golden cases under fixtures/");
    let mut problems = vec![];
    // A golden folder whose fixture was removed would otherwise go stale unnoticed.
    for e in std::fs::read_dir(root().join("golden"))
        .into_iter()
        .flatten()
    {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if !root().join("fixtures").join(&name).is_dir() {
            problems.push(format!("golden/{name} has no fixtures/{name}"));
        }
    }
    for case in &cases {
        let case_dir: PathBuf = root().join("fixtures").join(case);
        let (first, out) = run(&case_dir);
        let (second, _) = run(&case_dir);
        if first != second {
            problems.push(format!(
                "{case}: not deterministic; two runs differ:\n{}",
                compare(case, &first, &second).join("\n")
            ));
        }
        let golden_dir = root().join("golden").join(case);
        if blessing {
            bless(&golden_dir, &first);
        } else {
            problems.extend(compare(case, &read_tree(&golden_dir), &first));
        }
        if first["exit-code"] == b"0\n" {
            // Each server's nats.conf: `nats.conf` (plain chart),
            // `<release>/nats-config/nats.conf`.
            let confs: Vec<&String> = first
                .keys()
                .filter(|n| *n == "nats.conf" || n.ends_with("/nats-config/nats.conf"))
                .collect();
            if confs.is_empty() {
                problems.push(format!("{case}: compiled, but wrote no nats.conf"));
            }
            // Each by `nats-server -t` of the release its image deploys.
            let args = std::fs::read_to_string(case_dir.join("args"))
                .unwrap_or_else(|_| "-f values.yaml".into());
            let args: Vec<&str> = args.split_whitespace().collect();
            let versions = common::deployed_versions(&case_dir, &args);
            for conf in confs {
                let release = conf.split('/').next().filter(|_| conf.contains('/'));
                let release = release.unwrap_or("nats");
                let version = &versions[release];
                let server = common::nats_server_of(version);
                common::check_with_server_bin(&out.path().join("out"), conf, &server);
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} golden problem(s) (run with NATSCC_BLESS=1 to accept the new outputs):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
