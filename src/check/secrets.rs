//! Secrets in the values: private NKey seeds and clear-text passwords and tokens, wherever they
//! sit (natscc copies the values into configs and ConfigMaps: extra accounts' users, merge
//! blocks, route credentials, the auth callout's free-form config). Also the one definition of
//! "looks like a seed" and of "a password's place in a text" the renderers redact and mask
//! with, so no diagnostic repeats a secret (`diag::render`).

use crate::diag::{Code, Diagnostic, Span};
use crate::load::{Entry, Node, V};
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

/// Whether `text` holds a private NKey seed (checksum verified). Most values are far shorter
/// than a seed: they are answered without a scan.
pub fn contains_seed(text: &str) -> bool {
    text.len() >= SEED_LEN && !seed_ranges(text, true).is_empty()
}

/// Byte ranges of the passwords of URLs' user info (`nats://user:password@host`) in `text`.
fn url_password_ranges(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = vec![];
    for (i, _) in text.match_indices("://") {
        let from = i + 3;
        let end = bytes[from..]
            .iter()
            .position(|&b| {
                b.is_ascii_whitespace()
                    || matches!(b, b'/' | b'"' | b'\'' | b',' | b'>' | b'<' | b']' | b'}')
            })
            .map_or(bytes.len(), |p| from + p);
        if let Some(at) = bytes[from..end].iter().rposition(|&b| b == b'@')
            && let Some(colon) = bytes[from..from + at].iter().position(|&b| b == b':')
            && colon + 1 < at
        {
            out.push((from + colon + 1, from + at));
        }
    }
    out
}

/// `text` with every seed replaced by `SU…(seed redacted)` (the key type kept), and every
/// URL's password by `***`: for messages, help, labels, and what graph and explain print
/// (a drawing names subjects and ids built from the values).
pub fn redact(text: &str) -> Cow<'_, str> {
    let seeds = redact_seeds(text);
    let urls = url_password_ranges(&seeds);
    if urls.is_empty() {
        return seeds;
    }
    let mut out = String::with_capacity(seeds.len());
    let mut at = 0;
    for (s, e) in urls {
        out.push_str(&seeds[at..s]);
        out.push_str("***");
        at = e;
    }
    out.push_str(&seeds[at..]);
    Cow::Owned(out)
}

fn redact_seeds(text: &str) -> Cow<'_, str> {
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

/// Keys whose value is a secret wherever they sit: a user's or an `authorization` block's
/// password (nats-server reads `password` and `pass`), a token, and the chart's
/// `routeURLs.password` and `registry.password`. Compared ignoring case, as nats-server does.
const SECRET_KEYS: &[&str] = &["password", "pass", "passwd", "token", "auth_token"];

fn key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Where the forward scan stands: the current line's start and indentation, and the depth of
/// flow collections opened on it, kept as the scan moves so no line is read twice (a 10 MB
/// one-line flow list costs one pass).
#[derive(Default)]
struct Line {
    at: usize,
    start: usize,
    indent: usize,
    indenting: bool,
    depth: i64,
}

impl Line {
    fn advance(&mut self, bytes: &[u8], to: usize) {
        while self.at < to.min(bytes.len()) {
            match bytes[self.at] {
                b'\n' => {
                    self.start = self.at + 1;
                    self.indent = 0;
                    self.indenting = true;
                    self.depth = 0;
                }
                b' ' | b'\t' if self.indenting => self.indent += 1,
                b => {
                    self.indenting = false;
                    match b {
                        b'{' | b'[' => self.depth += 1,
                        b'}' | b']' => self.depth -= 1,
                        _ => {}
                    }
                }
            }
            self.at += 1;
        }
    }
}

