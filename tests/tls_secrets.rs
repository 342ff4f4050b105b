//! The one listing of the TLS files the NATS chart's pod mounts (`chart::secrets`), held to
//! Helm's engine on the chart copied in `tests/data/event-bus-chart/charts/nats`: for each case the Secrets and
//! ConfigMaps the StatefulSet mounts, with the files its config reloader watches under each
//! mount, are exactly what natscc's `secrets.yaml` lists. The cases hold what the two copies
//! natscc had disagreed on: a listener that is off with TLS on (not mounted), an empty `cert`
//! (the chart reads `tls.crt`), a CA given as ConfigMap and Secret at once (the ConfigMap wins).

mod common;

use natscc::load::Node;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const CASES: &[(&str, &str)] = &[
    (
        "listener-off",
        r#"config:
  leafnodes:
    enabled: false
    tls: {enabled: true, secretName: leaf-tls}
  websocket:
    enabled: true
    tls: {enabled: true, secretName: ws-tls, cert: ""}
  nats:
    tls: {enabled: true, secretName: client-tls}
tlsCA: {enabled: true, secretName: ca-secret, configMapName: ca-cm}
"#,
    ),
    (
        "listeners-on",
        r#"config:
  cluster:
    enabled: true
    tls: {enabled: true, secretName: route-tls, cert: route.pem, key: route-key.pem}
  leafnodes:
    enabled: true
    tls: {enabled: true, secretName: leaf-tls}
  mqtt:
    enabled: true
    tls: {enabled: true, secretName: mqtt-tls}
  nats:
    tls: {enabled: false, secretName: unused-tls}
tlsCA: {enabled: true, secretName: ca-secret, key: root.pem}
"#,
    ),
    (
        "no-tls",
        r#"config:
  websocket:
    enabled: true
    tls: {enabled: false, secretName: ws-tls}
tlsCA: {enabled: false, secretName: ca-secret}
"#,
    ),
];

/// (holder kind, name, key) for every mounted TLS file.
type Listing = BTreeSet<(String, String, String)>;

fn text<'a>(n: &'a Node, path: &[&str]) -> Option<&'a str> {
    n.path(path).and_then(Node::as_str)
}

/// What Helm's StatefulSet mounts: each volume of the nats container (Secret or ConfigMap) and
/// the TLS files under its mount that the config reloader watches (`-config <path>`).
fn helm_listing(rendered: &str) -> Listing {
    let docs = common::stream_docs(rendered);
    let sts = docs
        .iter()
        .find(|d| text(d, &["kind"]) == Some("StatefulSet"))
        .expect("the chart renders a StatefulSet");
    let pod = sts.path(&["spec", "template", "spec"]).unwrap();
    let containers = pod.get("containers").unwrap().items();
    let by_name = |name: &str| {
        containers
            .iter()
            .find(|c| text(c, &["name"]) == Some(name))
            .unwrap_or_else(|| panic!("no {name} container"))
    };
    let watched: Vec<&str> = by_name("reloader")
        .get("args")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .collect();
    let mut out = Listing::new();
    for mount in by_name("nats").get("volumeMounts").unwrap().items() {
        let (name, dir) = (
            text(mount, &["name"]).unwrap(),
            text(mount, &["mountPath"]).unwrap(),
        );
        let volume = pod
            .get("volumes")
            .unwrap()
            .items()
            .iter()
            .find(|v| text(v, &["name"]) == Some(name))
            .unwrap();
        let holder = match (
            text(volume, &["secret", "secretName"]),
            text(volume, &["configMap", "name"]),
        ) {
            (Some(s), _) => ("secret", s),
            (None, Some(c)) if name != "config" => ("configMap", c),
            _ => continue,
        };
        for path in &watched {
            if let Some(key) = path.strip_prefix(&format!("{dir}/")) {
                out.insert((holder.0.into(), holder.1.into(), key.into()));
            }
        }
    }
    out
}

/// What natscc's secrets.yaml lists.
fn natscc_listing(case: &Path) -> Listing {
    let (compiled, errors) = common::compile_case(case);
    assert!(
        errors.is_empty(),
        "{}: natscc refuses: {errors:?}",
        case.display()
    );
    let listing = &common::stream_docs(&compiled.files["secrets.yaml"])[0];
    let mut out = Listing::new();
    for s in listing.get("secrets").unwrap().items() {
        let holder = match (text(s, &["name"]), text(s, &["configMap"])) {
            (Some(n), _) => ("secret", n),
            (None, Some(c)) => ("configMap", c),
            _ => panic!("a listing entry names no holder"),
        };
        for k in s.get("keys").unwrap().items() {
            let key = text(k, &["key"]).unwrap();
            out.insert((holder.0.into(), holder.1.into(), key.into()));
        }
    }
    out
}

#[test]
fn the_tls_listing_is_what_the_chart_mounts() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<PathBuf> = CASES
        .iter()
        .map(|(name, values)| {
            let dir = tmp.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("values.yaml"), values).unwrap();
            dir
        })
        .collect();
    common::helm_template("tests/data/event-bus-chart/charts/nats", &[], &cases);
    for case in &cases {
        let rendered = std::fs::read_to_string(case.join("rendered.yaml"))
            .unwrap_or_else(|_| panic!("Helm refuses {}", case.display()));
        let helm = helm_listing(&rendered);
        assert_eq!(
            natscc_listing(case),
            helm,
            "{}: natscc's secrets.yaml differs from what the chart mounts",
            case.display()
        );
    }
    // The cases hold each of the three disagreements the listing settles.
    let first = helm_listing(&std::fs::read_to_string(cases[0].join("rendered.yaml")).unwrap());
    assert!(
        !first
            .iter()
            .any(|(_, n, _)| n == "leaf-tls" || n == "ca-secret")
    );
    assert!(first.contains(&("secret".into(), "ws-tls".into(), "tls.crt".into())));
}
