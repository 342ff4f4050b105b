//! The README's exit-code table holds for every command: 0 clean, 1 findings, 2 usage or I/O
//! error. Each subcommand runs with a usage error, an I/O error (a missing file) and a finding
//! where it can have one. Nothing here starts a server: `up` is refused before it would.

// A scenario reads top to bottom as one story; the 120-line limit is for src/.
#![allow(clippy::too_many_lines)]

mod common;

use common::natscc;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A CPC whose cross-layer lists overlap: errors (an overlap and an import cycle).
const CYCLE: &str = "\
global:
  eventBus:
    clusterType: cpc
    clusterId: \"1\"
    cscEndpoint: nats://csc-gateway:7422
    crossLayer:
      cscPrefixedExports: [command.>]
      cpcExports: [command.*]
";

struct Case {
    what: &'static str,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    want: i32,
}

fn case(what: &'static str, args: &[&str], want: i32) -> Case {
    Case {
        what,
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: None,
        want,
    }
}

fn run_all(dir: &Path, cases: Vec<Case>) {
    let mut wrong = vec![];
    for c in cases {
        let mut cmd = natscc();
        cmd.current_dir(dir).args(&c.args).env("NO_COLOR", "1");
        cmd.write_stdin(c.stdin.clone().unwrap_or_default());
        let out = cmd.output().unwrap();
        let got = out.status.code();
        if got != Some(c.want) {
            wrong.push(format!(
                "{}: natscc {} exited {got:?}, expected {}\n{}",
                c.what,
                c.args.join(" "),
                c.want,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

fn s(p: PathBuf) -> String {
    p.display().to_string()
}

#[test]
fn every_command_keeps_the_exit_code_table() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("cycle.yaml"), CYCLE).unwrap();
    std::fs::write(d.join("a-file"), "not a folder\n").unwrap();
    let cpc = s(root().join("examples/cpc-1.yaml"));
    let bad = s(root().join("fixtures/bad/subject-space.yaml"));
    let fleet = s(root().join("examples/fleet/fleet.yaml"));
    let bad_fleet = s(root().join("fixtures/bad/fleet/shared-overlap/fleet.yaml"));
    let stream = std::fs::read(root().join("fixtures/post-render/stream.yaml")).unwrap();
    let out = s(d.join("out"));

    // keys: a clean folder, a folder with a finding (a pubkey that does not match its seed),
    // and one whose seed group and others may read (generate reports it: a finding).
    let keys = d.join("keys");
    natscc()
        .args(["keys", "generate", "--cpc", "1", "-o"])
        .arg(&keys)
        .assert()
        .code(0);
    let mismatched = d.join("mismatched");
    natscc()
        .args(["keys", "generate", "--cpc", "1", "-o"])
        .arg(&mismatched)
        .assert()
        .code(0);
    std::fs::write(
        mismatched.join("csc/nats-leaf-cpc-1/pubkey"),
        nkeys::KeyPair::new_user().public_key(),
    )
    .unwrap();
    let open = d.join("open");
    natscc()
        .args(["keys", "generate", "-o"])
        .arg(&open)
        .assert()
        .code(0);
    let seed = common::files_under(&open)
        .into_iter()
        .map(|f| open.join(f))
        .find(|f| f.file_name().is_some_and(|n| n == "seed"))
        .expect("a seed");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o644)).unwrap();

    let mut cases = vec![
        // compile
        case("compile clean", &["compile", "-f", &cpc, "-o", &out], 0),
        case(
            "compile usage: a malformed --set",
            &[
                "compile",
                "-f",
                &cpc,
                "--set",
                "global.eventBus.clusterId",
                "-o",
                &out,
            ],
            2,
        ),
        case(
            "compile usage: an unknown option",
            &["compile", "-f", &cpc, "--frobnicate", "-o", &out],
            2,
        ),
        case(
            "compile usage: an unknown --deny code",
            &["compile", "-f", &cpc, "--deny", "natscc::nope", "-o", &out],
            2,
        ),
        case(
            "compile I/O",
            &["compile", "-f", "missing.yaml", "-o", &out],
            2,
        ),
        case("compile finding", &["compile", "-f", &bad, "-o", &out], 1),
        case(
            "compile --fleet clean",
            &["compile", "--fleet", &fleet, "-o", &out],
            0,
        ),
        case(
            "compile --fleet usage",
            &["compile", "--fleet", &fleet, "-f", &cpc, "-o", &out],
            2,
        ),
        case(
            "compile --fleet I/O",
            &["compile", "--fleet", "missing.yaml", "-o", &out],
            2,
        ),
        case(
            "compile --fleet finding",
            &["compile", "--fleet", &bad_fleet, "-o", &out],
            1,
        ),
        case(
            "compile output I/O",
            &["compile", "-f", &cpc, "-o", &s(d.join("a-file/out"))],
            2,
        ),
        // lint
        case("lint clean", &["lint", &cpc], 0),
        case("lint usage: no pattern", &["lint"], 2),
        case(
            "lint usage: an unknown --allow code",
            &["lint", &cpc, "--allow", "natscc::nope"],
            2,
        ),
        case("lint I/O", &["lint", "missing.yaml"], 2),
        case(
            "lint I/O: a missing companion",
            &["lint", &cpc, "--with", "missing.yaml"],
            2,
        ),
        case("lint finding", &["lint", &bad], 1),
        // graph
        case("graph clean", &["graph", "-f", &cpc], 0),
        case(
            "graph usage: a malformed --set",
            &["graph", "-f", &cpc, "--set", "a.b"],
            2,
        ),
        case(
            "graph usage: an unknown format",
            &["graph", "-f", &cpc, "--format", "png"],
            2,
        ),
        case("graph I/O", &["graph", "-f", "missing.yaml"], 2),
        case("graph finding", &["graph", "-f", "cycle.yaml"], 1),
        case("graph --fleet clean", &["graph", "--fleet", &fleet], 0),
        case(
            "graph --fleet I/O",
            &["graph", "--fleet", "missing.yaml"],
            2,
        ),
        case(
            "graph --fleet finding",
            &["graph", "--fleet", &bad_fleet],
            1,
        ),
        // explain
        case(
            "explain clean",
            &["explain", "-f", &cpc, "--account", "CPC", "sensor.temp"],
            0,
        ),
        case(
            "explain usage: a malformed --set",
            &[
                "explain",
                "-f",
                &cpc,
                "--set",
                "a.b",
                "--account",
                "CPC",
                "sensor.temp",
            ],
            2,
        ),
        case(
            "explain usage: a wildcard",
            &["explain", "-f", &cpc, "--account", "CPC", "sensor.*"],
            2,
        ),
        case(
            "explain usage: no such account",
            &["explain", "-f", &cpc, "--account", "NOPE", "sensor.temp"],
            2,
        ),
        case(
            "explain I/O",
            &[
                "explain",
                "-f",
                "missing.yaml",
                "--account",
                "CPC",
                "sensor.temp",
            ],
            2,
        ),
        case(
            "explain finding",
            &[
                "explain",
                "-f",
                "cycle.yaml",
                "--account",
                "CPC",
                "command.x",
            ],
            1,
        ),
        case(
            "explain --fleet usage: no --cluster",
            &["explain", "--fleet", &fleet, "--account", "CPC", "a"],
            2,
        ),
        case(
            "explain --fleet I/O",
            &[
                "explain",
                "--fleet",
                "missing.yaml",
                "--cluster",
                "cpc-1",
                "--account",
                "CPC",
                "a",
            ],
            2,
        ),
        case(
            "explain --fleet finding",
            &[
                "explain",
                "--fleet",
                &bad_fleet,
                "--cluster",
                "csc",
                "--account",
                "CSC",
                "a",
            ],
            1,
        ),
        // up: refused before any server starts
        case("up usage", &["up"], 2),
        case("up I/O", &["up", "missing.yaml"], 2),
        case("up finding", &["up", &bad_fleet], 1),
        // keys
        case(
            "keys generate usage",
            &["keys", "generate", "--cpc", "Bad!", "-o", &s(d.join("k2"))],
            2,
        ),
        case(
            "keys generate I/O: -o is a file",
            &["keys", "generate", "-o", &s(d.join("a-file"))],
            2,
        ),
        case(
            "keys generate finding: a seed others may read",
            &["keys", "generate", "-o", &s(open.clone())],
            1,
        ),
        case("keys check clean", &["keys", "check", &s(keys.clone())], 0),
        case("keys check usage", &["keys", "check"], 2),
        case("keys check I/O", &["keys", "check", "missing"], 2),
        case(
            "keys check finding",
            &["keys", "check", &s(mismatched.clone())],
            1,
        ),
        // token: the local OAuth2 issuer (auth-callout itself needs a server: tests/callout.rs)
        case(
            "token clean: a new key",
            &[
                "token",
                "--generate-key",
                &s(d.join("issuer.pem")),
                "--jwks",
                &s(d.join("jwks.json")),
            ],
            0,
        ),
        case("token usage: nothing to do", &["token"], 2),
        case(
            "token usage: a key that exists is never replaced",
            &[
                "token",
                "--generate-key",
                &s(d.join("a-file")),
                "--jwks",
                &s(d.join("j2.json")),
            ],
            2,
        ),
        case(
            "token usage: --generate-key without --jwks",
            &["token", "--generate-key", &s(d.join("k.pem"))],
            2,
        ),
        case(
            "token usage: an algorithm it cannot sign with",
            &[
                "token",
                "--generate-key",
                &s(d.join("k.pem")),
                "--jwks",
                &s(d.join("j.json")),
                "--alg",
                "HS256",
            ],
            2,
        ),
        case(
            "token I/O: a missing key",
            &[
                "token",
                "app",
                "--key",
                "missing.pem",
                "--permissions",
                &s(d.join("permissions.json")),
                "--issuer",
                "i",
                "--audience",
                "a",
            ],
            2,
        ),
        case(
            "auth-callout usage: a bad --ready-timeout",
            &["auth-callout", "--ready-timeout", "soon"],
            2,
        ),
        // the commands without inputs
        case("rules clean", &["rules"], 0),
        case("rules usage", &["rules", "extra"], 2),
        case("completions clean", &["completions", "bash"], 0),
        case("completions usage", &["completions", "tcsh"], 2),
        case("man clean", &["man"], 0),
        case("man usage", &["man", "--frobnicate"], 2),
        case("man I/O", &["man", "--out", &s(d.join("a-file/man"))], 2),
        case("schema clean", &["schema"], 0),
        case("schema usage", &["schema", "extra"], 2),
        case("no command", &[], 2),
    ];
    // post-render reads the stream on stdin.
    let pr = |what, args: &[&str], stdin: &[u8], want| Case {
        stdin: Some(stdin.to_vec()),
        ..case(what, args, want)
    };
    let values = s(root().join("fixtures/post-render/values.yaml"));
    cases.extend([
        pr("post-render clean", &["post-render"], &stream, 0),
        pr(
            "post-render usage: --set without --values",
            &["post-render", "--set", "a=b"],
            &stream,
            2,
        ),
        pr(
            "post-render usage: a malformed --set",
            &["post-render", "--values", &values, "--set", "a.b"],
            &stream,
            2,
        ),
        pr(
            "post-render usage: an unknown --warn code",
            &["post-render", "--warn", "nope"],
            &stream,
            2,
        ),
        pr(
            "post-render I/O",
            &["post-render", "--values", "missing.yaml"],
            &stream,
            2,
        ),
        pr(
            "post-render finding: an empty stream",
            &["post-render"],
            b"",
            1,
        ),
    ]);
    run_all(d, cases);
}

/// Item 3: graph and explain on values with errors report them and exit 1; the drawing is
/// still printed, its cycle in red.
#[test]
fn graph_and_explain_report_errors_in_the_values() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("cycle.yaml"), CYCLE).unwrap();
    let run = natscc()
        .current_dir(tmp.path())
        .args(["graph", "-f", "cycle.yaml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("natscc::cross_layer::overlap"), "{stderr}");
    assert!(String::from_utf8_lossy(&run.stdout).contains("color=red"));
    let run = natscc()
        .current_dir(tmp.path())
        .args([
            "explain",
            "-f",
            "cycle.yaml",
            "--account",
            "CPC",
            "command.x",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("natscc::cross_layer::overlap"), "{stderr}");
    // Clean values: nothing on stderr, exit 0.
    let run = natscc()
        .current_dir(root())
        .args(["graph", "-f", "examples/cpc-1.yaml"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    assert!(
        run.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}
