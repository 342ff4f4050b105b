//! `natscc post-render` on a real rendered stream (fixtures/post-render/stream.yaml: what Helm
//! renders from the event-bus chart for one CPC, with the cluster's Gateway and another chart's
//! nginx.conf beside it): a valid stream passes byte for byte; every kind of breakage stops it
//! with nothing on stdout and exit 1; `--values` replaces exactly the generated ConfigMaps'
//! contents.

mod common;

use common::natscc;
use natscc::diag::{Source, Sources};
use natscc::load::{Node, yaml};
use std::path::Path;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/post-render")
            .join(name),
    )
    .unwrap()
}

fn stream() -> String {
    fixture("stream.yaml")
}

/// Runs post-render; returns (exit code, stdout, stderr).
fn post_render(input: &str, args: &[&str]) -> (i32, String, String) {
    let out = natscc()
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/post-render"))
        .arg("post-render")
        .args(args)
        .write_stdin(input.as_bytes().to_vec())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A refusal: exit 1, nothing at all on stdout, and the findings (concise) on stderr.
fn refused(input: &str, args: &[&str]) -> String {
    let mut all = vec!["--format", "concise"];
    all.extend(args);
    let (code, stdout, stderr) = post_render(input, &all);
    assert_eq!(code, 1, "must refuse; stderr:\n{stderr}");
    assert!(
        stdout.is_empty(),
        "nothing may reach stdout on a refusal, got {} bytes",
        stdout.len()
    );
    stderr
}

fn edit(from: &str, to: &str) -> String {
    let s = stream();
    assert!(s.contains(from), "the fixture holds {from:?}");
    s.replacen(from, to, 1)
}

#[test]
fn a_valid_stream_passes_byte_for_byte() {
    let input = stream();
    let (code, stdout, stderr) = post_render(&input, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, input);
    assert!(
        stderr.is_empty(),
        "a clean stream reports nothing: {stderr}"
    );
}

#[test]
fn a_cross_layer_overlap_injected_into_the_stream_is_refused() {
    // What the chart renders when cpcExports also lists `command.*` (cscPrefixedExports has
    // `command.>`): the CSC imports it back, the CPC exports it. nats-server refuses to start.
    let s = edit(
        "        { stream: { account: CPC, subject: \"alarm.*.raised\" }, to: \"cpc.1.alarm.*.raised\" }\n",
        "        { stream: { account: CPC, subject: \"alarm.*.raised\" }, to: \"cpc.1.alarm.*.raised\" }\n        { stream: { account: CPC, subject: \"command.*\" }, to: \"cpc.1.command.*\" }\n",
    );
    let s = s.replacen(
        "        { stream: \"alarm.*.raised\" }\n",
        "        { stream: \"alarm.*.raised\" }\n        { stream: \"command.*\" }\n",
        1,
    );
    let err = refused(&s, &[]);
    let line = s
        .lines()
        .position(|l| l.contains("subject: \"command.*\" }, to:"))
        .unwrap()
        + 1;
    assert!(
        err.starts_with(&format!(
            "<stdin>:{line}:9: error: natscc::cross_layer::overlap: "
        )),
        "{err}"
    );
    assert!(
        err.contains("cycle: CPC command.* -> CSC cpc.1.command.* -> CPC command.>"),
        "{err}"
    );
    assert!(
        err.contains("[ConfigMap `nats-accounts-config`, accounts.conf line 15]"),
        "{err}"
    );
    // And the real server agrees: it refuses to start with these accounts.
    let why = server_refusal(&s);
    assert!(
        why.contains("import forms a cycle"),
        "nats-server refused the stream, but not for the cycle:\n{why}"
    );
}

#[test]
fn an_echo_overlap_and_a_duplicate_are_refused_too() {
    // cscExports and cpcExports share `broadcast.>`: it loads, but echoes back up to the CSC.
    let s = edit(
        "        { stream: \"sensor.>\" }\n",
        "        { stream: \"sensor.>\" }\n        { stream: \"broadcast.>\" }\n",
    );
    let s = s.replacen(
        "        { service: { account: CPC, subject: \"$JS.API.>\" }",
        "        { stream: { account: CPC, subject: \"broadcast.>\" }, to: \"cpc.1.broadcast.>\" }\n        { service: { account: CPC, subject: \"$JS.API.>\" }",
        1,
    );
    let err = refused(&s, &[]);
    assert!(err.contains("natscc::cross_layer::overlap: `broadcast.>` is in both crossLayer.cscExports and crossLayer.cpcExports"), "{err}");
    // The same import twice: the server refuses it ("stream import already exists").
    let s = edit(
        "        { stream: { account: CSC, subject: \"csc2cpc.1.>\" } }\n",
        "        { stream: { account: CSC, subject: \"csc2cpc.1.>\" } }\n        { stream: { account: CSC, subject: \"csc2cpc.1.>\" } }\n",
    );
    assert!(refused(&s, &[]).contains("natscc::graph::duplicate_import"));
}

#[test]
fn an_import_of_something_not_exported_is_refused() {
    let s = edit("        { stream: \"csc2cpc.1.>\" }\n", "");
    let err = refused(&s, &[]);
    assert!(
        err.contains("natscc::graph::import_not_exported") && err.contains("`csc2cpc.1.>`"),
        "{err}"
    );
}

#[test]
fn a_config_that_does_not_parse_is_refused_with_its_place_in_the_stream() {
    // The first `max_payload` of the stream is the mTLS release's (the chart renders it first).
    let s = edit(
        "      \"max_payload\": 4194304,\n",
        "      \"max_payload\": 4194304 5,\n",
    );
    let err = refused(&s, &[]);
    let line = s.lines().position(|l| l.contains("4194304 5")).unwrap() + 1;
    assert!(
        err.starts_with(&format!(
            "<stdin>:{line}:30: error: natscc::natsconf::syntax: nats.conf in ConfigMap `nats-mtls-config` (document 7) does not parse: "
        )),
        "{err}"
    );
}

#[test]
fn an_include_the_pod_cannot_see_is_refused() {
    // The accounts ConfigMap's key is mounted under another name in /etc/nats-accounts.
    let s = edit(
        "      - configMap:\n          name: nats-accounts-config\n        name: nats-accounts-config\n",
        "      - configMap:\n          name: nats-accounts-config\n          items:\n          - key: accounts.conf\n            path: cpc-accounts.conf\n        name: nats-accounts-config\n",
    );
    let err = refused(&s, &[]);
    assert!(
        err.contains("natscc::natsconf::include")
            && err.contains(
                "nothing is mounted at /etc/nats-accounts/accounts.conf in StatefulSet `nats`"
            ),
        "{err}"
    );
}

#[test]
fn routes_are_checked_against_the_gateway_listeners() {
    let err = refused(
        &edit(
            "    sectionName: nats-client\n",
            "    sectionName: nats-clients\n",
        ),
        &[],
    );
    assert!(
        err.contains("natscc::gateway::route_listener")
            && err.contains("did you mean `nats-client`?"),
        "{err}"
    );
    // A TLSRoute cannot attach to a listener that terminates TLS.
    let s = edit(
        "kind: TCPRoute\nmetadata:\n  name: nats-mqtt\n",
        "kind: TLSRoute\nmetadata:\n  name: nats-mqtt\n",
    );
    let err = refused(&s, &[]);
    assert!(
        err.contains("TLSRoute `nats-mqtt` attaches to listener `mqtt` (TLS, Terminate)"),
        "{err}"
    );
}

#[test]
fn tls_passthrough_to_the_leaf_listener_needs_handshake_first() {
    // The leaf route made TLS passthrough (listener and route), but the remote does not handshake
    // first.
    let s = edit(
        "  - name: nats-leafnode\n    port: 7422\n    protocol: TLS\n    tls:\n      mode: Terminate\n      certificateRefs:\n      - name: gateway-tls\n    allowedRoutes:\n      kinds:\n      - kind: TCPRoute\n",
        "  - name: nats-leafnode\n    port: 7422\n    protocol: TLS\n    tls:\n      mode: Passthrough\n    allowedRoutes:\n      kinds:\n      - kind: TLSRoute\n",
    );
    let s = s.replacen(
        "kind: TCPRoute\nmetadata:\n  name: nats-leafnode\n",
        "kind: TLSRoute\nmetadata:\n  name: nats-leafnode\n",
        1,
    );
    let s = s.replacen("spec:\n  parentRefs:\n  - name: shared-gateway\n    namespace: envoy-gateway-system\n    sectionName: nats-leafnode\n", "spec:\n  hostnames:\n  - leaf.cpc-1.example.net\n  parentRefs:\n  - name: shared-gateway\n    namespace: envoy-gateway-system\n    sectionName: nats-leafnode\n", 1);
    let err = refused(&s, &[]);
    assert!(
        err.contains("natscc::gateway::handshake_first")
            && err.contains("the leaf listener of nats.conf"),
        "{err}"
    );
    // With handshake_first in the remote's TLS block it passes.
    let ok = s.replacen(
        "        account: CSC\n",
        "        account: CSC\n        tls: {handshake_first: true}\n",
        1,
    );
    let (code, stdout, stderr) = post_render(&ok, &[]);
    assert_eq!((code, stdout == ok), (0, true), "{stderr}");
}

#[test]
fn empty_input_is_refused() {
    for input in [
        "",
        "\n",
        "---\n",
        "# Source: chart/templates/empty.yaml\n---\n---\n",
    ] {
        let err = refused(input, &[]);
        assert!(
            err.contains("natscc::post_render::empty"),
            "{input:?}: {err}"
        );
    }
}

#[test]
fn broken_yaml_and_binary_input_are_refused() {
    assert!(refused("kind: ConfigMap\n  data: [\n", &[]).contains("natscc::yaml::syntax"));
    let (code, stdout, _) = natscc()
        .arg("post-render")
        .write_stdin(vec![0xff, 0xfe, 0x00])
        .output()
        .map(|o| (o.status.code().unwrap(), o.stdout, ()))
        .unwrap();
    assert_eq!((code, stdout.len()), (1, 0));
}

#[test]
fn a_stream_without_nats_configs_passes_with_a_warning() {
    let input = "---\n# Source: other/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: b\n";
    let (code, stdout, stderr) = post_render(input, &["--format", "concise"]);
    assert_eq!((code, stdout.as_str()), (0, input));
    assert!(
        stderr.contains("warning: natscc::post_render::no_event_bus"),
        "{stderr}"
    );
    let (code, stdout, _) = post_render(input, &["--deny-warnings"]);
    assert_eq!((code, stdout.len()), (1, 0));
}

/// Splits a stream into its documents, text as is.
fn documents(s: &str) -> Vec<&str> {
    s.split("\n---\n").collect()
}

fn parse(name: &str, text: &str) -> Vec<Node> {
    let mut sources = Sources::default();
    let id = sources.add(Source::new(name, text));
    let (docs, diags) = yaml::parse_stream(id, &sources);
    assert!(diags.is_empty(), "{diags:?}");
    docs.unwrap()
}

/// The ConfigMaps natscc compiles, each with an edit inside its data: the stream as Helm
/// rendered it from other values (a stale render).
const STALE: &[(&str, &str, &str)] = &[
    (
        "nats-mtls-config",
        "\"max_payload\": 4194304,",
        "\"max_payload\": 1048576,",
    ),
    (
        "nats-config",
        "\"max_payload\": 4194304,",
        "\"max_payload\": 1048576,",
    ),
    (
        "nats-accounts-config",
        "{ stream: \"csc2cpc.1.>\" }",
        "{ stream: \"csc2cpc.9.>\" }",
    ),
    (
        "nats-leafnodes-config",
        "nats://172.18.200.1:7422",
        "nats://172.18.200.9:7422",
    ),
    (
        "nats-mtls-accounts-config",
        "jetstream: false",
        "jetstream: true",
    ),
    (
        "nats-env-config",
        "NATS_CLUSTER_NAME: \"cpc-1\"",
        "NATS_CLUSTER_NAME: \"cpc-9\"",
    ),
    (
        "auth-callout-permissions",
        "\\\"surveyor\\\":{\\\"account\\\":\\\"SYS\\\"",
        "\\\"surveyor\\\":{\\\"account\\\":\\\"CPC\\\"",
    ),
    (
        "nats-event-bus-auth-callout-config",
        "        level: info\n",
        "        level: debug\n",
    ),
];

/// Does this document of the stream define ConfigMap `name`?
fn is_config_map(doc: &str, name: &str) -> bool {
    doc.contains("kind: ConfigMap\n") && doc.contains(&format!("\n  name: {name}\n"))
}

/// The fixture stream with the STALE edits.
fn stale_stream() -> String {
    let fresh = stream();
    let mut docs: Vec<String> = documents(&fresh).into_iter().map(str::to_string).collect();
    for (cm, from, to) in STALE {
        let doc = docs
            .iter_mut()
            .find(|d| is_config_map(d, cm))
            .unwrap_or_else(|| panic!("the fixture has ConfigMap {cm}"));
        let data_at = doc.find("\ndata:\n").unwrap();
        assert!(
            doc[data_at..].contains(from),
            "ConfigMap {cm}'s data holds {from:?}"
        );
        *doc = doc.replacen(from, to, 1);
    }
    docs.join("\n---\n")
}

#[test]
fn values_replace_the_generated_configmaps_and_nothing_else() {
    let fresh = stream();
    let input = stale_stream();
    let (code, stdout, stderr) =
        post_render(&input, &["--values", "values.yaml", "--format", "concise"]);
    assert_eq!(code, 0, "{stderr}");
    // The chart-default warning of the values is reported, and nothing else.
    assert!(
        stderr
            .lines()
            .all(|l| l.contains("warning: natscc::nats_chart::ignored_key")),
        "{stderr}"
    );
    // natscc compiles the chart's own bytes: the stale stream becomes the one Helm renders
    // from these values, every byte outside the replaced data kept.
    assert!(
        stdout == fresh,
        "the rewritten stream differs from the chart's render of the values:\n{stdout}"
    );

    let (before, after) = (documents(&input), documents(&stdout));
    assert_eq!(before.len(), after.len());
    let mut replaced = 0;
    for (b, a) in before.iter().zip(&after) {
        if STALE.iter().any(|(cm, _, _)| is_config_map(b, cm)) {
            assert_ne!(b, a, "a generated ConfigMap must change");
            replaced += 1;
        } else {
            assert_eq!(b, a, "other documents are byte-identical");
        }
    }
    assert_eq!(replaced, STALE.len());

    // The data now holds exactly what natscc compiles: the ConfigMaps of manifests.yaml, and
    // the files each pod mounts.
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/post-render");
    natscc()
        .current_dir(&dir)
        .args(["compile", "-f", "values.yaml", "-o"])
        .arg(tmp.path().join("out"))
        .assert()
        .success();
    let compiled_file = |f: &str| std::fs::read_to_string(tmp.path().join("out").join(f)).unwrap();
    let out_docs = parse("out", &stdout);
    let data = |cm: &str, key: &str| -> String {
        let d = out_docs
            .iter()
            .find(|d| {
                d.get("kind").and_then(Node::as_str) == Some("ConfigMap")
                    && d.path(&["metadata", "name"]).and_then(Node::as_str) == Some(cm)
            })
            .unwrap();
        d.path(&["data", key])
            .and_then(Node::as_str)
            .unwrap()
            .to_string()
    };
    let manifests = parse("manifests.yaml", &compiled_file("manifests.yaml"));
    let mut compiled_cms = 0;
    for m in manifests
        .iter()
        .filter(|d| d.get("kind").and_then(Node::as_str) == Some("ConfigMap"))
    {
        let cm = m
            .path(&["metadata", "name"])
            .and_then(Node::as_str)
            .unwrap();
        assert!(
            STALE.iter().any(|(name, _, _)| *name == cm),
            "natscc compiles ConfigMap {cm}, which the test does not stale"
        );
        for e in m.get("data").map(Node::entries).unwrap_or_default() {
            assert_eq!(
                data(cm, &e.key),
                e.value.as_str().unwrap(),
                "{cm}/{}",
                e.key
            );
        }
        compiled_cms += 1;
    }
    assert_eq!(compiled_cms, STALE.len());
    for (cm, key, file) in [
        ("nats-config", "nats.conf", "nats/nats-config/nats.conf"),
        (
            "nats-accounts-config",
            "accounts.conf",
            "nats/nats-accounts/accounts.conf",
        ),
        (
            "nats-leafnodes-config",
            "leafnodes.conf",
            "nats/nats-leafnodes/leafnodes.conf",
        ),
        (
            "nats-mtls-config",
            "nats.conf",
            "nats-mtls/nats-config/nats.conf",
        ),
        (
            "nats-mtls-accounts-config",
            "accounts.conf",
            "nats-mtls/nats-mtls-accounts/accounts.conf",
        ),
        (
            "auth-callout-permissions",
            "permissions.json",
            "permissions.json",
        ),
    ] {
        assert_eq!(data(cm, key), compiled_file(file), "{cm}/{key}");
    }
    // Running the post-renderer on its own output with the same values changes nothing.
    let (code, again, _) = post_render(&stdout, &["--values", "values.yaml"]);
    assert_eq!((code, again == stdout), (0, true));
}

#[test]
fn values_that_do_not_fit_the_stream_are_refused() {
    // The values turn mTLS off, but the rendered chart carries the mTLS instance.
    let err = refused(
        &stream(),
        &[
            "-f",
            "values.yaml",
            "--set",
            "global.eventBus.mtls.enabled=false",
        ],
    );
    assert!(
        err.contains("natscc::post_render::values_mismatch")
            && err.contains("ConfigMap `nats-mtls-config` carries `nats.conf`")
            && err.contains("ConfigMap `nats-mtls-accounts-config` carries `accounts.conf`"),
        "{err}"
    );
    // Values with an error: the values' own finding, and nothing on stdout.
    let err = refused(
        &stream(),
        &[
            "-f",
            "values.yaml",
            "--set",
            "global.eventBus.crossLayer.cpcExports={command.x}",
        ],
    );
    assert!(
        err.contains("natscc::cross_layer::overlap") && err.contains("--set"),
        "{err}"
    );
}

/// A ConfigMap key holding an empty block scalar (a CSC's `leafnodes.conf: |`, then the next
/// document) that the values fill: the replaced block ends at the document, not at the end of
/// the stream (issue 11's fuzz: exit 101, "begin > end" in replace.rs).
#[test]
fn values_that_fill_an_empty_block_replace_it_in_place() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let csc =
        std::fs::read_to_string(root.join("fixtures/chart-ref/csc-basic/rendered.yaml")).unwrap();
    assert!(
        csc.contains("  leafnodes.conf: |\n\n---\n"),
        "the fixture's empty block"
    );
    let cpc = root.join("examples/cpc-1.yaml");
    let (code, stdout, stderr) = post_render(
        &csc,
        &["--format", "concise", "--values", cpc.to_str().unwrap()],
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The CPC compiles the same ConfigMaps: they are replaced, the leaf block filled where it
    // stands, and every other document kept as it was.
    assert_eq!(code, 0, "{stderr}");
    let (before, after) = (documents(&csc), documents(&stdout));
    assert_eq!(before.len(), after.len(), "documents lost:\n{stdout}");
    let leaf = before
        .iter()
        .position(|d| is_config_map(d, "nats-leafnodes-config"))
        .unwrap();
    assert!(after[leaf].contains("remotes"), "{}", after[leaf]);
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        if !b.contains("kind: ConfigMap") {
            assert_eq!(b, a, "document {i} changed");
        }
    }
    // The CSC's own values give the stream back byte for byte.
    let case = root.join("fixtures/chart-ref/csc-basic");
    let values: Vec<String> = ["common.yaml", "csc.yaml", "zz-jwks.yaml"]
        .iter()
        .flat_map(|f| ["--values".to_string(), case.join(f).display().to_string()])
        .collect();
    let mut args = vec!["--format", "concise"];
    args.extend(values.iter().map(String::as_str));
    let (code, stdout, stderr) = post_render(&csc, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout, csc,
        "the chart's own render comes back byte for byte"
    );
}

