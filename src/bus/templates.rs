//! The event-bus chart's own ConfigMaps, rendered from the merged values tree exactly as Helm
//! renders the chart's templates: `nats-accounts-config`, `nats-leafnodes-config`,
//! `nats-mtls-accounts-config`, `nats-env-config`, `auth-callout-permissions` and the auth-callout
//! subchart's `<release>-auth-callout-config`.
//!
//! Each template is reproduced as the text Helm writes for the ConfigMap's `data:` block (every
//! chomped newline, every blank line and indentation included), and that text is then read as YAML,
//! as the API server reads it, so the data strings are the ones a pod mounts.

use crate::diag::{Source, Sources};
use crate::gotmpl::{
    fmt_v, go_print, indent, nindent, quote, sorted, sprintf_s, to_json, to_raw_json, to_string,
    to_yaml, truthy,
};
use crate::load::yaml::{Node, V};
use std::collections::BTreeMap;

/// The Helm release name natscc renders the chart under.
pub const RELEASE: &str = "nats-event-bus";

/// One ConfigMap of the chart: its name and its `data` as the cluster stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusConfigMap {
    pub name: String,
    pub data: BTreeMap<String, String>,
    /// The `data:` block exactly as Helm's template writes it (before YAML reads it).
    pub data_text: String,
}

/// Every ConfigMap the chart and its auth-callout subchart render from these values, in the order
/// of the list in the module documentation; `nats-mtls-accounts-config` only when
/// `global.eventBus.mtls.enabled` is true (Go template truth).
///
/// `values` is the merged values root as Helm's templates see it: the chart's values.yaml under the
/// user's files, with the auth-callout subchart's values.yaml under `auth-callout`.
pub fn config_maps(values: &Node) -> Vec<BusConfigMap> {
    let mut out = vec![];
    let mut push = |name: String, text: String| {
        out.push(BusConfigMap {
            name,
            data: read_data(&text),
            data_text: text,
        })
    };
    push("nats-accounts-config".into(), accounts_conf(values));
    push("nats-leafnodes-config".into(), leafnodes_conf(values));
    if mtls_enabled(values) {
        push(
            "nats-mtls-accounts-config".into(),
            mtls_accounts_conf(values),
        );
    }
    push("nats-env-config".into(), env_config(values));
    push("auth-callout-permissions".into(), permissions(values));
    push(
        format!("{}-config", auth_callout_fullname(values, RELEASE)),
        auth_callout_config(values),
    );
    out
}

/// Reads a rendered `data:` block as YAML: key to string value.
fn read_data(text: &str) -> BTreeMap<String, String> {
    // Most clusters' ConfigMaps print the same (the callout's config, its permissions).
    static READ: crate::memo::Memo<String, BTreeMap<String, String>> =
        crate::memo::Memo::new(16 << 20);
    READ.get(text, text.len(), read_data_once)
}

fn read_data_once(text: &str) -> BTreeMap<String, String> {
    let mut sources = Sources::default();
    let id = sources.add(Source::new("<rendered data>", text.to_string()));
    let (tree, _) = crate::load::yaml::parse(id, &sources);
    let mut data = BTreeMap::new();
    if let Some(d) = tree.as_ref().and_then(|t| t.get("data")) {
        for e in d.entries() {
            let v = match &e.value.v {
                V::Str(s) => s.clone(),
                V::Null => String::new(),
                _ => e.value.scalar_text().unwrap_or_default(),
            };
            data.insert(e.key.clone(), v);
        }
    }
    data
}

fn event_bus(values: &Node) -> Option<&Node> {
    values.path(&["global", "eventBus"])
}

fn eb<'a>(values: &'a Node, key: &str) -> Option<&'a Node> {
    event_bus(values).and_then(|e| e.get(key))
}

fn cluster_type(values: &Node) -> &str {
    eb(values, "clusterType")
        .and_then(Node::as_str)
        .unwrap_or("")
}

fn mtls_enabled(values: &Node) -> bool {
    truthy(eb(values, "mtls").and_then(|m| m.get("enabled")))
}

/// `nats-event-bus.dcAccount`.
fn dc_account(values: &Node) -> &'static str {
    if cluster_type(values) == "csc" {
        "CSC"
    } else {
        "CPC"
    }
}

/// Go's `strings.ToUpper`/`ToLower` map rune by rune; a rune whose mapping is several runes stays.
fn map_runes(s: &str, upper: bool) -> String {
    s.chars()
        .map(|c| {
            let mut m: Vec<char> = if upper {
                c.to_uppercase().collect()
            } else {
                c.to_lowercase().collect()
            };
            if m.len() == 1 { m.pop().unwrap() } else { c }
        })
        .collect()
}

