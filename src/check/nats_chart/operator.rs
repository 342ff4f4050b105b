//! Operator mode (seed 002): `operator`, `system_account`, `resolver` and `resolver_preload`,
//! written in `config.merge` (and `config.resolver`) as the chart expects them. A JWT may be
//! inline, an environment reference (`<< $OPERATOR_JWT >>`), or the path of a file; a file that
//! exists beside the values file is read, checked and inlined, so the output stands alone.
//! Accounts pushed to the resolver after start can be checked too, from `natscc.pushedAccounts`
//! (name -> JWT or file); they are not written into nats.conf.

use super::jwt::{self, Jwt, Kind};
use crate::chart::spans::{Spans, path};
use crate::conf::{Conf, ConfMap, Item};
use crate::diag::{Code, Diagnostic, Sources, Span};
use crate::load::Node;
use std::path::{Path, PathBuf};

/// Where a JWT came from, for messages.
fn base_dir(sources: &Sources, span: Span) -> PathBuf {
    let name = &sources.get(span.src).name;
    Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

enum Loaded {
    Inline(String),
    File(String),
    Missing(String),
    Pod(String),
}

/// Reads a JWT reference that is not inline: a file beside the values file, or a pod path.
fn load_ref(text: &str, span: Span, sources: &Sources) -> Loaded {
    let t = text.trim();
    if jwt::looks_like_jwt(t) {
        return Loaded::Inline(t.to_string());
    }
    let p = Path::new(t);
    let candidate = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir(sources, span).join(p)
    };
    match crate::input::read_text(&candidate) {
        Ok(content) => Loaded::File(content.trim().to_string()),
        Err(_) if p.is_absolute() => Loaded::Pod(t.to_string()),
        Err(e) => Loaded::Missing(format!("{}: {e}", candidate.display())),
    }
}

/// Replaces JWT file references in `operator` and `resolver_preload` by the files' contents.
pub fn inline_files(
    conf: &mut ConfMap,
    spans: &Spans,
    sources: &Sources,
    fallback: Span,
) -> Vec<Diagnostic> {
    let mut out = vec![];
    let fix = |c: &mut Conf, at: Vec<String>, must_inline: bool, out: &mut Vec<Diagnostic>| {
        let Conf::Str(text) = c else { return };
        let span = spans.at(&at).unwrap_or(fallback);
        match load_ref(text, span, sources) {
            Loaded::Inline(_) => {}
            Loaded::File(content) => *c = Conf::Str(content),
            Loaded::Pod(p) if !must_inline => out.push(
                Diagnostic::new(Code::JwtUnchecked, format!("`{p}` is not a file here; natscc keeps it as a path the server reads in the pod, unchecked"))
                    .at(span, "pod path")
                    .help("to have it checked, name a file relative to the values file (natscc then inlines the JWT)"),
            ),
            Loaded::Pod(p) | Loaded::Missing(p) => {
                out.push(
                    Diagnostic::new(Code::FileRef, format!("the JWT file cannot be read: {p}"))
                        .at(span, "no such file")
                        .help("give the JWT inline, as `<< $VAR >>`, or as a path relative to the values file"),
                );
                // Reported once: the rules below skip what could not be read.
                *c = Conf::Str(String::new());
            }
        }
    };
    if let Some(op) = conf.get_mut("operator") {
        match op {
            Conf::List(items) => {
                for (i, it) in items.iter_mut().enumerate() {
                    fix(it, path(&["operator", &i.to_string()]), false, &mut out);
                }
            }
            other => fix(other, path(&["operator"]), false, &mut out),
        }
    }
    if let Some(Conf::Map(pre)) = conf.get_mut("resolver_preload") {
        for item in &mut pre.items {
            if let Item::Kv(k, v) = item {
                let at = path(&["resolver_preload", k]);
                fix(v, at, true, &mut out);
            }
        }
    }
    out
}

