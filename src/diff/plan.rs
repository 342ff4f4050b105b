//! The plan: two snapshots of a cluster compared in the bus's terms, each change classified by
//! how it reaches the pods for the nats-server release that runs them.

use super::confdiff::key_changes;
use super::describe::{self, Said};
use super::reload::{self, KeyChange, Verdict};
use super::snapshot::{Release, Snapshot};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How a change reaches the running bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// Applied without a restart: the reloader's SIGHUP, the callout's re-read, NACK, the
    /// Gateway controller.
    Live,
    /// The pods keep the old configuration until they restart.
    AtRestart,
    /// The pod template changes: the StatefulSet (or Deployment) rolls, one pod at a time.
    Rolls,
    /// The server panics on the reload: every pod's container restarts with the new files.
    Crashes,
    /// NACK cannot apply it: the JetStream API refuses the update; the stream stays as it is.
    RefusedByJetStream,
    /// `helm upgrade` itself fails: nothing of the upgrade applies.
    BlocksUpgrade,
}

impl How {
    pub fn label(self) -> &'static str {
        match self {
            How::Live => "live",
            How::AtRestart => "at restart only",
            How::Rolls => "rolls the pods",
            How::Crashes => "crashes the servers",
            How::RefusedByJetStream => "refused by JetStream",
            How::BlocksUpgrade => "blocks the upgrade",
        }
    }
}

/// One change, in the bus's terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// What it belongs to: `nats`, `nats-mtls`, `auth-callout`, `streams`, `gateway`.
    pub part: String,
    /// account, crossing, leaf remote, permission, stream, route, limit, server version, ...
    pub topic: &'static str,
    pub what: String,
    pub how: How,
    /// Why it reaches the pods that way, and what to do when it does not.
    pub why: String,
}

/// What to do for a release whose pods keep a stale configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restart {
    pub release: String,
    pub pods: Vec<String>,
    pub command: String,
    pub reason: String,
}

/// One cluster's plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterPlan {
    pub cluster: String,
    pub changes: Vec<Change>,
    pub restarts: Vec<Restart>,
    pub summary: String,
}

impl ClusterPlan {
    pub fn worst(&self) -> Option<How> {
        self.changes.iter().map(|c| c.how).max()
    }
}

/// Options that shape the words of a plan.
pub struct Ctx<'a> {
    pub namespace: &'a str,
}

fn pods(r: &Release) -> Vec<String> {
    (0..r.replicas).map(|i| format!("{}-{i}", r.name)).collect()
}

/// Compares a cluster's old and new snapshots (`None`: it does not exist on that side).
pub fn cluster(old: Option<&Snapshot>, new: Option<&Snapshot>, ctx: &Ctx) -> ClusterPlan {
    let name = match (old, new) {
        (Some(o), Some(n)) if o.cluster != n.cluster => format!("{} -> {}", o.cluster, n.cluster),
        _ => new.or(old).map(|s| s.cluster.clone()).unwrap_or_default(),
    };
    let mut plan = ClusterPlan {
        cluster: name,
        changes: vec![],
        restarts: vec![],
        summary: String::new(),
    };
    match (old, new) {
        (Some(o), Some(n)) => {
            let names: BTreeSet<&str> = o
                .releases
                .iter()
                .chain(&n.releases)
                .map(|r| r.name.as_str())
                .collect();
            for r in names {
                release(o.release(r), n.release(r), o, n, ctx, &mut plan);
            }
            let rolls = callout(o, n, &mut plan);
            let mut perms =
                describe::permissions(o.permissions.as_deref(), n.permissions.as_deref());
            if rolls {
                for c in &mut perms {
                    c.how = How::Rolls;
                    c.why = "the callout reads it when its pods roll onto their new variables \
                             (permissions.json names them)"
                        .into();
                }
            }
            plan.changes.extend(perms);
            streams(&o.streams, &n.streams, &mut plan);
            routes(&o.routes, &n.routes, &mut plan);
        }
        (None, Some(_)) => plan
            .changes
            .push(whole("added: `helm install` creates it", How::Live)),
        (Some(_), None) => plan.changes.push(whole(
            "removed: `helm uninstall` deletes its pods; the leaf connections to and from them end",
            How::Live,
        )),
        (None, None) => {}
    }
    plan.summary = summary(&plan);
    plan
}

