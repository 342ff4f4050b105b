//! What one cluster runs, in the terms diff compares: each NATS release's mounted files and
//! the config nats-server reads from them, its pod template's facts (image, container
//! variables, JetStream PVC, checksum annotation), the environment ConfigMap, the callout's
//! files, the NACK Streams and the Gateway routes. Built the same way from compiled values
//! ([`from_values`]) and from a release's rendered manifests ([`from_manifest`]), so a plan
//! does not depend on which side it was read from.

use super::adapter::Cluster;
use crate::conf::ConfMap;
use crate::load::Node;
use crate::natsconf::{self, Found, Reader};
use crate::server_version::{self, Version};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One NATS release of a cluster (`nats`, `nats-mtls`): one StatefulSet.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub name: String,
    /// The nats-server release its image runs (the nearest measured one).
    pub version: Version,
    pub image: String,
    /// Every mounted ConfigMap file: `<mount folder>/<key>` -> text.
    pub files: BTreeMap<String, String>,
    /// `nats-config/nats.conf` with its includes read back, as the server reads it.
    pub conf: Option<ConfMap>,
    /// Its container's variables from Secrets and ConfigMaps (`NAME <- secret name/key`) and
    /// literal ones (`NAME = value`), but the chart's own pod-name variables.
    pub env: BTreeSet<String>,
    /// The server container's resources, as JSON.
    pub resources: String,
    /// The ConfigMaps its pod mounts (name -> mount folder).
    pub mounts: BTreeMap<String, String>,
    /// The JetStream volume claim (`10Gi`, `10Gi, storageClassName fast`), when there is one.
    pub pvc: Option<String>,
    /// `podTemplate.configChecksumAnnotation`: a nats.conf change rolls the pods.
    pub checksum: bool,
    /// Its pods (the config's routes, else one).
    pub replicas: usize,
    /// The pod template's other values (container, reloader, podTemplate, statefulSet), when
    /// read from values; a rendered stream does not say which values made it.
    pub pod_values: Option<String>,
}

/// One cluster as it runs or would run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub cluster: String,
    pub releases: Vec<Release>,
    /// `nats-env-config`: what reaches the servers through their environment.
    pub env_config: BTreeMap<String, String>,
    pub permissions: Option<String>,
    pub callout_config: Option<String>,
    /// The auth callout container's variables (its Deployment's pod template): from Secrets
    /// and ConfigMaps, and literal ones but the chart's own.
    pub callout_env: BTreeSet<String>,
    /// The callout container's resources, as JSON.
    pub callout_resources: String,
    /// The other `auth-callout` values its Deployment's pod template reads (image,
    /// scheduling, probes, volumes), when read from values; a rendered stream does not say
    /// which values made it.
    pub callout_pod: Option<String>,
    /// NACK Streams by resource name: their spec.
    pub streams: BTreeMap<String, Value>,
    /// Gateway API routes, `Kind/name` -> spec.
    pub routes: BTreeMap<String, Value>,
}

impl Snapshot {
    pub fn release(&self, name: &str) -> Option<&Release> {
        self.releases.iter().find(|r| r.name == name)
    }
}

/// The ConfigMaps of a cluster: name -> key -> text.
type ConfigMaps = BTreeMap<String, BTreeMap<String, String>>;

/// Reads includes from a pod's mounted files.
struct Mounted<'a>(&'a BTreeMap<String, String>);

impl Reader for Mounted<'_> {
    fn read(&self, path: &str) -> Result<Found, String> {
        self.0
            .get(path)
            .map(|t| Found::Text(path.to_string(), t.clone()))
            .ok_or_else(|| format!("{path}: no such mounted file"))
    }
}

fn resolved(files: &BTreeMap<String, String>) -> Option<ConfMap> {
    let main = files.get("nats-config/nats.conf")?;
    natsconf::parse_with(
        "nats-config/nats.conf",
        main,
        &Mounted(files),
        natsconf::Options::default(),
    )
    .ok()
    .map(|p| p.root.to_conf())
}

