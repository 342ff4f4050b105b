//! One authorization request, from the server's sealed message to the signed answer, as
//! synadia's callout library (which the peer runs) handles it: requests that are not what the
//! server sends are dropped without an answer (the server then times the client out), a denial
//! is answered with the error in the response claims and the micro service's 401 headers.

use super::authn::{Authenticators, Method};
use super::log::Log;
use super::natsjwt;
use super::permissions::Permissions;
use serde_json::{Value, json};

pub const AUTH_SUBJECT: &str = "$SYS.REQ.USER.AUTH";
pub const XKEY_HEADER: &str = "Nats-Server-Xkey";
const EXPECTED_AUDIENCE: &str = "nats-authorization-request";
/// micro's `msg.Error("401", "unauthorized", data)`.
const DENIAL_HEADERS: &str =
    "NATS/1.0\r\nNats-Service-Error: unauthorized\r\nNats-Service-Error-Code: 401\r\n\r\n";

/// permissions.json and when it was last looked at: the peer re-reads it when it changes
/// (polling every 5 s), so an operator's edit applies without a restart.
pub struct PermsFile {
    pub path: std::path::PathBuf,
    pub env: std::collections::BTreeMap<String, String>,
    pub current: std::sync::Arc<Permissions>,
    pub modified: Option<std::time::SystemTime>,
    pub checked: std::time::Instant,
}

const RELOAD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Responder {
    pub issuer: nkeys::KeyPair,
    pub xkey: Option<nkeys::XKey>,
    pub perms: std::sync::Mutex<PermsFile>,
    pub authn: Authenticators,
    pub log: Log,
}

/// What to send back: headers (for a denial) and the payload; `None` drops the request.
pub struct Reply {
    pub headers: Option<&'static str>,
    pub payload: Vec<u8>,
    pub denied: bool,
}

fn now() -> (i64, f64) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.as_secs_f64())
}

impl Responder {
    /// The permissions to decide with: reloaded when the file changed since the last look (at
    /// most every 5 s); a file that no longer parses keeps the previous permissions, as the peer.
    fn permissions(&self) -> std::sync::Arc<Permissions> {
        let mut f = self.perms.lock().unwrap_or_else(|e| e.into_inner());
        if f.checked.elapsed() >= RELOAD_EVERY {
            f.checked = std::time::Instant::now();
            let modified = std::fs::metadata(&f.path).and_then(|m| m.modified()).ok();
            if modified != f.modified {
                f.modified = modified;
                self.log.info("Config file changed, reloading...", &[]);
                match Permissions::load(&f.path, &f.env) {
                    Ok(p) => {
                        f.current = std::sync::Arc::new(p);
                        self.log.info("Config reloaded successfully", &[]);
                    }
                    Err(e) => self
                        .log
                        .error("Error reloading config", &[("error", e.into())]),
                }
            }
        }
        f.current.clone()
    }

    fn abort(&self, why: String) -> Option<Reply> {
        self.log.error(&why, &[]);
        None
    }

    /// Opens and checks the request (callout.go's `decode`).
    fn decode(&self, payload: &[u8], server_xkey: Option<&str>) -> Result<(bool, Value), String> {
        if payload.len() < 4 {
            return Err(format!("bad request: payload too short: {}", payload.len()));
        }
        let encrypted = !payload.starts_with(b"eyJ0");
        match (&self.xkey, encrypted) {
            (Some(_), false) => {
                return Err("bad request: encryption mismatch: payload is not encrypted".into());
            }
            (None, true) => {
                return Err("bad request: encryption mismatch: payload is encrypted".into());
            }
            _ => {}
        }
        let opened;
        let data = match &self.xkey {
            Some(x) => {
                let sender = nkeys::XKey::from_public_key(server_xkey.unwrap_or_default())
                    .map_err(|e| format!("bad request: error decrypting message: {e}"))?;
                opened = x
                    .open(payload, &sender)
                    .map_err(|e| format!("bad request: error decrypting message: {e}"))?;
                &opened[..]
            }
            None => payload,
        };
        let token = std::str::from_utf8(data)
            .map_err(|e| format!("bad request: error decoding auth request: {e}"))?;
        let claims = natsjwt::decode(token)
            .map_err(|e| format!("bad request: error decoding auth request: {e}"))?;
        let iss = claims["iss"].as_str().unwrap_or_default();
        let server_id = claims["nats"]["server_id"]["id"]
            .as_str()
            .unwrap_or_default();
        let aud = claims["aud"].as_str().unwrap_or_default();
        if !iss.starts_with('N') {
            return Err(format!("bad request: expected server: {iss:?}"));
        }
        if iss != server_id {
            // The library prints the audience here, not the issuer.
            return Err(format!(
                "bad request: issuers don't match: {aud:?} != {server_id:?}"
            ));
        }
        if aud != EXPECTED_AUDIENCE {
            return Err(format!("bad request: unexpected audience: {aud:?}"));
        }
        Ok((encrypted, claims))
    }