fn whole(what: &str, how: How) -> Change {
    Change {
        part: "cluster".into(),
        topic: "cluster",
        what: what.into(),
        how,
        why: String::new(),
    }
}

/// The pod template's changes of a release: each rolls its StatefulSet, or blocks the upgrade.
fn pod_template(o: &Release, n: &Release, out: &mut Vec<Change>) {
    let mut add = |topic, what: String, how, why: &str| {
        out.push(Change {
            part: n.name.clone(),
            topic,
            what,
            how,
            why: why.into(),
        })
    };
    let roll = "a pod-template change: the StatefulSet replaces its pods one at a time, and \
                each starts with the new configuration";
    if o.pvc != n.pvc {
        let show = |p: &Option<String>| p.clone().unwrap_or_else(|| "none".into());
        add(
            "volume",
            format!(
                "JetStream volume claim {} -> {}",
                show(&o.pvc),
                show(&n.pvc)
            ),
            How::BlocksUpgrade,
            &format!(
                "a StatefulSet's volumeClaimTemplates cannot change: Kubernetes refuses the \
                 update (\"updates to statefulset spec for fields other than ... are \
                 forbidden\") and `helm upgrade` fails. Instead: `kubectl delete statefulset {} \
                 --cascade=orphan`, then upgrade (the pods keep running and are adopted); \
                 existing claims keep their size: expand each PVC by hand where its storage \
                 class allows it",
                n.name
            ),
        );
    }
    if o.image != n.image {
        add(
            "server version",
            format!(
                "image {} -> {} (nats-server {} -> {})",
                o.image, n.image, o.version, n.version
            ),
            How::Rolls,
            roll,
        );
    }
    for e in n.env.difference(&o.env) {
        add("container variable", format!("{e} added"), How::Rolls, roll);
    }
    for e in o.env.difference(&n.env) {
        add(
            "container variable",
            format!("{e} removed"),
            How::Rolls,
            roll,
        );
    }
    if o.resources != n.resources {
        let what = format!("resources {} -> {}", o.resources, n.resources);
        add("pod template", what, How::Rolls, roll);
    }
    if o.checksum != n.checksum {
        let what = format!(
            "podTemplate.configChecksumAnnotation {} -> {}",
            o.checksum, n.checksum
        );
        add("pod template", what, How::Rolls, roll);
    }
    if let (Some(a), Some(b)) = (&o.pod_values, &n.pod_values)
        && a != b
    {
        let keys = describe::json_keys_changed(a, b);
        let what = format!("pod template values changed: {}", keys.join(", "));
        add("pod template", what, How::Rolls, roll);
    }
    if o.checksum
        && n.checksum
        && o.files.get("nats-config/nats.conf") != n.files.get("nats-config/nats.conf")
    {
        let what =
            "nats.conf changed under configChecksumAnnotation: the annotation changes".into();
        add("pod template", what, How::Rolls, roll);
    }
}

fn release(
    o: Option<&Release>,
    n: Option<&Release>,
    os: &Snapshot,
    ns: &Snapshot,
    ctx: &Ctx,
    plan: &mut ClusterPlan,
) {
    let (o, n) = match (o, n) {
        (Some(o), Some(n)) => (o, n),
        (None, Some(n)) => {
            let what = format!("release {} added: its StatefulSet is created", n.name);
            plan.changes.push(Change {
                part: n.name.clone(),
                topic: "release",
                what,
                how: How::Live,
                why: "new pods start with the new configuration".into(),
            });
            return;
        }
        (Some(o), None) => {
            plan.changes.push(Change {
                part: o.name.clone(),
                topic: "release",
                what: format!(
                    "release {} removed: its StatefulSet and pods are deleted",
                    o.name
                ),
                how: How::Live,
                why: String::new(),
            });
            return;
        }
        (None, None) => return,
    };
    let mut template = vec![];
    pod_template(o, n, &mut template);
    let rolls = template.iter().any(|c| c.how == How::Rolls);
    plan.changes.extend(template);
    // The config: what the running server (the old image) does with the new files on SIGHUP.
    let keys = match (&o.conf, &n.conf) {
        (Some(a), Some(b)) => key_changes(a, b),
        _ => vec![],
    };
    let verdict = reload::judge(&keys, o.version);
    let (how, why) = config_how(&verdict, rolls, o);
    for k in &keys {
        for Said { topic, what } in describe::key(k) {
            plan.changes.push(Change {
                part: n.name.clone(),
                topic,
                what,
                how,
                why: why.clone(),
            });
        }
    }
    // The environment ConfigMap: read once, when the container starts.
    let env_changes = env_config(os, ns, n);
    for what in &env_changes {
        plan.changes.push(Change {
            part: n.name.clone(),
            topic: "environment",
            what: what.clone(),
            how: if rolls { How::Rolls } else { How::AtRestart },
            why: "a container variable from nats-env-config: a running container keeps the \
                  value it started with"
                .into(),
        });
    }
    let stale = !rolls && (!env_changes.is_empty() || matches!(verdict, Verdict::Refused(_)));
    if stale && (!keys.is_empty() || !env_changes.is_empty()) {
        plan.restarts.push(Restart {
            release: n.name.clone(),
            pods: pods(o),
            command: format!(
                "kubectl -n {} rollout restart statefulset/{}",
                ctx.namespace, n.name
            ),
            reason: match &verdict {
                Verdict::Refused(x) => {
                    format!("nats-server {} refuses the reload ({x})", o.version)
                }
                _ => "container variables changed".into(),
            },
        });
    }
}

