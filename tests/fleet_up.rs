//! The federation on real servers: `natscc up` on the example fleet (a CSC and two CPCs, each
//! 3 nats replicas, nats-mtls and its auth callout: production's bus), then NATS and MQTT
//! clients, authenticated by the auth callout as production clients are (no-auth where
//! permissions.json allows it), prove the flows the values promise, and that nothing else flows.
//! `ready` means ready: a retained message published on the CSC right after it reaches a late
//! CPC subscriber on the first try, 20 runs in a row.
//! Also: a fleet with an overlap is refused, and the same accounts forced into a server make it
//! refuse to start; and a loop that extra accounts would form across the leaf connections does
//! not happen. `natscc up` must print `ready` within 10 seconds and leave nothing behind.

mod common;

use async_nats::Client;
use futures_util::StreamExt;
use rumqttc::QoS;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The tests start servers on ports picked free a moment earlier; run one at a time so two
/// tests never pick the same port.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A running `natscc up`: the addresses it printed; stopped with SIGTERM on drop.
struct Up {
    child: Child,
    nats: HashMap<String, String>,
    mqtt: HashMap<String, u16>,
    /// OAuth2 identity -> the token natscc up minted for it.
    tokens: HashMap<String, PathBuf>,
    dir: PathBuf,
    startup: Duration,
}

impl Up {
    fn start(fleet: &Path) -> Up {
        let t = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_natscc"))
            .arg("up")
            .arg(fleet)
            .env("NATS_SERVER_BIN", common::nats_server_path())
            .env(
                "NATS_SERVER_DIR",
                common::nats_server_of("2.12.6")
                    .parent()
                    .unwrap()
                    .parent()
                    .unwrap(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (dir_tx, dir_rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if let Some(d) = line.split(" auth callouts in ").nth(1) {
                    let _ = dir_tx.send(PathBuf::from(d));
                }
                log2.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        // natscc gives up after 30 s on its own; should it hang silently instead, it is killed
        // (its servers die with it) so the read below ends and the test fails, never hangs. Only
        // on a timeout: while this waits, `child` is not reaped, so its pid is still natscc's.
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let pid = child.id().to_string();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                started_rx.recv_timeout(Duration::from_secs(60))
            {
                let _ = Command::new("kill").args(["-KILL", &pid]).status();
            }
        });
        let mut nats = HashMap::new();
        let mut mqtt = HashMap::new();
        let mut tokens = HashMap::new();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut ready = false;
        for line in stdout.lines().map_while(Result::ok) {
            if line == "ready" {
                ready = true;
                break;
            }
            let fields: HashMap<&str, &str> =
                line.split(' ').filter_map(|f| f.split_once('=')).collect();
            if let (Some(id), Some(file)) = (fields.get("oauth2-client"), fields.get("token-file"))
            {
                tokens.insert(id.to_string(), PathBuf::from(file));
            }
            // One line per cluster (its servers' addresses, nats-0's first), one per client
            // certificate.
            let (Some(cluster), Some(urls), Some(ports)) = (
                fields.get("cluster"),
                fields.get("nats"),
                fields.get("mqtt"),
            ) else {
                continue;
            };
            let first = |list: &str| list.split(',').next().unwrap().to_string();
            nats.insert(cluster.to_string(), first(urls));
            mqtt.insert(
                cluster.to_string(),
                first(ports).rsplit_once(':').unwrap().1.parse().unwrap(),
            );
        }
        drop(started_tx);
        let startup = t.elapsed();
        assert!(
            ready,
            "natscc up never printed ready:\n{}",
            log.lock().unwrap()
        );
        let dir = dir_rx
            .recv_timeout(Duration::from_secs(5))
            .expect("natscc up names its folder");
        let up = Up {
            child,
            nats,
            mqtt,
            tokens,
            dir,
            startup,
        };
        // Each release runs the nats-server its image deploys, said before anything starts
        // (asserted with `up` alive: its drop stops natscc should this fail).
        let said = log.lock().unwrap().clone();
        let runs = said.find(" runs nats-server 2.12.6 (");
        let starting = said.find("natscc up: starting ");
        assert!(
            runs.is_some_and(|r| starting.is_some_and(|s| r < s))
                && !said.contains("which is not installed"),
            "natscc up does not say it runs the deployed release before starting:\n{said}"
        );
        up
    }

    /// SIGTERM; then nothing may remain: no process, no file.
    fn stop(mut self) {
        let pid = self.child.id();
        let st = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let t = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "natscc up did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            status.success(),
            "natscc up exited with {status} after SIGTERM"
        );
        assert!(!self.dir.exists(), "{} is left behind", self.dir.display());
        assert!(
            processes_in(&self.dir).is_empty(),
            "servers left running: {:?}",
            processes_in(&self.dir)
        );
        std::mem::forget(self);
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        // 10 s to stop in order, then SIGKILL (the servers die with natscc either way).
        let t = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pids of processes whose working folder lies in `dir`.
fn processes_in(dir: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
        })
        .collect()
}

