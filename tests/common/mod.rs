//! Helpers shared by the compile-pipeline tests: the binary, the real nats-server, and the
//! environment and certificates a compiled output folder needs before `nats-server -t` accepts it.
#![allow(dead_code)] // each test crate uses its own subset

use natscc::diag::{Source, Sources};
use natscc::load::{Node, yaml};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn natscc() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("natscc").expect("the natscc binary is built")
}

/// The real server: `NATS_SERVER_BIN`, else the one scripts/setup.sh installs, else PATH.
/// Missing is a failure, never a skip: these tests are what proves the configs load.
pub fn nats_server_path() -> PathBuf {
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "NATS_SERVER_BIN={} does not exist; run scripts/setup.sh",
            p.display()
        );
        return p;
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/nats-server");
    if local.is_file() {
        return local;
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file());
    on_path.unwrap_or_else(|| panic!("nats-server not found (NATS_SERVER_BIN, .tools/venv/bin/nats-server, PATH): run scripts/setup.sh"))
}

/// The binary of one nats-server release: `$NATS_SERVER_DIR/<version>/nats-server`, else the
/// one scripts/setup.sh installs under `.tools/nats-server/<version>/`. Missing is a failure.
pub fn nats_server_of(version: &str) -> PathBuf {
    let dir = std::env::var_os("NATS_SERVER_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/nats-server"),
        PathBuf::from,
    );
    let p = dir.join(version).join("nats-server");
    assert!(
        p.is_file(),
        "nats-server {version} is not installed at {}: run scripts/setup.sh",
        p.display()
    );
    p
}

/// The nats-server release each NATS release of a compile deploys (`nats`, `nats-mtls`), read
/// by natscc's own rule from the same arguments the compile gets (`-f`, `--set`, `--set-string`,
/// `--server-version`, relative to `dir`).
pub fn deployed_versions(dir: &Path, args: &[&str]) -> BTreeMap<String, String> {
    let mut inputs = natscc::load::Inputs::default();
    let mut stated = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().expect("an argument's value").to_string();
        match *a {
            "-f" | "--values" => inputs.files.push(dir.join(value())),
            "--set" => inputs.set.push(value()),
            "--set-string" => inputs.set_string.push(value()),
            "--server-version" => {
                let text = value();
                stated = Some(natscc::server_version::Stated {
                    version: natscc::server_version::Version::parse(&text).unwrap(),
                    from: text,
                    span: None,
                })
            }
            _ => {}
        }
    }
    natscc::driver::deployed(&inputs, stated.as_ref())
        .into_iter()
        .map(|(r, v)| (r, v.to_string()))
        .collect()
}

/// Parses a YAML output file with the compiler's own loader.
pub fn read_yaml(path: &Path) -> Node {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut sources = Sources::default();
    let id = sources.add(Source::new(path.display().to_string(), text));
    let (node, diags) = yaml::parse(id, &sources);
    assert!(
        diags.is_empty(),
        "{} does not parse: {diags:?}",
        path.display()
    );
    node.unwrap_or_else(|| panic!("{} is empty", path.display()))
}

/// A fresh valid value for what a secret key holds (secrets.yaml `holds`).
fn generate(holds: &str) -> String {
    use nkeys::{KeyPair, XKey};
    match holds {
        "user-seed" => KeyPair::new_user().seed().unwrap(),
        "user-public-key" => KeyPair::new_user().public_key(),
        "account-seed" => KeyPair::new_account().seed().unwrap(),
        "account-public-key" => KeyPair::new_account().public_key(),
        "curve-seed" => XKey::new().seed().unwrap(),
        "curve-public-key" => XKey::new().public_key(),
        other => panic!("no generator for a secret key holding `{other}`"),
    }
}

/// Finds what the secret key behind env var `name` of `container` holds. secrets.yaml lists
/// the consuming env vars on each key, which also covers keys moved by nkeySecretRefOverrides.
fn holds_for(secrets: &Node, container: &str, name: &str) -> Option<String> {
    secrets
        .get("secrets")?
        .items()
        .iter()
        .flat_map(|s| s.get("keys").map(Node::items).unwrap_or_default())
        .find_map(|k| {
            let used = k.get("env")?.items().iter().any(|e| {
                e.get("container").and_then(Node::as_str) == Some(container)
                    && e.get("name").and_then(Node::as_str) == Some(name)
            });
            used.then(|| k.get("holds").and_then(Node::as_str).map(str::to_string))
                .flatten()
        })
}

