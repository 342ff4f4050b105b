//! Kubernetes objects and the listing files: routes, NACK streams, permissions, env, secrets.

use crate::conf::{Conf, ConfMap, Item};
use crate::model::names::{self, generated_users, secret_keys};
use crate::model::{Model, RouteKind};
use serde_json::{Map, Value, json};

fn labels() -> Value {
    json!({"app.kubernetes.io/managed-by": "natscc", "app.kubernetes.io/part-of": "nats-event-bus"})
}

/// One TCPRoute or TLSRoute per enabled route.
pub fn routes(m: &Model) -> Vec<Value> {
    m.routes
        .iter()
        .filter(|r| r.enabled)
        .map(|r| {
            let mut spec = json!({
                "parentRefs": [{
                    "name": r.gateway_name,
                    "namespace": r.gateway_namespace,
                    "sectionName": r.section_name.value,
                }],
                "rules": [{"backendRefs": [{"name": r.backend, "port": r.port}]}],
            });
            if r.kind.value == RouteKind::Tls && !r.hostnames.is_empty() {
                spec["hostnames"] = r
                    .hostnames
                    .iter()
                    .map(|h| Value::String(h.value.clone()))
                    .collect();
            }
            json!({
                // The chart's template names this version whatever the values say.
                "apiVersion": "gateway.networking.k8s.io/v1alpha2",
                "kind": r.kind.value.name(),
                "metadata": {"name": r.resource, "labels": labels()},
                "spec": spec,
            })
        })
        .collect()
}

/// Rewrites a cross-layer subject onto an MQTT stream's subject space.
fn mqtt_subject(kind: &str, subject: &str) -> String {
    format!("$MQTT.{kind}.{subject}")
}

/// The MQTT JetStream streams as NACK Stream resources.
pub fn streams(m: &Model) -> Vec<Value> {
    let ms = &m.mqtt_streams;
    let defs: [(&str, &str, &str, Option<&str>); 5] = [
        ("mqtt-msgs", "$MQTT_msgs", "$MQTT.msgs.>", Some("msgs")),
        ("mqtt-rmsgs", "$MQTT_rmsgs", "$MQTT.rmsgs.>", Some("rmsgs")),
        ("mqtt-sess", "$MQTT_sess", "$MQTT.sess.>", None),
        ("mqtt-qos2in", "$MQTT_qos2in", "$MQTT.qos2.in.>", None),
        ("mqtt-out", "$MQTT_out", "$MQTT.out.>", None),
    ];
    defs.iter()
        .map(|(resource, name, subject, sourced)| {
            let mut spec = json!({
                "name": name,
                "subjects": [subject],
                "retention": "limits",
                "discard": "old",
                "storage": ms.storage,
                "replicas": ms.replicas,
                "maxBytes": ms.max_bytes,
            });
            if *name != "$MQTT_sess" {
                spec["maxAge"] = json!(ms.max_age);
            }
            if *name == "$MQTT_rmsgs" {
                spec["maxMsgsPerSubject"] = json!(1);
            }
            if let (true, Some(kind)) = (m.is_cpc(), sourced) {
                let id = m.id();
                let mut transforms: Vec<Value> = m
                    .cross
                    .csc_exports
                    .iter()
                    .map(|e| json!({"source": mqtt_subject(kind, &e.value), "dest": ""}))
                    .collect();
                transforms.extend(m.cross.csc_prefixed_exports.iter().map(|p| {
                    json!({
                        "source": mqtt_subject(kind, &format!("cpc.{id}.{}", p.value)),
                        "dest": mqtt_subject(kind, &p.value),
                    })
                }));
                // The chart writes `subjectTransforms:` with no items when both lists are empty.
                let transforms = if transforms.is_empty() {
                    Value::Null
                } else {
                    Value::Array(transforms)
                };
                spec["sources"] = json!([{
                    "name": name,
                    "externalApiPrefix": "$JS.CSC.API",
                    "externalDeliverPrefix": format!("csc2cpc.{id}"),
                    "subjectTransforms": transforms,
                }]);
            }
            json!({
                "apiVersion": "jetstream.nats.io/v1beta2",
                "kind": "Stream",
                "metadata": {"name": resource, "labels": labels()},
                "spec": spec,
            })
        })
        .collect()
}

/// The auth-callout permissions: the operator's identities plus the generated NKey users.
pub fn permissions(m: &Model) -> Value {
    let p = &m.permissions;
    let group = |ids: &[crate::model::Identity]| -> Map<String, Value> {
        ids.iter()
            .map(|i| (i.name.value.clone(), i.node.to_json()))
            .collect()
    };
    let mut nkey = group(&p.nkey);
    for u in generated_users(m) {
        nkey.insert(
            u.name,
            json!({"public_key": format!("${{{}}}", u.pubkey_env), "account": u.account}),
        );
    }
    json!({
        "oauth2": group(&p.oauth2),
        "mtls": group(&p.mtls),
        "nkey": nkey,
        "noauth": p.noauth.as_ref().map(|n| n.node.to_json()),
    })
}

/// Every `$VAR` a config tree references, in first-use order.
pub fn variables(m: &ConfMap, out: &mut Vec<String>) {
    fn walk(c: &Conf, out: &mut Vec<String>) {
        match c {
            Conf::Var(v) if !out.contains(v) => out.push(v.clone()),
            Conf::List(items) => items.iter().for_each(|i| walk(i, out)),
            Conf::Map(m) => variables(m, out),
            _ => {}
        }
    }
    for item in &m.items {
        if let Item::Kv(_, v) = item {
            walk(v, out);
        }
    }
}

