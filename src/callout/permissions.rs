//! `permissions.json` as the peer's PermissionsManager reads it: identities by method (oauth2,
//! mtls, nkey, noauth), each mapped to an account and NATS permissions. String fields other
//! than the permissions go through Go's `os.ExpandEnv` (the chart writes `${NKEY_..._PUBKEY}`
//! there), from the map the caller gives (the pod's environment, or `natscc up`'s keys).

use super::gojson::{self, At, Errors, Json, field};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// What an authenticated identity gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The entry's name in permissions.json (`anonymous` for noauth): the user JWT's `name`.
    pub name: String,
    pub account: String,
    /// jwt.Permissions as Go re-marshals it: `pub`/`sub` with `allow`/`deny`, `resp`.
    pub permissions: Value,
}

/// One OAuth2 entry, with the scope its tokens must carry.
#[derive(Debug, Clone)]
pub struct OAuth2Entry {
    pub subject: String,
    pub azp: String,
    pub required_scope: String,
    pub profile: Profile,
}

#[derive(Debug, Clone, Default)]
pub struct Permissions {
    oauth2: HashMap<(String, String), OAuth2Entry>,
    /// By entry name, for the local issuer.
    pub oauth2_by_name: BTreeMap<String, OAuth2Entry>,
    mtls: HashMap<String, Profile>,
    nkey: HashMap<String, Profile>,
    noauth: Option<Profile>,
}

/// Go's `os.Expand` with a map: `$NAME`, `${NAME}`, shell specials; unknown names are empty;
/// `${}` and an unclosed `${` are eaten; a `$` before anything else stays.
pub fn expand_env(s: &str, env: &BTreeMap<String, String>) -> String {
    let b = s.as_bytes();
    let special = |c: u8| b"*#$@!?-".contains(&c) || c.is_ascii_digit();
    let alnum = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            let rest = &b[i + 1..];
            let (name, w): (&[u8], usize) = if rest[0] == b'{' {
                if rest.len() > 2 && special(rest[1]) && rest[2] == b'}' {
                    (&rest[1..2], 3)
                } else {
                    match rest.iter().skip(1).position(|&c| c == b'}') {
                        Some(0) => (&[], 2),
                        Some(p) => (&rest[1..p + 1], p + 2),
                        None => (&[], 1),
                    }
                }
            } else if special(rest[0]) {
                (&rest[..1], 1)
            } else {
                let n = rest.iter().take_while(|&&c| alnum(c)).count();
                (&rest[..n], n)
            };
            if name.is_empty() && w == 0 {
                out.push(b'$');
            } else if !name.is_empty() {
                let name = String::from_utf8_lossy(name);
                out.extend_from_slice(
                    env.get(name.as_ref())
                        .map(String::as_bytes)
                        .unwrap_or_default(),
                );
            }
            i += 1 + w;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// jwt.Permission: `allow`, `deny` (nil and empty lists are both left out when re-encoded).
#[derive(Default, Clone)]
struct Permission {
    allow: Option<Vec<String>>,
    deny: Option<Vec<String>>,
}

/// jwt.Permissions as Go decodes it: `pub`, `sub`, and `resp` (a pointer: null clears it).
#[derive(Default, Clone)]
struct GoPermissions {
    publish: Permission,
    subscribe: Permission,
    resp: Option<(i64, i64)>,
}

/// One entry of any method; the method's struct decides which of the fields a key can land in.
#[derive(Default, Clone)]
struct Entry {
    subject: String,
    azp: String,
    account: String,
    required_scope: String,
    identity: String,
    public_key: String,
    permissions: GoPermissions,
}

/// The Go struct behind each method's entries: its name and its JSON field names, in order.
struct EntryType {
    go_name: &'static str,
    fields: &'static [&'static str],
}

const OAUTH2: EntryType = EntryType {
    go_name: "OAuth2Entry",
    fields: &["subject", "azp", "account", "permissions", "required_scope"],
};
const MTLS: EntryType = EntryType {
    go_name: "MTLSEntry",
    fields: &["identity", "account", "permissions"],
};
const NKEY: EntryType = EntryType {
    go_name: "NKeyEntry",
    fields: &["public_key", "account", "permissions"],
};
const NOAUTH: EntryType = EntryType {
    go_name: "NoAuthEntry",
    fields: &["account", "permissions"],
};

/// A method's map: `None` is Go's nil map; an entry `None` is a JSON null (a nil pointer).
type EntryMap = Option<BTreeMap<String, Option<Entry>>>;

