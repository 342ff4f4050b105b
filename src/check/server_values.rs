//! Values of extra accounts that the chart copies into accounts.conf, judged as nats-server
//! 2.15.1 judges them (each verdict measured with `nats-server -t`):
//! - a user `nkey` that is not a public user key: "Not a valid public nkey for a user"
//!   (`hello`, a seed, an account key, a bad checksum alike; a number stops the parser);
//! - an NKey user with `user` or `password`: "Nkey users do not take usernames or passwords";
//! - one user nkey twice, in one account or two: "Duplicate nkey \"U...\" detected";
//!   one user name twice: "Duplicate user \"a\" detected";
//! - two service imports of one account from the same exporting account with the same local
//!   subject (`to`, else `subject`): "Duplicate service import subject"; from two different
//!   exporting accounts the server accepts them;
//! - a list directly inside a list (`users: [[0]]`): refused wherever it stands;
//! - a user without `user` or `nkey` (`{}`, `{user: ""}`, `{password: x}`): "User entry
//!   requires a user".

use crate::diag::redact::contains_seed;
use crate::diag::{Code, Diagnostic, Span};
use crate::load::{Entry, Node, V};
use crate::model::Model;

/// The key names nats-server reads a user's fields by (it lowercases every key first).
pub(crate) const NKEY: &[&str] = &["nkey"];
pub(crate) const USER: &[&str] = &["user", "username"];
pub(crate) const PASSWORD: &[&str] = &["password", "pass"];

/// A user's field as nats-server reads it: the key in any case, or one of its synonyms
/// (`{Username: a}` is the user `a`, `{nkey: U..., pass: x}` an NKey user with a password).
pub(crate) fn user_field<'a>(u: &'a Node, names: &[&str]) -> Option<&'a Entry> {
    u.entries()
        .iter()
        .find(|e| names.iter().any(|n| e.key.eq_ignore_ascii_case(n)))
}

/// An account as these rules read it: its name and its fields (from the values, or read back
/// from a rendered config).
pub struct Account<'a> {
    pub name: &'a str,
    pub fields: &'a [Entry],
}

impl<'a> Account<'a> {
    fn field(&self, key: &str) -> Option<&'a Node> {
        self.fields.iter().find(|f| f.key == key).map(|f| &f.value)
    }
}

/// A value only the running server knows: an environment variable, `<< $NAME >>` as the
/// chart writes it.
fn from_env(s: &str) -> bool {
    word(s).starts_with('$')
}

/// The text the server reads: the chart writes `<< X >>` as the bare `X`.
fn word(s: &str) -> &str {
    let t = s.trim();
    match t.strip_prefix("<<").and_then(|t| t.strip_suffix(">>")) {
        Some(w) => w.trim(),
        None => s,
    }
}

fn text(n: &Node) -> Option<&str> {
    n.as_str().map(word)
}

/// Every user of the accounts: the nkey and name rules, and each nkey or name once across
/// all of them.
pub fn user_keys(accounts: &[Account], out: &mut Vec<Diagnostic>) {
    // (nkey, account, span) and (name, account, span) of every user seen so far.
    let mut nkeys: Seen = Default::default();
    let mut names: Seen = Default::default();
    for a in accounts {
        let acc = a.name;
        for u in a.field("users").map(Node::items).unwrap_or_default() {
            if let Some(e) = user_field(u, NKEY) {
                nkey_user(u, &e.value, acc, &mut nkeys, out);
            } else if matches!(u.v, V::Map(_))
                && user_field(u, USER).is_none_or(|e| text(&e.value) == Some(""))
            {
                out.push(Finding::NoUser { acc, at: u.span }.into());
            } else if let Some(e) = user_field(u, USER)
                && let Some(n) = e.value.scalar_text()
            {
                let n = word(&n).to_string();
                let span = e.value.span;
                if let Some((first_acc, first)) = names.get(&n) {
                    out.push(
                        Finding::Duplicate {
                            of: Twice::User,
                            name: &n,
                            first_acc,
                            acc,
                            at: span,
                            first_at: *first,
                        }
                        .into(),
                    );
                } else {
                    names.insert(n, (acc.to_string(), span));
                }
            }
        }
    }
}

/// (key or name) -> (account, where) of the users seen so far.
type Seen = std::collections::HashMap<String, (String, Span)>;

