//! natscc's auth callout against a real nats-server running the compiled main `nats` config
//! (only its listen ports, routes, pid file and JetStream store moved into the test's folder),
//! with the env the pods get: keys from `natscc keys generate`, read through env.yaml's
//! Secret references. Every identity kind of permissions.json connects and gets exactly its
//! permissions; what it may not do is refused by the server (a permissions violation), and bad
//! credentials are refused at connect (an authorization violation).

mod common;

use common::free_port;

use async_nats::{ConnectOptions, Event, ServerError};
use futures_util::StreamExt;
use natscc::callout::config::Settings;
use natscc::callout::{Callout, CalloutConfig, JwksSource, LocalIssuer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

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

/// A compiled config with only what cannot be the pod's replaced: each `from` by its `to`
/// (listen ports, certificate paths, the pid file, remote URLs), and the i-th route URL of the
/// `cluster` block by `routes[i]`. Every other line stays as compiled.
fn rewrite_conf(text: &str, swaps: &[(String, String)], routes: &[String]) -> String {
    let mut out = String::new();
    let mut route = 0;
    for line in text.lines() {
        let mut l = line.to_string();
        if l.contains("-headless:6222") {
            let comma = if l.trim_end().ends_with(',') { "," } else { "" };
            l = format!("      \"{}\"{comma}", routes[route]);
            route += 1;
        }
        for (from, to) in swaps {
            if l.contains(from.as_str()) {
                l = l.replace(from.as_str(), to);
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn path_str(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

/// The ports one `nats` replica listens on.
#[derive(Clone, Copy)]
struct Ports {
    client: u16,
    cluster: u16,
    leaf: u16,
}

/// Starts replica `i` of the compiled main `nats` config: its own ports, routes to every
/// replica's cluster port, its own pid file and JetStream store (the values' `/data`).
fn start_nats(
    out: &Path,
    dir: &Path,
    env: &BTreeMap<String, String>,
    ports: &[Ports],
    i: usize,
) -> Proc {
    let conf_dir = out.join("nats/nats-config");
    let compiled = std::fs::read_to_string(conf_dir.join("nats.conf")).unwrap();
    let p = ports[i];
    let swaps: Vec<(String, String)> = vec![
        ("\"port\": 4222".into(), format!("\"port\": {}", p.client)),
        (
            "\"http_port\": 8222".into(),
            format!("\"http_port\": {}", free_port()),
        ),
        ("\"port\": 6222".into(), format!("\"port\": {}", p.cluster)),
        ("\"port\": 7422".into(), format!("\"port\": {}", p.leaf)),
        (
            "\"port\": 1883".into(),
            format!("\"port\": {}", free_port()),
        ),
        (
            "\"/var/run/nats/nats.pid\"".into(),
            path_str(&dir.join(format!("nats-{i}.pid"))),
        ),
        (
            "\"store_dir\": \"/data\"".into(),
            format!("\"store_dir\": {}", path_str(&dir.join(format!("js-{i}")))),
        ),
    ];
    // The pod's routes name replicas 0, 1, 2; with fewer replicas here, the rest are loopback
    // ports where nothing listens (as a pod whose peers are not up yet).
    let routes: Vec<String> = (0..3)
        .map(|r| {
            let port = ports.get(r).map(|p| p.cluster).unwrap_or_else(free_port);
            format!("nats://127.0.0.1:{port}")
        })
        .collect();
    let name = format!("nats-{i}.conf");
    std::fs::write(
        conf_dir.join(&name),
        rewrite_conf(&compiled, &swaps, &routes),
    )
    .unwrap();
    let mut env = env.clone();
    env.insert("SERVER_NAME".into(), format!("nats-{i}"));
    let log = std::fs::File::create(dir.join(format!("nats-{i}.log"))).unwrap();
    let server = Command::new(common::nats_server_path())
        .arg("-c")
        .arg(&name)
        .current_dir(&conf_dir)
        .envs(env)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("nats-server starts");
    Proc(server)
}

struct Bus {
    dir: tempfile::TempDir,
    servers: Vec<Proc>,
    ports: Vec<Ports>,
    port: u16,
    out: PathBuf,
    keys: PathBuf,
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
    fn start(replicas: usize) -> Bus {
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
        let ports: Vec<Ports> = (0..replicas)
            .map(|_| Ports {
                client: free_port(),
                cluster: free_port(),
                leaf: free_port(),
            })
            .collect();
        let nats_env = container_env(&out, &keys, "nats");
        let servers: Vec<Proc> = (0..replicas)
            .map(|i| start_nats(&out, d, &nats_env, &ports, i))
            .collect();
        for p in &ports {
            wait_port(p.client, "nats-server");
        }
        let port = ports[0].client;

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
            servers,
            ports,
            port,
            out,
            keys,
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
        (0..self.servers.len())
            .map(|i| {
                std::fs::read_to_string(self.dir.path().join(format!("nats-{i}.log")))
                    .unwrap_or_default()
            })
            .collect()
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

/// Connecting with `opts` is refused (an authorization violation), and the server's log
/// carries `said`. A callout answer that misses the server's auth timeout on a loaded machine
/// refuses the client without the line, so the attempt is repeated until the line appears.
async fn refused_with(bus: &Bus, opts: impl Fn() -> ConnectOptions, said: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let e = connect(&bus.url(), opts())
            .await
            .err()
            .unwrap_or_else(|| panic!("must be refused: {said}"));
        assert_eq!(
            e.kind(),
            async_nats::ConnectErrorKind::AuthorizationViolation,
            "{said}: {e}"
        );
        let log = bus.server_log();
        if log.contains(said) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server's log does not carry `{said}`:\n{log}"
        );
    }
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
    let bus = Bus::start(1);
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

        // An NKey permissions.json does not list is refused, with the callout's reason in the
        // server's log.
        let stranger = nkeys::KeyPair::new_user().seed().unwrap();
        refused_with(
            &bus,
            || ConnectOptions::with_nkey(stranger.clone()),
            "Auth callout service returned an error: authentication failed: NKey not found in permissions config",
        )
        .await;
    });
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
    let bus = Bus::start(1);
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

        for (_, token, said) in &bad {
            refused_with(&bus, || ConnectOptions::with_token(token.clone()), said).await;
        }
    });
}

impl Drop for Bus {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- nats-server log ---\n{}", self.server_log());
            eprintln!("--- callout log ---\n{}", self.callout_log());
        }
    }
}

