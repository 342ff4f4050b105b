//! NATS JWTs (nats-io/jwt v2): decoding, signature verification, and a small encoder that
//! tests and the fixture generator use to sign claims with NKeys. A NATS JWT is
//! `base64url(header).base64url(claims).base64url(ed25519 signature over the first two parts)`,
//! with header `{"typ":"JWT","alg":"ed25519-nkey"}`; the issuer (`iss`) is an NKey public key.

use data_encoding::BASE64URL_NOPAD;
use nkeys::KeyPair;
use serde_json::{Value, json};

/// What a JWT is for, from `nats.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Operator,
    Account,
    User,
    Other,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Operator => "operator",
            Kind::Account => "account",
            Kind::User => "user",
            Kind::Other => "other",
        }
    }
}

/// A decoded JWT. `signature_ok` is false when the signature does not verify against `iss`.
#[derive(Debug, Clone)]
pub struct Jwt {
    pub claims: Value,
    pub kind: Kind,
    pub issuer: String,
    pub subject: String,
    pub name: String,
    pub signature_ok: bool,
}

impl Jwt {
    /// `nats.signing_keys`, as plain strings (operator signing keys may also be objects with
    /// `key`).
    pub fn signing_keys(&self) -> Vec<String> {
        self.claims
            .pointer("/nats/signing_keys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|k| {
                        k.as_str()
                            .map(str::to_string)
                            .or_else(|| k.get("key").and_then(Value::as_str).map(str::to_string))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether an account JWT lets its users use JetStream: storage limits that are not zero,
    /// or any tiered limit (the server's own reading of the account claims).
    pub fn jetstream_enabled(&self) -> bool {
        let limits = self.claims.pointer("/nats/limits");
        let nonzero = |k: &str| {
            limits
                .and_then(|l| l.get(k))
                .and_then(Value::as_i64)
                .is_some_and(|v| v != 0)
        };
        let tiered = limits
            .and_then(|l| l.get("tiered_limits"))
            .and_then(Value::as_object)
            .is_some_and(|t| !t.is_empty());
        nonzero("mem_storage") || nonzero("disk_storage") || tiered
    }

    /// `nats.system_account` of an operator JWT.
    pub fn operator_system_account(&self) -> Option<&str> {
        self.claims
            .pointer("/nats/system_account")
            .and_then(Value::as_str)
    }
}

/// Why a text is not a usable NATS JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Shape,
    Base64(&'static str),
    Json(&'static str),
    Algorithm(String),
    Issuer(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Shape => write!(f, "a JWT is three base64url parts separated by dots"),
            DecodeError::Base64(part) => write!(f, "the {part} is not base64url"),
            DecodeError::Json(part) => write!(f, "the {part} is not a JSON object"),
            DecodeError::Algorithm(a) => write!(
                f,
                "the header names algorithm `{a}`, not `ed25519-nkey` (or the v1 `ed25519`)"
            ),
            DecodeError::Issuer(i) => write!(f, "the issuer `{i}` is not an NKey public key"),
        }
    }
}

/// Whether a text looks like a JWT at all (its header starts as every JSON object does).
pub fn looks_like_jwt(text: &str) -> bool {
    let t = text.trim();
    t.starts_with("eyJ") && t.matches('.').count() == 2
}

/// Decodes a JWT and verifies its signature against its issuer.
pub fn decode(text: &str) -> Result<Jwt, DecodeError> {
    let text = text.trim();
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(DecodeError::Shape);
    }
    let header_bytes = BASE64URL_NOPAD
        .decode(parts[0].as_bytes())
        .map_err(|_| DecodeError::Base64("header"))?;
    let claim_bytes = BASE64URL_NOPAD
        .decode(parts[1].as_bytes())
        .map_err(|_| DecodeError::Base64("claims part"))?;
    let sig = BASE64URL_NOPAD
        .decode(parts[2].as_bytes())
        .map_err(|_| DecodeError::Base64("signature"))?;
    let header: Value =
        serde_json::from_slice(&header_bytes).map_err(|_| DecodeError::Json("header"))?;
    let claims: Value =
        serde_json::from_slice(&claim_bytes).map_err(|_| DecodeError::Json("claims part"))?;
    if !header.is_object() {
        return Err(DecodeError::Json("header"));
    }
    if !claims.is_object() {
        return Err(DecodeError::Json("claims part"));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !alg.eq_ignore_ascii_case("ed25519-nkey") && !alg.eq_ignore_ascii_case("ed25519") {
        return Err(DecodeError::Algorithm(alg));
    }
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let key = KeyPair::from_public_key(&issuer).map_err(|_| DecodeError::Issuer(issuer.clone()))?;
    let signed = &text[..parts[0].len() + 1 + parts[1].len()];
    let signature_ok = key.verify(signed.as_bytes(), &sig).is_ok();
    let kind = match claims
        .pointer("/nats/type")
        .and_then(Value::as_str)
        .or_else(|| claims.get("type").and_then(Value::as_str))
    {
        Some("operator") => Kind::Operator,
        Some("account") => Kind::Account,
        Some("user") => Kind::User,
        _ => Kind::Other,
    };
    let s = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    Ok(Jwt {
        subject: s("sub"),
        name: s("name"),
        claims,
        kind,
        issuer,
        signature_ok,
    })
}

/// Signs claims as `signer`: sets `iss`, `iat` and `jti` and returns the JWT text.
pub fn encode(mut claims: Value, signer: &KeyPair) -> String {
    let header = BASE64URL_NOPAD.encode(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    claims["iss"] = json!(signer.public_key());
    if claims.get("iat").is_none() {
        claims["iat"] = json!(1_700_000_000);
    }
    // The jti is an id only; a hash of the claims keeps encoding deterministic.
    let body = serde_json::to_vec(&claims).expect("claims serialise");
    let digest = data_encoding::BASE32_NOPAD.encode(&simple_hash(&body));
    claims["jti"] = json!(digest);
    let payload = BASE64URL_NOPAD.encode(&serde_json::to_vec(&claims).expect("claims serialise"));
    let signed = format!("{header}.{payload}");
    let sig = signer.sign(signed.as_bytes()).expect("a seed key signs");
    format!("{signed}.{}", BASE64URL_NOPAD.encode(&sig))
}

/// A small deterministic digest for the jti (not a security property).
fn simple_hash(bytes: &[u8]) -> [u8; 16] {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x8422_2325_cbf2_9ce4;
    for &x in bytes {
        a = (a ^ x as u64).wrapping_mul(0x100_0000_01b3);
        b = (b ^ a.rotate_left(17)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a.to_be_bytes());
    out[8..].copy_from_slice(&b.to_be_bytes());
    out
}

/// Operator claims: `signing_keys` and an optional system account.
pub fn operator_claims(
    name: &str,
    operator: &KeyPair,
    signing_keys: &[String],
    system_account: Option<&str>,
) -> Value {
    let mut nats = json!({"type": "operator", "version": 2});
    if !signing_keys.is_empty() {
        nats["signing_keys"] = json!(signing_keys);
    }
    if let Some(sys) = system_account {
        nats["system_account"] = json!(sys);
    }
    json!({"name": name, "sub": operator.public_key(), "nats": nats})
}

/// Account claims with unlimited core limits; `jetstream` adds unlimited JetStream storage.
pub fn account_claims(
    name: &str,
    account_public: &str,
    jetstream: bool,
    signing_keys: &[String],
) -> Value {
    let mut limits = json!({
        "subs": -1, "conn": -1, "leaf": -1, "imports": -1, "exports": -1, "data": -1,
        "payload": -1, "wildcards": true,
    });
    if jetstream {
        for k in ["mem_storage", "disk_storage", "streams", "consumer"] {
            limits[k] = json!(-1);
        }
    } else {
        for k in ["mem_storage", "disk_storage", "streams", "consumer"] {
            limits[k] = json!(0);
        }
    }
    let mut nats = json!({
        "type": "account", "version": 2, "limits": limits,
        "default_permissions": {"pub": {}, "sub": {}},
    });
    if !signing_keys.is_empty() {
        nats["signing_keys"] = json!(signing_keys);
    }
    json!({"name": name, "sub": account_public, "nats": nats})
}

/// User claims with unlimited limits; `issuer_account` when signed by an account signing key.
pub fn user_claims(
    name: &str,
    user_public: &str,
    bearer: bool,
    issuer_account: Option<&str>,
) -> Value {
    let mut nats = json!({
        "type": "user", "version": 2, "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1,
    });
    if bearer {
        nats["bearer_token"] = json!(true);
    }
    if let Some(a) = issuer_account {
        nats["issuer_account"] = json!(a);
    }
    json!({"name": name, "sub": user_public, "nats": nats})
}

/// A `.creds` file: the user JWT and the user's seed, in the layout nsc writes.
pub fn creds(user_jwt: &str, user_seed: &str) -> String {
    format!(
        "-----BEGIN NATS USER JWT-----\n{user_jwt}\n------END NATS USER JWT------\n\n\
         ************************* IMPORTANT *************************\n\
         NKEY Seed printed below can be used to sign and prove identity.\n\
         NKEYs are sensitive and should be treated as secrets.\n\n\
         -----BEGIN USER NKEY SEED-----\n{user_seed}\n------END USER NKEY SEED------\n\n\
         *************************************************************\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let op = KeyPair::new_operator();
        let acc = KeyPair::new_account();
        let jwt = encode(account_claims("A", &acc.public_key(), true, &[]), &op);
        let d = decode(&jwt).unwrap();
        assert!(d.signature_ok);
        assert_eq!(d.kind, Kind::Account);
        assert_eq!(d.issuer, op.public_key());
        assert!(d.jetstream_enabled());
        // One flipped byte of the signature must fail verification.
        let (head, sig) = jwt.rsplit_once('.').unwrap();
        let mut raw = BASE64URL_NOPAD.decode(sig.as_bytes()).unwrap();
        raw[10] ^= 0x01;
        let bad = format!("{head}.{}", BASE64URL_NOPAD.encode(&raw));
        assert!(!decode(&bad).unwrap().signature_ok);
        assert_eq!(decode("eyJhIjoxfQ.x").unwrap_err(), DecodeError::Shape);
    }
}
