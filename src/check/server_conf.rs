//! The top level of a `config.merge` block (it lands at the top of nats.conf as written),
//! judged as nats-server 2.15.1 reads it. The table below was measured, not recalled: every
//! key of the server's `processConfigFileLine` was given an integer, a float, a string, a
//! boolean, a map and a list under `nats-server -t`, and a kind is allowed when the server did
//! not answer "interface conversion", "Expected ..." or "unsupported type". Keys are
//! case-insensitive (the server lower-cases them); any other key is refused
//! (`unknown field "max_paylod"`) unless it is a variable some `$NAME` uses. A float is
//! refused by every key but `accounts`. Lists inside lists are refused wherever measured
//! (users, routes, remotes, exports, server_tags, unique_tag, mappings).

use crate::conf::is_size_word;
use crate::diag::{Code, Diagnostic};
use crate::load::{Entry, Node, V};

const INT: u8 = 1;
const STR: u8 = 2;
const BOOL: u8 = 4;
const MAP: u8 = 8;
const LIST: u8 = 16;
const ANY: u8 = 31;

/// Top-level keys nats-server 2.15.1 knows, with the kinds it accepts (measured).
const TOP: &[(&str, u8)] = &[
    ("accounts", ANY),
    ("account_resolver", STR | MAP),
    ("accounts_resolver", STR | MAP),
    ("resolver", STR | MAP),
    ("allow_non_tls", BOOL),
    ("authorization", MAP),
    ("client_advertise", STR),
    ("cluster", MAP),
    ("connect_error_reports", INT),
    ("reconnect_error_reports", INT),
    ("debug", BOOL),
    ("default_js_domain", MAP),
    ("default_sentinel", STR),
    ("disable_sublist_cache", BOOL),
    ("no_sublist_cache", BOOL),
    ("feature_flags", MAP),
    ("gateway", MAP),
    ("host", STR),
    ("net", STR),
    ("http", INT | STR),
    ("https", INT | STR),
    ("listen", INT | STR),
    ("http_base_path", STR),
    ("http_port", INT),
    ("monitor_port", INT),
    ("https_port", INT),
    ("port", INT),
    ("prof_port", INT),
    ("prof_block_rate", INT),
    ("jetstream", BOOL | MAP | STR),
    ("lame_duck_duration", STR | DURATION),
    ("lame_duck_grace_period", STR | DURATION),
    ("ping_interval", STR | DURATION),
    ("write_deadline", STR | DURATION),
    ("write_timeout", STR),
    ("leaf", MAP),
    ("leafnodes", MAP),
    ("log_file", STR),
    ("logfile", STR),
    ("log_max_num", INT),
    ("logfile_max_num", INT),
    ("log_size_limit", INT),
    ("logfile_size_limit", INT),
    ("logtime", BOOL),
    ("logtime_utc", BOOL),
    ("mappings", MAP),
    ("maps", MAP),
    ("max_conn", INT),
    ("max_connections", INT),
    ("max_control_line", INT),
    ("max_payload", INT),
    ("max_pending", INT),
    ("max_sub_tokens", INT),
    ("max_subscription_tokens", INT),
    ("max_subs", INT),
    ("max_subscriptions", INT),
    ("max_traced_msg_len", INT),
    ("max_closed_clients", INT),
    ("ping_max", INT),
    ("mqtt", MAP),
    ("websocket", MAP),
    ("ws", MAP),
    ("proxies", MAP),
    ("tls", MAP),
    ("resolver_tls", MAP),
    ("resolver_preload", MAP),
    ("server_metadata", MAP),
    ("no_auth_user", STR),
    ("no_header_support", BOOL),
    ("no_sys_acc", BOOL),
    ("no_system", BOOL),
    ("no_system_account", BOOL),
    ("no_fast_producer_stall", BOOL),
    ("ocsp", BOOL | MAP),
    ("ocsp_cache", BOOL | MAP),
    ("operator", STR | LIST),
    ("operators", STR | LIST),
    ("root", STR | LIST),
    ("roots", STR | LIST),
    ("root_operator", STR | LIST),
    ("root_operators", STR | LIST),
    ("trusted", STR | LIST),
    ("trusted_keys", STR | LIST),
    ("resolver_pinned_accounts", STR | LIST),
    ("server_tags", STR | LIST),
    ("pid_file", STR),
    ("pidfile", STR),
    ("ports_file_dir", STR),
    ("remote_syslog", STR),
    ("server_name", STR),
    ("store_dir", STR),
    ("storedir", STR),
    ("system_account", STR),
    ("system", STR),
    ("proxy_protocol", BOOL),
    ("syslog", BOOL),
    ("trace", BOOL),
    ("trace_headers", BOOL),
    ("trace_verbose", BOOL),
];

