//! Secrets in the values: private NKey seeds wherever natscc copies values into its outputs,
//! and clear-text passwords of extra-account users (the chart copies them into the accounts
//! ConfigMap). Also the one definition of "looks like a seed" the renderers redact with, so
//! no diagnostic repeats a secret (`diag::render`).

use crate::diag::{Code, Diagnostic, Span};
use crate::load::{Node, V};
use crate::model::Model;
use std::borrow::Cow;

/// An encoded seed: `S`, the key type, then base32 for the rest (58 characters in all).
const SEED_LEN: usize = 58;

fn base32(b: u8) -> bool {
    b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)
}

/// Whether `s` is a private NKey seed (any key type, curve keys too), checksum included.
pub fn is_seed(s: &str) -> bool {
    s.len() == SEED_LEN
        && s.starts_with('S')
        && (nkeys::KeyPair::from_seed(s).is_ok() || nkeys::XKey::from_seed(s).is_ok())
}

/// Byte ranges of seeds in `text`. A run of exactly 58 base32 characters starting with `S`
/// counts whatever its checksum (a mistyped seed is still a secret); inside a longer run only
/// a seed whose checksum holds does. With `validated`, only checksummed seeds count.
fn seed_ranges(text: &str, validated: bool) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        if !base32(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && base32(bytes[i]) {
            i += 1;
        }
        if i - start < SEED_LEN {
            continue;
        }
        let run = &text[start..i];
        if run.len() == SEED_LEN && run.starts_with('S') && (!validated || is_seed(run)) {
            out.push((start, i));
            continue;
        }
        let mut j = 0;
        while j + SEED_LEN <= run.len() {
            if run.as_bytes()[j] == b'S' && is_seed(&run[j..j + SEED_LEN]) {
                out.push((start + j, start + j + SEED_LEN));
                j += SEED_LEN;
            } else {
                j += 1;
            }
        }
    }
    out
}

/// Whether `text` holds a private NKey seed (checksum verified).
pub fn contains_seed(text: &str) -> bool {
    !seed_ranges(text, true).is_empty()
}

/// `text` with every seed replaced by `SU…(seed redacted)` (the key type kept): for messages,
/// help and labels.
pub fn redact(text: &str) -> Cow<'_, str> {
    let ranges = seed_ranges(text, false);
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in ranges {
        out.push_str(&text[at..s]);
        out.push_str(&text[s..s + 2]);
        out.push_str("…(seed redacted)");
        at = e;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// `text` with the characters of every seed after its first two replaced by `*`: same length
/// in bytes, so the offsets of a drawn source stay right.
pub fn mask(text: &str) -> Cow<'_, str> {
    let ranges = seed_ranges(text, false);
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for (s, e) in ranges {
        bytes[s + 2..e].fill(b'*');
    }
    // Only ASCII letters and digits were replaced by ASCII.
    Cow::Owned(String::from_utf8(bytes).expect("masking keeps UTF-8"))
}

fn seed_finding(span: Span, path: &str, in_key: bool) -> Diagnostic {
    let what = if in_key { "the key name" } else { "the value" };
    Diagnostic::new(
        Code::SecretSeed,
        format!("{what} at `{}` is a private NKey seed: natscc copies it into the configs and ConfigMaps it writes, in clear", redact(path)),
    )
    .at(span, "a private key in the values")
    .help(
        "write the public key instead (`natscc keys` prints it; a user's starts with U, an account's with A) and keep the seed \
         in a Kubernetes Secret; treat this seed as leaked and rotate it",
    )
}

/// The overrides whose literal `value` the override rule already refuses (values.rs).
fn override_value(path: &[&str]) -> bool {
    matches!(
        path,
        [
            "global",
            "eventBus",
            "nkeySecretRefOverrides",
            _,
            _,
            "value"
        ]
    )
}

fn walk(node: &Node, path: &mut Vec<String>, out: &mut Vec<Diagnostic>) {
    let dotted = |p: &[String]| {
        p.iter().fold(String::new(), |acc, k| {
            if k.starts_with('[') || acc.is_empty() {
                acc + k
            } else {
                acc + "." + k
            }
        })
    };
    match &node.v {
        V::Str(s) if contains_seed(s) => {
            let parts: Vec<&str> = path.iter().map(String::as_str).collect();
            if !override_value(&parts) {
                out.push(seed_finding(node.span, &dotted(path), false));
            }
        }
        V::Map(entries) => {
            for e in entries {
                path.push(e.key.clone());
                if contains_seed(&e.key) {
                    out.push(seed_finding(e.key_span, &dotted(path), true));
                }
                walk(&e.value, path, out);
                path.pop();
            }
        }
        V::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(format!("[{i}]"));
                walk(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Every seed the user wrote in the values (strings and key names): natscc copies the values
/// into accounts.conf, nats.conf, the ConfigMaps and the listings, so a seed anywhere reaches
/// an output. Used by the event bus and by plain-chart mode. (The built-in chart defaults
/// hold no seed, so the whole coalesced tree is walked.)
pub fn seeds(root: &Node) -> Vec<Diagnostic> {
    let mut out = vec![];
    walk(root, &mut vec![], &mut out);
    out
}

/// A bcrypt hash (`$2a$`, `$2b$`, `$2y$`, 60 characters), which nats-server compares against.
fn is_bcrypt(s: &str) -> bool {
    s.len() == 60 && (s.starts_with("$2a$") || s.starts_with("$2b$") || s.starts_with("$2y$"))
}

/// Extra-account users with a clear-text password: the chart writes it (quoted, so never an
/// env variable) into accounts.conf and the nats-accounts-config ConfigMap.
pub fn passwords(m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    for a in &m.extra_accounts {
        let Some(users) = a.fields.iter().find(|f| f.key == "users") else {
            continue;
        };
        for (i, u) in users.value.items().iter().enumerate() {
            let Some(p) = u.entry("password") else {
                continue;
            };
            let clear = match &p.value.v {
                V::Str(s) => !is_bcrypt(s) && !contains_seed(s),
                V::Null => false,
                _ => true,
            };
            if clear {
                let who = u
                    .get("user")
                    .and_then(Node::scalar_text)
                    .map_or(format!("user {i}"), |n| format!("the user `{n}`"));
                out.push(
                    Diagnostic::new(
                        Code::ClearPassword,
                        format!(
                            "{who} of the extra account `{}` has a clear-text password: the chart copies it into accounts.conf and the nats-accounts-config ConfigMap",
                            a.name.value
                        ),
                    )
                    .at(p.key_span, "password in clear")
                    .help(
                        "give the user an NKey instead (`nkey: U...`, the public key; the seed stays with the client), or write a bcrypt \
                         hash (`nats server passwd`); treat this password as leaked and change it",
                    ),
                );
            }
        }
    }
    out
}
