//! The top level of a `config.merge` block (it lands at the top of nats.conf as written) and
//! the server blocks' merges, judged as the nats-server release the chart deploys reads them.
//! The options and their kinds are the table of `server_version::options`, measured on the
//! binaries: every key of the server's `processConfigFileLine` (and of parseCluster,
//! parseJetStream, ...) was given an integer, a float, a string, a boolean, a map and a list
//! under `nats-server -t`, and a kind is allowed when the server did not answer "interface
//! conversion", "Expected ..." or "unsupported type" (the kinds are the same in every
//! measured release; which releases read an option is not). Keys are case-insensitive (the
//! server lower-cases them); any other key is refused (`unknown field "max_paylod"`) unless it
//! is a variable some `$NAME` uses, and so is a key a later release reads than the deployed
//! one. A float is refused by every key but `accounts`. Lists inside lists are refused wherever
//! measured (users, routes, remotes, exports, server_tags, unique_tag, mappings).

use crate::conf::is_size_word;
use crate::diag::{Code, Diagnostic, Span};
use crate::load::{Entry, Node, V};
use crate::server_version::kind::*;
use crate::server_version::{self as sv, Deployed};

/// Keys `check::nats_chart::limits` already types (a quoted size, an integer duration): this
/// rule adds only the kinds it leaves alone there (a list, a map, a boolean).
const TYPED_ELSEWHERE: &[&str] = &[
    "max_connections",
    "max_subscriptions",
    "max_control_line",
    "max_payload",
    "max_pending",
    "ping_interval",
    "write_deadline",
    "lame_duck_duration",
    "lame_duck_grace_period",
];

/// The kind the server sees for a merge value, `None` when only the running server knows
/// (`<< $VAR >>`) or the key is deleted (`null`). The chart writes `<< X >>` as the bare `X`.
fn kind(n: &Node) -> Option<u16> {
    Some(match &n.v {
        V::Null => return None,
        V::Int(_) => INT,
        V::Float(_) => 0,
        V::Bool(_) => BOOL,
        V::Seq(_) => LIST,
        V::Map(_) => MAP,
        V::Str(s) => match bare(s) {
            None => STR,
            Some(w) if w.starts_with('$') => return None,
            // The server's lexer reads sizes as integers and yes/no/true/false as booleans.
            Some(w) if is_size_word(w) || w.parse::<i64>().is_ok() => INT,
            Some(w)
                if matches!(
                    w.to_ascii_lowercase().as_str(),
                    "true" | "false" | "yes" | "no" | "on" | "off"
                ) =>
            {
                BOOL
            }
            Some(_) => STR,
        },
    })
}

/// The word inside a whole `<< X >>` value.
fn bare(s: &str) -> Option<&str> {
    let t = s.trim().strip_prefix("<<")?.strip_suffix(">>")?;
    (t.starts_with(char::is_whitespace) && t.ends_with(char::is_whitespace)).then(|| t.trim())
}

fn kind_word(k: u16) -> &'static str {
    match k {
        INT => "an integer",
        STR => "a string",
        BOOL => "a boolean",
        MAP => "a map",
        LIST => "a list",
        _ => "a float",
    }
}

fn allowed_words(mask: u16) -> String {
    let words: Vec<&str> = [INT, STR, BOOL, MAP, LIST]
        .into_iter()
        .filter(|k| mask & k != 0)
        .map(kind_word)
        .collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => words.join(""),
    }
}

/// Whether `<< $name >>` appears anywhere under the node: then `name` is a config variable.
fn uses_var(n: &Node, name: &str) -> bool {
    match &n.v {
        V::Str(s) => bare(s).is_some_and(|w| {
            w.strip_prefix('$')
                .is_some_and(|v| v.trim_matches(|c| c == '{' || c == '}') == name)
        }),
        V::Seq(items) => items.iter().any(|i| uses_var(i, name)),
        V::Map(es) => es.iter().any(|e| uses_var(&e.value, name)),
        _ => false,
    }
}

/// A merge key no release natscc knows reads, at `at`; the suggestions are the options the
/// deployed release reads there.
fn unknown_option(e: &Entry, at: &str, block: &str, deployed: &Deployed) -> Diagnostic {
    let read = sv::options_of(block).filter(|o| o.reads(deployed.version));
    Finding::UnknownOption {
        path: at,
        key: &e.key,
        top: block == "top",
        near: crate::diag::suggest(&e.key, read.map(|o| o.key)),
        at: e.key_span,
    }
    .into()
}

