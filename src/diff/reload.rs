//! What a running nats-server does with a changed config on SIGHUP, per release: the
//! classification table `natscc diff` reads. Measured on the real binaries (loopback servers,
//! files swapped as the kubelet swaps them, SIGHUP as the chart's reloader sends it, the verdict
//! read from the server's log); `tests/reload.rs` holds every row to the installed releases.
//!
//! A reload is all or nothing: the server compares its options field by field in the order of
//! its `Options` struct and stops at the first one it cannot reload ("config reload not
//! supported for X"), keeping the whole old configuration. 2.12.x panics instead when a leaf
//! remote is removed (reload.go: index out of range), unless a field before `LeafNode` refused
//! first; the container then restarts with the new files.

use crate::conf::{Conf, size_bytes};
use crate::server_version::{Version, v};

/// What one server does with a SIGHUP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// "Reloaded server configuration": the new config runs.
    Live,
    /// "Failed to reload ...: config reload not supported for <what>": the old config runs.
    Refused(String),
    /// The server panics: its container restarts and reads the new files.
    Crash,
}

/// How a kind of change fares across releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Reloaded by every measured release.
    Live,
    /// Refused by every measured release.
    Refused,
    /// Refused before the release, reloaded from it.
    LiveFrom(Version),
    /// Before the release any change is refused; from it an increase reloads and a decrease is
    /// refused ("not supported for decreasing jetstream max memory and store").
    GrowsFrom(Version),
    /// Leaf remotes: before the release, fewer remotes crash the server and any other change is
    /// refused; from it, added, removed and changed remotes reload.
    RemotesFrom(Version),
}

/// One row: a config key (dotted path in nats.conf, includes inlined; a change under it
/// matches), the server's `Options` field, and the measured rule.
#[derive(Debug)]
pub struct Row {
    pub path: &'static str,
    pub field: &'static str,
    pub rule: Rule,
}

const fn row(path: &'static str, field: &'static str, rule: Rule) -> Row {
    Row { path, field, rule }
}

/// The first release that reloads leaf remotes (2.12.8 does not).
pub const V2_14: Version = v(2, 14, 0);
/// The first release that grows JetStream store limits on reload (2.12.6 does not).
pub const V2_12_7: Version = v(2, 12, 7);

/// The measured table (2.12.6, 2.12.7, 2.12.8, 2.14.0, 2.15.1; `tests/reload.rs`).
pub const ROWS: &[Row] = &[
    row("server_name", "ServerName", Rule::Refused),
    row("port", "Port", Rule::Refused),
    row("max_connections", "MaxConn", Rule::Live),
    row("max_subscriptions", "MaxSubs", Rule::Refused),
    row("accounts", "Accounts", Rule::Live),
    row("system_account", "SystemAccount", Rule::Refused),
    row("authorization.auth_callout", "AuthCallout", Rule::Refused),
    row("http_port", "HTTPPort", Rule::Refused),
    row("max_payload", "MaxPayload", Rule::Live),
    row("cluster.name", "Cluster", Rule::Live),
    row("cluster.routes", "Cluster", Rule::Live),
    row("cluster.no_advertise", "Cluster", Rule::Live),
    row("cluster.port", "Cluster", Rule::Refused),
    row("leafnodes.port", "LeafNode", Rule::Refused),
    row("leafnodes.no_advertise", "LeafNode", Rule::Refused),
    row("leafnodes.remotes", "LeafNode", Rule::RemotesFrom(V2_14)),
    row(
        "jetstream.max_memory_store",
        "JetStreamMaxMemory",
        Rule::GrowsFrom(V2_12_7),
    ),
    row(
        "jetstream.max_file_store",
        "JetStreamMaxStore",
        Rule::GrowsFrom(V2_12_7),
    ),
    row("jetstream.domain", "JetStreamDomain", Rule::Refused),
    row("jetstream.store_dir", "StoreDir", Rule::Refused),
    row("mqtt.port", "MQTT", Rule::Refused),
    row("mqtt.ack_wait", "MQTT", Rule::Live),
    row("mqtt.stream_replicas", "MQTT", Rule::Live),
    row("mqtt.consumer_memory_storage", "MQTT", Rule::Live),
    row("lame_duck_duration", "LameDuckDuration", Rule::Refused),
    row(
        "lame_duck_grace_period",
        "LameDuckGracePeriod",
        Rule::Refused,
    ),
];

