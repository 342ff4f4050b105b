//! The JWK Set behind OAuth2 tokens, kept as keyfunc v3.8.1's default client keeps it
//! (`keyfunc.NewDefaultCtx` over jwkset's `NewDefaultHTTPClientCtx`): the keys in the set's
//! order, a `kid` read as the first key carrying it; the set fetched once at start (a failure
//! only logged), again every hour, and again when a token names a `kid` it does not hold, at
//! most once per 5 minutes (a token bucket of one, `rate.Every(5*time.Minute)`, full at start;
//! the attempt spends it whether or not it succeeds). Unlike the peer, no request waits on the
//! identity provider: fetches run on a refresher thread; the request whose unknown `kid` starts
//! one waits for it at most half a second, the others not at all (the peer waits up to a
//! minute, holding every login behind it).

use data_encoding::{BASE64URL, BASE64URL_NOPAD};
use ring::signature::{self, UnparsedPublicKey};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// keyfunc's periodic refresh (`RefreshInterval`).
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(3600);
/// keyfunc's unknown-`kid` refresh limit: one per this long (`RefreshUnknownKID`).
pub const UNKNOWN_KID_EVERY: Duration = Duration::from_secs(300);
/// jwkset's `HTTPTimeout` default, for one fetch.
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the request whose unknown `kid` started a refresh waits for it.
const TRIGGER_WAIT: Duration = Duration::from_millis(500);

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
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        crv: String,
        point: Vec<u8>,
    },
    Ed25519(Vec<u8>),
    /// A key jwkset keeps but natscc cannot verify with (`oct`, another curve): it still
    /// holds its place, and its `kid`, in the set.
    Other,
}

#[derive(Debug, Clone)]
pub struct Jwk {
    pub alg: Option<String>,
    key: Key,
}

/// The keys in the set's order, with their `kid` (empty when the key has none).
type Keys = Arc<Vec<(String, Jwk)>>;

struct State {
    keys: Keys,
    /// When the unknown-`kid` bucket holds a token again (`None`: it is full).
    next_token: Option<Instant>,
    /// A fetch asked of the refresher and not started yet.
    pending: bool,
    /// Fetches finished, so a waiter sees its own end.
    done: u64,
    stop: bool,
    /// Why the last fetch failed, for the log.
    last_error: Option<String>,
}