/// The place a merge is judged: its block in the option table, the release that reads it.
#[derive(Clone, Copy)]
pub struct Judge<'d> {
    pub block: &'static str,
    pub deployed: &'d Deployed,
}

/// The entries of a merge that the deployed release reads, each with its lower-case key, the
/// kinds the server reads there and its value's kind. `$include`s (they become `include x;`
/// lines) and keys set through a variable pass; unknown keys and keys only later releases
/// read are reported, and `authorization.timeout` is judged on the way.
fn known_entries<'a>(
    judge: Judge,
    merge: &'a Node,
    at: &str,
    out: &mut Vec<Diagnostic>,
) -> Vec<(&'a Entry, String, u16, u16)> {
    let mut known = vec![];
    for e in merge.entries() {
        if e.key.contains("$include") {
            continue;
        }
        let lower = e.key.to_ascii_lowercase();
        let Some(opt) = sv::option(judge.block, &lower) else {
            if !uses_var(merge, &e.key) {
                out.push(unknown_option(e, at, judge.block, judge.deployed));
            }
            continue;
        };
        if !opt.reads(judge.deployed.version) {
            if !uses_var(merge, &e.key) {
                out.push(sv::newer_option(
                    opt,
                    &e.key,
                    at,
                    e.key_span,
                    judge.deployed,
                ));
            }
            continue;
        }
        let mask = opt.kinds;
        authorization_timeout(&lower, &e.value, &format!("{at}.{}", e.key), out);
        if let Some(k) = kind(&e.value) {
            known.push((e, lower, mask, k));
        }
    }
    known
}

/// The keys and kinds of one top-level merge block (`at` is its path in the values).
pub fn merge_block(merge: &Node, at: &str, deployed: &Deployed, out: &mut Vec<Diagnostic>) {
    top_level(merge, at, true, deployed, out);
}

/// The top level of a whole config read back from a rendered stream (`at` names the file),
/// its server blocks key by key, and lists inside lists anywhere: what the merge rules judge
/// in the values, judged where only the config is known. Values set from the environment
/// (`<< $X >>`) and `null`s (the caller's mark for what another rule reports) pass.
pub fn rendered(conf: &Node, at: &str, deployed: &Deployed, out: &mut Vec<Diagnostic>) {
    // A config without one server option is an include that no config of the stream includes
    // (accounts or leaf remotes alone): no server reads it at the top.
    let known = |e: &Entry| sv::option("top", &e.key.to_ascii_lowercase()).is_some();
    if !conf.entries().iter().any(known) {
        return;
    }
    top_level(conf, at, false, deployed, out);
    for block in BLOCKS {
        if let Some(b) = conf
            .entries()
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(block))
            .filter(|e| matches!(e.value.v, V::Map(_)))
        {
            let judge = Judge { block, deployed };
            block_merge(judge, &b.value, &format!("{at}.{}", b.key), out);
        }
    }
    super::server_values::nested_lists(conf, at, out);
}

/// `typed_elsewhere`: a quoted size or an integer duration under the keys
/// `check::nats_chart::limits` types is left to it (in the values, not in a rendered config).
fn top_level(
    merge: &Node,
    at: &str,
    typed_elsewhere: bool,
    deployed: &Deployed,
    out: &mut Vec<Diagnostic>,
) {
    let judge = Judge {
        block: "top",
        deployed,
    };
    for (e, lower, mask, k) in known_entries(judge, merge, at, out) {
        let key = &e.key;
        // A quoted size or an integer duration is reported by `check::nats_chart::limits`
        // (TunableType), which reads the key as written in lower case: `MAX_PENDING` is
        // judged here.
        let handled = typed_elsewhere
            && *key == lower
            && TYPED_ELSEWHERE.contains(&lower.as_str())
            && matches!(k, INT | STR | 0);
        if handled {
            continue;
        }
        if let V::Str(s) = &e.value.v
            && k == STR
            && mask & DURATION != 0
            && !go_duration(bare(s).unwrap_or(s))
        {
            out.push(
                Finding::NotDuration {
                    path: at,
                    key,
                    text: s,
                    timeout: false,
                    at: e.value.span,
                }
                .into(),
            );
        }
        if mask & k == 0 {
            out.push(
                Finding::Kind {
                    path: at,
                    key,
                    found: k,
                    reads: mask & ANY,
                    at: e.value.span,
                }
                .into(),
            );
        }
    }
}

/// The blocks a chart block's `merge` lands in (`config.cluster.merge` inside `cluster { }`),
/// each judged with its rows of the option table.
const BLOCKS: [&str; 6] = [
    "cluster",
    "jetstream",
    "leafnodes",
    "mqtt",
    "websocket",
    "gateway",
];