fn override_for<'a>(m: &'a Model, secret: &str, key: &str) -> Option<&'a Value> {
    m.secret_overrides
        .iter()
        .find(|(s, k, _)| s.value == secret && k.value == key)
        .map(|(_, _, v)| v)
}

/// Where one env variable's value comes from, honouring `nkeySecretRefOverrides`.
fn env_entry(m: &Model, keys: &KeyIndex, name: &str) -> Value {
    if name == "SERVER_NAME" {
        return json!({"name": name, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}});
    }
    let found = keys.get(name);
    match found {
        Some(k) => match override_for(m, &k.secret, &k.key) {
            Some(Value::Object(o)) => {
                let mut e = Map::new();
                e.insert("name".into(), json!(name));
                e.extend(o.clone());
                Value::Object(e)
            }
            _ => {
                json!({
                    "name": name,
                    "valueFrom": {"secretKeyRef": {"name": k.secret, "key": k.key}},
                })
            }
        },
        // The chart feeds these from its nats-env-config ConfigMap (the values: `inlined`).
        None if ENV_CONFIG_KEYS.contains(&name) => {
            json!({
                "name": name,
                "valueFrom": {"configMapKeyRef": {"name": "nats-env-config", "key": name}},
            })
        }
        None => json!({"name": name}),
    }
}

/// The keys of the chart's `nats-env-config` ConfigMap.
const ENV_CONFIG_KEYS: [&str; 4] = [
    "NATS_CLUSTER_NAME",
    "NATS_JS_DOMAIN",
    "NATS_MTLS_SERVER_NAME",
    "MTLS_LEAF_ACCOUNT",
];

/// Each env variable's Secret key: the first key that feeds it.
type KeyIndex<'a> = std::collections::HashMap<&'a str, &'a names::SecretKey>;

/// env.yaml: what each container expects, plus the values natscc inlined.
pub fn env(m: &Model, nats_vars: &[String], mtls_vars: &[String]) -> Value {
    let mut doc = Map::new();
    // Listed once: a CSC with many CPCs has many keys, and each variable looks its key up.
    let all_keys = secret_keys(m);
    let mut keys = KeyIndex::new();
    for k in &all_keys {
        for (e, _) in &k.envs {
            keys.entry(e.as_str()).or_insert(k);
        }
    }
    doc.insert(
        "nats".into(),
        nats_vars.iter().map(|v| env_entry(m, &keys, v)).collect(),
    );
    if m.mtls {
        doc.insert(
            "nats-mtls".into(),
            mtls_vars.iter().map(|v| env_entry(m, &keys, v)).collect(),
        );
    }
    let mut callout: Vec<String> = secret_keys(m)
        .into_iter()
        .flat_map(|k| {
            k.envs
                .into_iter()
                .filter(|(_, c)| *c == names::AUTH_CALLOUT)
                .map(|(e, _)| e)
        })
        .collect();
    callout.dedup();
    let mut callout_env: Vec<Value> = callout.iter().map(|v| env_entry(m, &keys, v)).collect();
    if m.mtls {
        callout_env
            .push(json!({"name": "AUTH_CALLOUT_MTLS_CA_PATH", "value": "/etc/mtls-ca/ca.crt"}));
    }
    // `auth-callout.extraEnvs`: a map the auth-callout chart renders as env entries.
    for (name, v) in &m.auth_callout_extra_envs {
        let mut e = Map::new();
        e.insert("name".into(), json!(name));
        match v {
            Value::Object(o) => e.extend(o.clone()),
            other => {
                e.insert("value".into(), other.clone());
            }
        }
        callout_env.push(Value::Object(e));
    }
    doc.insert("auth-callout".into(), Value::Array(callout_env));
    let mut inlined = Map::new();
    inlined.insert("NATS_CLUSTER_NAME".into(), json!(m.cluster_name()));
    inlined.insert("NATS_JS_DOMAIN".into(), json!(m.dc_account()));
    if m.mtls {
        inlined.insert("NATS_MTLS_SERVER_NAME".into(), json!(m.mtls_server_name()));
        inlined.insert("MTLS_LEAF_ACCOUNT".into(), json!(m.dc_account()));
    }
    doc.insert("inlined".into(), Value::Object(inlined));
    Value::Object(doc)
}

/// secrets.yaml: every Secret and key the cluster needs, never a value.
pub fn secrets(m: &Model) -> Value {
    let mut out: Vec<(String, Vec<Value>)> = vec![];
    // Each Secret's place in `out`, by lookup: a CSC has Secrets per CPC.
    let mut at: std::collections::HashMap<String, usize> = Default::default();
    for k in secret_keys(m) {
        let mut key = json!({"key": k.key, "holds": k.kind});
        let envs: Vec<Value> = k
            .envs
            .iter()
            .map(|(e, c)| json!({"name": e, "container": c}))
            .collect();
        if !envs.is_empty() {
            key["env"] = Value::Array(envs);
        }
        if let Some(o) = override_for(m, &k.secret, &k.key) {
            key["overriddenBy"] = o.clone();
        }
        match at.get(&k.secret) {
            Some(&i) => out[i].1.push(key),
            None => {
                at.insert(k.secret.clone(), out.len());
                out.push((k.secret.clone(), vec![key]));
            }
        }
    }
    let secrets: Vec<Value> = out
        .into_iter()
        .map(|(name, keys)| json!({"name": name, "keys": keys}))
        .collect();
    json!({ "secrets": secrets })
}

pub fn config_map(name: &str, data: &std::collections::BTreeMap<String, String>) -> Value {
    let data: Map<String, Value> = data.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels()},
        "data": data,
    })
}
