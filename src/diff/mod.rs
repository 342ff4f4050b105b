//! `natscc diff`: what `helm upgrade` from the values that run to new values does to the
//! running bus, change by change, and how each change reaches the pods (the reloader's SIGHUP,
//! a restart, a rolling update, or not at all), for the nats-server release each pod runs.

pub mod adapter;
pub mod apply;
pub mod cli;
pub mod confdiff;
pub mod describe;
pub mod plan;
pub mod releases;
pub mod reload;
pub mod render;
pub mod snapshot;
pub mod watch;
