//! OAuth2 bearer tokens as the peer checks them (golang-jwt v5 with keyfunc v3 over a JWKS):
//! the algorithm must be one the config lists, the key is the JWKS key named by the token's
//! `kid`, `exp` is required, `iss` and `aud` must match. Error texts follow golang-jwt's, since
//! they reach the server's log inside the callout's denial.

use data_encoding::{BASE64URL, BASE64URL_NOPAD};
use ring::signature::{self, UnparsedPublicKey};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The algorithms the peer accepts in its config (`supportedOAuth2SigningAlgorithms`).
pub const SUPPORTED: &[&str] = &[
    "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS file, read again when a token names a key it does not hold.
    File(PathBuf),
    /// `http://` only: natscc carries no TLS client.
    Url(String),
}

/// A public key of the set, as ring verifies with it.
#[derive(Debug, Clone)]
enum Key {
    Rsa { n: Vec<u8>, e: Vec<u8> },
    Ec { crv: String, point: Vec<u8> },
    Ed25519(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Jwk {
    alg: Option<String>,
    key: Key,
}

pub struct Jwks {
    source: JwksSource,
    keys: Mutex<(HashMap<String, Jwk>, Option<Instant>)>,
}

fn b64(v: &Value) -> Option<Vec<u8>> {
    let s = v.as_str()?;
    BASE64URL_NOPAD
        .decode(s.trim_end_matches('=').as_bytes())
        .ok()
        .or_else(|| BASE64URL.decode(s.as_bytes()).ok())
}

/// Parses a JWK Set; keys that are not signing keys natscc can use are skipped, as keyfunc
/// skips keys it cannot read.
fn parse_set(text: &[u8]) -> Result<HashMap<String, Jwk>, String> {
    let v: Value =
        serde_json::from_slice(text).map_err(|e| format!("failed to decode the JWK Set: {e}"))?;
    let keys = v["keys"]
        .as_array()
        .ok_or("the JWK Set has no \"keys\" array")?;
    let mut out = HashMap::new();
    for k in keys {
        let Some(kid) = k["kid"].as_str() else {
            continue;
        };
        if k["use"].as_str().is_some_and(|u| u != "sig") {
            continue;
        }
        let key = match k["kty"].as_str() {
            Some("RSA") => match (b64(&k["n"]), b64(&k["e"])) {
                (Some(n), Some(e)) => Key::Rsa { n, e },
                _ => continue,
            },
            Some("EC") => match (k["crv"].as_str(), b64(&k["x"]), b64(&k["y"])) {
                (Some(crv), Some(x), Some(y)) => {
                    let mut point = vec![4u8];
                    point.extend(x);
                    point.extend(y);
                    Key::Ec {
                        crv: crv.to_string(),
                        point,
                    }
                }
                _ => continue,
            },
            Some("OKP") if k["crv"] == "Ed25519" => match b64(&k["x"]) {
                Some(x) => Key::Ed25519(x),
                None => continue,
            },
            _ => continue,
        };
        out.insert(
            kid.to_string(),
            Jwk {
                alg: k["alg"].as_str().map(str::to_string),
                key,
            },
        );
    }
    Ok(out)
}

/// A GET over plain HTTP/1.0 (no chunking to undo), for a JWKS URL.
fn http_get(url: &str) -> Result<Vec<u8>, String> {
    use std::io::Write;
    use std::net::{TcpStream, ToSocketAddrs};
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| {
            format!("JWKS URL `{url}`: natscc fetches http:// URLs only (it has no TLS client); give a JWKS file instead (--jwks FILE)")
        })?;
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let addr = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:80")
    };
    let sa = addr
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} resolves to no address"))?;
    let t = Duration::from_secs(10);
    let mut s =
        TcpStream::connect_timeout(&sa, t).map_err(|e| format!("cannot reach {url}: {e}"))?;
    s.set_read_timeout(Some(t)).map_err(|e| e.to_string())?;
    s.write_all(
        format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\n\r\n")
            .as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let buf =
        crate::input::read_bounded(&mut s, 0).map_err(|e| format!("cannot read {url}: {e}"))?;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{url}: not an HTTP response"))?;
    let head = String::from_utf8_lossy(&buf[..split]);
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status != "200" {
        return Err(format!("{url}: HTTP status {status}"));
    }
    Ok(buf[split + 4..].to_vec())
}

