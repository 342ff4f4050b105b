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
    print!("{}", match format {
        crate::cli::GraphFormat::Dot => crate::graph::render::dot(&fg.graph, &fg.red),
        crate::cli::GraphFormat::Mermaid => crate::graph::render::mermaid(&fg.graph, &fg.red),
    });
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

pub fn up(_path: &Path) -> i32 {
    EXIT_USAGE
}
