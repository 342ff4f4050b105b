//! Plain-chart configs on real nats-servers, on loopback:
//! - seed 002: operator mode as a three-node JetStream cluster: routes form, an account pushed
//!   through the system account gets an R3 stream, a user signed by that account connects, an
//!   unknown or missing credential is refused, and an MQTT client completes a TLS-first handshake
//!   with a bearer JWT;
//! - seed 003: TLS certificate roles: the reader subscribes but cannot publish, the admin does
//!   both.
//!
//! Keys, JWTs and certificates are made in the test; only what natscc compiled is run, with the
//! pod's names, ports and paths swapped for loopback ones.

// A scenario reads top to bottom as one story; the 120-line limit is for src/.
#![allow(clippy::too_many_lines)]

mod common;

use common::free_port;

use common::{make_certs, nats_server_path, natscc, openssl, rewrite_cert_paths};
use natscc::check::nats_chart::jwt;
use nkeys::KeyPair;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running server, stopped (by its own pid) when dropped.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path, conf: &str, name: &str) -> Server {
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(nats_server_path())
            .args(["-c", conf])
            .current_dir(dir)
            .env("SERVER_NAME", name)
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(
                std::fs::File::create(dir.join(format!("{name}.err"))).unwrap(),
            ))
            .spawn()
            .expect("nats-server starts");
        Server { child, log }
    }
    /// What the server wrote, stdout then stderr (where nats-server logs by default).
    fn log(&self) -> String {
        let err = self.log.with_extension("err");
        format!(
            "{}{}",
            std::fs::read_to_string(&self.log).unwrap_or_default(),
            std::fs::read_to_string(err).unwrap_or_default()
        )
    }
}

/// The tests start servers on ports picked free a moment earlier; run one at a time so two
/// tests never pick the same port.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wait_until(
    what: &str,
    timeout: Duration,
    mut ok: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}\n{}", context());
}

/// GET on the monitoring port, parsed as JSON.
fn monitor(port: u16, path: &str) -> Option<serde_json::Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    serde_json::from_str(body.split("\r\n\r\n").nth(1)?).ok()
}