/// `nats-event-bus.extraAccountEnvName`: upper case, every rune outside `A-Z0-9` becomes `_`.
pub fn extra_account_env_name(name: &str) -> String {
    map_runes(name, true)
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `nats-event-bus.extraAccountSecretName`: lower case, outside `a-z0-9-` becomes `-`, dashes
/// trimmed.
pub fn extra_account_secret_name(name: &str) -> String {
    let t: String = map_runes(name, false)
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    t.trim_matches('-').to_string()
}

/// The extra accounts the templates keep: sorted by name, `enabled` absent or true (Go truth).
fn enabled_extra_accounts(values: &Node) -> Vec<(&str, &Node)> {
    let Some(accounts) = eb(values, "extraAccounts") else {
        return vec![];
    };
    sorted(accounts)
        .into_iter()
        .filter(|(_, config)| {
            config
                .entry("enabled")
                .is_none_or(|e| truthy(Some(&e.value)))
        })
        .collect()
}

/// A copy of a map without some keys (Sprig's `omit`).
fn omit(n: &Node, keys: &[&str]) -> Node {
    let es = n
        .entries()
        .iter()
        .filter(|e| !keys.contains(&e.key.as_str()))
        .cloned()
        .collect::<Vec<_>>();
    Node::new(V::Map(es.into()), n.span)
}

/// `nats-event-bus.natsConfValue`.
fn nats_conf_value(v: &Node) -> String {
    match &v.v {
        V::Seq(_) => to_raw_json(v),
        V::Bool(_) | V::Int(_) | V::Float(_) => fmt_v(v),
        _ => quote(Some(v)),
    }
}

/// `nats-event-bus.natsConfField`.
fn nats_conf_field(key: &str, v: &Node) -> String {
    if let V::Map(_) = v.v {
        format!("{key}: {{\n{}\n}}", indent(2, &nats_conf_fields(v)))
    } else {
        format!("{key}: {}", nats_conf_value(v))
    }
}

/// `nats-event-bus.natsConfFields`: one `\n<field>` per key, in key order.
fn nats_conf_fields(m: &Node) -> String {
    sorted(m)
        .into_iter()
        .map(|(k, v)| format!("\n{}", nats_conf_field(k, v)))
        .collect()
}

/// `nats-event-bus.natsConfBlock`.
fn nats_conf_block(name: &str, fields: &Node) -> String {
    if truthy(Some(fields)) {
        format!("{name}: {{\n{}\n}}", indent(2, &nats_conf_fields(fields)))
    } else {
        String::new()
    }
}

fn list(n: Option<&Node>) -> &[Node] {
    n.map(Node::items).unwrap_or(&[])
}

/// `templates/nats-accounts-config.yaml`, the `data:` block.
pub fn accounts_conf(values: &Node) -> String {
    let mut t = String::from("data:\n  accounts.conf: |");
    let ct = cluster_type(values);
    if ct == "csc" {
        t.push_str("\n    CSC {\n      jetstream: true\n    }");
        for (name, config) in enabled_extra_accounts(values) {
            t.push_str(&format!(
                "\n    {name} {{\n{}\n    }}",
                indent(6, &nats_conf_fields(&omit(config, &["enabled", "leaf"])))
            ));
        }
        t.push('\n');
    } else if ct == "cpc" {
        let id = eb(values, "clusterId");
        let cl = eb(values, "crossLayer");
        let csc_exports = list(cl.and_then(|c| c.get("cscExports")));
        let csc_prefixed = list(cl.and_then(|c| c.get("cscPrefixedExports")));
        let cpc_exports = list(cl.and_then(|c| c.get("cpcExports")));
        let s = |n: &Node| sprintf_s(Some(n));
        let q = |s: String| crate::gotmpl::go_quote(&s);
        let sid = sprintf_s(id);
        t.push_str("\n    CSC {\n      jetstream: false\n      exports: [");
        for e in csc_exports.iter().chain(csc_prefixed) {
            t.push_str(&format!("\n        {{ stream: {} }}", quote(Some(e))));
        }
        t.push_str(&format!(
            "\n        {{ stream: {} }}",
            q(format!("cpc.{sid}.>"))
        ));
        t.push_str(
            "\n        { service: \"$JS.API.>\", response_type: stream }\n        { \
             service: \"$JS.FC.>\" }",
        );
        t.push_str(&format!(
            "\n        {{ stream: {} }}\n      ]\n      imports: [",
            q(format!("csc2cpc.{sid}.>"))
        ));
        for e in cpc_exports {
            t.push_str(&format!(
                "\n        {{ stream: {{ account: CPC, subject: {} }}, to: {} }}",
                quote(Some(e)),
                q(format!("cpc.{sid}.{}", s(e)))
            ));
        }
        t.push_str(&format!(
            "\n        {{ service: {{ account: CPC, subject: \"$JS.API.>\" }}, to: {} }}\n      ]",
            q(format!("$JS.CPC-{sid}.API.>"))
        ));
        t.push_str(concat!(
            "\n      mappings: {",
            "\n        \"$JS.API.>\": \"$JS.CSC.API.>\"",
            "\n        \"$KV.>\": \"$JS.CSC.API.$KV.>\"",
            "\n        \"$OBJ.>\": \"$JS.CSC.API.$OBJ.>\"",
            "\n        \"$MQTT.sess.*.>\": \"$MQTT.sess.CSC.>\"",
            "\n      }\n    }\n\n    CPC {\n      jetstream: true\n      exports: ["
        ));
        for e in cpc_exports {
            t.push_str(&format!("\n        {{ stream: {} }}", quote(Some(e))));
        }
        t.push_str(
            "\n        { service: \"$JS.API.>\", response_type: stream }\n        { \
             service: \"$JS.FC.>\" }\n      ]\n      imports: [",
        );
        for e in csc_exports {
            t.push_str(&format!(
                "\n        {{ stream: {{ account: CSC, subject: {} }} }}",
                quote(Some(e))
            ));
        }
        for e in csc_prefixed {
            t.push_str(&format!(
                "\n        {{ stream: {{ account: CSC, subject: {} }}, to: {} }}",
                q(format!("cpc.{sid}.{}", s(e))),
                quote(Some(e))
            ));
        }
        t.push_str(
            "\n        { service: { account: CSC, subject: \"$JS.API.>\" }, to: \"$JS.CSC.API.>\" \
             }\n        { service: { account: CSC, subject: \"$JS.FC.>\" } }",
        );
        t.push_str(&format!(
            "\n        {{ stream: {{ account: CSC, subject: {} }} }}\n      ]\n    }}",
            q(format!("csc2cpc.{sid}.>"))
        ));
        for (name, config) in enabled_extra_accounts(values) {
            let fields =
                nats_conf_fields(&omit(config, &["enabled", "leaf", "jetstream", "mappings"]));
            t.push_str(&format!(
                "\n    {name} {{\n      jetstream: false\n{}",
                indent(6, &fields)
            ));
            t.push_str(concat!(
                "\n      mappings: {",
                "\n        \"$JS.API.>\": \"$JS.CSC.API.>\"",
                "\n        \"$KV.>\": \"$JS.CSC.API.$KV.>\"",
                "\n        \"$OBJ.>\": \"$JS.CSC.API.$OBJ.>\"",
                "\n      }\n    }"
            ));
        }
    }
    t.push('\n');
    t
}

/// `cscLeafServerTLS` / `cpcLeafClientTLS` after `| default dict`: `None` when empty.
fn tls_fields<'a>(values: &'a Node, key: &str) -> Option<&'a Node> {
    eb(values, key).filter(|n| truthy(Some(n)))
}

