//! `natscc up --watch` on the example fleet: an edit of the values while the fleet runs is
//! applied as production applies it. A subject added to cpcExports (a live change) flows from
//! CPC 1 to the CSC right after the edit; one added together with a change nats-server 2.12.6
//! refuses to reload (lame_duck_duration) does not flow, `up` lists the CPCs' servers as stale,
//! and it flows once `r` restarts them. Nothing is left running.

mod common;

use async_nats::Client;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

struct Watch {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    nats: HashMap<String, String>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let t = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Watch {
    fn start(fleet: &Path) -> Watch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_natscc"))
            .args(["up", "--watch"])
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
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut w = Watch {
            child,
            stdin,
            lines,
            nats: HashMap::new(),
        };
        for line in w.until("ready", 60) {
            let fields: HashMap<&str, &str> =
                line.split(' ').filter_map(|f| f.split_once('=')).collect();
            if let (Some(c), Some(urls)) = (fields.get("cluster"), fields.get("nats")) {
                let first = urls.split(',').next().unwrap().to_string();
                w.nats.insert(c.to_string(), first);
            }
        }
        w
    }

    /// Every line up to the one equal to `last` (within `secs`).
    fn until(&mut self, last: &str, secs: u64) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut seen = vec![];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l == last => return seen,
                Ok(l) => seen.push(l),
                Err(_) => panic!(
                    "natscc up never printed {last:?}; it printed:\n{}",
                    seen.join("\n")
                ),
            }
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} holds no {from:?}", path.display());
    std::fs::write(path, text.replace(from, to)).unwrap();
}

async fn flows(
    from: &Client,
    to: &mut async_nats::Subscriber,
    subject: &str,
    wait: Duration,
) -> bool {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        from.publish(subject.to_string(), "x".into()).await.unwrap();
        from.flush().await.unwrap();
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(100), to.next()).await {
            return true;
        }
    }
    false
}

/// Two fleets of 12 servers at once overload a 2-core machine: one test at a time.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

// The lock only keeps the other test's fleet from starting meanwhile; nothing awaits it.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread")]
async fn an_edit_reloads_live_changes_and_leaves_refused_ones_stale_until_restarted() {
    let _alone = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for e in std::fs::read_dir(root.join("examples/fleet")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, tmp.path().join(p.file_name().unwrap())).unwrap();
    }
    let mut w = Watch::start(&tmp.path().join("fleet.yaml"));
    let csc = async_nats::connect(&w.nats["csc"]).await.unwrap();
    let cpc = async_nats::connect(&w.nats["cpc-1"]).await.unwrap();
    let short = Duration::from_millis(1500);
    {
        let mut orders = csc.subscribe("cpc.1.orders.>").await.unwrap();
        csc.flush().await.unwrap();
        assert!(
            !flows(&cpc, &mut orders, "orders.new", short).await,
            "orders.> flows before"
        );
    }

    // A live change: the plan says so, and the subject flows right after. Subscribed after
    // the reload: measured on 2.12.6, a subject an accounts reload adds does not reach the
    // CSC while interest in it was already propagated over the leaf connection before (a
    // subscriber that stays open), not even for new subscribers, until the leaf reconnects.
    let exports = r#"cpcExports: ["sensor.>", "alarm.*"]"#;
    let with_orders = r#"cpcExports: ["sensor.>", "alarm.*", "orders.>"]"#;
    edit(&tmp.path().join("common.yaml"), exports, with_orders);
    let said = w.until("watch: applied", 30).join("\n");
    assert!(
        said.contains("`orders.>` starts crossing CPC -> CSC"),
        "{said}"
    );
    assert!(said.contains("watch: cpc-1/nats-0 reloaded"), "{said}");
    assert!(!said.contains("stale"), "{said}");
    // The reload drops the clients the auth callout authenticated; a client connects again.
    let cpc = async_nats::connect(&w.nats["cpc-1"]).await.unwrap();
    let mut orders = csc.subscribe("cpc.1.orders.>").await.unwrap();
    csc.flush().await.unwrap();
    assert!(
        flows(&cpc, &mut orders, "orders.new", Duration::from_secs(10)).await,
        "{said}"
    );

    // A change 2.12.6 refuses to reload, with a new subject: the servers keep all of their old
    // configuration, the new subject too, until they restart.
    let with_audit = r#"cpcExports: ["sensor.>", "alarm.*", "orders.>", "audit.>"]"#;
    edit(&tmp.path().join("common.yaml"), with_orders, with_audit);
    let cpc_yaml = tmp.path().join("cpc.yaml");
    let text = std::fs::read_to_string(&cpc_yaml).unwrap();
    let lame_duck = "nats:\n  config:\n    merge:\n      lame_duck_duration: 45s\n";
    std::fs::write(&cpc_yaml, format!("{text}{lame_duck}")).unwrap();
    let said = w.until("watch: applied", 30).join("\n");
    assert!(said.contains("[at restart only]"), "{said}");
    assert!(said.contains("watch: stale: cpc-1/nats-0"), "{said}");
    assert!(said.contains("LameDuckDuration"), "{said}");
    {
        let cpc = async_nats::connect(&w.nats["cpc-1"]).await.unwrap();
        let mut audit = csc.subscribe("cpc.1.audit.>").await.unwrap();
        csc.flush().await.unwrap();
        assert!(
            !flows(&cpc, &mut audit, "audit.login", short).await,
            "audit.> flows early"
        );
    }
    writeln!(w.stdin, "r").unwrap();
    let said = w.until("watch: restarted", 120).join("\n");
    assert!(said.contains("watch: restarted cpc-1/nats-0"), "{said}");
    let cpc = async_nats::connect(&w.nats["cpc-1"]).await.unwrap();
    let mut audit = csc.subscribe("cpc.1.audit.>").await.unwrap();
    csc.flush().await.unwrap();
    assert!(
        flows(&cpc, &mut audit, "audit.login", Duration::from_secs(15)).await,
        "audit.> does not flow after the restart"
    );
}

