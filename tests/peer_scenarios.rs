//! The peer's functional scenarios (NVIDIA/dsx-exchange `local/mqtt-client/tests/functional/`:
//! federation_test.go, mqtt_test.go, mtls_test.go, nats_leaf_test.go, topic_auth_test.go),
//! ported to Rust and run against `natscc up` on two fleets: the example fleet
//! (`examples/fleet/fleet.yaml`) and the peer's own Kind lab values (`tests/fleets/lab/`).
//! Each test is named after the Go test it ports and runs every case on both fleets, where the
//! fleet has what the case needs: the lab alone has OAuth2 identities and the LaunchLayer
//! account, so on the example fleet topic authorization runs on its mTLS identities and the
//! leaf routing on its CSC/CPC leaf connections, and the JetStream-through-the-leaf scenarios
//! run on the lab only. The last three tests record where the real bus parts from what the
//! peer expects or what natscc accepts.
//!
//! One `natscc up` per fleet serves every test of this binary: started on first use, stopped
//! with SIGTERM when the process exits (an `atexit` hook, which also fails the run should a
//! process or the run's folder outlive it), and killed by the kernel should the test process
//! die first (PR_SET_PDEATHSIG). Tests take turns (a lock), so scenarios never overlap.
//!
//! Every denial asserted here comes from the servers: a NATS client's `Permissions Violation`,
//! an MQTT SUBACK failure code, a refused CONNACK or TLS handshake, the server's log line; a
//! denied MQTT publish (which MQTT 3.1.1 acknowledges anyway) is also shown absent by an
//! allowed publish sent after it on the same connection arriving first. Where the real bus differs from what the peer's tests
//! expect, the test asserts what the servers do and says so (README: "The peer's scenarios").

// A scenario reads top to bottom as one story; the 120-line limit is for src/.
#![allow(clippy::too_many_lines)]

mod common;

use futures_util::StreamExt;
use rumqttc::{QoS, SubscribeReasonCode};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The longest any single wait in these tests may take.
const WAIT: Duration = Duration::from_secs(15);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Scenarios take turns: they share the running fleets.
static TURN: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

/// A topic token no other case uses.
fn unique() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}x{nanos:08x}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

// ---------------------------------------------------------------------------------------------
// The two fleets and their running `natscc up`
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fleet {
    Example,
    Lab,
}

const FLEETS: [Fleet; 2] = [Fleet::Example, Fleet::Lab];

impl Fleet {
    fn file(self) -> PathBuf {
        root().join(match self {
            Fleet::Example => "examples/fleet/fleet.yaml",
            Fleet::Lab => "tests/fleets/lab/fleet.yaml",
        })
    }

    /// The mTLS identity each cluster's values define, and a subject prefix it may both publish
    /// and subscribe under (the peer's lab grants `test.>`; the example fleet's identities are
    /// a CSC console and a plant gateway).
    fn mtls_identity(self, cluster: &str) -> (&'static str, &'static str) {
        match (self, cluster) {
            (Fleet::Lab, _) => ("mqtt-client", "test"),
            (Fleet::Example, "csc") => ("console", "broadcast"),
            (Fleet::Example, _) => ("plant-gateway", "sensor"),
        }
    }
}

/// What `natscc up` printed for one cluster.
#[derive(Default, Debug)]
struct Cluster {
    /// nats-0's client URL.
    nats: String,
    /// nats-0's MQTT port.
    mqtt: u16,
    /// nats-mtls' MQTT port, and the name its certificate carries.
    mqtt_mtls: u16,
    server_name: String,
    /// OAuth2 identity -> its token.
    tokens: HashMap<String, String>,
    /// mTLS identity -> (certificate, key, CA) files.
    certs: HashMap<String, (PathBuf, PathBuf, PathBuf)>,
}

struct Up {
    child: Mutex<Child>,
    dir: PathBuf,
    clusters: HashMap<String, Cluster>,
    log: Arc<Mutex<String>>,
}

impl Up {
    fn cluster(&self, name: &str) -> &Cluster {
        &self.clusters[name]
    }
}

static EXAMPLE: OnceLock<Up> = OnceLock::new();
static LAB: OnceLock<Up> = OnceLock::new();

fn up(fleet: Fleet) -> &'static Up {
    let cell = match fleet {
        Fleet::Example => &EXAMPLE,
        Fleet::Lab => &LAB,
    };
    cell.get_or_init(|| {
        static HOOK: std::sync::Once = std::sync::Once::new();
        // SAFETY: registers a plain `extern "C"` function; it runs once, at process exit.
        HOOK.call_once(|| assert_eq!(unsafe { libc::atexit(stop_all) }, 0));
        start(&fleet.file())
    })
}

/// Spawns `natscc up` from a thread that lives as long as the process, so PR_SET_PDEATHSIG
/// (which fires when the spawning thread ends) sends it SIGTERM only when the test process dies.
fn spawn_up(fleet: &Path) -> Child {
    // Resolved here, so a missing nats-server fails the test with its own message.
    let server = common::nats_server_path();
    let (tx, rx) = std::sync::mpsc::channel();
    let fleet = fleet.to_path_buf();
    std::thread::spawn(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_natscc"));
        cmd.arg("up")
            .arg(&fleet)
            .env("NATS_SERVER_BIN", server)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let _ = tx.send(cmd.spawn());
        loop {
            std::thread::park();
        }
    });
    rx.recv().unwrap().expect("natscc up starts")
}

fn start(fleet: &Path) -> Up {
    let mut child = spawn_up(fleet);
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let log = Arc::new(Mutex::new(String::new()));
    let (dir_tx, dir_rx) = std::sync::mpsc::channel();
    let log2 = log.clone();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(d) = line.split(" auth callouts in ").nth(1) {
                let _ = dir_tx.send(PathBuf::from(d));
            }
            log2.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    // natscc gives up on its own after 30 s; should it hang instead, it is killed so the read
    // below ends and the test fails rather than hangs.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let pid = child.id() as i32;
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            ready_rx.recv_timeout(Duration::from_secs(60))
        {
            // SAFETY: signals natscc's own pid, not yet reaped while this waits.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut clusters: HashMap<String, Cluster> = HashMap::new();
    let mut ready = false;
    for line in BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        if line == "ready" {
            ready = true;
            break;
        }
        let f: HashMap<&str, &str> = line.split(' ').filter_map(|f| f.split_once('=')).collect();
        let Some(name) = f.get("cluster") else {
            continue;
        };
        let c = clusters.entry(name.to_string()).or_default();
        let first = |list: &str| list.split(',').next().unwrap().to_string();
        let port = |addr: &str| -> u16 { addr.rsplit_once(':').unwrap().1.parse().unwrap() };
        if let (Some(nats), Some(mqtt)) = (f.get("nats"), f.get("mqtt")) {
            c.nats = first(nats);
            c.mqtt = port(&first(mqtt));
        }
        if let (Some(m), Some(n)) = (f.get("mqtt-mtls"), f.get("mtls-server-name")) {
            c.mqtt_mtls = port(m);
            c.server_name = n.to_string();
        }
        if let (Some(id), Some(file)) = (f.get("oauth2-client"), f.get("token-file")) {
            let token = std::fs::read_to_string(file).unwrap().trim().to_string();
            c.tokens.insert(id.to_string(), token);
        }
        if let (Some(id), Some(cert), Some(key), Some(ca)) = (
            f.get("mtls-client"),
            f.get("cert"),
            f.get("key"),
            f.get("ca"),
        ) {
            c.certs
                .insert(id.to_string(), (cert.into(), key.into(), ca.into()));
        }
    }
    drop(ready_tx);
    assert!(
        ready,
        "natscc up {} never printed ready:\n{}",
        fleet.display(),
        log.lock().unwrap()
    );
    let dir = dir_rx
        .recv_timeout(WAIT)
        .expect("natscc up names its folder");
    eprintln!("natscc up {}: ready", fleet.display());
    Up {
        child: Mutex::new(child),
        dir,
        clusters,
        log,
    }
}