/// How a release's config changes reach its pods, and why.
fn config_how(verdict: &Verdict, rolls: bool, o: &Release) -> (How, String) {
    let v = o.version;
    match (rolls, verdict) {
        (true, _) => (
            How::Rolls,
            "the pods roll (see the pod-template change) and start with it".into(),
        ),
        (false, Verdict::Live) => (
            How::Live,
            format!("the reloader's SIGHUP: nats-server {v} reloads every change of this file set"),
        ),
        (false, Verdict::Refused(x)) => (
            How::AtRestart,
            format!(
                "nats-server {v} refuses the reload (\"config reload not supported for {x}\") \
                 and keeps running the old configuration, all of it, until the pods restart"
            ),
        ),
        (false, Verdict::Crash) => (
            How::Crashes,
            format!(
                "nats-server {v} panics on this reload (a leaf remote removed): each pod's \
                 container restarts with the new files as its reloader sends SIGHUP, not one \
                 at a time"
            ),
        ),
    }
}

/// The nats-env-config keys that changed and that this release's containers read.
fn env_config(o: &Snapshot, n: &Snapshot, r: &Release) -> Vec<String> {
    let keys: BTreeSet<&String> = o.env_config.keys().chain(n.env_config.keys()).collect();
    keys.into_iter()
        .filter(|k| o.env_config.get(*k) != n.env_config.get(*k))
        .filter(|k| {
            let from = format!(" <- configmap nats-env-config/{k}");
            r.env.iter().any(|e| e.ends_with(&from))
        })
        .map(|k| {
            let show = |v: Option<&String>| v.map_or("unset".into(), |v| format!("`{v}`"));
            format!(
                "${k}: {} -> {}",
                show(o.env_config.get(k)),
                show(n.env_config.get(k))
            )
        })
        .collect()
}

/// The callout's Deployment: its config.yaml (behind a checksum annotation) and its container
/// variables roll its pods. Returns whether they roll.
fn callout(o: &Snapshot, n: &Snapshot, plan: &mut ClusterPlan) -> bool {
    let before = plan.changes.len();
    let mut add = |topic, what: String, why: &str| {
        plan.changes.push(Change {
            part: "auth-callout".into(),
            topic,
            what,
            how: How::Rolls,
            why: why.into(),
        })
    };
    if o.callout_config != n.callout_config {
        let why = "its Deployment carries the config's checksum: the callout's pods roll";
        add(
            "callout settings",
            "the auth callout's config.yaml changed".into(),
            why,
        );
    }
    let why = "a change of its Deployment's pod template: the callout's pods roll";
    for e in n.callout_env.difference(&o.callout_env) {
        add("container variable", format!("{e} added"), why);
    }
    for e in o.callout_env.difference(&n.callout_env) {
        add("container variable", format!("{e} removed"), why);
    }
    if o.callout_resources != n.callout_resources {
        let what = format!(
            "resources {} -> {}",
            o.callout_resources, n.callout_resources
        );
        add("pod template", what, why);
    }
    if let (Some(a), Some(b)) = (&o.callout_pod, &n.callout_pod)
        && a != b
    {
        let keys = describe::json_keys_changed(a, b).join(", ");
        add(
            "pod template",
            format!("auth-callout values changed: {keys}"),
            why,
        );
    }
    plan.changes.len() > before
}

