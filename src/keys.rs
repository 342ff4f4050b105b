//! `natscc keys`: the NKeys and Secret layout of the bus, generated and checked without
//! `nsc` or `nk`. One folder per cluster, one folder per Secret, one file per key; files 0600,
//! folders 0700; a key that exists is never replaced; no seed is ever printed.

use crate::model::names::{env_token, secret_token};
use nkeys::{KeyPair, KeyPairType, XKey};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Account,
    Curve,
}

impl Kind {
    fn seed_prefix(self) -> &'static str {
        match self {
            Kind::User => "SU",
            Kind::Account => "SA",
            Kind::Curve => "SX",
        }
    }
    fn pub_prefix(self) -> char {
        match self {
            Kind::User => 'U',
            Kind::Account => 'A',
            Kind::Curve => 'X',
        }
    }
}

/// One key pair and where its seed and public key are stored (secret/file).
struct Pair {
    kind: Kind,
    seed: Option<(String, &'static str)>,
    public: Vec<(String, String)>,
}

fn pair(kind: Kind, seed: Option<(&str, &'static str)>, public: &[(&str, &str)]) -> Pair {
    Pair { kind, seed: seed.map(|(s, f)| (s.to_string(), f)), public: public.iter().map(|(s, f)| (s.to_string(), f.to_string())).collect() }
}

/// The pairs every cluster holds (the CSC's and each CPC's own keys).
fn cluster_pairs() -> Vec<Pair> {
    vec![
        pair(Kind::Account, Some(("auth-callout-keys", "issuer-seed")), &[("nats-auth-signing", "pubkey")]),
        pair(Kind::Curve, Some(("auth-callout-keys", "xkey-seed")), &[("nats-xkey", "pubkey")]),
        pair(Kind::User, Some(("auth-callout-keys", "nkey-seed")), &[("nats-authx-user", "pubkey")]),
        pair(Kind::User, Some(("nats-nack-user", "nack-user.nk")), &[("nats-nack-user", "pubkey")]),
        pair(Kind::User, Some(("nats-surveyor", "seed")), &[("nats-surveyor", "pubkey")]),
        pair(Kind::User, Some(("nats-mtls-leaf", "seed")), &[("nats-mtls-leaf", "pubkey")]),
        pair(Kind::User, Some(("nats-mtls-authx-leaf", "seed")), &[("nats-mtls-authx-leaf", "pubkey")]),
        pair(Kind::User, Some(("nats-mtls-sys-leaf", "seed")), &[("nats-mtls-sys-leaf", "pubkey")]),
    ]
}

#[derive(Debug, Default)]
pub struct Report {
    pub created: Vec<PathBuf>,
    pub kept: usize,
    pub problems: Vec<String>,
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        let mut d = dir.to_path_buf();
        // Every folder we own is 0700, up to the output root.
        while d.file_name().is_some() {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))?;
            if d.join(".natscc-keys").exists() {
                break;
            }
            d = match d.parent() {
                Some(p) => p.to_path_buf(),
                None => break,
            };
        }
    }
    let tmp = path.with_extension("natscc-tmp");
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode_0600().open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

trait Mode0600 {
    fn mode_0600(&mut self) -> &mut Self;
}
impl Mode0600 for std::fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

fn new_seed(kind: Kind) -> String {
    match kind {
        Kind::User => KeyPair::new_user().seed().expect("fresh key has a seed"),
        Kind::Account => KeyPair::new_account().seed().expect("fresh key has a seed"),
        Kind::Curve => XKey::new().seed().expect("fresh key has a seed"),
    }
}

fn public_of(kind: Kind, seed: &str) -> Result<String, String> {
    let seed = seed.trim();
    if !seed.starts_with(kind.seed_prefix()) {
        return Err(format!("expected a seed starting with {}", kind.seed_prefix()));
    }
    match kind {
        Kind::Curve => XKey::from_seed(seed).map(|k| k.public_key()).map_err(|e| e.to_string()),
        _ => KeyPair::from_seed(seed).map(|k| k.public_key()).map_err(|e| e.to_string()),
    }
}

/// Reads the seed at `path`, or creates it; returns the seed.
fn seed_at(path: &Path, kind: Kind, report: &mut Report) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => {
            report.kept += 1;
            Ok(s.trim().to_string())
        }
        Err(_) => {
            let s = new_seed(kind);
            write_private(path, &format!("{s}\n"))?;
            report.created.push(path.to_path_buf());
            Ok(s)
        }
    }
}

fn public_at(path: &Path, public: &str, report: &mut Report) -> std::io::Result<()> {
    match std::fs::read_to_string(path) {
        Ok(existing) if existing.trim() == public => {
            report.kept += 1;
            Ok(())
        }
        Ok(_) => {
            report.problems.push(format!("{} does not match its seed; left unchanged", path.display()));
            Ok(())
        }
        Err(_) => {
            write_private(path, &format!("{public}\n"))?;
            report.created.push(path.to_path_buf());
            Ok(())
        }
    }
}

fn generate_pairs(dir: &Path, pairs: &[Pair], report: &mut Report) -> std::io::Result<Vec<String>> {
    let mut publics = vec![];
    for p in pairs {
        let (secret, file) = p.seed.as_ref().expect("generated pairs have seeds");
        let seed = seed_at(&dir.join(secret).join(file), p.kind, report)?;
        let public = public_of(p.kind, &seed).map_err(|e| std::io::Error::other(format!("{}/{secret}/{file}: {e}", dir.display())))?;
        for (s, f) in &p.public {
            public_at(&dir.join(s).join(f), &public, report)?;
        }
        publics.push(public);
    }
    Ok(publics)
}

