//! TLS certificate roles (seed 003): clients authenticate with a client certificate, the server
//! maps the certificate subject to a user (`verify_and_map`), and the user's permissions make
//! its role. `natscc.tlsRoles` is a values-level shortcut that compiles to plain nats.conf:
//!
//! ```yaml
//! natscc:
//!   tlsRoles:
//!     account: APP               # where admin and reader live (default APP)
//!     subjects: ["events.>"]     # the data subjects
//!     users:
//!       - { subject: "CN=ops", role: superuser }   # a user of the system account
//!       - { subject: "CN=app", role: admin }       # publish and subscribe on the data
//!       - { subject: "CN=dash", role: reader }     # subscribe only
//! ```
//!
//! The rules here hold for any config, shortcut or raw `config.merge`. A shortcut user is a
//! reader by its `role`; a user written by hand in `config.merge` has no role, so it counts as a
//! reader when its name has the word `reader` in it (see `named_reader`).

use crate::chart::roles::Roles;
use crate::chart::spans::{Spans, path};
use crate::conf::{Conf, ConfMap};
use crate::diag::{Code, Diagnostic, Span};
use crate::load::Node;

/// Checks the shortcut's own shape (roles and subjects).
pub fn check_shortcut(root: &Node) -> Vec<Diagnostic> {
    let mut out = vec![];
    let Some(roles) = root.path(&["natscc", "tlsRoles"]) else {
        return out;
    };
    let subjects = roles.get("subjects");
    if subjects.map(|s| s.items().is_empty()).unwrap_or(true) {
        out.push(
            Shortcut::NoSubjects {
                at: subjects.map(|s| s.span).unwrap_or(roles.span),
            }
            .into(),
        );
    }
    for sub in subjects.map(Node::items).unwrap_or_default() {
        if let Some(p) = sub
            .as_str()
            .map(crate::subject::Pattern::parse)
            .and_then(Result::err)
        {
            out.push(
                Shortcut::BadSubject {
                    subject: sub.as_str().unwrap_or(""),
                    error: p.to_string(),
                    at: sub.span,
                }
                .into(),
            );
        }
    }
    for u in roles.get("users").map(Node::items).unwrap_or_default() {
        match u.get("role") {
            Some(r) if matches!(r.as_str(), Some("superuser" | "admin" | "reader")) => {}
            Some(r) => out.push(
                Shortcut::UnknownRole {
                    role: r.scalar_text().unwrap_or_default(),
                    at: r.span,
                }
                .into(),
            ),
            None => out.push(Shortcut::NoRole { at: u.span }.into()),
        }
        match u.get("subject") {
            Some(sub) if sub.as_str().is_some_and(|t| t.contains('=')) => {}
            Some(sub) => out.push(Shortcut::NotADn { at: sub.span }.into()),
            None => out.push(Shortcut::NoSubject { at: u.span }.into()),
        }
    }
    out
}

/// One user of the config: where it sits and its fields.
struct User<'a> {
    at: Vec<String>,
    map: &'a ConfMap,
}

fn push_users<'a>(out: &mut Vec<User<'a>>, base: Vec<String>, list: Option<&'a Conf>) {
    if let Some(Conf::List(items)) = list {
        for (i, it) in items.iter().enumerate() {
            if let Conf::Map(m) = it {
                let mut at = base.clone();
                at.extend(["users".to_string(), i.to_string()]);
                out.push(User { at, map: m });
            }
        }
    }
}

fn users(conf: &ConfMap) -> Vec<User<'_>> {
    let mut out = vec![];
    if let Some(Conf::Map(a)) = conf.get("authorization") {
        push_users(&mut out, path(&["authorization"]), a.get("users"));
    }
    if let Some(Conf::Map(accounts)) = conf.get("accounts") {
        for item in &accounts.items {
            if let crate::conf::Item::Kv(name, Conf::Map(acc)) = item {
                push_users(&mut out, path(&["accounts", name]), acc.get("users"));
            }
        }
    }
    out
}

fn text(c: Option<&Conf>) -> Option<&str> {
    match c {
        Some(Conf::Str(t)) => Some(t),
        _ => None,
    }
}

