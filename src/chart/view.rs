//! The rendered tree as the pod's nats-server reads the chart's printing of it.
//! `nats.formatConfig` turns every JSON line `"<anything>$include": "<path>"` into
//! `include <path>;`, so a prefix (`00$include`, `zzz$include`) orders several includes at
//! any level of the config.

use crate::conf::{Conf, ConfMap, Item};
use crate::gotmpl::json_string;

/// Whether the chart prints this key as an include (its value being a string).
pub fn is_include_key(key: &str) -> bool {
    key.ends_with("$include")
}

/// The path the chart's include line names: the string as Go's JSON prints it (the chart
/// un-escapes only `<`, `>` and `&`), between the quotes its regex cuts away.
pub fn printed_path(p: &str) -> String {
    let mut quoted = String::new();
    json_string(p, false, &mut quoted);
    quoted[1..quoted.len() - 1].to_string()
}

/// The rendered tree as nats-server reads the chart's printing of it: every `...$include` key
/// with a string value is an `include` at the place its key sorts to.
pub fn server_view(chart: &ConfMap) -> ConfMap {
    ConfMap {
        items: chart
            .items
            .iter()
            .map(|item| match item {
                Item::Kv(k, Conf::Str(p)) if is_include_key(k) => Item::Include(printed_path(p)),
                Item::Kv(k, v) => Item::Kv(k.clone(), view_conf(v)),
                Item::Include(p) => Item::Include(p.clone()),
            })
            .collect(),
    }
}

fn view_conf(c: &Conf) -> Conf {
    match c {
        Conf::Map(m) => Conf::Map(server_view(m)),
        Conf::List(items) => Conf::List(items.iter().map(view_conf).collect()),
        other => other.clone(),
    }
}