/// `templates/nats-leafnodes-config.yaml`, the `data:` block.
pub fn leafnodes_conf(values: &Node) -> String {
    let mut t = String::from("data:\n  leafnodes.conf: |");
    let ct = cluster_type(values);
    let server_tls = tls_fields(values, "cscLeafServerTLS");
    let remote_tls = tls_fields(values, "cpcLeafClientTLS");
    if let (true, Some(tls)) = (ct == "csc", server_tls) {
        t.push('\n');
        t.push_str(&nindent(4, &nats_conf_block("tls", tls)));
    }
    let endpoint = eb(values, "cscEndpoint");
    if ct == "cpc" && truthy(endpoint) {
        let remote_tls_text = remote_tls
            .map(|tls| format!("\n{}", nindent(8, &nats_conf_block("tls", tls))))
            .unwrap_or_default();
        let url = quote(endpoint);
        t.push_str(&format!(
            "\n    remotes: [\n      {{\n        urls: [{url}]\n        nkey: \
             $LEAF_USER_SEED\n        account: CSC{remote_tls_text}\n      }}"
        ));
        for (name, _) in enabled_extra_accounts(values) {
            let seed_env = format!("LEAF_{}_USER_SEED", extra_account_env_name(name));
            t.push_str(&format!(
                "\n\n      {{\n        urls: [{url}]\n        nkey: ${seed_env}\n        account: \
                 {}{remote_tls_text}\n      }}",
                crate::gotmpl::go_quote(name)
            ));
        }
        t.push_str("\n    ]");
    }
    t.push('\n');
    t
}