fn truthy(c: Option<&Conf>) -> bool {
    matches!(c, Some(Conf::Bool(true)))
}

/// Subjects a permission entry names, and whether it was written at all.
fn subjects(c: &Conf) -> Vec<String> {
    match c {
        Conf::Str(t) => vec![t.clone()],
        Conf::List(items) => items
            .iter()
            .filter_map(|i| text(Some(i)).map(str::to_string))
            .collect(),
        _ => vec![],
    }
}

/// Publishing a reader may do: replies to inboxes and JetStream acks and consumer reads.
fn harmless(subject: &str) -> bool {
    subject.starts_with("_INBOX.")
        || subject.starts_with("$JS.ACK.")
        || subject.starts_with("$JS.API.CONSUMER.")
}

/// The subjects a user may publish to beyond the harmless ones (`>` when unrestricted).
fn publishes(perms: Option<&Conf>) -> Option<String> {
    let Some(Conf::Map(p)) = perms else {
        return Some(">".into());
    };
    let Some(publish) = p.get("publish") else {
        return Some(">".into());
    };
    let (allowed, denied) = match publish {
        Conf::Map(m) => (
            m.get("allow").map(subjects).unwrap_or_default(),
            m.get("deny").map(subjects).unwrap_or_default(),
        ),
        other => (subjects(other), vec![]),
    };
    if denied.iter().any(|d| d == ">") {
        return None;
    }
    if allowed.is_empty() {
        return Some(">".into());
    }
    allowed.into_iter().find(|a| !harmless(a))
}

/// The fallback for users written by hand in `config.merge`, which carry no role: a name with
/// the word `reader` (or `readers`, `readonly`) in it, e.g. `CN=reader` or `CN=dash-reader,O=acme`.
/// Whole words only, so `CN=proofreader` is not a reader.
fn named_reader(user: &str) -> bool {
    user.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| matches!(w, "reader" | "readers" | "readonly"))
}

fn is_mapped(user: &str) -> bool {
    user.contains('=') || user.contains('@')
}

/// Every `tls` block of the config with its path.
fn tls_blocks(conf: &ConfMap) -> Vec<(Vec<String>, &ConfMap)> {
    let mut out = vec![];
    if let Some(Conf::Map(t)) = conf.get("tls") {
        out.push((path(&["tls"]), t));
    }
    for block in ["mqtt", "leafnodes", "websocket", "cluster", "gateway"] {
        if let Some(Conf::Map(b)) = conf.get(block)
            && let Some(Conf::Map(t)) = b.get("tls")
        {
            out.push((path(&[block, "tls"]), t));
        }
    }
    out
}

/// The rules on the rendered config's TLS blocks and users (each in its own function below).
pub fn check(conf: &ConfMap, spans: &Spans, roles: &Roles, fallback: Span) -> Vec<Diagnostic> {
    let mut out = vec![];
    let span = |p: &[String]| spans.at(p).unwrap_or(fallback);
    let client_tls = match conf.get("tls") {
        Some(Conf::Map(t)) => Some(t),
        _ => None,
    };
    let verify_and_map = client_tls.is_some_and(|t| truthy(t.get("verify_and_map")));
    verify_without_ca(conf, &span, &mut out);
    for u in users(conf) {
        let name = text(u.map.get("user")).unwrap_or("").to_string();
        let has_secret = u.map.get("password").is_some() || u.map.get("nkey").is_some();
        if is_mapped(&name) && !has_secret && !verify_and_map {
            out.push(
                Role::MapNoVerify {
                    user: &name,
                    at: span(&u.at),
                }
                .into(),
            );
        }
        let perms = u.map.get("permissions");
        if let Some(Conf::Map(p)) = perms {
            empty_permissions(&u, &name, p, &span, &mut out);
        }
        reader_publishes(&u, &name, perms, roles, &span, &mut out);
    }
    out
}

/// verify or verify_and_map needs a CA.
fn verify_without_ca(conf: &ConfMap, span: &dyn Fn(&[String]) -> Span, out: &mut Vec<Diagnostic>) {
    for (at, t) in tls_blocks(conf) {
        for key in ["verify_and_map", "verify"] {
            if truthy(t.get(key)) && t.get("ca_file").is_none() {
                let mut p = at.clone();
                p.push(key.into());
                out.push(
                    Role::VerifyNoCa {
                        block: at.join("."),
                        key,
                        at: span(&p),
                    }
                    .into(),
                );
                break;
            }
        }
    }
}

