//! The command line: argument parsing, severity levels, printing what each command returns,
//! and exit codes. No compiler logic lives here, and no other module prints findings or picks
//! an exit code.

use crate::access::Question;
use crate::diag::levels::{Level, Levels};
use crate::diag::render::{self, Format};
use crate::diag::{Code, Diagnostic, Severity, Source, Sources};
use crate::fleet::cli::{Answer, Draw, Up};
use crate::load::Inputs;
use crate::server_version::Stated;
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Exit codes: 0 clean, 1 findings, 2 usage or I/O error.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "natscc",
    version,
    about = "Compile and check NATS event-bus Helm values into NATS server configuration"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

pub use crate::driver::args::ValuesArgs;

/// The severity config file read from the current folder when `--config` is not given.
pub const CONFIG_FILE: &str = ".natscc.yaml";

#[derive(Args, Debug, Clone, Default)]
pub struct ReportArgs {
    /// How to print findings.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Treat warnings as errors.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Drop the findings of a code (a warning, e.g. natscc::gateway::tlsroute_hostnames);
    /// repeatable.
    #[arg(long = "allow", value_name = "CODE")]
    pub allow: Vec<String>,
    /// Report a code's findings as warnings; repeatable.
    #[arg(long = "warn", value_name = "CODE")]
    pub warn: Vec<String>,
    /// Report a code's findings as errors; repeatable.
    #[arg(long = "deny", value_name = "CODE")]
    pub deny: Vec<String>,
    /// A severity config file (allow/warn/deny lists of codes); default: .natscc.yaml in the
    /// current folder, when there is one. The command line's levels win over the file's.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ReportArgs {
    /// The config file's levels, then the command line's; `Err` is a usage error.
    pub fn levels(&self) -> Result<Levels, String> {
        let mut levels = Levels::default();
        let file = self
            .config
            .clone()
            .or_else(|| Some(PathBuf::from(CONFIG_FILE)).filter(|p| p.is_file()));
        if let Some(path) = file {
            read_config(&path, &mut levels)?;
        }
        for (names, level) in [
            (&self.allow, Level::Allow),
            (&self.warn, Level::Warn),
            (&self.deny, Level::Deny),
        ] {
            for name in names {
                levels
                    .set(name, level)
                    .map_err(|e| format!("--{} {name}: {e}", level.name()))?;
            }
        }
        Ok(levels)
    }

    /// One run's findings at their final severities: levels first, then --deny-warnings.
    fn judge(&self, levels: &Levels, diags: &mut Vec<Diagnostic>) {
        levels.apply(diags);
        if self.deny_warnings {
            diags.iter_mut().for_each(|d| d.severity = Severity::Error);
        }
    }
}