/// config.PermissionsConfig as decoded, before the lookups are built.
#[derive(Default)]
struct Config {
    oauth2: EntryMap,
    mtls: EntryMap,
    nkey: EntryMap,
    noauth: Option<Entry>,
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn decode_permission(v: &Json, path: &str, e: &mut Errors, into: &mut Permission) {
    let Json::Obj(m) = v else {
        if !matches!(v, Json::Null) {
            let at = At {
                strukt: "Permissions",
                path,
            };
            e.type_error(v.kind(), Some(at), "jwt.Permission");
        }
        return;
    };
    for (k, v) in m {
        let Some(f) = field(k, &["allow", "deny"]) else {
            continue;
        };
        let p = join(path, f);
        let at = At {
            strukt: "Permission",
            path: &p,
        };
        let slot = if f == "allow" {
            &mut into.allow
        } else {
            &mut into.deny
        };
        e.strings(v, at, "jwt.StringList", slot);
    }
}

fn decode_resp(v: &Json, path: &str, e: &mut Errors, into: &mut Option<(i64, i64)>) {
    match v {
        Json::Null => *into = None,
        Json::Obj(m) => {
            let r = into.get_or_insert((0, 0));
            for (k, v) in m {
                let Some(f) = field(k, &["max", "ttl"]) else {
                    continue;
                };
                let p = join(path, f);
                let at = At {
                    strukt: "ResponsePermission",
                    path: &p,
                };
                if f == "max" {
                    e.int(v, at, "int", &mut r.0);
                } else {
                    e.int(v, at, "time.Duration", &mut r.1);
                }
            }
        }
        other => e.type_error(
            other.kind(),
            Some(At {
                strukt: "Permissions",
                path,
            }),
            "jwt.ResponsePermission",
        ),
    }
}

fn decode_permissions(v: &Json, path: &str, owner: &str, e: &mut Errors, into: &mut GoPermissions) {
    let Json::Obj(m) = v else {
        if !matches!(v, Json::Null) {
            let at = At {
                strukt: owner,
                path,
            };
            e.type_error(v.kind(), Some(at), "jwt.Permissions");
        }
        return;
    };
    for (k, v) in m {
        let Some(f) = field(k, &["pub", "sub", "resp"]) else {
            continue;
        };
        let p = join(path, f);
        match f {
            "pub" => decode_permission(v, &p, e, &mut into.publish),
            "sub" => decode_permission(v, &p, e, &mut into.subscribe),
            _ => decode_resp(v, &p, e, &mut into.resp),
        }
    }
}

/// One entry object, decoded over `into` (a repeated noauth key keeps the earlier fields).
fn decode_entry(v: &Json, t: &EntryType, path: &str, e: &mut Errors, into: &mut Entry) {
    let Json::Obj(m) = v else {
        return;
    };
    for (k, v) in m {
        let Some(f) = field(k, t.fields) else {
            continue;
        };
        let p = join(path, f);
        let at = At {
            strukt: t.go_name,
            path: &p,
        };
        match f {
            "subject" => e.string(v, at, &mut into.subject),
            "azp" => e.string(v, at, &mut into.azp),
            "account" => e.string(v, at, &mut into.account),
            "required_scope" => e.string(v, at, &mut into.required_scope),
            "identity" => e.string(v, at, &mut into.identity),
            "public_key" => e.string(v, at, &mut into.public_key),
            _ => decode_permissions(v, &p, t.go_name, e, &mut into.permissions),
        }
    }
}

/// A `map[string]*Entry` field: an object adds to the map (each name decoded afresh, so a
/// repeated name replaces the earlier entry whole), null makes it nil.
fn decode_map(v: &Json, t: &EntryType, path: &str, e: &mut Errors, into: &mut EntryMap) {
    let at = At {
        strukt: "PermissionsConfig",
        path,
    };
    match v {
        Json::Null => *into = None,
        Json::Obj(m) => {
            let map = into.get_or_insert_with(BTreeMap::new);
            for (name, v) in m {
                match v {
                    Json::Null => {
                        map.insert(name.clone(), None);
                    }
                    Json::Obj(_) => {
                        let mut entry = Entry::default();
                        decode_entry(v, t, path, e, &mut entry);
                        map.insert(name.clone(), Some(entry));
                    }
                    other => {
                        e.type_error(other.kind(), Some(at), &format!("config.{}", t.go_name));
                        map.insert(name.clone(), Some(Entry::default()));
                    }
                }
            }
        }
        other => e.type_error(
            other.kind(),
            Some(at),
            &format!("map[string]*config.{}", t.go_name),
        ),
    }
}

/// permissions.json decoded as `json.Unmarshal` into config.PermissionsConfig.
fn decode_config(json: &[u8]) -> Result<Config, String> {
    let root = gojson::parse(json)?;
    let mut c = Config::default();
    let mut e = Errors::default();
    match &root {
        Json::Null => {}
        Json::Obj(m) => {
            for (k, v) in m {
                let Some(f) = field(k, &["oauth2", "mtls", "nkey", "noauth"]) else {
                    continue;
                };
                match f {
                    "oauth2" => decode_map(v, &OAUTH2, f, &mut e, &mut c.oauth2),
                    "mtls" => decode_map(v, &MTLS, f, &mut e, &mut c.mtls),
                    "nkey" => decode_map(v, &NKEY, f, &mut e, &mut c.nkey),
                    _ => match v {
                        Json::Null => c.noauth = None,
                        Json::Obj(_) => {
                            let n = c.noauth.get_or_insert_with(Entry::default);
                            decode_entry(v, &NOAUTH, f, &mut e, n);
                        }
                        other => {
                            let at = At {
                                strukt: "PermissionsConfig",
                                path: f,
                            };
                            e.type_error(other.kind(), Some(at), "config.NoAuthEntry");
                        }
                    },
                }
            }
        }
        other => e.type_error(other.kind(), None, "config.PermissionsConfig"),
    }
    match e.first {
        Some(err) => Err(err),
        None => Ok(c),
    }
}

/// jwt.Permissions as Go re-encodes it into the user JWT: `pub` and `sub` always (a list
/// only when it has entries), `resp` when set.
fn encode(p: &GoPermissions) -> Value {
    let one = |p: &Permission| {
        let mut m = Map::new();
        for (k, l) in [("allow", &p.allow), ("deny", &p.deny)] {
            if let Some(l) = l.as_ref().filter(|l| !l.is_empty()) {
                m.insert(k.into(), l.clone().into());
            }
        }
        Value::Object(m)
    };
    let mut out = Map::new();
    out.insert("pub".into(), one(&p.publish));
    out.insert("sub".into(), one(&p.subscribe));
    if let Some((max, ttl)) = p.resp {
        out.insert("resp".into(), serde_json::json!({"max": max, "ttl": ttl}));
    }
    Value::Object(out)
}

/// The entries of one method, by name; a null entry is refused: the chart's callout would
/// dereference its nil pointer and crash.
fn entries<'a>(m: &'a EntryMap, method: &str) -> Result<Vec<(&'a String, &'a Entry)>, String> {
    let mut out = vec![];
    for (name, e) in m.iter().flatten() {
        match e {
            Some(e) => out.push((name, e)),
            None => {
                return Err(format!(
                    "{method} entry '{name}' is null: the chart's callout would crash on it \
                     (a nil entry); remove it or give it an object"
                ));
            }
        }
    }
    Ok(out)
}

