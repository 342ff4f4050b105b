//! `natscc up`: the whole fleet on this machine, as production runs it. For every cluster, its
//! `nats` servers (one per replica, routed to each other), its `nats-mtls` server when mTLS is
//! on, and its auth callout, each from the very files `compile` writes, laid out as the pods
//! mount them, with only the rewrites of [`super::overlay`] (loopback addresses, free ports,
//! routes, leaf remotes, certificate and file paths). The environment is what each pod gets
//! (env.yaml): ConfigMap values, keys generated into the temporary folder as `natscc keys`
//! generates them, the pod's name. A local CA ([`super::pki`]) issues every certificate the
//! configs name and one per mTLS identity. `start` returns once everything is ready: every
//! route and leaf connection up, JetStream current, every NACK stream created and every stream
//! source active.

use super::Fleet;
use super::callout::CalloutPlan;
use super::nats::http_get;
use super::overlay::{self, Addresses};
use super::pki::{self, LocalCa};
use crate::bus::Bus;
use crate::conf::{self, Conf, ConfMap};
use crate::model::{ClusterType, Model};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub use super::cleanup::temp_dir;
pub use super::jetstream::{duration_nanos, stream_config};

/// One nats-server process: a pod of a cluster's `nats` or `nats-mtls` StatefulSet.
#[derive(Debug, Clone)]
pub struct LocalServer {
    pub cluster: String,
    /// The pod's name: `nats-0`, `nats-1`, ..., `nats-mtls-0`.
    pub pod: String,
    /// `nats` or `nats-mtls`.
    pub release: &'static str,
    /// The pod folder: its mounts (`nats-config/nats.conf`, `nats-accounts/...`), its
    /// certificates, its JetStream store and its log.
    pub dir: PathBuf,
    pub addr: Addresses,
    /// The environment its container gets.
    pub env: Vec<(String, String)>,
    /// Leaf connections it dials (one per remote).
    pub remotes: usize,
    /// Replicas of its release (routes it expects: replicas - 1).
    pub replicas: usize,
    /// The nats-server release its image runs.
    pub version: crate::server_version::Version,
}

impl LocalServer {
    pub fn config(&self) -> PathBuf {
        self.dir.join("nats-config/nats.conf")
    }
    fn label(&self) -> String {
        format!("{}/{}", self.cluster, self.pod)
    }
}

/// A token file for one OAuth2 identity of the values, minted by the run's issuer.
#[derive(Debug, Clone)]
pub struct Token {
    pub identity: String,
    /// The JWT (0600): present it as the CONNECT `auth_token`, or as the password of the user
    /// `oauthtoken` (MQTT too).
    pub file: PathBuf,
}

/// A client certificate for one mTLS identity of the values.
#[derive(Debug, Clone)]
pub struct ClientCert {
    pub identity: String,
    pub subject: String,
    /// Holds tls.crt, tls.key, ca.crt.
    pub dir: PathBuf,
}

/// One cluster as it runs locally.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    /// The fleet's name for it.
    pub name: String,
    pub dir: PathBuf,
    pub is_csc: bool,
    /// Its `nats` servers, then its `nats-mtls` server.
    pub servers: Vec<LocalServer>,
    pub callout: CalloutPlan,
    /// The NACK controller's seed, to create the streams as NACK would.
    pub nack_seed: String,
    /// The NACK streams to create (streams.yaml, as JSON).
    pub streams: Vec<Value>,
    /// Leaf connections its `nats` servers accept, in all.
    pub accepts: usize,
    pub clients: Vec<ClientCert>,
    pub tokens: Vec<Token>,
    /// The servers' certificate SANs of the mTLS instance (the fleet file's, else the defaults).
    pub mtls_sans: Vec<String>,
}

impl LocalCluster {
    /// Creates the cluster's streams as NACK would and waits until every source is active.
    fn create_streams(&self, deadline: Instant) -> Result<(), String> {
        super::jetstream::create_and_wait(
            &self.name,
            self.client_port(),
            &self.nack_seed,
            &self.streams,
            deadline,
        )
    }

    pub fn nats(&self) -> impl Iterator<Item = &LocalServer> {
        self.servers.iter().filter(|s| s.release == "nats")
    }
    pub fn mtls(&self) -> Option<&LocalServer> {
        self.servers.iter().find(|s| s.release == "nats-mtls")
    }
    /// The first `nats` server's client port.
    pub fn client_port(&self) -> u16 {
        self.nats().next().map(|s| s.addr.client).unwrap_or(0)
    }
}

/// The local fleet, written to disk and ready to start.
#[derive(Debug)]
pub struct Plan {
    pub dir: PathBuf,
    pub clusters: Vec<LocalCluster>,
    /// The local CA's certificate.
    pub ca: PathBuf,
    /// What issues the run's certificates and tokens, kept for clusters added while it runs.
    authority: Authority,
}

/// The run's CA and OAuth2 issuer (made when a cluster first needs one).
struct Authority {
    ca: LocalCa,
    issuer: Option<crate::callout::LocalIssuer>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Private keys are never printed.
        f.write_str("Authority { .. }")
    }
}

impl Plan {
    /// The cluster named `name`, by index.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.clusters.iter().position(|c| c.name == name)
    }

    /// The leaf listeners of the CSC's `nats` servers: what a CPC's remotes dial.
    fn csc_leafs(&self) -> Vec<String> {
        self.clusters
            .iter()
            .filter(|c| c.is_csc)
            .flat_map(|c| c.nats().map(|s| format!("127.0.0.1:{}", s.addr.leaf)))
            .collect()
    }

    /// Counts again the leaf connections each cluster accepts (a cluster came or went): a
    /// CPC's `nats` servers dial the CSC, a `nats-mtls` server its own cluster.
    fn count_accepts(&mut self) {
        let csc = self.clusters.iter().position(|c| c.is_csc);
        let mut accepts = vec![0; self.clusters.len()];
        for (ci, c) in self.clusters.iter().enumerate() {
            for s in &c.servers {
                match (s.release, c.is_csc, csc) {
                    ("nats", true, _) => {}
                    ("nats", false, Some(csc)) => accepts[csc] += s.remotes,
                    ("nats", false, None) => {}
                    _ => accepts[ci] += s.remotes,
                }
            }
        }
        for (c, n) in self.clusters.iter_mut().zip(accepts) {
            c.accepts = n;
        }
    }
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

