//! The responder's settings, and how the pod gets them: the peer's built-in defaults, then the
//! config file the chart mounts (`--config /etc/config/config.yaml`, the `auth-callout-config`
//! ConfigMap natscc compiles), then `AUTH_CALLOUT_*` variables and the peer's aliases
//! (`NATS_URL`, `NATS_NKEY_SEED`, ...). Seeds come from the environment only in practice (the
//! chart puts them in the `auth-callout-keys` Secret).

use super::CalloutError;
use super::jwks::JwksSource;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The three keys of the `auth-callout-keys` Secret.
#[derive(Clone, Default)]
pub struct Keys {
    /// The AUTHX user's seed (`AUTH_CALLOUT_NATS_NKEY_SEED`); `None` connects without NKey, as
    /// the peer does when it is empty.
    pub nkey_seed: Option<String>,
    /// The AUTH account's signing seed (`AUTH_CALLOUT_NATS_ISSUER_SEED`).
    pub issuer_seed: String,
    /// The curve seed (`AUTH_CALLOUT_NATS_XKEY_SEED`), when the server seals its requests.
    pub xkey_seed: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Seeds are never printed, not even in a debug dump.
        f.write_str("Keys { .. }")
    }
}

#[derive(Debug, Clone)]
pub struct OAuth2Config {
    pub jwks: JwksSource,
    pub issuer: String,
    pub audience: String,
    pub signing_algorithms: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CalloutConfig {
    pub nats_urls: Vec<String>,
    pub keys: Keys,
    pub permissions: PathBuf,
    /// Values for the `${VAR}`s of permissions.json.
    pub env: BTreeMap<String, String>,
    pub oauth2: Option<OAuth2Config>,
    pub mtls_ca: Option<PathBuf>,
    /// Where the JSON log lines go; `None` is stderr.
    pub log: Option<PathBuf>,
    /// `observability.logging.level`: debug, info (default), warn, error.
    pub log_level: String,
}

impl JwksSource {
    /// A `jwks.url` value: a URL as a URL (only `http://` can be fetched: natscc carries no TLS
    /// client, so an `https://` IdP fails at start unless replaced, e.g. with `--jwks FILE`),
    /// `file://` or a bare path as a file.
    pub fn from_setting(s: &str) -> Result<JwksSource, CalloutError> {
        if let Some(p) = s.strip_prefix("file://") {
            Ok(JwksSource::File(PathBuf::from(p)))
        } else if s.contains("://") {
            Ok(JwksSource::Url(s.to_string()))
        } else {
            Ok(JwksSource::File(PathBuf::from(s)))
        }
    }

    pub fn describe(&self) -> String {
        match self {
            JwksSource::File(p) => p.display().to_string(),
            JwksSource::Url(u) => u.clone(),
        }
    }
}

/// The settings as koanf flattens them (`nats.url`, `jwks.signing-algorithms`, ...).
#[derive(Debug, Clone, Default)]
pub struct Settings(pub BTreeMap<String, Vec<String>>);

impl Settings {
    /// The peer's `config/defaults.yaml`, for the keys the responder reads.
    pub fn defaults() -> Settings {
        let mut s = Settings::default();
        s.set("nats.url", "nats://localhost:4222");
        s.set("jwks.url", "");
        s.set("jwks.issuer", "");
        s.set("jwks.audience", "");
        s.0.insert("jwks.signing-algorithms".into(), vec!["RS256".into()]);
        s.set("mtls.ca-path", "");
        s.set("permissions.file", "/etc/auth-callout/permissions.json");
        s.set("observability.logging.level", "info");
        s
    }

    pub fn set(&mut self, key: &str, v: &str) {
        self.0.insert(key.into(), vec![v.into()]);
    }

