//! Rules on the auth-callout permissions: generated-name collisions, NKeys, accounts.

use crate::diag::{Code, Diagnostic, Span, suggest};
use crate::load::{Node, V};
use crate::model::names::{AUTH_CALLOUT, reserved_user_names, secret_keys};
use crate::model::{Identity, Model};

/// The accounts a client can land in on this cluster.
pub fn known_accounts(m: &Model) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "SYS".into(),
        "AUTH".into(),
        "AUTHX".into(),
        m.dc_account().into(),
    ];
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
        Ok(_) if !key.starts_with(prefix) => Some(format!(
            "it starts with `{}`, but this needs a key starting with `{prefix}`",
            &key[..1]
        )),
        Ok(_) => None,
    }
}

fn account_check(
    id: &Identity,
    kind: &str,
    known: &[String],
    disabled: &[String],
    out: &mut Vec<Diagnostic>,
) {
    if let Some(acc) = &id.account {
        let (identity, account, at) = (&id.name.value, &acc.value, acc.span);
        if disabled.contains(&acc.value) {
            out.push(
                Finding::DisabledAccount {
                    kind,
                    identity,
                    account,
                    at,
                }
                .into(),
            );
        } else if !known.contains(&acc.value) {
            out.push(
                Finding::UnknownAccount {
                    kind,
                    identity,
                    account,
                    known,
                    at,
                }
                .into(),
            );
        }
    }
}

/// The identity the auth callout reads from a client certificate is one of `CN=<cn>`, its
/// first e-mail or DNS SAN, `O=<o>` or `OU=<ou>` (the peer's `extractIdentity`, and
/// `callout::mtls`): an identity written as a fuller subject never equals it, and every client
/// is refused ("user not found in permissions config").
fn mtls_identity(id: &Identity, out: &mut Vec<Diagnostic>) {
    let Some(n) = id.node.get_go("identity") else {
        return;
    };
    let Some(text) = n.as_str() else { return };
    const ATTRIBUTES: [&str; 10] = [
        "CN",
        "O",
        "OU",
        "C",
        "L",
        "ST",
        "DC",
        "UID",
        "SERIALNUMBER",
        "E",
    ];
    let attribute = |part: &str| {
        part.split_once('=')
            .is_some_and(|(k, _)| ATTRIBUTES.iter().any(|a| a.eq_ignore_ascii_case(k.trim())))
    };
    let parts: Vec<&str> = text
        .split([',', '+', '/'])
        .filter(|p| !p.trim().is_empty())
        .collect();
    let named = parts.iter().filter(|p| attribute(p)).count();
    let single = |prefix: &str| text.strip_prefix(prefix).is_some_and(|v| !v.is_empty());
    let readable = if named >= 2 {
        false
    } else if text.contains('=') {
        single("CN=") || single("O=") || single("OU=")
    } else {
        true
    };
    if readable {
        return;
    }
    let cn = parts.iter().find_map(|p| {
        p.trim()
            .strip_prefix("CN=")
            .or_else(|| p.trim().strip_prefix("cn="))
    });
    out.push(
        Finding::MtlsIdentity {
            text,
            identity: &id.name.value,
            cn,
            at: n.span,
        }
        .into(),
    );
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
    for id in &p.mtls {
        mtls_identity(id, &mut out);
    }
    for id in &p.nkey {
        if reserved.contains(&id.name.value) {
            out.push(
                Finding::ReservedUser {
                    user: &id.name.value,
                    at: id.name.span,
                }
                .into(),
            );
        }
        if let Some(pk) = id.node.get_go("public_key") {
            match pk.as_str() {
                Some(k) if is_env_ref(k) => {}
                Some(k) => {
                    if let Some(problem) = public_key_problem(k, 'U') {
                        out.push(
                            Finding::PublicKey {
                                user: &id.name.value,
                                problem,
                                at: pk.span,
                            }
                            .into(),
                        );
                    }
                }
                None => {}
            }
        }
    }
    out
}