/// Writes each server pod's config files where its `nats` container sees them (its ConfigMap
/// volume mounts, `/etc/<folder>` as `<release>/<folder>`) beside the compiled env.yaml and
/// secrets.yaml, and runs the real `nats-server -t` on the config the container starts with.
/// Why the real server refuses `text`'s configs. Only a refusal counts: any other failure of
/// `check_stream_with_server` (a missing server, a ConfigMap the stream lacks, a timeout) is
/// re-raised, so it can never pass for the server's verdict.
fn server_refusal(text: &str) -> String {
    let panic = match std::panic::catch_unwind(|| check_stream_with_server(text)) {
        Ok(()) => panic!("nats-server accepted the stream"),
        Err(p) => p,
    };
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|m| m.to_string()))
        .unwrap_or_default();
    if !message.starts_with("nats-server -t -c ")
        || !message.contains(" refused the config compiled in ")
    {
        std::panic::resume_unwind(panic);
    }
    message
}

fn check_stream_with_server(text: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/post-render");
    let compiled = tmp.path().join("compiled");
    natscc()
        .current_dir(&dir)
        .args(["compile", "-f", "values.yaml", "-o"])
        .arg(&compiled)
        .assert()
        .success();
    let tree = tmp.path().join("pods");
    std::fs::create_dir(&tree).unwrap();
    for f in ["env.yaml", "secrets.yaml"] {
        std::fs::copy(compiled.join(f), tree.join(f)).unwrap();
    }
    let docs = parse("stream", text);
    let s = |n: &Node, p: &[&str]| n.path(p).and_then(Node::as_str).map(str::to_string);
    let mut started = vec![];
    for pod in ["nats", "nats-mtls"] {
        let set = docs
            .iter()
            .find(|d| {
                s(d, &["kind"]).as_deref() == Some("StatefulSet")
                    && s(d, &["metadata", "name"]).as_deref() == Some(pod)
            })
            .unwrap_or_else(|| panic!("the stream has StatefulSet {pod}"));
        let spec = set.path(&["spec", "template", "spec"]).unwrap();
        let container = spec
            .get("containers")
            .unwrap()
            .items()
            .iter()
            .find(|c| s(c, &["name"]).as_deref() == Some("nats"))
            .unwrap();
        let volumes = spec.get("volumes").map(Node::items).unwrap_or_default();
        let local = |path: &str| -> String {
            let rest = path
                .strip_prefix("/etc/")
                .unwrap_or_else(|| panic!("{pod} mounts {path} outside /etc"));
            format!("{pod}/{rest}")
        };
        for m in container
            .get("volumeMounts")
            .map(Node::items)
            .unwrap_or_default()
        {
            let (name, path) = (s(m, &["name"]).unwrap(), s(m, &["mountPath"]).unwrap());
            let Some(cm) = volumes
                .iter()
                .find(|v| s(v, &["name"]).as_ref() == Some(&name))
                .and_then(|v| s(v, &["configMap", "name"]))
            else {
                continue;
            };
            let d = docs
                .iter()
                .find(|d| {
                    s(d, &["kind"]).as_deref() == Some("ConfigMap")
                        && s(d, &["metadata", "name"]).as_ref() == Some(&cm)
                })
                .unwrap_or_else(|| panic!("{pod} mounts ConfigMap {cm}, which the stream lacks"));
            let folder = tree.join(local(&path));
            std::fs::create_dir_all(&folder).unwrap();
            for e in d.get("data").unwrap().entries() {
                std::fs::write(folder.join(&e.key), e.value.as_str().unwrap()).unwrap();
            }
        }
        let args: Vec<String> = container
            .get("args")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        let conf = args
            .iter()
            .position(|a| a == "--config")
            .and_then(|i| args.get(i + 1))
            .unwrap_or_else(|| panic!("{pod} starts with --config"));
        started.push(local(conf));
    }
    for conf in started {
        common::check_with_server(&tree, &conf);
    }
}

