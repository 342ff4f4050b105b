//! The fleet: `natscc compile --fleet` on the example fleet (every config loads in the real
//! nats-server, outputs are deterministic and written all at once), and every bad fleet under
//! `fixtures/bad/fleet/<case>/` refused with the codes and places its `# expect:` lines name.

mod common;

use common::{check_with_server, natscc};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn example_fleet_compiles_into_one_folder_per_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    natscc()
        .current_dir(root())
        .args(["compile", "--fleet", "examples/fleet/fleet.yaml", "-o"])
        .arg(&out)
        .assert()
        .code(0);
    let mut clusters: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    clusters.sort();
    assert_eq!(clusters, ["cpc-1", "cpc-2", "csc"]);
    for c in &clusters {
        let dir = out.join(c);
        check_with_server(&dir, "nats/nats-config/nats.conf");
        check_with_server(&dir, "nats-mtls/nats-config/nats.conf");
    }
    // Each folder equals what compiling that cluster alone gives.
    let alone = tmp.path().join("alone");
    natscc()
        .current_dir(root().join("examples/fleet"))
        .args([
            "compile",
            "-f",
            "common.yaml",
            "-f",
            "cpc.yaml",
            // The fleet sets the id as the text "2"; Helm's --set would make it a number.
            "--set-string",
            "global.eventBus.clusterId=2",
            "--set",
            "global.eventBus.gateway.routes.mqttMtls.hostnames={mqtt.cpc-2.example.com}",
            "-o",
        ])
        .arg(&alone)
        .assert()
        .code(0);
    assert_eq!(tree(&alone), tree(&out.join("cpc-2")));
    // Deterministic.
    let again = tmp.path().join("again");
    natscc()
        .current_dir(root())
        .args(["compile", "--fleet", "examples/fleet/fleet.yaml", "-o"])
        .arg(&again)
        .assert()
        .code(0);
    assert_eq!(tree(&out), tree(&again));
}

#[test]
fn a_failing_fleet_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    natscc()
        .current_dir(root())
        .args(["compile", "--fleet", "examples/fleet/fleet.yaml", "-o"])
        .arg(&out)
        .assert()
        .code(0);
    let before = tree(&out);
    // One bad CPC: no folder of any cluster changes.
    let bad = root().join("fixtures/bad/fleet/endpoint-port/fleet.yaml");
    natscc()
        .args(["compile", "--fleet"])
        .arg(&bad)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1);
    assert_eq!(before, tree(&out));
    let fresh = tmp.path().join("fresh");
    natscc()
        .args(["compile", "--fleet"])
        .arg(&bad)
        .arg("-o")
        .arg(&fresh)
        .assert()
        .code(1);
    assert!(!fresh.exists());
    // A missing fleet file is a usage error.
    natscc()
        .args(["compile", "--fleet", "no/such/fleet.yaml", "-o"])
        .arg(&fresh)
        .assert()
        .code(2);
    // --fleet and -f do not mix.
    natscc()
        .args(["compile", "--fleet", "a.yaml", "-f", "b.yaml", "-o"])
        .arg(&fresh)
        .assert()
        .code(2);
}

/// `file:line` places a finding must have: the first its primary location, the rest among its
/// labels.
struct Expect {
    code: String,
    places: Vec<(String, u64)>,
}

fn expectations(text: &str) -> Vec<Expect> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect:"))
        .map(|e| {
            let mut w = e.split_whitespace();
            let code = w.next().expect("an expect line names a code").to_string();
            let places = w
                .map(|p| {
                    let (f, l) = p.rsplit_once(':').expect("a place is file:line");
                    (f.to_string(), l.parse().expect("a line number"))
                })
                .collect::<Vec<_>>();
            assert!(
                !places.is_empty(),
                "an expect line names at least one place"
            );
            Expect { code, places }
        })
        .collect()
}