/// The order nats-server 2.12.6 compares its options in (its `Options` struct), for the
/// fields of [`ROWS`]: the first field it cannot reload decides.
const FIELD_ORDER: &[&str] = &[
    "ServerName",
    "Port",
    "MaxConn",
    "MaxSubs",
    "Accounts",
    "SystemAccount",
    "AuthCallout",
    "HTTPPort",
    "MaxPayload",
    "Cluster",
    "LeafNode",
    "JetStreamMaxMemory",
    "JetStreamMaxStore",
    "JetStreamDomain",
    "StoreDir",
    "MQTT",
    "LameDuckDuration",
    "LameDuckGracePeriod",
];

/// The row of a changed key path (`accounts.CPC.imports` -> `accounts`): the longest row
/// path that is the key or a parent of it.
pub fn row_of(path: &str) -> Option<&'static Row> {
    ROWS.iter()
        .filter(|r| path == r.path || path.starts_with(&format!("{}.", r.path)))
        .max_by_key(|r| r.path.len())
}

fn rank(field: &str) -> usize {
    FIELD_ORDER
        .iter()
        .position(|f| *f == field)
        .unwrap_or(FIELD_ORDER.len())
}

/// One changed key of a server's config: its dotted path, old and new value (`None`: absent).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyChange {
    pub path: String,
    pub old: Option<Conf>,
    pub new: Option<Conf>,
}

/// What `version` does with this one change alone.
pub fn judge_one(c: &KeyChange, version: Version) -> Verdict {
    let Some(r) = row_of(&c.path) else {
        return Verdict::Refused(format!(
            "`{}` (not in natscc's measured table: assumed refused)",
            c.path
        ));
    };
    let refused = || Verdict::Refused(format!("{} (`{}`)", r.field, c.path));
    match r.rule {
        Rule::Live => Verdict::Live,
        Rule::Refused => refused(),
        Rule::LiveFrom(from) if version >= from => Verdict::Live,
        Rule::LiveFrom(_) => refused(),
        Rule::GrowsFrom(from) if version >= from => {
            let size = |c: &Option<Conf>| c.as_ref().and_then(size_bytes).unwrap_or(0);
            if size(&c.new) >= size(&c.old) {
                Verdict::Live
            } else {
                Verdict::Refused(format!("decreasing {} (`{}`)", r.field, c.path))
            }
        }
        Rule::GrowsFrom(_) => refused(),
        Rule::RemotesFrom(from) if version >= from => Verdict::Live,
        Rule::RemotesFrom(_) => {
            let count = |c: &Option<Conf>| match c {
                Some(Conf::List(l)) => l.len(),
                _ => 0,
            };
            if count(&c.new) < count(&c.old) {
                Verdict::Crash
            } else {
                refused()
            }
        }
    }
}

/// What `version` does on SIGHUP with all of one server's changes: the first change (in the
/// server's field order) it does not reload decides; none, and the reload applies.
pub fn judge(changes: &[KeyChange], version: Version) -> Verdict {
    let mut ranked: Vec<(usize, Verdict)> = changes
        .iter()
        .map(|c| {
            let r = row_of(&c.path).map_or(0, |r| rank(r.field));
            (r, judge_one(c, version))
        })
        .collect();
    ranked.sort_by_key(|(r, _)| *r);
    ranked
        .into_iter()
        .map(|(_, v)| v)
        .find(|v| *v != Verdict::Live)
        .unwrap_or(Verdict::Live)
}

/// A server log's verdict on the SIGHUP it got after `from` (a byte offset), if it has one.
pub fn verdict_in_log(log: &str, from: usize) -> Option<Verdict> {
    let tail = log.get(from..).unwrap_or("");
    if tail.contains("panic: ") {
        return Some(Verdict::Crash);
    }
    if let Some(i) = tail.find("Failed to reload server configuration: ") {
        let rest = &tail[i + "Failed to reload server configuration: ".len()..];
        let line = rest.lines().next().unwrap_or("");
        let what = line
            .strip_prefix("config reload not supported for ")
            .unwrap_or(line);
        return Some(Verdict::Refused(what.to_string()));
    }
    tail.contains("Reloaded server configuration")
        .then_some(Verdict::Live)
}