fn replicas(conf: Option<&ConfMap>) -> usize {
    let routes = conf
        .and_then(|c| c.get("cluster"))
        .and_then(|c| match c {
            crate::conf::Conf::Map(m) => m.get("routes"),
            _ => None,
        })
        .map(|r| match r {
            crate::conf::Conf::List(l) => l.len(),
            _ => 1,
        });
    routes.unwrap_or(1).max(1)
}

/// The mounted files of a release from the cluster's ConfigMaps.
fn mounted(mounts: &BTreeMap<String, String>, cms: &ConfigMaps) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for (cm, dir) in mounts {
        for (key, text) in cms.get(cm).into_iter().flatten() {
            files.insert(format!("{dir}/{key}"), text.clone());
        }
    }
    files
}

/// The variables the NATS chart itself gives every server container.
const CHART_ENV: &[&str] = &["POD_NAME", "SERVER_NAME"];

/// The literal variables of a release's `container.env` values (`NAME: value`).
fn literal_env(values: &Node) -> Vec<String> {
    let Some(env) = values.path(&["container", "env"]) else {
        return vec![];
    };
    env.entries()
        .iter()
        .filter(|e| !CHART_ENV.contains(&e.key.as_str()))
        .filter_map(|e| match &e.value.v {
            crate::load::V::Str(_) | crate::load::V::Int(_) | crate::load::V::Float(_) => {
                Some(format!("{} = {}", e.key, e.value.scalar_text()?))
            }
            _ => None,
        })
        .collect()
}

/// An env entry as `NAME <- secret name/key` or `NAME <- configmap name/key`; `None` for a
/// literal or a field reference (the chart's own, the same on both sides).
fn env_entry(e: &Value) -> Option<String> {
    let name = e.get("name")?.as_str()?;
    if let Some(v) = e.get("value").and_then(Value::as_str) {
        return (!CHART_ENV.contains(&name)).then(|| format!("{name} = {v}"));
    }
    let from = e.get("valueFrom")?;
    for (kind, key) in [("secret", "secretKeyRef"), ("configmap", "configMapKeyRef")] {
        if let Some(r) = from.get(key) {
            let (n, k) = (r.get("name")?.as_str()?, r.get("key")?.as_str()?);
            return Some(format!("{name} <- {kind} {n}/{k}"));
        }
    }
    None
}

fn common(cluster: String, cms: &ConfigMaps) -> Snapshot {
    let text = |cm: &str, key: &str| cms.get(cm).and_then(|d| d.get(key)).cloned();
    Snapshot {
        cluster,
        releases: vec![],
        env_config: cms.get("nats-env-config").cloned().unwrap_or_default(),
        permissions: text("auth-callout-permissions", "permissions.json"),
        callout_config: cms
            .iter()
            .find(|(n, _)| n.ends_with("auth-callout-config"))
            .and_then(|(_, d)| d.get("config.yaml").cloned()),
        callout_env: BTreeSet::new(),
        callout_resources: Value::Null.to_string(),
        callout_pod: None,
        streams: BTreeMap::new(),
        routes: BTreeMap::new(),
    }
}

/// The chart's `nats.image` template over a release's `container.image` values.
fn image_of(values: &Node, root: &Node) -> String {
    let s = |p: &[&str]| {
        values
            .path(p)
            .and_then(Node::scalar_text)
            .filter(|t| !t.is_empty())
    };
    if let Some(full) = s(&["container", "image", "fullImageName"]) {
        return full;
    }
    let repo = s(&["container", "image", "repository"]).unwrap_or_default();
    let mut image = match s(&["container", "image", "digest"]) {
        Some(d) => format!("{repo}@{d}"),
        None => format!(
            "{repo}:{}",
            s(&["container", "image", "tag"]).unwrap_or_default()
        ),
    };
    let registry = s(&["container", "image", "registry"]).or_else(|| {
        root.path(&["global", "image", "registry"])
            .and_then(Node::scalar_text)
            .filter(|t| !t.is_empty())
    });
    if let Some(r) = registry {
        image = format!("{r}/{image}");
    }
    image
}

