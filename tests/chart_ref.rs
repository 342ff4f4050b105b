//! natscc against the chart's own renders (`fixtures/chart-ref/<case>/`: the values files and
//! the chart's `rendered.yaml`, made with Helm's engine): every ConfigMap natscc emits has the
//! chart's name, keys and bytes, every one the chart renders is emitted, and the post-renderer
//! passes the chart's stream through unchanged, with and without the same values.

use natscc::load::Inputs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod common;
use common::{config_maps, first_difference, stream_docs, values_files};

/// The bus's ConfigMaps the chart renders and natscc must emit.
const BUS_CONFIG_MAPS: &[&str] = &[
    "nats-config",
    "nats-mtls-config",
    "nats-accounts-config",
    "nats-leafnodes-config",
    "nats-mtls-accounts-config",
    "nats-env-config",
    "auth-callout-permissions",
    "nats-event-bus-auth-callout-config",
];

/// Cases natscc refuses on purpose, with the codes it must give. Where the chart renders a
/// broken config, natscc still emits the chart's bytes (compared below) and refuses them.
const REFUSED: &[(&str, &[&str])] = &[
    ("cpc-overlap", &["natscc::cross_layer::overlap"]),
    ("bus-cpc-extra-fields", &["natscc::values::number_format"]),
    (
        "bus-cpc-numeric-id",
        &[
            "natscc::values::unquoted_id",
            "natscc::values::number_format",
        ],
    ),
    (
        "bus-cpc-zero-id",
        &[
            "natscc::values::unquoted_id",
            "natscc::values::number_format",
        ],
    ),
    (
        "bus-csc-numeric-ids",
        &[
            "natscc::values::unquoted_id",
            "natscc::values::number_format",
        ],
    ),
    ("bus-disabled-accounts", &["natscc::schema::type"]),
    ("bus-leaf-tls-nested", &["natscc::values::number_format"]),
    ("bus-quote-escapes", &["natscc::natsconf::syntax"]),
    (
        "bus-user-null-over-default",
        &["natscc::auth::oauth2_no_jwks"],
    ),
    ("cpc-1-no-jwks", &["natscc::auth::oauth2_no_jwks"]),
];

fn refused(name: &str) -> Option<&'static [&'static str]> {
    REFUSED
        .iter()
        .find(|(c, _)| *c == name)
        .map(|(_, codes)| *codes)
}

/// natscc's ConfigMaps for a case: from the compiled manifests when it compiles, else from
/// the rendered bus the refused compile still built.
fn natscc_config_maps(compiled: &natscc::Compiled) -> BTreeMap<String, BTreeMap<String, String>> {
    match compiled.files.get("manifests.yaml") {
        Some(text) => config_maps(&stream_docs(text)),
        None => compiled
            .bus
            .as_ref()
            .map(|bus| {
                bus.config_maps
                    .iter()
                    .map(|c| (c.name.clone(), c.data.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/chart-ref");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("plain-")
        })
        .collect();
    out.sort();
    assert!(
        out.len() >= 12,
        "the twelve reference cases are in {}",
        root.display()
    );
    out
}

#[test]
fn every_config_map_is_the_charts_byte_for_byte() {
    let mut failures = vec![];
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let inputs = Inputs {
            files: values_files(&case),
            ..Default::default()
        };
        let compiled = natscc::compile(&inputs);
        let errors: Vec<&str> = compiled
            .diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.code.name())
            .collect();
        match refused(&name) {
            Some(codes) => {
                for code in codes {
                    if !errors.contains(code) {
                        failures.push(format!(
                            "{name}: compile must refuse with {code}; its errors: {errors:?}"
                        ));
                    }
                }
                if name == "cpc-overlap" {
                    continue;
                }
            }
            None if !errors.is_empty() => {
                failures.push(format!(
                    "{name}: natscc refuses values the chart renders: {:?}",
                    compiled
                        .diags
                        .iter()
                        .map(|d| &d.message)
                        .collect::<Vec<_>>()
                ));
                continue;
            }
            None => {}
        }
        let chart = config_maps(&stream_docs(
            &std::fs::read_to_string(case.join("rendered.yaml")).unwrap(),
        ));
        let mine = natscc_config_maps(&compiled);
        // The fixed names, and any other name natscc gives a ConfigMap (a renamed auth callout).
        let mut names: Vec<&str> = BUS_CONFIG_MAPS.to_vec();
        names.extend(
            mine.keys()
                .map(String::as_str)
                .filter(|c| !BUS_CONFIG_MAPS.contains(c)),
        );
        for cm in &names {
            match (mine.get(*cm), chart.get(*cm)) {
                (None, None) => {}
                (Some(_), None) => failures.push(format!(
                    "{name}: natscc emits ConfigMap {cm}, the chart does not"
                )),
                (None, Some(_)) => failures.push(format!(
                    "{name}: the chart renders ConfigMap {cm}, natscc does not"
                )),
                (Some(a), Some(b)) => {
                    let keys = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>();
                    if keys(a) != keys(b) {
                        failures.push(format!(
                            "{name}: ConfigMap {cm} keys {:?}, the chart's {:?}",
                            keys(a),
                            keys(b)
                        ));
                    }
                    for (k, text) in a {
                        if let Some(reference) = b.get(k).filter(|r| *r != text) {
                            failures.push(format!(
                                "{name}: {cm}/{k} differs; {}",
                                first_difference(text, reference)
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Refused cases whose stream itself shows the break (post-render without the values sees it).
fn alone_refuses(name: &str) -> bool {
    matches!(
        name,
        "bus-disabled-accounts"
            | "bus-cpc-extra-fields"
            | "bus-cpc-numeric-id"
            | "bus-csc-numeric-ids"
            | "bus-quote-escapes"
            | "bus-leaf-tls-nested"
            | "bus-cpc-zero-id"
    )
}

#[test]
fn post_render_passes_the_charts_stream_unchanged() {
    let mut failures = vec![];
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let stream = std::fs::read(case.join("rendered.yaml")).unwrap();
        let inputs = Inputs {
            files: values_files(&case),
            ..Default::default()
        };
        // The chart's broken renders are refused alone too, when the break is in the stream.
        let broken = refused(&name).is_some();
        for values in [None, Some(&inputs)] {
            let refused =
                broken && (values.is_some() || name == "cpc-overlap" || alone_refuses(&name));
            let mode = if values.is_some() {
                "with --values"
            } else {
                "alone"
            };
            let out = natscc::postrender::run(stream.clone(), values);
            let errors: Vec<String> = out
                .diags
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("{}: {}", d.code.name(), d.message))
                .collect();
            match (refused, out.output) {
                (true, None) => {}
                (true, Some(_)) => failures.push(format!(
                    "{name} ({mode}): post-render passes a stream compile refuses"
                )),
                (false, Some(o)) if o.as_bytes() == stream.as_slice() => {}
                (false, Some(_)) => failures.push(format!(
                    "{name} ({mode}): post-render changed the chart's stream"
                )),
                (false, None) => failures.push(format!(
                    "{name} ({mode}): post-render refuses the chart's stream: {errors:?}"
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