/// A certificate signed by the test CA, with its private key, both PEM.
fn issue(
    ca: &rcgen::Issuer<'static, rcgen::KeyPair>,
    cn: &str,
    sans: &[&str],
    usage: rcgen::ExtendedKeyUsagePurpose,
) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, cn);
    p.subject_alt_names = sans
        .iter()
        .map(|s| match s.parse::<std::net::IpAddr>() {
            Ok(ip) => rcgen::SanType::IpAddress(ip),
            Err(_) => rcgen::SanType::DnsName(s.to_string().try_into().unwrap()),
        })
        .collect();
    p.extended_key_usages = vec![usage];
    let cert = p.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

impl Bus {
    /// The compiled `nats-mtls` config with its ports, its own route, its leaf remotes (the
    /// chart's `nats://nats:7422`, here replica 0's leaf port) and its certificate paths
    /// (`/etc/nats-certs/*`, a server certificate for localhost from the test CA) rewritten.
    fn start_mtls(&self) -> (Proc, u16) {
        let d = self.dir.path();
        let certs = d.join("nats-certs");
        std::fs::create_dir_all(&certs).unwrap();
        let (crt, key) = issue(
            &self.ca,
            "nats-mtls",
            &["localhost", "127.0.0.1"],
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        );
        std::fs::write(certs.join("tls.crt"), crt).unwrap();
        std::fs::write(certs.join("tls.key"), key).unwrap();
        std::fs::copy(d.join("ca.crt"), certs.join("ca.crt")).unwrap();
        let conf_dir = self.out.join("nats-mtls/nats-config");
        let compiled = std::fs::read_to_string(conf_dir.join("nats.conf")).unwrap();
        let (client, cluster, mqtt) = (free_port(), free_port(), free_port());
        let mut swaps: Vec<(String, String)> = vec![
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
            ("\"port\": 1883".into(), format!("\"port\": {mqtt}")),
            (
                "\"/var/run/nats/nats.pid\"".into(),
                path_str(&d.join("nats-mtls.pid")),
            ),
            (
                "\"nats://nats:7422\"".into(),
                format!("\"nats://127.0.0.1:{}\"", self.ports[0].leaf),
            ),
        ];
        for f in ["ca.crt", "tls.crt", "tls.key"] {
            swaps.push((format!("\"/etc/nats-certs/{f}\""), path_str(&certs.join(f))));
        }
        let routes = vec![format!("nats://127.0.0.1:{cluster}")];
        std::fs::write(
            conf_dir.join("nats-mtls-0.conf"),
            rewrite_conf(&compiled, &swaps, &routes),
        )
        .unwrap();
        let log = std::fs::File::create(d.join("nats-mtls.log")).unwrap();
        let server = Command::new(common::nats_server_path())
            .arg("-c")
            .arg("nats-mtls-0.conf")
            .current_dir(&conf_dir)
            .envs(container_env(&self.out, &self.keys, "nats-mtls"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("nats-server (nats-mtls) starts");
        wait_port(mqtt, "nats-mtls");
        (Proc(server), mqtt)
    }
}

/// An MQTT client over TLS with a client certificate; its event loop runs on a task that
/// forwards what the server sends. `Err(None)`: the connection closed before any CONNACK.
struct Mqtt {
    client: rumqttc::AsyncClient,
    events: tokio::sync::mpsc::UnboundedReceiver<rumqttc::Packet>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Mqtt {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn mqtt_tls(
    port: u16,
    id: &str,
    ca: &str,
    cert: &(String, String),
) -> Result<Mqtt, Option<rumqttc::ConnectReturnCode>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut o = rumqttc::MqttOptions::new(id, "localhost", port);
    o.set_keep_alive(Duration::from_secs(30));
    o.set_transport(rumqttc::Transport::tls_with_config(
        rumqttc::TlsConfiguration::Simple {
            ca: ca.as_bytes().to_vec(),
            alpn: None,
            client_auth: Some((cert.0.as_bytes().to_vec(), cert.1.as_bytes().to_vec())),
        },
    ));
    let (client, mut el) = rumqttc::AsyncClient::new(o, 16);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            match el.poll().await {
                Ok(rumqttc::Event::Incoming(p)) => {
                    if tx.send(p).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(rumqttc::ConnectionError::ConnectionRefused(code)) => {
                    let _ = tx.send(rumqttc::Packet::ConnAck(rumqttc::ConnAck {
                        session_present: false,
                        code,
                    }));
                    return;
                }
                Err(_) => return,
            }
        }
    });
    let ack = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match rx.recv().await {
                Some(rumqttc::Packet::ConnAck(a)) => return Some(a.code),
                Some(_) => {}
                None => return None,
            }
        }
    })
    .await
    .expect("a CONNACK (or a closed connection) within 20 s");
    if ack != Some(rumqttc::ConnectReturnCode::Success) {
        task.abort();
        return Err(ack);
    }
    Ok(Mqtt {
        client,
        events: rx,
        task,
    })
}