/// The chart's JetStream volume claim from a release's values.
fn pvc_of(values: &Node) -> Option<String> {
    let on = |p: &[&str]| values.path(p).and_then(Node::as_bool).unwrap_or(false);
    let js = ["config", "jetstream"];
    if !(on(&[js[0], js[1], "enabled"])
        && on(&[js[0], js[1], "fileStore", "enabled"])
        && on(&[js[0], js[1], "fileStore", "pvc", "enabled"]))
    {
        return None;
    }
    let pvc = values.path(&["config", "jetstream", "fileStore", "pvc"])?;
    let size = pvc
        .get("size")
        .and_then(Node::scalar_text)
        .unwrap_or_default();
    Some(pvc_text(
        &size,
        pvc.get("storageClassName").and_then(Node::scalar_text),
    ))
}

fn pvc_text(size: &str, class: Option<String>) -> String {
    match class.filter(|c| !c.is_empty()) {
        Some(c) => format!("{size}, storageClassName {c}"),
        None => size.to_string(),
    }
}

/// The `auth-callout` values the callout's pod template reads (its chart's deployment.yaml),
/// but its variables, resources and config.yaml, which the plan reads from what they render.
const CALLOUT_POD_KEYS: &[&str] = &[
    "image",
    "registry",
    "imagePullSecrets",
    "runtimeClassName",
    "podAnnotations",
    "podLabels",
    "serviceAccount",
    "affinity",
    "nodeSelector",
    "tolerations",
    "healthChecks",
    "extraVolumes",
    "extraVolumeMounts",
    "vault",
];

fn callout_pod(root: &Node) -> String {
    let callout = root.get("auth-callout");
    let mut v = serde_json::Map::new();
    for key in CALLOUT_POD_KEYS {
        let j = callout
            .and_then(|c| c.get(key))
            .map_or(Value::Null, Node::to_json);
        v.insert(key.to_string(), j);
    }
    Value::Object(v).to_string()
}

/// The values of a release that shape its pod template other than image, env and PVC.
fn pod_values(values: &Node) -> String {
    let mut v = serde_json::Map::new();
    for key in ["container", "reloader", "podTemplate", "statefulSet"] {
        let mut j = values.get(key).map_or(Value::Null, Node::to_json);
        if key == "container"
            && let Some(m) = j.as_object_mut()
        {
            m.remove("image");
            m.remove("env");
            m.remove("resources");
        }
        if key == "podTemplate"
            && let Some(m) = j.as_object_mut()
        {
            m.remove("configChecksumAnnotation");
        }
        v.insert(key.into(), j);
    }
    Value::Object(v).to_string()
}