/// Whether `s` reads as a Go duration (`time.ParseDuration`): `0`, or numbers with units,
/// nothing around them.
fn go_duration(s: &str) -> bool {
    s.trim() == s && crate::gotmpl::go_duration(s).is_some()
}

/// The keys, kinds and values of a block's merge (`at` is its path in the values).
fn block_merge(judge: Judge, merge: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    for (e, lower, mask, k) in known_entries(judge, merge, at, out) {
        let key = &e.key;
        // Each leaf remote is a block of its own options.
        if judge.block == "leafnodes" && lower == "remotes" {
            let remote = Judge {
                block: "leafnodes.remotes",
                ..judge
            };
            for (i, r) in e.value.items().iter().enumerate() {
                if matches!(r.v, V::Map(_)) {
                    block_merge(remote, r, &format!("{at}.{key}[{i}]"), out);
                }
            }
        }
        let wrong = |value: Wrong| {
            Finding::BlockValue {
                path: at,
                key,
                value,
                at: e.value.span,
            }
            .into()
        };
        if mask & k == 0 {
            out.push(wrong(Wrong::Kind {
                found: k,
                reads: mask & ANY,
            }));
            continue;
        }
        // The chart writes `<< X >>` as the bare `X`: the server reads the word.
        match &e.value.v {
            V::Str(s) if k == STR && mask & DURATION != 0 && !go_duration(bare(s).unwrap_or(s)) => {
                out.push(wrong(Wrong::Duration(s)))
            }
            V::Str(s) if k == STR && mask & SIZE != 0 && !is_storage_size(bare(s).unwrap_or(s)) => {
                out.push(wrong(Wrong::Size(s)))
            }
            V::Int(n) if mask & U16 != 0 && !(0..=65535).contains(n) => {
                out.push(wrong(Wrong::Port(*n)))
            }
            _ => {}
        }
    }
}

/// An `authorization` block's `timeout` as a string: nats-server reads it as a Go duration
/// ("error parsing authorization config, 'timeout' time: invalid duration").
fn authorization_timeout(key: &str, value: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    if key != "authorization" {
        return;
    }
    for e in value.entries() {
        if let V::Str(s) = &e.value.v
            && e.key.eq_ignore_ascii_case("timeout")
            && bare(s).is_none()
            && !go_duration(s)
        {
            out.push(
                Finding::NotDuration {
                    path: at,
                    key: &e.key,
                    text: s,
                    timeout: true,
                    at: e.value.span,
                }
                .into(),
            );
        }
    }
}

/// What the rules on merge blocks find; `From<Finding> for Diagnostic` words them.
enum Finding<'a> {
    /// A key no release reads at `path` (`top`: the config's top level, else a block).
    UnknownOption {
        path: &'a str,
        key: &'a str,
        top: bool,
        near: Option<&'a str>,
        at: Span,
    },
    /// A string that is no duration: a top-level option's, or (`timeout`) an `authorization`
    /// block's timeout, which also takes seconds as a number.
    NotDuration {
        path: &'a str,
        key: &'a str,
        text: &'a str,
        timeout: bool,
        at: Span,
    },
    /// A top-level option of a kind the server does not read there (`reads`: the kinds it does).
    Kind {
        path: &'a str,
        key: &'a str,
        found: u16,
        reads: u16,
        at: Span,
    },
    /// A block option's wrong value.
    BlockValue {
        path: &'a str,
        key: &'a str,
        value: Wrong<'a>,
        at: Span,
    },
}

