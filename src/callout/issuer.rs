//! A local OAuth2 issuer, for running the bus without an identity provider: a signing key, the
//! JWKS the callout reads, and tokens for the OAuth2 identities of `permissions.json` that the
//! callout accepts (issuer, audience, scope and algorithm as it checks them).

use super::CalloutError;
use super::permissions::Permissions;
use data_encoding::{BASE64, BASE64URL_NOPAD};
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Algorithms the local issuer signs with (the peer's list, but ES512: ring has no P-521).
pub const ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

pub struct LocalIssuer {
    alg: String,
    kid: String,
    /// PKCS#8 DER of the private key.
    pkcs8: Vec<u8>,
}

fn err<T>(m: impl Into<String>) -> Result<T, CalloutError> {
    Err(CalloutError::Invalid(m.into()))
}

/// Writes `text` to `path` through a 0600 temporary file beside it and a rename, so a reader
/// never sees half a key and the key is never readable by others, even for a moment.
pub fn write_private(path: &Path, text: &[u8]) -> Result<(), CalloutError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.natscc-{}.tmp", std::process::id()));
    let w = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(text).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = w {
        let _ = std::fs::remove_file(&tmp);
        return err(format!("cannot write {}: {e}", path.display()));
    }
    Ok(())
}

impl LocalIssuer {
    /// A new key for `alg` (RS*/PS*: RSA 2048; ES256: P-256; ES384: P-384; EdDSA: Ed25519).
    pub fn generate(alg: &str) -> Result<LocalIssuer, CalloutError> {
        let rng = SystemRandom::new();
        let pkcs8 = match alg {
            "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => {
                use rsa::pkcs8::EncodePrivateKey;
                let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
                    .or_else(|e| err(format!("cannot generate an RSA key: {e}")))?;
                k.to_pkcs8_der()
                    .or_else(|e| err(format!("cannot encode the RSA key: {e}")))?
                    .as_bytes()
                    .to_vec()
            }
            "ES256" => signature::EcdsaKeyPair::generate_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &rng,
            )
            .or_else(|_| err("cannot generate a P-256 key"))?
            .as_ref()
            .to_vec(),
            "ES384" => signature::EcdsaKeyPair::generate_pkcs8(
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                &rng,
            )
            .or_else(|_| err("cannot generate a P-384 key"))?
            .as_ref()
            .to_vec(),
            "EdDSA" => signature::Ed25519KeyPair::generate_pkcs8(&rng)
                .or_else(|_| err("cannot generate an Ed25519 key"))?
                .as_ref()
                .to_vec(),
            other => {
                return err(format!(
                    "the local issuer cannot sign with `{other}`; choose one of {}",
                    ALGORITHMS.join(", ")
                ));
            }
        };
        let mut i = LocalIssuer {
            alg: alg.into(),
            kid: String::new(),
            pkcs8,
        };
        let jwk = i.public_jwk()?;
        let digest = ring::digest::digest(&ring::digest::SHA256, jwk.to_string().as_bytes());
        i.kid = BASE64URL_NOPAD.encode(&digest.as_ref()[..12]);
        Ok(i)
    }

    pub fn alg(&self) -> &str {
        &self.alg
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JWK (without `kid`, `alg`, `use`).
    fn public_jwk(&self) -> Result<Value, CalloutError> {
        let b = |x: &[u8]| BASE64URL_NOPAD.encode(x);
        Ok(match self.alg.as_str() {
            a if a.starts_with("RS") || a.starts_with("PS") => {
                let kp = signature::RsaKeyPair::from_pkcs8(&self.pkcs8)
                    .or_else(|_| err("the issuer key is not an RSA key"))?;
                let c: ring::rsa::PublicKeyComponents<Vec<u8>> = kp.public().into();
                json!({"kty": "RSA", "n": b(&c.n), "e": b(&c.e)})
            }
            "ES256" | "ES384" => {
                let (params, crv, n) = if self.alg == "ES256" {
                    (&signature::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32)
                } else {
                    (&signature::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48)
                };
                let kp =
                    signature::EcdsaKeyPair::from_pkcs8(params, &self.pkcs8, &SystemRandom::new())
                        .or_else(|_| err("the issuer key is not an EC key of that curve"))?;
                let p = kp.public_key().as_ref();
                json!({"kty": "EC", "crv": crv, "x": b(&p[1..1 + n]), "y": b(&p[1 + n..])})
            }
            "EdDSA" => {
                let kp = signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&self.pkcs8)
                    .or_else(|_| err("the issuer key is not an Ed25519 key"))?;
                json!({"kty": "OKP", "crv": "Ed25519", "x": b(kp.public_key().as_ref())})
            }
            other => return err(format!("unknown algorithm `{other}`")),
        })
    }

    /// The JWK Set the callout reads: this one key, for signatures with its algorithm.
    pub fn jwks_json(&self) -> Result<String, CalloutError> {
        let mut k = self.public_jwk()?;
        k["kid"] = self.kid.clone().into();
        k["alg"] = self.alg.clone().into();
        k["use"] = "sig".into();
        Ok(format!(
            "{}\n",
            serde_json::to_string_pretty(&json!({"keys": [k]})).unwrap_or_default()
        ))
    }

    pub fn write_jwks(&self, path: &Path) -> Result<(), CalloutError> {
        let text = self.jwks_json()?;
        std::fs::write(path, text).or_else(|e| err(format!("cannot write {}: {e}", path.display())))
    }

    /// The key file: a line naming the algorithm and key ID, then the PKCS#8 PEM (0600).
    pub fn write_key(&self, path: &Path) -> Result<(), CalloutError> {
        let b64 = BASE64.encode(&self.pkcs8);
        let mut pem = format!(
            "natscc local OAuth2 issuer key: alg={} kid={}\n-----BEGIN PRIVATE KEY-----\n",
            self.alg, self.kid
        );
        for chunk in b64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(chunk));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        write_private(path, pem.as_bytes())
    }

    pub fn load_key(path: &Path) -> Result<LocalIssuer, CalloutError> {
        let text = crate::input::read_text(path).or_else(|e| {
            err(format!(
                "cannot read the issuer key {}: {e}",
                path.display()
            ))
        })?;
        let bad = || {
            err(format!(
                "{} is not a key `natscc token --generate-key` wrote",
                path.display()
            ))
        };
        let first = text.lines().next().unwrap_or_default();
        let field = |k: &str| {
            first
                .split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .map(str::to_string)
        };
        let (Some(alg), Some(kid)) = (field("alg="), field("kid=")) else {
            return bad();
        };
        let b64: String = text
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN PRIVATE KEY-----"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        let Ok(pkcs8) = BASE64.decode(b64.as_bytes()) else {
            return bad();
        };
        let i = LocalIssuer { alg, kid, pkcs8 };
        i.public_jwk()?;
        Ok(i)
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, CalloutError> {
        let rng = SystemRandom::new();
        let rsa = |pad: &'static dyn signature::RsaEncoding| -> Result<Vec<u8>, CalloutError> {
            let kp = signature::RsaKeyPair::from_pkcs8(&self.pkcs8)
                .or_else(|_| err("the issuer key is not an RSA key"))?;
            let mut sig = vec![0; kp.public().modulus_len()];
            kp.sign(pad, &rng, msg, &mut sig)
                .or_else(|_| err("RSA signing failed"))?;
            Ok(sig)
        };
        let ec =
            |params: &'static signature::EcdsaSigningAlgorithm| -> Result<Vec<u8>, CalloutError> {
                let kp = signature::EcdsaKeyPair::from_pkcs8(params, &self.pkcs8, &rng)
                    .or_else(|_| err("the issuer key is not an EC key of that curve"))?;
                Ok(kp
                    .sign(&rng, msg)
                    .or_else(|_| err("ECDSA signing failed"))?
                    .as_ref()
                    .to_vec())
            };
        match self.alg.as_str() {
            "RS256" => rsa(&signature::RSA_PKCS1_SHA256),
            "RS384" => rsa(&signature::RSA_PKCS1_SHA384),
            "RS512" => rsa(&signature::RSA_PKCS1_SHA512),
            "PS256" => rsa(&signature::RSA_PSS_SHA256),
            "PS384" => rsa(&signature::RSA_PSS_SHA384),
            "PS512" => rsa(&signature::RSA_PSS_SHA512),
            "ES256" => ec(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
            "ES384" => ec(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
            "EdDSA" => {
                let kp = signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&self.pkcs8)
                    .or_else(|_| err("the issuer key is not an Ed25519 key"))?;
                Ok(kp.sign(msg).as_ref().to_vec())
            }
            other => err(format!("unknown algorithm `{other}`")),
        }
    }

    /// Signs arbitrary claims (tests use it for tokens the callout must refuse).
    pub fn sign_claims(&self, claims: &Value) -> Result<String, CalloutError> {
        let header = json!({"alg": self.alg, "typ": "JWT", "kid": self.kid});
        let signed = format!(
            "{}.{}",
            BASE64URL_NOPAD.encode(header.to_string().as_bytes()),
            BASE64URL_NOPAD.encode(claims.to_string().as_bytes())
        );
        let sig = self.sign(signed.as_bytes())?;
        Ok(format!("{signed}.{}", BASE64URL_NOPAD.encode(&sig)))
    }

    /// A token for the OAuth2 identity `name` of permissions.json: its `subject` (else the
    /// name) as `sub`, its `azp`, its required scope (default `mqtt`) as `scope`.
    pub fn mint(
        &self,
        perms: &Permissions,
        name: &str,
        issuer: &str,
        audience: &str,
        ttl: Duration,
    ) -> Result<String, CalloutError> {
        let Some(e) = perms.oauth2_by_name.get(name) else {
            let known: Vec<&str> = perms.oauth2_by_name.keys().map(String::as_str).collect();
            return err(if known.is_empty() {
                format!("permissions.json has no OAuth2 identities (no `{name}`)")
            } else {
                format!(
                    "no OAuth2 identity `{name}` in permissions.json (it has: {})",
                    known.join(", ")
                )
            });
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut c = json!({
            "iss": issuer,
            "aud": audience,
            "sub": if e.subject.is_empty() { name } else { e.subject.as_str() },
            "scope": e.required_scope,
            "iat": now,
            "exp": now + ttl.as_secs().max(1),
        });
        if !e.azp.is_empty() {
            c["azp"] = e.azp.clone().into();
        }
        self.sign_claims(&c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callout::jwks::{Jwks, JwksSource};
    use crate::callout::token as jwks;

    /// Every algorithm the local issuer signs with verifies through the callout's JWKS path,
    /// and only when the config lists it.
    #[test]
    fn tokens_of_every_algorithm_verify() {
        let dir = tempfile::tempdir().unwrap();
        let perms = Permissions::parse(
            br#"{"oauth2":{"app":{"azp":"app-client","account":"CSC","required_scope":"events"}}}"#,
            &Default::default(),
        )
        .unwrap();
        for alg in ["RS256", "PS384", "ES256", "ES384", "EdDSA"] {
            let i = LocalIssuer::generate(alg).unwrap();
            let key = dir.path().join(format!("{alg}.pem"));
            i.write_key(&key).unwrap();
            let i = LocalIssuer::load_key(&key).unwrap();
            let jwks_path = dir.path().join(format!("{alg}.json"));
            i.write_jwks(&jwks_path).unwrap();
            let set = Jwks::new(JwksSource::File(jwks_path)).unwrap();
            let t = i
                .mint(&perms, "app", "iss", "aud", Duration::from_secs(60))
                .unwrap();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            let c = jwks::verify(&t, &set, &[alg.to_string()], "iss", "aud", now)
                .unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert_eq!((c.azp.as_str(), c.scope.as_str()), ("app-client", "events"));
            let other = if alg == "RS256" { "ES256" } else { "RS256" };
            assert_eq!(
                jwks::verify(&t, &set, &[other.to_string()], "iss", "aud", now).unwrap_err(),
                format!("token signature is invalid: signing method {alg} is invalid")
            );
            assert_eq!(
                jwks::verify(&t, &set, &[alg.to_string()], "iss", "aud", now + 120.0).unwrap_err(),
                "token has invalid claims: token is expired"
            );
        }
    }
}