/// Replicas of a release: the chart lists one route per replica (none without a cluster).
fn replicas(conf: &ConfMap) -> usize {
    match conf.get("cluster") {
        Some(Conf::Map(c)) => match c.get("routes") {
            Some(Conf::List(r)) if !r.is_empty() => r.len(),
            _ => 1,
        },
        _ => 1,
    }
}

/// Leaf remotes of a config with its includes inlined.
fn remote_count(resolved: &ConfMap) -> usize {
    match resolved.get("leafnodes") {
        Some(Conf::Map(l)) => match l.get("remotes") {
            Some(Conf::List(r)) => r.len(),
            _ => 0,
        },
        _ => 0,
    }
}

/// The value of one env.yaml entry, as the pod would get it.
fn env_value(
    m: &Model,
    bus: &Bus,
    keys: &Path,
    pod: &str,
    entry: &Value,
    ca: &Path,
) -> std::io::Result<Option<(String, String)>> {
    let name = entry["name"].as_str().unwrap_or_default().to_string();
    if let Some(v) = entry.get("value") {
        let v = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // The only path the pods' env names: the callout's mTLS CA, the local CA here.
        let v = if name == "AUTH_CALLOUT_MTLS_CA_PATH" {
            ca.display().to_string()
        } else {
            v
        };
        return Ok(Some((name, v)));
    }
    let from = &entry["valueFrom"];
    if let Some(r) = from.get("secretKeyRef") {
        let (secret, key) = (
            r["name"].as_str().unwrap_or_default(),
            r["key"].as_str().unwrap_or_default(),
        );
        let text = crate::input::read_text(&keys.join(secret).join(key)).map_err(|e| {
            io(format!(
                "{}: no local value for ${name} (Secret {secret}, key {key}): {e}",
                m.cluster_name()
            ))
        })?;
        return Ok(Some((name, text.trim().to_string())));
    }
    if let Some(r) = from.get("configMapKeyRef") {
        let (cm, key) = (
            r["name"].as_str().unwrap_or_default(),
            r["key"].as_str().unwrap_or_default(),
        );
        let v = bus
            .config_map(cm)
            .and_then(|c| c.data.get(key))
            .ok_or_else(|| io(format!("{}: no ConfigMap key {cm}/{key}", m.cluster_name())))?;
        return Ok(Some((name, v.clone())));
    }
    if from["fieldRef"]["fieldPath"] == "metadata.name" {
        return Ok(Some((name, pod.to_string())));
    }
    Ok(None)
}

/// Every variable of a container's env.yaml section.
fn container_env(
    m: &Model,
    bus: &Bus,
    env_doc: &Value,
    container: &str,
    keys: &Path,
    pod: &str,
    ca: &Path,
) -> std::io::Result<Vec<(String, String)>> {
    let mut out = vec![];
    for e in env_doc[container].as_array().into_iter().flatten() {
        if let Some(kv) = env_value(m, bus, keys, pod, e, ca)? {
            out.push(kv);
        }
    }
    Ok(out)
}

/// The certificates one pod's rewritten configs name: every `tls` block's files, issued once
/// per path (server certificates for listeners and leaf connections, the CA for `ca_file`).
fn issue_certs(
    ca: &LocalCa,
    conf: &ConfMap,
    sans: &[String],
    done: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    fn walk(c: &ConfMap, out: &mut Vec<ConfMap>) {
        for item in &c.items {
            let conf::Item::Kv(k, v) = item else { continue };
            if let (true, Conf::Map(t)) = (k == "tls", v) {
                out.push(t.clone());
            }
            walk_conf(v, out);
        }
    }
    fn walk_conf(c: &Conf, out: &mut Vec<ConfMap>) {
        match c {
            Conf::Map(m) => walk(m, out),
            Conf::List(l) => l.iter().for_each(|x| walk_conf(x, out)),
            _ => {}
        }
    }
    let mut blocks = vec![];
    walk(conf, &mut blocks);
    let path = |t: &ConfMap, k: &str| match t.get(k) {
        Some(Conf::Str(p)) => Some(PathBuf::from(p)),
        _ => None,
    };
    for t in blocks {
        if let Some(p) = path(&t, "ca_file").filter(|p| !done.contains(p)) {
            pki::write_private(&p, &ca.cert_pem)?;
            done.push(p);
        }
        if let (Some(c), Some(k)) = (path(&t, "cert_file"), path(&t, "key_file"))
            && !done.contains(&c)
        {
            let issued = ca.server(sans)?;
            pki::write_private(&c, &issued.cert_pem)?;
            pki::write_private(&k, &issued.key_pem)?;
            done.push(c);
            done.push(k);
        }
    }
    Ok(())
}

/// The run's OAuth2 issuer for a cluster with OAuth2 identities or a JWKS URL: one signing key
/// per run (RS256, the chart's default), its JWKS, the callout pointed at it, and a token per
/// identity (valid a day), written 0600.
fn oauth2(
    m: &Model,
    callout: &mut CalloutPlan,
    dir: &Path,
    cdir: &Path,
    issuer: &mut Option<crate::callout::LocalIssuer>,
) -> std::io::Result<Vec<Token>> {
    use crate::callout::config::Settings;
    let mut settings = Settings::defaults();
    settings
        .merge_file(&callout.dir.join("config.yaml"))
        .map_err(|e| {
            io(format!(
                "{}: auth-callout config.yaml: {}",
                m.cluster_name(),
                e
            ))
        })?;
    if m.permissions.oauth2.is_empty() && settings.get("jwks.url").is_empty() {
        return Ok(vec![]);
    }
    let local = |e: crate::callout::CalloutError| io(format!("local OAuth2 issuer: {}", e));
    let jwks = dir.join("oauth2/jwks.json");
    if issuer.is_none() {
        let i = crate::callout::LocalIssuer::generate("RS256").map_err(local)?;
        std::fs::create_dir_all(dir.join("oauth2"))?;
        i.write_jwks(&jwks).map_err(local)?;
        *issuer = Some(i);
    }
    let Some(i) = issuer.as_ref() else {
        return Ok(vec![]);
    };
    let or = |v: &str, d: &str| {
        if v.is_empty() {
            d.to_string()
        } else {
            v.to_string()
        }
    };
    let o = super::callout::OAuth2 {
        jwks,
        issuer: or(settings.get("jwks.issuer"), "natscc-local"),
        audience: or(settings.get("jwks.audience"), "natscc"),
    };
    let env: std::collections::BTreeMap<String, String> = callout.env.iter().cloned().collect();
    let perms = crate::callout::Permissions::load(&callout.dir.join("permissions.json"), &env)
        .map_err(|e| io(format!("{}: permissions.json: {e}", m.cluster_name())))?;
    let mut tokens = vec![];
    for id in &m.permissions.oauth2 {
        let jwt = i
            .mint(
                &perms,
                &id.name.value,
                &o.issuer,
                &o.audience,
                Duration::from_secs(24 * 3600),
            )
            .map_err(local)?;
        let file = cdir.join("clients").join(&id.name.value).join("token");
        pki::write_private(&file, &jwt)?;
        tokens.push(Token {
            identity: id.name.value.clone(),
            file,
        });
    }
    callout.oauth2 = Some(o);
    Ok(tokens)
}