async fn connect(url: &str) -> Client {
    async_nats::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

/// Publishes every 100 ms until `sub` sees a message (interest crosses leaf connections
/// asynchronously), then returns the subject and payload it got.
async fn publish_until_received(
    client: &Client,
    subject: &str,
    payload: &str,
    sub: &mut async_nats::Subscriber,
) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        client
            .publish(subject.to_string(), payload.to_string().into())
            .await
            .unwrap();
        client.flush().await.unwrap();
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(100), sub.next()).await {
            return (
                m.subject.to_string(),
                String::from_utf8_lossy(&m.payload).into_owned(),
            );
        }
        assert!(Instant::now() < deadline, "nothing arrived for {subject}");
    }
}

/// Every message `sub` receives within `wait`.
async fn drain(sub: &mut async_nats::Subscriber, wait: Duration) -> Vec<(String, String)> {
    let mut out = vec![];
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(m)) = tokio::time::timeout_at(deadline, sub.next()).await {
        out.push((
            m.subject.to_string(),
            String::from_utf8_lossy(&m.payload).into_owned(),
        ));
    }
    out
}

async fn nats_flows(up: &Up) {
    let csc = connect(&up.nats["csc"]).await;
    let cpc = [
        connect(&up.nats["cpc-1"]).await,
        connect(&up.nats["cpc-2"]).await,
    ];

    // CPC-n publishes sensor.temp: the CSC receives cpc.n.sensor.temp; the other CPC nothing.
    let mut at_csc = csc.subscribe("cpc.*.sensor.temp").await.unwrap();
    let mut everything_at_cpc2 = cpc[1].subscribe(">").await.unwrap();
    for (i, client) in cpc.iter().enumerate() {
        let n = i + 1;
        let (subject, payload) =
            publish_until_received(client, "sensor.temp", &format!("from-cpc-{n}"), &mut at_csc)
                .await;
        assert_eq!(subject, format!("cpc.{n}.sensor.temp"));
        assert_eq!(payload, format!("from-cpc-{n}"));
        drain(&mut at_csc, Duration::from_millis(200)).await;
    }
    let seen = drain(&mut everything_at_cpc2, Duration::from_millis(500)).await;
    assert!(
        !seen.iter().any(|(_, p)| p == "from-cpc-1"),
        "CPC-1's sensor.temp reached CPC-2: {seen:?}"
    );

    // The CSC publishes cpc.n.command.restart: only CPC-n receives command.restart.
    let mut cmd = [
        cpc[0].subscribe("command.restart").await.unwrap(),
        cpc[1].subscribe("command.restart").await.unwrap(),
    ];
    for n in 1..=2 {
        let (subject, payload) = publish_until_received(
            &csc,
            &format!("cpc.{n}.command.restart"),
            &format!("restart-{n}"),
            &mut cmd[n - 1],
        )
        .await;
        assert_eq!(
            (subject.as_str(), payload.as_str()),
            ("command.restart", format!("restart-{n}").as_str())
        );
    }
    let late = [
        drain(&mut cmd[0], Duration::from_millis(400)).await,
        drain(&mut cmd[1], Duration::from_millis(10)).await,
    ];
    assert!(
        !late[0].iter().any(|(_, p)| p == "restart-2"),
        "CPC-1 got CPC-2's command: {:?}",
        late[0]
    );
    assert!(
        !late[1].iter().any(|(_, p)| p == "restart-1"),
        "CPC-2 got CPC-1's command: {:?}",
        late[1]
    );

    // The CSC publishes broadcast.x: every CPC receives it.
    let mut bc = [
        cpc[0].subscribe("broadcast.x").await.unwrap(),
        cpc[1].subscribe("broadcast.x").await.unwrap(),
    ];
    let (s1, _) = publish_until_received(&csc, "broadcast.x", "to-all", &mut bc[0]).await;
    assert_eq!(s1, "broadcast.x");
    let (s2, p2) = tokio::time::timeout(Duration::from_secs(3), bc[1].next())
        .await
        .expect("CPC-2 gets the broadcast")
        .map(|m| {
            (
                m.subject.to_string(),
                String::from_utf8_lossy(&m.payload).into_owned(),
            )
        })
        .unwrap();
    assert_eq!((s2.as_str(), p2.as_str()), ("broadcast.x", "to-all"));
}