impl Mqtt {
    /// The next packet of the kind `pick` accepts.
    async fn next<T>(&mut self, mut pick: impl FnMut(rumqttc::Packet) -> Option<T>) -> T {
        tokio::time::timeout(WAIT, async {
            loop {
                let p = self.events.recv().await.expect("the MQTT connection is up");
                if let Some(t) = pick(p) {
                    return t;
                }
            }
        })
        .await
        .expect("the expected MQTT packet within the wait")
    }
}

#[test]
fn mtls_client_certificates_through_nats_mtls() {
    // Three replicas, as the chart runs them: MQTT sessions need the main cluster's JetStream,
    // whose meta group expects the three peers its routes name.
    let bus = Bus::start(3);
    let _callout = bus.callout();
    let (_mtls, mqtt_port) = bus.start_mtls();
    let ca = std::fs::read_to_string(bus.dir.path().join("ca.crt")).unwrap();
    let client_auth = rcgen::ExtendedKeyUsagePurpose::ClientAuth;
    let plant = issue(&bus.ca, "plant-gw.csc", &[], client_auth.clone());
    let stranger = issue(&bus.ca, "stranger.csc", &[], client_auth.clone());
    rt().block_on(async {
        let observer = connect(&bus.url(), ConnectOptions::with_nkey(bus.nack_seed.clone()))
            .await
            .unwrap()
            .nc;
        // The leaf connections of nats-mtls went through the callout too (its NKey entries);
        // MQTT may answer before they are up, so the first client retries until its CONNACK.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut gw = loop {
            match mqtt_tls(mqtt_port, "plant-gw", &ca, &plant).await {
                Ok(c) => break c,
                Err(code) => {
                    // Refused or dropped while nats-mtls' leaf connections come up.
                    assert!(Instant::now() < deadline, "plant-gw refused: {code:?}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        // Subscribe: plant/+ (NATS plant.*) is granted; plant/# is refused by the server, since
        // MQTT's `#` subscribes NATS `plant` too, which `plant.>` does not allow; plant/secret/#
        // is refused by the deny list.
        gw.client
            .subscribe("plant/#", rumqttc::QoS::AtMostOnce)
            .await
            .unwrap();
        let codes = gw
            .next(|p| match p {
                rumqttc::Packet::SubAck(a) => Some(a.return_codes),
                _ => None,
            })
            .await;
        assert_eq!(codes, [rumqttc::SubscribeReasonCode::Failure]);
        gw.client
            .subscribe("plant/+", rumqttc::QoS::AtMostOnce)
            .await
            .unwrap();
        let codes = gw
            .next(|p| match p {
                rumqttc::Packet::SubAck(a) => Some(a.return_codes),
                _ => None,
            })
            .await;
        assert_eq!(
            codes,
            [rumqttc::SubscribeReasonCode::Success(
                rumqttc::QoS::AtMostOnce
            )]
        );
        gw.client
            .subscribe("plant/secret/#", rumqttc::QoS::AtMostOnce)
            .await
            .unwrap();
        let codes = gw
            .next(|p| match p {
                rumqttc::Packet::SubAck(a) => Some(a.return_codes),
                _ => None,
            })
            .await;
        assert_eq!(codes, [rumqttc::SubscribeReasonCode::Failure]);

        // Publish: the denied one first, so once the allowed one reached the main cluster's
        // CSC account (over nats-mtls' leaf), the denied one would have too.
        let mut sub = observer.subscribe(">").await.unwrap();
        observer.publish("probe.ready", "".into()).await.unwrap();
        let probe = tokio::time::timeout(WAIT, sub.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(probe.subject.as_str(), "probe.ready");
        gw.client
            .publish("other/x", rumqttc::QoS::AtMostOnce, false, "no")
            .await
            .unwrap();
        gw.client
            .publish("plant/line1", rumqttc::QoS::AtMostOnce, false, "yes")
            .await
            .unwrap();
        let m = loop {
            let m = tokio::time::timeout(WAIT, sub.next())
                .await
                .expect("plant/line1 reaches the main cluster")
                .unwrap();
            // MQTT's own JetStream traffic crosses too; only application subjects count.
            if !m.subject.starts_with("$") && !m.subject.starts_with("_") {
                break m;
            }
        };
        assert_eq!(m.subject.as_str(), "plant.line1");

        // And a message to plant.line2 from the main cluster reaches the MQTT subscriber (which
        // also gets its own plant/line1 back: MQTT 3.1.1 has no "no local").
        observer
            .publish("plant.line2", "down".into())
            .await
            .unwrap();
        let got = gw
            .next(|p| match p {
                rumqttc::Packet::Publish(p) if p.topic != "plant/line1" => Some(p.topic),
                _ => None,
            })
            .await;
        assert_eq!(got, "plant/line2");

        // A certificate of the CA whose identity permissions.json does not list is refused,
        // and nats-mtls logs the callout's reason. (On a loaded machine a callout answer can
        // miss the server's auth timeout, which refuses the client without that line: retry.)
        let said =
            "mTLS authentication failed: user not found in permissions config: CN=stranger.csc";
        let deadline = Instant::now() + WAIT;
        loop {
            let refused = mqtt_tls(mqtt_port, "stranger", &ca, &stranger).await;
            assert_eq!(
                refused.err(),
                Some(Some(rumqttc::ConnectReturnCode::NotAuthorized))
            );
            let log = std::fs::read_to_string(bus.dir.path().join("nats-mtls.log")).unwrap();
            if log.contains(said) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "nats-mtls does not log `{said}`:\n{log}"
            );
        }
    });
    let clog = bus.callout_log();
    assert!(
        clog.contains("\"identity\":\"CN=plant-gw.csc\""),
        "the callout logs the identity:\n{clog}"
    );
}

/// `natscc token` and `natscc auth-callout` as a user runs them: the key and JWKS from
/// `token --generate-key`, the callout from the compiled config with the pod's env, a token
/// from `token NAME` accepted; `ready` on stdout, JSON logs on stderr without a seed or token,
/// a clean exit on SIGTERM, and exit 1 when no server answers within --ready-timeout.
#[test]
fn the_commands_run_the_callout_and_mint_its_tokens() {
    let bus = Bus::start(1);
    let d = bus.dir.path();
    common::natscc()
        .args(["token", "--generate-key"])
        .arg(d.join("cli-issuer.pem"))
        .arg("--jwks")
        .arg(d.join("cli-jwks.json"))
        .assert()
        .success();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.join("cli-issuer.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the issuer key is private");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_natscc"));
    cmd.arg("auth-callout")
        .arg("--config")
        .arg(&bus.callout_config)
        .arg("--permissions")
        .arg(d.join("permissions.json"))
        .arg("--nats-url")
        .arg(bus.url())
        .arg("--jwks")
        .arg(d.join("cli-jwks.json"))
        .args(["--ready-timeout", "10s"])
        .env_clear()
        .envs(&bus.callout_env)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(d.join("cli-callout.log")).unwrap());
    let mut child = Proc(cmd.spawn().expect("natscc auth-callout starts"));
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.0.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "ready\n");

    let token = common::natscc()
        .args(["token", "dashboard", "--key"])
        .arg(d.join("cli-issuer.pem"))
        .arg("--permissions")
        .arg(d.join("permissions.json"))
        .args(["--issuer", ISS, "--audience", AUD, "--ttl", "5m"])
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    rt().block_on(async {
        let observer = connect(&bus.url(), ConnectOptions::with_nkey(bus.nack_seed.clone()))
            .await
            .unwrap()
            .nc;
        let mut dash = connect(&bus.url(), ConnectOptions::with_token(token.clone()))
            .await
            .expect("the token `natscc token` wrote is accepted");
        check_publish(&mut dash, &observer, "broadcast.all", "command.x").await;
    });

    // SIGTERM: a clean exit, within the wait.
    unsafe { libc::kill(child.0.id() as i32, libc::SIGTERM) };
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(t0.elapsed() < WAIT, "natscc auth-callout ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let log = std::fs::read_to_string(d.join("cli-callout.log")).unwrap();
    assert!(
        log.contains("\"msg\":\"OAuth2 authentication successful\""),
        "{log}"
    );
    let key = std::fs::read_to_string(d.join("cli-issuer.pem")).unwrap();
    let secrets = bus
        .callout_env
        .iter()
        .filter(|(k, _)| k.ends_with("SEED"))
        .map(|(_, v)| v.clone())
        .chain([token, key.lines().nth(2).unwrap().to_string()]);
    for s in secrets {
        assert!(!log.contains(&s), "a secret reached the callout's log");
    }

    // No server: exit 1 after --ready-timeout.
    let out = Command::new(env!("CARGO_BIN_EXE_natscc"))
        .arg("auth-callout")
        .arg("--permissions")
        .arg(d.join("permissions.json"))
        .arg("--nats-url")
        .arg(format!("nats://127.0.0.1:{}", free_port()))
        .args(["--ready-timeout", "300ms"])
        .env_clear()
        .envs(&bus.callout_env)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An edit of permissions.json applies without a restart, as the peer's file watcher does it
/// (the callout looks again at most every 5 s), and a broken edit keeps the last good one.
#[test]
fn permissions_json_edits_apply_without_restart() {
    let bus = Bus::start(1);
    let _callout = bus.callout();
    let path = bus.dir.path().join("permissions.json");
    let newcomer = nkeys::KeyPair::new_user();
    rt().block_on(async {
        let seed = newcomer.seed().unwrap();
        let e = connect(&bus.url(), ConnectOptions::with_nkey(seed.clone()))
            .await
            .err()
            .expect("not listed yet");
        assert_eq!(
            e.kind(),
            async_nats::ConnectErrorKind::AuthorizationViolation
        );
        // A broken file first: the callout keeps what it had.
        let good = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, "{ not json").unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !bus.callout_log().contains("Error reloading config") {
            assert!(
                Instant::now() < deadline,
                "the broken edit was never noticed"
            );
            // Requests drive the look at the file.
            let _ = connect(&bus.url(), ConnectOptions::new()).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        connect(&bus.url(), ConnectOptions::new())
            .await
            .expect("the last good permissions still admit no-auth clients");
        let mut p: serde_json::Value = serde_json::from_str(&good).unwrap();
        p["nkey"]["newcomer"] =
            serde_json::json!({"account": "CSC", "public_key": newcomer.public_key()});
        std::fs::write(&path, p.to_string()).unwrap();
        loop {
            match connect(&bus.url(), ConnectOptions::with_nkey(seed.clone())).await {
                Ok(_) => break,
                Err(e) => {
                    assert_eq!(
                        e.kind(),
                        async_nats::ConnectErrorKind::AuthorizationViolation
                    );
                    assert!(Instant::now() < deadline, "the edit never applied");
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            }
        }
    });
    assert!(bus.callout_log().contains("Config reloaded successfully"));
}

// ---- Decoding as the chart's Go callout decodes (issue 22) ----

/// permissions.json decoded into the peer's structs by Go's encoding/json: `profile` is the
/// permissions an identity gets (as the user JWT carries them), or the load error.
fn go_permissions(json: &str, kind: &str, id: &str) -> Result<serde_json::Value, String> {
    let p = natscc::callout::Permissions::parse(json.as_bytes(), &BTreeMap::new())?;
    let profile = match kind {
        "nkey" => p.nkey(id),
        "mtls" => p.mtls(id),
        "noauth" => p.noauth(),
        _ => p.oauth2(id, "").map(|e| &e.profile),
    };
    Ok(profile
        .expect("the identity is in the file")
        .permissions
        .clone())
}

/// Keys in any case reach the field Go's case-insensitive matching gives them, at every
/// level; unknown keys are dropped; entry names stay case-sensitive.
#[test]
fn permissions_json_keys_match_as_go_matches_them() {
    let json = r#"{"NKey": {"ops": {"Public_Key": "UA", "ACCOUNT": "CSC",
        "Permissions": {"Pub": {"Allow": ["only.>"], "DENY": ["only.secret"]},
                        "sUb": {"allow": ["in.>"]}, "Resp": {"MAX": 1, "TTL": 5000000000},
                        "publish": ["ignored.>"]}}}}"#;
    assert_eq!(
        go_permissions(json, "nkey", "UA").unwrap(),
        serde_json::json!({"pub": {"allow": ["only.>"], "deny": ["only.secret"]},
            "sub": {"allow": ["in.>"]}, "resp": {"max": 1, "ttl": 5000000000i64}})
    );
    // Go folds Unicode too: the long s (ſ) is an `s`, the Kelvin sign (K) a `k`.
    let json = "{\"nkey\": {\"n\": {\"public_\u{212A}ey\": \"UB\", \"account\": \"A\",
        \"permi\u{17F}\u{17F}ions\": {\"\u{17F}ub\": {\"allow\": [\"x\"]}}}}}";
    assert_eq!(
        go_permissions(json, "nkey", "UB").unwrap(),
        serde_json::json!({"pub": {}, "sub": {"allow": ["x"]}})
    );
    // An OAuth2 entry's `Required_Scope` is its required scope.
    let p = natscc::callout::Permissions::parse(
        br#"{"oauth2": {"c": {"AZP": "cl", "Account": "CSC", "Required_Scope": "nats:admin"}}}"#,
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(p.oauth2("x", "cl").unwrap().required_scope, "nats:admin");
    // Entry names are map keys: case-sensitive, both kept.
    let p = natscc::callout::Permissions::parse(
        br#"{"nkey": {"a": {"public_key": "U1", "account": "A"},
                      "A": {"public_key": "U2", "account": "B"}}}"#,
        &BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(
        (
            p.nkey("U1").unwrap().name.as_str(),
            p.nkey("U2").unwrap().name.as_str()
        ),
        ("a", "A")
    );
}

/// A repeated key is decoded over the earlier one: into a struct, fields the later object
/// leaves out keep their earlier values; arrays replace; map entries of one name replace.
#[test]
fn permissions_json_repeated_keys_decode_as_go_does() {
    let json = r#"{"noauth": {"account": "PUB",
                   "permissions": {"pub": {"allow": ["a.>"], "deny": ["a.x"]}}},
        "noauth": {"permissions": {"pub": {"allow": ["b.>"]}, "sub": {"allow": ["s.>"]}},
                   "Permissions": {"sub": {"deny": ["s.x"]}}}}"#;
    assert_eq!(
        go_permissions(json, "noauth", "").unwrap(),
        serde_json::json!({"pub": {"allow": ["b.>"], "deny": ["a.x"]},
            "sub": {"allow": ["s.>"], "deny": ["s.x"]}})
    );
    let p = natscc::callout::Permissions::parse(json.as_bytes(), &BTreeMap::new()).unwrap();
    assert_eq!(p.noauth().unwrap().account, "PUB");
    // A map entry is decoded afresh each time its name appears; the maps themselves merge.
    let json = r#"{"nkey": {"n": {"public_key": "U1", "account": "A",
                                  "permissions": {"pub": {"allow": ["x"]}}}},
        "nkey": {"m": {"public_key": "U2", "account": "B"},
                 "n": {"public_key": "U1", "account": "C"}}}"#;
    let p = natscc::callout::Permissions::parse(json.as_bytes(), &BTreeMap::new()).unwrap();
    let n = p.nkey("U1").unwrap();
    assert_eq!(n.account, "C");
    assert_eq!(n.permissions, serde_json::json!({"pub": {}, "sub": {}}));
    assert_eq!(p.nkey("U2").unwrap().account, "B");
    // `resp: null` after a `resp` clears it (a pointer); `allow: null` clears a list.
    let json = r#"{"noauth": {"account": "A", "permissions": {"resp": {"max": 1}, "resp": null,
        "pub": {"allow": ["x"], "allow": null}}}}"#;
    assert_eq!(
        go_permissions(json, "noauth", "").unwrap(),
        serde_json::json!({"pub": {}, "sub": {}})
    );
}