/// Stream fields the JetStream API refuses to update (measured on 2.12.6 and 2.15.1).
pub const IMMUTABLE: &[(&str, &str)] = &[(
    "storage",
    "stream configuration update can not change storage type (10052)",
)];

fn streams(o: &BTreeMap<String, Value>, n: &BTreeMap<String, Value>, plan: &mut ClusterPlan) {
    let names: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    for name in names {
        let mut add = |what: String, how, why: &str| {
            plan.changes.push(Change {
                part: "streams".into(),
                topic: "stream",
                what,
                how,
                why: why.into(),
            })
        };
        match (o.get(name), n.get(name)) {
            (None, Some(_)) => add(format!("Stream {name} added"), How::Live, "NACK creates it"),
            (Some(_), None) => add(
                format!("Stream {name} removed"),
                How::Live,
                "NACK deletes the stream and its messages",
            ),
            (Some(a), Some(b)) if a != b => {
                for (field, old, new) in describe::json_fields(a, b) {
                    let what = format!("Stream {name}: {field} {old} -> {new}");
                    match IMMUTABLE.iter().find(|(f, _)| *f == field) {
                        Some((_, err)) => add(
                            what,
                            How::RefusedByJetStream,
                            &format!(
                                "the JetStream API refuses the update (\"{err}\"): NACK reports \
                                 the error and the stream keeps its old settings. Instead: a new \
                                 Stream resource under another name, or delete and recreate \
                                 this one (its messages are lost)"
                            ),
                        ),
                        None => add(what, How::Live, "NACK updates it through the JetStream API"),
                    }
                }
            }
            _ => {}
        }
    }
}

fn routes(o: &BTreeMap<String, Value>, n: &BTreeMap<String, Value>, plan: &mut ClusterPlan) {
    let names: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    for name in names {
        let what = match (o.get(name), n.get(name)) {
            (None, Some(_)) => format!("{name} added"),
            (Some(_), None) => format!("{name} removed"),
            (Some(a), Some(b)) if a != b => {
                let fields = describe::json_fields(a, b);
                let list: Vec<String> = fields
                    .iter()
                    .map(|(f, a, b)| format!("{f} {a} -> {b}"))
                    .collect();
                format!("{name}: {}", list.join("; "))
            }
            _ => continue,
        };
        plan.changes.push(Change {
            part: "gateway".into(),
            topic: "route",
            what,
            how: How::Live,
            why: "the Gateway controller applies it".into(),
        });
    }
}

fn summary(plan: &ClusterPlan) -> String {
    if plan.changes.is_empty() {
        return format!("{}: no change", plan.cluster);
    }
    let mut counts: BTreeMap<How, usize> = BTreeMap::new();
    for c in &plan.changes {
        *counts.entry(c.how).or_default() += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(h, n)| format!("{n} {}", h.label()))
        .collect();
    let mut s = format!(
        "{}: {} change{}: {}",
        plan.cluster,
        plan.changes.len(),
        if plan.changes.len() == 1 { "" } else { "s" },
        parts.join(", ")
    );
    if counts.contains_key(&How::BlocksUpgrade) {
        s.push_str("; helm upgrade fails at the StatefulSet (fix that first)");
    } else if !plan.restarts.is_empty() {
        let who: Vec<String> = plan.restarts.iter().map(|r| r.release.clone()).collect();
        s.push_str(&format!("; restart {} to apply", who.join(" and ")));
    }
    s
}

/// The exit code of a plan: 0 no change, 2 every change live, 3 anything else.
pub fn exit_code(plans: &[ClusterPlan]) -> i32 {
    match plans.iter().filter_map(ClusterPlan::worst).max() {
        None => 0,
        Some(How::Live) => 2,
        Some(_) => 3,
    }
}

/// Every key change of one release, for tests that hold the plan to a server.
pub fn release_key_changes(o: &Release, n: &Release) -> Vec<KeyChange> {
    match (&o.conf, &n.conf) {
        (Some(a), Some(b)) => key_changes(a, b),
        _ => vec![],
    }
}
