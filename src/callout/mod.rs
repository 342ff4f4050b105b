//! natscc's auth callout: what the chart's auth-callout service (NVIDIA/dsx-exchange,
//! `auth-callout/src`) does, built in. It connects as the AUTHX user, answers
//! `$SYS.REQ.USER.AUTH` (xkey-sealed when the server config names an `xkey`), authenticates
//! OAuth2 bearer tokens, mTLS client certificates, NKey users and no-auth clients against
//! `permissions.json`, and answers with a user JWT signed by the AUTH account's issuer key.
//!
//! Stages, one per file: `config` (the pod's config file and env), `conn` (the NATS
//! connection), `service` (one request: open, check, answer), `authn` (who is connecting),
//! `jwks` (OAuth2 tokens), `mtls` (client certificates), `permissions` (permissions.json),
//! `natsjwt` (NATS JWTs), `issuer` (a local OAuth2 issuer for local runs), `log`.

mod authn;
pub mod config;
pub mod conn;
pub mod gojson;
pub mod issuer;
pub mod jwks;
mod log;
pub mod mtls;
mod natsjwt;
pub mod permissions;
mod service;
mod token;

pub use config::{CalloutConfig, Keys, OAuth2Config};
pub use issuer::LocalIssuer;
pub use jwks::JwksSource;
pub use permissions::Permissions;
pub use token::verify as verify_token;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why the callout could not start (bad keys, an unreadable permissions file, a JWKS it cannot
/// read, no server within the ready timeout). Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalloutError {
    /// A setting, key or file the responder cannot use: nothing was started.
    Invalid(String),
    /// No server confirmed the subscription within the ready timeout: it was stopped again.
    NotReady(String),
}

