//! `natscc up`: the whole fleet on this machine. Each cluster's main server is built from the
//! same config trees `compile` prints, with a local overlay: loopback and free ports, one
//! replica, no TLS, the CPCs' leaf remotes pointed at the local CSC, keys generated into a
//! temporary folder, and static users in place of the auth callout (the generated NKey users,
//! the operator's NKey users, and `no_auth_user` into the account `auth.permissions.noauth`
//! names). Then the NACK streams of streams.yaml are created through the JetStream API, as NACK
//! would create them. Everything started is stopped, and the folder removed, on the way out.

use super::Fleet;
use super::nats::{Conn, http_get};
use crate::conf::{self, Conf, ConfMap, s};
use crate::model::names::{self, generated_users, secret_keys};
use crate::model::{ClusterType, Model};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One cluster as it runs locally.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    /// The fleet's name for it.
    pub name: String,
    pub dir: PathBuf,
    pub client_port: u16,
    pub mqtt_port: u16,
    pub http_port: u16,
    pub leaf_port: u16,
    /// The environment its config expects (keys from the temporary key folder).
    pub env: Vec<(String, String)>,
    /// The NACK controller's seed, to create the streams as NACK would.
    pub nack_seed: String,
    pub is_csc: bool,
    /// Leaf connections this server dials (CPC) or accepts (CSC, the sum over every CPC).
    pub leafs: usize,
    /// The NACK streams to create (streams.yaml, as JSON).
    pub streams: Vec<Value>,
}

/// The local fleet, written to disk and ready to start.
#[derive(Debug)]
pub struct Plan {
    pub dir: PathBuf,
    pub clusters: Vec<LocalCluster>,
}

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Ports nothing listens on now; all held open until every one is chosen, so none repeats.
fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// A fresh private folder under the system temporary folder, removed however natscc ends.
///
/// The normal ways out (`Running::stop`, Ctrl-C, SIGTERM, SIGHUP) remove it in process. A
/// SIGKILL runs no code of ours, so two things outside the process cover it:
/// - a watchdog (`sh`, in its own process group) reads a pipe only this process holds open; the
///   kernel closes it when natscc dies, however, and the watchdog then removes the folder;
/// - the folder holds a lock (`flock`) for as long as its owner lives; each new `natscc up`
///   first removes every `natscc-up-*` folder whose lock is free (its owner is gone), in case
///   the watchdog died with natscc (a killed cgroup, a reboot without a tmpfs /tmp).
pub fn temp_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    stop_on_hangup();
    remove_orphans();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!("natscc-up-{}-{nanos}", std::process::id());
    // Locked before it gets its name, so a sweep never sees it without an owner.
    let staging = std::env::temp_dir().join(format!(".{name}.new"));
    std::fs::create_dir(&staging)?;
    std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o700))?;
    let dir = std::env::temp_dir().join(name);
    let lock = std::fs::File::create(staging.join(LOCK_FILE))
        .and_then(|f| lock_now(&f).map(|_| f))
        .and_then(|f| std::fs::rename(&staging, &dir).map(|_| f));
    let lock = match lock {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let watchdog = watchdog(&dir);
    owned().push(Owned {
        dir: dir.clone(),
        _lock: lock,
        watchdog,
    });
    Ok(dir)
}

/// The file whose `flock` says a `natscc up` folder's owner is alive.
const LOCK_FILE: &str = ".owner.lock";

/// The folders this process made with `temp_dir`: their lock and watchdog.
struct Owned {
    dir: PathBuf,
    _lock: std::fs::File,
    watchdog: Option<(std::io::PipeWriter, Child)>,
}

fn owned() -> std::sync::MutexGuard<'static, Vec<Owned>> {
    static OWNED: std::sync::Mutex<Vec<Owned>> = std::sync::Mutex::new(Vec::new());
    OWNED.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes `f`'s exclusive lock without waiting: Ok(false) when another open file holds it.