/// Every env var the `nats` and `nats-mtls` containers expect, with a value: the pod name for
/// `SERVER_NAME`, a literal `value` as given, a freshly generated key for a Secret key, and for a
/// variable the chart feeds from its nats-env-config ConfigMap (a `configMapKeyRef`, or the name
/// alone) the value env.yaml's `inlined` map records.
pub fn server_env(out_dir: &Path) -> Vec<(String, String)> {
    let env = read_yaml(&out_dir.join("env.yaml"));
    let secrets = read_yaml(&out_dir.join("secrets.yaml"));
    let mut out: Vec<(String, String)> = vec![];
    for container in ["nats", "nats-mtls"] {
        for var in env.get(container).map(Node::items).unwrap_or_default() {
            let name = var
                .get("name")
                .and_then(Node::as_str)
                .expect("env entry has a name")
                .to_string();
            if out.iter().any(|(n, _)| *n == name) {
                continue; // both containers share e.g. AUTH_SIGNING_KEY; one value serves both
            }
            let value = if var.path(&["valueFrom", "fieldRef"]).is_some() && name == "SERVER_NAME" {
                "natscc-test".to_string()
            } else if let Some(v) = var.get("value").and_then(Node::as_str) {
                v.to_string()
            } else if (var.get("valueFrom").is_none()
                || var.path(&["valueFrom", "configMapKeyRef"]).is_some())
                && let Some(v) = env.path(&["inlined", &name]).and_then(Node::as_str)
            {
                v.to_string()
            } else {
                let holds = holds_for(&secrets, container, &name).unwrap_or_else(|| {
                    panic!("{container} env var {name} names no secret key in secrets.yaml nor a value in env.yaml of {}", out_dir.display())
                });
                generate(&holds)
            };
            out.push((name, value));
        }
    }
    out
}

pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for localhost, 127.0.0.1: (ca, cert, key) file names.
pub fn make_certs(dir: &Path) -> (&'static str, &'static str, &'static str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=natscc test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server-key.pem",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "server.pem",
        ],
    );
    ("ca.pem", "server.pem", "server-key.pem")
}

/// The TLS file key (`cert_file`, `key_file`, `ca_file`) a config line sets to an absolute path.
fn cert_key(line: &str) -> Option<&'static str> {
    // The key may be quoted, as in the JSON style the NATS chart renders.
    let trimmed = line.trim_start().trim_start_matches('"');
    ["cert_file", "key_file", "ca_file"].into_iter().find(|k| {
        let value = trimmed
            .strip_prefix(k)
            .map(|r| r.trim_start_matches('"').trim_start())
            .and_then(|r| r.strip_prefix([':', '=']));
        value.is_some_and(|v| v.trim().trim_matches('"').starts_with('/'))
    })
}

/// Points every absolute cert_file/key_file/ca_file at the generated (ca, cert, key) files.
pub fn rewrite_cert_paths(text: &str, (ca, cert, key): (&str, &str, &str), dir: &Path) -> String {
    let lines = text.lines().map(|line| match cert_key(line) {
        Some(k) => {
            let file = match k {
                "cert_file" => cert,
                "key_file" => key,
                _ => ca,
            };
            let indent = &line[..line.len() - line.trim_start().len()];
            format!("{indent}{k}: \"{}\"", dir.join(file).display())
        }
        None => line.to_string(),
    });
    lines.collect::<Vec<_>>().join("\n") + "\n"
}

/// Every Rust file of the crate's `src/`, sorted: what the house-rule tests read.
pub fn rust_sources() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    files_under(&src)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| src.join(p))
        .collect()
}

