//! natscc's Kubernetes listing files against the chart's own renders
//! (fixtures/chart-ref/<case>/rendered.yaml):
//! gateway routes and NACK Streams as objects, env.yaml and secrets.yaml as chartdiff compares them
//! (the env entries of the nats, nats-mtls and auth-callout containers; the (secret, key) pairs the
//! pods read).

// A scenario reads top to bottom as one story; the 120-line limit is for src/.
#![allow(clippy::too_many_lines)]

use natscc::diag::Sources;
use natscc::load::{self, yaml};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CASES: [&str; 11] = [
    "cpc-1",
    "cpc-extras",
    "cpc-leaf-tlsroute",
    "cpc-mtls-off",
    "cpc-mtls-tweaks",
    "cpc-wildcards",
    "csc-basic",
    "csc-edge",
    "csc-full",
    "csc-mtls-off-tweaks",
    "csc-override",
];

fn case_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/chart-ref")
        .join(case)
}

fn yaml_docs(name: &str, text: String) -> Vec<Value> {
    let mut sources = Sources::default();
    let id = load::add_file(&mut sources, name, text);
    let (nodes, diags) = yaml::parse_stream(id, &sources);
    let nodes = nodes.unwrap_or_else(|| panic!("{name} parses: {diags:?}"));
    nodes
        .iter()
        .map(|n| n.to_json())
        .filter(|v| v.is_object())
        .collect()
}

struct Case {
    chart: Vec<Value>,
    files: natscc::emit::Files,
}

fn compile(case: &str) -> Case {
    let dir = case_dir(case);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "yaml") && p.file_name().unwrap() != "rendered.yaml"
        })
        .collect();
    files.sort();
    let c = natscc::compile(&load::Inputs {
        files,
        ..Default::default()
    });
    assert!(
        !c.has_errors(),
        "{case}: natscc refuses: {:?}",
        c.diags
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
    );
    let chart = yaml_docs(
        "rendered.yaml",
        std::fs::read_to_string(dir.join("rendered.yaml")).unwrap(),
    );
    Case {
        chart,
        files: c.files,
    }
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter()
        .fold(v, |v, k| v.get(*k).unwrap_or(&Value::Null))
}

fn by_name(
    objs: impl Iterator<Item = Value>,
    project: impl Fn(&Value) -> Value,
) -> BTreeMap<String, Value> {
    objs.map(|o| {
        (
            s(&o, &["metadata", "name"])
                .as_str()
                .unwrap_or_default()
                .to_string(),
            project(&o),
        )
    })
    .collect()
}

fn is_route(o: &Value) -> bool {
    s(o, &["apiVersion"])
        .as_str()
        .is_some_and(|a| a.starts_with("gateway.networking.k8s.io/"))
        && s(o, &["kind"])
            .as_str()
            .is_some_and(|k| k.ends_with("Route"))
}

fn route_view(o: &Value) -> Value {
    let mut v = json!({"apiVersion": o["apiVersion"], "kind": o["kind"], "parentRefs": s(o, &["spec", "parentRefs"]), "rules": s(o, &["spec", "rules"])});
    if let Some(h) = o.get("spec").and_then(|s| s.get("hostnames")) {
        v["hostnames"] = h.clone();
    }
    v
}

fn is_stream(o: &Value) -> bool {
    s(o, &["kind"]) == "Stream"
        && s(o, &["apiVersion"])
            .as_str()
            .is_some_and(|a| a.starts_with("jetstream.nats.io/"))
}

#[test]
fn routes_equal_the_charts() {
    for case in CASES {
        let c = compile(case);
        let mine = by_name(
            yaml_docs("gateway.yaml", c.files["gateway.yaml"].clone()).into_iter(),
            route_view,
        );
        let chart = by_name(c.chart.iter().filter(|o| is_route(o)).cloned(), route_view);
        assert_eq!(mine, chart, "{case}: gateway routes");
        // metadata.name is the key; the chart's namespace is the release's, which natscc leaves to
        // kubectl/helm.
    }
}

#[test]
fn streams_equal_the_charts() {
    for case in CASES {
        let c = compile(case);
        let view = |o: &Value| json!({"apiVersion": o["apiVersion"], "kind": o["kind"], "spec": o["spec"]});
        let mine = by_name(
            yaml_docs("streams.yaml", c.files["streams.yaml"].clone()).into_iter(),
            view,
        );
        let chart = by_name(c.chart.iter().filter(|o| is_stream(o)).cloned(), view);
        assert_eq!(mine, chart, "{case}: NACK Streams");
    }
}

