//! The identities of `global.eventBus.auth.permissions` as the auth callout reads them.
//!
//! The chart writes the section into permissions.json with `toJson`, and the callout decodes
//! each entry with Go's `encoding/json` into its entry struct, whose `permissions` is a NATS JWT
//! permissions object (`pub`/`sub` with `allow`/`deny`, `resp` with `max`/`ttl`). Go matches
//! keys without regard to case and drops every other key without a word, so an identity
//! written in the server's config syntax (`publish: [..]`) is granted everything in its
//! account. Every key here must be one the callout reads.

use crate::diag::{Code, Diagnostic, suggest};
use crate::load::yaml::go_fold_eq;
use crate::load::{Entry, Node, V};
use crate::model::{Identity, Model};

/// The fields of each method's entry struct (the chart's callout, `internal/config`).
const OAUTH2: &[&str] = &["subject", "azp", "account", "permissions", "required_scope"];
const MTLS: &[&str] = &["identity", "account", "permissions"];
const NKEY: &[&str] = &["public_key", "account", "permissions"];
const NOAUTH: &[&str] = &["account", "permissions"];
/// nats-io/jwt v2: `Permissions`, `Permission`, `ResponsePermission`.
const PERMISSIONS: &[&str] = &["pub", "sub", "resp"];
const DIRECTION: &[&str] = &["allow", "deny"];
const RESPONSES: &[&str] = &["max", "ttl"];

pub fn check(m: &Model) -> Vec<Diagnostic> {
    let mut out = vec![];
    let p = &m.permissions;
    for (kind, fields, ids) in [
        ("oauth2", OAUTH2, &p.oauth2),
        ("mtls", MTLS, &p.mtls),
        ("nkey", NKEY, &p.nkey),
    ] {
        for id in ids {
            entry(kind, fields, id, &mut out);
        }
    }
    if let Some(id) = &p.noauth {
        entry("noauth", NOAUTH, id, &mut out);
    }
    out
}

/// Where a finding is, for its message: "the mtls identity `gw`".
struct Place<'a> {
    kind: &'a str,
    name: &'a str,
}

impl Place<'_> {
    fn who(&self) -> String {
        if self.kind == "noauth" {
            "the noauth identity".into()
        } else {
            format!("the {} identity `{}`", self.kind, self.name)
        }
    }
}

fn entry(kind: &str, fields: &[&'static str], id: &Identity, out: &mut Vec<Diagnostic>) {
    let at = Place {
        kind,
        name: &id.name.value,
    };
    if !matches!(id.node.v, V::Map(_)) {
        return;
    }
    let what = "the entry";
    for (field, e) in known_keys(&id.node, fields, &at, what, out) {
        if field == "permissions" {
            permissions(e, &at, out);
        }
    }
}

fn permissions(e: &Entry, at: &Place, out: &mut Vec<Diagnostic>) {
    if !typed(e, "permissions", Shape::Map, at, out) {
        return;
    }
    for (field, d) in known_keys(&e.value, PERMISSIONS, at, "the permissions", out) {
        let (keys, what) = match field {
            "resp" => (RESPONSES, "the permissions' `resp`"),
            "pub" => (DIRECTION, "the permissions' `pub`"),
            _ => (DIRECTION, "the permissions' `sub`"),
        };
        if !typed(d, field, Shape::Map, at, out) {
            continue;
        }
        for (leaf, l) in known_keys(&d.value, keys, at, what, out) {
            let shape = if field == "resp" {
                Shape::Integer
            } else {
                Shape::Strings
            };
            typed(l, leaf, shape, at, out);
        }
    }
}

/// The entries of `node` the callout reads, with the field each one fills. A key the callout
/// drops is an error; a key it reads only by folding case is a warning.
fn known_keys<'n>(
    node: &'n Node,
    fields: &[&'static str],
    at: &Place,
    what: &str,
    out: &mut Vec<Diagnostic>,
) -> Vec<(&'static str, &'n Entry)> {
    let mut known = vec![];
    for e in node.entries() {
        match fields.iter().find(|f| go_fold_eq(&e.key, f)) {
            Some(&f) => {
                if e.key != f {
                    out.push(
                        Finding::KeyCase {
                            entry: e,
                            field: f,
                            what,
                            place: at,
                        }
                        .into(),
                    );
                }
                known.push((f, e));
            }
            None => out.push(unknown(e, fields, at, what)),
        }
    }
    known
}

/// A key the callout drops: a note for people when it stands in an entry and is no typo of a
/// field (`description:`: dropped, but it weakens nothing), else a restriction not applied.
fn unknown(e: &Entry, fields: &[&'static str], at: &Place, what: &str) -> Diagnostic {
    let entry_level = [OAUTH2, MTLS, NKEY, NOAUTH].contains(&fields);
    let near = suggest(&e.key, fields.iter().copied());
    Finding::Unknown {
        entry: e,
        fields,
        note: entry_level && near.is_none(),
        near,
        what,
        place: at,
    }
    .into()
}

/// `publish: [a, b]` or `publish: {allow: .., deny: ..}` in the form the callout reads.
fn direction_form(dir: &str, v: &Node) -> String {
    let list = |n: &Node| -> String {
        match &n.v {
            V::Seq(items) => {
                let shown: Vec<String> = items
                    .iter()
                    .map(|i| format!("\"{}\"", i.scalar_text().unwrap_or_default()))
                    .collect();
                format!("[{}]", shown.join(", "))
            }
            _ => format!("[\"{}\"]", n.scalar_text().unwrap_or_default()),
        }
    };
    match &v.v {
        V::Map(_) => {
            let parts: Vec<String> = DIRECTION
                .iter()
                .filter_map(|k| v.get_go(k).map(|n| format!("{k}: {}", list(n))))
                .collect();
            format!("`{dir}: {{{}}}`", parts.join(", "))
        }
        _ => format!("`{dir}: {{allow: {}}}`", list(v)),
    }
}

/// `allow_responses: true` or `{max: n, expires: d}` as `resp: {max, ttl}` (ttl in
/// nanoseconds: the JWT's `time.Duration`).
fn responses_form(v: &Node) -> String {
    let max = v.get("max").and_then(Node::as_i64).unwrap_or(1);
    let ttl = v
        .get("expires")
        .and_then(Node::as_str)
        .map(|s| format!("<{s} in nanoseconds>"))
        .unwrap_or_else(|| "0".into());
    format!("`resp: {{max: {max}, ttl: {ttl}}}` (ttl in nanoseconds; 0 for no limit)")
}

#[derive(Clone, Copy)]
enum Shape {
    Map,
    Strings,
    Integer,
}

/// A value under a key written in another case escapes the schema (which names only the
/// lower-case keys); Go refuses the wrong type there as anywhere, and the callout then fails
/// to load permissions.json at all. Returns whether the value has the shape.
fn typed(e: &Entry, field: &str, shape: Shape, at: &Place, out: &mut Vec<Diagnostic>) -> bool {
    let ok = match (shape, &e.value.v) {
        (_, V::Null) => true,
        (Shape::Map, V::Map(_)) => true,
        (Shape::Strings, V::Seq(items)) => items.iter().all(|i| matches!(i.v, V::Str(_))),
        (Shape::Integer, V::Int(_)) => true,
        _ => false,
    };
    if !ok && e.key != field {
        let want = match shape {
            Shape::Map => "a map",
            Shape::Strings => "a list of subjects (strings)",
            Shape::Integer => "an integer",
        };
        out.push(
            Finding::Type {
                entry: e,
                field,
                want,
                place: at,
            }
            .into(),
        );
    }
    ok
}

/// What the rules above find; `From<Finding> for Diagnostic` words them.
enum Finding<'a> {
    /// A key the callout reads as `field` only by folding case.
    KeyCase {
        entry: &'a Entry,
        field: &'a str,
        what: &'a str,
        place: &'a Place<'a>,
    },
    /// A key the callout drops (`note`: in an entry, and no typo of a field).
    Unknown {
        entry: &'a Entry,
        fields: &'a [&'static str],
        note: bool,
        near: Option<&'a str>,
        what: &'a str,
        place: &'a Place<'a>,
    },
    /// A value of a key in another case that is not `want`.
    Type {
        entry: &'a Entry,
        field: &'a str,
        want: &'a str,
        place: &'a Place<'a>,
    },
}

