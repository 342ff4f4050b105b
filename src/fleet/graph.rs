//! The fleet's routing graph.

use super::Fleet;
use crate::diag::Diagnostic;

pub fn cycle_diags(_fleet: &Fleet) -> Vec<Diagnostic> {
    vec![]
}