impl std::fmt::Display for CalloutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CalloutError::Invalid(m) | CalloutError::NotReady(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CalloutError {}

fn fail<T>(msg: impl Into<String>) -> Result<T, CalloutError> {
    Err(CalloutError::Invalid(msg.into()))
}

/// A running responder: its thread, and how to stop it.
pub struct Callout {
    stop: Arc<AtomicBool>,
    stopper: Arc<Mutex<Option<conn::Stopper>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Builds what the peer builds in `service.New`, failing where it would fail at start.
fn responder(cfg: &CalloutConfig) -> Result<service::Responder, CalloutError> {
    let log = log::Log::new(log::Level::parse(&cfg.log_level), cfg.log.as_ref())
        .or_else(|e| fail(format!("cannot open the log file: {e}")))?;
    if cfg.keys.issuer_seed.trim().is_empty() {
        return fail("issuer seed is required");
    }
    let issuer = nkeys::KeyPair::from_seed(cfg.keys.issuer_seed.trim())
        .or_else(|_| fail("error parsing issuer seed: not a valid seed"))?;
    if issuer.key_pair_type() != nkeys::KeyPairType::Account {
        return fail("error parsing issuer seed: the issuer must be an account seed (SA...)");
    }
    log.info(
        "Issuer public key loaded",
        &[("public_key", issuer.public_key().into())],
    );
    let xkey = match cfg.keys.xkey_seed.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => {
            let x = nkeys::XKey::from_seed(s)
                .or_else(|_| fail("error parsing xkey seed: not a valid curve seed"))?;
            log.info("XKey encryption enabled", &[]);
            Some(x)
        }
        _ => None,
    };
    let perms = Permissions::load(&cfg.permissions, &cfg.env).or_else(|e| {
        fail(format!(
            "error initializing permissions manager: failed to load initial config: {e}"
        ))
    })?;
    let (o, m, n, noauth) = perms.summary();
    log.info(
        "Loaded permissions config",
        &[
            ("oauth2_count", o.into()),
            ("mtls_count", m.into()),
            ("nkey_count", n.into()),
            (
                "noauth",
                noauth
                    .map(|a| format!("enabled (account: {a})"))
                    .unwrap_or_else(|| "disabled".into())
                    .into(),
            ),
        ],
    );
    let oauth2 = match &cfg.oauth2 {
        None => None,
        Some(oc) => {
            fn bad<T>(m: String) -> Result<T, CalloutError> {
                fail(format!("error initializing OAuth2 authenticator: {m}"))
            }
            if oc.issuer.is_empty() {
                return bad("OAuth2 issuer is required".into());
            }
            if oc.audience.is_empty() {
                return bad("OAuth2 audience is required".into());
            }
            if oc.signing_algorithms.is_empty() {
                return bad("OAuth2 signing algorithms are required".into());
            }
            if let Some(a) = oc
                .signing_algorithms
                .iter()
                .find(|a| !jwks::SUPPORTED.contains(&a.as_str()))
            {
                return bad(format!("unsupported OAuth2 signing algorithm {a:?}"));
            }
            let set = jwks::Jwks::new(oc.jwks.clone())
                .or_else(|e| bad(format!("failed to create JWKS client: {e}")))?;
            if let Some(e) = set.last_error() {
                // keyfunc starts anyway and logs it; its refresher tries again.
                log.error(
                    "Failed to refresh HTTP JWK Set from remote HTTP resource.",
                    &[("error", e.into()), ("url", oc.jwks.describe().into())],
                );
            }
            log.info(
                "OAuth2 authenticator enabled",
                &[
                    ("jwks", oc.jwks.describe().into()),
                    ("signing_algorithms", oc.signing_algorithms.clone().into()),
                ],
            );
            Some(authn::OAuth2 {
                jwks: set,
                issuer: oc.issuer.clone(),
                audience: oc.audience.clone(),
                algorithms: oc.signing_algorithms.clone(),
            })
        }
    };
    let mtls = match &cfg.mtls_ca {
        None => None,
        Some(p) => {
            let pem = crate::input::read(p)
                .or_else(|e| fail(format!("error reading CA certificate {}: {e}", p.display())))?;
            let pool = mtls::CaPool::from_pem(&pem)
                .or_else(|e| fail(format!("error initializing mTLS authenticator: {e}")))?;
            log.info(
                "mTLS authenticator enabled",
                &[("ca_path", p.display().to_string().into())],
            );
            Some(pool)
        }
    };
    let modified = std::fs::metadata(&cfg.permissions)
        .and_then(|m| m.modified())
        .ok();
    Ok(service::Responder {
        issuer,
        xkey,
        perms: Mutex::new(service::PermsFile {
            path: cfg.permissions.clone(),
            env: cfg.env.clone(),
            current: Arc::new(perms),
            modified,
            checked: Instant::now(),
        }),
        authn: authn::Authenticators { oauth2, mtls },
        log,
    })
}

/// A micro service instance ID (nuid-like: 22 characters of base62).
fn instance_id() -> String {
    use ring::rand::SecureRandom;
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut b = [0u8; 22];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    b.iter().map(|x| A[*x as usize % A.len()] as char).collect()
}

struct Shared {
    stop: Arc<AtomicBool>,
    /// Why the last connection attempt failed, for the not-ready error.
    last_error: Arc<Mutex<Option<String>>>,
    stopper: Arc<Mutex<Option<conn::Stopper>>>,
    requests: AtomicU64,
    errors: AtomicU64,
}

/// The responder's loop: connect (each URL in turn, forever, as the peer's reconnecting
/// client), subscribe, answer; `ready` is sent once, after the first subscription is confirmed.
fn run(
    cfg: CalloutConfig,
    r: service::Responder,
    shared: Shared,
    ready: std::sync::mpsc::Sender<()>,
) {
    let id = instance_id();
    let started = chrono_now();
    let mut ready = Some(ready);
    let mut attempt = 0usize;
    let mut was_connected = false;
    while !shared.stop.load(Ordering::SeqCst) {
        let url = &cfg.nats_urls[attempt % cfg.nats_urls.len()];
        attempt += 1;
        let mut c = match conn::Conn::connect(
            url,
            cfg.keys.nkey_seed.as_deref(),
            "auth-callout-service",
            Duration::from_secs(2),
        ) {
            Ok(c) => c,
            Err(e) => {
                *shared.last_error.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(format!("{url}: {e}"));
                r.log.debug(
                    "NATS reconnect failed",
                    &[
                        ("url", url.as_str().into()),
                        ("error", e.to_string().into()),
                    ],
                );
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if let Ok(s) = c.stopper() {
            *shared.stopper.lock().unwrap_or_else(|e| e.into_inner()) = Some(s.clone());
            if shared.stop.load(Ordering::SeqCst) {
                s.stop();
                break;
            }
        }
        r.log
            .info("Connected to NATS", &[("url", url.as_str().into())]);
        let mut subs = vec![(1u64, service::AUTH_SUBJECT.to_string(), Some("q"))];
        for kind in ["PING", "INFO", "STATS"] {
            for subject in [
                format!("$SRV.{kind}"),
                format!("$SRV.{kind}.auth-callout"),
                format!("$SRV.{kind}.auth-callout.{id}"),
            ] {
                subs.push((subs.len() as u64 + 1, subject, None));
            }
        }
        let setup = subs
            .iter()
            .try_for_each(|(sid, subject, q)| c.subscribe(subject, *q, *sid))
            .and_then(|_| c.ping());
        if setup.is_ok() {
            loop {
                match c.next_msg() {
                    Ok(None) => {
                        if let Some(tx) = ready.take() {
                            r.log.info(
                                "authorization service started",
                                &[("url", url.as_str().into())],
                            );
                            let _ = tx.send(());
                        }
                        was_connected = true;
                    }
                    Ok(Some(msg)) => {
                        let Some(reply_to) = msg.reply.clone() else {
                            continue;
                        };
                        if msg.sid == 1 {
                            shared.requests.fetch_add(1, Ordering::Relaxed);
                            if let Some(reply) =
                                r.handle(&msg.payload, msg.header(service::XKEY_HEADER))
                            {
                                if reply.denied {
                                    shared.errors.fetch_add(1, Ordering::Relaxed);
                                }
                                if c.publish(&reply_to, reply.headers, &reply.payload).is_err() {
                                    break;
                                }
                            }
                        } else {
                            let kind = msg.subject.split('.').nth(1).unwrap_or_default();
                            if let Some(v) = service::micro_answer(
                                kind,
                                &id,
                                &started,
                                shared.requests.load(Ordering::Relaxed),
                                shared.errors.load(Ordering::Relaxed),
                            ) {
                                let _ = c.publish(&reply_to, None, v.to_string().as_bytes());
                            }
                        }
                    }
                    Err(e) => {
                        if !shared.stop.load(Ordering::SeqCst) {
                            r.log.warn(
                                "NATS disconnected",
                                &[
                                    ("url", url.as_str().into()),
                                    ("error", e.to_string().into()),
                                ],
                            );
                        }
                        break;
                    }
                }
            }
        }
        if !was_connected {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    r.log.warn("service is shutting down...", &[]);
}

/// RFC 3339 UTC of now, for the micro STATS answer.
fn chrono_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Callout {
    /// Starts the responder on its own thread and waits until its subscription is confirmed by
    /// the server, or `ready_timeout` passes (then it is stopped and an error returned).
    pub fn start(cfg: CalloutConfig, ready_timeout: Duration) -> Result<Callout, CalloutError> {
        if cfg.nats_urls.is_empty() {
            return fail("no NATS URL to connect to");
        }
        let r = responder(&cfg)?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopper = Arc::new(Mutex::new(None));
        let last_error = Arc::new(Mutex::new(None));
        let shared = Shared {
            stop: stop.clone(),
            last_error: last_error.clone(),
            stopper: stopper.clone(),
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let urls = cfg.nats_urls.join(", ");
        let thread = std::thread::Builder::new()
            .name("natscc-auth-callout".into())
            .spawn(move || run(cfg, r, shared, tx))
            .or_else(|e| fail(format!("cannot start the responder thread: {e}")))?;
        let callout = Callout {
            stop,
            stopper,
            thread: Some(thread),
        };
        let t0 = Instant::now();
        match rx.recv_timeout(ready_timeout) {
            Ok(()) => Ok(callout),
            Err(_) => {
                drop(callout);
                let why = last_error
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .map(|e| format!(" (last attempt: {e})"))
                    .unwrap_or_default();
                Err(CalloutError::NotReady(format!(
                    "the auth callout could not subscribe on {urls} within {:.1}s{why}",
                    t0.elapsed().as_secs_f64()
                )))
            }
        }
    }

    /// Closes the connection and joins the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(s) = self
            .stopper
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            s.stop();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Callout {
    fn drop(&mut self) {
        self.shutdown();
    }
}
