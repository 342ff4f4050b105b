//! `natscc up --watch`: while the fleet runs, an edit of the fleet file or a values file is
//! compiled, its plan printed (`natscc diff`), and applied as production applies it: each
//! pod's files replaced as the kubelet replaces them and SIGHUP sent as the reloader sends it,
//! the callout's permissions.json rewritten (it re-reads it). What production does not apply
//! stays as in the cluster: a server that refuses the reload keeps its old configuration and is
//! listed as stale until `r` (a line on standard input) or `--restart` restarts it. A change of
//! the pod template restarts the release's servers, as the StatefulSet's rolling update does.

use crate::bus::Bus;
use crate::diff::plan::{ClusterPlan, Ctx, How};
use crate::diff::reload::{Verdict, verdict_in_log};
use crate::diff::{adapter, apply, snapshot::Snapshot};
use crate::fleet::jetstream::Reconciled;
use crate::fleet::up::{self, Running, Tools};
use crate::model::Model;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant, SystemTime};

/// What `--watch` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    pub fleet: PathBuf,
    /// Restart stale servers at once instead of waiting for `r`.
    pub restart: bool,
}

/// The pod-template topics of a plan: they roll the pods, not reload them.
const TEMPLATE: &[&str] = &[
    "server version",
    "container variable",
    "pod template",
    "volume",
];