/// Keys `chart::limits` already types (a quoted size, an integer duration): this rule adds only
/// the kinds it leaves alone there (a list, a map, a boolean).
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
fn kind(n: &Node) -> Option<u8> {
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

fn kind_word(k: u8) -> &'static str {
    match k {
        INT => "an integer",
        STR => "a string",
        BOOL => "a boolean",
        MAP => "a map",
        LIST => "a list",
        _ => "a float",
    }
}

fn allowed_words(mask: u8) -> String {
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

/// A merge key the server does not know, at `at` (`what` says what it is not, and who refuses).
fn unknown_option(e: &Entry, at: &str, table: &[(&str, u8)], what: &str) -> Diagnostic {
    let key = &e.key;
    let near = crate::diag::suggest(key, table.iter().map(|(k, _)| *k));
    Diagnostic::new(
        Code::ConfUnknownKey,
        format!("`{at}.{key}` is not {what} refuses the config (unknown field \"{key}\")"),
    )
    .at(e.key_span, "unknown option")
    .help(match near {
        Some(s) => format!("did you mean `{s}`?"),
        None => {
            "check the spelling against the nats-server configuration reference, or remove the key"
                .to_string()
        }
    })
}

/// The entries of a merge that `table` knows, each with its lower-case key, the kinds the
/// server reads there and its value's kind. `$include`s (they become `include x;` lines) and
/// keys set through a variable pass; unknown keys are reported, and `authorization.timeout`
/// is judged on the way.
fn known_entries<'a>(
    table: &[(&str, u8)],
    merge: &'a Node,
    at: &str,
    what: &str,
    out: &mut Vec<Diagnostic>,
) -> Vec<(&'a Entry, String, u8, u8)> {
    let mut known = vec![];
    for e in merge.entries() {
        if e.key.contains("$include") {
            continue;
        }
        let lower = e.key.to_ascii_lowercase();
        let Some(&(_, mask)) = table.iter().find(|(k, _)| *k == lower) else {
            if !uses_var(merge, &e.key) {
                out.push(unknown_option(e, at, table, what));
            }
            continue;
        };
        authorization_timeout(&lower, &e.value, &format!("{at}.{}", e.key), out);
        if let Some(k) = kind(&e.value) {
            known.push((e, lower, mask, k));
        }
    }
    known
}

/// The keys and kinds of one top-level merge block (`at` is its path in the values).
pub fn merge_block(merge: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    top_level(merge, at, true, out);
}

/// The top level of a whole config read back from a rendered stream (`at` names the file),
/// its server blocks key by key, and lists inside lists anywhere: what the merge rules judge
/// in the values, judged where only the config is known. Values set from the environment
/// (`<< $X >>`) and `null`s (the caller's mark for what another rule reports) pass.
pub fn rendered(conf: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    // A config without one server option is an include that no config of the stream includes
    // (accounts or leaf remotes alone): no server reads it at the top.
    let known = |e: &Entry| TOP.iter().any(|(k, _)| e.key.eq_ignore_ascii_case(k));
    if !conf.entries().iter().any(known) {
        return;
    }
    top_level(conf, at, false, out);
    for (block, table) in BLOCKS {
        if let Some(b) = conf
            .entries()
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(block))
            .filter(|e| matches!(e.value.v, V::Map(_)))
        {
            block_merge(table, &b.value, &format!("{at}.{}", b.key), out);
        }
    }
    super::server_values::nested_lists(conf, at, out);
}

/// `typed_elsewhere`: a quoted size or an integer duration under the keys `chart::limits`
/// types is left to it (in the values, not in a rendered config).
fn top_level(merge: &Node, at: &str, typed_elsewhere: bool, out: &mut Vec<Diagnostic>) {
    let what = "a nats-server option; the server";
    for (e, lower, mask, k) in known_entries(TOP, merge, at, what, out) {
        let key = &e.key;
        // A quoted size or an integer duration is reported by `chart::limits` (TunableType),
        // which reads the key as written in lower case: `MAX_PENDING` is judged here.
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
                Diagnostic::new(
                    Code::ConfType,
                    format!(
                        "`{at}.{key}` is `{s}`, not a duration; nats-server refuses the config"
                    ),
                )
                .at(e.value.span, "not a duration")
                .help("write a duration with its unit: `30s`, `2m`, `1h30m`"),
            );
        }
        if mask & k == 0 {
            let mask = mask & ANY;
            out.push(
                Diagnostic::new(
                    Code::ConfType,
                    format!(
                        "`{at}.{key}` is {}; nats-server reads {} there and refuses the config",
                        kind_word(k),
                        allowed_words(mask)
                    ),
                )
                .at(e.value.span, "wrong type")
                .help(format!(
                    "give `{key}` {}{}",
                    allowed_words(mask),
                    if mask & INT != 0 && k == STR {
                        " (unquoted)"
                    } else {
                        ""
                    }
                )),
            );
        }
    }
}