/// Reads a running config back with its includes inlined, as nats-server reads it.
pub fn read_config(path: &Path) -> Result<ConfMap, String> {
    let text = crate::input::read_text(path).map_err(|e| format!("{}: {e}", path.display()))?;
    crate::natsconf::parse_with(
        &path.display().to_string(),
        &text,
        &crate::natsconf::FsReader,
        crate::natsconf::Options::default(),
    )
    .map(|p| p.root.to_conf())
    .map_err(|(e, _)| format!("{}: {e:?}", path.display()))
}

/// Ports per server: client, http, cluster, leaf, mqtt, websocket, gateway.
const PORTS: usize = 7;

/// Writes keys, certificates, configs and callout files for every cluster of the fleet into
/// `dir`. Works on any fleet with a CSC (checked or not), so tests can also start what natscc
/// would refuse.
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
    let ca = LocalCa::new()?;
    let ca_file = dir.join("ca/ca.crt");
    pki::write_private(&ca_file, &ca.cert_pem)?;

    // Every server of every cluster first, with its ports, so remotes know whom to dial.
    let models: Vec<(&str, &Model, &Bus, Option<&super::MtlsFacts>)> = fleet
        .clusters
        .iter()
        .filter_map(|c| {
            let (m, bus) = (c.model.as_ref()?, c.bus.as_ref()?);
            Some((c.name(), m, bus, c.spec.mtls.as_ref()))
        })
        .collect();
    let mut pods = vec![];
    for (ci, (_, _, bus, _)) in models.iter().enumerate() {
        pods.extend(pods_of(ci, bus));
    }
    let csc_index = models
        .iter()
        .position(|(_, m, _, _)| !m.is_cpc())
        .ok_or_else(|| io("the fleet needs exactly one CSC"))?;
    let mut run = Run {
        dir,
        keys,
        ports: free_ports(pods.len() * PORTS)?,
        pods,
        csc_leafs: vec![],
        ca: &ca,
        ca_file: ca_file.clone(),
    };
    run.csc_leafs = run.leaf_of(csc_index);
    let mut issuer = None;
    let mut clusters: Vec<LocalCluster> = vec![];
    for (ci, (name, m, bus, mtls_facts)) in models.iter().enumerate() {
        clusters.push(run.cluster(ci, name, m, bus, *mtls_facts, &mut issuer)?);
    }
    drop(run);
    let mut plan = Plan {
        dir: dir.to_path_buf(),
        clusters,
        ca: ca_file,
        authority: Authority { ca, issuer },
    };
    plan.count_accepts();
    Ok(plan)
}

/// The pods of cluster `ci`: each release's replicas.
fn pods_of(ci: usize, bus: &Bus) -> Vec<Pod<'_>> {
    let mut pods = vec![];
    for i in bus.instances() {
        let n = replicas(&i.rendered.conf);
        for ordinal in 0..n {
            pods.push(Pod {
                cluster: ci,
                release: i.release,
                ordinal,
                replicas: n,
                instance: i,
            });
        }
    }
    pods
}

/// Adds a cluster to a running plan, as `helm install` adds a release: its keys (and its
/// leaf keys on the CSC's side), free ports, its pods' files and environment, its callout,
/// its clients. Its CPC servers dial the CSC's running leaf listeners. Returns its index;
/// [`Running::start_cluster`] starts it.
pub fn add_cluster(
    plan: &mut Plan,
    name: &str,
    (m, bus): (&Model, &Bus),
    mtls_facts: Option<&super::MtlsFacts>,
    csc_extra_accounts: &[String],
) -> std::io::Result<usize> {
    if plan.index(name).is_some() {
        return Err(io(format!("{name} already runs")));
    }
    if !m.is_cpc() && plan.clusters.iter().any(|c| c.is_csc) {
        return Err(io(format!("{name}: the fleet already runs a CSC")));
    }
    let keys = plan.dir.join("keys");
    let ids: Vec<String> = m.is_cpc().then(|| m.id().to_string()).into_iter().collect();
    crate::keys::generate(&keys, &ids, csc_extra_accounts)?;
    let pods = pods_of(0, bus);
    let dir = plan.dir.clone();
    let run = Run {
        dir: &dir,
        keys,
        ports: free_ports(pods.len() * PORTS)?,
        pods,
        csc_leafs: plan.csc_leafs(),
        ca: &plan.authority.ca,
        ca_file: plan.ca.clone(),
    };
    let made = run.cluster(0, name, m, bus, mtls_facts, &mut plan.authority.issuer)?;
    plan.clusters.push(made);
    plan.count_accepts();
    Ok(plan.clusters.len() - 1)
}

/// Makes sure the run's key folder holds every key a fleet of these CPCs needs (a CPC added
/// to the CSC's `cpcIds`: its leaf key pair); keys that exist are kept.
pub fn ensure_keys(plan: &Plan, cpc_ids: &[String], extra: &[String]) -> std::io::Result<()> {
    crate::keys::generate(&plan.dir.join("keys"), cpc_ids, extra).map(|_| ())
}