fn lock_now(f: &std::fs::File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor this File owns.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

/// Removes the `natscc-up-*` folders of runs that are gone (their lock is free). Folders
/// without a lock file (another user's, an older natscc's) are left alone.
fn remove_orphans() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        if !e
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with("natscc-up-"))
        {
            continue;
        }
        let Ok(lock) = std::fs::File::open(e.path().join(LOCK_FILE)) else {
            continue;
        };
        if lock_now(&lock).unwrap_or(false) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A `sh` that waits for EOF on a pipe whose only writer is this process, then removes `dir`
/// (retrying while the servers, killed at the same moment, finish dying). None if it cannot
/// start: the in-process cleanup and the next run's sweep remain.
fn watchdog(dir: &Path) -> Option<(std::io::PipeWriter, Child)> {
    use std::os::unix::process::CommandExt;
    // The pipe's ends are close-on-exec: no server inherits the writer, so EOF means natscc died.
    let (reader, writer) = std::io::pipe().ok()?;
    const SCRIPT: &str = r#"trap '' HUP INT; read -r _; i=0; while [ -e "$1" ] && [ $i -lt 50 ]; do rm -rf -- "$1" 2>/dev/null || sleep 0.1; i=$((i+1)); done"#;
    let child = Command::new("/bin/sh")
        .args(["-c", SCRIPT, "natscc-up-watchdog"])
        .arg(dir)
        .current_dir("/")
        .stdin(reader)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C or a kill of natscc's group leaves it to clean up.
        .process_group(0)
        .spawn()
        .ok()?;
    Some((writer, child))
}

/// Forgets a folder `temp_dir` made (already removed): its watchdog is told and waited for.
fn release(dir: &Path) {
    let gone: Vec<Owned> = {
        let mut owned = owned();
        let (gone, keep) = std::mem::take(&mut *owned)
            .into_iter()
            .partition(|o| o.dir == dir);
        *owned = keep;
        gone
    };
    for o in gone {
        if let Some((writer, mut child)) = o.watchdog {
            drop(writer);
            let _ = child.wait();
        }
    }
}

/// SIGHUP (a closed terminal, a hangup) stops `natscc up` as SIGTERM does: the handler raises
/// SIGTERM, which `natscc up` handles (where SIGTERM is not handled, both kill the process).
fn stop_on_hangup() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the action only calls raise(3), which is async-signal-safe.
        let _ = unsafe {
            signal_hook::low_level::register(signal_hook::consts::SIGHUP, || {
                libc::raise(libc::SIGTERM);
            })
        };
    });
}

/// A password nobody types: the no-credentials user's, read by nothing but the local server.
fn random_token() -> String {
    let kp = nkeys::KeyPair::new_user();
    kp.public_key()[1..25].to_string()
}

fn user(fields: Vec<(&str, Conf)>) -> Conf {
    let mut m = ConfMap::new();
    for (k, v) in fields {
        m.set(k, v);
    }
    Conf::Map(m)
}

/// The static users that stand in for the auth callout: account -> users.
fn static_users(m: &Model) -> Vec<(String, Conf)> {
    let mut out: Vec<(String, Conf)> = generated_users(m)
        .into_iter()
        .map(|u| (u.account, user(vec![("nkey", Conf::Var(u.pubkey_env))])))
        .collect();
    for id in &m.permissions.nkey {
        let (Some(account), Some(key)) = (
            &id.account,
            id.node.get("public_key").and_then(|k| k.as_str()),
        ) else {
            continue;
        };
        let key = match key.strip_prefix("${").and_then(|k| k.strip_suffix('}')) {
            Some(var) => Conf::Var(var.to_string()),
            None => s(key),
        };
        let mut fields = vec![("nkey", key)];
        if let Some(p) = id.node.get("permissions") {
            fields.push(("permissions", conf::from_values(p)));
        }
        out.push((account.value.clone(), user(fields)));
    }
    if let Some(n) = &m.permissions.noauth
        && let Some(account) = &n.account
    {
        let mut fields = vec![("user", s("noauth")), ("password", s(random_token()))];
        if let Some(p) = n.node.get("permissions") {
            fields.push(("permissions", conf::from_values(p)));
        }
        out.push((account.value.clone(), user(fields)));
    }
    out
}