/// Generates the CSC's keys, and each listed CPC's with the matching pubkeys on the CSC.
pub fn generate(out: &Path, cpcs: &[String], extra_accounts: &[String]) -> std::io::Result<Report> {
    let mut report = Report::default();
    std::fs::create_dir_all(out)?;
    std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o700))?;
    if !out.join(".natscc-keys").exists() {
        write_private(&out.join(".natscc-keys"), "natscc keys layout 1\n")?;
    }
    let csc = out.join("csc");
    generate_pairs(&csc, &cluster_pairs(), &mut report)?;
    for id in cpcs {
        let cpc = out.join(format!("cpc-{id}"));
        generate_pairs(&cpc, &cluster_pairs(), &mut report)?;
        let mut leaves = vec![("nats-leaf-csc".to_string(), format!("nats-leaf-cpc-{id}"))];
        for a in extra_accounts {
            let t = secret_token(a);
            leaves.push((format!("nats-leaf-{t}-csc"), format!("nats-leaf-{t}-cpc-{id}")));
        }
        for (cpc_secret, csc_secret) in leaves {
            let seed = seed_at(&cpc.join(&cpc_secret).join("seed"), Kind::User, &mut report)?;
            let public = public_of(Kind::User, &seed).map_err(std::io::Error::other)?;
            public_at(&csc.join(&csc_secret).join("pubkey"), &public, &mut report)?;
        }
    }
    Ok(report)
}

/// Proves each seed matches its pubkey, each key has its type's prefix, and each CPC's leaf
/// seed matches the pubkey the CSC holds for it.
pub fn check(dir: &Path) -> Vec<String> {
    let mut problems = vec![];
    let mut clusters: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect()).unwrap_or_default();
    clusters.sort();
    if clusters.is_empty() {
        problems.push(format!("{} holds no cluster folders", dir.display()));
    }
    let read = |p: &Path| std::fs::read_to_string(p).ok().map(|s| s.trim().to_string());
    for c in &clusters {
        for p in cluster_pairs() {
            let (secret, file) = p.seed.as_ref().unwrap();
            let seed_path = c.join(secret).join(file);
            let Some(seed) = read(&seed_path) else {
                problems.push(format!("{} is missing", seed_path.display()));
                continue;
            };
            match public_of(p.kind, &seed) {
                Err(e) => problems.push(format!("{}: {e}", seed_path.display())),
                Ok(public) => {
                    for (s, f) in &p.public {
                        let pp = c.join(s).join(f);
                        match read(&pp) {
                            None => problems.push(format!("{} is missing", pp.display())),
                            Some(k) if !k.starts_with(p.kind.pub_prefix()) => {
                                problems.push(format!("{}: expected a key starting with {}", pp.display(), p.kind.pub_prefix()))
                            }
                            Some(k) if k != public => problems.push(format!("{} does not match {}", pp.display(), seed_path.display())),
                            _ => {}
                        }
                    }
                }
            }
        }
        for entry in std::fs::read_dir(c).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("nats-leaf-") {
                for file in ["seed", "pubkey"] {
                    let p = entry.path().join(file);
                    if let Some(k) = read(&p) {
                        let ok = if file == "seed" {
                            public_of(Kind::User, &k).is_ok()
                        } else {
                            KeyPair::from_public_key(&k).is_ok_and(|kp| kp.key_pair_type() == KeyPairType::User)
                        };
                        if !ok {
                            problems.push(format!("{}: not a valid user {file}", p.display()));
                        }
                    }
                }
            }
        }
    }
    // Each CPC's leaf seeds against the pubkeys on the CSC.
    let csc = dir.join("csc");
    for c in clusters.iter().filter(|c| c.file_name().is_some_and(|n| n.to_string_lossy().starts_with("cpc-"))) {
        let id = c.file_name().unwrap().to_string_lossy().trim_start_matches("cpc-").to_string();
        for entry in std::fs::read_dir(c).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(mid) = name.strip_prefix("nats-leaf-").and_then(|r| r.strip_suffix("csc")) else { continue };
            let csc_secret = format!("nats-leaf-{mid}cpc-{id}");
            let (Some(seed), Some(public)) = (read(&entry.path().join("seed")), read(&csc.join(&csc_secret).join("pubkey"))) else {
                problems.push(format!("{}: the CSC has no {csc_secret}/pubkey for this leaf seed", entry.path().display()));
                continue;
            };
            if public_of(Kind::User, &seed).ok().as_deref() != Some(public.as_str()) {
                problems.push(format!("{}/seed does not match csc/{csc_secret}/pubkey", entry.path().display()));
            }
        }
    }
    let _ = env_token;
    problems
}

/// Kubernetes Secret manifests for one cluster folder (written 0600 beside the keys).
pub fn k8s_secrets(cluster_dir: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut secrets: Vec<PathBuf> = std::fs::read_dir(cluster_dir)?.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    secrets.sort();
    let mut docs = vec![];
    for s in secrets {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&s)?.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
        files.sort();
        let mut data = serde_json::Map::new();
        for f in files {
            let mut text = String::new();
            std::fs::File::open(&f)?.read_to_string(&mut text)?;
            data.insert(f.file_name().unwrap().to_string_lossy().into_owned(), serde_json::Value::String(text.trim().to_string()));
        }
        docs.push(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": s.file_name().unwrap().to_string_lossy()},
            "stringData": data,
        }));
    }
    Ok(crate::emit::yaml::stream(&docs))
}