impl Permissions {
    /// Reads the file; errors read as the peer's ("failed to read config file: ...").
    pub fn load(path: &Path, env: &BTreeMap<String, String>) -> Result<Permissions, String> {
        let text =
            crate::input::read(path).map_err(|e| format!("failed to read config file: {e}"))?;
        Self::parse(&text, env)
    }

    /// Decodes as the peer: Go's encoding/json into its structs (see `gojson`), then the
    /// lookups, string fields through `os.ExpandEnv`. Entries are visited by name, so when two
    /// entries claim one identity the later name wins (Go's map order is random).
    pub fn parse(json: &[u8], env: &BTreeMap<String, String>) -> Result<Permissions, String> {
        let c = decode_config(json).map_err(|e| format!("failed to parse config JSON: {e}"))?;
        let x = |s: &str| expand_env(s, env);
        let profile = |name: &str, e: &Entry| Profile {
            name: name.to_string(),
            account: x(&e.account),
            permissions: encode(&e.permissions),
        };
        let mut p = Permissions::default();
        for (name, e) in entries(&c.oauth2, "OAuth2")? {
            let (subject, azp) = (x(&e.subject), x(&e.azp));
            if subject.is_empty() && azp.is_empty() {
                return Err(format!(
                    "OAuth2 entry '{name}' must have either 'subject' or 'azp' field"
                ));
            }
            let mut required_scope = x(&e.required_scope);
            if required_scope.is_empty() {
                required_scope = "mqtt".into();
            }
            let entry = OAuth2Entry {
                subject: subject.clone(),
                azp: azp.clone(),
                required_scope,
                profile: profile(name, e),
            };
            p.oauth2.insert((subject, azp), entry.clone());
            p.oauth2_by_name.insert(name.clone(), entry);
        }
        for (name, e) in entries(&c.mtls, "mTLS")? {
            p.mtls.insert(x(&e.identity), profile(name, e));
        }
        for (name, e) in entries(&c.nkey, "NKey")? {
            p.nkey.insert(x(&e.public_key), profile(name, e));
        }
        p.noauth = c.noauth.as_ref().map(|e| profile("anonymous", e));
        Ok(p)
    }