/// Adds users to whichever of the account maps holds each account.
fn add_users(maps: &mut [&mut ConfMap], users: &[(String, Conf)]) {
    for (account, u) in users {
        for accounts in maps.iter_mut() {
            let Some(Conf::Map(body)) = accounts.get_mut(account) else {
                continue;
            };
            match body.get_mut("users") {
                Some(Conf::List(list)) => list.push(u.clone()),
                _ => {
                    body.set("users", Conf::List(vec![u.clone()]));
                }
            }
            break;
        }
    }
}

fn block<'a>(root: &'a mut ConfMap, key: &str) -> Option<&'a mut ConfMap> {
    match root.get_mut(key) {
        Some(Conf::Map(m)) => Some(m),
        _ => None,
    }
}

/// A compiled ConfigMap file of the bus, read back.
fn bus_file(m: &Model, cm: &str, key: &str) -> ConfMap {
    let text = m
        .bus
        .config_map(cm)
        .and_then(|c| c.data.get(key))
        .map(String::as_str)
        .unwrap_or("");
    crate::natsconf::parse_conf(text).unwrap_or_default()
}

/// `include ../nats-accounts/accounts.conf` -> `include accounts.conf`: a local run keeps
/// one server's files in one folder.
fn flatten_includes(m: &mut ConfMap) {
    for item in &mut m.items {
        match item {
            crate::conf::Item::Include(p) => *p = p.rsplit('/').next().unwrap_or(p).to_string(),
            crate::conf::Item::Kv(_, Conf::Map(sub)) => flatten_includes(sub),
            _ => {}
        }
    }
}

/// The three config files of one cluster's main server, overlaid for a local run.
pub fn local_configs(
    m: &Model,
    lc: &LocalCluster,
    csc_leaf_port: u16,
) -> (ConfMap, ConfMap, ConfMap) {
    let path = |p: &str| s(lc.dir.join(p).display().to_string());
    // The chart's configs as compiled; their includes name the files beside them here.
    let mut main = m.bus.nats.rendered.conf.clone();
    flatten_includes(&mut main);
    main.set("server_name", s(lc.name.clone()));
    main.set("pid_file", path("nats.pid"));
    main.set("host", s("127.0.0.1"));
    main.set("port", Conf::Int(lc.client_port.into()));
    main.remove("http_port");
    main.set("http", s(format!("127.0.0.1:{}", lc.http_port)));
    // One replica, no TLS: certificates are the PKI's business, not a local dry run's.
    for key in ["cluster", "tls", "websocket", "authorization"] {
        main.remove(key);
    }
    let noauth = m
        .permissions
        .noauth
        .as_ref()
        .and_then(|n| n.account.as_ref())
        .is_some();
    if noauth {
        main.set("no_auth_user", s("noauth"));
    }
    if let Some(js) = block(&mut main, "jetstream") {
        js.set("store_dir", path("jetstream"));
    }
    if let Some(mq) = block(&mut main, "mqtt") {
        mq.set("host", s("127.0.0.1"));
        mq.set("port", Conf::Int(lc.mqtt_port.into()));
        mq.set("stream_replicas", Conf::Int(1));
        mq.remove("tls");
        if noauth {
            mq.set("no_auth_user", s("noauth"));
        }
    }
    if let Some(lf) = block(&mut main, "leafnodes") {
        lf.set("host", s("127.0.0.1"));
        lf.set("port", Conf::Int(lc.leaf_port.into()));
        lf.remove("tls");
    }
    let mut accounts = bus_file(m, "nats-accounts-config", "accounts.conf");
    let users = static_users(m);
    {
        let mut main_accounts =
            std::mem::take(block(&mut main, "accounts").expect("every main config has accounts"));
        add_users(&mut [&mut main_accounts, &mut accounts], &users);
        main.set("accounts", Conf::Map(main_accounts));
    }
    let mut leaf = bus_file(m, "nats-leafnodes-config", "leafnodes.conf");
    leaf.remove("tls");
    if let Some(Conf::List(remotes)) = leaf.get_mut("remotes") {
        for r in remotes.iter_mut() {
            if let Conf::Map(r) = r {
                // The chart lists the CSC's endpoint under `urls`; the server dials `url` and
                // `urls` alike, so the cluster's address must go for the local one to be used.
                r.remove("url");
                r.set(
                    "urls",
                    Conf::List(vec![s(format!("nats://127.0.0.1:{csc_leaf_port}"))]),
                );
                r.remove("tls");
            }
        }
    }
    (main, accounts, leaf)
}