/// An MQTT client whose received publishes arrive on a channel.
struct Mqtt {
    client: rumqttc::AsyncClient,
    rx: tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>, bool)>,
    task: tokio::task::JoinHandle<()>,
}

impl Mqtt {
    async fn connect(port: u16, id: &str) -> Mqtt {
        let mut opts = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
        opts.set_keep_alive(Duration::from_secs(30));
        let (client, mut events) = rumqttc::AsyncClient::new(opts, 64);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (conn_tx, conn_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut conn_tx = Some(conn_tx);
            loop {
                match events.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => {
                        if let Some(t) = conn_tx.take() {
                            let _ = t.send(());
                        }
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        let _ = tx.send((p.topic.clone(), p.payload.to_vec(), p.retain));
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("mqtt {port}: {e}");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(5), conn_rx)
            .await
            .expect("MQTT connects")
            .unwrap();
        Mqtt { client, rx, task }
    }

    async fn subscribe(&self, topic: &str, qos: rumqttc::QoS) {
        self.client.subscribe(topic, qos).await.unwrap();
        // The SUBACK comes back on the event loop; give the subscription time to reach the leaf.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    async fn publish(&self, topic: &str, payload: &str, retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload.as_bytes().to_vec())
            .await
            .unwrap();
    }

    /// The first message within `wait`, if any.
    async fn next(&mut self, wait: Duration) -> Option<(String, String, bool)> {
        tokio::time::timeout(wait, self.rx.recv())
            .await
            .ok()
            .flatten()
            .map(|(t, p, r)| (t, String::from_utf8_lossy(&p).into_owned(), r))
    }

    /// Publishes on `pub_client` every 200 ms until this client receives something.
    async fn receive_from(
        &mut self,
        pub_client: &Mqtt,
        topic: &str,
        payload: &str,
    ) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(6);
        loop {
            pub_client.publish(topic, payload, false).await;
            if let Some((t, p, _)) = self.next(Duration::from_millis(200)).await {
                return (t, p);
            }
            assert!(
                Instant::now() < deadline,
                "nothing arrived over MQTT for {topic}"
            );
        }
    }
}

impl Drop for Mqtt {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn mqtt_flows(up: &Up) {
    let csc = Mqtt::connect(up.mqtt["csc"], "csc-app").await;
    let cpc1 = Mqtt::connect(up.mqtt["cpc-1"], "cpc1-app").await;
    let cpc2 = Mqtt::connect(up.mqtt["cpc-2"], "cpc2-app").await;

    // CPC-1 publishes sensor/temp: the CSC receives cpc/1/sensor/temp; CPC-2's sensor/temp nothing.
    // Upward, messages cross as core NATS messages: the CSC's $MQTT_msgs sources no CPC stream,
    // so a QoS 1 subscriber there does not get a CPC's QoS 1 publish (the server leaves those to
    // the JetStream consumer). The CSC subscribes with QoS 0, the CPC publishes with QoS 1.
    let mut csc_sensor = Mqtt::connect(up.mqtt["csc"], "csc-sensor").await;
    csc_sensor
        .subscribe("cpc/+/sensor/temp", QoS::AtMostOnce)
        .await;
    let mut cpc2_sensor = Mqtt::connect(up.mqtt["cpc-2"], "cpc2-sensor").await;
    cpc2_sensor.subscribe("sensor/temp", QoS::AtLeastOnce).await;
    let (t, p) = csc_sensor.receive_from(&cpc1, "sensor/temp", "21.5").await;
    assert_eq!((t.as_str(), p.as_str()), ("cpc/1/sensor/temp", "21.5"));
    assert_eq!(
        cpc2_sensor.next(Duration::from_millis(500)).await,
        None,
        "CPC-1's sensor/temp reached CPC-2 over MQTT"
    );