/// A cluster compiled from values.
pub fn from_values(c: &Cluster) -> Snapshot {
    let (m, bus) = (&c.model, &c.bus);
    let cms: ConfigMaps = bus
        .config_maps
        .iter()
        .map(|cm| (cm.name.clone(), cm.data.clone()))
        .collect();
    let mut snap = common(c.name.clone(), &cms);
    let mut nats_vars = vec![];
    crate::emit::k8s::variables(bus.resolved(&bus.nats), &mut nats_vars);
    let mut mtls_vars = vec![];
    if let Some(i) = &bus.mtls {
        crate::emit::k8s::variables(bus.resolved(i), &mut mtls_vars);
    }
    let env = serde_json::to_value(crate::emit::k8s::env(m, &nats_vars, &mtls_vars))
        .unwrap_or(Value::Null);
    for i in bus.instances() {
        let values = crate::bus::subchart_values(&c.values, i.release);
        let empty = Node::map(c.values.span);
        let values = values.unwrap_or(&empty);
        let mounts: BTreeMap<String, String> = i.mounts.iter().cloned().collect();
        let files = mounted(&mounts, &cms);
        let conf = resolved(&files);
        let version = m
            .deployed
            .iter()
            .find(|(r, _)| *r == i.release)
            .map_or(server_version::CHART_DEFAULT, |(_, v)| *v);
        snap.releases.push(Release {
            name: i.release.to_string(),
            version,
            image: image_of(values, &c.values),
            replicas: replicas(conf.as_ref()),
            files,
            conf,
            env: env
                .get(i.release)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(env_entry)
                .chain(literal_env(values))
                .collect(),
            resources: values
                .path(&["container", "resources"])
                .map_or(Value::Null, Node::to_json)
                .to_string(),
            mounts,
            pvc: pvc_of(values),
            checksum: values
                .path(&["podTemplate", "configChecksumAnnotation"])
                .and_then(Node::as_bool)
                .unwrap_or(false),
            pod_values: Some(pod_values(values)),
        });
    }
    snap.callout_env = callout_vars(env.get("auth-callout"));
    snap.callout_pod = Some(callout_pod(&c.values));
    snap.callout_resources = c
        .values
        .path(&["auth-callout", "resources"])
        .map_or(Value::Null, Node::to_json)
        .to_string();
    for doc in crate::emit::k8s::streams(m) {
        add_doc(&mut snap, &doc);
    }
    for doc in crate::emit::k8s::routes(m) {
        add_doc(&mut snap, &doc);
    }
    snap
}

/// The literal variables the auth-callout chart gives its container from its own settings
/// (the release name, the service port, Vault's hot config), which no values file of the
/// event bus lists in env.yaml.
const CALLOUT_CHART_ENV: &[&str] = &[
    "AUTH_CALLOUT_SERVICE_NAME",
    "AUTH_CALLOUT_SERVICE_SERVER_PORT",
    "AUTH_CALLOUT_HOT_CONFIG",
    "AUTH_CALLOUT_HOT_CONFIG_INTERVAL",
];

/// The callout container's variables: from Secrets and ConfigMaps, and literal ones
/// (`auth-callout.extraEnvs`, the mTLS CA path) but the chart's own. Each is part of the
/// Deployment's pod template: adding, removing or changing one rolls the callout.
fn callout_vars(env: Option<&Value>) -> BTreeSet<String> {
    env.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(env_entry)
        .filter(|e| {
            e.contains(" <- ") || !CALLOUT_CHART_ENV.contains(&e.split(' ').next().unwrap_or(""))
        })
        .collect()
}

/// Streams and routes into the snapshot; other kinds are read elsewhere.
fn add_doc(snap: &mut Snapshot, doc: &Value) {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let spec = doc.get("spec").cloned().unwrap_or(Value::Null);
    match kind {
        "Stream" => {
            snap.streams.insert(name, spec);
        }
        "TCPRoute" | "TLSRoute" | "HTTPRoute" | "GRPCRoute" => {
            snap.routes.insert(format!("{kind}/{name}"), spec);
        }
        _ => {}
    }
}

/// The version an image runs, for a stream (the stated one when its tag names none).
fn image_version(image: &str, stated: Option<&server_version::Stated>) -> Version {
    let last = image.rsplit('/').next().unwrap_or(image);
    let tag = last
        .split_once(':')
        .map(|(_, t)| t)
        .filter(|_| !image.contains('@'));
    tag.and_then(Version::parse)
        .or(stated.map(|s| s.version))
        .map_or(
            server_version::CHART_DEFAULT,
            server_version::nearest_measured,
        )
}

