//! The real nats-server against compiled configs: the examples load, and a hand-made
//! cross-layer overlap is refused as the SPEC measured (an import cycle).

mod common;

use common::{check_with_server, nats_server_path, natscc, server_env};
use std::path::{Path, PathBuf};

fn compile(values: &Path, out: &Path) {
    natscc()
        .arg("compile")
        .arg("-f")
        .arg(values)
        .arg("-o")
        .arg(out)
        .assert()
        .success();
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

#[test]
fn examples_load_in_nats_server() {
    for name in ["csc.yaml", "cpc-1.yaml"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        compile(&example(name), &out);
        // Each pod's config where it mounts it, its includes relative to it.
        check_with_server(&out, "nats/nats-config/nats.conf");
        check_with_server(&out, "nats-mtls/nats-config/nats.conf");
    }
}

/// Replaces one exact line fragment, failing loudly if the emitter's text moved.
fn insert_after(text: &str, anchor: &str, added: &str) -> String {
    assert_eq!(
        text.matches(anchor).count(),
        1,
        "`{anchor}` should occur once in:\n{text}"
    );
    text.replace(anchor, &format!("{anchor}\n    {added}"))
}

#[test]
fn server_refuses_cross_layer_overlap_as_a_cycle() {
    let tmp = tempfile::tempdir().unwrap();
    let values = tmp.path().join("cpc.yaml");
    std::fs::write(
        &values,
        "global:\n  eventBus:\n    clusterType: cpc\n    clusterId: \"1\"\n    cscEndpoint: nats://csc:7422\n    mtls: {enabled: false}\n    crossLayer:\n      cscPrefixedExports: [\"command.*\"]\n      cpcExports: [\"sensor.>\"]\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    compile(&values, &out);
    // Control: as compiled, the server accepts it, so the refusal below is the overlap's doing.
    check_with_server(&out, "nats/nats-config/nats.conf");

    // What `cpcExports: [command.>]` would add: CPC exports command.>, the CSC image imports
    // it to cpc.1.command.>, while CPC already imports cpc.1.command.* back as command.*.
    // The accounts are the chart's template text, included by nats.conf as
    // `../nats-accounts/accounts.conf`.
    let accounts = out.join("nats/nats-accounts/accounts.conf");
    let text = std::fs::read_to_string(&accounts).unwrap();
    let main = std::fs::read_to_string(out.join("nats/nats-config/nats.conf")).unwrap();
    assert!(
        main.contains("include ../nats-accounts/accounts.conf;"),
        "nats.conf should include the accounts file:\n{main}"
    );
    assert!(
        text.contains(
            r#"{ stream: { account: CSC, subject: "cpc.1.command.*" }, to: "command.*" }"#
        ),
        "CPC should import the prefixed export:\n{text}"
    );
    let text = insert_after(
        &text,
        r#"{ stream: "sensor.>" }"#,
        r#"{ stream: "command.>" }"#,
    );
    let text = insert_after(
        &text,
        r#"{ stream: { account: CPC, subject: "sensor.>" }, to: "cpc.1.sensor.>" }"#,
        r#"{ stream: { account: CPC, subject: "command.>" }, to: "cpc.1.command.>" }"#,
    );
    std::fs::write(&accounts, &text).unwrap();

    // The server runs where the pod's config sits, so the relative include finds the edit.
    let run = std::process::Command::new(nats_server_path())
        .args(["-t", "-c", "nats.conf"])
        .current_dir(out.join("nats/nats-config"))
        .envs(server_env(&out))
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        !run.status.success(),
        "nats-server accepted the overlapping imports:\n{said}\n{text}"
    );
    assert!(
        said.contains("cycle"),
        "nats-server refused, but not for a cycle:\n{said}"
    );
}