/// Reads a severity config file: `allow:`, `warn:` and `deny:`, each a list of codes.
fn read_config(path: &Path, levels: &mut Levels) -> Result<(), String> {
    let name = path.display().to_string();
    let text = crate::input::read_text(path).map_err(|e| {
        format!(
            "cannot read the config file {name}: {e} ({})",
            e.code().name()
        )
    })?;
    let mut sources = Sources::default();
    let id = sources.add(Source::new(name.clone(), text));
    let (root, diags) = crate::load::yaml::parse(id, &sources);
    let at = |sp: crate::diag::Span| format!("{name}:{}:{}", sp.line, sp.col + 1);
    if let Some(d) = diags.first() {
        return Err(match d.primary() {
            Some(sp) => format!("{}: {}", at(sp), d.message),
            None => format!("{name}: {}", d.message),
        });
    }
    for e in root.as_ref().map(|r| r.entries()).unwrap_or_default() {
        let level = match e.key.as_str() {
            "allow" => Level::Allow,
            "warn" => Level::Warn,
            "deny" => Level::Deny,
            other => {
                return Err(format!(
                    "{}: unknown key `{other}`; a config file has allow, warn and deny, each a \
                     list of codes",
                    at(e.key_span)
                ));
            }
        };
        if !e.value.is_null() && !matches!(e.value.v, crate::load::yaml::V::Seq(_)) {
            return Err(format!(
                "{}: `{}` must be a list of codes",
                at(e.value.span),
                e.key
            ));
        }
        for item in e.value.items() {
            let code = item.as_str().ok_or_else(|| {
                format!(
                    "{}: a code is a string such as natscc::gateway::tlsroute_hostnames",
                    at(item.span)
                )
            })?;
            levels
                .set(code, level)
                .map_err(|m| format!("{}: {m}", at(item.span)))?;
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compile one cluster's values into its NATS config and Kubernetes files.
    Compile {
        #[command(flatten)]
        values: ValuesArgs,
        /// The output folder; written all at once, and left untouched on any error.
        #[arg(short = 'o', long = "out", value_name = "DIR")]
        out: PathBuf,
        /// The nats-server release the image runs (2.12.6), for an image whose tag names none
        /// (a digest, `latest`); over `natscc.serverVersion`.
        #[arg(long, value_name = "VERSION", value_parser = Stated::from_flag)]
        server_version: Option<Stated>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Check values files (globs allowed) and report every finding; nothing is written.
    Lint {
        /// Files, folders or glob patterns such as 'envs/**/values*.yaml'.
        #[arg(value_name = "PATTERN", required = true)]
        patterns: Vec<String>,
        /// A companion file merged under each linted file (e.g. a shared common.yaml); repeatable.
        #[arg(long = "with", value_name = "FILE")]
        with: Vec<PathBuf>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Draw the subject routing between accounts (Graphviz DOT or Mermaid); cycles in red.
    Graph {
        #[command(flatten)]
        values: ValuesArgs,
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
    },
    /// Show every account and subject a message published in ACCOUNT on SUBJECT reaches; with
    /// --who-can, which identities may publish or subscribe SUBJECT; with --identity, what one
    /// identity may do (as the auth callout grants it) and where its messages flow.
    Explain {
        #[command(flatten)]
        values: ValuesArgs,
        /// The account the message is published in (e.g. CPC, CSC).
        #[arg(long, required_unless_present_any = ["who_can", "identity"])]
        account: Option<String>,
        /// With --fleet: the cluster the message is published in (e.g. cpc-1); with --who-can
        /// or --identity, only that cluster's identities.
        #[arg(long, requires = "fleet")]
        cluster: Option<String>,
        /// Which identities may publish or subscribe SUBJECT, and where it then flows.
        #[arg(long, value_enum, conflicts_with_all = ["account", "identity"])]
        who_can: Option<crate::access::Action>,
        /// What the identity NAME (its permissions.json entry) may do.
        #[arg(long, value_name = "NAME", conflicts_with = "account")]
        identity: Option<String>,
        /// A literal subject, e.g. sensor.temp.
        #[arg(required_unless_present = "identity")]
        subject: Option<String>,
    },
    /// Helm post-renderer: check the rendered manifests on stdin and write them to stdout
    /// unchanged.
    ///
    /// Helm 3: `helm install ... --post-renderer natscc --post-renderer-args post-render`.
    /// Helm 4: install the plugin in helm-plugin/natscc-postrender and pass
    /// `--post-renderer natscc-postrender`. On any error nothing is written and the exit code is 1.
    PostRender {
        /// Values files to compile; the generated ConfigMaps' contents are replaced by what they
        /// compile to.
        #[arg(short = 'f', long = "values", value_name = "FILE", num_args = 1..)]
        values: Vec<PathBuf>,
        /// Override a value (with --values), Helm syntax: a.b[0].c=v.
        #[arg(long = "set", value_name = "PATH=VALUE", requires = "values")]
        set: Vec<String>,
        /// Like --set, but every value is a string.
        #[arg(long = "set-string", value_name = "PATH=VALUE", requires = "values")]
        set_string: Vec<String>,
        /// The nats-server release the pods' image runs (2.12.6), for an image that names none
        /// (a digest, `latest`).
        #[arg(long, value_name = "VERSION", value_parser = Stated::from_flag)]
        server_version: Option<Stated>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Run the whole fleet locally as production runs it: every cluster's nats replicas
    /// (routed), its nats-mtls server and its auth callout, from the compiled files with only
    /// loopback addresses, free ports and local certificates; prints each cluster's addresses,
    /// then `ready` once every route, leaf connection and stream source is up; Ctrl-C stops it.
    Up {
        /// The fleet file.
        #[arg(value_name = "FLEET", required_unless_present = "explain_overlay")]
        fleet: Option<PathBuf>,
        /// Print every rewrite natscc up makes to the compiled files, and start nothing.
        #[arg(long)]
        explain_overlay: bool,
        /// Watch the fleet's files: on an edit, print the plan (`natscc diff`) and apply it as
        /// production does (files swapped, SIGHUP); servers that refuse the reload keep their
        /// old configuration and are listed as stale until `r` + Enter restarts them.
        #[arg(long)]
        watch: bool,
        /// With --watch: restart stale servers at once.
        #[arg(long, requires = "watch")]
        restart: bool,
    },
    /// What `helm upgrade` from the values that run (--from, --from-rev, --from-manifest) to
    /// these values does to the running bus: every change in the bus's terms and how it reaches
    /// the pods (live, at restart only, rolls the pods, blocks the upgrade, refused by
    /// JetStream). Exit 0 no change, 2 every change live, 3 a restart needed or something
    /// fails, 1 findings or unreadable input.
    Diff(crate::diff::cli::DiffArgs),
    /// Run the auth callout alone: answer $SYS.REQ.USER.AUTH as the chart's auth-callout
    /// service does (OAuth2, mTLS, NKey, no-auth against permissions.json).
    ///
    /// Keys from the environment, as the pod gets them: AUTH_CALLOUT_NATS_NKEY_SEED,
    /// AUTH_CALLOUT_NATS_ISSUER_SEED, AUTH_CALLOUT_NATS_XKEY_SEED. Prints `ready` once
    /// subscribed; logs JSON lines on stderr; stops on SIGINT, SIGTERM or SIGHUP.
    AuthCallout(AuthCalloutArgs),
    /// A local OAuth2 issuer: `--generate-key KEY --jwks JWKS` creates a signing key and its
    /// JWKS; `token NAME --key KEY ...` prints a token for the OAuth2 identity NAME of
    /// permissions.json that the auth callout accepts.
    Token(TokenArgs),
    /// Generate or check the NKeys and Secret layout (no nsc or nk needed).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// List every diagnostic code with its severity and what it catches; with --explain, print
    /// one code's documentation.
    Rules {
        /// A code (the `natscc::` prefix may be left out): why it breaks the bus, what to write
        /// instead, and an example.
        #[arg(long, value_name = "CODE")]
        explain: Option<String>,
    },
    /// Print a shell completion script: `natscc completions bash > /etc/bash_completion.d/natscc`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff); with --out, write one page per command (natscc.1, natscc-lint.1,
    /// ...).
    Man {
        #[arg(long = "out", value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print the values JSON Schema (with --chart, the one for the plain NATS chart's values).
    Schema {
        /// The schema of the official NATS chart's values (`config`, `tlsCA`, `natscc`), as
        /// plain-chart mode reads them.
        #[arg(long)]
        chart: bool,
    },
}

#[derive(Args, Debug)]
pub struct AuthCalloutArgs {
    /// permissions.json as natscc compiles it (the `auth-callout-permissions` ConfigMap);
    /// default: permissions.file of the config, else /etc/auth-callout/permissions.json.
    #[arg(long, value_name = "FILE")]
    pub permissions: Option<PathBuf>,
    /// The service's config.yaml (the compiled `auth-callout-config` ConfigMap's key).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The server to connect to (repeatable: tried in turn); default: nats.url of the config.
    #[arg(long = "nats-url", value_name = "URL")]
    pub nats_url: Vec<String>,
    /// The JWKS (a file or an http:// URL); turns the OAuth2 authenticator on.
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,
    /// The `iss` OAuth2 tokens must carry.
    #[arg(long = "jwks-issuer", value_name = "ISS")]
    pub jwks_issuer: Option<String>,
    /// The `aud` OAuth2 tokens must carry.
    #[arg(long = "jwks-audience", value_name = "AUD")]
    pub jwks_audience: Option<String>,
    /// The accepted signing algorithms (comma-separated; the peer's default: RS256).
    #[arg(
        long = "jwks-signing-algorithms",
        value_name = "ALG,...",
        value_delimiter = ','
    )]
    pub jwks_signing_algorithms: Vec<String>,
    /// The mTLS CA certificate (PEM); turns the mTLS authenticator on.
    #[arg(long = "mtls-ca", value_name = "FILE")]
    pub mtls_ca: Option<PathBuf>,
    /// How long to wait for the server before giving up (exit 1), e.g. 30s, 500ms.
    #[arg(long = "ready-timeout", value_name = "DURATION", default_value = "30s")]
    pub ready_timeout: String,
    /// Append the JSON log lines to this file instead of stderr.
    #[arg(long = "log-file", value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    /// The OAuth2 identity (its name under `oauth2` in permissions.json).
    #[arg(value_name = "NAME", required_unless_present = "generate_key")]
    pub name: Option<String>,
    /// Create a signing key here (0600; an existing file is refused) and its JWKS (--jwks),
    /// instead of a token.
    #[arg(
        long = "generate-key",
        value_name = "KEY",
        conflicts_with = "name",
        requires = "jwks"
    )]
    pub generate_key: Option<PathBuf>,
    /// With --generate-key: where the JWKS goes.
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,
    /// With --generate-key: the signing algorithm (one the callout's signing-algorithms lists).
    #[arg(long, value_name = "ALG", default_value = "RS256")]
    pub alg: String,
    /// The signing key --generate-key wrote.
    #[arg(long, value_name = "KEY", required_unless_present = "generate_key")]
    pub key: Option<PathBuf>,
    /// permissions.json.
    #[arg(long, value_name = "FILE", required_unless_present = "generate_key")]
    pub permissions: Option<PathBuf>,
    /// The token's `iss` (the callout's jwks.issuer).
    #[arg(long, value_name = "ISS", required_unless_present = "generate_key")]
    pub issuer: Option<String>,
    /// The token's `aud` (the callout's jwks.audience).
    #[arg(long, value_name = "AUD", required_unless_present = "generate_key")]
    pub audience: Option<String>,
    /// How long the token is valid, e.g. 1h, 30m, 90s.
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub ttl: String,
    /// Write the token to this file (0600) instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `30s`, `500ms`, `5m`, `1h`, or plain seconds.
fn duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 30s, 500ms, 5m, 1h)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("`{s}` is not a duration (e.g. 30s, 500ms, 5m, 1h)")),
    };
    Ok(std::time::Duration::from_secs_f64(secs))
}

