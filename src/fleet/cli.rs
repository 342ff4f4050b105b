//! The fleet's commands: `graph --fleet`, `explain --fleet`, `up` (`compile --fleet` is
//! `fleet::compile` and a write). Each returns what it found; only `cli.rs` prints findings
//! and picks exit codes.

use crate::diag::{Diagnostic, Sources};
use std::path::Path;

/// What graph and explain answer, single cluster or fleet.
#[derive(Debug, Default)]
pub struct Answer {
    /// Every finding on the values: errors make the exit code 1 even when `text` is drawn.
    pub diags: Vec<Diagnostic>,
    pub sources: Sources,
    /// The drawing or explanation for stdout, when there is one.
    pub text: Option<String>,
    /// Why nothing was drawn, when the findings do not say it.
    pub note: Option<String>,
    /// A usage error (exit 2): a cluster, account or subject the question cannot be about.
    pub usage: Option<String>,
}

impl Answer {
    fn usage(message: String) -> Self {
        Answer {
            usage: Some(message),
            ..Default::default()
        }
    }
}

/// Builds the joined graph; without one, the answer says why.
fn joined(path: &Path) -> Result<(super::graph::FleetGraph, Answer), Answer> {
    let fleet = super::compile(path, false);
    let graph = super::graph::build(&fleet);
    let answer = Answer {
        diags: fleet.diags,
        sources: fleet.sources,
        ..Default::default()
    };
    match graph {
        Some(g) => Ok((g, answer)),
        None => Err(Answer {
            note: Some("the fleet needs exactly one CSC to be drawn".into()),
            ..answer
        }),
    }
}

/// The drawing of a graph with its red (cycle) edges, DOT or Mermaid as the CLI chose.
pub type Draw =
    fn(&crate::graph::Graph, &std::collections::BTreeSet<petgraph::graph::EdgeIndex>) -> String;

/// `natscc graph --fleet FLEET`: every cluster's accounts, the leaf connections between them.
pub fn graph(path: &Path, draw: Draw) -> Answer {
    match joined(path) {
        Ok((fg, answer)) => Answer {
            text: Some(draw(&fg.graph, &fg.red)),
            ..answer
        },
        Err(answer) => answer,
    }
}

/// `natscc explain --fleet FLEET --cluster C --account A SUBJECT`.
pub fn explain(path: &Path, cluster: Option<&str>, account: &str, subject: &str) -> Answer {
    let Some(cluster) = cluster else {
        return Answer::usage(
            "with --fleet, say which cluster the message is published in: --cluster NAME".into(),
        );
    };
    if crate::subject::Pattern::parse(subject)
        .map(|p| !p.is_literal())
        .unwrap_or(true)
    {
        return Answer::usage(format!(
            "`{subject}` is not a literal subject (no wildcards): a message is published on one \
             subject"
        ));
    }
    let (fg, answer) = match joined(path) {
        Ok(j) => j,
        Err(answer) => return answer,
    };
    let Some(start) = fg.graph.find(cluster, account) else {
        let clusters: std::collections::BTreeSet<&str> = fg
            .graph
            .g
            .node_weights()
            .map(|a| a.cluster.as_str())
            .collect();
        let usage = if !clusters.contains(cluster) {
            format!(
                "the fleet has no cluster `{cluster}`; its clusters are: {}",
                clusters.into_iter().collect::<Vec<_>>().join(", ")
            )
        } else {
            let names: Vec<&str> = fg
                .graph
                .g
                .node_weights()
                .filter(|a| a.cluster == cluster)
                .map(|a| a.name.as_str())
                .collect();
            format!(
                "no account `{account}` on {cluster}; the accounts are: {}",
                names.join(", ")
            )
        };
        return Answer {
            usage: Some(usage),
            ..answer
        };
    };
    Answer {
        text: Some(super::graph::explain_text(&fg, start, subject)),
        ..answer
    }
}