/// What a block key's string must read as, beyond its kind.
const DURATION: u8 = 32;
const SIZE: u8 = 64;
const U16: u8 = 128;

/// The keys of the blocks a chart block's `merge` lands in (`config.cluster.merge` inside
/// `cluster { }`), with the kinds nats-server 2.15.1 takes: measured as the top level was, each
/// key of the server's parseCluster, parseJetStream, parseLeafNodes, parseMQTT, parseWebsocket
/// and parseGateway given an integer, a string, a duration string, a boolean, a map and a list
/// under `nats-server -t`. DURATION: a string must be a Go duration (`1m30s`); SIZE: a string
/// must be digits and K, M, G or T (`"1G"`, not `"1GB"`); U16: at most 65,535.
const BLOCKS: &[(&str, &[(&str, u8)])] = &[
    (
        "cluster",
        &[
            ("name", STR),
            ("listen", INT | STR),
            ("port", INT),
            ("host", STR),
            ("net", STR),
            ("authorization", MAP),
            ("routes", LIST),
            ("tls", MAP),
            ("cluster_advertise", STR),
            ("advertise", STR),
            ("no_advertise", BOOL),
            ("connect_retries", INT),
            ("connect_backoff", BOOL),
            ("permissions", MAP),
            ("pool_size", INT),
            ("accounts", STR | LIST),
            ("compression", STR | BOOL | MAP),
            ("ping_interval", STR | DURATION),
            ("ping_max", INT),
            ("write_deadline", STR | DURATION),
            ("write_timeout", STR),
        ],
    ),
    (
        "jetstream",
        &[
            ("enabled", BOOL),
            ("enable", BOOL),
            ("strict", BOOL),
            ("store", STR),
            ("store_dir", STR),
            ("storedir", STR),
            ("sync", STR | DURATION),
            ("sync_interval", STR | DURATION),
            ("max_memory_store", INT | STR | SIZE),
            ("max_mem_store", INT | STR | SIZE),
            ("max_mem", INT | STR | SIZE),
            ("max_file_store", INT | STR | SIZE),
            ("max_file", INT | STR | SIZE),
            ("domain", STR),
            ("key", STR),
            ("ek", STR),
            ("encryption_key", STR),
            ("prev_key", STR),
            ("prev_ek", STR),
            ("prev_encryption_key", STR),
            ("cipher", STR),
            ("extension_hint", STR),
            ("limits", MAP),
            ("tpm", MAP),
            ("unique_tag", STR),
            ("max_outstanding_catchup", INT | STR | SIZE),
            ("max_buffered_size", INT | STR | SIZE),
            ("max_buffered_msgs", INT),
            ("request_queue_limit", INT),
            ("info_queue_limit", INT),
            ("meta_compact", INT),
            ("meta_compact_size", INT | STR | SIZE),
            ("meta_compact_sync", BOOL),
            ("max_concurrent_io", INT),
        ],
    ),
    (
        "leafnodes",
        &[
            ("listen", INT | STR),
            ("port", INT),
            ("host", STR),
            ("net", STR),
            ("authorization", MAP),
            ("remotes", LIST),
            ("reconnect", STR | DURATION),
            ("reconnect_delay", STR | DURATION),
            ("reconnect_interval", STR | DURATION),
            ("dial_timeout", STR | DURATION),
            ("tls", MAP),
            ("leafnode_advertise", STR),
            ("advertise", STR),
            ("no_advertise", BOOL),
            ("min_version", STR),
            ("minimum_version", STR),
            ("compression", STR | BOOL | MAP),
            ("isolate_leafnode_interest", BOOL),
            ("isolate", BOOL),
            ("write_deadline", STR | DURATION),
            ("write_timeout", STR),
        ],
    ),
    (
        "mqtt",
        &[
            ("listen", INT | STR),
            ("port", INT),
            ("host", STR),
            ("net", STR),
            ("tls", MAP),
            ("authorization", MAP),
            ("authentication", MAP),
            ("no_auth_user", STR),
            ("ack_wait", STR | DURATION),
            ("ackwait", STR | DURATION),
            ("js_api_timeout", STR | DURATION),
            ("api_timeout", STR | DURATION),
            ("max_ack_pending", INT | U16),
            ("max_pending", INT | U16),
            ("max_inflight", INT | U16),
            ("js_domain", STR),
            ("stream_replicas", INT),
            ("consumer_replicas", INT),
            ("consumer_memory_storage", BOOL),
            ("consumer_inactive_threshold", STR | DURATION),
            ("consumer_auto_cleanup", STR | DURATION),
        ],
    ),
    (
        "websocket",
        &[
            ("listen", INT | STR),
            ("port", INT),
            ("host", STR),
            ("net", STR),
            ("advertise", STR),
            ("no_tls", BOOL),
            ("tls", MAP),
            ("same_origin", BOOL),
            ("allowed_origins", STR | LIST),
            ("allowed_origin", STR | LIST),
            ("allow_origins", STR | LIST),
            ("allow_origin", STR | LIST),
            ("origins", STR | LIST),
            ("origin", STR | LIST),
            ("handshake_timeout", INT | STR | DURATION),
            ("compress", BOOL),
            ("compression", BOOL),
            ("authorization", MAP),
            ("authentication", MAP),
            ("jwt_cookie", STR),
            ("user_cookie", STR),
            ("pass_cookie", STR),
            ("token_cookie", STR),
            ("no_auth_user", STR),
            ("headers", MAP),
            ("ping_interval", STR | DURATION),
        ],
    ),
    (
        "gateway",
        &[
            ("name", STR),
            ("listen", INT | STR),
            ("port", INT),
            ("host", STR),
            ("net", STR),
            ("authorization", MAP),
            ("tls", MAP),
            ("advertise", STR),
            ("connect_retries", INT),
            ("connect_backoff", BOOL),
            ("gateways", LIST),
            ("reject_unknown", BOOL),
            ("reject_unknown_cluster", BOOL),
            ("write_deadline", STR | DURATION),
            ("write_timeout", STR),
        ],
    ),
];