    // The CSC publishes cpc/2/command/restart: only CPC-2 receives command/restart. Downward, QoS 1
    // messages reach QoS 1 subscribers through the CPC's $MQTT_msgs, which sources the CSC's
    // through the JetStream API prefix, renamed by its subject transforms.
    let mut cmd1 = Mqtt::connect(up.mqtt["cpc-1"], "cpc1-cmd").await;
    cmd1.subscribe("command/restart", QoS::AtLeastOnce).await;
    let mut cmd2 = Mqtt::connect(up.mqtt["cpc-2"], "cpc2-cmd").await;
    cmd2.subscribe("command/restart", QoS::AtLeastOnce).await;
    let (t, p) = cmd2
        .receive_from(&csc, "cpc/2/command/restart", "now")
        .await;
    assert_eq!((t.as_str(), p.as_str()), ("command/restart", "now"));
    assert_eq!(
        cmd1.next(Duration::from_millis(500)).await,
        None,
        "CPC-1 got CPC-2's MQTT command"
    );

    // The CSC broadcasts: every CPC receives it.
    let mut b1 = Mqtt::connect(up.mqtt["cpc-1"], "cpc1-bc").await;
    b1.subscribe("broadcast/live", QoS::AtLeastOnce).await;
    let mut b2 = Mqtt::connect(up.mqtt["cpc-2"], "cpc2-bc").await;
    b2.subscribe("broadcast/live", QoS::AtLeastOnce).await;
    let (t, _) = b1.receive_from(&csc, "broadcast/live", "hello").await;
    assert_eq!(t, "broadcast/live");
    // CPC-2's subscription may reach its leaf after CPC-1's: the CSC goes on broadcasting.
    let (t, _) = b2.receive_from(&csc, "broadcast/live", "hello").await;
    assert_eq!(t, "broadcast/live", "CPC-2 gets the MQTT broadcast");

    // A retained message from the CSC reaches a CPC subscriber that connects later, through the
    // CPC's $MQTT_rmsgs stream sourcing the CSC's.
    csc.publish("broadcast/firmware", "v2", true).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let deadline = Instant::now() + Duration::from_secs(6);
    let retained = loop {
        let mut late = Mqtt::connect(up.mqtt["cpc-1"], "cpc1-late").await;
        late.client
            .subscribe("broadcast/firmware", QoS::AtLeastOnce)
            .await
            .unwrap();
        if let Some(m) = late.next(Duration::from_millis(500)).await {
            break m;
        }
        let _ = late.client.disconnect().await;
        assert!(
            Instant::now() < deadline,
            "the retained broadcast never reached a late CPC-1 subscriber"
        );
    };
    assert_eq!(
        (retained.0.as_str(), retained.1.as_str(), retained.2),
        ("broadcast/firmware", "v2", true)
    );
    drop((cpc2, cpc1));
}

#[test]
fn fleet_up_serves_the_flows_and_leaves_nothing_behind() {
    let _serial = one_at_a_time();
    let up = Up::start(&root().join("examples/fleet/fleet.yaml"));
    assert!(
        up.startup < Duration::from_secs(10),
        "ready after {:?}",
        up.startup
    );
    eprintln!("natscc up: ready after {:?}", up.startup);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(nats_flows(&up));
    rt.block_on(mqtt_flows(&up));
    drop(rt);
    up.stop();
}

/// Publishes one retained QoS 1 message on `port` and waits for its PUBACK (the CSC stored it).
async fn publish_retained(port: u16, id: &str, topic: &str, payload: &str) {
    let opts = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
    let (client, mut events) = rumqttc::AsyncClient::new(opts, 16);
    client
        .publish(topic, QoS::AtLeastOnce, true, payload.as_bytes().to_vec())
        .await
        .unwrap();
    let acked = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) => return,
                Ok(_) => {}
                Err(e) => panic!("publishing {topic} on {port}: {e}"),
            }
        }
    })
    .await;
    assert!(acked.is_ok(), "no PUBACK for {topic} within 10 s");
    let _ = client.disconnect().await;
}