#[test]
fn the_fixture_stream_and_its_values_rewrite_load_in_the_real_server() {
    let input = stream();
    check_stream_with_server(&input);
    // A stale render rewritten from the values loads too.
    let (code, stdout, stderr) = post_render(&stale_stream(), &["--values", "values.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    check_stream_with_server(&stdout);
}

#[test]
fn the_helm_4_plugin_manifest_is_a_postrenderer_v1_running_natscc() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("helm-plugin/natscc-postrender");
    let manifest = common::read_yaml(&dir.join("plugin.yaml"));
    let s = |p: &[&str]| {
        manifest
            .path(p)
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        (
            s(&["apiVersion"]),
            s(&["type"]),
            s(&["runtime"]),
            s(&["name"])
        ),
        (
            "v1".into(),
            "postrenderer/v1".into(),
            "subprocess".into(),
            "natscc-postrender".into()
        )
    );
    assert!(
        manifest
            .get("version")
            .and_then(Node::as_str)
            .is_some_and(|v| v.split('.').count() == 3)
    );
    let commands = manifest
        .path(&["runtimeConfig", "platformCommand"])
        .map(Node::items)
        .unwrap_or_default();
    assert_eq!(commands.len(), 1);
    let command = commands[0].get("command").and_then(Node::as_str).unwrap();
    let script = dir.join(
        command
            .strip_prefix("${HELM_PLUGIN_DIR}/")
            .expect("the command lives in the plugin folder"),
    );
    use std::os::unix::fs::PermissionsExt;
    assert!(
        std::fs::metadata(&script).unwrap().permissions().mode() & 0o111 != 0,
        "{} is executable",
        script.display()
    );

    // Run as Helm 4 runs it: manifests on stdin, --post-renderer-args appended, stdout captured.
    let bin = assert_cmd::cargo::cargo_bin("natscc");
    let run = |input: &str, report: Option<&Path>, args: &[&str]| {
        let mut cmd = std::process::Command::new(&script);
        cmd.args(args)
            .env("NATSCC_BIN", &bin)
            .env("NATSCC_NO_TTY", "1")
            .env("HELM_PLUGIN_DIR", &dir)
            .current_dir(
                dir.parent()
                    .unwrap()
                    .parent()
                    .unwrap()
                    .join("fixtures/post-render"),
            );
        if let Some(r) = report {
            cmd.env("NATSCC_REPORT", r);
        }
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let input = stream();
    let (code, stdout, stderr) = run(&input, None, &[]);
    assert_eq!((code, stdout == input), (0, true), "{stderr}");
    // With the values, a stale render becomes the chart's render of them.
    let (code, stdout, stderr) = run(&stale_stream(), None, &["--values", "values.yaml"]);
    assert_eq!((code, stdout == input), (0, true), "{stderr}");
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("findings.txt");
    let (code, stdout, stderr) = run(
        &edit("        { stream: \"csc2cpc.1.>\" }\n", ""),
        Some(&report),
        &["--format", "concise"],
    );
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(
        stderr.contains("natscc::graph::import_not_exported"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&report).unwrap(), stderr);
    // No natscc to run: a clear message, nothing on stdout.
    let out = std::process::Command::new(&script)
        .env("NATSCC_BIN", "/nonexistent/natscc")
        .env("NATSCC_NO_TTY", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!((out.status.code(), out.stdout.len()), (Some(2), 0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot find natscc"));
}

#[test]
fn a_config_in_a_quoted_scalar_is_located_by_its_own_line() {
    let input = "---\n# Source: x/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nats-config\ndata:\n  nats.conf: \"port: 4222\\nmax_payload: [1]\\n\"\n";
    let err = refused(input, &[]);
    assert!(err.starts_with("<stdin>:8:14: error: natscc::natsconf::syntax: nats.conf in ConfigMap `nats-config` (document 1) does not parse:"), "{err}");
    assert!(
        err.contains("this `[` is never closed (line 2, column 14 of the config)"),
        "{err}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]
    /// Whatever the stream turns into, the post-renderer answers (with the stream or with
    /// findings), never panics, and never answers with anything but its input.
    #[test]
    fn mangled_streams_never_panic(edits in proptest::collection::vec((0usize..30_000, 0usize..40, proptest::sample::select(vec!["", "{", "}", "[", "]", "\"", "'", ":", "\n", "  ", "include x.conf\n", "$", "-", "#", "---\n", "\t", "é", "\\"])), 1..6)) {
        let mut s = stream();
        for (at, cut, with) in edits {
            let mut at = at % (s.len() + 1);
            while !s.is_char_boundary(at) { at -= 1; }
            let mut end = (at + cut).min(s.len());
            while !s.is_char_boundary(end) { end -= 1; }
            s.replace_range(at..end.max(at), with);
        }
        let outcome = natscc::postrender::run(s.clone().into_bytes(), None);
        if let Some(out) = outcome.output {
            proptest::prop_assert_eq!(out, s);
        } else {
            proptest::prop_assert!(outcome.diags.iter().any(|d| d.is_error()));
        }
    }

    #[test]
    fn the_config_reader_never_panics(text in "[ -~\\n\\t{}\\[\\]\"'$:=,;#/\\\\()é0-9kKmMgGiIbB.-]{0,200}") {
        let _ = natscc::natsconf::parse(&text);
    }
}

#[test]
fn nats_configs_are_told_from_other_charts_conf_files() {
    // The fixture carries an nginx.conf for an unrelated Deployment: it passes untouched (above).
    // A NATS config under a name that says nothing is still recognised by what it sets.
    let input = "---\n# Source: x/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bus\ndata:\n  server.conf: |\n    server_name: $SERVER_NAME\n    max_payload: 100MB\n";
    let err = refused(input, &[]);
    assert!(err.starts_with("<stdin>:10:18: error: natscc::nats_chart::max_payload: max_payload (104857600) is higher than max_pending (67108864)"), "{err}");
    assert!(
        err.contains("[ConfigMap `bus`, server.conf line 2]"),
        "{err}"
    );
}

/// What compile judges in the values' merge blocks and extra accounts, post-render judges in
/// the configs of a stream alone: each edit below is one the real server refuses, and
/// post-render names it with the code compile gives.
#[test]
fn options_and_account_users_the_server_refuses_are_refused_in_the_stream() {
    let user_a = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";
    let user_b = "UAHYFZAGZV6Y6X3X4WTXB67MBE6TZ7SN7OTTGYDNV7OSOGAABHBDGXLQ";
    let cases: Vec<(String, &str)> = vec![
        (
            edit(
                "      \"lame_duck_duration\": \"30s\",\n",
                "      \"lame_duck_duration\": \"30s\",\n      \"max_paylod\": 1048576,\n",
            ),
            "natscc::server::unknown_key",
        ),
        (
            edit(
                "      \"lame_duck_grace_period\": \"10s\",\n",
                "      \"lame_duck_grace_period\": \"abc\",\n",
            ),
            "natscc::server::type",
        ),
        (
            edit(
                "      \"lame_duck_duration\": \"30s\",\n",
                "      \"lame_duck_duration\": \"30s\",\n      \"jetstream\": 5,\n",
            ),
            "natscc::server::type",
        ),
        (
            edit(
                "    CSC {\n      jetstream: false\n",
                "    CSC {\n      jetstream: false\n      users: [{ nkey: hello }]\n",
            ),
            "natscc::accounts::user_nkey",
        ),
        (
            edit(
                "    CSC {\n      jetstream: false\n",
                &format!(
                    "    CSC {{\n      jetstream: false\n      users: [{{ nkey: {user_a} }}, {{ nkey: {user_b} }}, {{ nkey: {user_a} }}]\n"
                ),
            ),
            "natscc::accounts::duplicate_user",
        ),
        (
            edit(
                "    CSC {\n      jetstream: false\n",
                "    CSC {\n      jetstream: false\n      users: [[{ nkey: hello }]]\n",
            ),
            "natscc::server::nested_list",
        ),
    ];
    for (text, code) in cases {
        let err = refused(&text, &[]);
        assert!(err.contains(code), "post-render must say {code}:\n{err}");
        server_refusal(&text);
    }
}

/// Helm prints a ConfigMap value as a quoted scalar when a line of it ends in spaces (the
/// chart's extra accounts leave such a line): the config then maps onto the stream only as a
/// whole. A duplicate import between extra accounts is still refused there, beside a CPC's
/// cross-layer lists (their places once covered every import of the config).
#[test]
fn a_duplicate_import_in_a_quoted_accounts_config_is_refused() {
    let s = stream();
    let head = "  accounts.conf: |\n";
    let at = s
        .find(head)
        .expect("the fixture has accounts.conf as a block");
    let body_start = at + head.len();
    let body_len = s[body_start..].find("\n---").expect("the ConfigMap ends");
    let mut conf: String = s[body_start..body_start + body_len]
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    conf.push_str("Ext1 {\n  jetstream: false\n  \n  exports: [{\"stream\":\"b.>\"}]\n}\n");
    conf.push_str("Ext2 {\n  jetstream: false\n  \n  imports: [{\"stream\":{\"account\":\"Ext1\",\"subject\":\"b.>\"}},{\"stream\":{\"account\":\"Ext1\",\"subject\":\"b.>\"}}]\n}\n");
    let quoted = format!(
        "  accounts.conf: \"{}\"",
        conf.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    );
    let edited = format!("{}{}{}", &s[..at], quoted, &s[body_start + body_len..]);
    let err = refused(&edited, &[]);
    assert!(
        err.contains(
            "natscc::graph::duplicate_import: account `Ext2` imports stream `b.>` from `Ext1` twice"
        ),
        "{err}"
    );
    server_refusal(&edited);
}