impl Jwks {
    /// Reads the set once (a start-up failure, as keyfunc's first fetch).
    pub fn new(source: JwksSource) -> Result<Jwks, String> {
        let j = Jwks {
            source,
            keys: Mutex::new((HashMap::new(), None)),
        };
        let keys = j.fetch()?;
        *j.keys.lock().unwrap_or_else(|e| e.into_inner()) = (keys, Some(Instant::now()));
        Ok(j)
    }

    fn fetch(&self) -> Result<HashMap<String, Jwk>, String> {
        let text = match &self.source {
            JwksSource::File(p) => crate::input::read(p)
                .map_err(|e| format!("cannot read the JWKS file {}: {e}", p.display()))?,
            JwksSource::Url(u) => http_get(u)?,
        };
        parse_set(&text)
    }

    /// The key with this ID; an unknown ID refreshes the set (at most every 5 s for a URL, as
    /// keyfunc rate-limits its refreshes; a file is cheap to read again).
    fn key(&self, kid: &str) -> Option<Jwk> {
        let mut g = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = g.0.get(kid) {
            return Some(k.clone());
        }
        let due = match (&self.source, g.1) {
            (JwksSource::Url(_), Some(t)) => t.elapsed() > Duration::from_secs(5),
            _ => true,
        };
        if due && let Ok(keys) = self.fetch() {
            *g = (keys, Some(Instant::now()));
        }
        g.0.get(kid).cloned()
    }
}

/// The claims the peer reads from a verified token.
#[derive(Debug, Clone, Default)]
pub struct TokenClaims {
    pub subject: String,
    pub azp: String,
    pub scope: String,
    pub scopes: Vec<String>,
}

fn verify_sig(alg: &str, key: &Key, msg: &[u8], sig: &[u8]) -> Result<(), &'static str> {
    let rsa = |params: &'static signature::RsaParameters| -> Result<(), &'static str> {
        let Key::Rsa { n, e } = key else {
            return Err("key is of invalid type");
        };
        signature::RsaPublicKeyComponents { n, e }
            .verify(params, msg, sig)
            .map_err(|_| "crypto/rsa: verification error")
    };
    let ec = |crv: &str, params: &'static signature::EcdsaVerificationAlgorithm, len: usize| {
        let Key::Ec { crv: kc, point } = key else {
            return Err("key is of invalid type");
        };
        if kc != crv {
            return Err("key is of invalid type");
        }
        if sig.len() != len {
            return Err("crypto/ecdsa: verification error");
        }
        UnparsedPublicKey::new(params, point)
            .verify(msg, sig)
            .map_err(|_| "crypto/ecdsa: verification error")
    };
    match alg {
        "RS256" => rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        "RS384" => rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        "RS512" => rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        "PS256" => rsa(&signature::RSA_PSS_2048_8192_SHA256),
        "PS384" => rsa(&signature::RSA_PSS_2048_8192_SHA384),
        "PS512" => rsa(&signature::RSA_PSS_2048_8192_SHA512),
        "ES256" => ec("P-256", &signature::ECDSA_P256_SHA256_FIXED, 64),
        "ES384" => ec("P-384", &signature::ECDSA_P384_SHA384_FIXED, 96),
        "EdDSA" => {
            let Key::Ed25519(x) = key else {
                return Err("key is of invalid type");
            };
            UnparsedPublicKey::new(&signature::ED25519, x)
                .verify(msg, sig)
                .map_err(|_| "ed25519: verification error")
        }
        // ES512 (P-521) is in the peer's list, but ring has no P-521 verifier.
        _ => Err("natscc cannot verify this signing method"),
    }
}

fn malformed(what: &str, e: impl std::fmt::Display) -> String {
    format!("token is malformed: {what}: {e}")
}

