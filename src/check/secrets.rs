//! Secrets in the values: private NKey seeds and clear-text passwords and tokens, wherever they
//! sit (natscc copies the values into configs and ConfigMaps: extra accounts' users, merge
//! blocks, route credentials, the auth callout's free-form config). What looks like a seed and
//! where a password sits in a text is `diag::redact`, the one definition the renderers redact
//! and mask with.

use crate::diag::redact::{contains_seed, redact};
use crate::diag::{Code, Diagnostic, Span};
use crate::load::{Entry, Node, V};

/// The overrides whose literal `value` the override rule already refuses (values.rs).
fn override_value(path: &[Seg]) -> bool {
    matches!(
        path,
        [
            Seg::Key("global"),
            Seg::Key("eventBus"),
            Seg::Key("nkeySecretRefOverrides"),
            _,
            _,
            Seg::Key("value")
        ]
    )
}

/// A step of a place in the values; the walks keep these borrowed and spell the place out
/// only for a finding, so walking the whole tree allocates nothing.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn dotted(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() && !k.starts_with('[') {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// What a walk over the values meets: a map entry (before its value) or a scalar.
enum Met<'a> {
    Entry(&'a Entry),
    Scalar(&'a Node),
}

/// The one walk of the secret rules: every entry and scalar under `node`, with its place;
/// `f` answers whether to go on into an entry's value.
fn visit<'a>(
    node: &'a Node,
    path: &mut Vec<Seg<'a>>,
    f: &mut impl FnMut(Met<'a>, &[Seg<'a>]) -> bool,
) {
    match &node.v {
        V::Map(entries) => {
            for e in entries.iter() {
                path.push(Seg::Key(&e.key));
                if f(Met::Entry(e), path) {
                    visit(&e.value, path, f);
                }
                path.pop();
            }
        }
        V::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                visit(item, path, f);
                path.pop();
            }
        }
        _ => {
            f(Met::Scalar(node), path);
        }
    }
}

/// A walk's findings under one top-level key, by the identity of its value and the key.
type Sections = super::Shared<(String, Span), Diagnostic>;

/// `find` over the tree one top-level entry at a time (its findings only ever depend on the
/// entry): a section the tree shares with the defaults is walked once per process.
fn by_section(root: &Node, memo: &Sections, find: fn(&Node) -> Vec<Diagnostic>) -> Vec<Diagnostic> {
    let V::Map(entries) = &root.v else {
        return find(root);
    };
    let mut out = vec![];
    for e in entries.iter() {
        let alone = |out: &mut Vec<Diagnostic>| {
            out.extend(find(&Node::new(V::Map(vec![e.clone()].into()), root.span)));
        };
        let context = || (e.key.clone(), e.key_span);
        super::once_shared(memo, &e.value, context, alone, &mut out);
    }
    out
}

/// Every seed the user wrote in the values (strings and key names): natscc copies the values
/// into accounts.conf, nats.conf, the ConfigMaps and the listings, so a seed anywhere reaches
/// an output. Used by the event bus and by plain-chart mode. (The built-in chart defaults
/// hold no seed, so the whole coalesced tree is walked.)
pub fn seeds(root: &Node) -> Vec<Diagnostic> {
    static SECTIONS: Sections = Sections::new(1024);
    by_section(root, &SECTIONS, seeds_in)
}

fn seeds_in(root: &Node) -> Vec<Diagnostic> {
    let mut out = vec![];
    visit(root, &mut vec![], &mut |met, path| {
        match met {
            Met::Entry(e) if contains_seed(&e.key) => out.push(
                Finding::Seed {
                    path: dotted(path),
                    in_key: true,
                    at: e.key_span,
                }
                .into(),
            ),
            Met::Scalar(n) => {
                if let V::Str(s) = &n.v
                    && contains_seed(s)
                    && !override_value(path)
                {
                    out.push(
                        Finding::Seed {
                            path: dotted(path),
                            in_key: false,
                            at: n.span,
                        }
                        .into(),
                    );
                }
            }
            Met::Entry(_) => {}
        }
        true
    });
    out
}

/// A bcrypt hash (`$2a$`, `$2b$`, `$2y$`, 60 characters), which nats-server compares against.
fn is_bcrypt(s: &str) -> bool {
    s.len() == 60 && (s.starts_with("$2a$") || s.starts_with("$2b$") || s.starts_with("$2y$"))
}