/// Every file under `dir`, recursively, as paths relative to `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        {
            let e = e.unwrap();
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let mut out = vec![];
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Runs `nats-server -t -c nats.conf` in the folder of `conf_file` (a path relative to the
/// compiled folder, e.g. `nats/nats-config/nats.conf`) on a copy of the whole compiled tree,
/// so the chart's relative includes (`../nats-accounts/accounts.conf`) resolve as in the pod;
/// with every listed env var set and real certificates in place of the cluster paths in every
/// config of the tree. Panics with the server's output and the configs it read.
pub fn check_with_server(out_dir: &Path, conf_file: &str) {
    check_with_server_bin(out_dir, conf_file, &nats_server_path());
}

/// [`check_with_server`] with one nats-server binary (the release the config deploys).
pub fn check_with_server_bin(out_dir: &Path, conf_file: &str, server: &Path) {
    assert!(
        out_dir.join(conf_file).is_file(),
        "{} holds no {conf_file}",
        out_dir.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let cert_dir = tmp.path().join("certs");
    std::fs::create_dir(&cert_dir).unwrap();
    let files = files_under(out_dir);
    for rel in &files {
        let copy = dir.join(rel);
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        std::fs::copy(out_dir.join(rel), &copy).unwrap();
    }
    let mut certs = None;
    for rel in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
    {
        let copy = dir.join(rel);
        let text = std::fs::read_to_string(&copy).unwrap();
        // Certificates are generated once, and only when some config names cluster paths.
        if text.lines().any(|l| cert_key(l).is_some()) {
            let files = *certs.get_or_insert_with(|| make_certs(&cert_dir));
            std::fs::write(&copy, rewrite_cert_paths(&text, files, &cert_dir)).unwrap();
        }
    }
    let conf = dir.join(conf_file);
    let (conf_dir, conf_name) = (conf.parent().unwrap(), conf.file_name().unwrap());
    // Its output goes to a file (a full pipe cannot stall it while it is polled), and it is
    // killed if it has not answered within 20 s: a hung server fails the test, never hangs it.
    let (ok, said) = server_test_bin(
        server,
        conf_dir,
        conf_name.to_str().unwrap(),
        server_env(out_dir),
        tmp.path(),
    );
    if !ok {
        let configs: String = files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
            .map(|p| {
                format!(
                    "\n--- {}\n{}",
                    p.display(),
                    std::fs::read_to_string(dir.join(p)).unwrap_or_default()
                )
            })
            .collect();
        panic!(
            "nats-server -t -c {conf_file} refused the config compiled in {} ({}):\n{said}{configs}",
            out_dir.display(),
            server.display()
        );
    }
}

/// A reference case's values files: every `.yaml` but `rendered.yaml`, in name order.
pub fn values_files(case: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(case)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "yaml") && p.file_name().unwrap() != "rendered.yaml"
        })
        .collect();
    files.sort();
    files
}

/// The documents of a rendered stream, read with natscc's own YAML loader.
pub fn stream_docs(text: &str) -> Vec<Node> {
    let mut sources = Sources::default();
    let id = sources.add(Source::new("stream", text.to_string()));
    yaml::parse_stream(id, &sources)
        .0
        .expect("the stream parses")
}

/// Every ConfigMap of a stream: name -> data key -> text.
pub fn config_maps(docs: &[Node]) -> BTreeMap<String, BTreeMap<String, String>> {
    docs.iter()
        .filter(|d| d.get("kind").and_then(Node::as_str) == Some("ConfigMap"))
        .map(|d| {
            let name = d
                .path(&["metadata", "name"])
                .and_then(Node::as_str)
                .unwrap()
                .to_string();
            let data = d
                .get("data")
                .map(Node::entries)
                .unwrap_or_default()
                .iter()
                .map(|e| (e.key.clone(), e.value.as_str().unwrap_or("").to_string()))
                .collect();
            (name, data)
        })
        .collect()
}

/// Where two texts first differ, for a failure message.
pub fn first_difference(a: &str, b: &str) -> String {
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or(a.lines().count().min(b.lines().count()));
    format!(
        "first difference at line {}:\n  natscc: {:?}\n  chart:  {:?}",
        line + 1,
        a.lines().nth(line).unwrap_or("<end>"),
        b.lines().nth(line).unwrap_or("<end>")
    )
}

/// `nats-server -t -c CONF` in `conf_dir` with `env`: whether it accepts the config, and what it
/// said. Its output goes through a file in `scratch` (a full pipe cannot stall it while it is
/// polled), and it is killed, failing the test, if it has not answered within 20 s.
pub fn server_test(
    conf_dir: &Path,
    conf: &str,
    env: Vec<(String, String)>,
    scratch: &Path,
) -> (bool, String) {
    server_test_bin(&nats_server_path(), conf_dir, conf, env, scratch)
}