    pub fn get(&self, key: &str) -> &str {
        self.0
            .get(key)
            .and_then(|v| v.first())
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// Merges a config file (YAML) over these settings, key by key.
    pub fn merge_file(&mut self, path: &Path) -> Result<(), CalloutError> {
        use crate::diag::{Source, Sources};
        use crate::load::yaml::{self, Node, V};
        let text = crate::input::read_text(path).map_err(|e| {
            CalloutError::Invalid(format!(
                "stat config file {:?}: {e}",
                path.display().to_string()
            ))
        })?;
        let mut sources = Sources::default();
        let id = sources.add(Source::new(path.display().to_string(), text));
        let (node, diags) = yaml::parse(id, &sources);
        if let Some(d) = diags.first() {
            return Err(CalloutError::Invalid(format!(
                "load config file {:?}: {}",
                path.display().to_string(),
                d.message
            )));
        }
        fn walk(prefix: &str, n: &Node, out: &mut BTreeMap<String, Vec<String>>) {
            match &n.v {
                V::Map(es) => {
                    for e in es.iter() {
                        let k = if prefix.is_empty() {
                            e.key.clone()
                        } else {
                            format!("{prefix}.{}", e.key)
                        };
                        walk(&k, &e.value, out);
                    }
                }
                V::Seq(items) => {
                    out.insert(
                        prefix.into(),
                        items
                            .iter()
                            .map(|i| scalar(i).unwrap_or_default())
                            .collect(),
                    );
                }
                _ => {
                    out.insert(prefix.into(), vec![scalar(n).unwrap_or_default()]);
                }
            }
        }
        fn scalar(n: &Node) -> Option<String> {
            Some(match &n.v {
                V::Str(s) => s.clone(),
                V::Null => String::new(),
                _ => crate::gotmpl::fmt_v(n),
            })
        }
        if let Some(n) = node {
            walk("", &n, &mut self.0);
        }
        Ok(())
    }

    /// The environment over the settings: `AUTH_CALLOUT_A_B__C` is `a.b-c` (koanf's rule), then
    /// the peer's aliases, each set only when its variable is non-empty.
    pub fn merge_env(&mut self, env: &BTreeMap<String, String>) {
        for (k, v) in env {
            if let Some(rest) = k.strip_prefix("AUTH_CALLOUT_") {
                let key = rest.to_lowercase().replace("__", "-").replace('_', ".");
                self.set(&key, v);
            }
        }
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| env.get(*n).filter(|v| !v.is_empty()).cloned())
        };
        let aliases: &[(&str, &[&str])] = &[
            ("nats.url", &["NATS_URL", "AUTH_CALLOUT_NATS_URL"]),
            (
                "nats.nkey-seed",
                &["NATS_NKEY_SEED", "AUTH_CALLOUT_NATS_NKEY_SEED"],
            ),
            (
                "nats.issuer-seed",
                &["NATS_ISSUER_SEED", "AUTH_CALLOUT_NATS_ISSUER_SEED"],
            ),
            (
                "nats.xkey-seed",
                &["NATS_XKEY_SEED", "AUTH_CALLOUT_NATS_XKEY_SEED"],
            ),
            ("jwks.url", &["JWKS_URL", "AUTH_CALLOUT_JWKS_URL"]),
            ("jwks.issuer", &["JWKS_ISSUER", "AUTH_CALLOUT_JWKS_ISSUER"]),
            (
                "jwks.audience",
                &["JWKS_AUDIENCE", "AUTH_CALLOUT_JWKS_AUDIENCE"],
            ),
            (
                "mtls.ca-path",
                &["MTLS_CA_PATH", "AUTH_CALLOUT_MTLS_CA_PATH"],
            ),
            (
                "permissions.file",
                &["PERMISSIONS_FILE", "AUTH_CALLOUT_PERMISSIONS_FILE"],
            ),
        ];
        for (key, names) in aliases {
            if let Some(v) = first(names) {
                self.set(key, &v);
            }
        }
        if let Some(v) = first(&[
            "JWKS_SIGNING_ALGORITHMS",
            "AUTH_CALLOUT_JWKS_SIGNING_ALGORITHMS",
        ]) {
            self.0.insert(
                "jwks.signing-algorithms".into(),
                v.split(',').map(str::to_string).collect(),
            );
        }
    }

    /// The responder's config from the settings; `env` fills permissions.json's `${VAR}`s.
    pub fn to_config(&self, env: BTreeMap<String, String>) -> Result<CalloutConfig, CalloutError> {
        let opt = |k: &str| Some(self.get(k).to_string()).filter(|s| !s.is_empty());
        let oauth2 = match opt("jwks.url") {
            None => None,
            Some(url) => Some(OAuth2Config {
                jwks: JwksSource::from_setting(&url)?,
                issuer: self.get("jwks.issuer").into(),
                audience: self.get("jwks.audience").into(),
                signing_algorithms: self
                    .0
                    .get("jwks.signing-algorithms")
                    .cloned()
                    .unwrap_or_default(),
            }),
        };
        Ok(CalloutConfig {
            nats_urls: self
                .get("nats.url")
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            keys: Keys {
                nkey_seed: opt("nats.nkey-seed"),
                issuer_seed: self.get("nats.issuer-seed").into(),
                xkey_seed: opt("nats.xkey-seed"),
            },
            permissions: PathBuf::from(self.get("permissions.file")),
            env,
            oauth2,
            mtls_ca: opt("mtls.ca-path").map(PathBuf::from),
            log: None,
            log_level: self.get("observability.logging.level").into(),
        })
    }
}

impl CalloutConfig {
    /// The pod's way: defaults, the config file (when given), the process environment.
    pub fn from_pod_env(config_yaml: Option<&Path>) -> Result<CalloutConfig, CalloutError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let mut s = Settings::defaults();
        if let Some(p) = config_yaml {
            s.merge_file(p)?;
        }
        s.merge_env(&env);
        s.to_config(env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_over_defaults() {
        let env: BTreeMap<String, String> = [
            ("AUTH_CALLOUT_NATS_URL", "nats://127.0.0.1:1"),
            ("AUTH_CALLOUT_NATS_ISSUER_SEED", "SA..."),
            ("AUTH_CALLOUT_MTLS_CA_PATH", "/ca.crt"),
            ("JWKS_SIGNING_ALGORITHMS", "RS256,ES256"),
            ("AUTH_CALLOUT_JWKS_URL", "/tmp/jwks.json"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let mut s = Settings::defaults();
        s.merge_env(&env);
        let c = s.to_config(env).unwrap();
        assert_eq!(c.nats_urls, ["nats://127.0.0.1:1"]);
        assert_eq!(c.keys.issuer_seed, "SA...");
        assert_eq!(c.mtls_ca.as_deref(), Some(Path::new("/ca.crt")));
        let o = c.oauth2.unwrap();
        assert_eq!(o.signing_algorithms, ["RS256", "ES256"]);
        assert_eq!(o.jwks, JwksSource::File("/tmp/jwks.json".into()));
        assert_eq!(format!("{:?}", c.keys), "Keys { .. }");
    }
}