/// The first thing after `ready`: CPC-1's retained stream already sources the CSC's (what
/// `ready` waits for), and a retained message on the CSC reaches a late CPC subscriber,
/// retained, on its one and only subscription. The subscriber comes once the copy is stored on
/// CPC-1: sourcing is asynchronous in the steady state too, so one that subscribes in the same
/// millisecond can miss it on any bus. 20 runs of `natscc up` in a row, no retry anywhere.
/// Before `ready` waited for the stream sources, this failed on the first run.
#[test]
fn after_ready_a_retained_message_reaches_a_late_cpc_subscriber_on_the_first_try() {
    let _serial = one_at_a_time();
    let fleet = root().join("examples/fleet/fleet.yaml");
    for run in 1..=20 {
        let up = Up::start(&fleet);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        // What `ready` promises: the CPC's retained stream already sources the CSC's.
        let monitors = monitor_ports(&up.dir.join("cpc-1"));
        let sources = rmsgs_sources(&monitors);
        assert!(
            !sources.is_empty() && sources.iter().all(|active| *active >= 0),
            "run {run}: right after ready, CPC-1's $MQTT_rmsgs source is not active: {sources:?}"
        );
        let got = rt.block_on(async {
            let payload = format!("v{run}");
            publish_retained(up.mqtt["csc"], "csc-fw", "broadcast/firmware", &payload).await;
            // Sourcing is asynchronous in the steady state too: the late subscriber comes once
            // the copy is stored on CPC-1, so a slow machine cannot make it early.
            let deadline = Instant::now() + Duration::from_secs(20);
            while rmsgs_count(&monitors) < 1 {
                assert!(
                    Instant::now() < deadline,
                    "run {run}: the retained message never reached CPC-1's $MQTT_rmsgs"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            // A server builds its MQTT account state at the account's first CONNECT: it then
            // replays `$MQTT_rmsgs` through a consumer of its own, and answers a SUBSCRIBE from
            // what that consumer has already handed it (nats-server 2.12.6 does not wait for the
            // replay). So the late client subscribes once its server has taken the stored copy,
            // as any client that is not the first one on a freshly started pod does.
            let mut late = Mqtt::connect(up.mqtt["cpc-1"], "cpc1-late").await;
            while !rmsgs_consumers_caught_up(&monitors) {
                assert!(
                    Instant::now() < deadline,
                    "run {run}: CPC-1's $MQTT_rmsgs consumers never took the stored copy: {:?}",
                    monitors
                        .iter()
                        .map(|p| rmsgs_streams(*p))
                        .collect::<Vec<_>>()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            late.client
                .subscribe("broadcast/firmware", QoS::AtLeastOnce)
                .await
                .unwrap();
            late.next(Duration::from_secs(10)).await
        });
        drop(rt);
        assert_eq!(
            got,
            Some(("broadcast/firmware".into(), format!("v{run}"), true)),
            "run {run}: the retained message did not reach the late CPC subscriber"
        );
        up.stop();
    }
}

/// Leaf TLS at both ends, with certificates from the run's CA: the CSC verifies the CPC's
/// client certificate, the CPC the CSC's server certificate; messages cross both ways.
#[test]
fn leaf_tls_at_both_ends_carries_the_flows() {
    let _serial = one_at_a_time();
    let up = Up::start(&root().join("tests/fleets/tls/fleet.yaml"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let csc = connect(&up.nats["csc"]).await;
        let cpc = connect(&up.nats["cpc-1"]).await;
        let mut at_csc = csc.subscribe("cpc.1.sensor.>").await.unwrap();
        let (subject, _) = publish_until_received(&cpc, "sensor.temp", "up", &mut at_csc).await;
        assert_eq!(subject, "cpc.1.sensor.temp");
        let mut at_cpc = cpc.subscribe("broadcast.>").await.unwrap();
        let (subject, _) = publish_until_received(&csc, "broadcast.x", "down", &mut at_cpc).await;
        assert_eq!(subject, "broadcast.x");
        // An OAuth2 client with the token natscc up minted: the callout admits it into CSC
        // with its permissions; it receives what it may subscribe to.
        let token = std::fs::read_to_string(&up.tokens["dashboard"]).unwrap();
        let dashboard = async_nats::ConnectOptions::with_token(token.trim().to_string())
            .connect(&up.nats["csc"])
            .await
            .expect("the OAuth2 client is admitted");
        let mut sensors = dashboard.subscribe("cpc.1.sensor.>").await.unwrap();
        let (subject, _) = publish_until_received(&cpc, "sensor.rpm", "x", &mut sensors).await;
        assert_eq!(subject, "cpc.1.sensor.rpm");
    });
    drop(rt);
    up.stop();
}

#[test]
fn no_loop_crosses_a_leaf_connection() {
    let _serial = one_at_a_time();
    let fleet = root().join("tests/fleets/leaf-loop/fleet.yaml");
    common::natscc()
        .args(["compile", "--fleet"])
        .arg(&fleet)
        .arg("-o")
        .arg(tempfile::tempdir().unwrap().path().join("out"))
        .assert()
        .code(0);
    let up = Up::start(&fleet);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Clients land in A everywhere. Interest in loop.> in every A, then one message.
        let csc = connect(&up.nats["csc"]).await;
        let cpc1 = connect(&up.nats["cpc-1"]).await;
        let mut at_csc = csc.subscribe("loop.>").await.unwrap();
        let mut at_cpc1 = cpc1.subscribe("loop.>").await.unwrap();
        let (_, p) = publish_until_received(&csc, "loop.probe", "probe", &mut at_cpc1).await;
        assert_eq!(p, "probe");
        tokio::time::sleep(Duration::from_millis(500)).await;
        drain(&mut at_csc, Duration::from_millis(100)).await;
        drain(&mut at_cpc1, Duration::from_millis(100)).await;
        csc.publish("loop.once", "once".into()).await.unwrap();
        csc.flush().await.unwrap();
        let csc_got = drain(&mut at_csc, Duration::from_secs(1)).await;
        let cpc_got = drain(&mut at_cpc1, Duration::from_millis(100)).await;
        // The CSC's own subscriber once; CPC-1's A directly and through B: never back up.
        assert_eq!(
            csc_got.len(),
            1,
            "the message came back to the CSC: {csc_got:?}"
        );
        assert!(
            !cpc_got.is_empty() && cpc_got.len() <= 2,
            "CPC-1 got {cpc_got:?}"
        );
    });
    drop(rt);
    up.stop();
}

#[test]
fn an_overlap_is_refused_and_the_server_agrees() {
    let _serial = one_at_a_time();
    let fleet = root().join("fixtures/bad/fleet/shared-overlap/fleet.yaml");
    // Killed after 60 s: a natscc that started the refused fleet would otherwise run forever.
    let out = common::natscc()
        .args(["up"])
        .arg(&fleet)
        .env("NATS_SERVER_BIN", common::nats_server_path())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("natscc::cross_layer::overlap"));
    assert!(out.stdout.is_empty(), "nothing may start");
    // The same accounts forced into a server: it refuses to start, for the reason natscc gave.
    let compiled = natscc::fleet::compile(&fleet, false);
    assert!(compiled.has_errors());
    let tmp = tempfile::tempdir().unwrap();
    let plan = natscc::fleet::up::plan(&compiled, tmp.path()).unwrap();
    let cpc = &plan
        .clusters
        .iter()
        .find(|c| c.name == "cpc-1")
        .unwrap()
        .servers[0];
    // In every start, whatever order the server loads the accounts in (checked several times,
    // each with a timeout).
    for _ in 0..5 {
        let (ok, said) = check_config(&cpc.dir, &cpc.env);
        assert!(!ok, "nats-server accepted the overlap:\n{said}");
        assert!(said.contains("import forms a cycle"), "{said}");
    }
}

/// Runs `nats-server -t -c nats-config/nats.conf` in the pod folder `dir` with `env`, killed if it has not answered within
/// 10 seconds: (whether it accepted the config, what it said).
fn check_config(dir: &Path, env: &[(String, String)]) -> (bool, String) {
    let mut child = Command::new(common::nats_server_path())
        .args(["-t", "-c", "nats-config/nats.conf"])
        .env_clear()
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "nats-server -t did not answer within 10 s in {}",
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

/// What `natscc up` starts: the real server, and natscc for the auth callouts.
fn tools() -> natscc::fleet::up::Tools {
    natscc::fleet::up::Tools {
        nats_server: common::nats_server_path(),
        servers: None,
        natscc: PathBuf::from(env!("CARGO_BIN_EXE_natscc")),
    }
}

/// The server's refusal of an echo overlap: the CPC account's import of what it exports back.
const ECHO_CYCLE: &str = "import forms a cycle";

/// broadcast.> in both cscExports and cpcExports. natscc refuses it as an echo. nats-server
/// 2.15.1 loads the accounts in a random order (a Go map), and whether it sees the cycle
/// depends on that order: some starts of CPC-1 refuse it (`import forms a cycle`), others load.
/// So this asserts only what holds in every start: each start either refuses for that reason,
/// or serves; and a server that serves delivers the CSC's message to the CPC without echoing
/// it back up (a spoke never sends what came down from the hub back up), while the CPC's own
/// publish goes up under its prefix.
#[test]
fn what_the_servers_do_with_an_echo_overlap() {
    let _serial = one_at_a_time();
    let fleet_file = root().join("tests/fleets/echo/fleet.yaml");
    let fleet = natscc::fleet::compile(&fleet_file, false);
    assert!(
        fleet
            .diags
            .iter()
            .any(|d| d.code == natscc::diag::Code::CrossLayerOverlap)
    );

    // The config alone, several times: accepted, or refused for the cycle, nothing else.
    let dir = natscc::fleet::up::temp_dir().unwrap();
    let plan = natscc::fleet::up::plan(&fleet, &dir).unwrap();
    let cpc = &plan
        .clusters
        .iter()
        .find(|c| c.name == "cpc-1")
        .unwrap()
        .servers[0];
    let (mut loaded, mut refused) = (0, 0);
    for _ in 0..12 {
        let (ok, said) = check_config(&cpc.dir, &cpc.env);
        if ok {
            loaded += 1;
        } else {
            assert!(
                said.contains(ECHO_CYCLE),
                "nats-server refused the echo overlap for another reason:\n{said}"
            );
            refused += 1;
        }
    }
    eprintln!("echo overlap, nats-server -t: {loaded} loaded, {refused} refused ({ECHO_CYCLE})");
    std::fs::remove_dir_all(&dir).unwrap();

    // The fleet started: every start either stops on the cycle (and leaves nothing behind) or
    // serves without the echo. Up to five starts; the flows are checked on the first that serves.
    for _ in 0..5 {
        let dir = natscc::fleet::up::temp_dir().unwrap();
        let plan = natscc::fleet::up::plan(&fleet, &dir).unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        let running = match natscc::fleet::up::start(
            plan,
            &tools(),
            Instant::now() + Duration::from_secs(20),
            &stop,
        ) {
            Ok(r) => r,
            Err(e) => {
                assert!(
                    e.contains("cpc-1/nats-") && e.contains("exited") && e.contains(ECHO_CYCLE),
                    "the fleet did not start for another reason: {e}"
                );
                assert!(!dir.exists(), "{} is left behind", dir.display());
                continue;
            }
        };
        let port = |name: &str| {
            running
                .plan
                .clusters
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .client_port()
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let csc = connect(&format!("nats://127.0.0.1:{}", port("csc"))).await;
            let cpc = connect(&format!("nats://127.0.0.1:{}", port("cpc-1"))).await;
            let mut up = csc.subscribe("cpc.1.>").await.unwrap();
            let mut down = cpc.subscribe("broadcast.>").await.unwrap();
            publish_until_received(&csc, "broadcast.x", "from-csc", &mut down).await;
            let (subject, _) =
                publish_until_received(&cpc, "broadcast.local", "from-cpc", &mut up).await;
            assert_eq!(subject, "cpc.1.broadcast.local");
            let seen = drain(&mut up, Duration::from_millis(500)).await;
            assert!(
                !seen.iter().any(|(_, p)| p == "from-csc"),
                "the CSC's broadcast echoed back up: {seen:?}"
            );
        });
        drop(rt);
        drop(running);
        assert!(!dir.exists());
        break;
    }
}

/// The monitoring ports of a cluster's `nats` replicas in a running `natscc up` folder.
fn monitor_ports(cluster_dir: &Path) -> Vec<u16> {
    let mut ports = vec![];
    for entry in std::fs::read_dir(cluster_dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("nats-") || name.starts_with("nats-mtls") {
            continue;
        }
        let conf = std::fs::read_to_string(entry.path().join("nats-config/nats.conf")).unwrap();
        let port = conf
            .lines()
            .find_map(|l| l.trim().strip_prefix("\"http_port\": "))
            .and_then(|p| p.trim_end_matches(',').parse().ok())
            .expect("every replica has a monitoring port");
        ports.push(port);
    }
    ports
}

/// `/jsz` of one server, with every account's streams.
fn jsz(port: u16) -> serde_json::Value {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /jsz?accounts=true&streams=true&consumers=true HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

fn rmsgs_streams(port: u16) -> Vec<serde_json::Value> {
    let j = jsz(port);
    let accounts = j["account_details"].as_array().cloned().unwrap_or_default();
    accounts
        .iter()
        .flat_map(|a| a["stream_detail"].as_array().cloned().unwrap_or_default())
        .filter(|s| s["name"] == "$MQTT_rmsgs")
        .collect()
}

/// The `active` figure of every source of CPC's `$MQTT_rmsgs` the replicas report (-1, or no
/// figure, while a source is not running).
fn rmsgs_sources(ports: &[u16]) -> Vec<i64> {
    ports
        .iter()
        .flat_map(|p| rmsgs_streams(*p))
        .flat_map(|s| s["sources"].as_array().cloned().unwrap_or_default())
        .map(|src| src["active"].as_i64().unwrap_or(-1))
        .collect()
}

/// Whether every `$MQTT_rmsgs` consumer the replicas report has been handed the stream's
/// last message (each MQTT server keeps its retained-message index through its own consumer).
fn rmsgs_consumers_caught_up(ports: &[u16]) -> bool {
    let streams: Vec<_> = ports.iter().flat_map(|p| rmsgs_streams(*p)).collect();
    let mut consumers = 0;
    for stream in &streams {
        let last = stream["state"]["last_seq"].as_u64().unwrap_or(0);
        for c in stream["consumer_detail"].as_array().into_iter().flatten() {
            consumers += 1;
            let delivered = c["delivered"]["stream_seq"].as_u64().unwrap_or(0);
            let pending = c["num_pending"].as_u64().unwrap_or(0);
            if delivered < last || pending > 0 || c["num_ack_pending"].as_u64().unwrap_or(0) > 0 {
                return false;
            }
        }
    }
    consumers > 0
}

/// The most messages any replica's `$MQTT_rmsgs` holds.
fn rmsgs_count(ports: &[u16]) -> u64 {
    ports
        .iter()
        .flat_map(|p| rmsgs_streams(*p))
        .filter_map(|s| s["state"]["messages"].as_u64())
        .max()
        .unwrap_or(0)
}

/// Publishes on a subject the identity may not publish to, and waits for the server's
/// permissions violation; then an allowed subject reaches a subscriber.
async fn denied_then_allowed(
    client: &Client,
    errors: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    denied: &str,
    allowed: &str,
    watcher: &Client,
) {
    client
        .publish(denied.to_string(), "x".into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    let said = tokio::time::timeout(Duration::from_secs(10), errors.recv())
        .await
        .unwrap_or_else(|_| panic!("no permissions violation for a publish to {denied}"))
        .unwrap();
    assert!(
        said.to_lowercase().contains("permissions violation") && said.contains(denied),
        "{said}"
    );
    let mut sub = watcher.subscribe(allowed.to_string()).await.unwrap();
    let (subject, _) = publish_until_received(client, allowed, "ok", &mut sub).await;
    assert_eq!(subject, allowed);
}

/// The permissions compiled into permissions.json are what the server enforces, for an OAuth2,
/// an NKey and the no-auth identity (the mTLS identities' MQTT rows are in
/// tests/peer_scenarios.rs, `test_topic_authorization`): each may publish what `pub.allow`
/// names and gets a permissions violation elsewhere. Before natscc refused the server's
/// `publish:` form, an identity written that way published anywhere.
#[test]
fn each_identity_kind_is_held_to_its_compiled_permissions() {
    let _serial = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let user = nkeys::KeyPair::new_user();
    let common = root().join("examples/fleet/common.yaml");
    for f in ["fleet.yaml", "csc.yaml", "cpc.yaml"] {
        let mut text = std::fs::read_to_string(root().join("tests/fleets/tls").join(f))
            .unwrap()
            .replace(
                "../../../examples/fleet/common.yaml",
                common.to_str().unwrap(),
            );
        if f == "csc.yaml" {
            text = text.replace(
                "        noauth:\n          account: CSC\n",
                &format!(
                    "        nkey:\n          exporter:\n            public_key: {}\n            account: CSC\n            permissions:\n              pub: {{allow: [\"report.>\"]}}\n        noauth:\n          account: CSC\n          permissions:\n            pub: {{allow: [\"public.>\"]}}\n",
                    user.public_key()
                ),
            );
            assert!(text.contains("exporter:"), "{text}");
        }
        std::fs::write(tmp.path().join(f), text).unwrap();
    }
    let up = Up::start(&tmp.path().join("fleet.yaml"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = up.nats["csc"].clone();
    let token = std::fs::read_to_string(&up.tokens["dashboard"]).unwrap();
    rt.block_on(async {
        // A no-auth client has no `sub` restriction: it watches the allowed publishes.
        let watcher = connect(&url).await;

        let (opts, mut errors) = common::with_errors(async_nats::ConnectOptions::with_token(
            token.trim().to_string(),
        ));
        let dashboard = opts.connect(&url).await.expect("OAuth2 client admitted");
        denied_then_allowed(&dashboard, &mut errors, "secret.x", "command.x", &watcher).await;

        let (opts, mut errors) =
            common::with_errors(async_nats::ConnectOptions::with_nkey(user.seed().unwrap()));
        let exporter = opts.connect(&url).await.expect("NKey client admitted");
        denied_then_allowed(&exporter, &mut errors, "secret.y", "report.y", &watcher).await;

        let (opts, mut errors) = common::with_errors(async_nats::ConnectOptions::new());
        let anonymous = opts.connect(&url).await.expect("no-auth client admitted");
        denied_then_allowed(&anonymous, &mut errors, "secret.z", "public.z", &watcher).await;
    });
    drop(rt);
    up.stop();
}
