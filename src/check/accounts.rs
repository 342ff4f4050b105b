//! Rules on extra accounts: names, reserved names, token collisions, owned fields.

use crate::diag::{Code, Diagnostic, Span};
use crate::model::Model;

/// Fields of an extra account the chart writes itself and never copies from the values.
pub(crate) fn owned_account_field(m: &Model, key: &str) -> bool {
    matches!(key, "enabled" | "leaf") || (m.is_cpc() && matches!(key, "jetstream" | "mappings"))
}

/// The fields nats-server 2.15 reads in an account block; any other key stops it at start
/// (measured with `nats-server -t`).
pub(crate) const SERVER_ACCOUNT_FIELDS: [&str; 11] = [
    "nkey",
    "users",
    "exports",
    "imports",
    "jetstream",
    "mappings",
    "maps",
    "limits",
    "default_permissions",
    "msg_trace",
    "trace_dest",
];

const RESERVED: [&str; 5] = ["SYS", "AUTH", "AUTHX", "CSC", "CPC"];

/// The account name rule (also `natscc keys generate --extra-account`): a letter first, then
/// letters and digits.
pub(crate) fn account_name_valid(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Names the compiler generates (SYS, AUTH, AUTHX, CSC, CPC, cpc*), refused for an extra account.
pub(crate) fn account_name_reserved(name: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
        || name.to_ascii_lowercase().starts_with("cpc")
}

pub fn check(m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    let mut env_seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut secret_seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, a) in m.extra_accounts.iter().enumerate() {
        let name = &a.name.value;
        let at = a.name.span;
        if !account_name_valid(name) {
            out.push(Finding::Name { name, at }.into());
        }
        if account_name_reserved(name) {
            out.push(Finding::Reserved { name, at }.into());
        }
        // The first earlier account with the same token, found by lookup: thousands of
        // accounts cost linear time.
        let earlier = match (
            env_seen.get(a.env_token.as_str()),
            secret_seen.get(a.secret_token.as_str()),
        ) {
            (Some(&j), _) => Some((j, "env", a.env_token.as_str())),
            (None, Some(&j)) => Some((j, "secret", a.secret_token.as_str())),
            (None, None) => None,
        };
        env_seen.entry(a.env_token.as_str()).or_insert(i);
        secret_seen.entry(a.secret_token.as_str()).or_insert(i);
        if let Some((j, kind, token)) = earlier {
            let b = &m.extra_accounts[j];
            out.push(
                Finding::TokenCollision {
                    first: &b.name.value,
                    name,
                    kind,
                    token,
                    at,
                    first_at: b.name.span,
                }
                .into(),
            );
        }
        for f in &a.fields {
            if !owned_account_field(m, &f.key) && !SERVER_ACCOUNT_FIELDS.contains(&f.key.as_str()) {
                out.push(
                    Finding::Field {
                        field: &f.key,
                        name,
                        at: f.key_span,
                    }
                    .into(),
                );
            }
            if owned_account_field(m, &f.key) && matches!(f.key.as_str(), "jetstream" | "mappings")
            {
                out.push(
                    Finding::OwnedField {
                        field: &f.key,
                        name,
                        at: f.key_span,
                    }
                    .into(),
                );
            }
        }
    }
    out
}

/// What the rules on the extra accounts find; `From<Finding> for Diagnostic` words them.
enum Finding<'a> {
    Name {
        name: &'a str,
        at: Span,
    },
    Reserved {
        name: &'a str,
        at: Span,
    },
    /// Two accounts whose names give one token (`kind`: env or secret).
    TokenCollision {
        first: &'a str,
        name: &'a str,
        kind: &'a str,
        token: &'a str,
        at: Span,
        first_at: Span,
    },
    Field {
        field: &'a str,
        name: &'a str,
        at: Span,
    },
    OwnedField {
        field: &'a str,
        name: &'a str,
        at: Span,
    },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::Name { name, at } => {
                let fixed: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
                Diagnostic::new(
                    Code::AccountName,
                    format!(
                        "the extra account name `{name}` must start with a letter and hold only \
                         letters and digits"
                    ),
                )
                .at(at, "invalid account name")
                .help(if fixed.is_empty() {
                    "rename the account, e.g. `Analytics`".to_string()
                } else {
                    format!("rename it, e.g. `{fixed}`")
                })
            }
            Finding::Reserved { name, at } => Diagnostic::new(
                Code::AccountReserved,
                format!(
                    "the account name `{name}` is reserved: the compiler generates SYS, AUTH, \
                     AUTHX, CSC, CPC and the cpc* names"
                ),
            )
            .at(at, "reserved name")
            .help("choose another name for this extra account"),
            Finding::TokenCollision {
                first,
                name,
                kind,
                token,
                at,
                first_at,
            } => Diagnostic::new(
                Code::AccountTokenCollision,
                format!(
                    "the extra accounts `{first}` and `{name}` both normalise to the {kind} token \
                     `{token}`, so \
                     their secrets and env variables would collide"
                ),
            )
            .at(at, "this account")
            .at(first_at, "collides with this one")
            .help("rename one of the two accounts so their upper-case and lower-case forms differ"),
            Finding::Field { field, name, at } => {
                let fields = SERVER_ACCOUNT_FIELDS.join(", ");
                Diagnostic::new(
                    Code::AccountField,
                    format!(
                        "`{field}` of the extra account `{name}` is not a field of a NATS \
                         account: nats-server refuses the config (unknown field)"
                    ),
                )
                .at(at, "not an account field")
                .help(
                    match crate::diag::suggest(field, SERVER_ACCOUNT_FIELDS.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? An account takes {fields}"),
                        None => format!(
                            "an account takes {fields} (connection limits go under `limits`)"
                        ),
                    },
                )
            }
            Finding::OwnedField { field, name, at } => Diagnostic::new(
                Code::AccountOwnedField,
                format!(
                    "`{field}` of the extra account `{name}` is ignored on a CPC: the compiler \
                     owns it there"
                ),
            )
            .at(at, "ignored")
            .help(
                "remove it; on a CPC extra accounts have JetStream off and map the JetStream API \
                 to the CSC domain",
            ),
        }
    }
}
