//! `permissions.json` as the peer's PermissionsManager reads it: identities by method (oauth2,
//! mtls, nkey, noauth), each mapped to an account and NATS permissions. String fields other
//! than the permissions go through Go's `os.ExpandEnv` (the chart writes `${NKEY_..._PUBKEY}`
//! there), from the map the caller gives (the pod's environment, or `natscc up`'s keys).

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

fn string_list(v: Option<&Value>, at: &str) -> Result<Option<Value>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            let mut out = vec![];
            for it in items {
                match it {
                    Value::String(s) => out.push(Value::String(s.clone())),
                    _ => {
                        return Err(format!(
                            "json: cannot unmarshal {} into Go struct field {at} of type string",
                            kind(it)
                        ));
                    }
                }
            }
            Ok((!out.is_empty()).then_some(Value::Array(out)))
        }
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go struct field {at} of type jwt.StringList",
            kind(other)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// jwt.Permissions decoded and encoded again: what the user JWT carries.
fn permissions(v: Option<&Value>) -> Result<Value, String> {
    let mut out = Map::new();
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Value::Object(out));
    };
    let Value::Object(p) = v else {
        return Err(format!(
            "json: cannot unmarshal {} into Go value of type jwt.Permissions",
            kind(v)
        ));
    };
    for dir in ["pub", "sub"] {
        let mut d = Map::new();
        if let Some(pv) = p.get(dir).filter(|x| !x.is_null()) {
            let Value::Object(pm) = pv else {
                return Err(format!(
                    "json: cannot unmarshal {} into Go value of type jwt.Permission",
                    kind(pv)
                ));
            };
            for k in ["allow", "deny"] {
                if let Some(l) = string_list(pm.get(k), &format!("Permission.{dir}.{k}"))? {
                    d.insert(k.into(), l);
                }
            }
        }
        out.insert(dir.into(), Value::Object(d));
    }
    if let Some(Value::Object(r)) = p.get("resp") {
        let num = |k: &str| r.get(k).and_then(Value::as_i64).unwrap_or(0);
        out.insert(
            "resp".into(),
            serde_json::json!({"max": num("max"), "ttl": num("ttl")}),
        );
    }
    Ok(Value::Object(out))
}

fn field(entry: &Map<String, Value>, key: &str, env: &BTreeMap<String, String>) -> String {
    expand_env(
        entry.get(key).and_then(Value::as_str).unwrap_or_default(),
        env,
    )
}

/// The named entries of one method's map.
type Entries<'a> = Vec<(&'a String, &'a Map<String, Value>)>;

fn entries<'a>(root: &'a Map<String, Value>, key: &str) -> Result<Entries<'a>, String> {
    match root.get(key) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Object(m)) => {
            let mut out = vec![];
            for (name, e) in m {
                match e {
                    Value::Object(e) => out.push((name, e)),
                    Value::Null => {}
                    other => {
                        return Err(format!(
                            "json: cannot unmarshal {} into Go value of type config.{key} entry",
                            kind(other)
                        ));
                    }
                }
            }
            Ok(out)
        }
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go struct field PermissionsConfig.{key}",
            kind(other)
        )),
    }
}

impl Permissions {
    /// Reads the file; errors read as the peer's ("failed to read config file: ...").
    pub fn load(path: &Path, env: &BTreeMap<String, String>) -> Result<Permissions, String> {
        let text =
            crate::input::read(path).map_err(|e| format!("failed to read config file: {e}"))?;
        Self::parse(&text, env)
    }

    pub fn parse(json: &[u8], env: &BTreeMap<String, String>) -> Result<Permissions, String> {
        let root: Value = serde_json::from_slice(json)
            .map_err(|e| format!("failed to parse config JSON: {e}"))?;
        let Value::Object(root) = root else {
            return Err(format!(
                "failed to parse config JSON: json: cannot unmarshal {} into Go value of type config.PermissionsConfig",
                kind(&root)
            ));
        };
        let bad = |e: String| format!("failed to parse config JSON: {e}");
        let mut p = Permissions::default();
        for (name, e) in entries(&root, "oauth2").map_err(bad)? {
            let subject = field(e, "subject", env);
            let azp = field(e, "azp", env);
            if subject.is_empty() && azp.is_empty() {
                return Err(format!(
                    "OAuth2 entry '{name}' must have either 'subject' or 'azp' field"
                ));
            }
            let mut required_scope = field(e, "required_scope", env);
            if required_scope.is_empty() {
                required_scope = "mqtt".into();
            }
            let entry = OAuth2Entry {
                subject: subject.clone(),
                azp: azp.clone(),
                required_scope,
                profile: Profile {
                    name: name.clone(),
                    account: field(e, "account", env),
                    permissions: permissions(e.get("permissions")).map_err(bad)?,
                },
            };
            p.oauth2.insert((subject, azp), entry.clone());
            p.oauth2_by_name.insert(name.clone(), entry);
        }
        for (name, e) in entries(&root, "mtls").map_err(bad)? {
            p.mtls.insert(
                field(e, "identity", env),
                Profile {
                    name: name.clone(),
                    account: field(e, "account", env),
                    permissions: permissions(e.get("permissions")).map_err(bad)?,
                },
            );
        }
        for (name, e) in entries(&root, "nkey").map_err(bad)? {
            p.nkey.insert(
                field(e, "public_key", env),
                Profile {
                    name: name.clone(),
                    account: field(e, "account", env),
                    permissions: permissions(e.get("permissions")).map_err(bad)?,
                },
            );
        }
        match root.get("noauth") {
            None | Some(Value::Null) => {}
            Some(Value::Object(e)) => {
                p.noauth = Some(Profile {
                    name: "anonymous".into(),
                    account: field(e, "account", env),
                    permissions: permissions(e.get("permissions")).map_err(bad)?,
                })
            }
            Some(other) => {
                return Err(bad(format!(
                    "json: cannot unmarshal {} into Go struct field PermissionsConfig.noauth of type config.NoAuthEntry",
                    kind(other)
                )));
            }
        }
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
            br#"{"nkey":{"n":{"account":"CPC","public_key":"${K}","permissions":{"pub":{"allow":["a"]}}}},
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
