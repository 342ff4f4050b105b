//! natscc's auth callout against a real nats-server running the compiled main `nats` config
//! (only its listen ports, routes, pid file and JetStream store moved into the test's folder),
//! with the env the pods get: keys from `natscc keys generate`, read through env.yaml's
//! Secret references. Every identity kind of permissions.json connects and gets exactly its
//! permissions; what it may not do is refused by the server (a permissions violation), and bad
//! credentials are refused at connect (an authorization violation).

mod common;

use async_nats::{ConnectOptions, Event, ServerError};
use futures_util::StreamExt;
use natscc::callout::config::Settings;
use natscc::callout::{Callout, CalloutConfig, JwksSource, LocalIssuer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16, what: &str) {
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < WAIT,
            "{what} did not listen on {port} within {WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process killed when the test ends, however it ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One container's env as the pod gets it: Secret keys from the generated keys folder, literal
/// values, ConfigMap values from env.yaml's `inlined`, the pod name for `SERVER_NAME`.
fn container_env(out: &Path, keys: &Path, container: &str) -> BTreeMap<String, String> {
    let env = common::read_yaml(&out.join("env.yaml"));
    let mut m = BTreeMap::new();
    for var in env.get(container).map(|n| n.items()).unwrap_or_default() {
        let name = var
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap()
            .to_string();
        let value = if let Some(v) = var.get("value").and_then(|n| n.as_str()) {
            v.to_string()
        } else if let Some(r) = var.path(&["valueFrom", "secretKeyRef"]) {
            let secret = r.get("name").and_then(|n| n.as_str()).unwrap();
            let key = r.get("key").and_then(|n| n.as_str()).unwrap();
            std::fs::read_to_string(keys.join(secret).join(key))
                .unwrap_or_else(|e| panic!("{container} {name}: no key {secret}/{key}: {e}"))
                .trim()
                .to_string()
        } else if var.path(&["valueFrom", "fieldRef"]).is_some() {
            "nats-0".to_string()
        } else {
            env.path(&["inlined", &name])
                .and_then(|n| n.as_str())
                .unwrap_or_else(|| panic!("{container} {name}: no value"))
                .to_string()
        };
        m.insert(name, value);
    }
    m
}

/// The compiled nats.conf with only what cannot be the pod's replaced: listen ports (free
/// loopback ones), the route URLs (the server's own cluster port), the pid file and a
/// JetStream store inside the test folder. Returns the text and the client port.
fn rewrite_conf(text: &str, dir: &Path) -> (String, u16) {
    let client = free_port();
    let cluster = free_port();
    let swaps: Vec<(String, String)> = vec![
        ("\"port\": 4222".into(), format!("\"port\": {client}")),
        (
            "\"http_port\": 8222".into(),
            format!("\"http_port\": {}", free_port()),
        ),
        ("\"port\": 6222".into(), format!("\"port\": {cluster}")),
        (
            "\"port\": 7422".into(),
            format!("\"port\": {}", free_port()),
        ),
        (
            "\"port\": 1883".into(),
            format!("\"port\": {}", free_port()),
        ),
        (
            "\"/var/run/nats/nats.pid\"".into(),
            format!("{:?}", dir.join("nats.pid").display().to_string()),
        ),
        (
            "\"jetstream\": {".into(),
            format!(
                "\"jetstream\": {{\n    \"store_dir\": {:?},",
                dir.join("js").display().to_string()
            ),
        ),
    ];
    let mut out = String::new();
    let mut routes = 0;
    for line in text.lines() {
        let mut l = line.to_string();
        if l.contains("nats-headless:6222") {
            // The first route is this server's own (which it recognises and drops); the
            // others, its peers in the pod, are loopback ports where nothing listens.
            let comma = if l.trim_end().ends_with(',') { "," } else { "" };
            let port = if routes == 0 { cluster } else { free_port() };
            routes += 1;
            l = format!("      \"nats://127.0.0.1:{port}\"{comma}");
        }
        for (from, to) in &swaps {
            if l.contains(from.as_str()) {
                l = l.replace(from.as_str(), to);
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    (out, client)
}

struct Bus {
    dir: tempfile::TempDir,
    _server: Proc,
    port: u16,
    /// The callout pod's env and its compiled config file.
    callout_env: BTreeMap<String, String>,
    callout_config: PathBuf,
    issuer: LocalIssuer,
    ca: rcgen::Issuer<'static, rcgen::KeyPair>,
    ops_seed: String,
    nack_seed: String,
}

const ISS: &str = "https://idp.example.com";
const AUD: &str = "event-bus";

impl Bus {
    /// Compiles the test CSC (plus an operator NKey user whose public key is generated here),
    /// generates its keys, starts its main `nats` server.
    fn start() -> Bus {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let keys = d.join("keys");
        common::natscc()
            .args(["keys", "generate", "--cpc", "1", "-o"])
            .arg(&keys)
            .assert()
            .success();
        let keys = keys.join("csc");
        let ops = nkeys::KeyPair::new_user();
        std::fs::write(
            d.join("ops.yaml"),
            format!(
                "global:\n  eventBus:\n    auth:\n      permissions:\n        nkey:\n          ops-tool:\n            public_key: {}\n            account: CSC\n            permissions:\n              pub:\n                allow: [\"command.>\"]\n              sub:\n                allow: [\"sensor.>\", \"_INBOX.>\"]\n",
                ops.public_key()
            ),
        )
        .unwrap();
        let out = d.join("out");
        common::natscc()
            .arg("compile")
            .arg("-f")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/callout/csc.yaml"))
            .arg("-f")
            .arg(d.join("ops.yaml"))
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        let conf = out.join("nats/nats-config/nats.conf");
        let compiled = std::fs::read_to_string(&conf).unwrap();
        let (text, port) = rewrite_conf(&compiled, d);
        std::fs::write(&conf, &text).unwrap();
        let log = std::fs::File::create(d.join("nats.log")).unwrap();
        let server = Command::new(common::nats_server_path())
            .arg("-c")
            .arg("nats.conf")
            .current_dir(conf.parent().unwrap())
            .envs(container_env(&out, &keys, "nats"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server starts");
        let server = Proc(server);
        wait_port(port, "nats-server");

        // The callout's config file, as its ConfigMap carries it.
        let docs =
            common::stream_docs(&std::fs::read_to_string(out.join("manifests.yaml")).unwrap());
        let maps = common::config_maps(&docs);
        let config = maps
            .iter()
            .find(|(name, _)| name.ends_with("auth-callout-config"))
            .and_then(|(_, m)| m.get("config.yaml"))
            .expect("the auth callout's config ConfigMap");
        let callout_config = d.join("callout-config.yaml");
        std::fs::write(&callout_config, config).unwrap();
        std::fs::copy(out.join("permissions.json"), d.join("permissions.json")).unwrap();

        // The mTLS CA the pod mounts at AUTH_CALLOUT_MTLS_CA_PATH.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "natscc test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        std::fs::write(d.join("ca.crt"), ca_cert.pem()).unwrap();
        let ca = rcgen::Issuer::new(ca_params, ca_key);

        let mut callout_env = container_env(&out, &keys, "auth-callout");
        callout_env.insert(
            "AUTH_CALLOUT_MTLS_CA_PATH".into(),
            d.join("ca.crt").display().to_string(),
        );
        let issuer = LocalIssuer::generate("RS256").unwrap();
        issuer.write_jwks(&d.join("jwks.json")).unwrap();
        let nack_seed = std::fs::read_to_string(keys.join("nats-nack-user/nack-user.nk"))
            .unwrap()
            .trim()
            .to_string();
        Bus {
            _server: server,
            port,
            callout_env,
            callout_config,
            issuer,
            ca,
            ops_seed: ops.seed().unwrap(),
            nack_seed,
            dir,
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The callout's config the pod's way (config file, then env), with the rewrites a local
    /// run needs: the server's address, the local JWKS instead of the IdP's URL.
    fn callout_config(&self) -> CalloutConfig {
        let mut s = Settings::defaults();
        s.merge_file(&self.callout_config).unwrap();
        s.merge_env(&self.callout_env);
        let mut c = s.to_config(self.callout_env.clone()).unwrap();
        c.nats_urls = vec![self.url()];
        c.permissions = self.dir.path().join("permissions.json");
        c.oauth2.as_mut().expect("the values configure a JWKS").jwks =
            JwksSource::File(self.dir.path().join("jwks.json"));
        c.log = Some(self.dir.path().join("callout.log"));
        c
    }

    fn callout(&self) -> Callout {
        Callout::start(self.callout_config(), WAIT).expect("the callout gets ready")
    }

    fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nats.log")).unwrap_or_default()
    }

    fn callout_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("callout.log")).unwrap_or_default()
    }

    fn token(&self, name: &str) -> String {
        let perms = natscc::callout::Permissions::load(
            &self.dir.path().join("permissions.json"),
            &self.callout_env,
        )
        .unwrap();
        self.issuer
            .mint(&perms, name, ISS, AUD, Duration::from_secs(300))
            .unwrap()
    }
}

/// A client whose server errors (permissions violations) are collected.
struct Client {
    nc: async_nats::Client,
    errors: tokio::sync::mpsc::UnboundedReceiver<String>,
}

async fn connect(url: &str, opts: ConnectOptions) -> Result<Client, async_nats::ConnectError> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let nc = opts
        .connection_timeout(WAIT)
        .max_reconnects(1)
        .event_callback(move |ev| {
            let tx = tx.clone();
            async move {
                if let Event::ServerError(ServerError::Other(e)) = ev {
                    let _ = tx.send(e);
                }
            }
        })
        .connect(url)
        .await?;
    Ok(Client { nc, errors: rx })
}

async fn expect_error(c: &mut Client, needle: &str) {
    let got = tokio::time::timeout(WAIT, c.errors.recv())
        .await
        .unwrap_or_else(|_| panic!("no server error `{needle}` within {WAIT:?}"))
        .expect("error channel open");
    assert!(
        got.to_lowercase().contains(&needle.to_lowercase()),
        "expected the server to say `{needle}`, it said `{got}`"
    );
}

/// Publishes `denied` then `allowed` from `c`; `observer` (unrestricted, same account) sees
/// only `allowed`, and the server tells `c` it refused `denied`. Order on one connection is
/// kept, so once `allowed` arrived, `denied` would have arrived before it.
async fn check_publish(c: &mut Client, observer: &async_nats::Client, allowed: &str, denied: &str) {
    let mut sub = observer.subscribe(">").await.unwrap();
    // async-nats' flush only writes; the observer's own probe coming back proves the server
    // holds the subscription.
    observer.publish("probe.ready", "".into()).await.unwrap();
    let probe = tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("the probe returns")
        .unwrap();
    assert_eq!(probe.subject.as_str(), "probe.ready");
    c.nc.publish(denied.to_string(), "no".into()).await.unwrap();
    c.nc.publish(allowed.to_string(), "yes".into())
        .await
        .unwrap();
    c.nc.flush().await.unwrap();
    let m = tokio::time::timeout(WAIT, sub.next())
        .await
        .unwrap_or_else(|_| panic!("the allowed publish of {allowed} arrives"))
        .unwrap();
    assert_eq!(
        m.subject.as_str(),
        allowed,
        "the denied publish must not arrive"
    );
    expect_error(
        c,
        &format!("Permissions Violation for Publish to \"{denied}\""),
    )
    .await;
}

/// Subscribes `c` to `allowed` and `denied`; the server refuses `denied`, and a message the
/// observer publishes on `allowed` arrives.
async fn check_subscribe(
    c: &mut Client,
    observer: &async_nats::Client,
    allowed: &str,
    denied: &str,
) {
    let mut ok = c.nc.subscribe(allowed.to_string()).await.unwrap();
    let _refused = c.nc.subscribe(denied.to_string()).await.unwrap();
    c.nc.flush().await.unwrap();
    expect_error(
        c,
        &format!("Permissions Violation for Subscription to \"{denied}\""),
    )
    .await;
    let subject = allowed.replace('>', "x").replace('*', "y");
    observer
        .publish(subject.clone(), "hi".into())
        .await
        .unwrap();
    observer.flush().await.unwrap();
    let m = tokio::time::timeout(WAIT, ok.next())
        .await
        .expect("the allowed subscription gets the message")
        .unwrap();
    assert_eq!(m.subject.as_str(), subject);
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn nkey_and_noauth_clients_get_exactly_their_permissions() {
    let bus = Bus::start();
    let _callout = bus.callout();
    rt().block_on(async {
        // The NACK controller's NKey: CSC, no restriction (the chart's own entry).
        let observer = connect(&bus.url(), ConnectOptions::with_nkey(bus.nack_seed.clone()))
            .await
            .expect("the NACK controller's NKey is accepted")
            .nc;
        let mut ops = connect(&bus.url(), ConnectOptions::with_nkey(bus.ops_seed.clone()))
            .await
            .expect("the operator's NKey user is accepted");
        check_publish(&mut ops, &observer, "command.restart", "broadcast.x").await;
        check_subscribe(&mut ops, &observer, "sensor.>", "command.>").await;

        let mut anon = connect(&bus.url(), ConnectOptions::new())
            .await
            .expect("a client without credentials lands in the noauth account");
        check_publish(&mut anon, &observer, "public.news", "command.x").await;
        check_subscribe(&mut anon, &observer, "public.>", "sensor.>").await;

        // A user/password client presents no token, certificate or NKey: the peer treats it
        // as no-auth too.
        let mut up = connect(
            &bus.url(),
            ConnectOptions::with_user_and_password("someone".into(), "pw".into()),
        )
        .await
        .expect("user/password falls back to noauth, as in the peer");
        check_publish(&mut up, &observer, "public.x", "private.x").await;

        // An NKey permissions.json does not list is refused.
        let stranger = nkeys::KeyPair::new_user().seed().unwrap();
        let e = connect(&bus.url(), ConnectOptions::with_nkey(stranger))
            .await
            .err()
            .expect("an unknown NKey is refused");
        assert_eq!(
            e.kind(),
            async_nats::ConnectErrorKind::AuthorizationViolation,
            "{e}"
        );
    });
    let log = bus.server_log();
    assert!(
        log.contains("Auth callout service returned an error: authentication failed: NKey not found in permissions config"),
        "the server logs the callout's denial:\n{log}"
    );
    let clog = bus.callout_log();
    assert!(
        clog.contains("\"msg\":\"NKey authentication successful\""),
        "{clog}"
    );
    assert!(clog.contains("\"name\":\"ops-tool\""), "{clog}");
    for (k, v) in &bus.callout_env {
        if k.ends_with("SEED") {
            assert!(
                !clog.contains(v.as_str()),
                "{k} leaked into the callout's log"
            );
        }
    }
}

#[test]
fn oauth2_tokens_get_their_identity_and_bad_tokens_are_refused() {
    let bus = Bus::start();
    let _callout = bus.callout();
    let good = bus.token("dashboard");
    let reporter = bus.token("reporter");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |over: serde_json::Value| {
        let mut c = serde_json::json!({"iss": ISS, "aud": AUD, "sub": "x", "azp": "dashboard",
            "scope": "openid mqtt", "iat": now, "exp": now + 300});
        for (k, v) in over.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        bus.issuer.sign_claims(&c).unwrap()
    };
    let other = LocalIssuer::generate("RS256").unwrap();
    let mut forged_parts: Vec<String> = claims(serde_json::json!({}))
        .split('.')
        .map(str::to_string)
        .collect();
    let other_sig = other
        .sign_claims(&serde_json::json!({"x": 1}))
        .unwrap()
        .rsplit('.')
        .next()
        .unwrap()
        .to_string();
    forged_parts[2] = other_sig;
    let bad: Vec<(&str, String, &str)> = vec![
        (
            "expired",
            claims(serde_json::json!({"exp": now - 10})),
            "token has invalid claims: token is expired",
        ),
        (
            "no exp",
            claims(serde_json::json!({"exp": null})),
            "token is missing required claim: exp claim is required",
        ),
        (
            "wrong audience",
            claims(serde_json::json!({"aud": "someone-else"})),
            "token has invalid audience",
        ),
        (
            "wrong issuer",
            claims(serde_json::json!({"iss": "https://evil.example.com"})),
            "token has invalid issuer",
        ),
        (
            "missing scope",
            claims(serde_json::json!({"scope": "openid"})),
            "missing required scope: mqtt",
        ),
        (
            "unknown identity",
            claims(serde_json::json!({"azp": "nobody"})),
            "user not found in permissions config: sub=x, azp=nobody",
        ),
        (
            "forged signature",
            forged_parts.join("."),
            "token signature is invalid: crypto/rsa: verification error",
        ),
        (
            "not a JWT",
            "not-a-token".to_string(),
            "invalid token format",
        ),
    ];
    rt().block_on(async {
        let observer = connect(&bus.url(), ConnectOptions::with_nkey(bus.nack_seed.clone()))
            .await
            .unwrap()
            .nc;
        let mut dash = connect(&bus.url(), ConnectOptions::with_token(good))
            .await
            .expect("the dashboard's token is accepted");
        check_publish(&mut dash, &observer, "broadcast.all", "command.x").await;
        check_subscribe(&mut dash, &observer, "cpc.*.sensor.>", "command.>").await;

        // MQTT-style: user `oauthtoken`, the token as password; a subject-keyed identity with
        // its own required scope.
        let mut rep = connect(
            &bus.url(),
            ConnectOptions::with_user_and_password("oauthtoken".into(), reporter),
        )
        .await
        .expect("the reporter's token is accepted as the password of user oauthtoken");
        check_publish(&mut rep, &observer, "reports.daily", "broadcast.x").await;

        for (what, token, _) in &bad {
            let e = connect(&bus.url(), ConnectOptions::with_token(token.clone()))
                .await
                .err()
                .unwrap_or_else(|| panic!("a token with {what} must be refused"));
            assert_eq!(
                e.kind(),
                async_nats::ConnectErrorKind::AuthorizationViolation,
                "{what}: {e}"
            );
        }
    });
    let log = bus.server_log();
    for (what, _, said) in &bad {
        assert!(
            log.contains(said),
            "{what}: the server's log does not carry `{said}`:\n{log}"
        );
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- nats-server log ---\n{}", self.server_log());
            eprintln!("--- callout log ---\n{}", self.callout_log());
        }
    }
}
