//! The NATS chart's own corpus (`fixtures/chart-corpus/`, see its README): every whole values
//! example of the chart's README and every value set of its test suite, with Helm's render of
//! each (`rendered.yaml`). Each one either compiles to Helm's ConfigMap byte for byte (name,
//! keys, every file) and starts on a real server, or is refused with the codes listed below,
//! whose reason the real server confirms with its own words on Helm's render (or, for the
//! secrets codes, natscc's policy: no password in clear anywhere in the values).
//!
//! Run it on nats-server 2.12.6, the chart's image (NATS_SERVER_BIN).

mod common;
#[path = "common/plain.rs"]
mod plain;

use common::{config_maps, first_difference, stream_docs};
use plain::Start;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How the server answers Helm's render of a case natscc refuses.
enum Server {
    /// It stops, at `-t` or at start, with these words.
    Refuses(&'static str),
    /// It starts: the refusal is natscc's policy on secrets in the values.
    Starts,
}

/// The cases natscc refuses, the codes it must give (and no other error), and the server's
/// answer to the chart's render.
const REFUSED: &[(&str, &[&str], Server)] = &[
    // The README's accounts and nats-box contexts with passwords in clear.
    (
        "readme-merge",
        &["natscc::secrets::clear_password"],
        Server::Starts,
    ),
    // The README's include example: its auth.conf holds passwords in clear.
    (
        "readme-includes",
        &["natscc::secrets::clear_password"],
        Server::Starts,
    ),
    // Placeholders where the README asks for nsc's output: no operator JWT file, no system
    // account key.
    (
        "readme-operator-resolver",
        &["natscc::values::file", "natscc::operator::system_account"],
        Server::Refuses("OPERATOR_JWT"),
    ),
    // Leafnodes and a gateway without a system account.
    (
        "test-config-merge-patch",
        &[
            "natscc::start::leaf_gateway_system_account",
            "natscc::operator::missing",
        ],
        // The server names the first refusal it meets; without leafnodes and the gateway, a
        // resolver without an operator stops it ("Could not start resolver: no operator key
        // found", tests/chart_start.rs).
        Server::Refuses("require a system account"),
    ),
    // Also `verify_cert_and_check_known_urls` in the client TLS block, which -t refuses first.
    (
        "test-config-tls",
        &[
            "natscc::start::leaf_gateway_system_account",
            "natscc::server::type",
        ],
        Server::Refuses("verify_cert_and_check_known_urls not supported in this context"),
    ),
    (
        "test-ports",
        &["natscc::start::leaf_gateway_system_account"],
        Server::Refuses("require a system account"),
    ),
    // Route credentials in clear, and a resolver without an operator.
    (
        "test-config-options",
        &[
            "natscc::secrets::clear_password",
            "natscc::operator::missing",
            "natscc::operator::resolver_type",
        ],
        Server::Refuses("resolver"),
    ),
    // A nats-box context with a token in clear.
    (
        "test-resource-options",
        &["natscc::secrets::clear_password"],
        Server::Starts,
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/chart-corpus")
}

fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// The ConfigMap natscc renders for a case, whatever its verdict: name and data.
fn natscc_config_map(case: &Path) -> (String, BTreeMap<String, String>) {
    let root = common::plain_values(case);
    let rendered = natscc::chart::render::render(&root);
    let (files, _) = natscc::driver::plain::includes::config_map_data(&root);
    (
        rendered.names.config_map.clone(),
        natscc::driver::plain::emit::config_map_data(&rendered, &files),
    )
}

/// Compares natscc's ConfigMap with Helm's: the same name, keys and bytes.
fn compare(name: &str, mine: &(String, BTreeMap<String, String>), chart: &str) -> Vec<String> {
    let charts = config_maps(&stream_docs(chart));
    let Some(theirs) = charts.get(&mine.0) else {
        return vec![format!(
            "{name}: Helm renders no ConfigMap {} (it renders {:?})",
            mine.0,
            charts.keys().collect::<Vec<_>>()
        )];
    };
    let mut out = vec![];
    if mine.1.keys().collect::<Vec<_>>() != theirs.keys().collect::<Vec<_>>() {
        out.push(format!(
            "{name}: data keys {:?}, Helm's {:?}",
            mine.1.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>()
        ));
    }
    for (k, text) in &mine.1 {
        if let Some(r) = theirs.get(k).filter(|r| *r != text) {
            out.push(format!(
                "{name}: {k} differs; {}",
                first_difference(text, r)
            ));
        }
    }
    out
}

#[test]
fn the_charts_own_examples_compile_to_helms_render_or_are_refused_as_the_server_confirms() {
    let cases = cases();
    assert!(cases.len() >= 27, "the corpus is in {}", root().display());
    let mut failures = vec![];
    let (mut started, mut refused) = (0, 0);
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let chart = std::fs::read_to_string(case.join("rendered.yaml")).unwrap();
        failures.extend(compare(&name, &natscc_config_map(case), &chart));
        let (compiled, errors) = common::compile_case(case);
        let tmp = tempfile::tempdir().unwrap();
        match REFUSED.iter().find(|(c, _, _)| *c == name) {
            None => {
                if !errors.is_empty() {
                    failures.push(format!("{name}: natscc refuses it: {errors:?}"));
                    continue;
                }
                // What natscc wrote, as the pod mounts it.
                let manifests = &compiled.files["manifests.yaml"];
                let data = config_maps(&stream_docs(manifests))
                    .into_values()
                    .next()
                    .unwrap();
                for (k, text) in &data {
                    if k != "nats.conf" && compiled.files.get(k) != Some(text) {
                        failures.push(format!("{name}: {k} is not written beside nats.conf"));
                    }
                }
                match plain::pod_config(&data).map(|c| plain::start(&c, tmp.path())) {
                    Ok(Start::Ready) => started += 1,
                    Ok(other) => failures.push(format!("{name}: accepted, but {other:?}")),
                    Err(e) => failures.push(format!("{name}: accepted, unreadable: {e}")),
                }
            }
            Some((_, codes, server)) => {
                let mut want: Vec<&str> = codes.to_vec();
                want.sort();
                if errors != want {
                    failures.push(format!("{name}: errors {errors:?}, expected {want:?}"));
                }
                refused += 1;
                let data = config_maps(&stream_docs(&chart))
                    .into_iter()
                    .find(|(_, d)| d.contains_key("nats.conf"))
                    .map(|(_, d)| d)
                    .unwrap();
                let answer = match plain::pod_config(&data) {
                    Ok(c) => plain::start(&c, tmp.path()),
                    Err(e) => Start::Refused(e),
                };
                match (server, &answer) {
                    (Server::Starts, Start::Ready) => {}
                    (Server::Refuses(words), Start::Refused(said) | Start::Stopped(said))
                        if said.contains(words) => {}
                    _ => failures.push(format!(
                        "{name}: the server's answer to Helm's render is {answer:?}"
                    )),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        started >= 15 && refused == REFUSED.len(),
        "{started} started, {refused} refused"
    );
}