fn compile(dir: &Path, values: &str) -> String {
    std::fs::write(dir.join("values.yaml"), values).unwrap();
    let out = dir.join("out");
    let run = natscc()
        .current_dir(dir)
        .args(["compile", "-f", "values.yaml", "-o"])
        .arg(&out)
        .args(["--format", "concise"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "natscc refused the values:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(out.join("nats.conf")).unwrap()
}

/// Swaps one exact fragment, failing loudly if the compiled text moved.
fn swap(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` should occur once in:\n{text}"
    );
    text.replace(from, to)
}

fn write_jwt(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir.join("jwt")).unwrap();
    std::fs::write(dir.join("jwt").join(name), text).unwrap();
}

/// A user of an account: its `.creds` text.
fn user_creds(account: &KeyPair, name: &str, bearer: bool) -> (String, String) {
    let user = KeyPair::new_user();
    let token = jwt::encode(
        jwt::user_claims(name, &user.public_key(), bearer, None),
        account,
    );
    (jwt::creds(&token, &user.seed().unwrap()), token)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An MQTT 3.1.1 CONNECT with a username and password, and a clean session.
fn mqtt_connect(client_id: &str, user: &str, password: &str) -> Vec<u8> {
    let field = |s: &str| {
        let mut v = (s.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(s.as_bytes());
        v
    };
    let mut body = field("MQTT");
    body.extend([4u8, 0xC2, 0, 30]);
    body.extend(field(client_id));
    body.extend(field(user));
    body.extend(field(password));
    let mut packet = vec![0x10];
    let mut len = body.len();
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        packet.push(b);
        if len == 0 {
            break;
        }
    }
    packet.extend(body);
    packet
}

#[test]
fn seed_002_operator_mode_cluster() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let certs = make_certs(dir);

    let operator = KeyPair::new_operator();
    let signing = KeyPair::new_operator();
    let sys = KeyPair::new_account();
    let iot = KeyPair::new_account();
    write_jwt(
        dir,
        "operator.jwt",
        &jwt::encode(
            jwt::operator_claims(
                "fzymgc-house",
                &operator,
                &[signing.public_key()],
                Some(&sys.public_key()),
            ),
            &operator,
        ),
    );
    write_jwt(
        dir,
        "sys.jwt",
        &jwt::encode(
            jwt::account_claims("SYS", &sys.public_key(), false, &[]),
            &signing,
        ),
    );
    let iot_jwt = jwt::encode(
        jwt::account_claims("IOT", &iot.public_key(), true, &[]),
        &operator,
    );
    write_jwt(dir, "iot.jwt", &iot_jwt);

    let values = format!(
        "config:
  cluster: {{ enabled: true, replicas: 3 }}
  jetstream:
    enabled: true
    merge: {{ domain: fzymgc }}
  nats:
    tls: {{ enabled: true, secretName: nats-client-tls }}
  mqtt:
    enabled: true
    tls:
      enabled: true
      secretName: nats-client-tls
      merge: {{ handshake_first: true }}
  resolver:
    enabled: true
    merge: {{ type: full, interval: 2m, timeout: 1.9s }}
  merge:
    operator: jwt/operator.jwt
    system_account: {sys}
    resolver_preload:
      {sys}: jwt/sys.jwt
natscc:
  pushedAccounts:
    IOT: jwt/iot.jwt
",
        sys = sys.public_key()
    );
    let conf = compile(dir, &values);
    assert!(
        conf.contains("handshake_first: true") && conf.contains("resolver_preload"),
        "{conf}"
    );

    let cluster: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let client: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let http: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mqtt: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut servers = vec![];
    for i in 0..3 {
        let mut t = rewrite_cert_paths(&conf, certs, dir);
        for (k, port) in cluster.iter().enumerate() {
            t = swap(
                &t,
                &format!("\"nats://nats-{k}.nats-headless:6222\""),
                &format!("\"nats://127.0.0.1:{port}\""),
            );
        }
        t = swap(&t, "  port: 6222", &format!("  port: {}", cluster[i]));
        t = swap(&t, "\nport: 4222", &format!("\nport: {}", client[i]));
        t = swap(&t, "http_port: 8222", &format!("http_port: {}", http[i]));
        t = swap(&t, "  port: 1883", &format!("  port: {}", mqtt[i]));
        t = swap(
            &t,
            "store_dir: \"/data\"",
            &format!("store_dir: \"{}\"", dir.join(format!("js{i}")).display()),
        );
        t = swap(
            &t,
            "dir: \"/data/resolver\"",
            &format!("dir: \"{}\"", dir.join(format!("resolver{i}")).display()),
        );
        t = swap(
            &t,
            "\"/var/run/nats/nats.pid\"",
            &format!("\"{}\"", dir.join(format!("n{i}.pid")).display()),
        );
        std::fs::write(dir.join(format!("node{i}.conf")), &t).unwrap();
        servers.push(Server::start(
            dir,
            &format!("node{i}.conf"),
            &format!("n{i}"),
        ));
    }
    let logs = || {
        servers
            .iter()
            .map(Server::log)
            .collect::<Vec<_>>()
            .join("\n----\n")
    };
    for &h in &http {
        wait_until(
            "routes between the three servers",
            Duration::from_secs(30),
            || {
                monitor(h, "/routez")
                    .and_then(|r| r["num_routes"].as_u64())
                    .is_some_and(|n| n >= 2)
            },
            logs,
        );
    }

    let ca = dir.join(certs.0);
    let url = format!("tls://127.0.0.1:{}", client[0]);
    let rt = runtime();
    rt.block_on(async {
        let opts = |creds: &str| {
            async_nats::ConnectOptions::with_credentials(creds)
                .unwrap()
                .require_tls(true)
                .add_root_certificates(ca.clone())
                .connection_timeout(Duration::from_secs(5))
        };

        // Push IOT through the system account, as the seed's PostSync job does with nsc push.
        let (sys_creds, _) = user_creds(&sys, "push-admin", false);
        let sysc = opts(&sys_creds)
            .connect(&url)
            .await
            .expect("the system account's user connects");
        let reply = sysc
            .request("$SYS.REQ.CLAIMS.UPDATE", iot_jwt.clone().into())
            .await
            .expect("the resolver answers the push");
        let said = String::from_utf8_lossy(&reply.payload).to_string();
        assert!(
            said.contains("\"code\":200"),
            "the account push failed: {said}"
        );

        // A user signed by IOT connects and creates an R3 stream (retried while the meta leader is
        // elected).
        let (iot_creds, _) = user_creds(&iot, "app", false);
        let nc = opts(&iot_creds)
            .connect(&url)
            .await
            .expect("a user signed by an account in the resolver connects");
        let js = async_nats::jetstream::new(nc);
        let start = Instant::now();
        let info = loop {
            let cfg = async_nats::jetstream::stream::Config {
                name: "EVENTS".into(),
                subjects: vec!["events.>".into()],
                num_replicas: 3,
                ..Default::default()
            };
            match js.get_or_create_stream(cfg).await {
                Ok(mut s) => break s.info().await.expect("stream info").clone(),
                Err(e) if start.elapsed() < Duration::from_secs(30) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("no R3 stream: {e}\n{}", logs()),
            }
        };
        assert_eq!(info.config.num_replicas, 3);
        let replicas = info.cluster.as_ref().map(|c| c.replicas.len()).unwrap_or(0);
        assert_eq!(
            replicas, 2,
            "an R3 stream has a leader and two replicas: {:?}",
            info.cluster
        );
        js.publish("events.one", "x".into())
            .await
            .unwrap()
            .await
            .expect("the stream stores a message");

        // A user signed by an account the operator never signed is refused, and so is no credential
        // at all.
        let stranger = KeyPair::new_account();
        let (bad_creds, _) = user_creds(&stranger, "intruder", false);
        assert!(
            opts(&bad_creds).connect(&url).await.is_err(),
            "a user of an unknown account connected"
        );
        let anonymous = async_nats::ConnectOptions::new()
            .require_tls(true)
            .add_root_certificates(ca.clone())
            .connection_timeout(Duration::from_secs(5))
            .connect(&url)
            .await;
        assert!(anonymous.is_err(), "a client without credentials connected");
    });

    // MQTT: TLS comes first (handshake_first), the password is a bearer user JWT of IOT. The
    // account's MQTT streams are created on the first CONNECT, by a cluster that has just
    // formed: the server may close that first connection ("unable to persist session ...
    // timeout"), and a client reconnects, as production clients do. So the CONNECT is sent
    // again until a CONNACK comes, for at most 60 s.
    let (_, bearer) = user_creds(&iot, "mqtt-bridge", true);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let connack = loop {
        let mut ssl = Command::new("openssl")
            .args(["s_client", "-quiet", "-verify_return_error", "-CAfile"])
            .arg(&ca)
            .args([
                "-servername",
                "localhost",
                "-connect",
                &format!("127.0.0.1:{}", mqtt[0]),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        ssl.stdin
            .as_mut()
            .unwrap()
            .write_all(&mqtt_connect("natscc-test", "bridge", &bearer))
            .unwrap();
        let mut connack = [0u8; 4];
        let read = ssl.stdout.as_mut().unwrap().read_exact(&mut connack);
        let _ = ssl.kill();
        let _ = ssl.wait();
        match read {
            Ok(()) => break connack,
            Err(e) if std::time::Instant::now() > deadline => {
                panic!("no CONNACK over TLS-first MQTT in 60 s: {e}\n{}", logs())
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    assert_eq!(
        connack,
        [0x20, 0x02, 0x00, 0x00],
        "the MQTT CONNECT was not accepted\n{}",
        logs()
    );
    drop(servers);
}

fn client_cert(dir: &Path, cn: &str) -> (PathBuf, PathBuf) {
    let key = format!("{cn}-key.pem");
    let csr = format!("{cn}.csr");
    let cert = format!("{cn}.pem");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &format!("/CN={cn}"),
            "-keyout",
            &key,
            "-out",
            &csr,
        ],
    );
    // Extensions make it an X.509 v3 certificate; rustls refuses v1 client certificates.
    let ext = format!("{cn}.ext");
    std::fs::write(dir.join(&ext), "extendedKeyUsage=clientAuth\n").unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &cert,
        ],
    );
    (dir.join(cert), dir.join(key))
}

#[test]
fn seed_003_tls_roles() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let certs = make_certs(dir);
    let conf = compile(
        dir,
        "config:
  jetstream: { enabled: true }
  nats:
    tls: { enabled: true, secretName: nats-server-certs }
  merge:
    max_connections: 64000
    max_control_line: << 4KB >>
    max_payload: << 8MB >>
    ping_interval: 20s
    write_deadline: 55s
tlsCA: { enabled: true, secretName: nats-server-certs }
natscc:
  tlsRoles:
    account: DATA
    subjects: [\"events.>\"]
    users:
      - { subject: \"CN=superuser\", role: superuser }
      - { subject: \"CN=admin\", role: admin }
      - { subject: \"CN=reader\", role: reader }
",
    );
    let port = free_port();
    let http = free_port();
    let mut t = rewrite_cert_paths(&conf, certs, dir);
    t = swap(&t, "\nport: 4222", &format!("\nport: {port}"));
    t = swap(&t, "http_port: 8222", &format!("http_port: {http}"));
    t = swap(
        &t,
        "store_dir: \"/data\"",
        &format!("store_dir: \"{}\"", dir.join("js").display()),
    );
    t = swap(
        &t,
        "\"/var/run/nats/nats.pid\"",
        &format!("\"{}\"", dir.join("n.pid").display()),
    );
    std::fs::write(dir.join("node.conf"), &t).unwrap();
    let server = Server::start(dir, "node.conf", "n0");
    wait_until(
        "the server to listen",
        Duration::from_secs(15),
        || monitor(http, "/varz").is_some(),
        || server.log(),
    );

    let ca = dir.join(certs.0);
    let url = format!("tls://127.0.0.1:{port}");
    let admin = client_cert(dir, "admin");
    let reader = client_cert(dir, "reader");
    let rt = runtime();
    rt.block_on(async {
        let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let as_user = |(cert, key): &(PathBuf, PathBuf)| {
            let seen = errors.clone();
            async_nats::ConnectOptions::new()
                .require_tls(true)
                .add_root_certificates(ca.clone())
                .add_client_certificate(cert.clone(), key.clone())
                .connection_timeout(Duration::from_secs(5))
                .event_callback(move |e| {
                    let seen = seen.clone();
                    async move { seen.lock().unwrap().push(e.to_string()) }
                })
        };
        let a = as_user(&admin)
            .connect(&url)
            .await
            .expect("the admin certificate maps to a user");
        let r = as_user(&reader)
            .connect(&url)
            .await
            .expect("the reader certificate maps to a user");
        let mut reader_sub = r.subscribe("events.>").await.unwrap();
        let mut admin_sub = a.subscribe("events.>").await.unwrap();
        r.flush().await.unwrap();
        a.flush().await.unwrap();

        // Publish until the reader has it: under load the first message can beat the reader's
        // interest to the server; what matters is that a reader receives at all.
        let mut got = None;
        for _ in 0..10 {
            a.publish("events.admin", "from admin".into())
                .await
                .unwrap();
            a.flush().await.unwrap();
            if let Ok(m) =
                tokio::time::timeout(Duration::from_secs(1), futures_next(&mut reader_sub)).await
            {
                got = Some(m);
                break;
            }
        }
        let got = got.unwrap_or_else(|| {
            panic!(
                "the reader did not receive the admin's message; client events: {:?}\n{}",
                errors.lock().unwrap(),
                server.log()
            )
        });
        assert_eq!(got.subject.as_str(), "events.admin");
        let got = tokio::time::timeout(Duration::from_secs(5), futures_next(&mut admin_sub))
            .await
            .expect("the admin receives its own message");
        assert_eq!(got.subject.as_str(), "events.admin");

        r.publish("events.reader", "from reader".into())
            .await
            .unwrap();
        let _ = r.flush().await;
        // Further copies of the admin's retries may still arrive; only the reader's message counts.
        let leaked = tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                let m = futures_next(&mut admin_sub).await;
                if m.subject.as_str() == "events.reader" {
                    break m;
                }
            }
        })
        .await;
        assert!(
            leaked.is_err(),
            "the reader's message was delivered: {:?}",
            leaked.map(|m| m.subject)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let seen = errors.lock().unwrap().join("; ");
        assert!(
            seen.to_lowercase().contains("permissions violation"),
            "no permissions violation reported for the reader's publish: {seen}"
        );
    });
    drop(server);
}

async fn futures_next(sub: &mut async_nats::Subscriber) -> async_nats::Message {
    use futures_util::StreamExt;
    sub.next().await.expect("subscription open")
}