/// Values of the wrong type refuse the file, with Go's words (the peer keeps its previous
/// permissions, or does not start).
#[test]
fn permissions_json_types_are_refused_as_go_refuses_them() {
    let cases = [
        (
            r#"{"noauth": {"account": "A", "permissions": {"resp": {"max": 1, "ttl": 1.5}}}}"#,
            "failed to parse config JSON: json: cannot unmarshal number 1.5 into Go struct \
             field ResponsePermission.noauth.permissions.resp.ttl of type time.Duration",
        ),
        (
            r#"{"noauth": {"account": "A", "permissions": {"resp": {"max": "1"}}}}"#,
            "failed to parse config JSON: json: cannot unmarshal string into Go struct field \
             ResponsePermission.noauth.permissions.resp.max of type int",
        ),
        (
            r#"{"nkey": {"n": {"public_key": "U", "account": "A",
                              "permissions": {"pub": {"allow": ["a", 1]}}}}}"#,
            "failed to parse config JSON: json: cannot unmarshal number into Go struct field \
             Permission.nkey.permissions.pub.allow of type string",
        ),
        (
            r#"{"nkey": {"n": {"public_key": "U", "account": "A",
                              "permissions": {"Pub": "a.>"}}}}"#,
            "failed to parse config JSON: json: cannot unmarshal string into Go struct field \
             Permissions.nkey.permissions.pub of type jwt.Permission",
        ),
        (
            r#"{"mtls": {"m": {"identity": 7, "account": "A"}}}"#,
            "failed to parse config JSON: json: cannot unmarshal number into Go struct field \
             MTLSEntry.mtls.identity of type string",
        ),
        (
            r#"{"oauth2": {"c": null}}"#,
            "OAuth2 entry 'c' is null: the chart's callout would crash on it (a nil entry); \
             remove it or give it an object",
        ),
        (
            r#"{"noauth": {"account": "A"}} x"#,
            "failed to parse config JSON: invalid character 'x' after top-level value",
        ),
    ];
    for (json, want) in cases {
        assert_eq!(
            natscc::callout::Permissions::parse(json.as_bytes(), &BTreeMap::new())
                .err()
                .as_deref(),
            Some(want),
            "{json}"
        );
    }
}

