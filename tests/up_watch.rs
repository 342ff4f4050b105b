//! `natscc up --watch` on the example fleet: an edit of the values while the fleet runs is
//! applied as production applies it. A subject added to cpcExports (a live change) flows from
//! CPC 1 to the CSC right after the edit; one added together with a change nats-server 2.12.6
//! refuses to reload (lame_duck_duration) does not flow, `up` lists the CPCs' servers as stale,
//! and it flows once `r` restarts them. The callout re-reads a changed permissions.json and is
//! rolled when its Deployment changes; a cluster added to the fleet file starts and joins, one
//! removed stops. Nothing is left running.

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
        let lines = w.until("ready", 60);
        w.addresses(&lines);
        w
    }

    /// Reads each cluster's first `nats` URL from `up`'s address lines.
    fn addresses(&mut self, lines: &[String]) {
        for line in lines {
            let fields: HashMap<&str, &str> =
                line.split(' ').filter_map(|f| f.split_once('=')).collect();
            if let (Some(c), Some(urls)) = (fields.get("cluster"), fields.get("nats")) {
                let first = urls.split(',').next().unwrap().to_string();
                self.nats.insert(c.to_string(), first);
            }
        }
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

/// A copy of the example fleet in a temporary folder.
fn example_fleet() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for e in std::fs::read_dir(root.join("examples/fleet")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, tmp.path().join(p.file_name().unwrap())).unwrap();
    }
    tmp
}

/// Whether a client connecting now with `opts` gets a permissions violation for a publish to
/// `subject` (waits 1 s for the server's word).
async fn publish_denied(url: &str, opts: async_nats::ConnectOptions, subject: &str) -> bool {
    let (opts, mut errors) = common::with_errors(opts);
    let client = opts.connect(url).await.unwrap();
    client
        .publish(subject.to_string(), "x".into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    match tokio::time::timeout(Duration::from_secs(1), errors.recv()).await {
        Ok(Some(said)) => {
            let said = said.to_lowercase();
            said.contains("permissions violation") && said.contains(subject)
        }
        _ => false,
    }
}

/// The processes whose working folder is under `dir` (a pod's servers and the callout run
/// in their own folders), read from /proc.
fn processes_in(dir: &Path) -> Vec<u32> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // A deleted folder reads back with " (deleted)" after its path.
        if let Ok(cwd) = std::fs::read_link(e.path().join("cwd"))
            && cwd.to_string_lossy().starts_with(&*dir.to_string_lossy())
        {
            out.push(pid);
        }
    }
    out
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
    let tmp = example_fleet();
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
    let tmp = example_fleet();
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