/// The pod specs of the chart's workloads: role -> pod spec.
fn workloads(chart: &[Value]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for o in chart {
        let kind = s(o, &["kind"]).as_str().unwrap_or_default();
        if !matches!(kind, "StatefulSet" | "Deployment" | "DaemonSet") {
            continue;
        }
        let name = s(o, &["metadata", "name"])
            .as_str()
            .unwrap_or_default()
            .to_string();
        let role = match name.as_str() {
            "nats" | "nats-mtls" => name.clone(),
            n if n.ends_with("auth-callout") => "auth-callout".into(),
            n => format!("{kind}/{n}"),
        };
        out.insert(role, s(o, &["spec", "template", "spec"]).clone());
    }
    out
}

fn containers(spec: &Value) -> Vec<&Value> {
    ["containers", "initContainers"]
        .iter()
        .flat_map(|k| spec.get(*k).and_then(Value::as_array).into_iter().flatten())
        .collect()
}

fn container<'a>(spec: &'a Value, name: &str) -> Option<&'a Value> {
    spec.get("containers")?
        .as_array()?
        .iter()
        .find(|c| c["name"] == name)
}

fn env_map(list: &Value) -> BTreeMap<String, Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let mut rest: Map<String, Value> = e.as_object().cloned().unwrap_or_default();
            rest.remove("name");
            (
                e["name"].as_str().unwrap_or_default().to_string(),
                Value::Object(rest),
            )
        })
        .collect()
}

const ENV_IGNORE: [&str; 6] = [
    "POD_NAME",
    "POD_NAMESPACE",
    "NODE_NAME",
    "GOMEMLIMIT",
    "AUTH_CALLOUT_SERVICE_NAME",
    "AUTH_CALLOUT_SERVICE_SERVER_PORT",
];