/// An NKey user: a public user key, once across the accounts, without a name or password.
fn nkey_user(u: &Node, n: &Node, acc: &str, nkeys: &mut Seen, out: &mut Vec<Diagnostic>) {
    match &n.v {
        // A seed is reported as a secret (secrets.rs), once.
        V::Str(k) if contains_seed(k) => {}
        V::Str(k) if from_env(k) => {}
        V::Str(k) => {
            let k = word(k);
            if let Some(problem) = super::auth::public_key_problem(k, 'U') {
                out.push(
                    Finding::BadNkey {
                        key: k,
                        acc,
                        problem,
                        at: n.span,
                    }
                    .into(),
                );
            } else if let Some((first_acc, first)) = nkeys.get(k) {
                out.push(
                    Finding::Duplicate {
                        of: Twice::Nkey,
                        name: k,
                        first_acc,
                        acc,
                        at: n.span,
                        first_at: *first,
                    }
                    .into(),
                );
            } else {
                nkeys.insert(k.to_string(), (acc.to_string(), n.span));
            }
        }
        V::Null => {}
        _ => out.push(
            Finding::NkeyType {
                acc,
                type_name: n.type_name(),
                at: n.span,
            }
            .into(),
        ),
    }
    let others = u.entries().iter().filter(|o| {
        USER.iter()
            .chain(PASSWORD)
            .any(|n| o.key.eq_ignore_ascii_case(n))
    });
    for o in others {
        out.push(
            Finding::NkeyWithName {
                acc,
                other: &o.key,
                at: o.key_span,
            }
            .into(),
        );
    }
}

/// Service imports of one account from one exporter to one local subject.
pub fn service_imports(accounts: &[Account], out: &mut Vec<Diagnostic>) {
    for a in accounts {
        let Some(imports) = a.field("imports") else {
            continue;
        };
        let mut seen: Vec<(String, String, Span)> = vec![];
        for imp in imports.items() {
            let Some(svc) = imp.get("service") else {
                continue;
            };
            let (Some(exporter), Some(subject)) = (
                svc.get("account").and_then(text),
                svc.get("subject").and_then(text),
            ) else {
                continue;
            };
            let local = imp
                .get("to")
                .and_then(text)
                .filter(|t| !t.is_empty())
                .unwrap_or(subject)
                .to_string();
            if let Some((_, _, first)) = seen.iter().find(|(e, l, _)| e == exporter && *l == local)
            {
                out.push(
                    Finding::DuplicateServiceImport {
                        account: a.name,
                        exporter,
                        local: &local,
                        at: imp.span,
                        first_at: *first,
                    }
                    .into(),
                );
            } else {
                seen.push((exporter.to_string(), local, imp.span));
            }
        }
    }
}