/// One server of the run: its cluster (an index into the fleet's), release and replica.
struct Pod<'a> {
    cluster: usize,
    release: &'static str,
    ordinal: usize,
    replicas: usize,
    instance: &'a crate::bus::Instance,
}

/// What every cluster of a run shares: its folder, keys, pods and their ports, the CSC's
/// leaf listeners, and its CA.
struct Run<'a> {
    dir: &'a Path,
    keys: PathBuf,
    pods: Vec<Pod<'a>>,
    ports: Vec<u16>,
    csc_leafs: Vec<String>,
    ca: &'a LocalCa,
    ca_file: PathBuf,
}

impl Run<'_> {
    /// Port `k` (client, http, cluster, leaf, mqtt, websocket, gateway) of pod `pi`.
    fn port(&self, pi: usize, k: usize) -> u16 {
        self.ports[pi * PORTS + k]
    }

    /// The leaf listeners of a cluster's `nats` pods.
    fn leaf_of(&self, ci: usize) -> Vec<String> {
        self.pods
            .iter()
            .enumerate()
            .filter(|(_, p)| p.cluster == ci && p.release == "nats")
            .map(|(pi, _)| format!("127.0.0.1:{}", self.port(pi, 3)))
            .collect()
    }

    /// One cluster: its pods' files and environment, its auth callout, its clients.
    fn cluster(
        &self,
        ci: usize,
        name: &str,
        m: &Model,
        bus: &Bus,
        mtls_facts: Option<&super::MtlsFacts>,
        issuer: &mut Option<crate::callout::LocalIssuer>,
    ) -> std::io::Result<LocalCluster> {
        let dir = self.dir;
        let cdir = dir.join(name);
        std::fs::create_dir_all(&cdir)?;
        let key_dir = self.keys.join(m.cluster_name());
        let env_doc = env_doc(m, bus);
        let mtls_sans: Vec<String> = mtls_facts
            .map(|f| f.sans.iter().map(|s| s.value.clone()).collect())
            .filter(|v: &Vec<String>| !v.is_empty())
            .unwrap_or_else(|| vec!["localhost".into(), "127.0.0.1".into()]);
        let mut servers = vec![];
        for (pi, p) in self
            .pods
            .iter()
            .enumerate()
            .filter(|(_, p)| p.cluster == ci)
        {
            servers.push(self.server(
                pi,
                p,
                name,
                (m, bus),
                &cdir,
                &key_dir,
                &env_doc,
                &mtls_sans,
            )?);
        }
        let mut callout = callout_plan(
            (m, bus),
            name,
            &cdir,
            &env_doc,
            &key_dir,
            &self.ca_file,
            &servers,
        )?;
        let tokens = oauth2(m, &mut callout, dir, &cdir, issuer)?;
        let clients = client_certs(m, &cdir, self.ca)?;
        let nack_seed = crate::input::read_text(&key_dir.join("nats-nack-user/nack-user.nk"))?
            .trim()
            .to_string();
        Ok(LocalCluster {
            name: name.to_string(),
            dir: cdir,
            is_csc: !m.is_cpc(),
            servers,
            callout,
            nack_seed,
            streams: crate::emit::k8s::streams(m),
            accepts: 0,
            clients,
            tokens,
            mtls_sans,
        })
    }

    /// One pod: its addresses, its files as compile writes them (each rewritten), its
    /// environment.
    #[allow(clippy::too_many_arguments)]
    fn server(
        &self,
        pi: usize,
        p: &Pod,
        name: &str,
        (m, bus): (&Model, &Bus),
        cdir: &Path,
        key_dir: &Path,
        env_doc: &Value,
        mtls_sans: &[String],
    ) -> std::io::Result<LocalServer> {
        let ci = p.cluster;
        let pod = if p.release == "nats" {
            format!("nats-{}", p.ordinal)
        } else {
            format!("{}-{}", p.release, p.ordinal)
        };
        let pdir = cdir.join(&pod);
        let routes = self
            .pods
            .iter()
            .enumerate()
            .filter(|(_, q)| q.cluster == ci && q.release == p.release)
            .map(|(qi, _)| format!("nats://127.0.0.1:{}", self.port(qi, 2)))
            .collect();
        let leaf_targets = match (p.release, m.is_cpc()) {
            ("nats", true) => self.csc_leafs.clone(),
            ("nats", false) => vec![],
            _ => self.leaf_of(ci),
        };
        let addr = Addresses {
            client: self.port(pi, 0),
            http: self.port(pi, 1),
            cluster: self.port(pi, 2),
            leaf: self.port(pi, 3),
            mqtt: self.port(pi, 4),
            websocket: self.port(pi, 5),
            gateway: self.port(pi, 6),
            routes,
            leaf_targets,
        };
        let default_sans = ["localhost".to_string(), "127.0.0.1".to_string()];
        let sans = if p.release == "nats-mtls" {
            mtls_sans
        } else {
            &default_sans
        };
        self.pod_files(p, bus, name, &pdir, &addr, sans)?;
        let env = container_env(m, bus, env_doc, p.release, key_dir, &pod, &self.ca_file)?;
        let resolved = bus.resolved(p.instance);
        let mut vars = vec![];
        crate::emit::k8s::variables(resolved, &mut vars);
        if let Some(missing) = vars.iter().find(|v| !env.iter().any(|(n, _)| n == *v)) {
            return Err(io(format!("{name}/{pod}: no local value for ${missing}")));
        }
        Ok(LocalServer {
            cluster: name.to_string(),
            pod,
            release: p.release,
            dir: pdir,
            addr,
            env,
            remotes: remote_count(resolved),
            replicas: p.replicas,
            version: m
                .deployed
                .iter()
                .find(|(r, _)| *r == p.release)
                .map_or(crate::server_version::CHART_DEFAULT, |(_, v)| *v),
        })
    }

    /// The pod's files as compile writes them, each rewritten; nats.conf printed by the
    /// chart's own printer, as compile prints it.
    fn pod_files(
        &self,
        p: &Pod,
        bus: &Bus,
        name: &str,
        pdir: &Path,
        addr: &Addresses,
        sans: &[String],
    ) -> std::io::Result<()> {
        let ca = self.ca;
        let prefix = format!("{}/", p.release);
        let mut issued = vec![];
        for (path, text) in bus.pod_files(p.instance) {
            let rel = path.strip_prefix(&prefix).unwrap_or(&path);
            let target = pdir.join(rel);
            std::fs::create_dir_all(target.parent().unwrap_or(pdir))?;
            let out = if rel == "nats-config/nats.conf" {
                let mut c = p.instance.rendered.conf.clone();
                overlay::main_config(&mut c, pdir, addr);
                issue_certs(ca, &c, sans, &mut issued)?;
                crate::chart::print::format_config(&c) + "\n"
            } else {
                let mut c = crate::natsconf::parse_conf(&text)
                    .map_err(|e| io(format!("{name}: {path}: {e:?}")))?;
                let before = c.clone();
                overlay::included(&mut c, pdir, addr, rel.starts_with("nats-leafnodes/"));
                issue_certs(ca, &c, sans, &mut issued)?;
                if c == before {
                    text
                } else {
                    conf::print("", &c)
                }
            };
            std::fs::write(&target, out)?;
        }
        Ok(())
    }
}