fn numeric_date(c: &Value, name: &str) -> Result<Option<f64>, String> {
    match &c[name] {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        _ => Err(format!(
            "token is malformed: could not JSON decode claim: json: cannot unmarshal into Go struct field Claims.RegisteredClaims.{name} of type jwt.NumericDate"
        )),
    }
}

/// golang-jwt's `ParseWithClaims` with keyfunc, `WithValidMethods`, `WithExpirationRequired`,
/// `WithIssuer` and `WithAudience`; `Err` carries its error text.
pub fn verify(
    token: &str,
    jwks: &Jwks,
    algorithms: &[String],
    issuer: &str,
    audience: &str,
    now: f64,
) -> Result<TokenClaims, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("token is malformed: token contains an invalid number of segments".into());
    }
    let dec = |s: &str| BASE64URL_NOPAD.decode(s.as_bytes());
    let header = dec(parts[0]).map_err(|e| malformed("could not base64 decode header", e))?;
    let header: Value = serde_json::from_slice(&header)
        .map_err(|e| malformed("could not JSON decode header", e))?;
    let claims = dec(parts[1]).map_err(|e| malformed("could not base64 decode claim", e))?;
    let claims: Value =
        serde_json::from_slice(&claims).map_err(|e| malformed("could not JSON decode claim", e))?;
    let Some(alg) = header["alg"].as_str() else {
        return Err("token is unverifiable: signing method (alg) is unspecified".into());
    };
    if !SUPPORTED.contains(&alg) && !["HS256", "HS384", "HS512", "none"].contains(&alg) {
        return Err("token is unverifiable: signing method (alg) is unavailable".into());
    }
    if !algorithms.iter().any(|a| a == alg) {
        return Err(format!(
            "token signature is invalid: signing method {alg} is invalid"
        ));
    }
    let keyfunc = |m: &str| {
        format!("token is unverifiable: error while executing keyfunc: failed to keyfunc: {m}")
    };
    let kid = match &header["kid"] {
        Value::Null => return Err(keyfunc("could not find kid in JWT header")),
        Value::String(s) => s.as_str(),
        _ => return Err(keyfunc("could not convert kid in JWT header to string")),
    };
    let jwk = jwks
        .key(kid)
        .ok_or_else(|| keyfunc("could not read JWK from storage"))?;
    if let Some(a) = jwk.alg.as_deref().filter(|a| *a != alg) {
        return Err(keyfunc(&format!(
            "JWK \"alg\" parameter value {a:?} does not match token \"alg\" parameter value {alg:?}"
        )));
    }
    let sig = dec(parts[2]).map_err(|e| malformed("could not base64 decode signature", e))?;
    let signed = &token[..parts[0].len() + 1 + parts[1].len()];
    verify_sig(alg, &jwk.key, signed.as_bytes(), &sig)
        .map_err(|e| format!("token signature is invalid: {e}"))?;

    // Claims, in golang-jwt's order: exp, nbf, aud, iss.
    let mut errs: Vec<String> = vec![];
    match numeric_date(&claims, "exp")? {
        None => errs.push("token is missing required claim: exp claim is required".into()),
        Some(exp) if now >= exp => errs.push("token is expired".into()),
        _ => {}
    }
    if let Some(nbf) = numeric_date(&claims, "nbf")?
        && now < nbf
    {
        errs.push("token is not valid yet".into());
    }
    let aud: Vec<String> = match &claims["aud"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    };
    if aud.concat().is_empty() {
        errs.push("token is missing required claim: aud claim is required".into());
    } else if !aud.iter().any(|a| a == audience) {
        errs.push("token has invalid audience".into());
    }
    match claims["iss"].as_str().unwrap_or_default() {
        "" => errs.push("token is missing required claim: iss claim is required".into()),
        i if i != issuer => errs.push("token has invalid issuer".into()),
        _ => {}
    }
    if !errs.is_empty() {
        return Err(format!("token has invalid claims: {}", errs.join(", ")));
    }
    let s = |k: &str| claims[k].as_str().unwrap_or_default().to_string();
    Ok(TokenClaims {
        subject: s("sub"),
        azp: s("azp"),
        scope: s("scope"),
        scopes: claims["scopes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    })
}