pub struct Watcher {
    opts: Options,
    inputs: Vec<(PathBuf, Option<SystemTime>)>,
    snaps: Vec<Snapshot>,
    models: BTreeMap<String, (Model, Bus)>,
    /// Servers running a stale configuration: label -> (cluster, server, why).
    stale: BTreeMap<String, (usize, usize, String)>,
    keys: Receiver<String>,
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The fleet file and every values file it names.
fn inputs(fleet: &Path) -> Vec<(PathBuf, Option<SystemTime>)> {
    let mut sources = crate::diag::Sources::default();
    let mut diags = vec![];
    let mut files = vec![fleet.to_path_buf()];
    if let Some(spec) = crate::fleet::load::read_spec(fleet, &mut sources, &mut diags) {
        for c in &spec.clusters {
            files.extend(c.values.iter().map(|v| v.value.clone()));
        }
    }
    files.sort();
    files.dedup();
    files.into_iter().map(|p| (p.clone(), mtime(&p))).collect()
}

impl Watcher {
    pub fn new(opts: Options) -> Result<Watcher, String> {
        let c = adapter::compile_fleet(&opts.fleet);
        if c.has_errors() {
            return Err("the fleet does not compile".into());
        }
        let (tx, keys) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines().map_while(Result::ok) {
                if tx.send(line.trim().to_string()).is_err() {
                    break;
                }
            }
        });
        Ok(Watcher {
            inputs: inputs(&opts.fleet),
            snaps: c
                .clusters
                .iter()
                .map(crate::diff::snapshot::from_values)
                .collect(),
            models: c
                .clusters
                .into_iter()
                .map(|c| (c.name, (c.model, c.bus)))
                .collect(),
            opts,
            stale: BTreeMap::new(),
            keys,
        })
    }

    /// Looks for an edit or an `r`; applies what it finds.
    fn poll_once(&mut self, running: &mut Running, tools: &Tools) -> Result<(), String> {
        while let Ok(key) = self.keys.try_recv() {
            if key == "r" {
                self.restart_stale(running, tools)?;
            }
        }
        let now = inputs(&self.opts.fleet);
        if now != self.inputs {
            self.inputs = now;
            self.on_edit(running, tools)?;
        }
        Ok(())
    }

    fn on_edit(&mut self, running: &mut Running, tools: &Tools) -> Result<(), String> {
        let new = adapter::compile_fleet(&self.opts.fleet);
        if new.has_errors() {
            let text = crate::diag::render::render(
                crate::diag::render::Format::Human,
                &new.diags,
                &new.sources,
                false,
            );
            eprint!("{text}");
            println!("watch: the edit does not compile; every server keeps its configuration");
            return Ok(());
        }
        let snaps: Vec<Snapshot> = new
            .clusters
            .iter()
            .map(crate::diff::snapshot::from_values)
            .collect();
        let plans = crate::diff::cli::pair(&self.snaps, &snaps, &Ctx { namespace: "nats" });
        print!(
            "{}",
            crate::diff::render::render(crate::diff::render::PlanFormat::Human, &plans)
        );
        for ((c, p), snap) in new.clusters.iter().zip(&plans).zip(&snaps) {
            if !p.changes.is_empty() {
                self.apply_cluster(running, tools, &c.name, (&c.model, &c.bus), p)?;
            }
            if p.changes.iter().any(|c| c.part == "streams") {
                let old = self.snaps.iter().find(|s| s.cluster == snap.cluster);
                streams(running, &c.name, old.map(|s| &s.streams), &snap.streams)?;
            }
        }
        self.snaps = snaps;
        self.models = new
            .clusters
            .into_iter()
            .map(|c| (c.name, (c.model, c.bus)))
            .collect();
        for (label, (_, _, why)) in &self.stale {
            println!("watch: stale: {label} runs its old configuration ({why})");
        }
        if !self.stale.is_empty() && self.opts.restart {
            self.restart_stale(running, tools)?;
        } else if !self.stale.is_empty() {
            println!("watch: type r and Enter to restart the stale servers");
        }
        println!("watch: applied");
        Ok(())
    }

    fn apply_cluster(
        &mut self,
        running: &mut Running,
        tools: &Tools,
        name: &str,
        (m, bus): (&Model, &Bus),
        p: &ClusterPlan,
    ) -> Result<(), String> {
        let Some(ci) = running.plan.clusters.iter().position(|c| c.name == name) else {
            println!("watch: {name} is not running: restart natscc up to start it");
            return Ok(());
        };
        for si in 0..running.plan.clusters[ci].servers.len() {
            let s = running.plan.clusters[ci].servers[si].clone();
            let mine: Vec<_> = p.changes.iter().filter(|c| c.part == s.release).collect();
            let rolls = mine.iter().any(|c| c.how == How::Rolls);
            let config = mine
                .iter()
                .any(|c| c.topic != "environment" && !TEMPLATE.contains(&c.topic));
            let env = mine.iter().any(|c| c.topic == "environment");
            let label = format!("{}/{}", s.cluster, s.pod);
            let volumes = up::pod_volumes(bus, &s).map_err(|e| e.to_string())?;
            if rolls {
                for (folder, files) in &volumes {
                    apply::write_volume(&s.dir.join(folder), files).map_err(|e| e.to_string())?;
                }
                let env = up::server_env(m, bus, &running.plan, &s).map_err(|e| e.to_string())?;
                let deadline = Instant::now() + Duration::from_secs(30);
                running.restart((ci, si), env, tools, deadline)?;
                self.stale.remove(&label);
                println!("watch: {label} rolled (restarted with the new pod template)");
                continue;
            }
            if config {
                match reload(running, &s, &label, &volumes)? {
                    Verdict::Live => println!("watch: {label} reloaded"),
                    Verdict::Refused(x) => {
                        let why = format!("nats-server refused the reload: {x}");
                        self.stale.insert(label.clone(), (ci, si, why));
                    }
                    Verdict::Crash => {
                        let deadline = Instant::now() + Duration::from_secs(30);
                        running.restart((ci, si), s.env.clone(), tools, deadline)?;
                        println!("watch: {label} crashed on the reload and restarted");
                    }
                }
            }
            if env {
                let why = "its container variables changed".to_string();
                self.stale.entry(label).or_insert((ci, si, why));
            }
        }
        if p.changes.iter().any(|c| c.part == "auth-callout") {
            callout_files(running, ci, bus).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn restart_stale(&mut self, running: &mut Running, tools: &Tools) -> Result<(), String> {
        for (label, (ci, si, _)) in std::mem::take(&mut self.stale) {
            let s = running.plan.clusters[ci].servers[si].clone();
            let env = match self.models.get(&running.plan.clusters[ci].name) {
                Some((m, bus)) => {
                    up::server_env(m, bus, &running.plan, &s).map_err(|e| e.to_string())?
                }
                None => s.env.clone(),
            };
            let deadline = Instant::now() + Duration::from_secs(30);
            running.restart((ci, si), env, tools, deadline)?;
            println!("watch: restarted {label}");
        }
        println!("watch: restarted");
        Ok(())
    }
}

/// Replaces a server's files as the kubelet does, sends SIGHUP as the reloader does, and
/// reads its verdict from its log (5 s at most; no verdict is a refusal of unknown cause).
fn reload(
    running: &Running,
    s: &up::LocalServer,
    label: &str,
    volumes: &up::Volumes,
) -> Result<Verdict, String> {
    let log = s.dir.join("server.log");
    let from = std::fs::read_to_string(&log).map(|t| t.len()).unwrap_or(0);
    for (folder, files) in volumes {
        apply::write_volume(&s.dir.join(folder), files).map_err(|e| e.to_string())?;
    }
    let pid = running
        .pid(label)
        .ok_or_else(|| format!("{label} is not running"))?;
    apply::sighup(pid).map_err(|e| format!("{label}: SIGHUP: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(v) = verdict_in_log(&text, from) {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Ok(Verdict::Refused("no verdict in its log within 5 s".into()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Stream resources changed: applied through the JetStream API as NACK applies them, each
/// stream's outcome said (what JetStream refuses stays as it was, as in the cluster).
fn streams(
    running: &Running,
    cluster: &str,
    old: Option<&BTreeMap<String, serde_json::Value>>,
    new: &BTreeMap<String, serde_json::Value>,
) -> Result<(), String> {
    let Some(c) = running.plan.clusters.iter().find(|c| c.name == cluster) else {
        return Ok(());
    };
    let empty = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let done = crate::fleet::jetstream::reconcile(
        cluster,
        c.client_port(),
        &c.nack_seed,
        old.unwrap_or(&empty),
        new,
        deadline,
    )?;
    for (name, outcome) in done {
        match outcome {
            Reconciled::Applied(verb, config) => {
                let max_age = config["max_age"].as_i64().unwrap_or(0);
                println!(
                    "watch: {cluster}: stream {name} {verb} (JetStream: storage {}, max_age {}s, \
                     max_bytes {})",
                    config["storage"].as_str().unwrap_or("-"),
                    max_age / 1_000_000_000,
                    config["max_bytes"]
                );
            }
            Reconciled::Refused(why) => println!(
                "watch: {cluster}: JetStream refused stream {name}: {why}; it keeps its old \
                 settings, as NACK reports in the cluster"
            ),
        }
    }
    Ok(())
}

/// The callout's permissions.json and config.yaml, rewritten in place: it re-reads the first.
fn callout_files(running: &Running, ci: usize, bus: &Bus) -> std::io::Result<()> {
    let dir = &running.plan.clusters[ci].callout.dir;
    let data = |name: &str, key: &str| {
        bus.config_maps
            .iter()
            .find(|c| c.name.ends_with(name))
            .and_then(|c| c.data.get(key))
            .cloned()
    };
    if let Some(p) = data("auth-callout-permissions", "permissions.json") {
        std::fs::write(dir.join("permissions.json"), p)?;
    }
    if let Some(c) = data("auth-callout-config", "config.yaml") {
        std::fs::write(dir.join("config.yaml"), c)?;
    }
    Ok(())
}

impl crate::fleet::cli::Watch for Watcher {
    fn poll(&mut self, running: &mut Running, tools: &Tools) -> Result<(), String> {
        self.poll_once(running, tools)
    }
}