#[test]
fn env_equals_the_charts() {
    for case in CASES {
        let c = compile(case);
        let env = &yaml_docs("env.yaml", c.files["env.yaml"].clone())[0];
        let wl = workloads(&c.chart);
        // nats-env-config, as strings, against what natscc inlined
        let cm = c
            .chart
            .iter()
            .find(|o| o["kind"] == "ConfigMap" && s(o, &["metadata", "name"]) == "nats-env-config");
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let chart_cm: BTreeMap<String, String> = cm
            .and_then(|c| c["data"].as_object())
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        let inlined: BTreeMap<String, String> = env["inlined"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        assert_eq!(inlined, chart_cm, "{case}: inlined nats-env-config");
        for (role, cont_name) in [
            ("nats", "nats"),
            ("nats-mtls", "nats"),
            ("auth-callout", "auth-callout"),
        ] {
            let mine = env_map(&env[role]);
            let Some(cont) = wl.get(role).and_then(|spec| container(spec, cont_name)) else {
                assert!(
                    mine.is_empty(),
                    "{case}: {role} has no pod in the chart but env.yaml lists {mine:?}"
                );
                continue;
            };
            let raw = env_map(&cont["env"]);
            let mut chart = BTreeMap::new();
            for (n, v) in &raw {
                if ENV_IGNORE.contains(&n.as_str()) && !mine.contains_key(n) {
                    continue;
                }
                let secret = s(v, &["valueFrom", "secretKeyRef"]).is_object();
                let used = role == "auth-callout"
                    && (n.starts_with("AUTH_CALLOUT_") || n.starts_with("NKEY_"));
                if !(secret || used || mine.contains_key(n)) {
                    continue;
                }
                // SERVER_NAME: $(POD_NAME), POD_NAME from the pod's name
                let v = match v["value"]
                    .as_str()
                    .and_then(|x| x.strip_prefix("$("))
                    .and_then(|x| x.strip_suffix(')'))
                {
                    Some(inner) if raw.get(inner).is_some_and(|r| r.get("valueFrom").is_some()) => {
                        raw[inner].clone()
                    }
                    _ => v.clone(),
                };
                chart.insert(n.clone(), v);
            }
            assert_eq!(mine, chart, "{case}: env of {role}");
        }
    }
}

#[test]
fn secrets_equal_the_charts() {
    for case in CASES {
        let c = compile(case);
        let cms: BTreeMap<String, Value> = c
            .chart
            .iter()
            .filter(|o| o["kind"] == "ConfigMap")
            .map(|o| {
                (
                    s(o, &["metadata", "name"])
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    o["data"].clone(),
                )
            })
            .collect();
        let mut chart: BTreeSet<(String, String)> = BTreeSet::new();
        for spec in workloads(&c.chart).values() {
            let vols: BTreeMap<String, &Value> = spec["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| (v["name"].as_str().unwrap_or_default().to_string(), v))
                .collect();
            let conts = containers(spec);
            // what the pod's commands and mounted configs name: the files it reads under secret
            // mounts
            let mut texts = String::new();
            for c in &conts {
                for a in c["command"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(c["args"].as_array().into_iter().flatten())
                {
                    texts += &format!(" {}", a.as_str().unwrap_or_default());
                }
                for m in c["volumeMounts"].as_array().into_iter().flatten() {
                    if let Some(cm) = vols
                        .get(m["name"].as_str().unwrap_or_default())
                        .and_then(|v| v["configMap"]["name"].as_str())
                    {
                        for v in cms
                            .get(cm)
                            .and_then(Value::as_object)
                            .into_iter()
                            .flatten()
                            .map(|(_, v)| v)
                        {
                            texts += &format!(" {}", v.as_str().unwrap_or_default());
                        }
                    }
                }
            }
            for c in &conts {
                for e in c["env"].as_array().into_iter().flatten() {
                    let r = s(e, &["valueFrom", "secretKeyRef"]);
                    if r.is_object() {
                        chart.insert((
                            r["name"].as_str().unwrap().into(),
                            r["key"].as_str().unwrap().into(),
                        ));
                    }
                }
                for m in c["volumeMounts"].as_array().into_iter().flatten() {
                    let Some(sec) = vols
                        .get(m["name"].as_str().unwrap_or_default())
                        .map(|v| &v["secret"])
                        .filter(|s| s.is_object())
                    else {
                        continue;
                    };
                    let name = sec["secretName"].as_str().unwrap().to_string();
                    if let Some(items) = sec["items"].as_array() {
                        chart.extend(
                            items
                                .iter()
                                .map(|i| (name.clone(), i["key"].as_str().unwrap().to_string())),
                        );
                        continue;
                    }
                    let mp = format!(
                        "{}/",
                        m["mountPath"].as_str().unwrap().trim_end_matches('/')
                    );
                    // A file under a deeper mount of the same container (`/etc/nats-certs/nats/`
                    // under `/etc/nats-certs/`) belongs to that mount, not to this one.
                    let deeper: Vec<String> = c["volumeMounts"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|o| {
                            format!(
                                "{}/",
                                o["mountPath"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .trim_end_matches('/')
                            )
                        })
                        .filter(|o| o.len() > mp.len() && o.starts_with(&mp))
                        .collect();
                    let keys: BTreeSet<String> = texts
                        .match_indices(&mp)
                        .filter(|(i, _)| {
                            !deeper.iter().any(|d| texts[*i..].starts_with(d.as_str()))
                        })
                        .map(|(i, _)| {
                            texts[i + mp.len()..]
                                .chars()
                                .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                                .collect::<String>()
                        })
                        .filter(|k| !k.is_empty())
                        .collect();
                    assert!(
                        !keys.is_empty(),
                        "{case}: secret {name} mounted whole with no file read under {mp}"
                    );
                    chart.extend(keys.into_iter().map(|k| (name.clone(), k)));
                }
            }
        }
        let doc = &yaml_docs("secrets.yaml", c.files["secrets.yaml"].clone())[0];
        let mut mine = BTreeSet::new();
        for sc in doc["secrets"].as_array().into_iter().flatten() {
            for k in sc["keys"].as_array().into_iter().flatten() {
                match k.get("overriddenBy") {
                    None => {
                        mine.insert((
                            sc["name"].as_str().unwrap().to_string(),
                            k["key"].as_str().unwrap().to_string(),
                        ));
                    }
                    Some(o) => {
                        let r = s(o, &["valueFrom", "secretKeyRef"]);
                        if r.is_object() {
                            mine.insert((
                                r["name"].as_str().unwrap().to_string(),
                                r["key"].as_str().unwrap().to_string(),
                            ));
                        }
                    }
                }
            }
        }
        assert_eq!(mine, chart, "{case}: (secret, key) pairs");
    }
}