fn auth_callout(a: &AuthCalloutArgs) -> i32 {
    use crate::callout::{Callout, CalloutConfig, JwksSource, OAuth2Config};
    let ready_timeout = match duration(&a.ready_timeout) {
        Ok(d) => d,
        Err(e) => return usage("auth-callout", e),
    };
    let mut cfg = match CalloutConfig::from_pod_env(a.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return usage("auth-callout", e),
    };
    if let Some(p) = &a.permissions {
        cfg.permissions = p.clone();
    }
    if !a.nats_url.is_empty() {
        cfg.nats_urls = a.nats_url.clone();
    }
    if let Some(j) = &a.jwks {
        let source = match JwksSource::from_setting(j) {
            Ok(s) => s,
            Err(e) => return usage("auth-callout", e),
        };
        let prev = cfg.oauth2.take();
        cfg.oauth2 = Some(OAuth2Config {
            jwks: source,
            issuer: prev.as_ref().map(|o| o.issuer.clone()).unwrap_or_default(),
            audience: prev
                .as_ref()
                .map(|o| o.audience.clone())
                .unwrap_or_default(),
            signing_algorithms: prev
                .map(|o| o.signing_algorithms)
                .unwrap_or_else(|| vec!["RS256".into()]),
        });
    }
    if let Some(o) = cfg.oauth2.as_mut() {
        if let Some(i) = &a.jwks_issuer {
            o.issuer = i.clone();
        }
        if let Some(au) = &a.jwks_audience {
            o.audience = au.clone();
        }
        if !a.jwks_signing_algorithms.is_empty() {
            o.signing_algorithms = a.jwks_signing_algorithms.clone();
        }
    }
    if let Some(ca) = &a.mtls_ca {
        cfg.mtls_ca = Some(ca.clone());
    }
    cfg.log = a.log_file.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        if let Err(e) = signal_hook::flag::register(sig, std::sync::Arc::clone(&stop)) {
            return usage("auth-callout", format!("cannot handle signals: {e}"));
        }
    }
    let callout = match Callout::start(cfg, ready_timeout) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("natscc auth-callout: {e}");
            return match e {
                crate::callout::CalloutError::NotReady(_) => EXIT_FINDINGS,
                crate::callout::CalloutError::Invalid(_) => EXIT_USAGE,
            };
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    callout.stop();
    EXIT_OK
}