fn places(d: &serde_json::Value) -> Vec<(String, u64)> {
    d["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["file"].as_str().unwrap().to_string(),
                l["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn check_case(dir: &Path) -> Option<String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let expected = expectations(&std::fs::read_to_string(dir.join("fleet.yaml")).unwrap());
    assert!(
        !expected.is_empty(),
        "fixtures/bad/fleet/{name}/fleet.yaml has no `# expect:` line"
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = natscc()
        .current_dir(dir)
        .args(["compile", "--fleet", "fleet.yaml", "--format", "json", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    let found: Vec<serde_json::Value> = match serde_json::from_str(&stderr) {
        Ok(serde_json::Value::Array(a)) => a,
        _ => return Some(format!("{name}: stderr is not a JSON list:\n{stderr}")),
    };
    let mut problems = vec![];
    if run.status.code() != Some(1) {
        problems.push(format!("exit status {:?}, expected 1", run.status.code()));
    }
    if out.exists() {
        problems.push("the output folder was written".into());
    }
    let matches = |e: &Expect, d: &serde_json::Value| {
        let ps = places(d);
        d["code"] == e.code.as_str()
            && ps.first() == e.places.first()
            && e.places[1..].iter().all(|p| ps.contains(p))
    };
    for e in &expected {
        if !found.iter().any(|d| matches(e, d)) {
            problems.push(format!("no {} at {:?}", e.code, e.places));
        }
    }
    for d in found.iter().filter(|d| d["severity"] == "error") {
        if !expected.iter().any(|e| matches(e, d)) {
            problems.push(format!(
                "unexpected error {} at {:?}: {}",
                d["code"],
                places(d),
                d["message"]
            ));
        }
    }
    (!problems.is_empty()).then(|| {
        format!(
            "fixtures/bad/fleet/{name}: {}\n{stderr}",
            problems.join("; ")
        )
    })
}

#[test]
fn bad_fleets_are_refused_precisely() {
    let base = root().join("fixtures/bad/fleet");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("fleet.yaml").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 12, "only {} bad fleets", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|c| check_case(c)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad fleets not refused as expected:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn explain_follows_messages_across_leaf_connections() {
    let explain = |cluster: &str, account: &str, subject: &str| {
        let out = natscc()
            .current_dir(root())
            .args([
                "explain",
                "--fleet",
                "examples/fleet/fleet.yaml",
                "--cluster",
                cluster,
                "--account",
                account,
                subject,
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let up = explain("cpc-1", "CPC", "sensor.temp");
    assert!(
        up.contains("reaches csc/CSC as cpc.1.sensor.temp\n"),
        "{up}"
    );
    assert!(
        up.contains("via cpc-1/CSC → csc/CSC: leaf connection"),
        "{up}"
    );
    assert!(
        !up.contains("cpc-2/"),
        "CPC-1's sensor data must not reach CPC-2:\n{up}"
    );
    let down = explain("csc", "CSC", "cpc.2.command.restart");
    assert!(
        down.contains("reaches cpc-2/CPC as command.restart\n"),
        "{down}"
    );
    assert!(!down.contains("cpc-1/CPC"), "{down}");
    let broadcast = explain("csc", "CSC", "broadcast.x");
    for c in ["cpc-1", "cpc-2"] {
        assert!(
            broadcast.contains(&format!("reaches {c}/CPC as broadcast.x\n")),
            "{broadcast}"
        );
    }
    // Wildcards and unknown places are usage errors.
    natscc()
        .current_dir(root())
        .args([
            "explain",
            "--fleet",
            "examples/fleet/fleet.yaml",
            "--cluster",
            "cpc-1",
            "--account",
            "CPC",
            "sensor.*",
        ])
        .assert()
        .code(2);
    natscc()
        .current_dir(root())
        .args([
            "explain",
            "--fleet",
            "examples/fleet/fleet.yaml",
            "--cluster",
            "cpc-9",
            "--account",
            "CPC",
            "a",
        ])
        .assert()
        .code(2);
    natscc()
        .current_dir(root())
        .args([
            "explain",
            "--fleet",
            "examples/fleet/fleet.yaml",
            "--account",
            "CPC",
            "a",
        ])
        .assert()
        .code(2);
}

#[test]
fn graph_draws_every_cluster_and_the_leaf_connections() {
    let out = natscc()
        .current_dir(root())
        .args(["graph", "--fleet", "examples/fleet/fleet.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let dot = String::from_utf8(out.stdout).unwrap();
    for c in ["csc", "cpc-1", "cpc-2"] {
        assert!(dot.contains(&format!("label=\"{c}\"")), "{dot}");
    }
    assert_eq!(
        dot.matches("label=\"leaf\"").count(),
        2,
        "one leaf connection per CPC:\n{dot}"
    );
    // An import cycle inside a CPC is drawn in red in the fleet picture.
    let bad = root().join("fixtures/bad/fleet/shared-overlap/fleet.yaml");
    let out = natscc()
        .args(["graph", "--fleet"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("color=red"));
}

#[test]
fn a_missing_values_file_is_named_where_the_fleet_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let fleet = tmp.path().join("fleet.yaml");
    std::fs::write(&fleet, "clusters:\n  - { name: csc, values: [csc.yaml] }\n  - name: cpc-1\n    values: [nope.yaml]\n").unwrap();
    std::fs::write(
        tmp.path().join("csc.yaml"),
        "global:\n  eventBus:\n    clusterType: csc\n    cpcIds: [\"1\"]\n",
    )
    .unwrap();
    let out = natscc()
        .args(["compile", "--fleet"])
        .arg(&fleet)
        .args(["--format", "concise", "-o"])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fleet.yaml:4:")
            && stderr.contains("natscc::load::io")
            && stderr.contains("nope.yaml"),
        "{stderr}"
    );
    assert!(!tmp.path().join("out").exists());
}
