//! A stream holding several releases' manifests (`helm get manifest` of each release of a
//! fleet, concatenated) cut into its releases, and each release matched to the fleet's cluster
//! it runs. Helm writes a release's objects in its install order (kinds it knows in a fixed
//! order, then the others by kind name), so a release ends where that order goes back or an
//! object repeats. Release names and namespaces do not tell a fleet's releases apart (every
//! cluster runs `nats-event-bus` in `nats`, each in its own Kubernetes cluster), and the
//! chart's own objects carry no release label: a release is matched by the cluster name its
//! `nats-env-config` gives the servers (`NATS_CLUSTER_NAME`), which is the fleet's clusters'.

use serde_json::Value;
use std::collections::BTreeSet;

/// The kinds Helm installs in this order; any other kind comes after them, by kind name.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// Where a kind sorts in a release's manifest.
fn rank(kind: &str) -> (usize, String) {
    match INSTALL_ORDER.iter().position(|k| *k == kind) {
        Some(i) => (i, String::new()),
        None => (INSTALL_ORDER.len(), kind.to_string()),
    }
}

fn text<'a>(d: &'a Value, pointer: &str) -> &'a str {
    d.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The stream's documents, release by release.
pub fn split(docs: Vec<Value>) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = vec![];
    let mut seen: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut last: Option<(usize, String)> = None;
    for d in docs {
        let kind = text(&d, "/kind").to_string();
        let key = (
            kind.clone(),
            text(&d, "/metadata/namespace").to_string(),
            text(&d, "/metadata/name").to_string(),
        );
        let r = rank(&kind);
        let back = last.as_ref().is_some_and(|l| r < *l);
        if out.is_empty() || back || seen.contains(&key) {
            out.push(vec![]);
            seen.clear();
        }
        seen.insert(key);
        last = Some(r);
        if let Some(release) = out.last_mut() {
            release.push(d);
        }
    }
    out
}

/// The release name its subcharts' objects carry (`app.kubernetes.io/instance`), for messages.
pub fn release_name(docs: &[Value]) -> Option<String> {
    docs.iter()
        .map(|d| text(d, "/metadata/labels/app.kubernetes.io~1instance"))
        .find(|n| !n.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(kind: &str, name: &str) -> Value {
        json!({"kind": kind, "metadata": {"name": name}})
    }

    #[test]
    fn a_release_ends_where_the_install_order_goes_back_or_an_object_repeats() {
        let one = [
            doc("PodDisruptionBudget", "nats"),
            doc("ConfigMap", "nats-env-config"),
            doc("StatefulSet", "nats"),
            doc("TLSRoute", "nats-mqtt-mtls"),
        ];
        // Without a nats-mtls release and its TLSRoute: the order goes back at the PDB.
        let two = [
            doc("PodDisruptionBudget", "nats"),
            doc("ConfigMap", "nats-env-config"),
        ];
        // A release whose first kind ranks with the previous one's last: its object repeats.
        let three = [doc("ConfigMap", "nats-env-config"), doc("Stream", "x")];
        let all: Vec<Value> = one.iter().chain(&two).chain(&three).cloned().collect();
        let split = split(all);
        assert_eq!(split.len(), 3);
        assert_eq!(split[0], one.to_vec());
        assert_eq!(split[1], two.to_vec());
        assert_eq!(split[2], three.to_vec());
    }
}