/// A permissions block, or its publish or subscribe, that names no subject restricts nothing.
fn empty_permissions(
    u: &User,
    name: &str,
    p: &ConfMap,
    span: &dyn Fn(&[String]) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    let mut pp = u.at.clone();
    pp.push("permissions".into());
    if !p.items.iter().any(|i| {
        matches!(i, crate::conf::Item::Kv(k, _) if matches!(k.as_str(),
                "publish" | "subscribe" | "pub" | "sub" | "allow_responses"))
    }) {
        out.push(
            Role::EmptyPermissions {
                user: name,
                at: span(&pp),
            }
            .into(),
        );
    }
    for kind in ["publish", "subscribe"] {
        let Some(c) = p.get(kind) else { continue };
        let empty = match c {
            Conf::Str(t) => t.is_empty(),
            Conf::List(l) => l.is_empty(),
            Conf::Map(m) => {
                m.get("allow").map(subjects).unwrap_or_default().is_empty()
                    && m.get("deny").map(subjects).unwrap_or_default().is_empty()
            }
            _ => false,
        };
        if empty {
            let mut kp = pp.clone();
            kp.push(kind.into());
            out.push(
                Role::EmptyDirection {
                    user: name,
                    kind,
                    at: span(&kp),
                }
                .into(),
            );
        }
    }
}

/// A reader (by its role in natscc.tlsRoles, else by its name) must not publish.
fn reader_publishes(
    u: &User,
    name: &str,
    perms: Option<&Conf>,
    roles: &Roles,
    span: &dyn Fn(&[String]) -> Span,
    out: &mut Vec<Diagnostic>,
) {
    // A shortcut user is a reader by its role; a hand-written one only by its name.
    let reader = match roles.get(name) {
        Some(role) => role == "reader",
        None => named_reader(name),
    };
    if reader && let Some(subject) = publishes(perms) {
        out.push(
            Role::ReaderPublishes {
                user: name,
                by_role: roles.contains_key(name),
                subject,
                at: span(&u.at),
            }
            .into(),
        );
    }
}

/// What the rules on the `natscc.tlsRoles` shortcut's own shape find.
enum Shortcut<'a> {
    NoSubjects {
        at: Span,
    },
    BadSubject {
        subject: &'a str,
        error: String,
        at: Span,
    },
    UnknownRole {
        role: String,
        at: Span,
    },
    NoRole {
        at: Span,
    },
    NotADn {
        at: Span,
    },
    NoSubject {
        at: Span,
    },
}

impl From<Shortcut<'_>> for Diagnostic {
    fn from(f: Shortcut<'_>) -> Diagnostic {
        match f {
            Shortcut::NoSubjects { at } => Diagnostic::new(
                Code::TlsRole,
                "natscc.tlsRoles needs `subjects`: the data subjects admin and reader roles apply \
                 to",
            )
            .at(at, "no data subjects")
            .help("add e.g. `subjects: [\"events.>\"]`"),
            Shortcut::BadSubject { subject, error, at } => Diagnostic::new(
                Code::Subject,
                format!("`{subject}` is not a valid NATS subject: {error}"),
            )
            .at(at, "bad subject"),
            Shortcut::UnknownRole { role, at } => Diagnostic::new(
                Code::TlsRole,
                format!("`{role}` is not a TLS role natscc knows"),
            )
            .at(at, "unknown role")
            .help(
                "use superuser (system account), admin (publish and subscribe on the data \
                 subjects) or reader (subscribe only)",
            ),
            Shortcut::NoRole { at } => {
                Diagnostic::new(Code::TlsRole, "a tlsRoles user needs a `role`")
                    .at(at, "no role")
                    .help("add `role: superuser`, `admin` or `reader`")
            }
            Shortcut::NotADn { at } => Diagnostic::new(
                Code::TlsRole,
                "a tlsRoles `subject` is the client certificate's subject, a DN such as \
                 `CN=app,O=acme`",
            )
            .at(at, "not a DN")
            .help("write the certificate subject as the server prints it, e.g. `CN=app`"),
            Shortcut::NoSubject { at } => {
                Diagnostic::new(Code::TlsRole, "a tlsRoles user needs a `subject`")
                    .at(at, "no subject")
                    .help("add `subject: \"CN=...\"`")
            }
        }
    }
}