/// The auth callout: its compiled files, its pod's environment, the cluster's nats servers.
fn callout_plan(
    (m, bus): (&Model, &Bus),
    name: &str,
    cdir: &Path,
    env_doc: &Value,
    key_dir: &Path,
    ca_file: &Path,
    servers: &[LocalServer],
) -> std::io::Result<CalloutPlan> {
    let callout_dir = cdir.join("auth-callout");
    std::fs::create_dir_all(&callout_dir)?;
    let perms = bus
        .config_map("auth-callout-permissions")
        .and_then(|c| c.data.get("permissions.json"))
        .cloned()
        .unwrap_or_else(|| "{}".into());
    std::fs::write(callout_dir.join("permissions.json"), perms)?;
    let config_yaml = bus
        .config_maps
        .iter()
        .find(|c| c.name.ends_with("auth-callout-config"))
        .and_then(|c| c.data.get("config.yaml"))
        .cloned()
        .unwrap_or_default();
    std::fs::write(callout_dir.join("config.yaml"), config_yaml)?;
    let callout_env = container_env(
        m,
        bus,
        env_doc,
        "auth-callout",
        key_dir,
        "auth-callout",
        ca_file,
    )?;
    Ok(CalloutPlan {
        cluster: name.to_string(),
        dir: callout_dir,
        env: callout_env,
        nats_urls: servers
            .iter()
            .filter(|s| s.release == "nats")
            .map(|s| format!("nats://127.0.0.1:{}", s.addr.client))
            .collect(),
        mtls_ca: m.mtls.then(|| ca_file.to_path_buf()),
        oauth2: None,
    })
}

/// A client certificate per mTLS identity, subject from its `identity`.
fn client_certs(m: &Model, cdir: &Path, ca: &LocalCa) -> std::io::Result<Vec<ClientCert>> {
    let mut clients = vec![];
    for id in &m.permissions.mtls {
        let Some(subject) = id.node.get("identity").and_then(|n| n.as_str()) else {
            continue;
        };
        let cdir = cdir.join("clients").join(&id.name.value);
        let issued = ca.client(subject)?;
        pki::write_private(&cdir.join("tls.crt"), &issued.cert_pem)?;
        pki::write_private(&cdir.join("tls.key"), &issued.key_pem)?;
        pki::write_private(&cdir.join("ca.crt"), &ca.cert_pem)?;
        clients.push(ClientCert {
            identity: id.name.value.clone(),
            subject: subject.to_string(),
            dir: cdir,
        });
    }
    Ok(clients)
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

/// The programs `natscc up` starts: nats-server, and natscc itself for the auth callouts.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The server run when the release a pod deploys is not in `servers`.
    pub nats_server: PathBuf,
    /// A folder of releases, `<version>/nats-server` (`NATS_SERVER_DIR`).
    pub servers: Option<PathBuf>,
    pub natscc: PathBuf,
}

impl Tools {
    /// The binary of `version`, and whether it is that release (else the fallback server).
    pub fn server_for(&self, version: crate::server_version::Version) -> (PathBuf, bool) {
        let exact = self
            .servers
            .as_ref()
            .map(|d| d.join(version.to_string()).join("nats-server"))
            .filter(|p| p.is_file());
        match exact {
            Some(p) => (p, true),
            None => (self.nats_server.clone(), false),
        }
    }
}

/// What a binary says it is (`nats-server: v2.12.6` gives `2.12.6`).
pub fn binary_version(bin: &Path) -> Option<crate::server_version::Version> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    crate::server_version::Version::parse(text.trim().strip_prefix("nats-server: ")?)
}

/// One line per cluster and release: the release its image deploys and the binary that runs
/// it, or, when that release is not installed, which one runs instead.
pub fn version_lines(plan: &Plan, tools: &Tools) -> Vec<String> {
    let mut lines = vec![];
    for c in &plan.clusters {
        let mut seen: Vec<&str> = vec![];
        for s in &c.servers {
            if seen.contains(&s.release) {
                continue;
            }
            seen.push(s.release);
            let (bin, exact) = tools.server_for(s.version);
            let name = &c.name;
            let (v, release) = (s.version, s.release);
            let runs = if exact { Some(v) } else { binary_version(&bin) };
            lines.push(match runs {
                Some(r) if r == v => {
                    format!(
                        "natscc up: {name} {release} runs nats-server {v} ({})",
                        bin.display()
                    )
                }
                other => format!(
                    "natscc up: {name} {release} deploys nats-server {v}, which is not installed \
                     (NATS_SERVER_DIR/{v}/nats-server); it runs {} instead ({})",
                    other.map_or("a server of unknown release".into(), |r| format!(
                        "nats-server {r}"
                    )),
                    bin.display()
                ),
            });
        }
    }
    lines
}

/// The processes of a plan, running. Dropping it stops them and removes the plan's folder.
pub struct Running {
    pub plan: Plan,
    /// (label, process, its log).
    children: Vec<(String, Child, PathBuf)>,
}

