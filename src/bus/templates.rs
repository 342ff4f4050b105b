//! The event-bus chart's own ConfigMaps (placeholder until the byte-exact templates land).

use super::ConfigMap;
use crate::emit::conf;
use crate::emit::server;
use crate::load::Node;
use std::collections::BTreeMap;

pub fn config_maps(root: &Node) -> Vec<ConfigMap> {
    let Some(m) = crate::model::build_typed(root) else { return vec![] };
    let cm = |name: &str, key: &str, text: String| ConfigMap { name: name.into(), data: BTreeMap::from([(key.to_string(), text)]) };
    let mut out = vec![
        cm("nats-accounts-config", "accounts.conf", conf::print("", &server::accounts_conf(&m))),
        cm("nats-leafnodes-config", "leafnodes.conf", conf::print("", &server::leafnodes_conf(&m))),
    ];
    if m.mtls {
        out.push(cm("nats-mtls-accounts-config", "accounts.conf", conf::print("", &server::mtls_accounts_conf(&m))));
    }
    out.push(cm("auth-callout-permissions", "permissions.json", serde_json::to_string(&crate::emit::k8s::permissions(&m)).unwrap()));
    out
}