/// A certificate whose subject carries a CN Go reads but another library might skip: Go's
/// x509 reads every string type it knows and keeps the last CN.
fn cert_with_dn(dn: &[(rcgen::DnType, rcgen::DnValue)]) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name = rcgen::DistinguishedName::new();
    for (t, v) in dn {
        p.distinguished_name.push(t.clone(), v.clone());
    }
    p.subject_alt_names = vec![rcgen::SanType::DnsName("h.example".try_into().unwrap())];
    p.self_signed(&key).unwrap().pem()
}

#[test]
fn mtls_common_names_are_read_as_go_reads_them() {
    use natscc::callout::mtls::{CaPool, identify};
    use rcgen::{DnType, DnValue};
    let none = CaPool::from_pem(b"").unwrap();
    // A second CN attribute (the same OID, 2.5.4.3) in a BMPString: Go keeps the last CN.
    let second_cn = DnType::CustomDnType(vec![2, 5, 4, 3]);
    let two = cert_with_dn(&[
        (DnType::CommonName, DnValue::Utf8String("first".into())),
        (
            second_cn.clone(),
            DnValue::BmpString("second".try_into().unwrap()),
        ),
    ]);
    assert_eq!(identify(&two, &none).unwrap(), "CN=second");
    // Only a BMPString CN: it is the identity (not the DNS SAN after it).
    let bmp = cert_with_dn(&[(
        DnType::CommonName,
        DnValue::BmpString("gw".try_into().unwrap()),
    )]);
    assert_eq!(identify(&bmp, &none).unwrap(), "CN=gw");
    // T61String, PrintableString, IA5String.
    for (v, want) in [
        (DnValue::TeletexString("t61".try_into().unwrap()), "CN=t61"),
        (
            DnValue::PrintableString("p-1".try_into().unwrap()),
            "CN=p-1",
        ),
        (DnValue::Ia5String("i5".try_into().unwrap()), "CN=i5"),
    ] {
        assert_eq!(
            identify(&cert_with_dn(&[(DnType::CommonName, v)]), &none).unwrap(),
            want
        );
    }
    // A string type Go's x509 does not read makes the certificate unreadable in Go.
    let universal = cert_with_dn(&[(
        DnType::CommonName,
        DnValue::UniversalString("u".try_into().unwrap()),
    )]);
    assert_eq!(
        identify(&universal, &none).unwrap_err(),
        "failed to parse certificate: failed to parse certificate: x509: invalid RDNSequence: \
         invalid attribute value: unsupported string type: 28"
    );
}