/// Every env var a cluster's main server reads, from the generated key folder.
fn cluster_env(m: &Model, keys: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut env = vec![];
    for k in secret_keys(m) {
        for (var, consumer) in &k.envs {
            if (*consumer == names::NATS || *consumer == names::AUTH_CALLOUT)
                && !env.iter().any(|(v, _)| v == var)
            {
                let file = keys.join(&k.secret).join(&k.key);
                if let Ok(text) = std::fs::read_to_string(&file) {
                    env.push((var.clone(), text.trim().to_string()));
                }
            }
        }
    }
    Ok(env)
}

/// Writes keys and configs for every cluster of the fleet into `dir`. Works on any fleet with
/// a CSC (checked or not), so tests can also start what natscc would refuse.
pub fn plan(fleet: &Fleet, dir: &Path) -> std::io::Result<Plan> {
    let (_, cm) = fleet
        .csc()
        .ok_or_else(|| io("the fleet needs exactly one CSC"))?;
    let cpc_ids: Vec<String> = fleet
        .of_type(ClusterType::Cpc)
        .map(|(_, m)| m.id().to_string())
        .collect();
    let extra: Vec<String> = cm
        .extra_accounts
        .iter()
        .map(|a| a.name.value.clone())
        .collect();
    let keys = dir.join("keys");
    crate::keys::generate(&keys, &cpc_ids, &extra)?;
    let models: Vec<(&str, &Model)> = fleet
        .clusters
        .iter()
        .filter_map(|c| c.model.as_ref().map(|m| (c.name(), m)))
        .collect();
    let ports = free_ports(models.len() * 4)?;
    let mut clusters = vec![];
    let mut csc_leafs = 0;
    for (i, (name, m)) in models.iter().enumerate() {
        let cdir = dir.join(name);
        std::fs::create_dir_all(&cdir)?;
        let key_dir = keys.join(m.cluster_name());
        let mut env = cluster_env(m, &key_dir)?;
        // What the pod takes from nats-env-config (cluster name, JetStream domain).
        if let Some(cm) = m.bus.config_map("nats-env-config") {
            env.extend(cm.data.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let nack_seed = std::fs::read_to_string(key_dir.join("nats-nack-user/nack-user.nk"))?
            .trim()
            .to_string();
        let leafs = if m.is_cpc() {
            1 + m.extra_accounts.len()
        } else {
            0
        };
        csc_leafs += leafs;
        clusters.push(LocalCluster {
            name: name.to_string(),
            dir: cdir,
            client_port: ports[4 * i],
            mqtt_port: ports[4 * i + 1],
            http_port: ports[4 * i + 2],
            leaf_port: ports[4 * i + 3],
            env,
            nack_seed,
            is_csc: !m.is_cpc(),
            leafs,
            streams: crate::emit::k8s::streams(m),
        });
    }
    let csc_leaf_port = clusters
        .iter()
        .find(|c| c.is_csc)
        .map(|c| c.leaf_port)
        .unwrap_or(0);
    for (lc, (_, m)) in clusters.iter_mut().zip(&models) {
        if lc.is_csc {
            lc.leafs = csc_leafs;
        }
        let (main, accounts, leaf) = local_configs(m, lc, csc_leaf_port);
        let header = "Written by natscc up: a local overlay of the compiled config (loopback, free ports, no TLS, static users).";
        std::fs::write(lc.dir.join("nats.conf"), conf::print(header, &main))?;
        std::fs::write(lc.dir.join("accounts.conf"), conf::print(header, &accounts))?;
        std::fs::write(lc.dir.join("leafnodes.conf"), conf::print(header, &leaf))?;
        let mut vars = vec![];
        for c in [&main, &accounts, &leaf] {
            crate::emit::k8s::variables(c, &mut vars);
        }
        if let Some(missing) = vars.iter().find(|v| !lc.env.iter().any(|(n, _)| n == *v)) {
            return Err(io(format!("{}: no local value for ${missing}", lc.name)));
        }
    }
    Ok(Plan {
        dir: dir.to_path_buf(),
        clusters,
    })
}

/// The nats-server binary: NATS_SERVER_BIN, else the first on PATH.
pub fn server_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
}

/// The servers of a plan, running. Dropping it stops them and removes the plan's folder.
pub struct Running {
    pub plan: Plan,
    children: Vec<(String, Child)>,
}

impl Running {
    /// A server that has exited, with the tail of its log.
    pub fn exited(&mut self) -> Option<String> {
        for (name, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                let log =
                    std::fs::read_to_string(self.plan.dir.join(name.as_str()).join("server.log"))
                        .unwrap_or_default();
                let tail: Vec<&str> = log
                    .lines()
                    .rev()
                    .take(8)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                return Some(format!(
                    "the server of {name} exited ({status}):\n{}",
                    tail.join("\n")
                ));
            }
        }
        None
    }

    pub fn stop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
        }
        for (_, child) in &mut self.children {
            let _ = child.wait();
        }
        self.children.clear();
        let _ = std::fs::remove_dir_all(&self.plan.dir);
        release(&self.plan.dir);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(server: &Path, lc: &LocalCluster) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let log = std::fs::File::create(lc.dir.join("server.log"))?;
    let mut cmd = Command::new(server);
    cmd.args(["-c", "nats.conf"])
        .current_dir(&lc.dir)
        .envs(lc.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: a Ctrl-C reaches natscc, which stops the servers in order.
        .process_group(0);
    die_with_parent(&mut cmd);
    cmd.spawn()
}

