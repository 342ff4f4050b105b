//! One cluster's auth callout for `natscc up`: natscc's own responder (`natscc auth-callout`),
//! started as the chart's auth-callout Deployment runs: the compiled permissions.json and
//! config.yaml, the keys from the pod's environment, connected to the cluster's `nats` servers.
//! Every client, leaf connection and the NACK controller authenticate through it, as in
//! production: nothing is ready before it is.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;

/// What one cluster's callout is started with.
#[derive(Debug, Clone)]
pub struct CalloutPlan {
    pub cluster: String,
    /// Its folder: permissions.json, config.yaml, its log.
    pub dir: PathBuf,
    /// The environment its pod gets (env.yaml's `auth-callout`): keys from the temporary key
    /// folder, the NKey users' public keys permissions.json names.
    pub env: Vec<(String, String)>,
    /// `nats://127.0.0.1:<port>` of each of the cluster's `nats` servers.
    pub nats_urls: Vec<String>,
    /// The CA its mTLS authenticator verifies client certificates with (mTLS on).
    pub mtls_ca: Option<PathBuf>,
    /// The run's OAuth2 issuer, when the cluster has OAuth2 identities or a JWKS URL.
    pub oauth2: Option<OAuth2>,
}

/// The local OAuth2 issuer the callout trusts in place of the values' identity provider.
#[derive(Debug, Clone)]
pub struct OAuth2 {
    /// The issuer's JWKS file.
    pub jwks: PathBuf,
    /// `iss` and `aud`: the values' `jwks.issuer` and `jwks.audience`, else natscc-local and
    /// natscc.
    pub issuer: String,
    pub audience: String,
}

/// The command line of the callout (`natscc auth-callout`), as `--explain-overlay` shows it.
pub fn command(natscc: &Path, p: &CalloutPlan) -> Command {
    let mut cmd = Command::new(natscc);
    cmd.arg("auth-callout")
        .arg("--permissions")
        .arg(p.dir.join("permissions.json"))
        .arg("--config")
        .arg(p.dir.join("config.yaml"));
    for u in &p.nats_urls {
        cmd.arg("--nats-url").arg(u);
    }
    if let Some(ca) = &p.mtls_ca {
        cmd.arg("--mtls-ca").arg(ca);
    }
    if let Some(o) = &p.oauth2 {
        cmd.arg("--jwks").arg(&o.jwks).args([
            "--jwks-issuer",
            &o.issuer,
            "--jwks-audience",
            &o.audience,
        ]);
    }
    cmd.env_clear()
        .envs(p.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&p.dir);
    cmd
}

/// Starts one cluster's callout. The receiver gets `()` once it printed `ready` (subscribed on
/// the server); it dies with natscc like the servers do.
pub fn start(natscc: &Path, p: &CalloutPlan) -> std::io::Result<(Child, Receiver<()>)> {
    use std::os::unix::process::CommandExt;
    let log = std::fs::File::create(p.dir.join("auth-callout.log"))?;
    let mut cmd = command(natscc, p);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .process_group(0);
    super::cleanup::die_with_parent(&mut cmd);
    let mut child = cmd.spawn()?;
    let out = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.trim() == "ready" {
                let _ = tx.send(());
            }
        }
    });
    Ok((child, rx))
}
