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
            Loaded::Pod(path) if !must_inline => {
                out.push(JwtFinding::PodPath { path, at: span }.into())
            }
            Loaded::Pod(problem) | Loaded::Missing(problem) => {
                out.push(
                    JwtFinding::FileUnread {
                        problem,
                        inline_ok: true,
                        at: span,
                    }
                    .into(),
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
fn decoded(text: &str, at: Span, want: Kind, what: &str, out: &mut Vec<Diagnostic>) -> Option<Jwt> {
    let what = what.to_string();
    match jwt::decode(text) {
        Err(e) => {
            out.push(
                JwtFinding::JwtDecode {
                    what,
                    error: e.to_string(),
                    at,
                }
                .into(),
            );
            None
        }
        Ok(j) if !j.signature_ok => {
            out.push(
                JwtFinding::JwtSignature {
                    what,
                    issuer: j.issuer,
                    at,
                }
                .into(),
            );
            None
        }
        Ok(j) if j.kind != want => {
            out.push(
                JwtFinding::JwtKind {
                    what,
                    is: j.kind,
                    want,
                    at,
                }
                .into(),
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

/// The trust roots: the operator JWTs, their keys and signing keys.
#[derive(Default)]
struct Operators {
    /// Whether the config names an operator at all.
    named: bool,
    jwts: Vec<Jwt>,
    trusted: Vec<String>,
    /// An operator natscc cannot read at compile time (an environment reference, a pod path,
    /// an unreadable file), so rules needing the operator's word stay quiet.
    unchecked: bool,
}

/// One rendered config in operator mode, with the values' span behind each key.
struct Mode<'a> {
    conf: &'a ConfMap,
    spans: &'a Spans,
    fallback: Span,
}

impl Mode<'_> {
    fn span(&self, p: &[&str]) -> Span {
        self.spans.at(&path(p)).unwrap_or(self.fallback)
    }

    fn preload(&self) -> Option<&ConfMap> {
        match self.conf.get("resolver_preload") {
            Some(Conf::Map(m)) => Some(m),
            _ => None,
        }
    }
}

/// Operator mode's rules, each in its own function below; `JwtFinding` and `Operator` word
/// what they find.
pub fn check(
    conf: &ConfMap,
    spans: &Spans,
    root: &Node,
    sources: &Sources,
    fallback: Span,
) -> Vec<Diagnostic> {
    let m = Mode {
        conf,
        spans,
        fallback,
    };
    let mut out: Vec<Diagnostic> = vec![];
    let ops = operators(&m, &mut out);
    operator_missing(&m, &ops, &mut out);
    resolver(&m, &mut out);
    let mut accounts = preloaded_accounts(&m, &mut out);
    accounts.extend(pushed_accounts(root, sources, &mut out));
    for a in &accounts {
        preload_key(a, &mut out);
        account_issuer(a, &ops, &mut out);
    }
    let sys = text(conf.get("system_account"));
    if ops.named
        && let Some(sys) = sys
    {
        system_account(&m, sys, &ops, &mut out);
    }
    account_jetstream(&m, &accounts, sys, &mut out);
    out
}

/// Reads the operator JWTs (one or a list), reporting those that do not decode.
fn operators(m: &Mode, out: &mut Vec<Diagnostic>) -> Operators {
    let items: Vec<(Vec<String>, &Conf)> = match m.conf.get("operator") {
        Some(Conf::List(items)) => items
            .iter()
            .enumerate()
            .map(|(i, c)| (path(&["operator", &i.to_string()]), c))
            .collect(),
        Some(c) => vec![(path(&["operator"]), c)],
        None => vec![],
    };
    let mut ops = Operators {
        named: !items.is_empty(),
        ..Operators::default()
    };
    for (at, c) in &items {
        let sp = m.spans.at(at).unwrap_or(m.fallback);
        match c {
            Conf::Str(t) if t.is_empty() => ops.unchecked = true,
            Conf::Str(t) if jwt::looks_like_jwt(t) || !t.starts_with('/') => {
                if let Some(j) = decoded(t, sp, Kind::Operator, "`operator`", out) {
                    ops.trusted.push(j.subject.clone());
                    ops.trusted.extend(j.signing_keys());
                    ops.jwts.push(j);
                }
            }
            Conf::Var(var) => {
                ops.unchecked = true;
                out.push(
                    JwtFinding::OperatorFromEnv {
                        var: var.clone(),
                        at: sp,
                    }
                    .into(),
                );
            }
            _ => ops.unchecked = true,
        }
    }
    ops
}

/// A resolver without an operator (or trusted keys) has no trust root.
fn operator_missing(m: &Mode, ops: &Operators, out: &mut Vec<Diagnostic>) {
    let resolver = m.conf.get("resolver").is_some();
    if ops.named || !(resolver || m.preload().is_some()) || m.conf.get("trusted_keys").is_some() {
        return;
    }
    let at = if resolver {
        m.span(&["resolver"])
    } else {
        m.span(&["resolver_preload"])
    };
    out.push(Operator::Missing { at }.into());
}

/// The resolver: MEMORY or URL(...) as a string; a map of type full or cache, with a dir.
fn resolver(m: &Mode, out: &mut Vec<Diagnostic>) {
    match m.conf.get("resolver") {
        Some(Conf::Str(r)) => {
            let up = r.to_ascii_uppercase();
            if up != "MEMORY" && up != "MEM" && !up.starts_with("URL(") {
                out.push(
                    Operator::ResolverWord {
                        word: r.clone(),
                        at: m.span(&["resolver"]),
                    }
                    .into(),
                );
            }
        }
        Some(Conf::Map(map)) => {
            let ty = text(map.get("type")).map(str::to_ascii_lowercase);
            if !matches!(ty.as_deref(), Some("full" | "cache")) {
                out.push(
                    Operator::ResolverType {
                        ty,
                        at: m.span(&["resolver", "type"]),
                    }
                    .into(),
                );
            }
            if text(map.get("dir")).is_none_or(str::is_empty) {
                out.push(
                    Operator::ResolverDir {
                        at: m.span(&["resolver"]),
                    }
                    .into(),
                );
            }
        }
        _ => {}
    }
}

/// The account JWTs of resolver_preload, decoded; those from the environment unchecked.
fn preloaded_accounts(m: &Mode, out: &mut Vec<Diagnostic>) -> Vec<AccountRef> {
    let mut accounts = vec![];
    for item in m.preload().map(|p| p.items.as_slice()).unwrap_or_default() {
        let Item::Kv(key, v) = item else { continue };
        let sp = m.span(&["resolver_preload", key]);
        match v {
            Conf::Str(t) if t.is_empty() => {}
            Conf::Str(t) => {
                let what = format!("resolver_preload `{key}`");
                if let Some(j) = decoded(t, sp, Kind::Account, &what, out) {
                    accounts.push(AccountRef {
                        label: format!("preloaded account `{key}`"),
                        key: Some(key.clone()),
                        span: sp,
                        jwt: j,
                    });
                }
            }
            Conf::Var(var) => out.push(
                JwtFinding::PreloadFromEnv {
                    key: key.clone(),
                    var: var.clone(),
                    at: sp,
                }
                .into(),
            ),
            _ => {}
        }
    }
    accounts
}

/// The accounts pushed to the resolver after start (`natscc.pushedAccounts`: name -> JWT or
/// file), decoded.
fn pushed_accounts(root: &Node, sources: &Sources, out: &mut Vec<Diagnostic>) -> Vec<AccountRef> {
    let mut accounts = vec![];
    for e in root
        .path(&["natscc", "pushedAccounts"])
        .map(Node::entries)
        .unwrap_or_default()
    {
        let Some(t) = e.value.as_str() else { continue };
        let content = match load_ref(t, e.value.span, sources) {
            Loaded::Inline(c) | Loaded::File(c) => c,
            Loaded::Missing(problem) | Loaded::Pod(problem) => {
                out.push(
                    JwtFinding::FileUnread {
                        problem,
                        inline_ok: false,
                        at: e.value.span,
                    }
                    .into(),
                );
                continue;
            }
        };
        let label = format!("pushed account `{}`", e.key);
        if let Some(j) = decoded(&content, e.value.span, Kind::Account, &label, out) {
            accounts.push(AccountRef {
                label,
                key: None,
                span: e.value.span,
                jwt: j,
            });
        }
    }
    accounts
}

/// A preloaded JWT must be keyed by its own subject.
fn preload_key(a: &AccountRef, out: &mut Vec<Diagnostic>) {
    if let Some(k) = &a.key
        && *k != a.jwt.subject
    {
        out.push(
            Operator::PreloadKey {
                label: a.label.clone(),
                key: k.clone(),
                subject: a.jwt.subject.clone(),
                at: a.span,
            }
            .into(),
        );
    }
}

/// An account must be issued by the operator or one of its signing keys.
fn account_issuer(a: &AccountRef, ops: &Operators, out: &mut Vec<Diagnostic>) {
    if !ops.jwts.is_empty() && !ops.trusted.contains(&a.jwt.issuer) {
        out.push(
            Operator::AccountIssuer {
                label: a.label.clone(),
                name: a.jwt.name.clone(),
                issuer: a.jwt.issuer.clone(),
                at: a.span,
            }
            .into(),
        );
    }
}

/// The system account: an account public key whose JWT the server has at start, the one the
/// operator JWT names.
fn system_account(m: &Mode, sys: &str, ops: &Operators, out: &mut Vec<Diagnostic>) {
    let at = m.span(&["system_account"]);
    let is_account_key = sys.starts_with('A') && nkeys::KeyPair::from_public_key(sys).is_ok();
    let preloaded = m.preload().is_some_and(|p| p.get(sys).is_some());
    if !is_account_key {
        out.push(
            Operator::SystemAccountNotKey {
                sys: sys.to_string(),
                at,
            }
            .into(),
        );
    } else if !preloaded && !ops.unchecked {
        out.push(
            Operator::SystemAccountNotPreloaded {
                sys: sys.to_string(),
                at,
            }
            .into(),
        );
    }
    for op in &ops.jwts {
        if let Some(op_sys) = op.operator_system_account()
            && op_sys != sys
        {
            out.push(
                Operator::SystemAccountDiffers {
                    sys: sys.to_string(),
                    operator: op_sys.to_string(),
                    at,
                }
                .into(),
            );
        }
    }
}

/// JetStream: accounts without JetStream limits cannot use it on a JetStream server.
fn account_jetstream(
    m: &Mode,
    accounts: &[AccountRef],
    sys: Option<&str>,
    out: &mut Vec<Diagnostic>,
) {
    if m.conf.get("jetstream").is_none() {
        return;
    }
    for a in accounts {
        if Some(a.jwt.subject.as_str()) != sys && !a.jwt.jetstream_enabled() {
            out.push(
                Operator::AccountJetStream {
                    label: a.label.clone(),
                    name: a.jwt.name.clone(),
                    at: a.span,
                }
                .into(),
            );
        }
    }
}

/// What the rules above find, by family of codes; each `From` words its family's messages.
/// Reading the JWTs (natscc::operator::jwt_*, natscc::values::file).
enum JwtFinding {
    PodPath {
        path: String,
        at: Span,
    },
    FileUnread {
        problem: String,
        /// Whether the JWT may be given inline or by reference instead (not for pushed
        /// accounts, which are files or JWTs).
        inline_ok: bool,
        at: Span,
    },
    JwtDecode {
        what: String,
        error: String,
        at: Span,
    },
    JwtSignature {
        what: String,
        issuer: String,
        at: Span,
    },
    JwtKind {
        what: String,
        is: Kind,
        want: Kind,
        at: Span,
    },
    OperatorFromEnv {
        var: String,
        at: Span,
    },
    PreloadFromEnv {
        key: String,
        var: String,
        at: Span,
    },
}

impl From<JwtFinding> for Diagnostic {
    fn from(f: JwtFinding) -> Diagnostic {
        match f {
            JwtFinding::PodPath { path, at } => Diagnostic::new(
                Code::JwtUnchecked,
                format!(
                    "`{path}` is not a file here; natscc keeps it as a path the server reads in \
                     the pod, unchecked"
                ),
            )
            .at(at, "pod path")
            .help(
                "to have it checked, name a file relative to the values file (natscc then \
                 inlines the JWT)",
            ),
            JwtFinding::FileUnread {
                problem,
                inline_ok,
                at,
            } => Diagnostic::new(
                Code::FileRef,
                format!("the JWT file cannot be read: {problem}"),
            )
            .at(at, "no such file")
            .help(if inline_ok {
                "give the JWT inline, as `<< $VAR >>`, or as a path relative to the values file"
            } else {
                "give a path relative to the values file"
            }),
            JwtFinding::JwtDecode { what, error, at } => Diagnostic::new(
                Code::JwtDecode,
                format!("{what} is not a valid NATS JWT: {error}"),
            )
            .at(at, "not a JWT")
            .help(
                "paste the JWT as nsc prints it (`nsc describe ... --raw`), or name the .jwt file",
            ),
            JwtFinding::JwtSignature { what, issuer, at } => Diagnostic::new(
                Code::JwtSignature,
                format!("{what}: the signature does not verify against its issuer `{issuer}`"),
            )
            .at(at, "bad signature")
            .help("the JWT was altered or truncated; export it again from nsc"),
            JwtFinding::JwtKind { what, is, want, at } => Diagnostic::new(
                Code::JwtKind,
                format!("{what} is {} JWT, not {} JWT", article(is), article(want)),
            )
            .at(at, "wrong kind of JWT")
            .help(format!("give the {} JWT here", want.name())),
            JwtFinding::OperatorFromEnv { var, at } => Diagnostic::new(
                Code::JwtUnchecked,
                format!(
                    "`operator` comes from `${var}` at start; natscc cannot check the accounts \
                     against it"
                ),
            )
            .at(at, "environment reference")
            .help(
                "inline the operator JWT or name its file to have the account JWTs checked \
                 against it",
            ),
            JwtFinding::PreloadFromEnv { key, var, at } => Diagnostic::new(
                Code::JwtUnchecked,
                format!(
                    "resolver_preload `{key}` comes from `${var}` at start; natscc cannot check \
                     it"
                ),
            )
            .at(at, "environment reference")
            .help("inline the account JWT or name its file to have it checked"),
        }
    }
}

/// Operator mode (natscc::operator::*).
enum Operator {
    Missing {
        at: Span,
    },
    ResolverWord {
        word: String,
        at: Span,
    },
    ResolverType {
        ty: Option<String>,
        at: Span,
    },
    ResolverDir {
        at: Span,
    },
    PreloadKey {
        label: String,
        key: String,
        subject: String,
        at: Span,
    },
    AccountIssuer {
        label: String,
        name: String,
        issuer: String,
        at: Span,
    },
    SystemAccountNotKey {
        sys: String,
        at: Span,
    },
    SystemAccountNotPreloaded {
        sys: String,
        at: Span,
    },
    SystemAccountDiffers {
        sys: String,
        operator: String,
        at: Span,
    },
    AccountJetStream {
        label: String,
        name: String,
        at: Span,
    },
}

impl From<Operator> for Diagnostic {
    fn from(f: Operator) -> Diagnostic {
        match f {
            Operator::Missing { at } => Diagnostic::new(
                Code::OperatorMissing,
                "an account resolver without an `operator`: nothing says which account JWTs to \
                 trust",
            )
            .at(at, "resolver without operator")
            .help(
                "set `config.merge.operator` to the operator JWT (inline, `<< $VAR >>` or a .jwt \
                 file)",
            ),
            Operator::ResolverWord { word, at } => Diagnostic::new(
                Code::ResolverType,
                format!("resolver `{word}` is neither MEMORY nor URL(...); nats-server refuses it"),
            )
            .at(at, "unknown resolver")
            .help("use `MEMORY`, or a map `{ type: full, dir: /data/resolver }`"),
            Operator::ResolverType { ty, at } => Diagnostic::new(
                Code::ResolverType,
                match ty {
                    Some(t) => format!(
                        "resolver type `{t}` is neither full nor cache; nats-server refuses it"
                    ),
                    // The chart's files/config/resolver.yaml writes only `dir`, never a type.
                    None => "the resolver map has no `type`: `config.resolver` renders only its \
                             `dir`, and nats-server refuses a map without a type (\"should be \
                             MEM or URL(\\\"url\\\") or a map containing dir and type\")"
                        .into(),
                },
            )
            .at(at, "resolver type")
            .help("set `config.resolver.merge.type: full` (or `cache`)"),
            Operator::ResolverDir { at } => Diagnostic::new(
                Code::ResolverDir,
                "a NATS-based (full or cache) resolver needs a `dir` to store account JWTs in",
            )
            .at(at, "no dir")
            .help(
                "enable `config.resolver` (its dir defaults to /data/resolver on its own volume) \
                 or set `dir`",
            ),
            Operator::PreloadKey {
                label,
                key,
                subject,
                at,
            } => Diagnostic::new(
                Code::PreloadKey,
                format!("{label} maps key `{key}` to the JWT of account `{subject}`"),
            )
            .at(at, "key and JWT disagree")
            .help(format!("key the entry by the JWT's subject `{subject}`")),
            Operator::AccountIssuer {
                label,
                name,
                issuer,
                at,
            } => Diagnostic::new(
                Code::AccountIssuer,
                format!(
                    "{label} ({name}) is issued by `{issuer}`, which is neither the operator nor \
                     one of its signing keys"
                ),
            )
            .at(at, "untrusted issuer")
            .help(
                "sign the account with the operator configured here (nsc, with this operator \
                 selected), or add the signing key to the operator",
            ),
            Operator::SystemAccountNotKey { sys, at } => Diagnostic::new(
                Code::SystemAccount,
                format!(
                    "system_account `{sys}` is not an account public key; in operator mode it \
                     must be one"
                ),
            )
            .at(at, "not an account key")
            .help("use the SYS account's public key (nsc describe account SYS), starting with A"),
            Operator::SystemAccountNotPreloaded { sys, at } => Diagnostic::new(
                Code::SystemAccount,
                format!(
                    "system_account `{sys}` has no JWT in resolver_preload; the server cannot \
                     load it at start"
                ),
            )
            .at(at, "not preloaded")
            .help(
                "preload the system account's JWT: `config.merge.resolver_preload: { <key>: \
                 <SYS JWT> }`",
            ),
            Operator::SystemAccountDiffers { sys, operator, at } => Diagnostic::new(
                Code::SystemAccount,
                format!(
                    "system_account `{sys}` differs from the operator JWT's system account \
                     `{operator}`"
                ),
            )
            .at(at, "disagrees with the operator")
            .help("use the same system account in both places"),
            Operator::AccountJetStream { label, name, at } => Diagnostic::new(
                Code::AccountJetStream,
                format!(
                    "{label} ({name}) has no JetStream limits: its clients get \"JetStream not \
                     enabled for account\", and MQTT clients of it cannot connect"
                ),
            )
            .at(at, "no JetStream limits")
            .help(
                "give the account JetStream limits (nsc edit account --js-mem-storage -1 \
                 --js-disk-storage -1) and push it again",
            ),
        }
    }
}
