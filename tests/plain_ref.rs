//! Plain-chart mode against the official NATS chart's own renders
//! (`fixtures/chart-plain-ref/<case>/`: `values.yaml` and the chart's `rendered.yaml`, made with
//! Helm's engine from the NATS chart alone, release `nats` in namespace `nats`): natscc's
//! ConfigMap has the chart's name, data keys and `nats.conf` bytes, that nats.conf loads in a
//! real `nats-server -t`, and the flat nats.conf natscc writes beside it (its own printing) reads
//! back as the same config.

// A scenario reads top to bottom as one story; the 120-line limit is for src/.
#![allow(clippy::too_many_lines)]

mod common;
use common::{config_maps, first_difference, stream_docs};

use natscc::load::{Inputs, Node};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Cases natscc refuses on purpose (configs nats-server refuses to start), with the codes it
/// must give; their bytes are still compared.
const REFUSED: &[(&str, &[&str])] = &[
    ("refused-max-payload", &["natscc::nats_chart::max_payload"]),
    // The chart writes route credentials into nats.conf: a password in a ConfigMap, in clear.
    ("cluster-routes", &["natscc::secrets::clear_password"]),
    // Leafnodes and a gateway without a system account: the server refuses to start.
    (
        "listeners-tls",
        &["natscc::start::leaf_gateway_system_account"],
    ),
];

/// Warnings a case must give: keys the chart reads in other releases but 2.12.6 ignores.
const WARNED: &[(&str, &[&str])] = &[("listeners-tls", &["natscc::nats_chart::ignored_key"])];

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/chart-plain-ref");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    assert!(
        out.len() >= 8,
        "the plain-chart reference cases are in {}",
        root.display()
    );
    out
}

fn compile(case: &Path) -> natscc::Compiled {
    natscc::compile(&Inputs {
        files: vec![case.join("values.yaml")],
        ..Default::default()
    })
}

/// The ConfigMap name and nats.conf bytes natscc renders for a case, without its checks.
fn rendered_alone(case: &Path) -> (String, String) {
    let root = common::plain_values(case);
    let rendered = natscc::chart::render::render(&root);
    (
        rendered.names.config_map.clone(),
        natscc::chart::print::format_config(&rendered.conf) + "\n",
    )
}

/// The variables nats.conf reads from the pod's environment that the values name themselves
/// (env.yaml lists them without a source): recorded as `inlined` so the server check sets them.
fn give_user_variables(out: &Path) {
    let text = std::fs::read_to_string(out.join("env.yaml")).unwrap();
    let env = common::read_yaml(&out.join("env.yaml"));
    let names: Vec<String> = env
        .get("nats")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter(|v| v.get("from").is_some())
        .filter_map(|v| v.get("name").and_then(Node::as_str).map(str::to_string))
        .collect();
    if names.is_empty() {
        return;
    }
    let inlined: String = names
        .iter()
        .map(|n| format!("  {n}: natscc-test-value\n"))
        .collect();
    std::fs::write(out.join("env.yaml"), format!("{text}inlined:\n{inlined}")).unwrap();
}

#[test]
fn the_config_map_is_the_charts_byte_for_byte_and_loads() {
    let mut failures = vec![];
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let compiled = compile(&case);
        let errors: Vec<&str> = compiled
            .diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code.name())
            .collect();
        let warned: Vec<&str> = compiled.diags.iter().map(|d| d.code.name()).collect();
        for (_, codes) in WARNED.iter().filter(|(c, _)| *c == name) {
            for code in *codes {
                if !warned.contains(code) {
                    failures.push(format!(
                        "{name}: compile must report {code}; it reports {warned:?}"
                    ));
                }
            }
        }
        match REFUSED.iter().find(|(c, _)| *c == name) {
            Some((_, codes)) => {
                for code in *codes {
                    if !errors.contains(code) {
                        failures.push(format!(
                            "{name}: compile must refuse with {code}; its errors: {errors:?}"
                        ));
                    }
                }
                // Refused, but the bytes natscc would mount are still the chart's.
                let chart = config_maps(&stream_docs(
                    &std::fs::read_to_string(case.join("rendered.yaml")).unwrap(),
                ));
                let (cm, text) = rendered_alone(&case);
                match chart.get(&cm).and_then(|d| d.get("nats.conf")) {
                    Some(r) if *r == text => {}
                    Some(r) => failures.push(format!(
                        "{name}: {cm}/nats.conf differs; {}",
                        first_difference(&text, r)
                    )),
                    None => failures.push(format!("{name}: the chart renders no ConfigMap {cm}")),
                }
                continue;
            }
            None if !errors.is_empty() => {
                let messages: Vec<String> = compiled
                    .diags
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| format!("{}: {}", d.code.name(), d.message))
                    .collect();
                failures.push(format!(
                    "{name}: natscc refuses values the chart renders: {messages:?}"
                ));
                continue;
            }
            None => {}
        }
        let chart = config_maps(&stream_docs(
            &std::fs::read_to_string(case.join("rendered.yaml")).unwrap(),
        ));
        let Some(manifests) = compiled.files.get("manifests.yaml") else {
            failures.push(format!("{name}: no manifests.yaml"));
            continue;
        };
        let mine = config_maps(&stream_docs(manifests));
        let (names_mine, names_chart): (Vec<&String>, Vec<&String>) =
            (mine.keys().collect(), chart.keys().collect());
        if names_mine != names_chart {
            failures.push(format!(
                "{name}: ConfigMaps {names_mine:?}, the chart's {names_chart:?}"
            ));
        }
        for (cm, reference) in &chart {
            let Some(data) = mine.get(cm) else { continue };
            let keys = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
            if keys(data) != keys(reference) {
                failures.push(format!(
                    "{name}: ConfigMap {cm} keys {:?}, the chart's {:?}",
                    keys(data),
                    keys(reference)
                ));
            }
            for (k, text) in data {
                if let Some(r) = reference.get(k).filter(|r| *r != text) {
                    failures.push(format!(
                        "{name}: {cm}/{k} differs; {}",
                        first_difference(text, r)
                    ));
                }
            }
            let read = |t: Option<&String>| t.and_then(|t| natscc::natsconf::parse_conf(t).ok());
            let (flat, mounted) = (
                read(compiled.files.get("nats.conf")),
                read(data.get("nats.conf")),
            );
            if flat.is_none() || flat != mounted {
                failures.push(format!(
                    "{name}: nats.conf and the ConfigMap's nats.conf are not the same config"
                ));
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        for (file, text) in &compiled.files {
            let path = out.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        // The server reads what the pod mounts: the ConfigMap's bytes.
        if let Some(text) = mine.values().next().and_then(|d| d.get("nats.conf")) {
            std::fs::write(out.join("nats.conf"), text).unwrap();
        }
        give_user_variables(&out);
        if let Err(e) = std::panic::catch_unwind(|| common::check_with_server(&out, "nats.conf")) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{name}: {msg}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