impl Running {
    /// A process that has exited, with the tail of its log.
    pub fn exited(&mut self) -> Option<String> {
        for (name, child, log) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&*log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(8).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Some(format!("{name} exited ({status}):\n{}", tail.join("\n")));
            }
        }
        None
    }

    pub fn stop(&mut self) {
        for (_, child, _) in &mut self.children {
            let _ = child.kill();
        }
        for (_, child, _) in &mut self.children {
            let _ = child.wait();
        }
        self.children.clear();
        let _ = std::fs::remove_dir_all(&self.plan.dir);
        super::cleanup::release(&self.plan.dir);
    }
}

impl Running {
    /// The process id of a running server (`cluster/pod`).
    pub fn pid(&self, label: &str) -> Option<u32> {
        self.children
            .iter()
            .find(|(l, _, _)| l == label)
            .map(|(_, c, _)| c.id())
    }

    /// Stops server `si` of cluster `ci` and starts it again from its pod folder with `env`,
    /// as a restarted container; returns once it listens and dials its leaf remotes.
    pub fn restart(
        &mut self,
        (ci, si): (usize, usize),
        env: Vec<(String, String)>,
        tools: &Tools,
        deadline: Instant,
    ) -> Result<(), String> {
        let s = &mut self.plan.clusters[ci].servers[si];
        s.env = env;
        let s = s.clone();
        let label = s.label();
        if let Some(i) = self.children.iter().position(|(l, _, _)| *l == label) {
            let (_, mut child, _) = self.children.remove(i);
            let _ = child.kill();
            let _ = child.wait();
        }
        let bin = tools.server_for(s.version).0;
        launch(self, label.clone(), spawn(&bin, &s))?;
        let stop = AtomicBool::new(false);
        let what = format!("{label} to be healthy again");
        wait_until(deadline, &stop, self, &what, || healthy(&s))?;
        let what = format!("the leaf connections {label} dials");
        wait_until(deadline, &stop, self, &what, || leafs(&s).0 >= s.remotes)
    }
}

impl Running {
    /// Starts cluster `ci` of the plan (just added by [`add_cluster`]) as `helm install`
    /// starts a release: its `nats` servers, its callout, its `nats-mtls` server; returns once
    /// each is healthy and routed, its leaf connections are up (a CPC's to the CSC, counted on
    /// both ends), and its NACK streams exist with their sources active.
    pub fn start_cluster(
        &mut self,
        ci: usize,
        tools: &Tools,
        deadline: Instant,
    ) -> Result<(), String> {
        let stop = AtomicBool::new(false);
        let c = self.plan.clusters[ci].clone();
        for s in c.nats() {
            let bin = tools.server_for(s.version).0;
            launch(self, s.label(), spawn(&bin, s))?;
        }
        for s in c.nats() {
            let what = format!("{} to listen", s.label());
            wait_until(deadline, &stop, self, &what, || listening(s))?;
        }
        start_callout(self, ci, &tools.natscc, deadline, &stop)?;
        if let Some(s) = c.mtls() {
            let bin = tools.server_for(s.version).0;
            launch(self, s.label(), spawn(&bin, s))?;
        }
        for s in &c.servers {
            let what = format!("{} to be healthy", s.label());
            wait_until(deadline, &stop, self, &what, || healthy(s))?;
            let what = format!("the routes of {} ({} replicas)", s.label(), s.replicas);
            wait_until(deadline, &stop, self, &what, || routed(s))?;
            let what = format!("the {} leaf connections {} dials", s.remotes, s.label());
            wait_until(deadline, &stop, self, &what, || leafs(s).0 >= s.remotes)?;
        }
        // The clusters whose accepted leaf connections changed: its own and the CSC.
        let ends: Vec<LocalCluster> = self
            .plan
            .clusters
            .iter()
            .filter(|x| x.name == c.name || x.is_csc)
            .cloned()
            .collect();
        for e in &ends {
            let what = format!("the {} leaf connections {} accepts", e.accepts, e.name);
            wait_until(deadline, &stop, self, &what, || {
                e.nats().map(|s| leafs(s).1).sum::<usize>() >= e.accepts
            })?;
        }
        c.create_streams(deadline)
    }

    /// Stops every process of a cluster and removes its folder, as `helm uninstall` deletes
    /// a release's pods; the cluster leaves the plan.
    pub fn remove_cluster(&mut self, name: &str) -> Result<(), String> {
        let Some(ci) = self.plan.index(name) else {
            return Err(format!("{name} does not run"));
        };
        let prefix = format!("{name}/");
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.children)
            .into_iter()
            .partition(|(l, _, _)| l.starts_with(&prefix));
        self.children = rest;
        for (_, mut child, _) in mine {
            let _ = child.kill();
            let _ = child.wait();
        }
        let c = self.plan.clusters.remove(ci);
        self.plan.count_accepts();
        std::fs::remove_dir_all(&c.dir).map_err(|e| format!("{}: {e}", c.dir.display()))
    }

    /// Rolls a cluster's callout onto new variables and files, as its Deployment rolls
    /// (RollingUpdate, one replica: maxSurge 1, maxUnavailable 0): the new process starts,
    /// and the old one stops once the new one is subscribed. The old log is kept beside as
    /// `auth-callout.previous.log`.
    pub fn roll_callout(
        &mut self,
        ci: usize,
        env: Vec<(String, String)>,
        tools: &Tools,
        deadline: Instant,
    ) -> Result<(), String> {
        self.plan.clusters[ci].callout.env = env;
        let p = self.plan.clusters[ci].callout.clone();
        let label = format!("{}/auth-callout", p.cluster);
        let old = self
            .children
            .iter()
            .position(|(l, _, _)| *l == label)
            .map(|i| self.children.remove(i));
        let log = p.dir.join("auth-callout.log");
        let _ = std::fs::rename(&log, p.dir.join("auth-callout.previous.log"));
        let stop = AtomicBool::new(false);
        let started = start_callout(self, ci, &tools.natscc, deadline, &stop);
        if let Some((_, mut child, _)) = old {
            let _ = child.kill();
            let _ = child.wait();
        }
        started
    }
}