/// The auth-callout env names the chart generates (its `validation.yaml` list: the ids as
/// written) and the ones natscc generates (ids in upper case), so an operator env var in
/// `auth-callout.extraEnvs` never shadows a key the callout reads.
fn reserved_callout_envs(m: &Model) -> Vec<String> {
    let mut v: Vec<String> = secret_keys(m)
        .into_iter()
        .flat_map(|k| k.envs)
        .filter(|(_, c)| *c == AUTH_CALLOUT)
        .map(|(e, _)| e)
        .collect();
    if !m.is_cpc() {
        for id in &m.cpc_ids {
            v.push(format!("NKEY_LEAF_CPC_{}_PUBKEY", id.value));
            for a in &m.extra_accounts {
                v.push(format!("NKEY_LEAF_{}_CPC_{}_PUBKEY", a.env_token, id.value));
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

fn non_empty_str(n: Option<&Node>) -> bool {
    n.and_then(Node::scalar_text)
        .is_some_and(|s| !s.trim().is_empty())
}

/// What Helm's `required` lets through: anything but a missing key, null or "".
fn present(n: Option<&Node>) -> bool {
    n.is_some_and(|n| !matches!(n.v, V::Null) && n.as_str() != Some(""))
}

/// Rules over the `auth-callout` subchart values: reserved env names, the JWKS an OAuth2
/// identity needs, and the subchart's own refusals (vault, tracing injection).
pub fn callout(root: &Node, m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    let ac = root.get("auth-callout");
    let reserved = reserved_callout_envs(m);
    for e in ac
        .and_then(|a| a.get("extraEnvs"))
        .map(Node::entries)
        .unwrap_or_default()
    {
        if reserved.contains(&e.key) {
            out.push(
                Callout::ReservedEnv {
                    name: &e.key,
                    at: e.key_span,
                }
                .into(),
            );
        }
    }
    if let Some(first) = m.permissions.oauth2.first() {
        let jwks = ac.and_then(|a| a.path(&["serviceConfig", "jwks"]));
        if !non_empty_str(jwks.and_then(|j| j.get("url"))) {
            out.push(
                Callout::NoJwks {
                    identities: m.permissions.oauth2.len(),
                    at: first.name.span,
                    url_at: jwks.and_then(|j| j.entry("url")).map(|u| u.value.span),
                }
                .into(),
            );
        }
    }
    let Some(ac) = ac else { return out };
    vault(ac, &mut out);
    tracing_refs(ac, &mut out);
    out
}

/// vault.enabled needs its role, template and a secret path (the subchart's validation).
fn vault(ac: &Node, out: &mut Vec<Diagnostic>) {
    if let Some(vault) = ac
        .get("vault")
        .filter(|v| v.get("enabled").is_some_and(Node::truthy))
    {
        let at = ac.entry("vault").map(|e| e.key_span).unwrap_or(vault.span);
        // The subchart's defaults: role "", template.filename "config-secrets.yaml", content "".
        for (path, key, default_set) in [
            (&["role"][..], "vault.role", false),
            (
                &["template", "filename"][..],
                "vault.template.filename",
                true,
            ),
            (
                &["template", "content"][..],
                "vault.template.content",
                false,
            ),
        ] {
            let v = vault.path(path);
            if !(present(v) || (default_set && v.is_none())) {
                let span = vault.path(path).map(|n| n.span).unwrap_or(at);
                out.push(Callout::VaultKey { key, at: span }.into());
            }
        }
        let secrets = vault.get("secrets");
        let has_path = secrets.is_some_and(|s| s.entries().iter().any(|e| e.value.truthy()));
        if !has_path {
            out.push(
                Callout::VaultSecrets {
                    at: vault.entry("secrets").map(|e| e.key_span).unwrap_or(at),
                }
                .into(),
            );
        }
    }
}

/// OpenTelemetry operator injection needs its instrumentation and sidecar references.
fn tracing_refs(ac: &Node, out: &mut Vec<Diagnostic>) {
    let tracing_on = ac
        .path(&["serviceConfig", "observability", "tracing", "enabled"])
        .is_none_or(Node::truthy);
    let tracing = ac.path(&["observability", "tracing"]);
    let injection = tracing.and_then(|t| t.path(&["operatorInjection", "enabled"]));
    if tracing_on && injection.is_some_and(Node::truthy) {
        for key in ["instrumentationRef", "sidecarRef"] {
            // Both refs have defaults in the subchart; only an explicit null or "" loses them.
            let v = tracing.and_then(|t| t.get(key));
            if v.is_some() && !present(v) {
                out.push(
                    Callout::TracingRef {
                        key,
                        at: v
                            .map(|n| n.span)
                            .or(injection.map(|n| n.span))
                            .unwrap_or(ac.span),
                    }
                    .into(),
                );
            }
        }
    }
}

/// What the rules on the identities find; `From<Finding> for Diagnostic` words them.
enum Finding<'a> {
    DisabledAccount {
        kind: &'a str,
        identity: &'a str,
        account: &'a str,
        at: Span,
    },
    UnknownAccount {
        kind: &'a str,
        identity: &'a str,
        account: &'a str,
        known: &'a [String],
        at: Span,
    },
    /// An mTLS identity the callout never reads; `cn` is the common name it holds, if any.
    MtlsIdentity {
        text: &'a str,
        identity: &'a str,
        cn: Option<&'a str>,
        at: Span,
    },
    ReservedUser {
        user: &'a str,
        at: Span,
    },
    PublicKey {
        user: &'a str,
        problem: String,
        at: Span,
    },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::DisabledAccount {
                kind,
                identity,
                account,
                at,
            } => Diagnostic::new(
                Code::AccountUnknown,
                format!(
                    "the {kind} identity `{identity}` lands in account `{account}`, which is \
                     disabled (`enabled: false`)"
                ),
            )
            .at(at, "disabled account")
            .help("enable the account, or send this identity to another account"),
            Finding::UnknownAccount {
                kind,
                identity,
                account,
                known,
                at,
            } => {
                let d = Diagnostic::new(
                    Code::AccountUnknown,
                    format!(
                        "the {kind} identity `{identity}` lands in account `{account}`, which does \
                         not exist on this cluster"
                    ),
                )
                .at(at, "unknown account");
                match suggest(account, known.iter().map(String::as_str)) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("the accounts are: {}", known.join(", "))),
                }
            }
            Finding::MtlsIdentity {
                text,
                identity,
                cn,
                at,
            } => Diagnostic::new(
                Code::MtlsIdentity,
                format!(
                    "the mTLS identity `{text}` of `{identity}` is never matched: the auth \
                     callout names a certificate by its common name alone (`CN=<cn>`), else by \
                     its e-mail or DNS name, `O=` or `OU=`, so every client is refused (\"user \
                     not found in permissions config\")"
                ),
            )
            .at(at, "not an identity the callout reads")
            .help(match cn {
                Some(cn) => format!("write `identity: \"CN={cn}\"`"),
                None => "write the certificate's common name as `CN=<cn>` (or its e-mail or DNS \
                         SAN, `O=<o>`, `OU=<ou>`)"
                    .to_string(),
            }),
            Finding::ReservedUser { user, at } => Diagnostic::new(
                Code::ReservedUser,
                format!("the NKey user `{user}` has a name the compiler generates"),
            )
            .at(at, "reserved user name")
            .help(
                "rename this user; generated users are nack-controller, surveyor, mtls-*-leaf and \
                 leaf-*-cpc-<id>",
            ),
            Finding::PublicKey { user, problem, at } => Diagnostic::new(
                Code::NkeyPublicKey,
                format!("the public_key of NKey user `{user}`: {problem}"),
            )
            .at(at, "bad public key")
            .help(
                "paste the user's public key (56 characters, starting with U) as printed by \
                 `natscc keys generate`, or `${ENV_VAR}`",
            ),
        }
    }
}