/// The auth callout under `up --watch`, as the chart runs it. permissions.json is a ConfigMap
/// the callout re-reads every 5 s: a permission changed there is live (the plan says so), no
/// process restarts, and a client connecting after the re-read is held to it. An identity
/// whose public key the callout reads from a new variable of its own (`auth-callout.extraEnvs`)
/// changes the Deployment's pod template: the plan says the callout rolls, `up` rolls it, and
/// only then does the client with that key connect, held to its permissions. Without the roll
/// the running callout expands `${OPS_PUBKEY}` to nothing and refuses the key.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread")]
async fn callout_changes_reach_new_clients_as_production_applies_them() {
    let _alone = one_at_a_time();
    let tmp = example_fleet();
    let mut w = Watch::start(&tmp.path().join("fleet.yaml"));
    let url = w.nats["csc"].clone();
    let watcher = async_nats::connect(&url).await.unwrap();
    let anonymous = async_nats::ConnectOptions::new;
    assert!(
        !publish_denied(&url, anonymous(), "ops.report").await,
        "an anonymous client on the CSC may publish anywhere before the edit"
    );

    // permissions.json alone: live, through the callout's re-read.
    let csc_yaml = tmp.path().join("csc.yaml");
    let noauth = "noauth: { account: CSC }";
    let deny = r#"noauth: { account: CSC, permissions: { pub: { deny: ["ops.>"] } } }"#;
    edit(&csc_yaml, noauth, deny);
    let said = w.until("watch: applied", 30).join("\n");
    assert!(said.contains("[live]"), "{said}");
    assert!(
        said.contains("watch: csc/auth-callout re-reads permissions.json"),
        "{said}"
    );
    assert!(!said.contains("rolled"), "{said}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !publish_denied(&url, anonymous(), "ops.report").await {
        assert!(
            Instant::now() < deadline,
            "a new anonymous client may still publish to ops.report 15 s after the edit"
        );
    }

    // An identity whose key is a new variable of the callout's Deployment: it rolls.
    let ops = nkeys::KeyPair::new_user();
    let seed = ops.seed().unwrap();
    let nkey = || async_nats::ConnectOptions::with_nkey(seed.clone());
    assert!(
        nkey().connect(&url).await.is_err(),
        "the NKey client connects before its identity exists"
    );
    let identity = format!(
        "{deny}\n        nkey:\n          ops:\n            \
         public_key: \"${{OPS_PUBKEY}}\"\n            account: CSC\n            \
         permissions:\n              pub: {{ allow: [\"ops.>\"] }}"
    );
    edit(&csc_yaml, deny, &identity);
    let text = std::fs::read_to_string(&csc_yaml).unwrap();
    let env = format!(
        "auth-callout:\n  extraEnvs:\n    OPS_PUBKEY: {{ value: {} }}\n",
        ops.public_key()
    );
    std::fs::write(&csc_yaml, format!("{text}{env}")).unwrap();
    let said = w.until("watch: applied", 60).join("\n");
    assert!(
        said.contains("[rolls the pods]       OPS_PUBKEY = "),
        "{said}"
    );
    assert!(said.contains("nkey identity `ops` added"), "{said}");
    assert!(said.contains("watch: csc/auth-callout rolled"), "{said}");
    let (opts, mut errors) = common::with_errors(nkey());
    let client = opts
        .connect(&url)
        .await
        .expect("the NKey client is refused");
    let mut sub = watcher.subscribe("ops.>").await.unwrap();
    watcher.flush().await.unwrap();
    assert!(
        flows(&client, &mut sub, "ops.report", Duration::from_secs(5)).await,
        "the NKey client's publish to ops.report does not arrive"
    );
    client.publish("audit.x", "x".into()).await.unwrap();
    client.flush().await.unwrap();
    let said = tokio::time::timeout(Duration::from_secs(5), errors.recv())
        .await
        .expect("no permissions violation for the NKey client's publish to audit.x")
        .unwrap();
    assert!(
        said.to_lowercase().contains("permissions violation"),
        "{said}"
    );

    // Its config.yaml (behind the Deployment's checksum annotation): the callout rolls onto an
    // identity provider, and `up`'s issuer, which stands in for it, mints the new identity's
    // token.
    let text = std::fs::read_to_string(&csc_yaml).unwrap();
    let oauth2 = "        oauth2:\n          dashboard:\n            \
                  azp: fleet-dashboard\n            account: CSC\n            \
                  permissions:\n              pub: { allow: [\"command.>\"] }\n";
    let jwks = "  serviceConfig:\n    jwks:\n      url: https://idp.example.com/jwks.json\n      \
                issuer: https://idp.example.com/\n      audience: nats\n";
    let text = text.replace("        nkey:\n", &format!("{oauth2}        nkey:\n"));
    std::fs::write(&csc_yaml, format!("{text}{jwks}")).unwrap();
    let said = w.until("watch: applied", 60).join("\n");
    assert!(
        said.contains("the auth callout's config.yaml changed"),
        "{said}"
    );
    assert!(said.contains("oauth2 identity `dashboard` added"), "{said}");
    assert!(said.contains("watch: csc/auth-callout rolled"), "{said}");
    let token = said
        .lines()
        .find_map(|l| l.strip_prefix("cluster=csc oauth2-client=dashboard token-file="))
        .expect("no token for the new OAuth2 identity");
    let token = std::fs::read_to_string(token).unwrap();
    let with_token = || async_nats::ConnectOptions::with_token(token.trim().to_string());
    let (opts, mut errors) = common::with_errors(with_token());
    let dashboard = opts
        .connect(&url)
        .await
        .expect("the OAuth2 client is refused");
    let mut sub = watcher.subscribe("command.>").await.unwrap();
    watcher.flush().await.unwrap();
    assert!(flows(&dashboard, &mut sub, "command.stop", Duration::from_secs(5)).await);
    dashboard.publish("ops.x", "x".into()).await.unwrap();
    dashboard.flush().await.unwrap();
    let said = tokio::time::timeout(Duration::from_secs(5), errors.recv())
        .await
        .expect("no permissions violation for the OAuth2 client's publish to ops.x")
        .unwrap();
    assert!(
        said.to_lowercase().contains("permissions violation"),
        "{said}"
    );
}

