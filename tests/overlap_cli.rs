//! Issue 3's acceptance case through the real command line: a CPC with `command.>` in
//! cscPrefixedExports and `command.*` in cpcExports is refused before any file is written,
//! with the overlap code, both entries' lines shown, a witness subject and the cycle path.
//! And `natscc graph` output renders with Graphviz `dot` (the rendering part alone is skipped,
//! with a message, where `dot` is not installed).

mod common;

use common::natscc;
use std::path::Path;

const CPC: &str = "\
global:
  eventBus:
    clusterType: cpc
    clusterId: \"1\"
    cscEndpoint: nats://csc-gateway:7422
    crossLayer:
      cscPrefixedExports:
        - sensor.>
        - command.>
      cpcExports:
        - status.>
        - command.*
";

#[test]
fn cross_layer_overlap_is_refused_with_both_lines_a_witness_and_the_cycle() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("cpc.yaml"), CPC).unwrap();
    let out = tmp.path().join("out");

    // The default (human) format, as an operator sees it.
    let run = natscc()
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .args(["compile", "-f", "cpc.yaml", "-o", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(!out.exists(), "nothing may be written");
    assert!(stderr.contains("natscc::cross_layer::overlap"), "{stderr}");
    let flat = stderr
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" │ ", " ");
    assert!(flat.contains("`command.>` in crossLayer.cscPrefixedExports and `command.*` in crossLayer.cpcExports overlap"), "{stderr}");
    assert!(
        flat.contains("both match `command.x`"),
        "witness subject: {stderr}"
    );
    assert!(
        flat.contains("cycle: CPC command.* -> CSC cpc.1.command.* -> CPC command.>"),
        "cycle path: {stderr}"
    );
    // Both entries, each with its line number and source line, each labelled with its list.
    assert!(stderr.contains("[cpc.yaml:12:11]"), "{stderr}");
    for (line, text) in [(9, "- command.>"), (12, "- command.*")] {
        assert!(
            stderr
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{line} │")) && l.ends_with(text)),
            "line {line} not shown:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("in cscPrefixedExports") && stderr.contains("in cpcExports"),
        "{stderr}"
    );

    // Machine-readable: both locations.
    let run = natscc()
        .current_dir(tmp.path())
        .args(["compile", "-f", "cpc.yaml", "-o", "out", "--format", "json"])
        .output()
        .unwrap();
    let diags: serde_json::Value = serde_json::from_slice(&run.stderr).unwrap();
    let overlap = diags
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "natscc::cross_layer::overlap")
        .expect("the overlap finding");
    let mut lines: Vec<u64> = overlap["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    lines.sort();
    assert_eq!(lines, [9, 12]);

    // An output folder from an earlier good compile stays exactly as it was.
    std::fs::write(
        tmp.path().join("good.yaml"),
        CPC.replace("        - command.*\n", ""),
    )
    .unwrap();
    natscc()
        .current_dir(tmp.path())
        .args(["compile", "-f", "good.yaml", "-o", "out"])
        .assert()
        .code(0);
    let before: Vec<(String, Vec<u8>)> = files(&out);
    natscc()
        .current_dir(tmp.path())
        .args(["compile", "-f", "cpc.yaml", "-o", "out"])
        .assert()
        .code(1);
    assert_eq!(files(&out), before);
}

/// Every file of the output tree (the pods' config folders included), with its contents.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let v: Vec<(String, Vec<u8>)> = common::files_under(dir)
        .into_iter()
        .map(|rel| {
            (
                rel.to_string_lossy().into_owned(),
                std::fs::read(dir.join(&rel)).unwrap(),
            )
        })
        .collect();
    assert!(
        v.iter().any(|(f, _)| f.ends_with("nats-config/nats.conf")),
        "the good compile wrote no nats.conf: {:?}",
        v.iter().map(|(f, _)| f).collect::<Vec<_>>()
    );
    v
}

/// Graph output of every fixture and of the overlapping CPC: DOT that Graphviz renders, the
/// cycle in red; Mermaid with its red link style.
#[test]
fn graph_output_renders_with_dot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("cpc.yaml"), CPC).unwrap();
    let mut inputs = vec![
        tmp.path().join("cpc.yaml"),
        root.join("examples/cpc-1.yaml"),
    ];
    let mut fixtures: Vec<_> = std::fs::read_dir(root.join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path().join("values.yaml"))
        .filter(|p| p.is_file())
        .collect();
    fixtures.sort();
    inputs.extend(fixtures);
    let mut graphs = vec![];
    for input in &inputs {
        let run = natscc().args(["graph", "-f"]).arg(input).output().unwrap();
        // Values with errors are drawn and exit 1; plain NATS chart values draw nothing.
        if run.stdout.is_empty() {
            continue;
        }
        let text = String::from_utf8(run.stdout).unwrap();
        assert!(
            text.starts_with("digraph natscc {\n") && text.ends_with("}\n"),
            "{}:\n{text}",
            input.display()
        );
        graphs.push((input.clone(), text));
    }
    assert!(graphs.len() >= 8, "only {} event-bus graphs", graphs.len());
    let cycle = &graphs[0].1;
    assert_eq!(
        cycle.matches(", color=red,").count(),
        2,
        "the two imports of the cycle are red:\n{cycle}"
    );
    let mermaid = natscc()
        .args(["graph", "--format", "mermaid", "-f"])
        .arg(&inputs[0])
        .output()
        .unwrap();
    // The cycle is an error: drawn, and reported with exit 1.
    assert!(
        String::from_utf8(mermaid.stdout)
            .unwrap()
            .contains("linkStyle")
            && mermaid.status.code() == Some(1)
    );

    let dot = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("dot"))
        .find(|p| p.is_file());
    let Some(dot) = dot else {
        eprintln!(
            "SKIPPED (rendering part only): Graphviz `dot` is not on PATH (apt-get install graphviz); the DOT text checks above ran"
        );
        return;
    };
    for (input, text) in &graphs {
        let out = std::process::Command::new(&dot)
            .args(["-Tsvg"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(text.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.trim().is_empty(),
            "dot refuses the graph of {}:\n{err}\n{text}",
            input.display()
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("<svg"),
            "{}",
            input.display()
        );
    }
}
