//! NATS JWTs (nats-io/jwt v2): the server's authorization request it signs with its own key,
//! and the user and authorization-response claims the callout signs with the AUTH account's
//! issuer key. Header `{"typ":"JWT","alg":"ed25519-nkey"}`, claims in base64url without
//! padding, an Ed25519 signature over `header.claims`, `jti` the SHA-512/256 of the claims.

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use serde_json::{Map, Value, json};

const HEADER: &str = r#"{"typ":"JWT","alg":"ed25519-nkey"}"#;

/// Decodes and verifies a NATS JWT: the header names the NKey algorithm, the signature is the
/// issuer's. Errors read as nats-io/jwt's.
pub fn decode(token: &str) -> Result<Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("expected 3 chunks".into());
    }
    let header = BASE64URL_NOPAD
        .decode(parts[0].as_bytes())
        .map_err(|e| format!("illegal base64 data: {e}"))?;
    let header: Value = serde_json::from_slice(&header).map_err(|e| e.to_string())?;
    if !header["typ"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case("JWT"))
    {
        return Err(format!("not supported type {:?}", header["typ"]));
    }
    if !matches!(header["alg"].as_str(), Some("ed25519-nkey" | "ed25519")) {
        return Err(format!("unexpected {:?} algorithm", header["alg"]));
    }
    let claims = BASE64URL_NOPAD
        .decode(parts[1].as_bytes())
        .map_err(|e| format!("illegal base64 data: {e}"))?;
    let claims: Value = serde_json::from_slice(&claims).map_err(|e| e.to_string())?;
    let sig = BASE64URL_NOPAD
        .decode(parts[2].as_bytes())
        .map_err(|e| format!("illegal base64 data: {e}"))?;
    let iss = claims["iss"].as_str().unwrap_or_default();
    let kp = nkeys::KeyPair::from_public_key(iss).map_err(|e| e.to_string())?;
    let signed = &token[..parts[0].len() + 1 + parts[1].len()];
    kp.verify(signed.as_bytes(), &sig)
        .map_err(|_| "claim failed V2 signature verification".to_string())?;
    Ok(claims)
}

/// Signs `claims` (an object with the registered claims and `nats`) with `kp`: sets `iss`,
/// `iat` and `jti` as nats-io/jwt's `Encode` does.
pub fn encode(mut claims: Map<String, Value>, kp: &nkeys::KeyPair, now: i64) -> String {
    claims.insert("iss".into(), kp.public_key().into());
    claims.insert("iat".into(), now.into());
    claims.remove("jti");
    // The ID hashes the registered claims only (nats-io/jwt's ClaimsData.hash).
    let registered: Map<String, Value> = claims
        .iter()
        .filter(|(k, _)| k.as_str() != "nats")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let digest = ring::digest::digest(
        &ring::digest::SHA512_256,
        Value::Object(registered).to_string().as_bytes(),
    );
    claims.insert("jti".into(), BASE32_NOPAD.encode(digest.as_ref()).into());
    let signed = format!(
        "{}.{}",
        BASE64URL_NOPAD.encode(HEADER.as_bytes()),
        BASE64URL_NOPAD.encode(Value::Object(claims).to_string().as_bytes())
    );
    // A seed-backed key pair always signs.
    let sig = kp.sign(signed.as_bytes()).unwrap_or_default();
    format!("{signed}.{}", BASE64URL_NOPAD.encode(&sig))
}

/// The user claims the peer issues (`jwt.NewUserClaims` + its handler): `aud` is the account
/// (the server places the user there), permissions as configured, subs/data/payload unlimited,
/// no expiry.
pub fn user_claims(
    user_nkey: &str,
    name: &str,
    account: &str,
    permissions: &Value,
) -> Map<String, Value> {
    let mut nats = match permissions {
        Value::Object(p) => p.clone(),
        _ => Map::new(),
    };
    // Go marshals the Pub and Sub structs even when empty.
    nats.entry("pub").or_insert_with(|| json!({}));
    nats.entry("sub").or_insert_with(|| json!({}));
    nats.insert("subs".into(), (-1).into());
    nats.insert("data".into(), (-1).into());
    nats.insert("payload".into(), (-1).into());
    nats.insert("type".into(), "user".into());
    nats.insert("version".into(), 2.into());
    let mut c = Map::new();
    c.insert("aud".into(), account.into());
    if !name.is_empty() {
        c.insert("name".into(), name.into());
    }
    c.insert("sub".into(), user_nkey.into());
    c.insert("nats".into(), Value::Object(nats));
    c
}

/// The authorization response (`jwt.NewAuthorizationResponseClaims` as synadia's callout library
/// fills it): for the server's per-connection user key, addressed to the server's ID, carrying
/// the user JWT or the error.
pub fn response_claims(
    user_nkey: &str,
    server_id: &str,
    issuer_account: &str,
    user_jwt: Option<&str>,
    error: Option<&str>,
) -> Map<String, Value> {
    let mut nats = Map::new();
    if let Some(j) = user_jwt {
        nats.insert("jwt".into(), j.into());
    }
    if let Some(e) = error {
        nats.insert("error".into(), e.into());
    }
    nats.insert("issuer_account".into(), issuer_account.into());
    nats.insert("type".into(), "authorization_response".into());
    nats.insert("version".into(), 2.into());
    let mut c = Map::new();
    c.insert("aud".into(), server_id.into());
    c.insert("sub".into(), user_nkey.into());
    c.insert("nats".into(), Value::Object(nats));
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let kp = nkeys::KeyPair::new_account();
        let user = nkeys::KeyPair::new_user().public_key();
        let perms = json!({"pub": {"allow": ["a.>"]}});
        let t = encode(user_claims(&user, "n", "CPC", &perms), &kp, 1_700_000_000);
        let c = decode(&t).unwrap();
        assert_eq!(c["iss"], kp.public_key());
        assert_eq!(c["aud"], "CPC");
        assert_eq!(c["nats"]["pub"]["allow"][0], "a.>");
        assert_eq!(c["nats"]["sub"], json!({}));
        assert_eq!(c["nats"]["subs"], -1);
        let mut bad = t.clone();
        bad.push('A');
        assert!(decode(&bad).is_err());
    }
}
