//! natscc: a compiler from NATS event-bus Helm values to checked NATS server configuration.
//!
//! The pipeline, one module per stage: [`load`] (YAML with spans, Helm merge, `--set`) ->
//! render ([`model`], the typed values, beside [`bus`], what the chart deploys from them,
//! through the NATS-chart renderer [`chart`]) -> [`check`] (schema and rules) -> [`emit`]
//! (files), run by the one [`driver`] for either mode. [`diag`] is the one diagnostic type
//! every stage reports with. The layers are ARCHITECTURE.md's table (`tests/layers.rs`).

pub mod access;
pub mod bus;
pub mod callout;
pub mod chart;
pub mod check;
pub mod cli;
pub mod conf;
pub mod diag;
pub mod diff;
pub mod driver;
pub mod emit;
pub mod fleet;
pub mod gotmpl;
pub mod graph;
pub mod input;
pub mod keys;
pub mod lint;
pub mod load;
pub mod memo;
pub mod model;
pub mod natsconf;
pub mod parallel;
pub mod postrender;
pub mod server_version;
pub mod subject;

pub use driver::{
    Compiled, check_only, compile, compile_stated, compile_tree, compile_tree_stated,
};
