//! Rules on the auth-callout permissions: generated-name collisions, NKeys, accounts.

use crate::diag::{Code, Diagnostic, suggest};
use crate::model::names::{generated_env_names, reserved_user_names};
use crate::model::{Identity, Model};

/// The accounts a client can land in on this cluster.
pub fn known_accounts(m: &Model) -> Vec<String> {
    let mut v: Vec<String> = vec!["SYS".into(), "AUTH".into(), "AUTHX".into(), m.dc_account().into()];
    if m.is_cpc() {
        v.push("CSC".into());
    }
    v.extend(m.extra_accounts.iter().map(|a| a.name.value.clone()));
    v
}

/// `${VAR}`: the auth callout fills it from its environment.
fn is_env_ref(s: &str) -> bool {
    s.starts_with("${") && s.ends_with('}') && s.len() > 3
}

/// Checks a public NKey's type prefix and checksum.
pub fn public_key_problem(key: &str, prefix: char) -> Option<String> {
    match nkeys::KeyPair::from_public_key(key) {
        Err(e) => Some(format!("it is not a valid public NKey ({e})")),
        Ok(_) if !key.starts_with(prefix) => Some(format!("it starts with `{}`, but this needs a key starting with `{prefix}`", &key[..1])),
        Ok(_) => None,
    }
}

fn account_check(id: &Identity, kind: &str, known: &[String], disabled: &[String], out: &mut Vec<Diagnostic>) {
    if let Some(acc) = &id.account {
        if disabled.contains(&acc.value) {
            out.push(
                Diagnostic::new(
                    Code::AccountUnknown,
                    format!("the {kind} identity `{}` lands in account `{}`, which is disabled (`enabled: false`)", id.name.value, acc.value),
                )
                .at(acc.span, "disabled account")
                .help("enable the account, or send this identity to another account"),
            );
        } else if !known.contains(&acc.value) {
            let d = Diagnostic::new(
                Code::AccountUnknown,
                format!("the {kind} identity `{}` lands in account `{}`, which does not exist on this cluster", id.name.value, acc.value),
            )
            .at(acc.span, "unknown account");
            out.push(match suggest(&acc.value, known.iter().map(String::as_str)) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("the accounts are: {}", known.join(", "))),
            });
        }
    }
}

pub fn check(m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    let known = known_accounts(m);
    let reserved = reserved_user_names(m);
    let p = &m.permissions;
    for (kind, ids) in [("oauth2", &p.oauth2), ("mtls", &p.mtls), ("nkey", &p.nkey)] {
        for id in ids {
            account_check(id, kind, &known, &m.disabled_accounts, &mut out);
        }
    }
    if let Some(n) = &p.noauth {
        account_check(n, "noauth", &known, &m.disabled_accounts, &mut out);
    }
    for id in &p.nkey {
        if reserved.contains(&id.name.value) {
            out.push(
                Diagnostic::new(Code::ReservedUser, format!("the NKey user `{}` has a name the compiler generates", id.name.value))
                    .at(id.name.span, "reserved user name")
                    .help("rename this user; generated users are nack-controller, surveyor, mtls-*-leaf and leaf-*-cpc-<id>"),
            );
        }
        if let Some(pk) = id.node.get("public_key") {
            match pk.as_str() {
                Some(k) if is_env_ref(k) => {}
                Some(k) => {
                    if let Some(problem) = public_key_problem(k, 'U') {
                        out.push(
                            Diagnostic::new(Code::NkeyPublicKey, format!("the public_key of NKey user `{}`: {problem}", id.name.value))
                                .at(pk.span, "bad public key")
                                .help("paste the user's public key (56 characters, starting with U) as printed by `natscc keys generate`, or `${ENV_VAR}`"),
                        );
                    }
                }
                None => {}
            }
        }
    }
    let generated = generated_env_names(m);
    for env in &m.auth_callout_env {
        if generated.contains(&env.value) {
            out.push(
                Diagnostic::new(Code::ReservedEnv, format!("the auth-callout env variable `{}` is one the compiler generates", env.value))
                    .at(env.span, "generated name")
                    .help("rename it; the generated one would be shadowed and the auth callout would read the wrong key"),
            );
        }
    }
    out
}
