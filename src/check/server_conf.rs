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
use crate::load::{Node, V};

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
    ("lame_duck_duration", STR),
    ("lame_duck_grace_period", STR),
    ("ping_interval", STR),
    ("write_deadline", STR),
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

/// The keys and kinds of one top-level merge block (`at` is its path in the values).
pub fn merge_block(merge: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    for e in merge.entries() {
        let key = &e.key;
        // `$include` entries become `include x;` lines.
        if key.contains("$include") {
            continue;
        }
        let lower = key.to_ascii_lowercase();
        let Some(&(_, mask)) = TOP.iter().find(|(k, _)| *k == lower) else {
            if uses_var(merge, key) {
                continue;
            }
            let near = crate::diag::suggest(key, TOP.iter().map(|(k, _)| *k));
            out.push(
                Diagnostic::new(
                    Code::ConfUnknownKey,
                    format!("`{at}.{key}` is not a nats-server option; the server refuses the config (unknown field \"{key}\")"),
                )
                .at(e.key_span, "unknown option")
                .help(match near {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "check the spelling against the nats-server configuration reference, or remove the key".to_string(),
                }),
            );
            continue;
        };
        let Some(k) = kind(&e.value) else { continue };
        // A quoted size or an integer duration is reported by `chart::limits` (TunableType).
        let handled = TYPED_ELSEWHERE.contains(&lower.as_str()) && matches!(k, INT | STR | 0);
        if mask & k == 0 && !handled {
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

/// Every `merge` block under a chart `config` (`config.merge`, `config.cluster.merge`,
/// `config.nats.tls.merge`, ...): the top-level one is checked key by key, and all of them for
/// lists inside lists.
pub fn config(config: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    if let Some(m) = config.get("merge") {
        merge_block(m, &format!("{at}.merge"), out);
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