/// `templates/nats-mtls-accounts-config.yaml`, the `data:` block (rendered only when mTLS is on).
pub fn mtls_accounts_conf(values: &Node) -> String {
    let mut t = String::from("data:\n  accounts.conf: |");
    let account = match cluster_type(values) {
        "csc" => Some("CSC"),
        "cpc" => Some("CPC"),
        _ => None,
    };
    if let Some(a) = account {
        t.push_str(&format!(
            concat!(
                "\n    {a} {{",
                "\n      jetstream: false",
                "\n      mappings: {{",
                "\n        \"$JS.API.>\": \"$JS.{a}.API.>\"",
                "\n        # Keep domain mappings consistent with the main NATS account.",
                "\n        \"$KV.>\": \"$JS.{a}.API.$KV.>\"",
                "\n        \"$OBJ.>\": \"$JS.{a}.API.$OBJ.>\"",
                "\n        \"$MQTT.sess.*.>\": \"$MQTT.sess.{a}.>\"",
                "\n      }}",
                "\n    }}"
            ),
            a = a
        ));
    }
    t.push('\n');
    t
}

/// `templates/nats-env-config.yaml`, the `data:` block.
pub fn env_config(values: &Node) -> String {
    use crate::gotmpl::go_quote;
    let ct_node = eb(values, "clusterType");
    let ct = cluster_type(values);
    let id = eb(values, "clusterId");
    let cluster_name = if ct == "cpc" {
        go_quote(&format!("{}-{}", sprintf_s(ct_node), sprintf_s(id)))
    } else {
        quote(ct_node)
    };
    let mut t = format!(
        "data:\n  NATS_CLUSTER_NAME: {cluster_name}\n  NATS_JS_DOMAIN: {}",
        go_quote(&crate::gotmpl::to_string(ct_node).to_uppercase())
    );
    if mtls_enabled(values) {
        let server = if ct == "cpc" {
            go_quote(&format!("{}-{}-mtls", sprintf_s(ct_node), sprintf_s(id)))
        } else {
            go_quote(&format!("{}-mtls", sprintf_s(ct_node)))
        };
        t.push_str(&format!(
            "\n  NATS_MTLS_SERVER_NAME: {server}\n  MTLS_LEAF_ACCOUNT: {}",
            go_quote(dc_account(values))
        ));
    }
    t.push('\n');
    t
}

fn s(text: &str) -> Node {
    Node::new(V::Str(text.to_string()), Default::default())
}

fn nkey_entry(public_key: String, account: &str) -> Node {
    let mut n = Node::map(Default::default());
    if let V::Map(es) = &mut n.v {
        let es = std::sync::Arc::make_mut(es);
        es.push(crate::load::Entry {
            key: "public_key".into(),
            key_span: Default::default(),
            value: s(&public_key),
        });
        es.push(crate::load::Entry {
            key: "account".into(),
            key_span: Default::default(),
            value: s(account),
        });
    }
    n
}

/// Sprig's `merge dst src`: keys of `dst` win; maps on both sides merge deeply.
fn merge_keep_dst(dst: &Node, src: &Node) -> Node {
    let mut es = dst.entries().to_vec();
    for se in src.entries() {
        match es.iter_mut().find(|e| e.key == se.key) {
            Some(de) => {
                if matches!(de.value.v, V::Map(_)) && matches!(se.value.v, V::Map(_)) {
                    de.value = merge_keep_dst(&de.value, &se.value);
                }
            }
            None => es.push(se.clone()),
        }
    }
    Node::new(V::Map(es.into()), dst.span)
}