/// How a block option's value is wrong.
enum Wrong<'a> {
    Kind { found: u16, reads: u16 },
    Duration(&'a str),
    Size(&'a str),
    Port(i64),
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::UnknownOption {
                path,
                key,
                top,
                near,
                at,
            } => {
                let what = if top {
                    "a nats-server option; the server"
                } else {
                    "an option of that block; nats-server"
                };
                Diagnostic::new(
                    Code::ConfUnknownKey,
                    format!(
                        "`{path}.{key}` is not {what} refuses the config (unknown field \
                         \"{key}\")"
                    ),
                )
                .at(at, "unknown option")
                .help(match near {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "check the spelling against the nats-server configuration \
                             reference, or remove the key"
                        .to_string(),
                })
            }
            Finding::NotDuration {
                path,
                key,
                text,
                timeout,
                at,
            } => Diagnostic::new(
                Code::ConfType,
                format!(
                    "`{path}.{key}` is `{text}`, not a duration; nats-server refuses the config"
                ),
            )
            .at(at, "not a duration")
            .help(if timeout {
                "give seconds as a number (`2`), or a duration with its unit (`2s`)"
            } else {
                "write a duration with its unit: `30s`, `2m`, `1h30m`"
            }),
            Finding::Kind {
                path,
                key,
                found,
                reads,
                at,
            } => Diagnostic::new(
                Code::ConfType,
                format!(
                    "`{path}.{key}` is {}; nats-server reads {} there and refuses the config",
                    kind_word(found),
                    allowed_words(reads)
                ),
            )
            .at(at, "wrong type")
            .help(format!(
                "give `{key}` {}{}",
                allowed_words(reads),
                if reads & INT != 0 && found == STR {
                    " (unquoted)"
                } else {
                    ""
                }
            )),
            Finding::BlockValue {
                path,
                key,
                value,
                at,
            } => {
                let (what, help) = match value {
                    Wrong::Kind { found, reads } => (
                        format!(
                            "{}, where it reads {}",
                            kind_word(found),
                            allowed_words(reads)
                        ),
                        format!("give `{key}` {}", allowed_words(reads)),
                    ),
                    Wrong::Duration(s) => (
                        format!("`{s}`, not a duration"),
                        "write a duration with its unit: `30s`, `2m`, `1h30m`".to_string(),
                    ),
                    Wrong::Size(s) => (
                        format!("`{s}`, not a size"),
                        "write a number of bytes, unquoted, or a quoted number with one of K, M, \
                         G, T (`\"1G\"`)"
                            .to_string(),
                    ),
                    Wrong::Port(n) => (
                        format!("{n}, out of range"),
                        "give a number from 0 to 65535".to_string(),
                    ),
                };
                Diagnostic::new(
                    Code::ConfType,
                    format!("`{path}.{key}` is {what}; nats-server refuses the config"),
                )
                .at(at, "wrong value")
                .help(help)
            }
        }
    }
}

/// A size as a quoted string, as the server's JetStream reads it: digits, then K, M, G or T.
fn is_storage_size(s: &str) -> bool {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(&s[digits..], "K" | "M" | "G" | "T")
}

/// Every `merge` block under a chart `config` (`config.merge`, `config.cluster.merge`,
/// `config.nats.tls.merge`, ...): the top-level one and those of the server's blocks (cluster,
/// jetstream, leafnodes, mqtt, websocket, gateway) are checked key by key, and all of them for
/// lists inside lists. A block switched off renders nothing, its merge included.
pub fn config(config: &Node, at: &str, deployed: &Deployed, out: &mut Vec<Diagnostic>) {
    static SHARED: super::Shared<(String, Deployed), Diagnostic> = super::Shared::new(1024);
    let context = || (at.to_string(), deployed.clone());
    let walk = |out: &mut Vec<Diagnostic>| config_walk(config, at, deployed, out);
    super::once_shared(&SHARED, config, context, walk, out);
}

/// `config` without the memo: the findings of one `config` block.
fn config_walk(config: &Node, at: &str, deployed: &Deployed, out: &mut Vec<Diagnostic>) {
    if let Some(m) = config.get("merge") {
        merge_block(m, &format!("{at}.merge"), deployed, out);
    }
    for block in BLOCKS {
        if let Some(b) = config.get(block)
            && b.get("enabled").and_then(Node::as_bool) != Some(false)
            && let Some(m) = b.get("merge")
        {
            let judge = Judge { block, deployed };
            block_merge(judge, m, &format!("{at}.{block}.merge"), out);
        }
    }
    merges(config, at, out);
}

fn merges(n: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    for e in n.entries() {
        let here = format!("{at}.{}", e.key);
        if e.key == "merge" {
            super::server_values::nested_lists(&e.value, &here, out);
        } else if matches!(e.value.v, V::Map(_))
            && e.value.get("enabled").and_then(Node::as_bool) != Some(false)
        {
            // A block switched off renders nothing, its merge included.
            merges(&e.value, &here, out);
        }
    }
}

/// The event bus's NATS releases: `nats.config` and, with mTLS on, `nats-mtls.config`, each
/// judged as the release its image runs (`flag`: a version stated with `--server-version`).
pub fn bus(root: &Node, mtls: bool, flag: Option<&sv::Stated>) -> Vec<Diagnostic> {
    let mut out = vec![];
    for (release, deployed) in sv::for_bus(root, mtls, flag, &mut out) {
        if let Some(c) = root.path(&[release, "config"]) {
            config(c, &format!("{release}.config"), &deployed, &mut out);
        }
    }
    out
}