/// Decodes one JWT and reports what is wrong with it; `None` when unusable.
fn decoded(
    text: &str,
    span: Span,
    want: Kind,
    what: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<Jwt> {
    match jwt::decode(text) {
        Err(e) => {
            out.push(
                Diagnostic::new(Code::JwtDecode, format!("{what} is not a valid NATS JWT: {e}"))
                    .at(span, "not a JWT")
                    .help("paste the JWT as nsc prints it (`nsc describe ... --raw`), or name the .jwt file"),
            );
            None
        }
        Ok(j) if !j.signature_ok => {
            out.push(
                Diagnostic::new(
                    Code::JwtSignature,
                    format!(
                        "{what}: the signature does not verify against its issuer `{}`",
                        j.issuer
                    ),
                )
                .at(span, "bad signature")
                .help("the JWT was altered or truncated; export it again from nsc"),
            );
            None
        }
        Ok(j) if j.kind != want => {
            out.push(
                Diagnostic::new(
                    Code::JwtKind,
                    format!(
                        "{what} is {} JWT, not {} JWT",
                        article(j.kind),
                        article(want)
                    ),
                )
                .at(span, "wrong kind of JWT")
                .help(format!("give the {} JWT here", want.name())),
            );
            None
        }
        Ok(j) => Some(j),
    }
}

fn article(k: Kind) -> String {
    match k {
        Kind::Operator | Kind::Account => format!("an {}", k.name()),
        _ => format!("a {}", k.name()),
    }
}

fn text(c: Option<&Conf>) -> Option<&str> {
    match c {
        Some(Conf::Str(t)) => Some(t),
        _ => None,
    }
}

/// One account JWT to check: where, which key it claims to be, the JWT.
struct AccountRef {
    label: String,
    key: Option<String>,
    span: Span,
    jwt: Jwt,
}

pub fn check(
    conf: &ConfMap,
    spans: &Spans,
    root: &Node,
    sources: &Sources,
    fallback: Span,
) -> Vec<Diagnostic> {
    let mut out = vec![];
    let span = |p: &[&str]| spans.at(&path(p)).unwrap_or(fallback);

    // The trust roots: operator keys and their signing keys.
    let mut trusted: Vec<String> = vec![];
    let mut operators: Vec<Jwt> = vec![];
    let op_items: Vec<(Vec<String>, &Conf)> = match conf.get("operator") {
        Some(Conf::List(items)) => items
            .iter()
            .enumerate()
            .map(|(i, c)| (path(&["operator", &i.to_string()]), c))
            .collect(),
        Some(c) => vec![(path(&["operator"]), c)],
        None => vec![],
    };
    let mut unchecked_operator = false;
    for (at, c) in &op_items {
        let sp = spans.at(at).unwrap_or(fallback);
        match c {
            Conf::Str(t) if t.is_empty() => unchecked_operator = true,
            Conf::Str(t) if jwt::looks_like_jwt(t) || !t.starts_with('/') => {
                if let Some(j) = decoded(t, sp, Kind::Operator, "`operator`", &mut out) {
                    trusted.push(j.subject.clone());
                    trusted.extend(j.signing_keys());
                    operators.push(j);
                }
            }
            Conf::Var(v) => {
                unchecked_operator = true;
                out.push(
                    Diagnostic::new(Code::JwtUnchecked, format!("`operator` comes from `${v}` at start; natscc cannot check the accounts against it"))
                        .at(sp, "environment reference")
                        .help("inline the operator JWT or name its file to have the account JWTs checked against it"),
                );
            }
            _ => unchecked_operator = true,
        }
    }
    let has_operator = !op_items.is_empty();

    let resolver = conf.get("resolver");
    let preload = match conf.get("resolver_preload") {
        Some(Conf::Map(m)) => Some(m),
        _ => None,
    };
    if !has_operator
        && (resolver.is_some() || preload.is_some())
        && conf.get("trusted_keys").is_none()
    {
        let at = if resolver.is_some() {
            span(&["resolver"])
        } else {
            span(&["resolver_preload"])
        };
        out.push(
            Diagnostic::new(Code::OperatorMissing, "an account resolver without an `operator`: nothing says which account JWTs to trust")
                .at(at, "resolver without operator")
                .help("set `config.merge.operator` to the operator JWT (inline, `<< $VAR >>` or a .jwt file)"),
        );
    }

    match resolver {
        Some(Conf::Str(r)) => {
            let up = r.to_ascii_uppercase();
            if up != "MEMORY" && up != "MEM" && !up.starts_with("URL(") {
                out.push(
                    Diagnostic::new(
                        Code::ResolverType,
                        format!(
                            "resolver `{r}` is neither MEMORY nor URL(...); nats-server refuses it"
                        ),
                    )
                    .at(span(&["resolver"]), "unknown resolver")
                    .help("use `MEMORY`, or a map `{ type: full, dir: /data/resolver }`"),
                );
            }
        }
        Some(Conf::Map(m)) => {
            let ty = text(m.get("type")).map(str::to_ascii_lowercase);
            match ty.as_deref() {
                Some("full" | "cache") => {}
                _ => out.push(
                    Diagnostic::new(
                        Code::ResolverType,
                        match &ty {
                            Some(t) => format!("resolver type `{t}` is neither full nor cache; nats-server refuses it"),
                            // The chart's files/config/resolver.yaml writes only `dir`, never a
                            // type.
                            None => "the resolver map has no `type`: `config.resolver` renders only its `dir`, and nats-server refuses a map without a type (\"should be MEM or URL(\\\"url\\\") or a map containing dir and type\")".into(),
                        },
                    )
                    .at(span(&["resolver", "type"]), "resolver type")
                    .help("set `config.resolver.merge.type: full` (or `cache`)"),
                ),
            }
            if text(m.get("dir")).is_none_or(str::is_empty) {
                out.push(
                    Diagnostic::new(Code::ResolverDir, "a NATS-based (full or cache) resolver needs a `dir` to store account JWTs in")
                        .at(span(&["resolver"]), "no dir")
                        .help("enable `config.resolver` (its dir defaults to /data/resolver on its own volume) or set `dir`"),
                );
            }
        }
        _ => {}
    }

    // Account JWTs: preloaded, and pushed later (natscc.pushedAccounts).
    let mut accounts: Vec<AccountRef> = vec![];
    if let Some(pre) = preload {
        for item in &pre.items {
            let Item::Kv(key, v) = item else { continue };
            let sp = spans
                .at(&path(&["resolver_preload", key]))
                .unwrap_or(fallback);
            match v {
                Conf::Str(t) if t.is_empty() => {}
                Conf::Str(t) => {
                    if let Some(j) = decoded(t, sp, Kind::Account, &format!("resolver_preload `{key}`"), &mut out) {
                        accounts.push(AccountRef { label: format!("preloaded account `{key}`"), key: Some(key.clone()), span: sp, jwt: j });
                    }
                }
                Conf::Var(var) => out.push(
                    Diagnostic::new(Code::JwtUnchecked, format!("resolver_preload `{key}` comes from `${var}` at start; natscc cannot check it"))
                        .at(sp, "environment reference")
                        .help("inline the account JWT or name its file to have it checked"),
                ),
                _ => {}
            }
        }
    }
    for e in root
        .path(&["natscc", "pushedAccounts"])
        .map(Node::entries)
        .unwrap_or_default()
    {
        let Some(t) = e.value.as_str() else { continue };
        let content = match load_ref(t, e.value.span, sources) {
            Loaded::Inline(c) | Loaded::File(c) => c,
            Loaded::Missing(p) | Loaded::Pod(p) => {
                out.push(
                    Diagnostic::new(Code::FileRef, format!("the JWT file cannot be read: {p}"))
                        .at(e.value.span, "no such file")
                        .help("give a path relative to the values file"),
                );
                continue;
            }
        };
        if let Some(j) = decoded(
            &content,
            e.value.span,
            Kind::Account,
            &format!("pushed account `{}`", e.key),
            &mut out,
        ) {
            accounts.push(AccountRef {
                label: format!("pushed account `{}`", e.key),
                key: None,
                span: e.value.span,
                jwt: j,
            });
        }
    }

    for a in &accounts {
        if let Some(k) = &a.key
            && *k != a.jwt.subject
        {
            out.push(
                Diagnostic::new(
                    Code::PreloadKey,
                    format!(
                        "{} maps key `{k}` to the JWT of account `{}`",
                        a.label, a.jwt.subject
                    ),
                )
                .at(a.span, "key and JWT disagree")
                .help(format!(
                    "key the entry by the JWT's subject `{}`",
                    a.jwt.subject
                )),
            );
        }
        if !operators.is_empty() && !trusted.contains(&a.jwt.issuer) {
            out.push(
                Diagnostic::new(
                    Code::AccountIssuer,
                    format!("{} ({}) is issued by `{}`, which is neither the operator nor one of its signing keys", a.label, a.jwt.name, a.jwt.issuer),
                )
                .at(a.span, "untrusted issuer")
                .help("sign the account with the operator configured here (nsc, with this operator selected), or add the signing key to the operator"),
            );
        }
    }

    // The system account: an account public key whose JWT the server has at start.
    let sys = text(conf.get("system_account"));
    if has_operator {
        match sys {
            None => {}
            Some(s) => {
                let is_account_key =
                    s.starts_with('A') && nkeys::KeyPair::from_public_key(s).is_ok();
                let preloaded = preload.is_some_and(|p| p.get(s).is_some());
                if !is_account_key {
                    out.push(
                        Diagnostic::new(Code::SystemAccount, format!("system_account `{s}` is not an account public key; in operator mode it must be one"))
                            .at(span(&["system_account"]), "not an account key")
                            .help("use the SYS account's public key (nsc describe account SYS), starting with A"),
                    );
                } else if !preloaded && !unchecked_operator {
                    out.push(
                        Diagnostic::new(
                            Code::SystemAccount,
                            format!("system_account `{s}` has no JWT in resolver_preload; the server cannot load it at start"),
                        )
                        .at(span(&["system_account"]), "not preloaded")
                        .help("preload the system account's JWT: `config.merge.resolver_preload: { <key>: <SYS JWT> }`"),
                    );
                }
                for op in &operators {
                    if let Some(op_sys) = op.operator_system_account()
                        && op_sys != s
                    {
                        out.push(
                            Diagnostic::new(Code::SystemAccount, format!("system_account `{s}` differs from the operator JWT's system account `{op_sys}`"))
                                .at(span(&["system_account"]), "disagrees with the operator")
                                .help("use the same system account in both places"),
                        );
                    }
                }
            }
        }
    }

    // JetStream: accounts without JetStream limits cannot use it on a JetStream server.
    if conf.get("jetstream").is_some() {
        for a in &accounts {
            if Some(a.jwt.subject.as_str()) == sys {
                continue;
            }
            if !a.jwt.jetstream_enabled() {
                out.push(
                    Diagnostic::new(
                        Code::AccountJetStream,
                        format!(
                            "{} ({}) has no JetStream limits: its clients get \"JetStream not enabled for account\", and MQTT clients of it cannot connect",
                            a.label, a.jwt.name
                        ),
                    )
                    .at(a.span, "no JetStream limits")
                    .help("give the account JetStream limits (nsc edit account --js-mem-storage -1 --js-disk-storage -1) and push it again"),
                );
            }
        }
    }
    out
}