/// [`server_test`] with one nats-server binary.
pub fn server_test_bin(
    server: &Path,
    conf_dir: &Path,
    conf: &str,
    env: Vec<(String, String)>,
    scratch: &Path,
) -> (bool, String) {
    let log = scratch.join("server.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(server)
        .args(["-t", "-c", conf])
        .current_dir(conf_dir)
        .envs(env)
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .expect("nats-server runs");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "nats-server -t -c {conf} did not answer within 20 s in {}",
                conf_dir.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    (
        status.success(),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

/// A small deterministic random source for the generated-input tests (xorshift64*): the same
/// seed gives the same cases on every machine, with no dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Every YAML file under fixtures/ and examples/ (good, bad, values and manifest streams), in
/// a stable order: the corpus the fuzz and mutation tests start from.
pub fn corpus_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
            if e.is_dir() {
                walk(&e, out);
            } else if e.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(e);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![];
    walk(&root.join("fixtures"), &mut paths);
    walk(&root.join("examples"), &mut paths);
    paths.sort();
    paths
}

/// A loopback port free a moment ago, never one this test process handed out before: tests
/// of one binary run in parallel, and a port released by one test's probe must not become
/// another test's route port (seen in CI: "attempted to connect to route port").
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if GIVEN.lock().unwrap_or_else(|p| p.into_inner()).insert(port) {
            return port;
        }
    }
}

/// A fleet file with one CSC and `cpcs` CPCs sharing `patterns` patterns per cross-layer list
/// in common.yaml (the benchmark's shape); returns the fleet file's path.
pub fn write_fleet(dir: &Path, cpcs: usize, patterns: usize) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let list = |prefix: &str| -> String {
        (0..patterns)
            .map(|i| match i % 3 {
                0 => format!("        - \"{prefix}.{i}.>\"\n"),
                1 => format!("        - \"{prefix}.{i}.*.state\"\n"),
                _ => format!("        - \"{prefix}.{i}.value\"\n"),
            })
            .collect()
    };
    std::fs::write(
        dir.join("common.yaml"),
        format!(
            "global:\n  eventBus:\n    crossLayer:\n      cscExports:\n{}      cscPrefixedExports:\n{}      cpcExports:\n{}",
            list("broadcast"),
            list("command"),
            list("sensor")
        ),
    )
    .unwrap();
    let ids: Vec<String> = (1..=cpcs).map(|i| format!("\"{i}\"")).collect();
    std::fs::write(
        dir.join("csc.yaml"),
        format!(
            "global:\n  eventBus:\n    clusterType: csc\n    cpcIds: [{}]\n",
            ids.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("cpc.yaml"),
        "global:\n  eventBus:\n    clusterType: cpc\n    cscEndpoint: nats://csc-gateway:7422\n",
    )
    .unwrap();
    let mut f = String::from("clusters:\n  - { name: csc, values: [common.yaml, csc.yaml] }\n");
    for i in 1..=cpcs {
        f.push_str(&format!("  - {{ name: cpc-{i}, values: [common.yaml, cpc.yaml], set: {{ global.eventBus.clusterId: \"{i}\" }} }}\n"));
    }
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, f).unwrap();
    path
}

/// A plain-chart case's `values.yaml` loaded over the NATS chart's defaults: the tree natscc's
/// renderer reads, whatever the checks would say of it.
pub fn plain_values(case: &Path) -> Node {
    let inputs = natscc::load::Inputs {
        files: vec![case.join("values.yaml")],
        ..Default::default()
    };
    natscc::load::load_plain(&inputs, &mut Sources::default())
        .0
        .expect("the values load")
}

/// A case's `values.yaml` compiled, and the codes of its errors (sorted, each once).
pub fn compile_case(case: &Path) -> (natscc::Compiled, Vec<&'static str>) {
    let compiled = natscc::compile(&natscc::load::Inputs {
        files: vec![case.join("values.yaml")],
        ..Default::default()
    });
    let mut errors: Vec<&'static str> = compiled
        .diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.name())
        .collect();
    errors.sort();
    errors.dedup();
    (compiled, errors)
}

/// Renders each case folder's `values.yaml` into its `rendered.yaml` with Helm's own engine
/// (scripts/helm_template.py on helm-python-sdk, one process for every case), from a chart
/// copied under `tests/data` (`chart`, relative to the repository), with `extra` arguments
/// (`--release NAME`, `-n NAMESPACE`).
pub fn helm_template(chart: &str, extra: &[&str], cases: &[PathBuf]) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = repo.join(".tools/venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup.sh (it installs helm-python-sdk)",
        python.display()
    );
    let out = Command::new(python)
        .arg(repo.join("scripts/helm_template.py"))
        .arg("--chart")
        .arg(repo.join(chart))
        .args(extra)
        .args(cases)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "helm_template.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the server said to a client, through async-nats's event callback.
pub fn with_errors(
    opts: async_nats::ConnectOptions,
) -> (
    async_nats::ConnectOptions,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let opts = opts.event_callback(move |event| {
        let tx = tx.clone();
        async move {
            if let async_nats::Event::ServerError(e) = event {
                let _ = tx.send(e.to_string());
            }
        }
    });
    (opts, rx)
}