/// A cluster's OAuth2 set-up made again from its callout's rewritten config.yaml and
/// permissions.json: the issuer and audience the callout checks, and a token per OAuth2
/// identity from the run's issuer, which stands in for the identity provider as at start.
/// Returns the identities whose token is new.
pub fn refresh_oauth2(plan: &mut Plan, ci: usize, m: &Model) -> std::io::Result<Vec<String>> {
    let dir = plan.dir.clone();
    let c = &mut plan.clusters[ci];
    let before: Vec<String> = c.tokens.iter().map(|t| t.identity.clone()).collect();
    c.callout.oauth2 = None;
    c.tokens = oauth2(m, &mut c.callout, &dir, &c.dir, &mut plan.authority.issuer)?;
    Ok(c.tokens
        .iter()
        .map(|t| t.identity.clone())
        .filter(|i| !before.contains(i))
        .collect())
}

/// The callout's container environment from a model compiled again (the run's keys and CA).
pub fn callout_env(m: &Model, bus: &Bus, plan: &Plan) -> std::io::Result<Vec<(String, String)>> {
    let keys = plan.dir.join("keys").join(m.cluster_name());
    let doc = env_doc(m, bus);
    container_env(
        m,
        bus,
        &doc,
        "auth-callout",
        &keys,
        "auth-callout",
        &plan.ca,
    )
}

/// A pod's volumes: mount folder -> (file name, text).
pub type Volumes = Vec<(String, Vec<(String, String)>)>;

/// The files a running pod mounts, from a bus rendered again, with the same rewrites as
/// [`plan`] (its addresses kept): folder -> files. Certificates are not issued again.
pub fn pod_volumes(bus: &Bus, s: &LocalServer) -> std::io::Result<Volumes> {
    let Some(instance) = bus.instances().find(|i| i.release == s.release) else {
        return Err(io(format!(
            "{} no longer has a {} release",
            s.cluster, s.release
        )));
    };
    let prefix = format!("{}/", s.release);
    let mut out: Volumes = vec![];
    for (path, text) in bus.pod_files(instance) {
        let rel = path.strip_prefix(&prefix).unwrap_or(&path);
        let (folder, name) = rel.split_once('/').unwrap_or(("", rel));
        let text = if rel == "nats-config/nats.conf" {
            let mut c = instance.rendered.conf.clone();
            overlay::main_config(&mut c, &s.dir, &s.addr);
            crate::chart::print::format_config(&c) + "\n"
        } else {
            let mut c = crate::natsconf::parse_conf(&text)
                .map_err(|e| io(format!("{}: {path}: {e:?}", s.cluster)))?;
            let before = c.clone();
            let leaf = folder == "nats-leafnodes";
            overlay::included(&mut c, &s.dir, &s.addr, leaf);
            if c == before {
                text
            } else {
                conf::print("", &c)
            }
        };
        match out.iter_mut().find(|(f, _)| f == folder) {
            Some((_, files)) => files.push((name.to_string(), text)),
            None => out.push((folder.to_string(), vec![(name.to_string(), text)])),
        }
    }
    Ok(out)
}

/// A server's container environment from a model compiled again (the run's keys and CA).
pub fn server_env(
    m: &Model,
    bus: &Bus,
    plan: &Plan,
    s: &LocalServer,
) -> std::io::Result<Vec<(String, String)>> {
    let keys = plan.dir.join("keys").join(m.cluster_name());
    container_env(m, bus, &env_doc(m, bus), s.release, &keys, &s.pod, &plan.ca)
}