/// Lists directly inside lists, under the node (the chart prints account lists as JSON).
pub fn nested_lists(node: &Node, at: &str, out: &mut Vec<Diagnostic>) {
    match &node.v {
        V::Map(es) => es
            .iter()
            .for_each(|e| nested_lists(&e.value, &format!("{at}.{}", e.key), out)),
        V::Seq(items) => {
            for (i, it) in items.iter().enumerate() {
                if matches!(it.v, V::Seq(_)) {
                    let at = format!("{at}[{i}]");
                    out.push(
                        Finding::NestedList {
                            path: &at,
                            at: it.span,
                        }
                        .into(),
                    );
                } else {
                    nested_lists(it, &format!("{at}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

pub fn check(m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    let accounts: Vec<Account> = m
        .extra_accounts
        .iter()
        .map(|a| Account {
            name: &a.name.value,
            fields: &a.fields,
        })
        .collect();
    user_keys(&accounts, &mut out);
    service_imports(&accounts, &mut out);
    for a in &m.extra_accounts {
        for f in &a.fields {
            nested_lists(
                &f.value,
                &format!("global.eventBus.extraAccounts.{}.{}", a.name.value, f.key),
                &mut out,
            );
        }
    }
    out
}

/// What stands twice.
enum Twice {
    User,
    Nkey,
}

/// What the rules above find; `From<Finding> for Diagnostic` words them.
enum Finding<'a> {
    NoUser {
        acc: &'a str,
        at: Span,
    },
    /// A user name or a user nkey twice (`first_acc` holds the first).
    Duplicate {
        of: Twice,
        name: &'a str,
        first_acc: &'a str,
        acc: &'a str,
        at: Span,
        first_at: Span,
    },
    BadNkey {
        key: &'a str,
        acc: &'a str,
        problem: String,
        at: Span,
    },
    NkeyType {
        acc: &'a str,
        type_name: &'a str,
        at: Span,
    },
    /// An NKey user with a name or password field (`other`).
    NkeyWithName {
        acc: &'a str,
        other: &'a str,
        at: Span,
    },
    DuplicateServiceImport {
        account: &'a str,
        exporter: &'a str,
        local: &'a str,
        at: Span,
        first_at: Span,
    },
    NestedList {
        path: &'a str,
        at: Span,
    },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::NoUser { acc, at } => Diagnostic::new(
                Code::UserNkey,
                format!(
                    "a user of the extra account `{acc}` has neither a `user` nor an `nkey`; \
                     nats-server refuses the config (\"User entry requires a user\")"
                ),
            )
            .at(at, "no user name, no key")
            .help(
                "give the user a name (`user: ...`, with a bcrypt `password`) or a public NKey \
                 (`nkey: U...`)",
            ),
            Finding::Duplicate {
                of,
                name,
                first_acc,
                acc,
                at,
                first_at,
            } => {
                let (what, done, detected, help) = match of {
                    Twice::User => (
                        "user",
                        "defined",
                        "user",
                        "user names are unique across all accounts: rename one of them",
                    ),
                    Twice::Nkey => (
                        "user nkey",
                        "given",
                        "nkey",
                        "a user NKey belongs to one account: remove one of the two, or give the \
                         other user its own key",
                    ),
                };
                Diagnostic::new(
                    Code::DuplicateUser,
                    format!(
                        "the {what} `{name}` is {done} {}; nats-server refuses the config \
                         (\"Duplicate {detected} detected\")",
                        twice(first_acc, acc)
                    ),
                )
                .at(at, "the same user again")
                .at(first_at, format!("first {done} here"))
                .help(help)
            }
            Finding::BadNkey {
                key,
                acc,
                problem,
                at,
            } => Diagnostic::new(
                Code::UserNkey,
                format!(
                    "the nkey `{key}` of a user of the extra account `{acc}`: {problem}; \
                     nats-server refuses the config (\"Not a valid public nkey for a user\")"
                ),
            )
            .at(at, "not a public user key")
            .help(
                "write the user's public key (56 characters, starting with U), as `natscc keys` \
                 or `nk -inkey seed -pubout` prints it",
            ),
            Finding::NkeyType { acc, type_name, at } => Diagnostic::new(
                Code::UserNkey,
                format!(
                    "the nkey of a user of the extra account `{acc}` is a {type_name}, not a \
                     public key; nats-server refuses the config"
                ),
            )
            .at(at, "not a public user key")
            .help("write the user's public key as a string (56 characters, starting with U)"),
            Finding::NkeyWithName { acc, other, at } => Diagnostic::new(
                Code::UserNkey,
                format!(
                    "a user of the extra account `{acc}` has both `nkey` and `{other}`; \
                     nats-server refuses the config (\"Nkey users do not take usernames or \
                     passwords\")"
                ),
            )
            .at(at, "not for an NKey user")
            .help(format!(
                "remove `{other}`: an NKey user proves who it is with its key"
            )),
            Finding::DuplicateServiceImport {
                account,
                exporter,
                local,
                at,
                first_at,
            } => Diagnostic::new(
                Code::DuplicateImport,
                format!(
                    "account `{account}` imports services from `{exporter}` twice onto the \
                     subject `{local}`; nats-server refuses that (\"Duplicate service import \
                     subject\")"
                ),
            )
            .at(at, "imported again here")
            .at(first_at, "first imported here")
            .help("remove one of the two imports, or give them different `to` subjects"),
            Finding::NestedList { path, at } => Diagnostic::new(
                Code::ConfNestedList,
                format!(
                    "`{path}` is a list inside a list; no nats-server option reads one, so the \
                     server refuses the config"
                ),
            )
            .at(at, "list inside a list")
            .help(
                "write the entries of the inner list directly in the outer one (e.g. `users: \
                 [{nkey: U...}]`, not `users: [[...]]`)",
            ),
        }
    }
}

/// Where a user or nkey stands twice, for the duplicate-user messages.
fn twice(first_acc: &str, acc: &str) -> String {
    if first_acc == acc {
        format!("twice in the account `{acc}`")
    } else {
        format!("in the accounts `{first_acc}` and `{acc}`")
    }
}
