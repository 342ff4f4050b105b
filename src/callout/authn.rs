//! Who is connecting: the peer's authenticators in its priority order (OAuth2 when a JWKS is
//! configured, mTLS when a CA path is, then NKey, then no-auth). The first that can handle the
//! request decides; its failure is final. Errors carry the peer's texts, since they end up in
//! the denial the server logs.

use super::jwks::Jwks;
use super::mtls::{self, CaPool};
use super::permissions::{Permissions, Profile};
use super::token;
use data_encoding::BASE64URL_NOPAD;
use serde_json::Value;

pub struct OAuth2 {
    pub jwks: Jwks,
    pub issuer: String,
    pub audience: String,
    pub algorithms: Vec<String>,
}

pub struct Authenticators {
    pub oauth2: Option<OAuth2>,
    pub mtls: Option<CaPool>,
}

/// How the identity was established, for the success log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    OAuth2,
    Mtls,
    NKey,
    NoAuth,
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_str()
        .unwrap_or_default()
}

fn has_mtls(req: &Value) -> bool {
    req["client_tls"]["verified_chains"]
        .as_array()
        .is_some_and(|c| !c.is_empty())
}

/// The token the client presented: `auth_token`, else the password of user `oauthtoken`.
fn oauth2_token(req: &Value) -> Option<&str> {
    let token = s(req, &["connect_opts", "auth_token"]);
    if !token.is_empty() {
        return Some(token);
    }
    let pass = s(req, &["connect_opts", "pass"]);
    (s(req, &["connect_opts", "user"]) == "oauthtoken" && !pass.is_empty()).then_some(pass)
}

fn oauth2(o: &OAuth2, perms: &Permissions, token: &str, now: f64) -> Result<Profile, String> {
    if token.matches('.').count() != 2 {
        return Err("invalid token format".into());
    }
    let wrap = |e: String| format!("OAuth2 authentication failed: {e}");
    let c = token::verify(token, &o.jwks, &o.algorithms, &o.issuer, &o.audience, now)
        .map_err(|e| wrap(format!("failed to parse JWT: {e}")))?;
    let entry = perms.oauth2(&c.subject, &c.azp).ok_or_else(|| {
        wrap(format!(
            "user not found in permissions config: sub={}, azp={}",
            c.subject, c.azp
        ))
    })?;
    let has = if !c.scope.is_empty() {
        c.scope
            .split_whitespace()
            .any(|x| x == entry.required_scope)
    } else {
        c.scopes.contains(&entry.required_scope)
    };
    if !has {
        return Err(wrap(format!(
            "missing required scope: {}",
            entry.required_scope
        )));
    }
    Ok(entry.profile.clone())
}

fn mtls_auth(ca: &CaPool, perms: &Permissions, req: &Value) -> Result<(Profile, String), String> {
    let chain = &req["client_tls"]["verified_chains"][0];
    let Some(first) = chain.as_array().and_then(|c| c.first()) else {
        return Err("empty certificate chain".into());
    };
    let wrap = |e: String| format!("mTLS authentication failed: {e}");
    let identity = mtls::identify(first.as_str().unwrap_or_default(), ca).map_err(wrap)?;
    let p = perms
        .mtls(&identity)
        .ok_or_else(|| wrap(format!("user not found in permissions config: {identity}")))?;
    Ok((p.clone(), identity))
}

fn nkey(perms: &Permissions, req: &Value) -> Result<Profile, String> {
    let key = s(req, &["connect_opts", "nkey"]);
    let p = perms
        .nkey(key)
        .ok_or("NKey not found in permissions config")?;
    let sig = s(req, &["connect_opts", "sig"]);
    if sig.is_empty() {
        return Err("no signed nonce provided".into());
    }
    let kp =
        nkeys::KeyPair::from_public_key(key).map_err(|e| format!("invalid public key: {e}"))?;
    let sig = BASE64URL_NOPAD.decode(sig.as_bytes()).map_err(|e| {
        format!(
            "failed to decode signature: illegal base64 data at input byte {}",
            e.position
        )
    })?;
    kp.verify(s(req, &["client_info", "nonce"]).as_bytes(), &sig)
        .map_err(|_| {
            "signature verification failed: nkeys: signature verification failed".to_string()
        })?;
    Ok(p.clone())
}

impl Authenticators {
    /// The identity for this request, or the denial text the peer sends.
    pub fn authenticate(
        &self,
        perms: &Permissions,
        req: &Value,
        now: f64,
    ) -> Result<(Profile, Method, String), String> {
        let failed = |e: String| format!("authentication failed: {e}");
        if let Some(o) = &self.oauth2
            && let Some(token) = oauth2_token(req)
        {
            let p = oauth2(o, perms, token, now).map_err(failed)?;
            return Ok((p, Method::OAuth2, String::new()));
        }
        if let Some(ca) = &self.mtls
            && has_mtls(req)
        {
            let (p, identity) = mtls_auth(ca, perms, req).map_err(failed)?;
            return Ok((p, Method::Mtls, identity));
        }
        if !s(req, &["connect_opts", "nkey"]).is_empty() {
            let p = nkey(perms, req).map_err(failed)?;
            return Ok((p, Method::NKey, String::new()));
        }
        // No-auth takes a client that presented neither a token, a verified certificate nor an
        // NKey (a user/password client too, as in the peer).
        let token = !s(req, &["connect_opts", "auth_token"]).is_empty();
        if !token && !has_mtls(req) {
            return perms
                .noauth()
                .cloned()
                .map(|p| (p, Method::NoAuth, String::new()))
                .ok_or_else(|| failed("noauth not configured".into()));
        }
        Err("no valid authenticator available for provided credentials".into())
    }
}