/// Stream resources edited while the fleet runs are applied as NACK applies them, through the
/// JetStream API, and the server's answer is what `up` reports: a new `maxAge` is taken (the
/// stream's configuration as the server returns it), a new storage type is refused and the
/// stream keeps its old settings.
#[test]
fn stream_edits_are_applied_as_nack_applies_them() {
    let _alone = one_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for e in std::fs::read_dir(root.join("examples/fleet")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, tmp.path().join(p.file_name().unwrap())).unwrap();
    }
    let streams = tmp.path().join("streams.yaml");
    std::fs::write(
        &streams,
        "global: {eventBus: {mqttStreams: {maxAge: 3h}}}\n",
    )
    .unwrap();
    edit(
        &tmp.path().join("fleet.yaml"),
        "values: [common.yaml, cpc.yaml, cpc-1.yaml]",
        "values: [common.yaml, cpc.yaml, cpc-1.yaml, streams.yaml]",
    );
    let mut w = Watch::start(&tmp.path().join("fleet.yaml"));

    std::fs::write(
        &streams,
        "global: {eventBus: {mqttStreams: {maxAge: 6h}}}\n",
    )
    .unwrap();
    let said = w.until("watch: applied", 30).join("\n");
    assert!(said.contains("[live]"), "{said}");
    assert!(
        said.contains("stream $MQTT_msgs updated (JetStream: storage memory, max_age 21600s"),
        "{said}"
    );
    assert!(
        !said.contains("cpc-2: stream"),
        "only CPC 1's streams change: {said}"
    );

    let file = "global: {eventBus: {mqttStreams: {maxAge: 6h, storage: file}}}\n";
    std::fs::write(&streams, file).unwrap();
    let said = w.until("watch: applied", 30).join("\n");
    assert!(said.contains("[refused by JetStream]"), "{said}");
    assert!(
        said.contains(
            "JetStream refused stream $MQTT_msgs: stream configuration update can not \
                       change storage type"
        ),
        "{said}"
    );
}