/// A value that names a secret kept elsewhere: a variable (`$NAME`, `${NAME}`, `<< $NAME >>`),
/// which nats-server reads from the environment, or a bcrypt hash.
fn names_no_secret(s: &str) -> bool {
    let t = s.trim();
    let t = t
        .strip_prefix("<<")
        .and_then(|t| t.strip_suffix(">>"))
        .map_or(t, str::trim);
    let var = t
        .strip_prefix("${")
        .and_then(|t| t.strip_suffix('}'))
        .or_else(|| t.strip_prefix('$'));
    t.is_empty()
        || is_bcrypt(t)
        || var.is_some_and(|v| {
            !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The password of a URL's user info (`nats://user:password@host`), when it is one in clear.
fn url_password(s: &str) -> Option<&str> {
    // No `@`, no user info: most values are answered by one memchr.
    if !s.contains('@') {
        return None;
    }
    let rest = &s[s.find("://")? + 3..];
    let authority = rest.split(['/', '?', '#', ' ', ',']).next()?;
    let userinfo = &authority[..authority.rfind('@')?];
    let password = &userinfo[userinfo.find(':')? + 1..];
    (!names_no_secret(password)).then_some(password)
}

/// Whether a password key's value holds a secret in clear: a string that names none, a
/// number, or such a value anywhere inside a list or map (`password: [hunter2]`). A seed is
/// reported as a secret of its own (`seeds`), once.
fn clear(n: &Node) -> bool {
    match &n.v {
        V::Str(s) => !names_no_secret(s) && !contains_seed(s),
        V::Int(_) | V::Float(_) | V::Bool(_) => true,
        V::Seq(items) => items.iter().any(clear),
        // A Kubernetes reference to a Secret (an env variable named `TOKEN` read with
        // `valueFrom.secretKeyRef`, as the NATS chart's own tests do) holds no secret.
        V::Map(es)
            if es
                .iter()
                .any(|e| e.key == "valueFrom" || e.key == "secretKeyRef") =>
        {
            false
        }
        V::Map(es) => es.iter().any(|e| clear(&e.value)),
        V::Null => false,
    }
}

/// Keys whose value nats-server (and the NATS chart, `config.cluster.routeURLs.password`) reads
/// as a password or a token: a user's `password`/`pass`, an `authorization` block's `token`.
const PASSWORD_KEYS: &[&str] = &["password", "pass", "token", "auth_token"];

/// Every clear-text password or token the user wrote in the values: under a password key (an
/// extra account's user, an `authorization` block in a merge, the chart's route credentials,
/// a free-form block the chart copies such as `auth-callout.serviceConfig`) or in a URL
/// (`nats://user:password@host`). natscc copies the values into configs and ConfigMaps, so a
/// password anywhere reaches an output, as a seed does. Variables and bcrypt hashes are no
/// secret in clear. (The built-in defaults hold no password, so the whole coalesced tree is
/// walked.)
pub fn passwords(root: &Node) -> Vec<Diagnostic> {
    static SECTIONS: Sections = Sections::new(1024);
    by_section(root, &SECTIONS, passwords_in)
}

fn passwords_in(root: &Node) -> Vec<Diagnostic> {
    let mut out = vec![];
    visit(root, &mut vec![], &mut |met, path| match met {
        Met::Entry(e) => {
            let secret_key = PASSWORD_KEYS.iter().any(|k| e.key.eq_ignore_ascii_case(k));
            let in_clear = secret_key && clear(&e.value);
            if in_clear {
                let what = if e.key.to_ascii_lowercase().contains("token") {
                    Clear::Token
                } else {
                    Clear::Password
                };
                out.push(
                    Finding::Clear {
                        path: dotted(path),
                        what,
                        at: e.key_span,
                    }
                    .into(),
                );
            }
            // Once reported, the value is not searched again (a URL in it would say it twice).
            !in_clear
        }
        Met::Scalar(n) => {
            if let V::Str(s) = &n.v
                && url_password(s).is_some()
            {
                out.push(
                    Finding::Clear {
                        path: dotted(path),
                        what: Clear::InUrl,
                        at: n.span,
                    }
                    .into(),
                );
            }
            true
        }
    });
    out
}

/// What the walks above find; `From<Finding> for Diagnostic` words it (the path redacted).
enum Finding {
    /// A seed in a value, or (`in_key`) in a key name.
    Seed {
        path: String,
        in_key: bool,
        at: Span,
    },
    Clear {
        path: String,
        what: Clear,
        at: Span,
    },
}

/// Which secret stands in clear.
enum Clear {
    Token,
    Password,
    /// The password of a URL.
    InUrl,
}

impl From<Finding> for Diagnostic {
    fn from(f: Finding) -> Diagnostic {
        match f {
            Finding::Seed { path, in_key, at } => {
                let what = if in_key { "the key name" } else { "the value" };
                Diagnostic::new(
                    Code::SecretSeed,
                    format!(
                        "{what} at `{}` is a private NKey seed: natscc copies it into the configs \
                         and ConfigMaps it writes, in clear",
                        redact(&path)
                    ),
                )
                .at(at, "a private key in the values")
                .help(
                    "write the public key instead (`natscc keys` prints it; a user's starts with \
                     U, an account's with A) and keep the seed in a Kubernetes Secret; treat this \
                     seed as leaked and rotate it",
                )
            }
            Finding::Clear { path, what, at } => {
                let what = match what {
                    Clear::Token => "the token",
                    Clear::Password => "the password",
                    Clear::InUrl => "the password of a URL",
                };
                Diagnostic::new(
                    Code::ClearPassword,
                    format!(
                        "{what} at `{}` is in clear: natscc copies the values into the configs and \
                         ConfigMaps it writes (accounts.conf, nats.conf, the auth callout's \
                         config), where anyone who can read a ConfigMap reads it",
                        redact(&path)
                    ),
                )
                .at(at, "password in clear")
                .help(clear_help(&path))
            }
        }
    }
}

/// What to write instead of a password in clear.
fn clear_help(path: &str) -> &'static str {
    if path.ends_with("routeURLs.password") || path.ends_with("routeURLs.user") {
        // The chart quotes the password into `cluster.authorization` and URL-encodes it into
        // every route URL: neither a bcrypt hash nor a variable can stand in for it there.
        "remove `routeURLs.user` and `routeURLs.password`: the chart writes the password into \
         every route URL, so it cannot come from a Secret or a hash; routes between the \
         replicas of one release need no credentials (`config.cluster.tls` encrypts and \
         authenticates them, a NetworkPolicy on port 6222 keeps others out); treat this \
         password as leaked and change it"
    } else {
        "give a user an NKey instead (`nkey: U...`, the public key; the seed stays with the \
         client), write a bcrypt hash (`nats server passwd`), or name an environment variable \
         (`<< $PASSWORD >>`) set from a Secret; treat this password as leaked and change it"
    }
}