    /// The exact (subject, azp) pair first, then the subject alone, then the azp alone.
    pub fn oauth2(&self, subject: &str, azp: &str) -> Option<&OAuth2Entry> {
        self.oauth2
            .get(&(subject.to_string(), azp.to_string()))
            .or_else(|| self.oauth2.get(&(subject.to_string(), String::new())))
            .or_else(|| self.oauth2.get(&(String::new(), azp.to_string())))
    }

    pub fn mtls(&self, identity: &str) -> Option<&Profile> {
        self.mtls.get(identity)
    }

    pub fn nkey(&self, public_key: &str) -> Option<&Profile> {
        self.nkey.get(public_key)
    }

    pub fn noauth(&self) -> Option<&Profile> {
        self.noauth.as_ref()
    }

    /// Every identity with its method and the key it is found by (the NKey, the certificate
    /// identity, the token's subject or azp), ordered by name then method (for `explain`).
    pub fn each(&self) -> Vec<(&'static str, &str, &Profile)> {
        let mut v: Vec<(&'static str, &str, &Profile)> = self
            .oauth2
            .iter()
            .map(|((sub, azp), e)| {
                (
                    "oauth2",
                    if sub.is_empty() { azp } else { sub }.as_str(),
                    &e.profile,
                )
            })
            .chain(self.mtls.iter().map(|(k, p)| ("mtls", k.as_str(), p)))
            .chain(self.nkey.iter().map(|(k, p)| ("nkey", k.as_str(), p)))
            .chain(self.noauth.iter().map(|p| ("noauth", "", p)))
            .collect();
        v.sort_by(|a, b| (a.2.name.as_str(), a.0).cmp(&(b.2.name.as_str(), b.0)));
        v
    }

    /// The counts the peer logs once loaded.
    pub fn summary(&self) -> (usize, usize, usize, Option<&str>) {
        (
            self.oauth2.len(),
            self.mtls.len(),
            self.nkey.len(),
            self.noauth.as_ref().map(|p| p.account.as_str()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_expand() {
        let env: BTreeMap<String, String> =
            [("A".to_string(), "x".to_string())].into_iter().collect();
        assert_eq!(expand_env("${A}-$A-$B-${}-$", &env), "x-x---$");
        assert_eq!(expand_env("a$-b", &env), "ab");
        assert_eq!(expand_env("${A", &env), "A");
        assert_eq!(expand_env("$.x", &env), "$.x");
    }

    #[test]
    fn lookups() {
        let env: BTreeMap<String, String> = [("K".to_string(), "UKEY".to_string())]
            .into_iter()
            .collect();
        let p = Permissions::parse(
            br#"{"nkey":{"n":{"account":"CPC","public_key":"${K}",
                 "permissions":{"pub":{"allow":["a"]}}}},
                 "oauth2":{"c":{"azp":"cl","account":"CSC"}},"noauth":{"account":"CPC"}}"#,
            &env,
        )
        .unwrap();
        assert_eq!(p.nkey("UKEY").unwrap().name, "n");
        assert_eq!(
            p.nkey("UKEY").unwrap().permissions,
            serde_json::json!({"pub":{"allow":["a"]},"sub":{}})
        );
        let o = p.oauth2("someone", "cl").unwrap();
        assert_eq!(
            (o.profile.account.as_str(), o.required_scope.as_str()),
            ("CSC", "mqtt")
        );
        assert_eq!(p.noauth().unwrap().name, "anonymous");
        assert!(Permissions::parse(br#"{"oauth2":{"c":{"account":"X"}}}"#, &env).is_err());
    }
}
