//! `natscc explain --who-can` and `--identity` on the example fleet: the queries of
//! fixtures/access/queries.txt against reviewed answers in golden/access/ (`NATSCC_BLESS=1`
//! writes them anew: review every changed line). The identities are read from each cluster's
//! compiled permissions.json with the auth callout's own decoder; the flows are the fleet's
//! explain search.

mod common;

use std::path::Path;

#[test]
fn answers_on_the_example_fleet_are_the_reviewed_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bless = std::env::var_os("NATSCC_BLESS").is_some();
    let mut failures = vec![];
    let queries = std::fs::read_to_string(root.join("fixtures/access/queries.txt")).unwrap();
    let queries = queries
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once(": ").expect("`<name>: <args>`"));
    for (name, args) in queries {
        let run = common::natscc()
            .args(["explain", "--fleet"])
            .arg(root.join("examples/fleet/fleet.yaml"))
            .args(args.split_whitespace())
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let got = String::from_utf8(run.stdout).unwrap();
        let golden = root.join("golden/access").join(format!("{name}.txt"));
        if bless {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        if got != want {
            failures.push(format!(
                "{name}: got\n{got}\nwant ({})\n{want}",
                golden.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_unknown_identity_names_the_known_ones() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = common::natscc()
        .args(["explain", "--fleet"])
        .arg(root.join("examples/fleet/fleet.yaml"))
        .args(["--identity", "nobody"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(
        said.contains("no identity `nobody`") && said.contains("plant-gateway"),
        "{said}"
    );
}

#[test]
fn who_can_takes_a_literal_subject_and_one_cluster_values() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = common::natscc()
        .args(["explain", "-f"])
        .arg(root.join("fixtures/csc-full/values.yaml"))
        .args(["--who-can", "publish", "report.daily"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let said = String::from_utf8_lossy(&run.stdout);
    // batch-exporter may publish report.>; reporting (sub only) may publish anything: it has
    // no `pub`, and the callout grants what is not restricted.
    assert!(
        said.contains("Analytics: nkey identity batch-exporter (pub.allow report.>)"),
        "{said}"
    );
    assert!(
        said.contains("Analytics: oauth2 identity reporting (no pub.allow: every subject)"),
        "{said}"
    );
    assert!(
        said.contains("CSC: mtls identity plant-gateway (not in pub.allow)"),
        "{said}"
    );
    let run = common::natscc()
        .args(["explain", "-f"])
        .arg(root.join("fixtures/csc-full/values.yaml"))
        .args(["--who-can", "publish", "report.*"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
}