fn token(a: &TokenArgs) -> i32 {
    use crate::callout::{LocalIssuer, Permissions};
    if let Some(key) = &a.generate_key {
        let Some(jwks) = &a.jwks else {
            return usage("token", "--generate-key needs --jwks FILE");
        };
        // Tokens signed with a key stay valid only while its JWKS does: never replace one.
        if std::fs::symlink_metadata(key).is_ok() {
            return usage(
                "token",
                format!(
                    "{} exists; natscc never replaces a signing key (remove it, or mint with it)",
                    key.display()
                ),
            );
        }
        let r = LocalIssuer::generate(&a.alg)
            .and_then(|i| i.write_key(key).map(|_| i))
            .and_then(|i| i.write_jwks(jwks).map(|_| i));
        return match r {
            Ok(i) => {
                println!(
                    "natscc token: {} key {} written to {} (0600), its JWKS to {}",
                    i.alg(),
                    i.kid(),
                    key.display(),
                    jwks.display()
                );
                EXIT_OK
            }
            Err(e) => usage("token", e),
        };
    }
    let (Some(name), Some(key), Some(perms), Some(iss), Some(aud)) =
        (&a.name, &a.key, &a.permissions, &a.issuer, &a.audience)
    else {
        return usage(
            "token",
            "NAME, --key, --permissions, --issuer and --audience are needed",
        );
    };
    let ttl = match duration(&a.ttl) {
        Ok(d) => d,
        Err(e) => return usage("token", e),
    };
    let env: std::collections::BTreeMap<String, String> = std::env::vars().collect();
    let perms = match Permissions::load(perms, &env) {
        Ok(p) => p,
        Err(e) => return usage("token", format!("{}: {e}", perms.display())),
    };
    let token = match LocalIssuer::load_key(key).and_then(|i| i.mint(&perms, name, iss, aud, ttl)) {
        Ok(t) => t,
        Err(e) => return usage("token", e),
    };
    match &a.out {
        Some(p) => {
            match crate::callout::issuer::write_private(p, format!("{token}\n").as_bytes()) {
                Ok(()) => EXIT_OK,
                Err(e) => usage("token", e),
            }
        }
        None => {
            println!("{token}");
            EXIT_OK
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create the CSC's keys, and each CPC's with --cpc; existing keys are left unchanged.
    Generate {
        /// A CPC id; repeat for each CPC.
        #[arg(long = "cpc", value_name = "ID")]
        cpcs: Vec<String>,
        /// An extra account whose leaf keys each CPC needs; repeatable.
        #[arg(long = "extra-account", value_name = "NAME")]
        extra_accounts: Vec<String>,
        /// Output folder: one folder per cluster, per Secret, one file per key.
        #[arg(short = 'o', long = "out", value_name = "DIR")]
        out: PathBuf,
        /// Also write each cluster's Secrets as Kubernetes manifests (secrets.k8s.yaml, 0600).
        #[arg(long)]
        k8s: bool,
    },
    /// Prove each seed matches its pubkey and each key has the right type.
    Check {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

/// Findings that kept natscc from doing its work (a file it cannot read, a malformed --set, an
/// output folder it cannot write) make the exit code 2, not 1.
fn is_usage(d: &Diagnostic) -> bool {
    matches!(
        d.code,
        Code::Io | Code::InputTooLarge | Code::SetSyntax | Code::OutputIo
    )
}

/// The README's table: 0 clean, 1 findings, 2 usage or I/O error.
fn exit_code<'a>(diags: impl IntoIterator<Item = &'a Diagnostic>) -> i32 {
    let mut code = EXIT_OK;
    for d in diags {
        if is_usage(d) {
            return EXIT_USAGE;
        }
        if d.is_error() {
            code = EXIT_FINDINGS;
        }
    }
    code
}

fn usage(command: &str, message: impl std::fmt::Display) -> i32 {
    eprintln!(
        "natscc {command}: {}",
        crate::diag::redact::redact(&message.to_string())
    );
    EXIT_USAGE
}

/// Prints findings on stderr.
fn show(diags: &[Diagnostic], sources: &Sources, format: Option<Format>) {
    let stderr = std::io::stderr();
    let format = format.unwrap_or(Format::Human);
    let color =
        format == Format::Human && stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = stderr
        .lock()
        .write_all(render::render(format, diags, sources, color).as_bytes());
}

/// How writing the output folder ended; a failure is an OutputIo finding (exit 2).
fn written(
    out: &Path,
    result: std::io::Result<()>,
    sources: &Sources,
    format: Option<Format>,
) -> i32 {
    if let Err(e) = result {
        let d = Diagnostic::new(
            Code::OutputIo,
            format!("cannot write the output folder {}: {e}", out.display()),
        )
        .help("give -o a folder natscc may create or replace; nothing was written");
        show(&[d], sources, format);
        return EXIT_USAGE;
    }
    EXIT_OK
}

const PLAIN_NOTE: &str = "this is a plain NATS chart values file (no global.eventBus); graph and \
                          explain work on event-bus values";

/// Prints what graph or explain answered. Errors in the values are reported and make the exit
/// code 1 even when the drawing is printed: a cycle is drawn in red, and it is an error.
fn answer(command: &str, mut a: Answer) -> i32 {
    let levels = match ReportArgs::default().levels() {
        Ok(l) => l,
        Err(e) => return usage(command, e),
    };
    levels.apply(&mut a.diags);
    if !a.diags.is_empty() {
        show(&a.diags, &a.sources, None);
    }
    // A drawing or an explanation names accounts, users and subjects from the values: a seed
    // or a clear password written there (an error of its own; a map-valued id is printed as
    // Go prints maps, `map[Password:x]`) is redacted as in every report.
    use crate::diag::redact::{password_words, redact_words};
    let words: Vec<String> = a
        .sources
        .iter()
        .flat_map(|(_, s)| password_words(&s.text))
        .collect();
    let redact = |t: &str| redact_words(&crate::diag::redact::redact(t), &words).into_owned();
    if let Some(note) = &a.note {
        eprintln!("natscc {command}: {}", redact(note));
    }
    if let Some(u) = &a.usage {
        return usage(command, u);
    }
    let code = exit_code(&a.diags);
    match &a.text {
        Some(text) if code != EXIT_USAGE => {
            print!("{}", redact(text));
            code
        }
        _ => code.max(EXIT_FINDINGS),
    }
}

fn literal(subject: &str) -> bool {
    crate::subject::Pattern::parse(subject).is_ok_and(|p| p.is_literal())
}

fn not_literal(subject: &str) -> String {
    format!(
        "`{subject}` is not a literal subject (no wildcards): a message is published on one subject"
    )
}

fn compile(values: &ValuesArgs, out: &Path, stated: Option<&Stated>, r: &ReportArgs) -> i32 {
    let levels = match r.levels() {
        Ok(l) => l,
        Err(e) => return usage("compile", e),
    };
    if let Some(path) = &values.fleet {
        return compile_fleet(path, out, r, &levels);
    }
    let c = crate::driver::compile_stated(&values.inputs(), stated, true);
    let mut diags = c.diags;
    r.judge(&levels, &mut diags);
    show(&diags, &c.sources, r.format);
    let code = exit_code(&diags);
    if code != EXIT_OK || c.files.is_empty() {
        return code.max(EXIT_FINDINGS);
    }
    let result = crate::emit::write_atomic(out, &c.files);
    written(out, result, &c.sources, r.format)
}

/// A fleet's clusters are written into a stage beside `-o` as each is compiled; the stage
/// replaces `-o` only when the whole fleet, its findings judged, has no error.
fn compile_fleet(path: &Path, out: &Path, r: &ReportArgs, levels: &Levels) -> i32 {
    let stage = crate::emit::Stage::new(out);
    let (f, streamed) = match &stage {
        Ok(stage) => crate::fleet::compile_into(path, stage),
        // The output folder's problem is reported after the fleet's own findings.
        Err(_) => (crate::fleet::compile(path, false), Ok(())),
    };
    let mut diags = f.diags;
    r.judge(levels, &mut diags);
    show(&diags, &f.sources, r.format);
    let code = exit_code(&diags);
    if code != EXIT_OK || f.clusters.is_empty() {
        return code.max(EXIT_FINDINGS);
    }
    let result = stage.and_then(|stage| streamed.and_then(|()| stage.commit()));
    written(out, result, &f.sources, r.format)
}

fn lint(patterns: &[String], with: &[PathBuf], r: &ReportArgs) -> i32 {
    let levels = match r.levels() {
        Ok(l) => l,
        Err(e) => return usage("lint", e),
    };
    let mut results = match crate::lint::run(patterns, with) {
        Ok(results) => results,
        Err(e) => return usage("lint", e),
    };
    for (diags, _) in &mut results {
        r.judge(&levels, diags);
    }
    let items = crate::lint::shared_once(&results);
    let stdout = std::io::stdout();
    let format = r.format.unwrap_or(if stdout.is_terminal() {
        Format::Human
    } else {
        Format::Concise
    });
    let color =
        format == Format::Human && stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = stdout
        .lock()
        .write_all(render::render_many(format, &items, color).as_bytes());
    exit_code(results.iter().flat_map(|(d, _)| d))
}

fn post_render(inputs: Option<Inputs>, stated: Option<&Stated>, r: &ReportArgs) -> i32 {
    let levels = match r.levels() {
        Ok(l) => l,
        Err(e) => return usage("post-render", e),
    };
    let input = match crate::input::read_stdin() {
        Ok(input) => input,
        Err(e) => {
            let d = Diagnostic::new(
                e.code(),
                format!("cannot read the rendered manifests on standard input: {e}"),
            )
            .help(
                "pipe one release's rendered manifests (`helm template ... | natscc post-render`, \
                 or helm --post-renderer natscc); an event-bus release is about 100 KB",
            );
            show(&[d], &Sources::default(), r.format);
            return EXIT_USAGE;
        }
    };
    let mut outcome = crate::postrender::run_stated(input, inputs.as_ref(), stated);
    r.judge(&levels, &mut outcome.diags);
    show(&outcome.diags, &outcome.sources, r.format);
    let code = exit_code(&outcome.diags);
    match outcome.output {
        Some(text) if code == EXIT_OK => {
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
            {
                return usage("post-render", format!("cannot write stdout: {e}"));
            }
            EXIT_OK
        }
        _ => code.max(EXIT_FINDINGS),
    }
}

fn graph(values: &ValuesArgs, format: GraphFormat) -> Answer {
    let draw: Draw = match format {
        GraphFormat::Dot => crate::graph::render::dot,
        GraphFormat::Mermaid => crate::graph::render::mermaid,
    };
    if let Some(fleet) = &values.fleet {
        return crate::fleet::cli::graph(fleet, draw);
    }
    let c = crate::driver::check_only(&values.inputs());
    let text = c.rendered().map(|(m, bus)| {
        let g = crate::graph::build(m, bus, "");
        let red = crate::graph::render::cycle_edges(&g, &crate::graph::cycles::find(&g));
        draw(&g, &red)
    });
    let note = (text.is_none() && !c.has_errors()).then(|| PLAIN_NOTE.to_string());
    Answer {
        text,
        note,
        diags: c.diags,
        sources: c.sources,
        usage: None,
    }
}

/// `explain --who-can` / `--identity` on one cluster's values.
fn access(values: &ValuesArgs, cluster: Option<&str>, q: &Question) -> Answer {
    if let Question::WhoCan(_, subject) = q
        && !literal(subject)
    {
        return Answer {
            usage: Some(not_literal(subject)),
            ..Default::default()
        };
    }
    if let Some(fleet) = &values.fleet {
        return crate::fleet::cli::access(fleet, cluster, q);
    }
    let c = crate::driver::check_only(&values.inputs());
    let mut a = Answer::default();
    match c.rendered() {
        None if !c.has_errors() => a.note = Some(PLAIN_NOTE.to_string()),
        None => {}
        Some((m, bus)) => {
            let g = crate::graph::build(m, bus, "");
            let explain = |n, s: &str| crate::graph::render::explain(&g, n, s);
            let flows = crate::access::Flows {
                graph: &g,
                explain: &explain,
            };
            match crate::access::cluster_grants("", bus) {
                Ok(grants) => (a.text, a.usage) = crate::access::answer(&flows, &grants, q),
                Err(e) => a.usage = Some(e),
            }
        }
    }
    a.diags = c.diags;
    a.sources = c.sources;
    a
}

fn explain(values: &ValuesArgs, account: &str, cluster: Option<&str>, subject: &str) -> Answer {
    if let Some(fleet) = &values.fleet {
        return crate::fleet::cli::explain(fleet, cluster, account, subject);
    }
    if !literal(subject) {
        return Answer {
            usage: Some(not_literal(subject)),
            ..Default::default()
        };
    }
    let c = crate::driver::check_only(&values.inputs());
    let (mut text, mut note, mut problem) = (None, None, None);
    match c.rendered() {
        None if !c.has_errors() => note = Some(PLAIN_NOTE.to_string()),
        None => {}
        Some((m, bus)) => {
            let g = crate::graph::build(m, bus, "");
            match g.find("", account) {
                Some(start) => text = Some(crate::graph::render::explain_text(&g, start, subject)),
                None => {
                    let names: Vec<String> = g.g.node_weights().map(|a| a.name.clone()).collect();
                    problem = Some(format!(
                        "no account `{account}` on this cluster; the accounts are: {}",
                        names.join(", ")
                    ));
                }
            }
        }
    }
    Answer {
        text,
        note,
        usage: problem,
        diags: c.diags,
        sources: c.sources,
    }
}

fn up(path: &Path, watch: Option<crate::diff::watch::Options>) -> i32 {
    let fleet = crate::fleet::compile(path, false);
    // Only errors stop a dry run; warnings are compile's to show.
    let (errors, warnings): (Vec<_>, Vec<_>) =
        fleet.diags.iter().cloned().partition(|d| d.is_error());
    show(&errors, &fleet.sources, None);
    if !warnings.is_empty() {
        eprintln!(
            "natscc up: {} warning(s); `natscc compile --fleet` shows them",
            warnings.len()
        );
    }
    let code = exit_code(&errors);
    if code != EXIT_OK {
        if code == EXIT_FINDINGS {
            eprintln!("natscc up: the fleet has errors; nothing was started");
        }
        return code;
    }
    let watch = watch.map(|opts| -> crate::fleet::cli::StartWatch {
        Box::new(move || {
            crate::diff::watch::Watcher::new(opts)
                .map(|w| Box::new(w) as Box<dyn crate::fleet::cli::Watch>)
        })
    });
    match crate::fleet::cli::up_watching(&fleet, watch) {
        Up::Stopped => EXIT_OK,
        Up::Usage(e) => usage("up", e),
        Up::Failed(e) => {
            eprintln!("natscc up: {e}");
            EXIT_FINDINGS
        }
    }
}

fn keys_check(dir: &Path) -> i32 {
    let checked = crate::keys::inspect(dir);
    {
        let mut out = std::io::stdout().lock();
        for d in &checked.findings {
            let _ = writeln!(out, "natscc keys: {}", crate::keys::line(d));
        }
        let _ = out.flush();
    }
    if !checked.errors.is_empty() {
        for e in &checked.errors {
            eprintln!("natscc keys: {}", crate::keys::KeysError(e.clone()));
        }
        return EXIT_USAGE;
    }
    if checked.findings.is_empty() {
        println!("natscc keys: every key in {} checks out", dir.display());
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}

/// `natscc rules`: the code table, then how to change a code's severity.
fn rules() -> i32 {
    let mut out = std::io::stdout().lock();
    for c in Code::ALL {
        let sev = match c.default_severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{:<40} {:<8} {}", c.name(), sev, c.doc());
    }
    let _ = out.write_all(
        concat!(
            "\nSeverities per code (lint, compile, post-render; repeatable):\n",
            "  --allow CODE   drop the findings of a warning\n",
            "  --warn CODE    keep them warnings\n",
            "  --deny CODE    make them errors\n",
            "The same lists in a config file, .natscc.yaml in the current folder or the one \
             --config names:\n",
            "  allow: [natscc::gateway::tlsroute_hostnames]\n",
            "  deny: [natscc::cross_layer::redundant]\n",
            "The command line wins over the file; --deny-warnings applies last. Errors cannot be \
             allowed\n",
            "or lowered: they are what nats-server or Helm refuses. An unknown code is a usage \
             error (exit 2).\n",
        )
        .as_bytes(),
    );
    EXIT_OK
}

/// `natscc rules --explain CODE`: the code's section of docs/rules.md.
fn explain_rule(name: &str) -> i32 {
    match crate::diag::levels::parse_code(name) {
        Ok(code) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(crate::diag::explain::section(code).trim_end().as_bytes());
            let _ = out.write_all(b"\n");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("natscc: {e}");
            EXIT_USAGE
        }
    }
}

/// `natscc keys generate`: the keys folder, and with --k8s each cluster's Secret manifests.
fn keys_generate(cpcs: &[String], extra_accounts: &[String], out: &Path, k8s: bool) -> i32 {
    for id in cpcs {
        if !crate::check::values::valid_id(id) {
            eprintln!("natscc keys: `{id}` is not a valid CPC id (lower-case letters and digits)");
            return EXIT_USAGE;
        }
    }
    match crate::keys::generate(out, cpcs, extra_accounts) {
        Ok(r) => {
            for p in &r.problems {
                eprintln!("natscc keys: {p}");
            }
            if k8s {
                let mut dirs = vec!["csc".to_string()];
                dirs.extend(cpcs.iter().map(|id| format!("cpc-{id}")));
                for d in dirs {
                    let dir = out.join(&d);
                    let text = match crate::keys::k8s_secrets(&dir) {
                        Ok(t) => t,
                        Err(e) => {
                            eprintln!("natscc keys: {e}");
                            return EXIT_USAGE;
                        }
                    };
                    let path = out.join(format!("{d}.secrets.k8s.yaml"));
                    use std::os::unix::fs::OpenOptionsExt;
                    let w = std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .mode(0o600)
                        .open(&path)
                        .and_then(|mut f| f.write_all(text.as_bytes()));
                    if let Err(e) = w {
                        eprintln!("natscc keys: cannot write {}: {e}", path.display());
                        return EXIT_USAGE;
                    }
                }
            }
            println!(
                "natscc keys: {} created, {} kept in {}",
                r.created.len(),
                r.kept,
                out.display()
            );
            if r.problems.is_empty() {
                EXIT_OK
            } else {
                EXIT_FINDINGS
            }
        }
        Err(e) => {
            eprintln!("natscc keys: {e}");
            EXIT_USAGE
        }
    }
}

/// `natscc man`: the page on stdout, or one page per command into a folder.
fn man(out: Option<&Path>) -> i32 {
    let Some(dir) = out else {
        let mut page = vec![];
        return match clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .and_then(|_| std::io::stdout().write_all(&page))
        {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("natscc man: {e}");
                EXIT_USAGE
            }
        };
    };
    match std::fs::create_dir_all(dir).and_then(|_| clap_mangen::generate_to(Cli::command(), dir)) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("natscc man: cannot write {}: {e}", dir.display());
            EXIT_USAGE
        }
    }
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            // diff's 2 means "every change live": its usage errors exit 1, as helm-diff's do.
            let diff = std::env::args().nth(1).is_some_and(|a| a == "diff");
            return match (e.use_stderr(), diff) {
                (false, _) => EXIT_OK,
                (true, true) => crate::diff::cli::EXIT_FINDINGS,
                (true, false) => EXIT_USAGE,
            };
        }
    };
    match cli.command {
        Command::Compile {
            values,
            out,
            server_version,
            report: r,
        } => compile(&values, &out, server_version.as_ref(), &r),
        Command::Lint {
            patterns,
            with,
            report: r,
        } => lint(&patterns, &with, &r),
        Command::PostRender {
            values,
            set,
            set_string,
            server_version,
            report: r,
        } => post_render(
            (!values.is_empty()).then_some(Inputs {
                files: values,
                set,
                set_string,
            }),
            server_version.as_ref(),
            &r,
        ),
        Command::Graph { values, format } => answer("graph", graph(&values, format)),
        Command::Explain {
            values,
            account,
            cluster,
            who_can,
            identity,
            subject,
        } => {
            let subject = subject.unwrap_or_default();
            let query = match (who_can, identity) {
                (Some(action), _) => Some(Question::WhoCan(action, subject.clone())),
                (_, Some(name)) => Some(Question::Identity(name)),
                _ => None,
            };
            let a = match query {
                Some(q) => access(&values, cluster.as_deref(), &q),
                None => explain(
                    &values,
                    account.as_deref().unwrap_or_default(),
                    cluster.as_deref(),
                    &subject,
                ),
            };
            answer("explain", a)
        }
        Command::Up {
            explain_overlay: true,
            ..
        } => {
            print!("{}", crate::fleet::overlay::explain());
            EXIT_OK
        }
        Command::Up {
            fleet: Some(fleet),
            watch,
            restart,
            ..
        } => up(
            &fleet,
            watch.then_some(crate::diff::watch::Options {
                fleet: fleet.clone(),
                restart,
            }),
        ),
        Command::Up { fleet: None, .. } => usage("up", "give the fleet file"),
        Command::Diff(a) => crate::diff::cli::run(&a),
        Command::AuthCallout(a) => auth_callout(&a),
        Command::Token(a) => token(&a),
        Command::Keys(KeysCommand::Generate {
            cpcs,
            extra_accounts,
            out,
            k8s,
        }) => keys_generate(&cpcs, &extra_accounts, &out, k8s),
        Command::Keys(KeysCommand::Check { dir }) => keys_check(&dir),
        Command::Rules { explain: None } => rules(),
        Command::Rules {
            explain: Some(code),
        } => explain_rule(&code),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "natscc", &mut std::io::stdout());
            EXIT_OK
        }
        Command::Man { out } => man(out.as_deref()),
        Command::Schema { chart } => {
            if chart {
                print!("{}", crate::chart::keys::json_schema_text());
            } else {
                print!("{}", crate::check::schema::SCHEMA_TEXT);
            }
            EXIT_OK
        }
    }
}