/// Pids of processes whose working folder lies in `dir`.
fn processes_in(dir: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
                .filter(|pid| {
                    std::fs::read_link(format!("/proc/{pid}/cwd"))
                        .is_ok_and(|cwd| cwd.starts_with(dir))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// At process exit: SIGTERM every `natscc up` this binary started, wait for it, and fail the
/// run (exit status 1) if a server, callout or the run's folder is left behind.
extern "C" fn stop_all() {
    let mut failed = false;
    for up in [EXAMPLE.get(), LAB.get()].into_iter().flatten() {
        let Ok(mut child) = up.child.lock() else {
            continue;
        };
        // SAFETY: natscc's pid; the child is not reaped before the signal.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let t = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if t.elapsed() < Duration::from_secs(15) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => break None,
            }
        };
        let left = processes_in(&up.dir);
        if status.is_none_or(|s| !s.success()) || up.dir.exists() || !left.is_empty() {
            failed = true;
            let _ = child.kill();
            eprintln!(
                "natscc up did not stop cleanly after SIGTERM: status {status:?}, folder {} {}, processes left {left:?}; it said:\n{}",
                up.dir.display(),
                if up.dir.exists() { "left" } else { "removed" },
                up.log.lock().map(|l| l.clone()).unwrap_or_default(),
            );
        }
    }
    if failed {
        // SAFETY: ends the process with a failure status without running more exit hooks.
        unsafe { libc::_exit(1) };
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `scenario` on each of `fleets`, one after the other, each in its own runtime.
fn on_fleets<F, Fut>(fleets: &[Fleet], scenario: F)
where
    F: Fn(Fleet, &'static Up) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let _turn = turn();
    for &fleet in fleets {
        let up = up(fleet);
        eprintln!("--- {fleet:?} fleet");
        rt().block_on(scenario(fleet, up));
    }
}

// ---------------------------------------------------------------------------------------------
// NATS clients that hear the server's errors
// ---------------------------------------------------------------------------------------------

struct Nats {
    nc: async_nats::Client,
    errors: tokio::sync::mpsc::UnboundedReceiver<String>,
}

async fn nats(url: &str, opts: async_nats::ConnectOptions) -> Nats {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let nc = opts
        .connection_timeout(WAIT)
        .event_callback(move |ev| {
            let tx = tx.clone();
            async move {
                if let async_nats::Event::ServerError(async_nats::ServerError::Other(e)) = ev {
                    let _ = tx.send(e);
                }
            }
        })
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    Nats { nc, errors: rx }
}

/// A no-auth client (the account permissions.json gives `noauth`).
async fn anonymous(url: &str) -> Nats {
    nats(url, async_nats::ConnectOptions::new()).await
}

/// An OAuth2 client as the peer's clients connect: user `oauthtoken`, the token as password.
async fn with_token(url: &str, token: &str) -> Nats {
    nats(
        url,
        async_nats::ConnectOptions::with_user_and_password("oauthtoken".into(), token.into()),
    )
    .await
}

impl Nats {
    /// The server's next error must contain `needle`.
    async fn refused(&mut self, needle: &str) {
        let got = tokio::time::timeout(WAIT, self.errors.recv())
            .await
            .unwrap_or_else(|_| panic!("no server error `{needle}` within {WAIT:?}"))
            .expect("error channel open");
        assert!(
            got.contains(needle),
            "expected the server to say `{needle}`, it said `{got}`"
        );
    }

    /// A subscription the server holds: a probe published by this client comes back on it.
    async fn subscribe_held(&self, subject: &str) -> async_nats::Subscriber {
        let sub = self.nc.subscribe(subject.to_string()).await.unwrap();
        self.nc.flush().await.unwrap();
        sub
    }
}

/// Publishes `payload` on `subject` every 100 ms until `sub` receives it (interest crosses leaf
/// connections asynchronously); returns the subject it arrived on.
async fn publish_until_received(
    client: &async_nats::Client,
    subject: &str,
    payload: &str,
    sub: &mut async_nats::Subscriber,
) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        client
            .publish(subject.to_string(), payload.to_string().into())
            .await
            .unwrap();
        client.flush().await.unwrap();
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(100), sub.next()).await
            && m.payload.as_ref() == payload.as_bytes()
        {
            return m.subject.to_string();
        }
        assert!(Instant::now() < deadline, "{subject} never arrived");
    }
}

// ---------------------------------------------------------------------------------------------
// MQTT clients: plain, OAuth2 (user `oauthtoken`), mTLS with a certificate from up's CA
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
enum Auth {
    None,
    Token(String),
    /// A client certificate (cert, key, CA, the server certificate's name); `with_cert: false`
    /// offers TLS without one.
    Tls {
        files: (PathBuf, PathBuf, PathBuf),
        server_name: String,
        with_cert: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Msg {
    topic: String,
    payload: String,
    retain: bool,
    qos: QoS,
}

struct Mqtt {
    client: rumqttc::AsyncClient,
    msgs: tokio::sync::mpsc::UnboundedReceiver<Msg>,
    acks: tokio::sync::mpsc::UnboundedReceiver<rumqttc::Packet>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Mqtt {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Verifies the server's chain against the CA for a fixed name: the client dials 127.0.0.1,
/// while the certificate names what the fleet file declares (`mtls.serverCertSans`).
#[derive(Debug)]
struct NamedServer {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    name: rustls::pki_types::ServerName<'static>,
}

impl rustls::client::danger::ServerCertVerifier for NamedServer {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _dialled: &rustls::pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn tls_config(
    (cert, key, ca): &(PathBuf, PathBuf, PathBuf),
    server_name: &str,
    with_cert: bool,
) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let verifier = NamedServer {
        inner: rustls::client::WebPkiServerVerifier::builder(Arc::new(roots))
            .build()
            .unwrap(),
        name: ServerName::try_from(server_name.to_string()).unwrap(),
    };
    let builder = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let config = if with_cert {
        let chain: Vec<_> = CertificateDer::pem_file_iter(cert)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        builder
            .with_client_auth_cert(chain, PrivateKeyDer::from_pem_file(key).unwrap())
            .unwrap()
    } else {
        builder.with_no_client_auth()
    };
    Arc::new(config)
}

/// Connects and waits for the CONNACK: Err with what refused it (a return code, a TLS error,
/// a closed connection).
async fn mqtt_connect(
    port: u16,
    id: &str,
    auth: &Auth,
    clean_session: bool,
) -> Result<Mqtt, String> {
    let mut o = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(30));
    o.set_clean_session(clean_session);
    match auth {
        Auth::None => {}
        Auth::Token(t) => {
            o.set_credentials("oauthtoken", t.clone());
        }
        Auth::Tls {
            files,
            server_name,
            with_cert,
        } => {
            o.set_transport(rumqttc::Transport::tls_with_config(
                rumqttc::TlsConfiguration::Rustls(tls_config(files, server_name, *with_cert)),
            ));
        }
    }
    let (client, mut el) = rumqttc::AsyncClient::new(o, 64);
    let (msg_tx, msgs) = tokio::sync::mpsc::unbounded_channel();
    let (ack_tx, mut acks) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        loop {
            match el.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let _ = msg_tx.send(Msg {
                        topic: p.topic.clone(),
                        payload: String::from_utf8_lossy(&p.payload).into_owned(),
                        retain: p.retain,
                        qos: p.qos,
                    });
                }
                Ok(rumqttc::Event::Incoming(p)) => {
                    let _ = ack_tx.send(Ok(p));
                }
                Ok(_) => {}
                Err(e) => {
                    // No reconnect: a closed connection ends this client.
                    let said = match e {
                        rumqttc::ConnectionError::ConnectionRefused(code) => {
                            format!("CONNACK {code:?}")
                        }
                        e => e.to_string(),
                    };
                    let _ = ack_tx.send(Err(said));
                    return;
                }
            }
        }
    });
    let connack = tokio::time::timeout(WAIT, async {
        loop {
            match acks.recv().await {
                Some(Ok(rumqttc::Packet::ConnAck(a))) => return Ok(a.code),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Err("connection closed".to_string()),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err(format!("no CONNACK within {WAIT:?}")));
    match connack {
        Ok(rumqttc::ConnectReturnCode::Success) => {}
        Ok(code) => {
            task.abort();
            return Err(format!("CONNACK {code:?}"));
        }
        Err(e) => {
            task.abort();
            return Err(e);
        }
    }
    // Later acks only: errors after the CONNACK end the client (the task returns).
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(p)) = acks.recv().await {
            if tx.send(p).is_err() {
                return;
            }
        }
    });
    Ok(Mqtt {
        client,
        msgs,
        acks: rx,
        task,
    })
}

async fn mqtt(port: u16, id: &str, auth: &Auth) -> Mqtt {
    mqtt_connect(port, id, auth, true)
        .await
        .unwrap_or_else(|e| panic!("MQTT client {id} on port {port}: {e}"))
}

impl Mqtt {
    async fn next_ack<T>(&mut self, mut pick: impl FnMut(rumqttc::Packet) -> Option<T>) -> T {
        tokio::time::timeout(WAIT, async {
            loop {
                let p = self.acks.recv().await.expect("the MQTT connection is up");
                if let Some(t) = pick(p) {
                    return t;
                }
            }
        })
        .await
        .expect("the expected MQTT acknowledgement within the wait")
    }

    /// Subscribes: the server's SUBACK code, or None when it closed the connection instead.
    async fn try_subscribe(&mut self, topic: &str, qos: QoS) -> Option<SubscribeReasonCode> {
        self.client.subscribe(topic, qos).await.unwrap();
        tokio::time::timeout(WAIT, async {
            loop {
                match self.acks.recv().await? {
                    rumqttc::Packet::SubAck(a) => return a.return_codes.first().copied(),
                    _ => continue,
                }
            }
        })
        .await
        .expect("a SUBACK or a closed connection within the wait")
    }

    /// Subscribes and returns the server's SUBACK code.
    async fn subscribe(&mut self, topic: &str, qos: QoS) -> SubscribeReasonCode {
        self.client.subscribe(topic, qos).await.unwrap();
        let codes = self
            .next_ack(|p| match p {
                rumqttc::Packet::SubAck(a) => Some(a.return_codes),
                _ => None,
            })
            .await;
        assert_eq!(codes.len(), 1, "{codes:?}");
        codes[0]
    }

    async fn subscribed(&mut self, topic: &str, qos: QoS) {
        let code = self.subscribe(topic, qos).await;
        assert!(
            matches!(code, SubscribeReasonCode::Success(_)),
            "the server refused the subscription to {topic}: {code:?}"
        );
    }