/// `natscc explain --fleet FLEET --who-can ...` / `--identity ...`: every cluster's
/// identities (or `cluster`'s alone) over the joined graph.
pub fn access(path: &Path, cluster: Option<&str>, q: &crate::access::Question) -> Answer {
    let fleet = super::compile(path, false);
    let Some(fg) = super::graph::build(&fleet) else {
        return Answer {
            note: Some("the fleet needs exactly one CSC to be drawn".into()),
            diags: fleet.diags,
            sources: fleet.sources,
            ..Default::default()
        };
    };
    let mut answer = Answer::default();
    if let Some(name) = cluster
        && fleet.cluster(name).is_none()
    {
        let names: Vec<&str> = fleet.clusters.iter().map(|c| c.name()).collect();
        answer.usage = Some(format!(
            "the fleet has no cluster `{name}`; its clusters are: {}",
            names.join(", ")
        ));
    }
    let mut grants = vec![];
    let unrendered = crate::bus::Bus::default();
    for c in &fleet.clusters {
        if c.model.is_none() || cluster.is_some_and(|name| name != c.name()) {
            continue;
        }
        let bus = c.bus.as_ref().unwrap_or(&unrendered);
        match crate::access::cluster_grants(c.name(), bus) {
            Ok(g) => grants.extend(g),
            Err(e) => answer.usage = Some(format!("{}: {e}", c.name())),
        }
    }
    if answer.usage.is_none() {
        let explain = |n, s: &str| super::graph::explain(&fg, n, s);
        let flows = crate::access::Flows {
            graph: &fg.graph,
            explain: &explain,
        };
        (answer.text, answer.usage) = crate::access::answer(&flows, &grants, q);
    }
    answer.diags = fleet.diags;
    answer.sources = fleet.sources;
    answer
}

/// How `natscc up` ended, after the CLI found the fleet free of errors.
#[derive(Debug)]
pub enum Up {
    /// Ran until SIGINT or SIGTERM, then stopped every server.
    Stopped,
    /// natscc could not do its work (no nats-server, no temporary folder): exit 2.
    Usage(String),
    /// A server did not start or exited, or a stream could not be created: exit 1.
    Failed(String),
}

/// `natscc up FLEET`: the checked fleet on this machine until SIGINT or SIGTERM. It prints
/// its progress and each cluster's addresses as they come (the run has no end to wait for).
pub fn up(fleet: &super::Fleet) -> Up {
    up_watching(fleet, None)
}

/// What runs beside a ready fleet until it stops (`natscc up --watch`, which lives with
/// `natscc diff`): polled every 100 ms with the running fleet.
pub trait Watch {
    fn poll(
        &mut self,
        running: &mut super::up::Running,
        tools: &super::up::Tools,
    ) -> Result<(), String>;
}

/// Makes the [`Watch`] once the fleet is ready.
pub type StartWatch = Box<dyn FnOnce() -> Result<Box<dyn Watch>, String>>;

/// [`up`], and with `watch`, what it starts once the fleet is ready, polled until SIGINT or
/// SIGTERM.
pub fn up_watching(fleet: &super::Fleet, watch: Option<StartWatch>) -> Up {
    use std::io::Write;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            return Up::Usage(format!("cannot handle signal {sig}: {e}"));
        }
    }
    // The watch takes its baseline before anything starts: an edit made while the fleet
    // starts, or right after `ready`, is then an edit of what runs.
    let mut watcher = match watch.map(|start| start()).transpose() {
        Ok(w) => w,
        Err(e) => return Up::Failed(e),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let Some(nats_server) = super::up::server_binary() else {
        return Up::Usage(
            "nats-server not found: set NATS_SERVER_BIN or put nats-server on PATH".into(),
        );
    };
    // The auth callouts are natscc's own responder: this very binary.
    let natscc = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return Up::Usage(format!("cannot find natscc's own binary: {e}")),
    };
    // Each pod runs the release its image deploys, found in NATS_SERVER_DIR/<version>/.
    let tools = super::up::Tools {
        nats_server,
        servers: std::env::var_os("NATS_SERVER_DIR").map(std::path::PathBuf::from),
        natscc,
    };
    let dir = match super::up::temp_dir() {
        Ok(d) => d,
        Err(e) => {
            return Up::Usage(format!("cannot create a temporary folder: {e}"));
        }
    };
    let plan = match super::up::plan(fleet, &dir) {
        Ok(p) => p,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Up::Usage(e.to_string());
        }
    };
    for line in super::up::version_lines(&plan, &tools) {
        eprintln!("{line}");
    }
    let servers: usize = plan.clusters.iter().map(|c| c.servers.len()).sum();
    eprintln!(
        "natscc up: starting {servers} servers and {} auth callouts in {}",
        plan.clusters.len(),
        dir.display()
    );
    // From here on, dropping `running` stops every process and removes the folder.
    let mut running = match super::up::start(plan, &tools, deadline, &stop) {
        Ok(r) => r,
        Err(e) => return Up::Failed(e.to_string()),
    };
    {
        let mut out = std::io::stdout().lock();
        for lc in &running.plan.clusters {
            for line in super::up::address_lines(lc) {
                let _ = writeln!(out, "{line}");
            }
        }
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    while !stop.load(Ordering::Relaxed) {
        if let Some(e) = running.exited() {
            return Up::Failed(e.to_string());
        }
        if let Some(w) = &mut watcher
            && let Err(e) = w.poll(&mut running, &tools)
        {
            return Up::Failed(e);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    running.stop();
    eprintln!(
        "natscc up: stopped every server and callout and removed {}",
        dir.display()
    );
    Up::Stopped
}