/// A CPC added to the fleet file while `up --watch` runs starts as `helm install` starts a
/// release (the CSC's callout rolls onto its leaf key, the plan says both), its leaf
/// connection joins the CSC and a subject flows across; removed again, its processes stop and
/// its folder goes, and the CSC's callout rolls back.
#[allow(clippy::await_holding_lock)]
#[tokio::test(flavor = "multi_thread")]
async fn a_cpc_added_while_watching_joins_and_a_removed_one_stops() {
    let _alone = one_at_a_time();
    let tmp = example_fleet();
    let fleet = tmp.path().join("fleet.yaml");
    let csc_yaml = tmp.path().join("csc.yaml");
    let (fleet_before, csc_before) = (
        std::fs::read_to_string(&fleet).unwrap(),
        std::fs::read_to_string(&csc_yaml).unwrap(),
    );
    let mut w = Watch::start(&fleet);
    let csc = async_nats::connect(&w.nats["csc"]).await.unwrap();

    // The CSC's cpcIds and the fleet file, as one edit.
    edit(
        &csc_yaml,
        r#"cpcIds: ["1", "2"]"#,
        r#"cpcIds: ["1", "2", "3"]"#,
    );
    let cpc3 = "\n  - name: cpc-3\n    values: [common.yaml, cpc.yaml]\n    set:\n      \
                global.eventBus.clusterId: \"3\"\n      \
                global.eventBus.gateway.routes.mqttMtls.hostnames: [mqtt.cpc-3.example.com]\n    \
                gateway: *gateway\n";
    std::fs::write(&fleet, format!("{fleet_before}{cpc3}")).unwrap();
    let lines = w.until("watch: applied", 90);
    let said = lines.join("\n");
    assert!(said.contains("added: `helm install` creates it"), "{said}");
    assert!(said.contains("NKEY_LEAF_CPC_3_PUBKEY"), "{said}");
    assert!(said.contains("watch: csc/auth-callout rolled"), "{said}");
    assert!(said.contains("watch: cpc-3 started"), "{said}");
    w.addresses(&lines);
    let cpc = async_nats::connect(&w.nats["cpc-3"]).await.unwrap();
    let mut at_csc = csc.subscribe("cpc.3.sensor.>").await.unwrap();
    csc.flush().await.unwrap();
    assert!(
        flows(&cpc, &mut at_csc, "sensor.temp", Duration::from_secs(10)).await,
        "sensor.temp from the added CPC does not reach the CSC as cpc.3.sensor.temp"
    );
    let folder = said
        .lines()
        .find_map(|l| l.strip_prefix("cluster=cpc-3 mtls-client="))
        .and_then(|l| l.split(" cert=").nth(1))
        .and_then(|p| p.split("/cpc-3/").next())
        .map(|root| Path::new(root).join("cpc-3"))
        .expect("no client line for cpc-3");
    assert!(
        processes_in(&folder).len() >= 5,
        "cpc-3's 4 servers and callout should run in {}",
        folder.display()
    );
    drop(cpc);

    // Removed: the fleet file and cpcIds as they were.
    std::fs::write(&csc_yaml, &csc_before).unwrap();
    std::fs::write(&fleet, &fleet_before).unwrap();
    let said = w.until("watch: applied", 60).join("\n");
    assert!(
        said.contains("removed: `helm uninstall` deletes its pods"),
        "{said}"
    );
    assert!(said.contains("watch: csc/auth-callout rolled"), "{said}");
    assert!(said.contains("watch: cpc-3 removed"), "{said}");
    assert!(!folder.exists(), "{} is still there", folder.display());
    assert_eq!(
        processes_in(&folder),
        Vec::<u32>::new(),
        "cpc-3's processes"
    );
    // The rest of the fleet runs on: CPC 1's subjects still reach the CSC.
    let cpc1 = async_nats::connect(&w.nats["cpc-1"]).await.unwrap();
    let mut at_csc = csc.subscribe("cpc.1.sensor.>").await.unwrap();
    csc.flush().await.unwrap();
    assert!(flows(&cpc1, &mut at_csc, "sensor.temp", Duration::from_secs(10)).await);
}