/// What the rules on the config's certificate users and TLS blocks find.
enum Role<'a> {
    MapNoVerify {
        user: &'a str,
        at: Span,
    },
    /// A TLS block (`block`) that sets `key` (verify or verify_and_map) without a CA.
    VerifyNoCa {
        block: String,
        key: &'a str,
        at: Span,
    },
    EmptyPermissions {
        user: &'a str,
        at: Span,
    },
    /// `kind`: publish or subscribe.
    EmptyDirection {
        user: &'a str,
        kind: &'a str,
        at: Span,
    },
    /// A reader, by its role (`by_role`) or by its name, that may publish `subject`.
    ReaderPublishes {
        user: &'a str,
        by_role: bool,
        subject: String,
        at: Span,
    },
}

impl From<Role<'_>> for Diagnostic {
    fn from(f: Role<'_>) -> Diagnostic {
        match f {
            Role::MapNoVerify { user, at } => Diagnostic::new(
                Code::TlsMapNoVerify,
                format!(
                    "user `{user}` is keyed by a certificate subject, but the client TLS block \
                     does not set verify_and_map"
                ),
            )
            .at(at, "certificate-mapped user")
            .help(
                "set `verify_and_map: true` in `config.nats.tls.merge` (with a CA), or the \
                 server treats it as a user with no password",
            ),
            Role::VerifyNoCa { block, key, at } => Diagnostic::new(
                Code::TlsVerifyNoCa,
                format!(
                    "`{block}` sets {key} but names no CA: client certificates from a private CA \
                     never verify"
                ),
            )
            .at(at, "no ca_file")
            .help(
                "enable `tlsCA` (secretName or configMapName) or set `ca_file` in this \
                 listener's `tls.merge`",
            ),
            Role::EmptyPermissions { user, at } => Diagnostic::new(
                Code::PermissionEmpty,
                format!(
                    "user `{user}` has a permissions block that names no subject; it restricts \
                     nothing"
                ),
            )
            .at(at, "empty permissions")
            .help("give `publish` and `subscribe` with `allow` (or `deny`) subject lists"),
            Role::EmptyDirection { user, kind, at } => Diagnostic::new(
                Code::PermissionEmpty,
                format!(
                    "user `{user}`: `{kind}` names no subject, and nats-server reads that as no \
                     restriction on {kind}ing"
                ),
            )
            .at(at, "no subject")
            .help(format!(
                "list the subjects under `{kind}.allow`, or deny everything with `{kind}: {{ \
                 deny: [\">\"] }}`"
            )),
            Role::ReaderPublishes {
                user,
                by_role,
                subject,
                at,
            } => {
                let (why, help) = if by_role {
                    (
                        "has role reader in natscc.tlsRoles",
                        "a later `config.merge` or `config.patch` changed its permissions: keep \
                         `publish: { deny: [\">\"] }`",
                    )
                } else {
                    (
                        "is named as a reader",
                        "give a reader `publish: { deny: [\">\"] }` (replies to `_INBOX.>` and \
                         `$JS.ACK.>` are harmless), or rename the user if it is no reader",
                    )
                };
                Diagnostic::new(
                    Code::TlsReaderPublishes,
                    format!("user `{user}` {why} but may publish (`{subject}`)"),
                )
                .at(at, "reader with publish rights")
                .help(help)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::named_reader;

    #[test]
    fn reader_names_are_whole_words() {
        for yes in [
            "CN=reader",
            "CN=dash-reader,O=acme",
            "reader",
            "CN=app,OU=Readers",
            "readonly",
        ] {
            assert!(named_reader(yes), "{yes}");
        }
        for no in ["CN=proofreader", "CN=admin", "CN=readerbot", "CN=reading"] {
            assert!(!named_reader(no), "{no}");
        }
    }
}