impl From<Finding<'_>> for Diagnostic {
    fn from(f: Finding<'_>) -> Diagnostic {
        match f {
            Finding::KeyCase {
                entry: e,
                field: f,
                what,
                place,
            } => Diagnostic::new(
                Code::PermissionKeyCase,
                format!(
                    "`{}` in {what} of {} is read by the auth callout as `{f}` only because Go \
                     matches JSON keys without regard to case",
                    e.key,
                    place.who()
                ),
            )
            .at(e.key_span, format!("read as `{f}`"))
            .help(format!(
                "write `{f}`: the lower-case key is the one the chart documents, and of two \
                 spellings of one key the callout keeps one without a word"
            )),
            Finding::Unknown {
                entry: e,
                fields,
                note,
                near,
                what,
                place,
            } => {
                let in_permissions = fields == PERMISSIONS;
                let consequence = if in_permissions {
                    ", so without `pub` the identity may publish, and without `sub` subscribe, on \
                     every subject of its account"
                } else {
                    ""
                };
                let code = if note {
                    Code::IdentityKeyIgnored
                } else {
                    Code::PermissionKey
                };
                let d = Diagnostic::new(
                    code,
                    format!(
                        "the auth callout never reads `{}` in {what} of {}: it decodes the entry \
                         as the chart's Go structs (a NATS JWT permissions object) and drops \
                         unknown keys without a word{consequence}",
                        e.key,
                        place.who()
                    ),
                )
                .at(e.key_span, "dropped by the auth callout");
                let lower = e.key.to_ascii_lowercase();
                match (in_permissions, lower.as_str()) {
                    (true, "publish" | "subscribe") => {
                        let dir = &lower[..3];
                        d.help(format!(
                            "write the server's `{}` as `{dir}`: {}",
                            e.key,
                            direction_form(dir, &e.value)
                        ))
                    }
                    (true, "allow_responses") => d.help(format!(
                        "write the server's `allow_responses` as `resp`: {}",
                        responses_form(&e.value)
                    )),
                    _ => match near {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!(
                            "the keys the callout reads here are: {}",
                            fields.join(", ")
                        )),
                    },
                }
            }
            Finding::Type {
                entry: e,
                field,
                want,
                place,
            } => Diagnostic::new(
                Code::SchemaType,
                format!(
                    "`{}` of {} must be {want}: Go refuses any other type, and the auth callout \
                     then fails to load permissions.json",
                    e.key,
                    place.who()
                ),
            )
            .at(e.value.span, format!("not {want}"))
            .help(format!("write `{field}` as {want}")),
        }
    }
}