/// The permissions tree `templates/auth-callout-permissions.yaml` serialises.
pub fn permissions_tree(values: &Node) -> Node {
    let dc = dc_account(values);
    let mut auto: Vec<(String, Node)> = vec![
        (
            "nack-controller".into(),
            nkey_entry("${NKEY_NACK_USER_PUBKEY}".into(), dc),
        ),
        (
            "surveyor".into(),
            nkey_entry("${NKEY_SURVEYOR_PUBKEY}".into(), "SYS"),
        ),
    ];
    if mtls_enabled(values) {
        auto.push((
            "mtls-leaf".into(),
            nkey_entry("${NKEY_MTLS_LEAF_PUBKEY}".into(), dc),
        ));
        auto.push((
            "mtls-authx-leaf".into(),
            nkey_entry("${NKEY_MTLS_AUTHX_LEAF_PUBKEY}".into(), "AUTHX"),
        ));
        auto.push((
            "mtls-sys-leaf".into(),
            nkey_entry("${NKEY_MTLS_SYS_LEAF_PUBKEY}".into(), "SYS"),
        ));
    }
    if cluster_type(values) == "csc" {
        let cpc_ids = list(eb(values, "cpcIds"));
        for id in cpc_ids {
            let sid = sprintf_s(Some(id));
            auto.push((
                format!("leaf-cpc-{sid}"),
                nkey_entry(format!("${{NKEY_LEAF_CPC_{sid}_PUBKEY}}"), "CSC"),
            ));
        }
        for (name, _) in enabled_extra_accounts(values) {
            let env = extra_account_env_name(name);
            let secret = extra_account_secret_name(name);
            for id in cpc_ids {
                let cpc = to_string(Some(id));
                auto.push((
                    format!("leaf-{secret}-cpc-{cpc}"),
                    nkey_entry(format!("${{NKEY_LEAF_{env}_CPC_{cpc}_PUBKEY}}"), name),
                ));
            }
        }
    }
    // `set` on a dict: a later key replaces an earlier one (found by lookup: a CSC has an
    // entry per CPC).
    let mut slots: Vec<Option<crate::load::Entry>> = Vec::with_capacity(auto.len());
    let mut at: std::collections::HashMap<String, usize> = Default::default();
    for (k, v) in auto {
        if let Some(old) = at.insert(k.clone(), slots.len()) {
            slots[old] = None;
        }
        slots.push(Some(crate::load::Entry {
            key: k,
            key_span: Default::default(),
            value: v,
        }));
    }
    let auto_map = Node::new(
        V::Map(slots.into_iter().flatten().collect::<Vec<_>>().into()),
        Default::default(),
    );
    let perms = eb(values, "auth").and_then(|a| a.get("permissions"));
    let user = perms
        .and_then(|p| p.get("nkey"))
        .filter(|n| truthy(Some(n)));
    let merged = match user {
        Some(u) if matches!(u.v, V::Map(_)) => merge_keep_dst(u, &auto_map),
        _ => auto_map,
    };
    let mut out = match perms {
        Some(p) if matches!(p.v, V::Map(_)) => p.clone(),
        _ => Node::map(Default::default()),
    };
    if let V::Map(es) = &mut out.v {
        let es = std::sync::Arc::make_mut(es);
        match es.iter_mut().find(|e| e.key == "nkey") {
            Some(e) => e.value = merged,
            None => es.push(crate::load::Entry {
                key: "nkey".into(),
                key_span: Default::default(),
                value: merged,
            }),
        }
    }
    out
}

/// `templates/auth-callout-permissions.yaml`, the `data:` block.
pub fn permissions(values: &Node) -> String {
    format!(
        "data:\n  permissions.json: {}\n",
        crate::gotmpl::go_quote(&to_json(&permissions_tree(values)))
    )
}

fn auth_callout(values: &Node) -> Option<&Node> {
    values.get("auth-callout")
}

/// The subchart's `app.fullname` under a release name.
pub fn auth_callout_fullname(values: &Node, release: &str) -> String {
    let ac = auth_callout(values);
    let trunc = |s: String| -> String {
        let t: String = s.chars().take(63).collect();
        t.strip_suffix('-').map(str::to_string).unwrap_or(t)
    };
    let full = ac.and_then(|a| a.get("fullnameOverride"));
    if truthy(full) {
        return trunc(go_print(full));
    }
    let over = ac.and_then(|a| a.get("nameOverride"));
    let name = if truthy(over) {
        go_print(over)
    } else {
        "auth-callout".to_string()
    };
    if release.contains(&name) {
        trunc(release.to_string())
    } else {
        trunc(format!("{release}-{name}"))
    }
}

/// `charts/auth-callout/templates/configmap.yaml`, the `data:` block.
pub fn auth_callout_config(values: &Node) -> String {
    let null = Node::new(V::Null, Default::default());
    let sc = auth_callout(values)
        .and_then(|a| a.get("serviceConfig"))
        .unwrap_or(&null);
    format!(
        "data:\n  # Configuration file that can be mounted as a volume\n  config.yaml: |\n{}\n",
        indent(4, &to_yaml(sc))
    )
}