/// The cluster's env.yaml: every container's variables, as compile lists them.
fn env_doc(m: &Model, bus: &Bus) -> Value {
    let mut nats_vars = vec![];
    crate::emit::k8s::variables(bus.resolved(&bus.nats), &mut nats_vars);
    let mut mtls_vars = vec![];
    if let Some(i) = &bus.mtls {
        crate::emit::k8s::variables(bus.resolved(i), &mut mtls_vars);
    }
    crate::emit::k8s::env(m, &nats_vars, &mtls_vars)
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(server: &Path, s: &LocalServer) -> std::io::Result<(Child, PathBuf)> {
    use std::os::unix::process::CommandExt;
    let log_path = s.dir.join("server.log");
    let log = std::fs::File::create(&log_path)?;
    let mut cmd = Command::new(server);
    cmd.args(["-c", "nats-config/nats.conf"])
        .current_dir(&s.dir)
        .env_clear()
        .envs(s.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: a Ctrl-C reaches natscc, which stops the servers in order.
        .process_group(0);
    super::cleanup::die_with_parent(&mut cmd);
    Ok((cmd.spawn()?, log_path))
}

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
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn json_of(port: u16, path: &str) -> Option<Value> {
    http_get(port, path, Duration::from_millis(500))
        .ok()
        .filter(|(code, _)| *code == 200)
        .and_then(|(_, body)| serde_json::from_str(&body).ok())
}

/// The monitoring endpoint answers: the server has loaded its config and listens.
fn listening(s: &LocalServer) -> bool {
    http_get(s.addr.http, "/varz", Duration::from_millis(300)).is_ok_and(|(c, _)| c == 200)
}

/// JetStream (where on) is current and the server healthy.
fn healthy(s: &LocalServer) -> bool {
    http_get(s.addr.http, "/healthz", Duration::from_millis(500)).is_ok_and(|(c, _)| c == 200)
}

/// Routes to every other replica of its release are up.
fn routed(s: &LocalServer) -> bool {
    if s.replicas <= 1 {
        return true;
    }
    let Some(v) = json_of(s.addr.http, "/routez") else {
        return false;
    };
    let peers: std::collections::BTreeSet<&str> = v["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["remote_name"].as_str())
        .collect();
    peers.len() + 1 >= s.replicas
}

/// (leaf connections it dialled, leaf connections it accepted).
fn leafs(s: &LocalServer) -> (usize, usize) {
    let Some(v) = json_of(s.addr.http, "/leafz") else {
        return (0, 0);
    };
    let all = v["leafs"].as_array().cloned().unwrap_or_default();
    let dialled = all.iter().filter(|l| l["is_spoke"] == true).count();
    (dialled, all.len() - dialled)
}

/// Starts one process and records it.
fn launch(
    running: &mut Running,
    label: String,
    r: std::io::Result<(Child, PathBuf)>,
) -> Result<(), String> {
    let (child, log) = r.map_err(|e| format!("cannot start {label}: {e}"))?;
    running.children.push((label, child, log));
    Ok(())
}

/// Starts one cluster's auth callout (natscc's responder, as the chart's Deployment runs it)
/// and waits until it is subscribed.
fn start_callout(
    running: &mut Running,
    ci: usize,
    natscc: &Path,
    deadline: Instant,
    stop: &AtomicBool,
) -> Result<(), String> {
    let p = running.plan.clusters[ci].callout.clone();
    let label = format!("{}/auth-callout", p.cluster);
    let (child, ready) =
        super::callout::start(natscc, &p).map_err(|e| format!("cannot start {label}: {e}"))?;
    running
        .children
        .push((label.clone(), child, p.dir.join("auth-callout.log")));
    wait_until(
        deadline,
        stop,
        running,
        &format!("{label} to be ready"),
        || ready.try_recv().is_ok(),
    )
}

/// Starts the fleet and returns once it is ready: the CSC's servers and callout first (every
/// CPC's leaf connections authenticate through it), then the CPCs' servers and callouts, then
/// the nats-mtls servers (their leaf connections authenticate through their own cluster's
/// callout); then every route, leaf connection and JetStream is up, every NACK stream exists
/// and every stream source is active. The processes die with the calling thread
/// (PR_SET_PDEATHSIG), so call it from one that outlives `Running`.
pub fn start(
    plan: Plan,
    tools: &Tools,
    deadline: Instant,
    stop: &AtomicBool,
) -> Result<Running, String> {
    super::cleanup::stop_on_hangup();
    let mut running = Running {
        plan,
        children: vec![],
    };
    let csc: Vec<usize> = (0..running.plan.clusters.len())
        .filter(|&i| running.plan.clusters[i].is_csc)
        .collect();
    let cpcs: Vec<usize> = (0..running.plan.clusters.len())
        .filter(|&i| !running.plan.clusters[i].is_csc)
        .collect();
    for group in [&csc, &cpcs] {
        let servers: Vec<LocalServer> = group
            .iter()
            .flat_map(|&ci| {
                running.plan.clusters[ci]
                    .nats()
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .collect();
        for s in &servers {
            let bin = tools.server_for(s.version).0;
            launch(&mut running, s.label(), spawn(&bin, s))?;
        }
        for s in &servers {
            wait_until(
                deadline,
                stop,
                &mut running,
                &format!("{} to listen", s.label()),
                || listening(s),
            )?;
        }
        for &ci in group.iter() {
            start_callout(&mut running, ci, &tools.natscc, deadline, stop)?;
        }
    }
    let mtls: Vec<LocalServer> = running
        .plan
        .clusters
        .iter()
        .filter_map(|c| c.mtls().cloned())
        .collect();
    for s in &mtls {
        let bin = tools.server_for(s.version).0;
        launch(&mut running, s.label(), spawn(&bin, s))?;
    }
    let all: Vec<LocalServer> = running
        .plan
        .clusters
        .iter()
        .flat_map(|c| c.servers.clone())
        .collect();
    for s in &all {
        wait_until(
            deadline,
            stop,
            &mut running,
            &format!("{} to be healthy", s.label()),
            || healthy(s),
        )?;
        wait_until(
            deadline,
            stop,
            &mut running,
            &format!("the routes of {} ({} replicas)", s.label(), s.replicas),
            || routed(s),
        )?;
        wait_until(
            deadline,
            stop,
            &mut running,
            &format!("the {} leaf connections {} dials", s.remotes, s.label()),
            || leafs(s).0 >= s.remotes,
        )?;
    }
    let clusters = running.plan.clusters.clone();
    for c in &clusters {
        wait_until(
            deadline,
            stop,
            &mut running,
            &format!("the {} leaf connections {} accepts", c.accepts, c.name),
            || c.nats().map(|s| leafs(s).1).sum::<usize>() >= c.accepts,
        )?;
    }
    create_streams(&running.plan, deadline)?;
    Ok(running)
}

/// Creates every stream of every cluster as NACK would, the CSC's first (the CPCs' streams
/// source them), the CPCs' side by side, and waits until every source is active.
pub fn create_streams(plan: &Plan, deadline: Instant) -> Result<(), String> {
    let run = |c: &LocalCluster| c.create_streams(deadline);
    for c in plan.clusters.iter().filter(|c| c.is_csc) {
        run(c)?;
    }
    let cpcs: Vec<&LocalCluster> = plan.clusters.iter().filter(|c| !c.is_csc).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = cpcs.iter().map(|c| scope.spawn(|| run(c))).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a stream thread panicked".into()))
            })
            .collect::<Result<Vec<()>, String>>()
    })?;
    Ok(())
}

/// The lines `natscc up` prints per cluster: its addresses, then one per client certificate.
pub fn address_lines(lc: &LocalCluster) -> Vec<String> {
    let nats: Vec<String> = lc
        .nats()
        .map(|s| format!("nats://127.0.0.1:{}", s.addr.client))
        .collect();
    let mqtt: Vec<String> = lc
        .nats()
        .map(|s| format!("127.0.0.1:{}", s.addr.mqtt))
        .collect();
    let mut line = format!(
        "cluster={} nats={} mqtt={}",
        lc.name,
        nats.join(","),
        mqtt.join(",")
    );
    if let Some(m) = lc.mtls() {
        line.push_str(&format!(
            " mqtt-mtls=127.0.0.1:{} mtls-server-name={}",
            m.addr.mqtt,
            lc.mtls_sans
                .first()
                .map(String::as_str)
                .unwrap_or("localhost")
        ));
    }
    let mut out = vec![line];
    for t in &lc.tokens {
        out.push(format!(
            "cluster={} oauth2-client={} token-file={}",
            lc.name,
            t.identity,
            t.file.display()
        ));
    }
    for c in &lc.clients {
        out.push(format!(
            "cluster={} mtls-client={} subject={:?} cert={} key={} ca={}",
            lc.name,
            c.identity,
            c.subject,
            c.dir.join("tls.crt").display(),
            c.dir.join("tls.key").display(),
            c.dir.join("ca.crt").display()
        ));
    }
    out
}
