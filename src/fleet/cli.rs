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

pub fn graph(_path: &Path, _format: crate::cli::GraphFormat) -> i32 {
    EXIT_USAGE
}

pub fn explain(_path: &Path, _cluster: Option<&str>, _account: &str, _subject: &str) -> i32 {
    EXIT_USAGE
}

pub fn up(_path: &Path) -> i32 {
    EXIT_USAGE
}
