//! The `natscc.tlsRoles` shortcut laid into the rendered config (TLS certificate roles,
//! seed 003): the shortcut's accounts and users become plain nats.conf before `config.merge`.
//! Its rules are `check::nats_chart::tls_roles`.

use super::spans::{Spans, path};
use crate::conf::{Conf, ConfMap, s};
use crate::load::Node;

fn list(items: &[String]) -> Conf {
    Conf::List(items.iter().map(|i| s(i.clone())).collect())
}

fn allow(items: &[String]) -> Conf {
    Conf::Map(ConfMap::new().with("allow", list(items)))
}

/// The role each shortcut user was given, by certificate subject: the rules judge these users
/// by their role, whatever their name says.
pub type Roles = std::collections::BTreeMap<String, String>;

/// Lays the shortcut's accounts and users into the config (before `config.merge`), and returns
/// the roles it gave.
pub fn apply(root: &Node, conf: &mut ConfMap, spans: &mut Spans) -> Roles {
    let mut given = Roles::new();
    let Some(roles) = root.path(&["natscc", "tlsRoles"]) else {
        return given;
    };
    let account = roles
        .get("account")
        .and_then(Node::as_str)
        .unwrap_or("APP")
        .to_string();
    let subjects: Vec<String> = roles
        .get("subjects")
        .map(|n| {
            n.items()
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut with_inbox = subjects.clone();
    with_inbox.push("_INBOX.>".into());
    let mut admin_pub = subjects.clone();
    admin_pub.extend([
        "$JS.API.>".to_string(),
        "$JS.ACK.>".to_string(),
        "_INBOX.>".to_string(),
    ]);
    let mut sys_users = vec![];
    let mut data_users = vec![];
    for (i, u) in roles
        .get("users")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let (Some(subject), Some(role)) = (
            u.get("subject").and_then(Node::as_str),
            u.get("role").and_then(Node::as_str),
        ) else {
            continue;
        };
        given.insert(subject.to_string(), role.to_string());
        let user = ConfMap::new().with("user", s(subject));
        match role {
            "superuser" => sys_users.push((user, u.span, i)),
            "admin" => {
                let perms = ConfMap::new()
                    .with("publish", allow(&admin_pub))
                    .with("subscribe", allow(&with_inbox));
                data_users.push((user.with("permissions", Conf::Map(perms)), u.span, i));
            }
            "reader" => {
                let perms = ConfMap::new()
                    .with(
                        "publish",
                        Conf::Map(ConfMap::new().with("deny", list(&[">".to_string()]))),
                    )
                    .with("subscribe", allow(&with_inbox));
                data_users.push((user.with("permissions", Conf::Map(perms)), u.span, i));
            }
            _ => {}
        }
    }
    let accounts = conf.block("accounts");
    if !sys_users.is_empty() {
        let sys = accounts.block("SYS");
        let n = sys_users.len();
        sys.set(
            "users",
            Conf::List(
                sys_users
                    .iter()
                    .map(|(u, _, _)| Conf::Map(u.clone()))
                    .collect(),
            ),
        );
        for (k, (_, span, _)) in sys_users.iter().enumerate() {
            spans.set(&path(&["accounts", "SYS", "users", &k.to_string()]), *span);
        }
        let _ = n;
    }
    let jetstream = conf.get("jetstream").is_some();
    let accounts = conf.block("accounts");
    let data = accounts.block(&account);
    if jetstream {
        data.set("jetstream", s("enabled"));
    }
    data.set(
        "users",
        Conf::List(
            data_users
                .iter()
                .map(|(u, _, _)| Conf::Map(u.clone()))
                .collect(),
        ),
    );
    for (k, (_, span, _)) in data_users.iter().enumerate() {
        spans.set(
            &path(&["accounts", &account, "users", &k.to_string()]),
            *span,
        );
    }
    spans.set(&path(&["accounts"]), roles.span);
    if !sys_users.is_empty() {
        conf.set("system_account", s("SYS"));
        spans.set(&path(&["system_account"]), roles.span);
    }
    if let Some(Conf::Map(tls)) = conf.get_mut("tls") {
        tls.set("verify_and_map", Conf::Bool(true));
        spans.set(&path(&["tls", "verify_and_map"]), roles.span);
    }
    given
}