struct Shared {
    source: JwksSource,
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct Jwks {
    shared: Arc<Shared>,
}

fn b64(v: &Value) -> Option<Vec<u8>> {
    let s = v.as_str()?;
    BASE64URL_NOPAD
        .decode(s.trim_end_matches('=').as_bytes())
        .ok()
        .or_else(|| BASE64URL.decode(s.as_bytes()).ok())
}

/// Parses a JWK Set in order. Keys are kept whatever their `use` (keyfunc's default has no
/// `use` whitelist) and without a `kid` too (jwkset stores them under ""); a key natscc cannot
/// verify with keeps its place as `Key::Other`.
fn parse_set(text: &[u8]) -> Result<Vec<(String, Jwk)>, String> {
    let v: Value =
        serde_json::from_slice(text).map_err(|e| format!("failed to decode the JWK Set: {e}"))?;
    let keys = v["keys"]
        .as_array()
        .ok_or("the JWK Set has no \"keys\" array")?;
    let mut out = vec![];
    for k in keys {
        let kid = k["kid"].as_str().unwrap_or_default();
        let key = match k["kty"].as_str() {
            Some("RSA") => match (b64(&k["n"]), b64(&k["e"])) {
                (Some(n), Some(e)) => Key::Rsa { n, e },
                _ => Key::Other,
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
                _ => Key::Other,
            },
            Some("OKP") if k["crv"] == "Ed25519" => match b64(&k["x"]) {
                Some(x) => Key::Ed25519(x),
                None => Key::Other,
            },
            _ => Key::Other,
        };
        let alg = k["alg"].as_str().map(str::to_string);
        out.push((kid.to_string(), Jwk { alg, key }));
    }
    Ok(out)
}

/// A GET over plain HTTP/1.0 (no chunking to undo), for a JWKS URL.
fn http_get(url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    use std::io::{Read, Write};
    use std::net::{TcpStream, ToSocketAddrs};
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!(
            "JWKS URL `{url}`: natscc fetches http:// URLs only (it has no TLS client); give a \
             JWKS file instead (--jwks FILE)"
        )
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
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("{url}: no answer within {}s", timeout.as_secs()))
    };
    let mut s =
        TcpStream::connect_timeout(&sa, left()?).map_err(|e| format!("cannot reach {url}: {e}"))?;
    s.write_all(
        format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: application/json\r\n\r\n")
            .as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut buf = vec![];
    let mut chunk = [0u8; 16 * 1024];
    loop {
        s.set_read_timeout(Some(left()?))
            .map_err(|e| e.to_string())?;
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() as u64 > crate::input::MAX_BYTES {
                    return Err(format!(
                        "cannot read {url}: the answer is larger than {}",
                        crate::input::MAX_TEXT
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read {url}: {e}")),
        }
    }
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

fn fetch(source: &JwksSource) -> Result<Vec<(String, Jwk)>, String> {
    let text = match source {
        JwksSource::File(p) => crate::input::read(p)
            .map_err(|e| format!("cannot read the JWKS file {}: {e}", p.display()))?,
        JwksSource::Url(u) => http_get(u, HTTP_TIMEOUT)?,
    };
    parse_set(&text)
}

/// The refresher: a fetch when one is asked for or the interval passed; the set is swapped
/// only when the fetch succeeds (jwkset keeps the old keys otherwise).
fn refresher(shared: Arc<Shared>) {
    let mut last = Instant::now();
    loop {
        let mut st = shared.lock();
        while !st.stop && !st.pending && last.elapsed() < REFRESH_INTERVAL {
            let wait = REFRESH_INTERVAL.saturating_sub(last.elapsed());
            st = shared
                .changed
                .wait_timeout(st, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if st.stop {
            return;
        }
        st.pending = false;
        drop(st);
        let got = fetch(&shared.source);
        last = Instant::now();
        let mut st = shared.lock();
        match got {
            Ok(keys) => {
                st.keys = Arc::new(keys);
                st.last_error = None;
            }
            Err(e) => st.last_error = Some(e),
        }
        st.done += 1;
        shared.changed.notify_all();
    }
}

impl Jwks {
    /// Reads the set once. A file that cannot be read fails the start (natscc's own option);
    /// a URL that cannot be fetched starts with no keys, as keyfunc does
    /// (`NoErrorReturnFirstHTTPReq`): `last_error` tells why, and the refresher tries again.
    pub fn new(source: JwksSource) -> Result<Jwks, String> {
        let (keys, last_error) = match (&source, fetch(&source)) {
            (_, Ok(k)) => (k, None),
            (JwksSource::File(_), Err(e)) => return Err(e),
            (JwksSource::Url(_), Err(e)) => (vec![], Some(e)),
        };
        let shared = Arc::new(Shared {
            source,
            state: Mutex::new(State {
                keys: Arc::new(keys),
                next_token: None,
                pending: false,
                done: 0,
                stop: false,
                last_error,
            }),
            changed: Condvar::new(),
        });
        if let JwksSource::Url(_) = shared.source {
            let s = shared.clone();
            std::thread::Builder::new()
                .name("natscc-jwks-refresh".into())
                .spawn(move || refresher(s))
                .map_err(|e| format!("cannot start the JWKS refresher: {e}"))?;
        }
        Ok(Jwks { shared })
    }

    /// Why the last fetch failed, if it did.
    pub fn last_error(&self) -> Option<String> {
        self.shared.lock().last_error.clone()
    }

    /// Every key, in the set's order (a token without `kid`).
    pub fn all(&self) -> Keys {
        self.shared.lock().keys.clone()
    }

    /// The first key with this `kid`. An unknown one re-reads a file at once, or, for a URL,
    /// asks the refresher for a fetch when the bucket holds a token, and waits for it briefly.
    pub fn key(&self, kid: &str) -> Option<Jwk> {
        let first = |k: &Keys| k.iter().find(|(id, _)| id == kid).map(|(_, j)| j.clone());
        let mut st = self.shared.lock();
        if let Some(k) = first(&st.keys) {
            return Some(k);
        }
        if let JwksSource::File(_) = self.shared.source {
            drop(st);
            let keys = Arc::new(fetch(&self.shared.source).ok()?);
            self.shared.lock().keys = keys.clone();
            return first(&keys);
        }
        let now = Instant::now();
        if st.next_token.is_some_and(|t| now < t) {
            return None;
        }
        st.next_token = Some(now + UNKNOWN_KID_EVERY);
        st.pending = true;
        let done = st.done;
        self.shared.changed.notify_all();
        let deadline = now + TRIGGER_WAIT;
        while st.done == done {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            st = self
                .shared
                .changed
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        first(&st.keys)
    }
}

impl Drop for Jwks {
    fn drop(&mut self) {
        // The refresher ends at its next wake-up; one blocked on a slow provider ends when
        // the fetch does (bounded by the HTTP timeout), and nobody waits for it.
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
    }
}

/// Verifies `sig` over `msg` with one key, as golang-jwt's signing method does; errors in its
/// words.
pub fn verify_sig(alg: &str, jwk: &Jwk, msg: &[u8], sig: &[u8]) -> Result<(), &'static str> {
    let key = &jwk.key;
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