/// Where the value that starts at `v` (after `key:`) begins and ends, quotes left out, and
/// whether it is a secret to mask
/// (an environment variable reference, `$NAME` or `<< $NAME >>`, names no secret).
fn secret_value(bytes: &[u8], line: &Line, v: usize) -> (usize, usize, bool) {
    let n = bytes.len();
    let eol = |from: usize| {
        bytes[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(n, |i| from + i)
    };
    match bytes.get(v) {
        None => (v, v, false),
        Some(b'$') => (v, v, false),
        Some(b'<') if bytes[v..].starts_with(b"<<") => (v, v, false),
        Some(b'"') => {
            let mut i = v + 1;
            while i < n && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            (v + 1, i.min(n), true)
        }
        Some(b'\'') => {
            let mut i = v + 1;
            while i < n {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            (v + 1, i.min(n), true)
        }
        Some(b'{' | b'[') => {
            let mut depth = 0i64;
            let mut i = v;
            while i < n {
                match bytes[i] {
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return (v, i + 1, true);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            (v, n, true)
        }
        Some(b'\n' | b'\r' | b'#' | b'|' | b'>') => {
            // A block scalar, or a plain scalar on the following lines: every following line
            // indented deeper than the key's (or blank) belongs to the value.
            let indent = line.indent;
            let mut end = eol(v);
            while end < n {
                let next = end + 1;
                let line_end = eol(next);
                let line = &bytes[next..line_end];
                let blank = line.iter().all(|b| b.is_ascii_whitespace());
                let lead = line
                    .iter()
                    .take_while(|&&b| b == b' ' || b == b'\t')
                    .count();
                // A block list may sit at its key's own indentation (`password:` then `- x`).
                let item = lead == indent && line[lead..].starts_with(b"-");
                if !(blank || lead > indent || item) {
                    break;
                }
                end = line_end;
            }
            (v, end, true)
        }
        Some(_) => {
            let flow = line.depth > 0;
            let mut i = v;
            while i < n && bytes[i] != b'\n' {
                if flow && matches!(bytes[i], b',' | b'}' | b']') {
                    break;
                }
                if bytes[i] == b'#' && bytes[i - 1].is_ascii_whitespace() {
                    break;
                }
                i += 1;
            }
            // Spaces before a comment or the end of the line are not the value.
            while i > v && matches!(bytes[i - 1], b' ' | b'\t' | b'\r') {
                i -= 1;
            }
            (v, i, true)
        }
    }
}

/// Byte ranges of clear passwords and tokens in `text`: the values of [`SECRET_KEYS`] (in
/// YAML, JSON and the NATS config format alike) and the password of a URL's user info
/// (`nats://user:pass@host`). One forward pass: a masked value is skipped whole.
fn password_ranges(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut out = vec![];
    let mut line = Line {
        indenting: true,
        ..Line::default()
    };
    let mut i = 0;
    while i < n {
        line.advance(bytes, i);
        // A URL's user info: `scheme://user:password@host`.
        if bytes[i..].starts_with(b"://") {
            let from = i + 3;
            let end = bytes[from..]
                .iter()
                .position(|&b| {
                    b.is_ascii_whitespace() || matches!(b, b'/' | b'"' | b'\'' | b',' | b'>' | b'<')
                })
                .map_or(n, |p| from + p);
            if let Some(at) = bytes[from..end].iter().rposition(|&b| b == b'@') {
                let userinfo = &bytes[from..from + at];
                if let Some(colon) = userinfo.iter().position(|&b| b == b':')
                    && colon + 1 < at
                {
                    out.push((from + colon + 1, from + at));
                }
            }
            i = end.max(i + 3);
            continue;
        }
        if !key_char(bytes[i]) || (i > 0 && key_char(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let word_end = bytes[i..]
            .iter()
            .position(|&b| !key_char(b))
            .map_or(n, |p| i + p);
        let word = &text[i..word_end];
        if !SECRET_KEYS.iter().any(|k| word.eq_ignore_ascii_case(k)) {
            i = word_end;
            continue;
        }
        // `key`, an optional closing quote, spaces, then `:` or `=`.
        let mut j = word_end;
        if matches!(bytes.get(j), Some(b'"' | b'\'')) {
            j += 1;
        }
        while matches!(bytes.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        if !matches!(bytes.get(j), Some(b':' | b'=')) {
            i = word_end;
            continue;
        }
        j += 1;
        while matches!(bytes.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        line.advance(bytes, i);
        let (start, end, secret) = secret_value(bytes, &line, j);
        if secret && end > start {
            out.push((start, end));
        }
        i = end.max(word_end);
    }
    out
}

/// The clear passwords and tokens written in `text` (as [`mask_secrets`] finds them), at least
/// four characters long: a message that quotes one (a JWT "file" named by a value planted
/// under `password:`) has it redacted, whole words only, so short ones mask nothing else.
pub fn password_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = password_ranges(text)
        .into_iter()
        .flat_map(|(s, e)| {
            text[s..e]
                .split(['\n', '\r', ' ', ',', '[', ']', '{', '}', '"', '\''])
                .filter(|w| w.chars().count() >= 4)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    words.sort();
    words.dedup();
    words
}

/// `text` with every whole-word occurrence of `words` replaced by `***`.
pub fn redact_words<'a>(text: &'a str, words: &[String]) -> Cow<'a, str> {
    let mut out: Cow<'a, str> = Cow::Borrowed(text);
    for w in words {
        if !out.contains(w.as_str()) {
            continue;
        }
        let cur = out.into_owned();
        let mut next = String::with_capacity(cur.len());
        let mut at = 0;
        for (i, _) in cur.match_indices(w.as_str()) {
            if i < at {
                continue;
            }
            let before = cur[..i].chars().next_back();
            let after = cur[i + w.len()..].chars().next();
            let word_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if word_char(before) || word_char(after) {
                continue;
            }
            next.push_str(&cur[at..i]);
            next.push_str("***");
            at = i + w.len();
        }
        next.push_str(&cur[at..]);
        out = Cow::Owned(next);
    }
    out
}

/// `text` with every seed's characters after its first two, and every clear password's or
/// token's characters, replaced by `*`: same length in bytes, so the offsets of a drawn source
/// stay right. For the source lines the human format draws.
pub fn mask_secrets(text: &str) -> Cow<'_, str> {
    let seeds = mask(text);
    let ranges = password_ranges(&seeds);
    if ranges.is_empty() {
        return seeds;
    }
    let mut bytes = seeds.as_bytes().to_vec();
    for (s, e) in ranges {
        // Line breaks stay, so a drawn source keeps its line numbers.
        for b in &mut bytes[s..e] {
            if *b != b'\n' && *b != b'\r' {
                *b = b'*';
            }
        }
    }
    // Whole characters are replaced: every range starts and ends at an ASCII byte or the end.
    Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
}

fn seed_finding(span: Span, path: &str, in_key: bool) -> Diagnostic {
    let what = if in_key { "the key name" } else { "the value" };
    Diagnostic::new(
        Code::SecretSeed,
        format!(
            "{what} at `{}` is a private NKey seed: natscc copies it into the configs and \
             ConfigMaps it writes, in clear",
            redact(path)
        ),
    )
    .at(span, "a private key in the values")
    .help(
        "write the public key instead (`natscc keys` prints it; a user's starts with U, an \
         account's with A) and keep the seed in a Kubernetes Secret; treat this seed as leaked and \
         rotate it",
    )
}

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
            for e in entries {
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

/// Every seed the user wrote in the values (strings and key names): natscc copies the values
/// into accounts.conf, nats.conf, the ConfigMaps and the listings, so a seed anywhere reaches
/// an output. Used by the event bus and by plain-chart mode. (The built-in chart defaults
/// hold no seed, so the whole coalesced tree is walked.)
pub fn seeds(root: &Node) -> Vec<Diagnostic> {
    let mut out = vec![];
    visit(root, &mut vec![], &mut |met, path| {
        match met {
            Met::Entry(e) if contains_seed(&e.key) => {
                out.push(seed_finding(e.key_span, &dotted(path), true))
            }
            Met::Scalar(n) => {
                if let V::Str(s) = &n.v
                    && contains_seed(s)
                    && !override_value(path)
                {
                    out.push(seed_finding(n.span, &dotted(path), false));
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

fn password_finding(span: Span, path: &str, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::ClearPassword,
        format!(
            "{what} at `{}` is in clear: natscc copies the values into the configs and ConfigMaps \
             it writes (accounts.conf, nats.conf, the auth callout's config), where anyone who can \
             read a ConfigMap reads it",
            redact(path)
        ),
    )
    .at(span, "password in clear")
    .help(
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
        },
    )
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
    let mut out = vec![];
    visit(root, &mut vec![], &mut |met, path| match met {
        Met::Entry(e) => {
            let secret_key = PASSWORD_KEYS.iter().any(|k| e.key.eq_ignore_ascii_case(k));
            let in_clear = secret_key && clear(&e.value);
            if in_clear {
                let what = if e.key.to_ascii_lowercase().contains("token") {
                    "the token"
                } else {
                    "the password"
                };
                out.push(password_finding(e.key_span, &dotted(path), what));
            }
            // Once reported, the value is not searched again (a URL in it would say it twice).
            !in_clear
        }
        Met::Scalar(n) => {
            if let V::Str(s) = &n.v
                && url_password(s).is_some()
            {
                out.push(password_finding(
                    n.span,
                    &dotted(path),
                    "the password of a URL",
                ));
            }
            true
        }
    });
    out
}
