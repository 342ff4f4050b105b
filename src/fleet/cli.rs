//! The fleet's commands: `compile --fleet`, `graph --fleet`, `explain --fleet`, `up`.

use crate::cli::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, ReportArgs, report};
use crate::diag::Code;
use std::path::Path;

fn io_failure(fleet: &super::Fleet) -> bool {
    fleet.diags.iter().any(|d| d.code == Code::Io)
}

/// `natscc compile --fleet FLEET -o DIR`: DIR/<cluster>/ for every cluster, all or nothing.
pub fn compile(path: &Path, out: &Path, args: &ReportArgs) -> i32 {
    let mut fleet = super::compile(path, true);
    let failed = report(&mut fleet.diags, &fleet.sources, args);
    if io_failure(&fleet) {
        return EXIT_USAGE;
    }
    if failed || fleet.clusters.is_empty() {
        return EXIT_FINDINGS;
    }
    if let Err(e) = crate::emit::write_atomic(out, &fleet.all_files()) {
        eprintln!("natscc: cannot write {}: {e}", out.display());
        return EXIT_USAGE;
    }
    EXIT_OK
}

/// Builds the joined graph, or reports why it cannot be built.
fn joined(path: &Path) -> Result<super::graph::FleetGraph, i32> {
    let mut fleet = super::compile(path, false);
    if let Some(g) = super::graph::build(&fleet) {
        return Ok(g);
    }
    let _ = report(&mut fleet.diags, &fleet.sources, &ReportArgs { format: None, deny_warnings: false });
    if io_failure(&fleet) {
        return Err(EXIT_USAGE);
    }
    eprintln!("natscc: the fleet needs exactly one CSC to be drawn");
    Err(EXIT_FINDINGS)
}

/// `natscc graph --fleet FLEET`: every cluster's accounts, the leaf connections between them.
pub fn graph(path: &Path, format: crate::cli::GraphFormat) -> i32 {
    let fg = match joined(path) {
        Ok(g) => g,
        Err(code) => return code,
    };
    print!(
        "{}",
        match format {
            crate::cli::GraphFormat::Dot => crate::graph::render::dot(&fg.graph, &fg.red),
            crate::cli::GraphFormat::Mermaid => crate::graph::render::mermaid(&fg.graph, &fg.red),
        }
    );
    EXIT_OK
}

/// `natscc explain --fleet FLEET --cluster C --account A SUBJECT`.
pub fn explain(path: &Path, cluster: Option<&str>, account: &str, subject: &str) -> i32 {
    let Some(cluster) = cluster else {
        eprintln!("natscc: with --fleet, say which cluster the message is published in: --cluster NAME");
        return EXIT_USAGE;
    };
    if crate::subject::Pattern::parse(subject).map(|p| !p.is_literal()).unwrap_or(true) {
        eprintln!("natscc: `{subject}` is not a literal subject (no wildcards): a message is published on one subject");
        return EXIT_USAGE;
    }
    let fg = match joined(path) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let Some(start) = fg.graph.find(cluster, account) else {
        let clusters: std::collections::BTreeSet<&str> = fg.graph.g.node_weights().map(|a| a.cluster.as_str()).collect();
        if !clusters.contains(cluster) {
            eprintln!("natscc: the fleet has no cluster `{cluster}`; its clusters are: {}", clusters.into_iter().collect::<Vec<_>>().join(", "));
        } else {
            let names: Vec<&str> = fg.graph.g.node_weights().filter(|a| a.cluster == cluster).map(|a| a.name.as_str()).collect();
            eprintln!("natscc: no account `{account}` on {cluster}; the accounts are: {}", names.join(", "));
        }
        return EXIT_USAGE;
    };
    print!("{}", super::graph::explain_text(&fg, start, subject));
    EXIT_OK
}

/// `natscc up FLEET`: the whole fleet on this machine until SIGINT or SIGTERM.
pub fn up(path: &Path) -> i32 {
    use std::io::Write;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            eprintln!("natscc up: cannot handle signal {sig}: {e}");
            return EXIT_USAGE;
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let fleet = super::compile(path, false);
    // Only errors stop a dry run; warnings are compile's to show.
    let (mut errors, warnings): (Vec<_>, Vec<_>) = fleet.diags.iter().cloned().partition(|d| d.is_error());
    let failed = report(&mut errors, &fleet.sources, &ReportArgs { format: None, deny_warnings: false });
    if !warnings.is_empty() {
        eprintln!("natscc up: {} warning(s); `natscc compile --fleet` shows them", warnings.len());
    }
    if io_failure(&fleet) {
        return EXIT_USAGE;
    }
    if failed {
        eprintln!("natscc up: the fleet has errors; nothing was started");
        return EXIT_FINDINGS;
    }
    let Some(server) = super::up::server_binary() else {
        eprintln!("natscc up: nats-server not found: set NATS_SERVER_BIN or put nats-server on PATH");
        return EXIT_USAGE;
    };
    let dir = match super::up::temp_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("natscc up: cannot create a temporary folder: {e}");
            return EXIT_USAGE;
        }
    };
    let plan = match super::up::plan(&fleet, &dir) {
        Ok(p) => p,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            eprintln!("natscc up: {e}");
            return EXIT_USAGE;
        }
    };
    eprintln!("natscc up: starting {} servers in {}", plan.clusters.len(), dir.display());
    // From here on, dropping `running` stops every server and removes the folder.
    let mut running = match super::up::start(plan, &server, deadline, &stop) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("natscc up: {e}");
            return EXIT_FINDINGS;
        }
    };
    if let Err(e) = super::up::create_streams(&running.plan) {
        eprintln!("natscc up: {e}");
        return EXIT_FINDINGS;
    }
    {
        let mut out = std::io::stdout().lock();
        for lc in &running.plan.clusters {
            let _ = writeln!(out, "{}", super::up::address_line(lc));
        }
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    while !stop.load(Ordering::Relaxed) {
        if let Some(e) = running.exited() {
            eprintln!("natscc up: {e}");
            return EXIT_FINDINGS;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    running.stop();
    eprintln!("natscc up: stopped every server and removed {}", dir.display());
    EXIT_OK
}