/// What the rules on the `auth-callout` subchart's values find.
enum Callout<'a> {
    ReservedEnv {
        name: &'a str,
        at: Span,
    },
    /// OAuth2 identities without a JWKS URL (`url_at`: an empty one).
    NoJwks {
        identities: usize,
        at: Span,
        url_at: Option<Span>,
    },
    VaultKey {
        key: &'a str,
        at: Span,
    },
    VaultSecrets {
        at: Span,
    },
    TracingRef {
        key: &'a str,
        at: Span,
    },
}

impl From<Callout<'_>> for Diagnostic {
    fn from(f: Callout<'_>) -> Diagnostic {
        match f {
            Callout::ReservedEnv { name, at } => Diagnostic::new(
                Code::ReservedEnv,
                format!(
                    "`auth-callout.extraEnvs.{name}` is an env variable the chart generates for \
                     the auth callout"
                ),
            )
            .at(at, "generated name")
            .help(format!(
                "rename it (e.g. `MY_{name}`): the generated variable carries a key the auth \
                 callout reads, and two of one name shadow each other"
            )),
            Callout::NoJwks {
                identities: n,
                at,
                url_at,
            } => {
                let mut d = Diagnostic::new(
                    Code::OAuth2NoJwks,
                    format!(
                        "{n} OAuth2 identit{} but no `auth-callout.serviceConfig.jwks.url`: the \
                         auth callout cannot verify any token and rejects every OAuth2 connection",
                        if n == 1 { "y" } else { "ies" }
                    ),
                )
                .at(at, "OAuth2 identity");
                if let Some(url) = url_at {
                    d = d.at(url, "empty JWKS URL");
                }
                d.help(
                    "set `auth-callout: {serviceConfig: {jwks: \
                     {url: \"https://idp.example.com/.well-known/jwks.json\", issuer: ..., \
                     audience: ...}}}`, or remove the oauth2 identities",
                )
            }
            Callout::VaultKey { key, at } => Diagnostic::new(
                Code::AuthCalloutVault,
                format!(
                    "`auth-callout.{key}` is required when vault.enabled is true; the chart \
                     refuses to render"
                ),
            )
            .at(at, "missing")
            .help(format!(
                "set `auth-callout.{key}`, or set `auth-callout.vault.enabled: false`"
            )),
            Callout::VaultSecrets { at } => Diagnostic::new(
                Code::AuthCalloutVault,
                "`auth-callout.vault.secrets` names no secret path while vault.enabled is true; \
                 the chart refuses to render",
            )
            .at(at, "no secret path")
            .help("add one, e.g. `secrets: {nats: secret/data/auth-callout/nats}`"),
            Callout::TracingRef { key, at } => Diagnostic::new(
                Code::AuthCalloutTracingRef,
                format!(
                    "`auth-callout.observability.tracing.{key}` is required when operator \
                     injection is enabled; the chart refuses to render"
                ),
            )
            .at(at, "missing")
            .help(format!(
                "set `{key}: <namespace>/<name>` of the OpenTelemetry resource, or set \
                 `operatorInjection.enabled: false`"
            )),
        }
    }
}
