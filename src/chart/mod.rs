//! The NATS chart's renderer, used by both modes: the official NATS chart's templates replayed
//! over its values (plain-chart mode's whole values, or an event-bus release's `nats:` and
//! `nats-mtls:` sections). Nothing here judges; the rules on what it renders are
//! `check::nats_chart`, the modes that drive it `driver`.
//!
//! [`render`] builds the config tree with the span behind every key ([`spans`]); [`roles`] lays
//! in the `natscc.tlsRoles` shortcut and [`patch`] the chart's `config.patch`; [`print`] is the
//! chart's `nats.formatConfig`, and [`view`] the printed tree as the server reads it. [`keys`]
//! is the one table of what the chart reads, [`secrets`] the TLS Secrets its pod mounts.

pub mod keys;
pub mod patch;
pub mod print;
pub mod render;
pub mod roles;
pub mod secrets;
pub mod spans;
pub mod view;