/// A release's StatefulSet in a rendered stream.
fn release_of(sts: &Value, cms: &ConfigMaps, stated: Option<&server_version::Stated>) -> Release {
    let name = sts
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let pod = sts
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(Value::Null);
    let containers = pod.pointer("/spec/containers").and_then(Value::as_array);
    let server = containers
        .into_iter()
        .flatten()
        .find(|c| c.get("name").and_then(Value::as_str) == Some("nats"));
    let image = server
        .and_then(|c| c.get("image"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // Volumes by name -> ConfigMap; the server container's mounts -> folders under /etc.
    let volumes: BTreeMap<&str, &str> = pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            Some((
                v.get("name")?.as_str()?,
                v.pointer("/configMap/name")?.as_str()?,
            ))
        })
        .collect();
    let mounts: BTreeMap<String, String> = server
        .and_then(|c| c.get("volumeMounts"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            let cm = volumes.get(m.get("name")?.as_str()?)?;
            let path = m.get("mountPath")?.as_str()?;
            let dir = path.trim_end_matches('/').rsplit('/').next()?;
            Some((cm.to_string(), dir.to_string()))
        })
        .collect();
    let files = mounted(&mounts, cms);
    let conf = resolved(&files);
    let pvc = sts
        .pointer("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|t| {
            t.pointer("/metadata/name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.ends_with("-js"))
        })
        .map(|t| {
            let size = t
                .pointer("/spec/resources/requests/storage")
                .and_then(Value::as_str);
            let class = t.pointer("/spec/storageClassName").and_then(Value::as_str);
            pvc_text(size.unwrap_or(""), class.map(str::to_string))
        });
    Release {
        version: image_version(&image, stated),
        image,
        replicas: replicas(conf.as_ref()),
        files,
        conf,
        resources: server
            .and_then(|c| c.get("resources"))
            .cloned()
            .unwrap_or(Value::Null)
            .to_string(),
        env: server
            .and_then(|c| c.get("env"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(env_entry)
            .collect(),
        mounts,
        pvc,
        checksum: pod
            .pointer("/metadata/annotations/checksum~1config")
            .is_some(),
        pod_values: None,
        name,
    }
}

/// A release's rendered manifests (`helm get manifest`, `helm template`): its ConfigMaps,
/// its NATS StatefulSets (those mounting a `nats-config`-style ConfigMap), Streams and
/// routes. `None` when no StatefulSet runs nats-server from a ConfigMap.
pub fn from_manifest(
    docs: &[Value],
    cluster: &str,
    stated: Option<&server_version::Stated>,
) -> Option<Snapshot> {
    let mut cms = ConfigMaps::new();
    for d in docs {
        if d.get("kind").and_then(Value::as_str) != Some("ConfigMap") {
            continue;
        }
        let name = d
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let data = d
            .get("data")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            .collect();
        cms.insert(name.to_string(), data);
    }
    let mut snap = common(cluster.to_string(), &cms);
    for d in docs {
        let name = d
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if d.get("kind").and_then(Value::as_str) == Some("Deployment")
            && name.ends_with("auth-callout")
        {
            snap.callout_env = callout_vars(d.pointer("/spec/template/spec/containers/0/env"));
            snap.callout_resources = d
                .pointer("/spec/template/spec/containers/0/resources")
                .cloned()
                .unwrap_or(Value::Null)
                .to_string();
        }
        if d.get("kind").and_then(Value::as_str) == Some("StatefulSet") {
            let r = release_of(d, &cms, stated);
            if r.conf.is_some() {
                snap.releases.push(r);
            }
        }
        add_doc(&mut snap, d);
    }
    snap.releases.sort_by(|a, b| a.name.cmp(&b.name));
    (!snap.releases.is_empty()).then_some(snap)
}

/// The cluster name a rendered stream's `nats-env-config` gives (`NATS_CLUSTER_NAME`).
pub fn manifest_cluster(docs: &[Value]) -> Option<String> {
    docs.iter()
        .find(|d| {
            d.get("kind").and_then(Value::as_str) == Some("ConfigMap")
                && d.pointer("/metadata/name").and_then(Value::as_str) == Some("nats-env-config")
        })
        .and_then(|d| d.pointer("/data/NATS_CLUSTER_NAME"))
        .and_then(Value::as_str)
        .map(str::to_string)
}