/// The local bus's permissions.json with `edit` applied, written where the callout reads it.
fn edit_permissions(bus: &Bus, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = bus.dir.path().join("permissions.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, v.to_string()).unwrap();
}

/// On real servers: `Pub`/`Allow` written in another case restrict the NKey user as the
/// chart's callout restricts it, and `Required_Scope` is required.
#[test]
fn permissions_in_another_case_restrict_on_a_real_server() {
    let bus = Bus::start(1);
    let ops_key = nkeys::KeyPair::from_seed(&bus.ops_seed)
        .unwrap()
        .public_key();
    edit_permissions(&bus, |v| {
        v["nkey"]["ops-tool"] = serde_json::json!({"Public_Key": ops_key, "Account": "CSC",
            "Permissions": {"Pub": {"Allow": ["only.>"]}, "SUB": {"ALLOW": ["_INBOX.>"]}}});
        let dash = v["oauth2"]["dashboard"].take();
        v["oauth2"]["dashboard"] = serde_json::json!({"AZP": dash["azp"],
            "Account": dash["account"],
            "Required_Scope": "nats:admin", "permissions": dash["permissions"]});
    });
    let _callout = bus.callout();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = |scope: &str| {
        bus.issuer
            .sign_claims(&serde_json::json!({"iss": ISS, "aud": AUD, "sub": "x",
                "azp": "dashboard", "scope": scope, "exp": now + 300}))
            .unwrap()
    };
    let (mqtt_scope, admin) = (token("openid mqtt"), token("nats:admin"));
    rt().block_on(async {
        let observer = connect(&bus.url(), ConnectOptions::with_nkey(bus.nack_seed.clone()))
            .await
            .unwrap()
            .nc;
        let mut ops = connect(&bus.url(), ConnectOptions::with_nkey(bus.ops_seed.clone()))
            .await
            .expect("the operator's NKey user is accepted");
        check_publish(&mut ops, &observer, "only.x", "command.x").await;
        refused_with(
            &bus,
            || ConnectOptions::with_token(mqtt_scope.clone()),
            "missing required scope: nats:admin",
        )
        .await;
        connect(&bus.url(), ConnectOptions::with_token(admin))
            .await
            .expect("a token with the required scope is accepted");
    });
}

/// On real servers: provider tokens golang-jwt refuses are refused (an `aud` entry that is
/// not a string, a numeric `sub` or `scope`), claim names match case-insensitively, and of two
/// JWKS keys with one `kid` the first is used.
#[test]
fn provider_tokens_are_decoded_as_golang_jwt_decodes_them() {
    let bus = Bus::start(1);
    // The JWKS: the issuer's key, then another key under the same kid.
    let other = LocalIssuer::generate("RS256").unwrap();
    let mine: serde_json::Value = serde_json::from_str(&bus.issuer.jwks_json().unwrap()).unwrap();
    let mut theirs: serde_json::Value = serde_json::from_str(&other.jwks_json().unwrap()).unwrap();
    theirs["keys"][0]["kid"] = bus.issuer.kid().into();
    let set = serde_json::json!({"keys": [mine["keys"][0], theirs["keys"][0]]});
    std::fs::write(bus.dir.path().join("jwks.json"), set.to_string()).unwrap();
    let _callout = bus.callout();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |over: serde_json::Value| {
        let mut c = serde_json::json!({"iss": ISS, "aud": AUD, "sub": "x", "azp": "dashboard",
            "scope": "openid mqtt", "exp": now + 300});
        for (k, v) in over.as_object().unwrap() {
            match v {
                serde_json::Value::Null => c.as_object_mut().unwrap().remove(k),
                v => c.as_object_mut().unwrap().insert(k.clone(), v.clone()),
            };
        }
        bus.issuer.sign_claims(&c).unwrap()
    };
    let good = claims(serde_json::json!({}));
    let upper = claims(
        serde_json::json!({"scope": null, "SCOPE": "mqtt", "AZP": "dashboard",
        "azp": null}),
    );
    let bad = [
        (
            claims(serde_json::json!({"aud": [AUD, 1]})),
            "token is malformed: could not JSON decode claim: invalid type for claim",
        ),
        (
            claims(serde_json::json!({"sub": 5})),
            "token is malformed: could not JSON decode claim: json: cannot unmarshal number \
             into Go struct field Claims.RegisteredClaims.sub of type string",
        ),
        (
            claims(serde_json::json!({"scope": 5, "scopes": ["mqtt"]})),
            "token is malformed: could not JSON decode claim: json: cannot unmarshal number \
             into Go struct field Claims.scope of type string",
        ),
    ];
    rt().block_on(async {
        connect(&bus.url(), ConnectOptions::with_token(good))
            .await
            .expect("the first key of the kid verifies the issuer's token");
        connect(&bus.url(), ConnectOptions::with_token(upper))
            .await
            .expect("`SCOPE` and `AZP` are the scope and azp claims, as Go decodes them");
        for (token, said) in &bad {
            refused_with(&bus, || ConnectOptions::with_token(token.clone()), said).await;
        }
    });
}

/// A JWKS endpoint that answers its first request at once and every later one after `delay`;
/// it counts the requests. Dropping it stops it.
struct SlowIdp {
    port: u16,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SlowIdp {
    fn start(body: String, delay: Duration) -> SlowIdp {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (r, s) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let Ok((mut c, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let (body, s) = (body.clone(), s.clone());
                let n = r.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let _ = c.set_nonblocking(false);
                    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut buf = [0u8; 4096];
                    let _ = c.read(&mut buf);
                    let t0 = Instant::now();
                    while n > 0 && t0.elapsed() < delay && !s.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    let _ = c.write_all(
                        format!("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{body}")
                            .as_bytes(),
                    );
                });
            }
        });
        SlowIdp {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SlowIdp {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// With a JWKS URL that answers after 6 s, tokens with unknown `kid`s do not hold up anyone:
/// every good login succeeds while they arrive, and only one refresh is asked of the provider
/// for three of them (keyfunc's limit: one unknown-`kid` refresh per 5 minutes).
#[test]
fn a_slow_identity_provider_stalls_no_login() {
    let bus = Bus::start(1);
    let idp = SlowIdp::start(bus.issuer.jwks_json().unwrap(), Duration::from_secs(6));
    let mut cfg = bus.callout_config();
    cfg.oauth2.as_mut().unwrap().jwks =
        JwksSource::Url(format!("http://127.0.0.1:{}/jwks.json", idp.port));
    let _callout = Callout::start(cfg, WAIT).expect("the callout gets ready");
    let good = bus.token("dashboard");
    let stranger = LocalIssuer::generate("RS256").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let garbage = stranger
        .sign_claims(&serde_json::json!({"iss": ISS, "aud": AUD, "sub": "x",
            "azp": "dashboard", "scope": "mqtt", "exp": now + 300}))
        .unwrap();
    let (ok, tried) = rt().block_on(async {
        let url = bus.url();
        // A login counts when the client's publish reaches the observer: async-nats' connect
        // returns at the server's first word, which need not be the auth verdict.
        let observer = connect(&url, ConnectOptions::with_nkey(bus.nack_seed.clone()))
            .await
            .unwrap()
            .nc;
        let mut seen = observer.subscribe("broadcast.all").await.unwrap();
        observer
            .publish("broadcast.all", "probe".into())
            .await
            .unwrap();
        tokio::time::timeout(WAIT, seen.next())
            .await
            .unwrap()
            .unwrap();
        let t0 = Instant::now();
        let mut garbage_tasks = vec![];
        let (mut ok, mut tried) = (0, 0);
        while t0.elapsed() < Duration::from_secs(12) {
            // Three garbage tokens, at 1 s, 3 s and 5 s, each in its own task.
            let due = garbage_tasks.len();
            if due < 3 && t0.elapsed() >= Duration::from_secs(1 + 2 * due as u64) {
                let (url, token) = (url.clone(), garbage.clone());
                garbage_tasks.push(tokio::spawn(async move {
                    let _ = connect(&url, ConnectOptions::with_token(token)).await;
                }));
            }
            tried += 1;
            let started = Instant::now();
            let tag = format!("login {tried}");
            let login = tokio::time::timeout(Duration::from_secs(3), async {
                let c = connect(&url, ConnectOptions::with_token(good.clone()))
                    .await
                    .ok()?;
                c.nc.publish("broadcast.all", tag.clone().into())
                    .await
                    .ok()?;
                c.nc.flush().await.ok()?;
                while let Some(m) = seen.next().await {
                    if m.payload.as_ref() == tag.as_bytes() {
                        return Some(());
                    }
                }
                None
            })
            .await;
            if matches!(login, Ok(Some(()))) {
                ok += 1;
            } else {
                eprintln!("good {tag} failed after {:?}", started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        for t in garbage_tasks {
            t.await.unwrap();
        }
        (ok, tried)
    });
    assert_eq!(
        ok, tried,
        "every good login succeeds while garbage tokens arrive"
    );
    assert!(tried >= 20, "{tried} logins tried");
    let refusals = bus
        .callout_log()
        .matches("could not read JWK from storage")
        .count();
    assert_eq!(refusals, 3, "each token with an unknown kid is refused");
    // The start's fetch and one unknown-kid refresh: the 2nd and 3rd wait their 5 minutes.
    assert_eq!(
        idp.requests.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "JWKS requests"
    );
}