    /// Publishes; at QoS 1, waits for the PUBACK.
    async fn publish(&mut self, topic: &str, payload: &str, qos: QoS, retain: bool) {
        self.client
            .publish(topic, qos, retain, payload.as_bytes().to_vec())
            .await
            .unwrap();
        if qos == QoS::AtLeastOnce {
            self.next_ack(|p| matches!(p, rumqttc::Packet::PubAck(_)).then_some(()))
                .await;
        }
    }

    /// The next message within `wait`, if any.
    async fn next(&mut self, wait: Duration) -> Option<Msg> {
        tokio::time::timeout(wait, self.msgs.recv())
            .await
            .ok()
            .flatten()
    }

    async fn expect(&mut self, what: &str) -> Msg {
        self.next(WAIT)
            .await
            .unwrap_or_else(|| panic!("{what}: nothing arrived within {WAIT:?}"))
    }

    /// Sends DISCONNECT and waits until the connection is closed.
    async fn disconnect(mut self) {
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(WAIT, &mut self.task).await;
    }
}

/// Publishes on `publisher` every 200 ms until `subscriber` receives this payload (interest
/// crosses leaf connections asynchronously).
async fn mqtt_until_received(
    publisher: &mut Mqtt,
    topic: &str,
    payload: &str,
    subscriber: &mut Mqtt,
) -> Msg {
    let deadline = Instant::now() + WAIT;
    loop {
        publisher
            .publish(topic, payload, QoS::AtLeastOnce, false)
            .await;
        while let Some(m) = subscriber.next(Duration::from_millis(200)).await {
            if m.payload == payload {
                return m;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{topic} never reached the subscriber"
        );
    }
}

fn mtls_auth(fleet: Fleet, up: &Up, cluster: &str) -> Auth {
    let c = up.cluster(cluster);
    let (identity, _) = fleet.mtls_identity(cluster);
    Auth::Tls {
        files: c.certs.get(identity).cloned().unwrap_or_else(|| {
            panic!("natscc up issued no client certificate for {cluster}/{identity}")
        }),
        server_name: c.server_name.clone(),
        with_cert: true,
    }
}

/// Whether the server delivered `topic` from `publisher`. A no-auth `observer` in the same
/// account holds one subscription to everything; `marker` (which the publisher may publish) is
/// sent until it arrives, so that interest has reached the publisher's server (across
/// nats-mtls' leaf connection too). Then `topic`, then `marker` again: messages from one
/// connection keep their order, so a `topic` the server let through arrives before the second
/// marker; one it refused does not arrive at all.
async fn published_before_marker(
    publisher: &mut Mqtt,
    topic: &str,
    marker: &str,
    qos: QoS,
    observer: &Nats,
) -> bool {
    let (subject, marker_subject) = (nats_form(topic), nats_form(marker));
    let mut all = observer.subscribe_held(">").await;
    let deadline = Instant::now() + WAIT;
    'probe: loop {
        publisher.publish(marker, "probe", qos, false).await;
        let round = tokio::time::Instant::now() + Duration::from_millis(200);
        while let Ok(Some(m)) = tokio::time::timeout_at(round, all.next()).await {
            if m.subject.as_str() == marker_subject {
                break 'probe;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the marker {marker} never reached the observer"
        );
    }
    publisher.publish(topic, "row", qos, false).await;
    publisher.publish(marker, "after", qos, false).await;
    let mut seen = false;
    loop {
        let m = tokio::time::timeout(WAIT, all.next())
            .await
            .unwrap_or_else(|_| panic!("the marker {marker} did not come back"))
            .unwrap();
        seen |= m.subject.as_str() == subject;
        if m.subject.as_str() == marker_subject && m.payload.as_ref() == b"after" {
            return seen;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// federation_test.go
// ---------------------------------------------------------------------------------------------

/// Publishes on `from` and expects `to` to receive it under `sub_topic` (QoS 0 subscriber, as
/// the peer's createSubscriber; QoS 1 publisher).
async fn mqtt_flow(up: &Up, from: &str, pub_topic: &str, to: &str, sub_topic: &str) {
    let id = unique();
    let (pub_topic, sub_topic) = (format!("{pub_topic}/{id}"), format!("{sub_topic}/{id}"));
    let mut sub = mqtt(up.cluster(to).mqtt, &format!("fed-sub-{id}"), &Auth::None).await;
    sub.subscribed(&sub_topic, QoS::AtMostOnce).await;
    let mut publisher = mqtt(up.cluster(from).mqtt, &format!("fed-pub-{id}"), &Auth::None).await;
    let m = mqtt_until_received(&mut publisher, &pub_topic, &id, &mut sub).await;
    assert_eq!(m.topic, sub_topic, "{from} {pub_topic} -> {to}");
}

/// federation_test.go TestCPCToCSC: CPC-n's sensor/temp reaches the CSC as cpc/n/sensor/temp.
#[test]
fn test_cpc_to_csc() {
    on_fleets(&FLEETS, |_, up| async move {
        for n in 1..=2 {
            let cpc = format!("cpc-{n}");
            let prefixed = format!("cpc/{n}/sensor/temp");
            mqtt_flow(up, &cpc, "sensor/temp", "csc", &prefixed).await;
        }
    });
}

/// federation_test.go TestCSCToCPC: the CSC's cpc/n/command/restart reaches CPC-n as
/// command/restart.
#[test]
fn test_csc_to_cpc() {
    on_fleets(&FLEETS, |_, up| async move {
        for n in 1..=2 {
            let cpc = format!("cpc-{n}");
            let prefixed = format!("cpc/{n}/command/restart");
            mqtt_flow(up, "csc", &prefixed, &cpc, "command/restart").await;
        }
    });
}

/// federation_test.go TestCSCBroadcast: the CSC's broadcast/announcement reaches every CPC.
#[test]
fn test_csc_broadcast() {
    on_fleets(&FLEETS, |_, up| async move {
        let id = unique();
        let topic = format!("broadcast/announcement/{id}");
        let mut subs = vec![];
        for cpc in ["cpc-1", "cpc-2"] {
            let mut s = mqtt(up.cluster(cpc).mqtt, &format!("bc-{cpc}-{id}"), &Auth::None).await;
            s.subscribed(&topic, QoS::AtMostOnce).await;
            subs.push(s);
        }
        let mut publisher =
            mqtt(up.cluster("csc").mqtt, &format!("bc-pub-{id}"), &Auth::None).await;
        mqtt_until_received(&mut publisher, &topic, &id, &mut subs[0]).await;
        let m = subs[1].expect("CPC-2 gets the broadcast").await;
        assert_eq!(
            (m.topic.as_str(), m.payload.as_str()),
            (topic.as_str(), id.as_str())
        );
    });
}

/// federation_test.go TestCPCIsolation: CPC-n's sensor/temp never reaches the other CPC. The
/// message is first seen at the CSC (so it did leave CPC-n); the other CPC then gets nothing
/// within the peer's wait.
#[test]
fn test_cpc_isolation() {
    on_fleets(&FLEETS, |_, up| async move {
        for (source, target, n) in [("cpc-1", "cpc-2", 1), ("cpc-2", "cpc-1", 2)] {
            let id = unique();
            let topic = format!("sensor/temp/{id}");
            let mut at_target =
                mqtt(up.cluster(target).mqtt, &format!("iso-t-{id}"), &Auth::None).await;
            at_target.subscribed(&topic, QoS::AtMostOnce).await;
            let mut at_csc =
                mqtt(up.cluster("csc").mqtt, &format!("iso-c-{id}"), &Auth::None).await;
            at_csc
                .subscribed(&format!("cpc/{n}/sensor/temp/{id}"), QoS::AtMostOnce)
                .await;
            let mut publisher =
                mqtt(up.cluster(source).mqtt, &format!("iso-p-{id}"), &Auth::None).await;
            mqtt_until_received(&mut publisher, &topic, &id, &mut at_csc).await;
            assert_eq!(
                at_target.next(Duration::from_secs(2)).await,
                None,
                "{source}'s sensor/temp reached {target}"
            );
        }
    });
}

/// Publishes a retained QoS 0 message on `from` (as the peer does), waits the peer's settle
/// time, then subscribes a new client on `to`: the retained message it gets, if any.
async fn retained_flow(
    up: &Up,
    from: &str,
    pub_topic: &str,
    to: &str,
    sub_topic: &str,
    settle: Duration,
    wait: Duration,
) -> Option<Msg> {
    let id = unique();
    let (pub_topic, sub_topic) = (format!("{pub_topic}/{id}"), format!("{sub_topic}/{id}"));
    let mut publisher = mqtt(up.cluster(from).mqtt, &format!("ret-pub-{id}"), &Auth::None).await;
    publisher
        .publish(&pub_topic, &id, QoS::AtMostOnce, true)
        .await;
    publisher.disconnect().await;
    tokio::time::sleep(settle).await;
    let mut sub = mqtt(up.cluster(to).mqtt, &format!("ret-sub-{id}"), &Auth::None).await;
    sub.subscribed(&sub_topic, QoS::AtMostOnce).await;
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(m)) = tokio::time::timeout_at(deadline, sub.msgs.recv()).await {
        if m.retain && m.payload == id {
            return Some(m);
        }
    }
    None
}

/// federation_test.go TestCSCToCPCRetainedMessages: a retained cpc/n/command/restart on the
/// CSC reaches a later subscriber on CPC-n as a retained command/restart. The peer retries for
/// up to 90 s ("retained routes may become ready after MQTT accepts connections"); after
/// `ready` the first try must do.
#[test]
fn test_csc_to_cpc_retained_messages() {
    on_fleets(&FLEETS, |_, up| async move {
        for n in 1..=2 {
            let got = retained_flow(
                up,
                "csc",
                &format!("cpc/{n}/command/restart"),
                &format!("cpc-{n}"),
                "command/restart",
                Duration::from_secs(2),
                WAIT,
            )
            .await;
            let m = got.unwrap_or_else(|| panic!("no retained command/restart on cpc-{n}"));
            assert!(m.topic.starts_with("command/restart/"), "{m:?}");
        }
    });
}

/// federation_test.go TestCPCToCSCRetainedMessagesFailure: a retained sensor/temp on CPC-n
/// does not reach a later subscriber on the CSC as a retained message (the CSC's $MQTT_rmsgs
/// sources no CPC). The peer's timing: 1 s settle, 2 s wait.
#[test]
fn test_cpc_to_csc_retained_messages_failure() {
    on_fleets(&FLEETS, |_, up| async move {
        for n in 1..=2 {
            let got = retained_flow(
                up,
                &format!("cpc-{n}"),
                "sensor/temp",
                "csc",
                &format!("cpc/{n}/sensor/temp"),
                Duration::from_secs(1),
                Duration::from_secs(2),
            )
            .await;
            assert_eq!(got, None, "a CPC-{n} retained message reached the CSC");
        }
    });
}

// ---------------------------------------------------------------------------------------------
// mqtt_test.go: each cluster alone, no-auth clients
// ---------------------------------------------------------------------------------------------

const CLUSTERS: [&str; 3] = ["csc", "cpc-1", "cpc-2"];

/// `count` messages on one topic (or, for wildcards, one topic each), all received.
async fn pub_sub(port: u16, auth: &Auth, sub_topic: &str, pub_topics: &[String], qos: QoS) {
    let id = unique();
    let mut sub = mqtt(port, &format!("sub-{id}"), auth).await;
    sub.subscribed(sub_topic, qos).await;
    let mut publisher = mqtt(port, &format!("pub-{id}"), auth).await;
    for (i, t) in pub_topics.iter().enumerate() {
        publisher
            .publish(t, &format!("message-{i}"), qos, false)
            .await;
    }
    let mut got: Vec<String> = vec![];
    for _ in pub_topics {
        got.push(
            sub.expect(&format!("messages on {sub_topic}"))
                .await
                .payload,
        );
    }
    got.sort();
    let mut want: Vec<String> = (0..pub_topics.len())
        .map(|i| format!("message-{i}"))
        .collect();
    want.sort();
    assert_eq!(got, want, "on {sub_topic}");
}

/// mqtt_test.go TestMQTTPubSubQoS0: 10 QoS 0 messages on each cluster.
#[test]
fn test_mqtt_pub_sub_qos0() {
    on_fleets(&FLEETS, |_, up| async move {
        for c in CLUSTERS {
            let topic = format!("test/qos0/{}", unique());
            let topics = vec![topic.clone(); 10];
            pub_sub(
                up.cluster(c).mqtt,
                &Auth::None,
                &topic,
                &topics,
                QoS::AtMostOnce,
            )
            .await;
        }
    });
}

/// mqtt_test.go TestMQTTPubSubQoS1: 10 QoS 1 messages on each cluster.
#[test]
fn test_mqtt_pub_sub_qos1() {
    on_fleets(&FLEETS, |_, up| async move {
        for c in CLUSTERS {
            let topic = format!("test/qos1/{}", unique());
            let topics = vec![topic.clone(); 10];
            pub_sub(
                up.cluster(c).mqtt,
                &Auth::None,
                &topic,
                &topics,
                QoS::AtLeastOnce,
            )
            .await;
        }
    });
}

/// mqtt_test.go TestMQTTRetainedMessages: a retained message reaches a later subscriber on the
/// same cluster.
#[test]
fn test_mqtt_retained_messages() {
    on_fleets(&FLEETS, |_, up| async move {
        for c in CLUSTERS {
            let topic = format!("test/retained/{}", unique());
            let got = retained_flow(up, c, &topic, c, &topic, Duration::from_secs(1), WAIT).await;
            assert!(got.is_some(), "{c}: no retained message on {topic}");
        }
    });
}

/// mqtt_test.go TestMQTTWildcards: test/wildcard/ID/+/data gets three sensors' data.
#[test]
fn test_mqtt_wildcards() {
    on_fleets(&FLEETS, |_, up| async move {
        for c in CLUSTERS {
            let id = unique();
            let topics: Vec<String> = (1..=3)
                .map(|i| format!("test/wildcard/{id}/sensor{i}/data"))
                .collect();
            let filter = format!("test/wildcard/{id}/+/data");
            pub_sub(
                up.cluster(c).mqtt,
                &Auth::None,
                &filter,
                &topics,
                QoS::AtMostOnce,
            )
            .await;
        }
    });
}

// ---------------------------------------------------------------------------------------------
// mtls_test.go: MQTT on each cluster's nats-mtls, with the client certificate up issued
// ---------------------------------------------------------------------------------------------

/// mtls_test.go TestRestrictedMTLSMQTTQoS1: QoS 1 within the identity's subjects works; a
/// publish outside them is acknowledged (MQTT 3.1.1) but never delivered, and a subscription
/// outside them gets the SUBACK failure code.
#[test]
fn test_restricted_mtls_mqtt_qos1() {
    on_fleets(&FLEETS, |fleet, up| async move {
        for c in CLUSTERS {
            let (_, prefix) = fleet.mtls_identity(c);
            let auth = mtls_auth(fleet, up, c);
            let port = up.cluster(c).mqtt_mtls;
            let id = unique();
            let topic = format!("{prefix}/mtls/qos1/{id}");
            let mut sub = mqtt(port, &format!("qos1-sub-{id}"), &auth).await;
            sub.subscribed(&topic, QoS::AtLeastOnce).await;
            let mut publisher = mqtt(port, &format!("qos1-pub-{id}"), &auth).await;
            let m = mqtt_until_received(&mut publisher, &topic, "qos1", &mut sub).await;
            assert_eq!(m.qos, QoS::AtLeastOnce, "{c}: {m:?}");

            // The denied publish, then an allowed one on the same connection: a no-auth NATS
            // observer in the same account (on the main cluster, across nats-mtls' leaf) sees
            // the allowed one first, so the server dropped the denied one.
            let observer = anonymous(&up.cluster(c).nats).await;
            let forbidden = format!("forbidden/{id}");
            let marker = format!("{prefix}/mtls/marker/{id}");
            let leaked = published_before_marker(
                &mut publisher,
                &forbidden,
                &marker,
                QoS::AtLeastOnce,
                &observer,
            )
            .await;
            assert!(!leaked, "{c}: the denied publish was delivered");
            assert_eq!(
                sub.subscribe("forbidden/#", QoS::AtLeastOnce).await,
                SubscribeReasonCode::Failure,
                "{c}: a subscription outside the identity's permissions"
            );
        }
    });
}

/// mtls_test.go TestRestrictedMTLSMQTTPersistentSession: a session without clean start keeps
/// its subscription while offline and gets the QoS 1 message published meanwhile.
#[test]
fn test_restricted_mtls_mqtt_persistent_session() {
    on_fleets(&FLEETS, |fleet, up| async move {
        for c in CLUSTERS {
            let (_, prefix) = fleet.mtls_identity(c);
            let auth = mtls_auth(fleet, up, c);
            let port = up.cluster(c).mqtt_mtls;
            let id = unique();
            let client_id = format!("persistent-{id}");
            let topic = format!("{prefix}/mtls/persistent/{id}");
            let mut sub = mqtt_connect(port, &client_id, &auth, false).await.unwrap();
            sub.subscribed(&topic, QoS::AtLeastOnce).await;
            sub.disconnect().await;
            let mut publisher = mqtt(port, &format!("persistent-pub-{id}"), &auth).await;
            publisher
                .publish(&topic, "stored while offline", QoS::AtLeastOnce, false)
                .await;
            publisher.disconnect().await;
            let mut back = mqtt_connect(port, &client_id, &auth, false).await.unwrap();
            let m = back
                .expect(&format!("{c}: the message stored while offline"))
                .await;
            assert_eq!(m.payload, "stored while offline", "{c}");
            back.disconnect().await;
            // Leave no session behind: a clean connection with the same id ends it.
            mqtt_connect(port, &client_id, &auth, true)
                .await
                .unwrap()
                .disconnect()
                .await;
        }
    });
}

/// mtls_test.go TestRestrictedMTLSMQTTRetainedMessage: a retained QoS 1 message reaches a new
/// subscriber on the same nats-mtls; then it is cleared, as the peer does.
#[test]
fn test_restricted_mtls_mqtt_retained_message() {
    on_fleets(&FLEETS, |fleet, up| async move {
        for c in CLUSTERS {
            let (_, prefix) = fleet.mtls_identity(c);
            let auth = mtls_auth(fleet, up, c);
            let port = up.cluster(c).mqtt_mtls;
            let id = unique();
            let topic = format!("{prefix}/mtls/retained/{id}");
            let mut publisher = mqtt(port, &format!("retained-pub-{id}"), &auth).await;
            publisher
                .publish(&topic, "retained", QoS::AtLeastOnce, true)
                .await;
            let mut sub = mqtt(port, &format!("retained-sub-{id}"), &auth).await;
            sub.subscribed(&topic, QoS::AtLeastOnce).await;
            let m = sub.expect(&format!("{c}: the retained message")).await;
            assert!(m.retain && m.payload == "retained", "{c}: {m:?}");
            publisher.publish(&topic, "", QoS::AtLeastOnce, true).await;
        }
    });
}

/// mtls_test.go TestMTLSConnection: with the certificate the client connects; with TLS but no
/// certificate, and without TLS, the mTLS listener refuses it.
#[test]
fn test_mtls_connection() {
    on_fleets(&FLEETS, |fleet, up| async move {
        for c in CLUSTERS {
            let port = up.cluster(c).mqtt_mtls;
            let auth = mtls_auth(fleet, up, c);
            let id = unique();
            mqtt(port, &format!("mtls-test-{id}"), &auth)
                .await
                .disconnect()
                .await;
            let Auth::Tls {
                files, server_name, ..
            } = auth
            else {
                unreachable!()
            };
            let no_cert = Auth::Tls {
                files,
                server_name,
                with_cert: false,
            };
            // The server asks for a certificate and ends the handshake without one (its log
            // says so); a plain client is disconnected (nothing logged at the chart's level).
            let log = up.dir.join(c).join("nats-mtls-0/server.log");
            let refused = mqtt_connect(port, &format!("no-mtls-{id}"), &no_cert, true).await;
            let said = refused
                .err()
                .expect("TLS without a client certificate connected");
            assert!(said.contains("CertificateRequired"), "{c}: {said}");
            logged(&log, "tls: client didn't provide a certificate").await;
            let refused = mqtt_connect(port, &format!("no-tls-{id}"), &Auth::None, true).await;
            let said = refused
                .err()
                .expect("a plain client connected to the mTLS listener");
            assert!(said.contains("closed"), "{c}: {said}");
        }
    });
}

/// mtls_test.go TestMTLSPubSub: 10 QoS 0 messages between two certificate clients.
#[test]
fn test_mtls_pub_sub() {
    on_fleets(&FLEETS, |fleet, up| async move {
        for c in CLUSTERS {
            let (_, prefix) = fleet.mtls_identity(c);
            let auth = mtls_auth(fleet, up, c);
            let topic = format!("{prefix}/mtls/{}", unique());
            let topics = vec![topic.clone(); 10];
            pub_sub(
                up.cluster(c).mqtt_mtls,
                &auth,
                &topic,
                &topics,
                QoS::AtMostOnce,
            )
            .await;
        }
    });
}

/// Messages between nats-mtls (certificate) and the main cluster's plain MQTT listener.
async fn across_transports(fleet: Fleet, up: &Up, c: &str, mtls_publishes: bool) {
    let (_, prefix) = fleet.mtls_identity(c);
    let auth = mtls_auth(fleet, up, c);
    let id = unique();
    let topic = format!("{prefix}/cross/{id}");
    let (mtls, plain) = (up.cluster(c).mqtt_mtls, up.cluster(c).mqtt);
    let (mut sub, mut publisher) = if mtls_publishes {
        let s = mqtt(plain, &format!("tcp-sub-{id}"), &Auth::None).await;
        (s, mqtt(mtls, &format!("mtls-pub-{id}"), &auth).await)
    } else {
        let s = mqtt(mtls, &format!("mtls-sub-{id}"), &auth).await;
        (s, mqtt(plain, &format!("tcp-pub-{id}"), &Auth::None).await)
    };
    sub.subscribed(&topic, QoS::AtMostOnce).await;
    // Interest crosses nats-mtls' leaf connection asynchronously: the first message is sent
    // until it arrives, then four more in order.
    mqtt_until_received(&mut publisher, &topic, "first", &mut sub).await;
    for i in 1..5 {
        publisher
            .publish(&topic, &format!("cross-{i}"), QoS::AtMostOnce, false)
            .await;
    }
    for i in 1..5 {
        loop {
            let m = sub
                .expect(&format!("{c}: cross-transport message {i}"))
                .await;
            if m.payload != "first" {
                assert_eq!(m.payload, format!("cross-{i}"), "{c}");
                break;
            }
        }
    }
}

/// mtls_test.go TestMTLSToTCPRouting: published on nats-mtls, received on the plain listener.
#[test]
fn test_mtls_to_tcp_routing() {
    on_fleets(&FLEETS, |fleet, up| async move {
        for c in CLUSTERS {
            across_transports(fleet, up, c, true).await;
        }
    });
}

/// mtls_test.go TestTCPToMTLSRouting: published on the plain listener, received on nats-mtls.
#[test]
fn test_tcp_to_mtls_routing() {
    on_fleets(&FLEETS, |fleet, up| async move {
        for c in CLUSTERS {
            across_transports(fleet, up, c, false).await;
        }
    });
}

// ---------------------------------------------------------------------------------------------
// topic_auth_test.go
// ---------------------------------------------------------------------------------------------

/// The NATS subject an MQTT topic or filter stands for (`#` at the end: `>`).
fn nats_form(topic: &str) -> String {
    let s = topic.replace('/', ".").replace('+', "*");
    match s.strip_suffix('#') {
        Some(head) => format!("{head}>"),
        None => s,
    }
}

/// Waits until the server's log file holds `needle` (the server's own words for a refusal).
async fn logged(log: &Path, needle: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} does not say `{needle}` within {WAIT:?}; its last lines:\n{}",
            log.display(),
            text.lines().rev().take(8).collect::<Vec<_>>().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One row of the peer's table: who subscribes to what, who publishes what, and what the
/// permissions allow. `marker` is a topic the publisher may publish (the proof that a denied
/// publish was dropped: it is sent after the denied one and arrives first).
struct AuthCase {
    name: String,
    pub_topic: String,
    sub_filter: String,
    pub_auth: Auth,
    sub_auth: Auth,
    marker: String,
    can_publish: bool,
    can_subscribe: bool,
}

/// Runs one row on an MQTT listener (whose server logs to `log`), with a no-auth NATS observer
/// in the identities' account.
async fn authorization_case(port: u16, log: &Path, observer_url: &str, case: &AuthCase) {
    let id = unique();
    let what = &case.name;
    let mut sub = mqtt(port, &format!("sub-{id}"), &case.sub_auth).await;
    let code = sub.subscribe(&case.sub_filter, QoS::AtMostOnce).await;
    assert_eq!(
        matches!(code, SubscribeReasonCode::Success(_)),
        case.can_subscribe,
        "{what}: SUBACK for {} is {code:?}",
        case.sub_filter
    );
    if !case.can_subscribe {
        logged(
            log,
            &format!("\"sub-{id}\" - Subscription Violation - Subject"),
        )
        .await;
    }
    let mut publisher = mqtt(port, &format!("pub-{id}"), &case.pub_auth).await;
    let observer = anonymous(observer_url).await;
    let published = published_before_marker(
        &mut publisher,
        &case.pub_topic,
        &case.marker,
        QoS::AtMostOnce,
        &observer,
    )
    .await;
    assert_eq!(
        published,
        case.can_publish,
        "{what}: the publish on {} {} the observer",
        case.pub_topic,
        if published {
            "reached"
        } else {
            "did not reach"
        }
    );
    if !case.can_publish {
        let subject = nats_form(&case.pub_topic);
        logged(
            log,
            &format!("\"pub-{id}\" - Publish Violation - Subject \"{subject}\""),
        )
        .await;
    }
    let delivered = sub.next(Duration::from_millis(500)).await;
    assert_eq!(
        delivered.is_some(),
        case.can_publish && case.can_subscribe,
        "{what}: delivery to the subscriber: {delivered:?}"
    );
}

/// The same identity over NATS: the server names what it refuses.
async fn nats_authorization_case(url: &str, case: &AuthCase) {
    let (Auth::Token(pub_token), Auth::Token(sub_token)) = (&case.pub_auth, &case.sub_auth) else {
        return;
    };
    if !case.can_publish {
        let mut c = with_token(url, pub_token).await;
        let subject = nats_form(&case.pub_topic);
        c.nc.publish(subject.clone(), "x".into()).await.unwrap();
        c.nc.flush().await.unwrap();
        c.refused(&format!(
            "Permissions Violation for Publish to \"{subject}\""
        ))
        .await;
    }
    if !case.can_subscribe {
        let mut c = with_token(url, sub_token).await;
        // `P/#` is two NATS subscriptions, `P.>` and `P`; the second is the one every refused
        // row of the table has in common (and the only one `P.>` permissions refuse).
        let subject = match case.sub_filter.strip_suffix("/#") {
            Some(parent) => nats_form(parent),
            None => nats_form(&case.sub_filter),
        };
        let _sub = c.nc.subscribe(subject.clone()).await.unwrap();
        c.nc.flush().await.unwrap();
        c.refused(&format!(
            "Permissions Violation for Subscription to \"{subject}\""
        ))
        .await;
    }
}

/// The peer's table for the lab's OAuth2 identities (`mqtt-client` full access to test.>,
/// perf.>, cpc.*.test.>; `mqtt-publisher` may publish there and subscribe dummy.> only;
/// `mqtt-subscriber` the other way round), with the tokens `natscc up` minted for `cluster`.
fn lab_auth_table(up: &Up, cluster: &str) -> Vec<AuthCase> {
    let token = |n: &str| Auth::Token(up.cluster(cluster).tokens[n].clone());
    let (full, pub_only, sub_only) = (
        token("mqtt-client"),
        token("mqtt-publisher"),
        token("mqtt-subscriber"),
    );
    let id = unique();
    let row = |name: &str, p: String, s: String, pa: &Auth, sa: &Auth, cp: bool, cs: bool| {
        let marker = if pa.same(&sub_only) {
            format!("dummy/marker/{id}")
        } else {
            format!("test/marker/{id}")
        };
        AuthCase {
            name: format!("{cluster} {name}"),
            pub_topic: p,
            sub_filter: s,
            pub_auth: pa.clone(),
            sub_auth: sa.clone(),
            marker,
            can_publish: cp,
            can_subscribe: cs,
        }
    };
    let s = |t: &str| t.to_string();
    vec![
        row(
            "FullAccess_Simple",
            format!("test/data/{id}"),
            format!("test/data/{id}"),
            &full,
            &full,
            true,
            true,
        ),
        row(
            "FullAccess_Nested",
            format!("test/a/b/c/{id}"),
            format!("test/a/b/c/{id}"),
            &full,
            &full,
            true,
            true,
        ),
        row(
            "FullAccess_MultiLevel",
            format!("test/{id}/x/y"),
            format!("test/{id}/#"),
            &full,
            &full,
            true,
            true,
        ),
        row(
            "FullAccess_SingleLevel",
            format!("test/{id}/s1/data"),
            format!("test/{id}/+/data"),
            &full,
            &full,
            true,
            true,
        ),
        row(
            "FullAccess_Mixed",
            format!("test/{id}/d/s/ok"),
            format!("test/{id}/+/s/#"),
            &full,
            &full,
            true,
            true,
        ),
        row(
            "FullAccess_Admin",
            s("admin/config"),
            s("admin/config"),
            &full,
            &full,
            false,
            false,
        ),
        row(
            "FullAccess_System",
            s("system/metrics"),
            s("system/+"),
            &full,
            &full,
            false,
            false,
        ),
        row(
            "FullAccess_Sys",
            s("$SYS/broker/stats"),
            s("$SYS/#"),
            &full,
            &full,
            false,
            false,
        ),
        row(
            "FullAccess_WrongPrefix",
            s("testing/foo"),
            s("testing/#"),
            &full,
            &full,
            false,
            false,
        ),
        row(
            "FullAccess_RootWildcard",
            s("any/topic"),
            s("#"),
            &full,
            &full,
            false,
            false,
        ),
        row(
            "PubOnly_CanPublish",
            format!("test/pub/{id}"),
            format!("test/pub/{id}"),
            &pub_only,
            &full,
            true,
            true,
        ),
        row(
            "PubOnly_CannotSubscribe",
            format!("test/nopub/{id}"),
            format!("test/nopub/{id}"),
            &full,
            &pub_only,
            true,
            false,
        ),
        row(
            "SubOnly_CanSubscribe",
            format!("test/sub/{id}"),
            format!("test/sub/{id}"),
            &full,
            &sub_only,
            true,
            true,
        ),
        row(
            "SubOnly_CannotPublish",
            format!("test/nosub/{id}"),
            format!("test/nosub/{id}"),
            &sub_only,
            &full,
            false,
            true,
        ),
        // Not in the peer's table: `test/#` also subscribes NATS `test`, which `test.>` does
        // not allow, so the server refuses it ("Subscription Violation - Subject \"test\"").
        row(
            "FullAccess_MultiLevelAtTheTop",
            format!("test/{id}"),
            s("test/#"),
            &full,
            &full,
            true,
            false,
        ),
    ]
}

/// The example fleet has no OAuth2 identity: its table is the same kinds of rows for the mTLS
/// identity of each cluster, on nats-mtls (the CSC console may publish broadcast.> and
/// cpc.*.command.>, subscribe broadcast.> and cpc.*.sensor.>; the plant gateway may publish
/// sensor.> and alarm.*, subscribe sensor.>, command.> and broadcast.>).
fn example_auth_table(up: &Up, cluster: &str) -> Vec<AuthCase> {
    let auth = mtls_auth(Fleet::Example, up, cluster);
    let id = unique();
    let row = |name: &str, p: String, s: String, cp: bool, cs: bool, marker: &str| AuthCase {
        name: format!("{cluster} {name}"),
        pub_topic: p,
        sub_filter: s,
        pub_auth: auth.clone(),
        sub_auth: auth.clone(),
        marker: format!("{marker}/marker/{id}"),
        can_publish: cp,
        can_subscribe: cs,
    };
    let s = |t: &str| t.to_string();
    let mut rows = if cluster == "csc" {
        vec![
            row(
                "Both",
                format!("broadcast/x/{id}"),
                format!("broadcast/x/{id}"),
                true,
                true,
                "broadcast",
            ),
            row(
                "Both_Wildcards",
                format!("broadcast/{id}/a/b"),
                format!("broadcast/{id}/+/#"),
                true,
                true,
                "broadcast",
            ),
            row(
                "SubscribeOnly",
                format!("cpc/1/sensor/{id}"),
                format!("cpc/+/sensor/{id}"),
                false,
                true,
                "broadcast",
            ),
            row(
                "PublishOnly",
                format!("cpc/1/command/{id}"),
                format!("cpc/1/command/{id}"),
                true,
                false,
                "broadcast",
            ),
        ]
    } else {
        vec![
            row(
                "Both",
                format!("sensor/x/{id}"),
                format!("sensor/x/{id}"),
                true,
                true,
                "sensor",
            ),
            row(
                "SubscribeOnly",
                format!("command/{id}"),
                format!("command/{id}"),
                false,
                true,
                "sensor",
            ),
            row(
                "PublishOnly",
                format!("alarm/{id}"),
                format!("alarm/{id}"),
                true,
                false,
                "sensor",
            ),
        ]
    };
    let marker = if cluster == "csc" {
        "broadcast"
    } else {
        "sensor"
    };
    rows.extend([
        row(
            "Admin",
            s("admin/config"),
            s("admin/config"),
            false,
            false,
            marker,
        ),
        row(
            "Sys",
            s("$SYS/broker/stats"),
            s("$SYS/#"),
            false,
            false,
            marker,
        ),
        row("RootWildcard", s("any/topic"), s("#"), false, false, marker),
        // `P/#` also subscribes NATS `P`, which `P.>` does not allow.
        row(
            "MultiLevelAtTheTop",
            format!("{marker}/{id}"),
            format!("{marker}/#"),
            true,
            false,
            marker,
        ),
    ]);
    rows
}

impl Auth {
    fn same(&self, other: &Auth) -> bool {
        matches!((self, other), (Auth::Token(a), Auth::Token(b)) if a == b)
    }
}

/// topic_auth_test.go TestTopicAuthorization: every row of the peer's table on every cluster.
/// Subscriptions outside the permissions get the SUBACK failure code; publishes outside them
/// are acknowledged (MQTT 3.1.1) and dropped by the server; over NATS the server answers the
/// same identity with `Permissions Violation`.
#[test]
fn test_topic_authorization() {
    on_fleets(&FLEETS, |fleet, up| async move {
        for c in CLUSTERS {
            // The MQTT port `natscc up` prints is nats-0's (nats-mtls-0's for mTLS).
            let (table, port, pod) = match fleet {
                Fleet::Lab => (lab_auth_table(up, c), up.cluster(c).mqtt, "nats-0"),
                Fleet::Example => (
                    example_auth_table(up, c),
                    up.cluster(c).mqtt_mtls,
                    "nats-mtls-0",
                ),
            };
            let log = up.dir.join(c).join(pod).join("server.log");
            for case in &table {
                eprintln!("{}", case.name);
                authorization_case(port, &log, &up.cluster(c).nats, case).await;
                nats_authorization_case(&up.cluster(c).nats, case).await;
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// nats_leaf_test.go: the lab's LaunchLayer account, shared by every cluster over its own leaf
// connections, with JetStream on the CSC only (a CPC maps the JetStream API to the CSC domain)
// ---------------------------------------------------------------------------------------------

/// The LaunchLayer client on `cluster`, with the token `natscc up` minted there.
async fn launch_layer(up: &Up, cluster: &str) -> Nats {
    let c = up.cluster(cluster);
    with_token(&c.nats, &c.tokens["launchlayer-client"]).await
}

fn jetstream(n: &Nats) -> async_nats::jetstream::Context {
    let mut js = async_nats::jetstream::new(n.nc.clone());
    js.set_timeout(WAIT);
    js
}

/// nats_leaf_test.go TestLaunchLayerLeafNodeRoutesNATSMessages: a LaunchLayer subject crosses
/// the leaf connection both ways, unchanged. The example fleet has no such account: there the
/// same check runs in its own terms, on the CSC/CPC leaf connection with the cross-layer
/// subjects (up with the cpc.N. prefix, broadcast down).
#[test]
fn test_launch_layer_leaf_node_routes_nats_messages() {
    on_fleets(&FLEETS, |fleet, up| async move {
        for (source, target, n) in [
            ("cpc-1", "csc", 1),
            ("cpc-2", "csc", 2),
            ("csc", "cpc-1", 1),
            ("csc", "cpc-2", 2),
        ] {
            let id = unique();
            let (pub_subject, sub_subject, from, to) = match fleet {
                Fleet::Lab => {
                    let s = format!("launchlayer.leaf.{id}");
                    (
                        s.clone(),
                        s,
                        launch_layer(up, source).await,
                        launch_layer(up, target).await,
                    )
                }
                Fleet::Example => {
                    let (p, s) = if source == "csc" {
                        (
                            format!("broadcast.leaf.{id}"),
                            format!("broadcast.leaf.{id}"),
                        )
                    } else {
                        (
                            format!("sensor.leaf.{id}"),
                            format!("cpc.{n}.sensor.leaf.{id}"),
                        )
                    };
                    let (a, b) = (&up.cluster(source).nats, &up.cluster(target).nats);
                    (p, s, anonymous(a).await, anonymous(b).await)
                }
            };
            let mut sub = to.subscribe_held(&sub_subject).await;
            let payload = format!("{source}-to-{target}-{id}");
            let got = publish_until_received(&from.nc, &pub_subject, &payload, &mut sub).await;
            assert_eq!(got, sub_subject, "{source} -> {target}");
        }
    });
}

fn memory_stream(name: &str, subjects: Vec<String>) -> async_nats::jetstream::stream::Config {
    async_nats::jetstream::stream::Config {
        name: name.to_string(),
        subjects,
        storage: async_nats::jetstream::stream::StorageType::Memory,
        num_replicas: 1,
        ..Default::default()
    }
}

/// A JetStream resource name no other case uses.
fn resource(prefix: &str) -> String {
    format!("{prefix}_{}", unique())
}

/// nats_leaf_test.go TestLaunchLayerJetStreamStoresLeafMessages: a stream on the CSC stores
/// core publishes on its subject from the CSC itself and from each CPC (once the stream's
/// interest has crossed the leaf connection).
#[test]
fn test_launch_layer_jet_stream_stores_leaf_messages() {
    on_fleets(&[Fleet::Lab], |_, up| async move {
        for source in CLUSTERS {
            let owner = launch_layer(up, "csc").await;
            let js = jetstream(&owner);
            let name = resource("LL");
            let subject = format!("launchlayer.js.{}", unique());
            let stream = js
                .create_stream(memory_stream(&name, vec![subject.clone()]))
                .await
                .unwrap_or_else(|e| panic!("create stream {name} on the CSC: {e}"));
            let from = launch_layer(up, source).await;
            let payload = format!("jetstream-{source}-to-csc");
            let deadline = Instant::now() + WAIT;
            let stored = loop {
                from.nc
                    .publish(subject.clone(), payload.clone().into())
                    .await
                    .unwrap();
                from.nc.flush().await.unwrap();
                if let Ok(m) = stream.get_last_raw_message_by_subject(&subject).await {
                    break m;
                }
                assert!(
                    Instant::now() < deadline,
                    "{source}: the CSC stream never stored {subject}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            assert_eq!(stored.payload.as_ref(), payload.as_bytes(), "{source}");
            js.delete_stream(&name).await.unwrap();
        }
    });
}

/// nats_leaf_test.go TestLaunchLayerJetStreamAPIProxiesToCSC: a stream created through one
/// cluster, updated through the next, inspected, published to, consumed and acknowledged
/// through every cluster, deleted through the third: the JetStream API of every cluster is the
/// CSC's.
#[test]
fn test_launch_layer_jet_stream_api_proxies_to_csc() {
    on_fleets(&[Fleet::Lab], |_, up| async move {
        for i in 0..3 {
            let (creator, updater, deleter) =
                (CLUSTERS[i], CLUSTERS[(i + 1) % 3], CLUSTERS[(i + 2) % 3]);
            let name = resource("LL_API");
            let prefix = format!("launchlayer.jsapi.{}", unique());
            let mut config = memory_stream(&name, vec![format!("{prefix}.>")]);
            let c = launch_layer(up, creator).await;
            jetstream(&c)
                .create_stream(config.clone())
                .await
                .unwrap_or_else(|e| panic!("create stream through {creator}: {e}"));
            config.description = Some(format!("updated through {updater}"));
            let u = launch_layer(up, updater).await;
            jetstream(&u)
                .update_stream(config.clone())
                .await
                .unwrap_or_else(|e| panic!("update stream through {updater}: {e}"));
            for endpoint in CLUSTERS {
                let e = launch_layer(up, endpoint).await;
                let mut stream = jetstream(&e)
                    .get_stream(&name)
                    .await
                    .unwrap_or_else(|err| panic!("inspect stream through {endpoint}: {err}"));
                let info = stream.info().await.unwrap();
                assert_eq!(info.config.description, config.description, "{endpoint}");
            }
            for endpoint in CLUSTERS {
                let e = launch_layer(up, endpoint).await;
                let js = jetstream(&e);
                let subject = format!("{prefix}.{endpoint}");
                let stream = js.get_stream(&name).await.unwrap();
                let consumer = stream
                    .create_consumer(async_nats::jetstream::consumer::pull::Config {
                        durable_name: Some(format!("C_{}", endpoint.replace('-', "_"))),
                        filter_subject: subject.clone(),
                        ..Default::default()
                    })
                    .await
                    .unwrap_or_else(|err| panic!("create pull consumer through {endpoint}: {err}"));
                js.publish(subject.clone(), format!("from-{endpoint}").into())
                    .await
                    .unwrap()
                    .await
                    .unwrap_or_else(|err| panic!("publish through {endpoint}: {err}"));
                let mut batch = consumer
                    .fetch()
                    .max_messages(1)
                    .expires(WAIT)
                    .messages()
                    .await
                    .unwrap();
                let m = batch
                    .next()
                    .await
                    .unwrap_or_else(|| panic!("fetch through {endpoint}: nothing"))
                    .unwrap();
                let reply = m.reply.as_ref().map(|r| r.to_string()).unwrap_or_default();
                assert!(
                    reply.starts_with(&format!("$JS.ACK.{name}.")),
                    "{endpoint}: ACK subject {reply}"
                );
                m.double_ack()
                    .await
                    .unwrap_or_else(|err| panic!("ACK through {endpoint}: {err}"));
            }
            let d = launch_layer(up, deleter).await;
            jetstream(&d)
                .delete_stream(&name)
                .await
                .unwrap_or_else(|e| panic!("delete stream through {deleter}: {e}"));
        }
    });
}

/// nats_leaf_test.go TestLaunchLayerJetStreamKVProxiesToCSC: a KV bucket created through
/// CPC-1, written through CPC-2, read and updated through the CSC, read and deleted through
/// CPC-2.
#[test]
fn test_launch_layer_jet_stream_kv_proxies_to_csc() {
    on_fleets(&[Fleet::Lab], |_, up| async move {
        let (c1, c2, csc) = (
            launch_layer(up, "cpc-1").await,
            launch_layer(up, "cpc-2").await,
            launch_layer(up, "csc").await,
        );
        let bucket = resource("LL_KV");
        jetstream(&c1)
            .create_key_value(async_nats::jetstream::kv::Config {
                bucket: bucket.clone(),
                storage: async_nats::jetstream::stream::StorageType::Memory,
                num_replicas: 1,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("create KV bucket through CPC-1: {e}"));
        let kv2 = jetstream(&c2)
            .get_key_value(&bucket)
            .await
            .unwrap_or_else(|e| panic!("bind KV bucket through CPC-2: {e}"));
        let kvc = jetstream(&csc)
            .get_key_value(&bucket)
            .await
            .unwrap_or_else(|e| panic!("bind KV bucket through the CSC: {e}"));
        let revision = kv2
            .put("cross-cluster", "from-cpc-2".into())
            .await
            .unwrap_or_else(|e| panic!("put through CPC-2: {e}"));
        let got = kvc.get("cross-cluster").await.unwrap();
        assert_eq!(got.as_deref(), Some(&b"from-cpc-2"[..]));
        kvc.update("cross-cluster", "from-csc".into(), revision)
            .await
            .unwrap_or_else(|e| panic!("update through the CSC: {e}"));
        let got = kv2.get("cross-cluster").await.unwrap();
        assert_eq!(got.as_deref(), Some(&b"from-csc"[..]));
        kv2.delete("cross-cluster")
            .await
            .unwrap_or_else(|e| panic!("delete through CPC-2: {e}"));
        jetstream(&c1).delete_key_value(&bucket).await.unwrap();
    });
}

/// nats_leaf_test.go TestLaunchLayerJetStreamObjectStoreProxiesToCSC: an object store created
/// through CPC-1, an object put through CPC-2, read through the CSC, deleted through CPC-2.
#[test]
fn test_launch_layer_jet_stream_object_store_proxies_to_csc() {
    on_fleets(&[Fleet::Lab], |_, up| async move {
        use tokio::io::AsyncReadExt;
        let (c1, c2, csc) = (
            launch_layer(up, "cpc-1").await,
            launch_layer(up, "cpc-2").await,
            launch_layer(up, "csc").await,
        );
        let bucket = resource("LL_OBJ");
        jetstream(&c1)
            .create_object_store(async_nats::jetstream::object_store::Config {
                bucket: bucket.clone(),
                storage: async_nats::jetstream::stream::StorageType::Memory,
                num_replicas: 1,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("create object store through CPC-1: {e}"));
        let s2 = jetstream(&c2)
            .get_object_store(&bucket)
            .await
            .unwrap_or_else(|e| panic!("bind object store through CPC-2: {e}"));
        let sc = jetstream(&csc)
            .get_object_store(&bucket)
            .await
            .unwrap_or_else(|e| panic!("bind object store through the CSC: {e}"));
        let payload = b"object-from-cpc-2";
        s2.put("cross-cluster", &mut &payload[..])
            .await
            .unwrap_or_else(|e| panic!("put through CPC-2: {e}"));
        let mut object = sc
            .get("cross-cluster")
            .await
            .unwrap_or_else(|e| panic!("get through the CSC: {e}"));
        let mut got = vec![];
        object.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, payload);
        s2.delete("cross-cluster")
            .await
            .unwrap_or_else(|e| panic!("delete through CPC-2: {e}"));
        jetstream(&c1).delete_object_store(&bucket).await.unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// Where the real bus differs from what the peer expects (README: "The peer's scenarios")
// ---------------------------------------------------------------------------------------------

/// Waits until one of `logs` holds `needle`.
async fn logged_any(logs: &[PathBuf], needle: &str) {
    let deadline = Instant::now() + WAIT;
    while !logs.iter().any(|l| {
        std::fs::read_to_string(l)
            .unwrap_or_default()
            .contains(needle)
    }) {
        assert!(
            Instant::now() < deadline,
            "no server log says `{needle}` within {WAIT:?}: {logs:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether the servers logging to `logs` are of this release (`2.12.`), by their start banner.
fn logged_version(logs: &[PathBuf], release: &str) -> bool {
    logs.iter().any(|l| {
        std::fs::read_to_string(l)
            .unwrap_or_default()
            .contains(&format!("Version:  {release}"))
    })
}

fn nats_logs(up: &Up, cluster: &str) -> Vec<PathBuf> {
    (0..3)
        .map(|i| up.dir.join(cluster).join(format!("nats-{i}/server.log")))
        .collect()
}

/// The chart's defaults give `max_file_store: 0` (fileStore disabled) and NACK streams for
/// MQTT in memory, in the CSC/CPC account only: there MQTT works (every scenario above). An
/// MQTT client of another JetStream account (the lab's LaunchLayer, on the CSC) needs a session
/// stream in file storage. nats-server 2.12.6 (the chart's release) creates it at CONNECT and
/// closes the connection: `unable to connect: create sessions stream for account
/// "LaunchLayer": insufficient storage resources available (10047)`; 2.15.1 accepts the
/// connection and closes it at the first subscription: `unable to persist session ...
/// insufficient resources`, `JetStream file resource limits exceeded for server`. natscc warns
/// of it on the lab's values (`natscc::mqtt::file_store`, at LaunchLayer's `jetstream`).
#[test]
fn mqtt_outside_the_accounts_nack_prepares_meets_max_file_store_0() {
    let lab = root().join("tests/fleets/lab");
    let lint = common::natscc()
        .args(["lint", "--format", "concise", "--with"])
        .arg(lab.join("local-dev-values.yaml"))
        .arg(lab.join("csc.yaml"))
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&lint.stdout).into_owned() + &String::from_utf8_lossy(&lint.stderr);
    assert!(
        said.contains("warning: natscc::mqtt::file_store")
            && said.contains(
                "the identity `launchlayer-client` lands in the extra account `LaunchLayer`"
            ),
        "{said}"
    );
    on_fleets(&[Fleet::Lab], |_, up| async move {
        let id = format!("ll-{}", unique());
        let token = Auth::Token(up.cluster("csc").tokens["launchlayer-client"].clone());
        let logs = nats_logs(up, "csc");
        // 2.12.6 (the chart's release) creates the session stream at CONNECT and refuses the
        // connection; 2.14+ accepts it and fails at the first subscription.
        match mqtt_connect(up.cluster("csc").mqtt, &id, &token, true).await {
            Ok(mut m) => {
                let code = m.try_subscribe("launchlayer/mqtt", QoS::AtLeastOnce).await;
                assert_eq!(code, None, "the server answered the subscription: {code:?}");
                logged_any(&logs, "Version:  2.1").await;
                assert!(
                    !logged_version(&logs, "2.12."),
                    "2.12 accepted the connection"
                );
                logged_any(&logs, &format!("\"{id}\" - unable to persist session")).await;
                logged_any(&logs, "JetStream file resource limits exceeded for server").await;
            }
            Err(e) => {
                assert!(e.contains("closed by peer"), "{e}");
                assert!(
                    logged_version(&logs, "2.12."),
                    "only 2.12 refuses at CONNECT"
                );
                logged_any(
                    &logs,
                    &format!("\"{id}\" - unable to connect: create sessions stream for account \"LaunchLayer\": insufficient storage resources available"),
                )
                .await;
            }
        }
    });
}

/// With mTLS on (the chart's default) on a CSC whose leaf listener requires TLS and verifies
/// client certificates, the CSC's nats-mtls never joins: its remotes are plain `nats://` with
/// no certificate (the chart renders none for them), so the peer's mTLS scenarios cannot pass
/// on that CSC. natscc compiles the fleet with a warning (`natscc::mtls::leaf_tls`: the chart's
/// own reference values do the same); the servers refuse the connection, in their words:
/// nats-mtls "TLS leafnode handshake error: tls: failed to verify certificate: x509:
/// certificate signed by unknown authority" (it has no CA for the leaf listener), the CSC
/// "TLS leafnode handshake error: remote error: tls: bad certificate".
#[test]
fn nats_mtls_cannot_join_a_csc_leaf_listener_that_verifies() {
    let _turn = turn();
    let fleet = root().join("tests/fleets/mtls-csc-leaf-tls/fleet.yaml");
    let compiled = common::natscc()
        .args(["compile", "--format", "concise", "--fleet"])
        .arg(&fleet)
        .arg("-o")
        .arg(tempfile::tempdir().unwrap().path().join("out"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&compiled.stderr).into_owned();
    assert_eq!(compiled.status.code(), Some(0), "{said}");
    assert!(said.contains("warning: natscc::mtls::leaf_tls"), "{said}");
    let mut child = spawn_up(&fleet);
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (dir_tx, dir_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(d) = line.split(" auth callouts in ").nth(1) {
                let _ = dir_tx.send(PathBuf::from(d));
            }
        }
    });
    let dir = dir_rx
        .recv_timeout(WAIT)
        .expect("natscc up names its folder");
    let csc = dir.join("csc");
    rt().block_on(async {
        logged_any(
            &[csc.join("nats-mtls-0/server.log")],
            "TLS leafnode handshake error: tls: failed to verify certificate: x509: certificate signed by unknown authority",
        )
        .await;
        let hub: Vec<PathBuf> = (0..3)
            .map(|i| csc.join(format!("nats-{i}/server.log")))
            .collect();
        logged_any(&hub, "TLS leafnode handshake error: remote error: tls: bad certificate").await;
    });
    // SIGTERM: natscc stops everything it started and removes its folder.
    // SAFETY: natscc's pid, not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < WAIT, "natscc up did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!dir.exists(), "{} is left behind", dir.display());
    assert!(processes_in(&dir).is_empty(), "{:?}", processes_in(&dir));
}

/// The auth callout's mTLS identity is `CN=<common name>` alone (the peer's extractIdentity;
/// natscc's callout does the same). Run on real servers, an identity written with more of the
/// subject (`CN=plant-gateway,O=Example`) got its certificate from `up` and was refused at every
/// connection: CONNACK "not authorized", nats-mtls logging "mTLS authentication failed: user not
/// found in permissions config: CN=plant-gateway" (README). natscc now refuses such values
/// before anything runs; written as `CN=plant-gateway` (tests/fleets/tls), the same client is
/// let in with up's certificate.
#[test]
fn an_mtls_identity_with_more_than_the_common_name_is_refused_and_the_common_name_alone_connects() {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["fleet.yaml", "csc.yaml", "cpc.yaml"] {
        let text = std::fs::read_to_string(root().join("tests/fleets/tls").join(f)).unwrap();
        let common = root().join("examples/fleet/common.yaml");
        let text = text
            .replace(
                "identity: \"CN=plant-gateway\"",
                "identity: \"CN=plant-gateway,O=Example\"",
            )
            .replace(
                "../../../examples/fleet/common.yaml",
                common.to_str().unwrap(),
            );
        std::fs::write(tmp.path().join(f), text).unwrap();
    }
    let out = tmp.path().join("out");
    let run = common::natscc()
        .args(["compile", "--format", "concise", "--fleet"])
        .arg(tmp.path().join("fleet.yaml"))
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&run.stderr).into_owned() + &String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{said}");
    assert!(
        said.contains("natscc::auth::mtls_identity")
            && said.contains("write `identity: \"CN=plant-gateway\"`"),
        "{said}"
    );
    assert!(!out.exists());

    let _turn = turn();
    let up = start(&root().join("tests/fleets/tls/fleet.yaml"));
    let c = up.cluster("cpc-1");
    let auth = Auth::Tls {
        files: c.certs["plant-gateway"].clone(),
        server_name: c.server_name.clone(),
        with_cert: true,
    };
    rt().block_on(async {
        let conn = mqtt_connect(c.mqtt_mtls, "plant-gateway", &auth, true).await;
        assert!(conn.is_ok(), "{:?}", conn.err());
    });
    let mut child = up.child.into_inner().unwrap();
    // SAFETY: natscc's pid, not yet reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < WAIT, "natscc up did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "natscc up exited with {status}");
    assert!(!up.dir.exists(), "{} is left behind", up.dir.display());
    assert!(processes_in(&up.dir).is_empty());
}