/// The child gets SIGKILL when the thread that started it dies, however it dies (even by
/// SIGKILL, which runs none of natscc's cleanup). Linux only; elsewhere only the in-process
/// stop covers the servers.
#[cfg(target_os = "linux")]
fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: prctl, getppid and raise are async-signal-safe and allocate nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // natscc died between fork and prctl: the signal will never come, so go now.
            if libc::getppid() != parent {
                libc::raise(libc::SIGKILL);
            }
            Ok(())
        })
    };
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}

fn wait_until(
    deadline: Instant,
    stop: &AtomicBool,
    running: &mut Running,
    what: &str,
    mut ready: impl FnMut() -> bool,
) -> Result<(), String> {
    loop {
        if ready() {
            return Ok(());
        }
        if stop.load(Ordering::Relaxed) {
            return Err("stopped by a signal".into());
        }
        if let Some(e) = running.exited() {
            return Err(e);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn healthy(port: u16) -> bool {
    http_get(port, "/healthz", Duration::from_millis(500)).is_ok_and(|(code, _)| code == 200)
}

fn leaf_count(port: u16) -> usize {
    http_get(port, "/leafz", Duration::from_millis(500))
        .ok()
        .and_then(|(_, body)| serde_json::from_str::<Value>(&body).ok())
        .and_then(|v| v["leafnodes"].as_u64())
        .unwrap_or(0) as usize
}

/// Starts the CSC, then every CPC, and waits for every leaf connection. The servers die with
/// the calling thread (PR_SET_PDEATHSIG), so call it from one that outlives `Running`.
pub fn start(
    plan: Plan,
    server: &Path,
    deadline: Instant,
    stop: &AtomicBool,
) -> Result<Running, String> {
    stop_on_hangup();
    let mut running = Running {
        plan,
        children: vec![],
    };
    let order: Vec<LocalCluster> = {
        let mut v = running.plan.clusters.clone();
        v.sort_by_key(|c| !c.is_csc);
        v
    };
    for lc in &order {
        let child =
            spawn(server, lc).map_err(|e| format!("cannot start {}: {e}", server.display()))?;
        running.children.push((lc.name.clone(), child));
        // The CSC first and healthy, so each CPC's first leaf attempt succeeds.
        if lc.is_csc {
            wait_until(
                deadline,
                stop,
                &mut running,
                &format!("{} to start", lc.name),
                || healthy(lc.http_port),
            )?;
        }
    }
    for lc in &order {
        wait_until(
            deadline,
            stop,
            &mut running,
            &format!("{} to start", lc.name),
            || healthy(lc.http_port),
        )?;
    }
    for lc in &order {
        wait_until(
            deadline,
            stop,
            &mut running,
            &format!(
                "the leaf connections of {} ({} expected)",
                lc.name, lc.leafs
            ),
            || leaf_count(lc.http_port) >= lc.leafs,
        )?;
    }
    Ok(running)
}

/// Parses a Go duration (`3h`, `1h30m`, `90s`, `500ms`) to nanoseconds.
pub fn duration_nanos(text: &str) -> Option<i64> {
    let mut total: f64 = 0.0;
    let mut rest = text.trim();
    if rest == "0" {
        return Some(0);
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += n * mult;
        rest = &rest[unit_len..];
    }
    Some(total as i64)
}

/// A NACK Stream spec as the JetStream API's stream configuration.
pub fn stream_config(spec: &Value) -> Value {
    let mut c = json!({
        "name": spec["name"],
        "subjects": spec["subjects"],
        "retention": spec["retention"],
        "discard": spec["discard"],
        "storage": spec["storage"],
        "num_replicas": 1,
        "max_bytes": spec["maxBytes"],
    });
    if let Some(age) = spec["maxAge"].as_str().and_then(duration_nanos) {
        c["max_age"] = json!(age);
    }
    if let Some(n) = spec["maxMsgsPerSubject"].as_i64() {
        c["max_msgs_per_subject"] = json!(n);
    }
    if let Some(sources) = spec["sources"].as_array() {
        c["sources"] = sources
            .iter()
            .map(|src| {
                let mut out = json!({"name": src["name"]});
                if src.get("externalApiPrefix").is_some() {
                    out["external"] = json!({"api": src["externalApiPrefix"], "deliver": src["externalDeliverPrefix"]});
                }
                let transforms: Vec<Value> =
                    src["subjectTransforms"].as_array().into_iter().flatten().map(|t| json!({"src": t["source"], "dest": t["dest"]})).collect();
                if !transforms.is_empty() {
                    out["subject_transforms"] = Value::Array(transforms);
                }
                out
            })
            .collect();
    }
    c
}

/// Creates every stream of every cluster (the CSC's first: the CPCs' streams source them).
pub fn create_streams(plan: &Plan) -> Result<(), String> {
    let mut order: Vec<&LocalCluster> = plan.clusters.iter().collect();
    order.sort_by_key(|c| !c.is_csc);
    for lc in order {
        let mut conn =
            Conn::connect(lc.client_port, Some(&lc.nack_seed), Duration::from_secs(2))
                .map_err(|e| format!("{}: cannot connect as nack-controller: {e}", lc.name))?;
        for spec in &lc.streams {
            let cfg = stream_config(&spec["spec"]);
            let name = cfg["name"].as_str().unwrap_or_default().to_string();
            let reply = conn
                .request(
                    &format!("$JS.API.STREAM.CREATE.{name}"),
                    cfg.to_string().as_bytes(),
                    Duration::from_secs(3),
                )
                .map_err(|e| format!("{}: creating stream {name}: {e}", lc.name))?;
            let reply: Value = serde_json::from_slice(&reply)
                .map_err(|e| format!("{}: stream {name}: bad reply: {e}", lc.name))?;
            if let Some(e) = reply.get("error") {
                return Err(format!(
                    "{}: the server refused stream {name}: {}",
                    lc.name,
                    e["description"].as_str().unwrap_or("unknown error")
                ));
            }
        }
    }
    Ok(())
}

/// The line `natscc up` prints per cluster.
pub fn address_line(lc: &LocalCluster) -> String {
    format!(
        "cluster={} nats=nats://127.0.0.1:{} mqtt=127.0.0.1:{}",
        lc.name, lc.client_port, lc.mqtt_port
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_durations() {
        assert_eq!(super::duration_nanos("3h"), Some(3 * 3600 * 1_000_000_000));
        assert_eq!(
            super::duration_nanos("1h30m"),
            Some(90 * 60 * 1_000_000_000)
        );
        assert_eq!(super::duration_nanos("500ms"), Some(500_000_000));
        assert_eq!(super::duration_nanos("3x"), None);
    }
}
