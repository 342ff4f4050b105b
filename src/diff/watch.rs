//! `natscc up --watch`: while the fleet runs, an edit of the fleet file or a values file is
//! compiled, its plan printed (`natscc diff`), and applied as production applies it: each
//! pod's files replaced as the kubelet replaces them and SIGHUP sent as the reloader sends it;
//! the callout's permissions.json rewritten (it re-reads it), and the callout rolled onto its
//! new variables when its Deployment's pod template or config.yaml changed (its checksum
//! annotation). What production does not apply stays as in the cluster: a server that refuses
//! the reload keeps its old configuration and is listed as stale until `r` (a line on standard
//! input) or `--restart` restarts it. A change of the pod template restarts the release's
//! servers, as the StatefulSet's rolling update does. A cluster added to the fleet file starts
//! (`helm install`), one removed stops and its folder goes (`helm uninstall`).

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

/// How long the inputs must stay unchanged before an edit is compiled.
const SETTLE: Duration = Duration::from_millis(300);

pub struct Watcher {
    opts: Options,
    inputs: Vec<(PathBuf, Option<SystemTime>)>,
    snaps: Vec<Snapshot>,
    models: BTreeMap<String, (Model, Bus)>,
    /// Servers running a stale configuration: label (`cluster/pod`) -> why.
    stale: BTreeMap<String, String>,
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
        let mut now = inputs(&self.opts.fleet);
        if now == self.inputs {
            return Ok(());
        }
        // An edit often touches several files (a CPC added: the fleet file and the CSC's
        // cpcIds): wait until nothing changed for SETTLE, then compile them together.
        loop {
            std::thread::sleep(SETTLE);
            let again = inputs(&self.opts.fleet);
            if again == now {
                break;
            }
            now = again;
        }
        self.inputs = now;
        self.on_edit(running, tools)
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
        keys(running, &new.clusters)?;
        // The clusters that run: changes applied to them, the CSC's first (a CPC added next
        // authenticates its leaf connections through the CSC's rolled callout).
        for ((c, p), snap) in new.clusters.iter().zip(&plans).zip(&snaps) {
            if running.plan.index(&c.name).is_none() || p.changes.is_empty() {
                continue;
            }
            self.apply_cluster(running, tools, &c.name, (&c.model, &c.bus), p)?;
            if p.changes.iter().any(|c| c.part == "streams") {
                let old = self.snaps.iter().find(|s| s.cluster == snap.cluster);
                streams(running, &c.name, old.map(|s| &s.streams), &snap.streams)?;
            }
        }
        let gone: Vec<String> = running
            .plan
            .clusters
            .iter()
            .map(|c| c.name.clone())
            .filter(|n| !new.clusters.iter().any(|c| c.name == *n))
            .collect();
        for name in gone {
            if uninstall(running, &name)? {
                self.stale
                    .retain(|label, _| !label.starts_with(&format!("{name}/")));
            }
        }
        for c in &new.clusters {
            if running.plan.index(&c.name).is_none() {
                install(running, tools, c, &new.clusters)?;
            }
        }
        self.snaps = snaps;
        self.models = new
            .clusters
            .into_iter()
            .map(|c| (c.name, (c.model, c.bus)))
            .collect();
        for (label, why) in &self.stale {
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
        let Some(ci) = running.plan.index(name) else {
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
                        self.stale.insert(label.clone(), why);
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
                self.stale.entry(label).or_insert(why);
            }
        }
        callout(running, tools, ci, (m, bus), p)
    }

    fn restart_stale(&mut self, running: &mut Running, tools: &Tools) -> Result<(), String> {
        for (label, _) in std::mem::take(&mut self.stale) {
            let Some((ci, si)) = server_at(running, &label) else {
                continue;
            };
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

/// Where a server (`cluster/pod`) is in the running plan.
fn server_at(running: &Running, label: &str) -> Option<(usize, usize)> {
    let (cluster, pod) = label.split_once('/')?;
    let ci = running.plan.index(cluster)?;
    let si = running.plan.clusters[ci]
        .servers
        .iter()
        .position(|s| s.pod == pod)?;
    Some((ci, si))
}

/// The run's key folder holds every key the edited fleet names: a CPC added to the CSC's
/// `cpcIds` gets its leaf key pair before the CSC's callout rolls onto its public key.
fn keys(running: &Running, clusters: &[adapter::Cluster]) -> Result<(), String> {
    let ids: Vec<String> = clusters
        .iter()
        .filter(|c| c.model.is_cpc())
        .map(|c| c.model.id().to_string())
        .collect();
    let extra: Vec<String> = clusters
        .iter()
        .filter(|c| !c.model.is_cpc())
        .flat_map(|c| c.model.extra_accounts.iter().map(|a| a.name.value.clone()))
        .collect();
    up::ensure_keys(&running.plan, &ids, &extra).map_err(|e| format!("keys: {e}"))
}

/// The callout's changes, as production applies them: a change of its Deployment (its
/// variables, its config.yaml behind the checksum annotation) rolls it onto the new files and
/// variables; permissions.json alone is rewritten, and it re-reads the file within 5 s.
fn callout(
    running: &mut Running,
    tools: &Tools,
    ci: usize,
    (m, bus): (&Model, &Bus),
    p: &ClusterPlan,
) -> Result<(), String> {
    let mine: Vec<_> = p
        .changes
        .iter()
        .filter(|c| c.part == "auth-callout")
        .collect();
    if mine.is_empty() {
        return Ok(());
    }
    let name = running.plan.clusters[ci].name.clone();
    let label = format!("{name}/auth-callout");
    let rolls = mine.iter().any(|c| c.how == How::Rolls);
    callout_files(running, ci, bus, rolls).map_err(|e| e.to_string())?;
    if rolls {
        // The variables first: permissions.json's `${VAR}`s are read with them.
        running.plan.clusters[ci].callout.env =
            up::callout_env(m, bus, &running.plan).map_err(|e| e.to_string())?;
    }
    let minted = up::refresh_oauth2(&mut running.plan, ci, m).map_err(|e| e.to_string())?;
    if rolls {
        let env = running.plan.clusters[ci].callout.env.clone();
        let deadline = Instant::now() + Duration::from_secs(30);
        running.roll_callout(ci, env, tools, deadline)?;
        println!("watch: {label} rolled (restarted with its new variables and config.yaml)");
    } else {
        println!("watch: {label} re-reads permissions.json (within 5 s)");
    }
    for t in running.plan.clusters[ci].tokens.iter() {
        if minted.contains(&t.identity) {
            let file = t.file.display();
            println!(
                "cluster={name} oauth2-client={} token-file={file}",
                t.identity
            );
        }
    }
    Ok(())
}

/// What `up` says instead of installing or uninstalling the CSC while its CPCs run: their leaf
/// remotes name the running CSC's listeners.
fn csc_held(name: &str, what: &str) {
    println!(
        "watch: {name} is the CSC: it is not {what} while its CPCs run (their leaf connections \
         dial it); restart natscc up"
    );
}

/// A cluster gone from the fleet file: its processes stop and its folder goes. Returns
/// whether it was removed.
fn uninstall(running: &mut Running, name: &str) -> Result<bool, String> {
    let Some(ci) = running.plan.index(name) else {
        return Ok(false);
    };
    if running.plan.clusters[ci].is_csc {
        csc_held(name, "stopped");
        return Ok(false);
    }
    let dir = running.plan.clusters[ci].dir.display().to_string();
    running.remove_cluster(name)?;
    println!("watch: {name} removed (its servers and callout stopped, {dir} deleted)");
    Ok(true)
}

/// A cluster new in the fleet file: laid out and started as the others were at `up`, its
/// addresses printed as `up` prints them.
fn install(
    running: &mut Running,
    tools: &Tools,
    c: &adapter::Cluster,
    all: &[adapter::Cluster],
) -> Result<(), String> {
    if !c.model.is_cpc() {
        csc_held(&c.name, "started");
        return Ok(());
    }
    let extra: Vec<String> = all
        .iter()
        .filter(|c| !c.model.is_cpc())
        .flat_map(|c| c.model.extra_accounts.iter().map(|a| a.name.value.clone()))
        .collect();
    let ci = up::add_cluster(
        &mut running.plan,
        &c.name,
        (&c.model, &c.bus),
        c.mtls.as_ref(),
        &extra,
    )
    .map_err(|e| format!("{}: {e}", c.name))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    running.start_cluster(ci, tools, deadline)?;
    for line in up::address_lines(&running.plan.clusters[ci]) {
        println!("{line}");
    }
    println!("watch: {} started", c.name);
    Ok(())
}

/// The callout's permissions.json, rewritten in place (it re-reads it), and with `config`
/// its config.yaml (read at start: the callout rolls).
fn callout_files(running: &Running, ci: usize, bus: &Bus, config: bool) -> std::io::Result<()> {
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
    if let Some(c) = data("auth-callout-config", "config.yaml").filter(|_| config) {
        std::fs::write(dir.join("config.yaml"), c)?;
    }
    Ok(())
}

impl crate::fleet::cli::Watch for Watcher {
    fn poll(&mut self, running: &mut Running, tools: &Tools) -> Result<(), String> {
        self.poll_once(running, tools)
    }
}