/// Whether `s` reads as a Go duration (`time.ParseDuration`): `0`, or numbers with units.
fn go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let num = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n = &rest[..num];
        if n.is_empty() || n == "." || n.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[num..];
        let Some(unit) = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")))
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

/// The keys, kinds and values of a block's merge (`at` is its path in the values).
fn block_merge(table: &[(&str, u8)], merge: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    let what = "an option of that block; nats-server";
    for (e, _, mask, k) in known_entries(table, merge, at, what, out) {
        let key = &e.key;
        let wrong = |what: String, help: String| {
            Diagnostic::new(
                Code::ConfType,
                format!("`{at}.{key}` is {what}; nats-server refuses the config"),
            )
            .at(e.value.span, "wrong value")
            .help(help)
        };
        if mask & k == 0 {
            out.push(wrong(
                format!(
                    "{}, where it reads {}",
                    kind_word(k),
                    allowed_words(mask & ANY)
                ),
                format!("give `{key}` {}", allowed_words(mask & ANY)),
            ));
            continue;
        }
        // The chart writes `<< X >>` as the bare `X`: the server reads the word.
        match &e.value.v {
            V::Str(s) if k == STR && mask & DURATION != 0 && !go_duration(bare(s).unwrap_or(s)) => out.push(wrong(
                format!("`{s}`, not a duration"),
                "write a duration with its unit: `30s`, `2m`, `1h30m`".to_string(),
            )),
            V::Str(s) if k == STR && mask & SIZE != 0 && !is_storage_size(bare(s).unwrap_or(s)) => out.push(wrong(
                format!("`{s}`, not a size"),
                "write a number of bytes, unquoted, or a quoted number with one of K, M, G, T (`\"1G\"`)".to_string(),
            )),
            V::Int(n) if mask & U16 != 0 && !(0..=65535).contains(n) => out.push(wrong(
                format!("{n}, out of range"),
                "give a number from 0 to 65535".to_string(),
            )),
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
                Diagnostic::new(
                    Code::ConfType,
                    format!(
                        "`{at}.{}` is `{s}`, not a duration; nats-server refuses the config",
                        e.key
                    ),
                )
                .at(e.value.span, "not a duration")
                .help("give seconds as a number (`2`), or a duration with its unit (`2s`)"),
            );
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
pub fn config(config: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    if let Some(m) = config.get("merge") {
        merge_block(m, &format!("{at}.merge"), out);
    }
    for (block, table) in BLOCKS {
        if let Some(b) = config.get(block)
            && b.get("enabled").and_then(Node::as_bool) != Some(false)
            && let Some(m) = b.get("merge")
        {
            block_merge(table, m, &format!("{at}.{block}.merge"), out);
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

/// The event bus's NATS releases: `nats.config` and, with mTLS on, `nats-mtls.config`.
pub fn bus(root: &Node, mtls: bool) -> Vec<Diagnostic> {
    let mut out = vec![];
    for release in ["nats", "nats-mtls"] {
        if release == "nats-mtls" && !mtls {
            continue;
        }
        if let Some(c) = root.path(&[release, "config"]) {
            config(c, &format!("{release}.config"), &mut out);
        }
    }
    out
}
