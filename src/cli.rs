//! The command line: argument parsing and exit codes. No compiler logic lives here.

use crate::diag::Severity;
use crate::diag::render::{self, Format};
use crate::load::Inputs;
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Exit codes: 0 clean, 1 findings, 2 usage or I/O error.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

#[derive(Parser, Debug)]
#[command(name = "natscc", version, about = "Compile and check NATS event-bus Helm values into NATS server configuration")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct ValuesArgs {
    /// A values file; give several to merge them in order, later files win (as helm -f).
    #[arg(short = 'f', long = "values", value_name = "FILE", required_unless_present = "fleet")]
    pub values: Vec<PathBuf>,
    /// A fleet file (the CSC and its CPCs, schema/fleet.schema.json) instead of values files.
    #[arg(long, value_name = "FLEET", conflicts_with_all = ["values", "set", "set_string"])]
    pub fleet: Option<PathBuf>,
    /// Override a value, Helm syntax: a.b[0].c=v (several separated by commas).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Like --set, but every value is a string.
    #[arg(long = "set-string", value_name = "PATH=VALUE")]
    pub set_string: Vec<String>,
}

impl ValuesArgs {
    pub fn inputs(&self) -> Inputs {
        Inputs { files: self.values.clone(), set: self.set.clone(), set_string: self.set_string.clone() }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// How to print findings.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Treat warnings as errors.
    #[arg(long)]
    pub deny_warnings: bool,
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
    /// Show every account and subject a message published in ACCOUNT on SUBJECT reaches.
    Explain {
        #[command(flatten)]
        values: ValuesArgs,
        /// The account the message is published in (e.g. CPC, CSC).
        #[arg(long)]
        account: String,
        /// With --fleet: the cluster the message is published in (e.g. cpc-1).
        #[arg(long, requires = "fleet")]
        cluster: Option<String>,
        /// A literal subject, e.g. sensor.temp.
        subject: String,
    },
    /// Helm post-renderer: check the rendered manifests on stdin and write them to stdout unchanged.
    ///
    /// Helm 3: `helm install ... --post-renderer natscc --post-renderer-args post-render`.
    /// Helm 4: install the plugin in helm-plugin/natscc-postrender and pass
    /// `--post-renderer natscc-postrender`. On any error nothing is written and the exit code is 1.
    PostRender {
        /// Values files to compile; the generated ConfigMaps' contents are replaced by what they compile to.
        #[arg(short = 'f', long = "values", value_name = "FILE", num_args = 1..)]
        values: Vec<PathBuf>,
        /// Override a value (with --values), Helm syntax: a.b[0].c=v.
        #[arg(long = "set", value_name = "PATH=VALUE", requires = "values")]
        set: Vec<String>,
        /// Like --set, but every value is a string.
        #[arg(long = "set-string", value_name = "PATH=VALUE", requires = "values")]
        set_string: Vec<String>,
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Run the whole fleet locally: one nats-server per cluster on loopback, leaf connections
    /// up, streams created; prints each cluster's addresses, then `ready`; Ctrl-C stops it all.
    Up {
        /// The fleet file.
        #[arg(value_name = "FLEET")]
        fleet: PathBuf,
    },
    /// Generate or check the NKeys and Secret layout (no nsc or nk needed).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// List every diagnostic code with its severity and what it catches.
    Rules,
    /// Print a shell completion script: `natscc completions bash > /etc/bash_completion.d/natscc`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff); with --out, write one page per command (natscc.1, natscc-lint.1, ...).
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

pub(crate) fn report(diags: &mut [crate::diag::Diagnostic], sources: &crate::diag::Sources, args: &ReportArgs) -> bool {
    if args.deny_warnings {
        for d in diags.iter_mut() {
            d.severity = Severity::Error;
        }
    }
    let stderr = std::io::stderr();
    let format = args.format.unwrap_or(Format::Human);
    let color = format == Format::Human && stderr.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let text = render::render(format, diags, sources, color);
    let _ = stderr.lock().write_all(text.as_bytes());
    diags.iter().any(|d| d.severity == Severity::Error)
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    match cli.command {
        Command::Compile { values, out, report: r } => {
            if let Some(fleet) = &values.fleet {
                return crate::fleet::cli::compile(fleet, &out, &r);
            }
            let mut compiled = crate::compile(&values.inputs());
            let failed = report(&mut compiled.diags, &compiled.sources, &r);
            if failed || compiled.files.is_empty() {
                if compiled.diags.iter().any(|d| d.code == crate::diag::Code::Io) {
                    return EXIT_USAGE;
                }
                return EXIT_FINDINGS;
            }
            if let Err(e) = crate::emit::write_atomic(&out, &compiled.files) {
                let d = crate::diag::Diagnostic::new(crate::diag::Code::OutputIo, format!("cannot write the output folder {}: {e}", out.display()))
                    .help("give -o a folder natscc may create or replace; nothing was written");
                report(&mut [d], &compiled.sources, &r);
                return EXIT_USAGE;
            }
            EXIT_OK
        }
        Command::Lint { patterns, with, report: r } => crate::lint::run(&patterns, &with, &r),
        Command::PostRender { values, set, set_string, report: r } => {
            let inputs = (!values.is_empty()).then_some(Inputs { files: values, set, set_string });
            crate::postrender::main(inputs, &r)
        }
        Command::Graph { values, format } => {
            if let Some(fleet) = &values.fleet {
                return crate::fleet::cli::graph(fleet, format);
            }
            let compiled = crate::check_only(&values.inputs());
            let Some(m) = &compiled.model else {
                let _ = report(&mut compiled.diags.clone(), &compiled.sources, &ReportArgs { format: None, deny_warnings: false });
                if !compiled.has_errors() {
                    eprintln!("natscc: this is a plain NATS chart values file (no global.eventBus); graph and explain work on event-bus values");
                }
                return if compiled.diags.iter().any(|d| d.code == crate::diag::Code::Io) { EXIT_USAGE } else { EXIT_FINDINGS };
            };
            let g = crate::graph::build(m, "");
            let red = crate::graph::render::cycle_edges(&g, &crate::graph::cycles::find(&g));
            print!(
                "{}",
                match format {
                    GraphFormat::Dot => crate::graph::render::dot(&g, &red),
                    GraphFormat::Mermaid => crate::graph::render::mermaid(&g, &red),
                }
            );
            EXIT_OK
        }
        Command::Explain { values, account, cluster, subject } => {
            if let Some(fleet) = &values.fleet {
                return crate::fleet::cli::explain(fleet, cluster.as_deref(), &account, &subject);
            }
            let compiled = crate::check_only(&values.inputs());
            let Some(m) = &compiled.model else {
                let _ = report(&mut compiled.diags.clone(), &compiled.sources, &ReportArgs { format: None, deny_warnings: false });
                if !compiled.has_errors() {
                    eprintln!("natscc: this is a plain NATS chart values file (no global.eventBus); graph and explain work on event-bus values");
                }
                return if compiled.diags.iter().any(|d| d.code == crate::diag::Code::Io) { EXIT_USAGE } else { EXIT_FINDINGS };
            };
            if crate::subject::Pattern::parse(&subject).map(|p| !p.is_literal()).unwrap_or(true) {
                eprintln!("natscc: `{subject}` is not a literal subject (no wildcards): a message is published on one subject");
                return EXIT_USAGE;
            }
            let g = crate::graph::build(m, "");
            let Some(start) = g.find("", &account) else {
                let names: Vec<String> = g.g.node_weights().map(|a| a.name.clone()).collect();
                eprintln!("natscc: no account `{account}` on this cluster; the accounts are: {}", names.join(", "));
                return EXIT_USAGE;
            };
            print!("{}", crate::graph::render::explain_text(&g, start, &subject));
            EXIT_OK
        }
        Command::Up { fleet } => crate::fleet::cli::up(&fleet),
        Command::Keys(KeysCommand::Generate { cpcs, extra_accounts, out, k8s }) => {
            for id in &cpcs {
                if !crate::check::values::valid_id(id) {
                    eprintln!("natscc keys: `{id}` is not a valid CPC id (lower-case letters and digits)");
                    return EXIT_USAGE;
                }
            }
            match crate::keys::generate(&out, &cpcs, &extra_accounts) {
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
                    println!("natscc keys: {} created, {} kept in {}", r.created.len(), r.kept, out.display());
                    if r.problems.is_empty() { EXIT_OK } else { EXIT_FINDINGS }
                }
                Err(e) => {
                    eprintln!("natscc keys: {e}");
                    EXIT_USAGE
                }
            }
        }
        Command::Keys(KeysCommand::Check { dir }) => {
            let problems = crate::keys::check(&dir);
            for p in &problems {
                println!("{p}");
            }
            if problems.is_empty() {
                println!("natscc keys: every key in {} checks out", dir.display());
                EXIT_OK
            } else {
                EXIT_FINDINGS
            }
        }
        Command::Rules => {
            for c in crate::diag::Code::ALL {
                let sev = match c.default_severity() {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                println!("{:<40} {:<8} {}", c.name(), sev, c.doc());
            }
            EXIT_OK
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "natscc", &mut std::io::stdout());
            EXIT_OK
        }
        Command::Man { out: None } => {
            let mut page = vec![];
            match clap_mangen::Man::new(Cli::command()).render(&mut page).and_then(|_| std::io::stdout().write_all(&page)) {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    eprintln!("natscc man: {e}");
                    EXIT_USAGE
                }
            }
        }
        Command::Man { out: Some(dir) } => match std::fs::create_dir_all(&dir).and_then(|_| clap_mangen::generate_to(Cli::command(), &dir)) {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("natscc man: cannot write {}: {e}", dir.display());
                EXIT_USAGE
            }
        },
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