    /// Handles one request message.
    pub fn handle(&self, payload: &[u8], server_xkey: Option<&str>) -> Option<Reply> {
        let (encrypted, claims) = match self.decode(payload, server_xkey) {
            Ok(x) => x,
            Err(e) => return self.abort(e),
        };
        let req = &claims["nats"];
        let user_nkey = req["user_nkey"].as_str().unwrap_or_default();
        let server_id = req["server_id"]["id"].as_str().unwrap_or_default();
        self.log.debug(
            "Received auth request",
            &[
                ("server", req["server_id"]["name"].clone()),
                ("client_host", req["client_info"]["host"].clone()),
                ("username", req["connect_opts"]["user"].clone()),
            ],
        );
        let (secs, fsecs) = now();
        let perms = self.permissions();
        let (user_jwt, error) = match self.authn.authenticate(&perms, req, fsecs) {
            Ok((p, method, identity)) => {
                let (what, mut fields) = match method {
                    Method::OAuth2 => ("OAuth2 authentication successful", vec![]),
                    Method::Mtls => (
                        "mTLS authentication successful",
                        vec![("identity", Value::from(identity))],
                    ),
                    Method::NKey => (
                        "NKey authentication successful",
                        vec![("name", Value::from(p.name.clone()))],
                    ),
                    Method::NoAuth => (
                        "NoAuth authentication successful",
                        vec![("name", Value::from(p.name.clone()))],
                    ),
                };
                fields.push(("account", p.account.clone().into()));
                self.log.info(what, &fields);
                self.log.info(
                    "Authentication successful",
                    &[
                        ("user", p.name.clone().into()),
                        ("account", p.account.clone().into()),
                    ],
                );
                let uc = natsjwt::user_claims(user_nkey, &p.name, &p.account, &p.permissions);
                (Some(natsjwt::encode(uc, &self.issuer, secs)), None)
            }
            Err(e) => {
                self.log.error(
                    &format!("request failed for {user_nkey}: {e}"),
                    &[("reason", "rejected authorization request".into())],
                );
                (None, Some(e))
            }
        };
        let rc = natsjwt::response_claims(
            user_nkey,
            server_id,
            &self.issuer.public_key(),
            user_jwt.as_deref(),
            error.as_deref(),
        );
        let token = natsjwt::encode(rc, &self.issuer, secs);
        let payload = match (&self.xkey, encrypted) {
            (Some(x), true) => {
                let recipient = req["server_id"]["xkey"].as_str().unwrap_or_default();
                match nkeys::XKey::from_public_key(recipient)
                    .and_then(|r| x.seal(token.as_bytes(), &r))
                {
                    Ok(sealed) => sealed,
                    Err(e) => {
                        return self.abort(format!("request failed for {user_nkey}: {e}"));
                    }
                }
            }
            _ => token.into_bytes(),
        };
        let denied = error.is_some();
        Some(Reply {
            headers: denied.then_some(DENIAL_HEADERS),
            payload,
            denied,
        })
    }
}

/// The micro service's discovery answers (`$SRV.PING|INFO|STATS[.auth-callout[.ID]]`), which the
/// chart's AUTH account imports from AUTHX.
pub fn micro_answer(
    kind: &str,
    id: &str,
    started: &str,
    requests: u64,
    errors: u64,
) -> Option<Value> {
    let base = json!({"name": "auth-callout", "id": id, "version": "0.0.1", "metadata": {}});
    let endpoint = json!({"name": "default", "subject": AUTH_SUBJECT, "queue_group": "q"});
    let mut v = base;
    match kind {
        "PING" => v["type"] = "io.nats.micro.v1.ping_response".into(),
        "INFO" => {
            v["type"] = "io.nats.micro.v1.info_response".into();
            v["description"] = "Authorization Service".into();
            let mut e = endpoint;
            e["metadata"] = Value::Null;
            v["endpoints"] = json!([e]);
        }
        "STATS" => {
            v["type"] = "io.nats.micro.v1.stats_response".into();
            v["started"] = started.into();
            let mut e = endpoint;
            e["num_requests"] = requests.into();
            e["num_errors"] = errors.into();
            e["last_error"] = "".into();
            e["processing_time"] = 0.into();
            e["average_processing_time"] = 0.into();
            v["endpoints"] = json!([e]);
        }
        _ => return None,
    }
    Some(v)
}
