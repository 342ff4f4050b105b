//! No input makes natscc panic. Random mangles of every fixture and example, with random
//! `--set` strings, go through `compile`, `check_only`, the lint driver, the graph and explain
//! and every report format, each under `catch_unwind`; findings must point inside their source.
//! Then the hostile inputs a user can hand the CLI (binary, non-UTF-8, huge numbers, deep
//! nesting, alias bombs, folders, unreadable files, unwritable outputs): each gives a coded
//! diagnostic, exit 1 or 2, and writes nothing.
//!
//! `NATSCC_FUZZ_CASES=5000 cargo test --release --test no_panic` runs a longer search.

// A scenario reads top to bottom as one story; the 120-line limit is for src/.
#![allow(clippy::too_many_lines)]

mod common;

use common::natscc;
use natscc::diag::render::{Format, render};
use natscc::diag::{Diagnostic, Sources};
use natscc::load::Inputs;
use proptest::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every YAML file under fixtures/ and examples/: good, bad, values and manifest streams.
fn corpus() -> Vec<String> {
    common::corpus_files()
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

/// Pieces that break YAML, Helm merging, subjects, ids and keys in interesting ways.
const TOKENS: &[&str] = &[
    "\n",
    "\n  ",
    "\n    - ",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"",
    "'",
    "\t",
    "#",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "!!int ",
    "!!binary ",
    "~",
    "null",
    "true",
    "yes",
    "0x",
    "1e999",
    "-1",
    "99999999999999999999",
    "0.5",
    ".inf",
    ".nan",
    "*",
    ">",
    "..",
    "a.>.b",
    "command.>",
    "command.*",
    "sensor.>",
    "$JS.API.>",
    "cpc.1.>",
    "*.*",
    ">",
    "global:\n  eventBus:\n",
    "clusterType: cpc",
    "clusterType: csc",
    "clusterId: ",
    "cscEndpoint: ",
    "nats://h:7422",
    "tls://:0",
    "crossLayer:\n",
    "cscExports: ",
    "cscPrefixedExports: ",
    "cpcExports: ",
    "extraAccounts:\n",
    "imports: ",
    "exports: ",
    "enabled: false",
    "cpcIds: ",
    "SYS",
    "AUTH",
    "CPC",
    "CSC",
    "nkeySecretRefOverrides:\n",
    "UABC",
    "config:\n  merge:\n",
    "\u{0}",
    "\u{feff}",
    "é",
    "🙂",
    "\r\n",
    "---\n",
    "...\n",
    "? ",
    "%YAML 1.2\n",
    "|\n  ",
    ">-\n  ",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete(u16, u8),
    Insert(u16, usize),
    DupLine(u16),
    SwapLines(u16, u16),
    Indent(u16, bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<u16>(), any::<u8>()).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (any::<u16>(), 0..TOKENS.len()).prop_map(|(p, t)| Mutation::Insert(p, t)),
        (any::<u16>(), 0..TOKENS.len()).prop_map(|(p, t)| Mutation::Insert(p, t)),
        any::<u16>().prop_map(Mutation::DupLine),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<u16>(), any::<bool>()).prop_map(|(l, more)| Mutation::Indent(l, more)),
    ]
}

/// A char boundary at a fraction `at / 65536` of the text.
fn boundary(text: &str, at: u16) -> usize {
    let mut i = text.len() * at as usize / 65536;
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let line = |at: u16, n: usize| n * at as usize / 65536;
    match *m {
        Mutation::Delete(at, n) => {
            let a = boundary(text, at);
            let mut b = (a + n as usize % 40).min(text.len());
            while !text.is_char_boundary(b) {
                b += 1;
            }
            format!("{}{}", &text[..a], &text[b..])
        }
        Mutation::Insert(at, t) => {
            let a = boundary(text, at);
            format!("{}{}{}", &text[..a], TOKENS[t], &text[a..])
        }
        Mutation::DupLine(at) => {
            let i = line(at, lines.len());
            lines.insert(i, lines[i].clone());
            lines.join("\n")
        }
        Mutation::SwapLines(a, b) => {
            let (a, b) = (line(a, lines.len()), line(b, lines.len()));
            lines.swap(a, b);
            lines.join("\n")
        }
        Mutation::Indent(at, more) => {
            let i = line(at, lines.len());
            lines[i] = if more {
                format!("  {}", lines[i])
            } else {
                lines[i].trim_start_matches(' ').to_string()
            };
            lines.join("\n")
        }
    }
}

/// `--set` strings: well-formed overrides of real keys, and random bytes of Helm's syntax.
fn set_string() -> impl Strategy<Value = String> {
    let paths = prop::sample::select(vec![
        "global.eventBus.clusterType",
        "global.eventBus.clusterId",
        "global.eventBus.cpcIds[0]",
        "global.eventBus.cpcIds[3]",
        "global.eventBus.cscEndpoint",
        "global.eventBus.crossLayer.cpcExports[0]",
        "global.eventBus.crossLayer.cscPrefixedExports",
        "global.eventBus.extraAccounts.A.enabled",
        "global.eventBus",
        "global",
        "config.merge.max_payload",
        "a[99999999999]",
        "a[-1]",
    ]);
    let values = prop::sample::select(vec![
        "cpc",
        "csc",
        "1",
        "X",
        "",
        "null",
        "{a,b}",
        "{}",
        "command.>",
        "tls://h:1",
        "nats://",
        "1e999",
        "\\,",
        "a\\.b",
    ]);
    prop_oneof![
        (paths, values).prop_map(|(p, v)| format!("{p}={v}")),
        "[a-z0-9.\\[\\]=,{}\\\\\"' _>*-]{0,40}",
    ]
}

fn spans_inside(diags: &[Diagnostic], sources: &Sources) -> Result<(), String> {
    for d in diags {
        for l in &d.labels {
            let text = &sources.get(l.span.src).text;
            let (a, b) = (
                l.span.offset as usize,
                l.span.offset as usize + l.span.len as usize,
            );
            if b > text.len() || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
                return Err(format!(
                    "{} points outside its source ({a}..{b} of {} bytes): {}",
                    d.code.name(),
                    text.len(),
                    d.message
                ));
            }
        }
    }
    Ok(())
}

fn report_all(diags: &[Diagnostic], sources: &Sources) {
    for f in [
        Format::Human,
        Format::Concise,
        Format::Json,
        Format::Sarif,
        Format::Github,
    ] {
        let _ = render(f, diags, sources, false);
    }
}

/// Everything a user can do with one values file; an `Err` names the broken promise.
fn exercise(path: &Path, companion: &Path, set: &[String]) -> Result<(), String> {
    let inputs = Inputs {
        files: vec![path.to_path_buf()],
        set: set.to_vec(),
        set_string: set.iter().take(1).cloned().collect(),
    };
    let run = || -> Result<(), String> {
        let c = natscc::compile(&inputs);
        spans_inside(&c.diags, &c.sources)?;
        report_all(&c.diags, &c.sources);
        if c.has_errors() && !c.files.is_empty() {
            return Err("files emitted despite errors".into());
        }
        let again = natscc::compile(&inputs);
        if again.files != c.files {
            return Err("two compiles of the same input differ".into());
        }
        let c = natscc::check_only(&inputs);
        spans_inside(&c.diags, &c.sources)?;
        for (diags, sources) in
            natscc::lint::lint_files(&[path.to_path_buf()], &[companion.to_path_buf()])
        {
            spans_inside(&diags, &sources)?;
            report_all(&diags, &sources);
        }
        if let Some((m, bus)) = c.rendered() {
            let g = natscc::graph::build(m, bus, "");
            let red = natscc::graph::render::cycle_edges(&g, &natscc::graph::cycles::find(&g));
            let _ = natscc::graph::render::dot(&g, &red);
            let _ = natscc::graph::render::mermaid(&g, &red);
            let accounts: Vec<String> = g.g.node_weights().map(|a| a.name.clone()).collect();
            for a in accounts {
                let start = g
                    .find("", &a)
                    .ok_or("an account of the graph cannot be found by name")?;
                for subject in [
                    "sensor.temp",
                    "command.x",
                    "cpc.1.command.x",
                    "a",
                    "$JS.API.INFO",
                ] {
                    let _ = natscc::graph::render::explain_text(&g, start, subject);
                }
            }
        }
        Ok(())
    };
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(r) => r,
        Err(p) => Err(format!(
            "panicked: {}",
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}

fn cases() -> u32 {
    std::env::var("NATSCC_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn mangled_values_never_panic(
        pick in any::<prop::sample::Index>(),
        companion in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 0..6),
        set in prop::collection::vec(set_string(), 0..3),
    ) {
        thread_local!(static CORPUS: Vec<String> = corpus());
        let (text, with) = CORPUS.with(|c| (c[pick.index(c.len())].clone(), c[companion.index(c.len())].clone()));
        let text = mutations.iter().fold(text, |t, m| apply(&t, m));
        let dir = tempfile::tempdir().unwrap();
        let (path, companion) = (dir.path().join("values.yaml"), dir.path().join("common.yaml"));
        std::fs::write(&path, &text).unwrap();
        std::fs::write(&companion, &with).unwrap();
        if let Err(e) = exercise(&path, &companion, &set) {
            prop_assert!(false, "{e}\n--set {set:?}\n--- values.yaml ---\n{text}");
        }
    }
}

/// Runs `natscc compile` on `values` (bytes) and asserts a coded refusal with nothing written.
fn refused(values: &[u8], expect_code: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("values.yaml");
    std::fs::write(&path, values).unwrap();
    refused_path(&path, &dir.path().join("out"), expect_code);
}

fn refused_path(values: &Path, out: &Path, expect_code: &str) {
    let run = natscc()
        .args(["compile", "--format", "concise", "-f"])
        .arg(values)
        .arg("-o")
        .arg(out)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        matches!(run.status.code(), Some(1 | 2)),
        "exit {:?} (1 or 2 expected) for {}:\n{stderr}",
        run.status.code(),
        values.display()
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("overflow"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(&format!(": error: {expect_code}: "))),
        "no {expect_code} error:\n{stderr}"
    );
    assert!(run.stdout.is_empty(), "compile printed to stdout");
    assert!(!out.exists(), "{} was written", out.display());
}

#[test]
fn hostile_files_are_refused_with_a_code() {
    let mut binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    binary[0] = 0xff;
    refused(&binary, "natscc::load::io");
    refused(
        b"global:\n  eventBus:\n    clusterType: \"\xff\xfe\"\n",
        "natscc::load::io",
    );
    refused(
        b"global:\n  eventBus:\n    clusterType: cpc\n    cscEndpoint: nats://h:7422\n    clusterId: 99999999999999999999999999999\n",
        "natscc::values::cluster_id",
    );
    refused(
        b"global:\n  eventBus:\n    clusterType: csc\n    cpcIds: [1e999]\n",
        "natscc::values::cluster_id",
    );
    let flow = format!(
        "global:\n  eventBus:\n    x: {}{}\n",
        "[".repeat(200),
        "]".repeat(200)
    );
    refused(flow.as_bytes(), "natscc::yaml::too_deep");
    let block: String = (0..3000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    refused(block.as_bytes(), "natscc::yaml::too_deep");
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..30 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(", ")
        ));
    }
    refused(bomb.as_bytes(), "natscc::yaml::excessive_aliasing");
}

#[test]
fn a_folder_or_unreadable_file_as_values_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    refused_path(dir.path(), &dir.path().join("out"), "natscc::load::io");
    let missing = dir.path().join("missing.yaml");
    refused_path(&missing, &dir.path().join("out"), "natscc::load::io");
    // A file that opens but whose read fails, for root too (CI runs as root, and root reads
    // mode-000 files): natscc's own /proc/self/mem, read from address 0 (never mapped) -> EIO.
    refused_path(
        Path::new("/proc/self/mem"),
        &dir.path().join("out"),
        "natscc::load::io",
    );
    // A mode-000 file, which only refuses a user without CAP_DAC_OVERRIDE.
    let locked = dir.path().join("locked.yaml");
    std::fs::write(&locked, "global: {}\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_err() {
        refused_path(&locked, &dir.path().join("out"), "natscc::load::io");
    }
}

#[test]
fn unwritable_outputs_are_refused_and_nothing_is_left_behind() {
    let example = root().join("examples/cpc-1.yaml");
    let dir = tempfile::tempdir().unwrap();
    // -o names a file: the file stays as it was.
    let file = dir.path().join("out");
    std::fs::write(&file, "keep me\n").unwrap();
    let run = natscc()
        .args(["compile", "--format", "concise", "-f"])
        .arg(&example)
        .arg("-o")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(": error: natscc::output::io: "), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me\n");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "only the file is there: {names:?}");
    // -o names the folder that holds the values (or any other foreign file): replacing it
    // would delete them, so it is refused and the folder stays as it was.
    let envs = dir.path().join("envs");
    std::fs::create_dir(&envs).unwrap();
    std::fs::copy(&example, envs.join("cpc.yaml")).unwrap();
    let run = natscc()
        .current_dir(dir.path())
        .args([
            "compile",
            "--format",
            "concise",
            "-f",
            "envs/cpc.yaml",
            "-o",
            "envs",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(": error: natscc::output::io: ") && stderr.contains("natscc did not write"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&envs).unwrap().count(), 1);
    assert_eq!(
        std::fs::read(envs.join("cpc.yaml")).unwrap(),
        std::fs::read(&example).unwrap()
    );
    std::fs::remove_dir_all(&envs).unwrap();
    // -o inside a folder nobody may create in (/proc, even for root), a few levels deep.
    let run = natscc()
        .args(["compile", "--format", "concise", "-f"])
        .arg(&example)
        .args(["-o", "/proc/natscc-test/a/out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(": error: natscc::output::io: "), "{stderr}");
    // -o where no folder can be created, a few levels down: nothing created, not even the
    // missing parents. Under a regular file (ENOTDIR, for root too: CI runs as root, and root
    // writes into mode-555 folders), and in a mode-555 folder for a user that cannot.
    let holder = dir.path().join("holder");
    std::fs::create_dir(&holder).unwrap();
    std::fs::write(holder.join("plain"), "keep me\n").unwrap();
    let run = natscc()
        .args(["compile", "--format", "concise", "-f"])
        .arg(&example)
        .arg("-o")
        .arg(holder.join("plain/a/b/out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(": error: natscc::output::io: "), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(holder.join("plain")).unwrap(),
        "keep me\n"
    );
    let names: Vec<_> = std::fs::read_dir(&holder)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["plain"], "nothing beside the file either");
    use std::os::unix::fs::PermissionsExt;
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), "").is_err() {
        let run = natscc()
            .args(["compile", "--format", "concise", "-f"])
            .arg(&example)
            .arg("-o")
            .arg(ro.join("a/b/out"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(": error: natscc::output::io: "), "{stderr}");
        assert_eq!(std::fs::read_dir(&ro).unwrap().count(), 0);
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn hostile_files_through_lint_graph_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let block: String = (0..3000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..30 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(", ")
        ));
    }
    std::fs::write(dir.path().join("deep.yaml"), block).unwrap();
    std::fs::write(dir.path().join("bomb.yaml"), bomb).unwrap();
    std::fs::write(dir.path().join("binary.yaml"), [0xffu8, 0, 1, 2, 0xfe]).unwrap();
    for f in ["deep.yaml", "bomb.yaml", "binary.yaml"] {
        let p = dir.path().join(f);
        for args in [
            vec!["graph", "-f"],
            vec!["explain", "--account", "CPC", "a.b", "-f"],
        ] {
            let run = natscc().args(&args).arg(&p).output().unwrap();
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert!(
                matches!(run.status.code(), Some(1 | 2)),
                "{args:?} {f}: exit {:?}\n{stderr}",
                run.status.code()
            );
            assert!(
                stderr.contains("natscc::"),
                "{args:?} {f}: no code in\n{stderr}"
            );
            if f == "binary.yaml" {
                assert_eq!(
                    run.status.code(),
                    Some(2),
                    "{args:?}: an unreadable file is an I/O error"
                );
            }
            assert!(run.stdout.is_empty());
        }
    }
    // lint runs files on worker threads (smaller stacks than main): the same limits hold there.
    let run = natscc()
        .args(["lint", "--format", "concise"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        matches!(run.status.code(), Some(1 | 2)),
        "lint exit {:?}\n{stdout}{}",
        run.status.code(),
        String::from_utf8_lossy(&run.stderr)
    );
    for code in [
        "natscc::yaml::too_deep",
        "natscc::yaml::excessive_aliasing",
        "natscc::load::io",
    ] {
        assert!(stdout.contains(code), "lint: no {code} in\n{stdout}");
    }
}

// ---- Structure-aware mutations of every fixture through every command, as a user runs them ----
//
// Each case takes a fixture (values files, and the rendered streams of fixtures/chart-ref,
// fixtures/chart-plain-ref and fixtures/post-render), reads it as YAML, applies a few mutations
// that keep it YAML but break what it means (a key dropped, duplicated or given another type, a
// value swapped in from another fixture, a seed or a password planted, a huge number, a null,
// deep nesting, odd unicode, a very long line), sometimes one byte-level mangle on top, and runs
// the binary: compile, lint, graph, explain, and post-render (the values with `--values` over a
// rendered stream, and the mutated stream itself), each command in one of the five report
// formats. Every run must exit 0, 1 or 2 (never 101 or a signal), never print "panicked", stay
// within its time budget (below), and show no planted seed or password in stdout, stderr or any
// file it wrote. 5,000 cases (issue 11's figure), `NATSCC_MUTATIONS` to change it, 20,000
// with `NATSCC_LONG=1`; `NATSCC_FUZZ_SEED` picks the cases.

use common::Rng;
use serde_json::Value as J;
use std::time::{Duration, Instant};

/// One fixture: its values (or stream) as text, and the rendered stream that goes with it.
struct Fixture {
    path: PathBuf,
    text: String,
    stream: Option<PathBuf>,
    is_stream: bool,
}

fn fixtures() -> Vec<Fixture> {
    let paths = common::corpus_files();
    paths
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let is_stream =
                name == "rendered.yaml" || p.ends_with("fixtures/post-render/stream.yaml");
            let beside = p.with_file_name("rendered.yaml");
            let stream = (beside.is_file() && !is_stream).then_some(beside);
            Some(Fixture {
                path: p,
                text,
                stream,
                is_stream,
            })
        })
        .collect()
}

/// The secrets planted in this run: a user and an account seed (fresh, so no fixture holds
/// them) and two passwords no fixture or message could hold by chance.
struct Planted {
    user_seed: String,
    account_seed: String,
    passwords: [String; 2],
}

impl Planted {
    fn new(rng: &mut Rng) -> Self {
        Planted {
            user_seed: nkeys::KeyPair::new_user().seed().unwrap(),
            account_seed: nkeys::KeyPair::new_account().seed().unwrap(),
            passwords: [
                format!("pw{:016x}", rng.next()),
                format!("Tok3n-{:012x}", rng.next() >> 16),
            ],
        }
    }
    fn all(&self) -> Vec<&str> {
        vec![
            &self.user_seed,
            &self.account_seed,
            &self.passwords[0],
            &self.passwords[1],
        ]
    }
    fn found_in(&self, bytes: &[u8]) -> Option<&str> {
        let text = String::from_utf8_lossy(bytes);
        self.all().into_iter().find(|s| text.contains(*s))
    }
}

/// Raw YAML scalars the JSON tree cannot hold: a marker string in the tree, replaced in the
/// printed text.
const RAW: &[&str] = &[
    "99999999999999999999999",
    "1e999",
    "-1e999",
    ".nan",
    "-.inf",
    "0x7fffffffffffffff",
    "-9223372036854775809",
    "0o777",
    "1_000",
    "~",
    "!!binary aGVsbG8=",
    "!!str 5",
    "yes",
    "Off",
    "-0",
    "1:20",
];

fn raw_marker(i: usize) -> String {
    format!("rawscalar{i:02}zz")
}

const ODD: &[&str] = &[
    "a\u{202e}cba",
    "zero\u{200d}width",
    "e\u{301}\u{301}\u{301}",
    "🙂.🙃.>",
    "\u{feff}bom",
    "tab\there",
    "line\nbreak",
    "\u{7f}del",
    "ｆｕｌｌ",
    "ǅ",
    "\\u0000",
    "$VAR",
    "<< $VAR >>",
    "${VAR}",
    "*",
    ">",
    "a..b",
    " lead",
    "trail ",
    "",
];

/// The places in a tree: key/index paths to every node but the root.
fn places(v: &J, at: &mut Vec<J>, out: &mut Vec<Vec<J>>) {
    match v {
        J::Object(m) => {
            for (k, x) in m {
                at.push(J::String(k.clone()));
                out.push(at.clone());
                places(x, at, out);
                at.pop();
            }
        }
        J::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(J::from(i));
                out.push(at.clone());
                places(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn node_at<'a>(v: &'a mut J, path: &[J]) -> Option<&'a mut J> {
    let mut v = v;
    for step in path {
        v = match step {
            J::String(k) => v.as_object_mut()?.get_mut(k)?,
            J::Number(i) => v.as_array_mut()?.get_mut(i.as_u64()? as usize)?,
            _ => return None,
        };
    }
    Some(v)
}

fn random_place(v: &J, rng: &mut Rng) -> Option<Vec<J>> {
    let mut out = vec![];
    places(v, &mut vec![], &mut out);
    (!out.is_empty()).then(|| rng.pick(&out).clone())
}

/// A random map of the tree (the root included), for inserting keys.
fn random_map(v: &J, rng: &mut Rng) -> Vec<J> {
    let mut all = vec![];
    places(v, &mut vec![], &mut all);
    let mut maps: Vec<Vec<J>> = vec![vec![]];
    let mut probe = v.clone();
    for p in all {
        if node_at(&mut probe, &p).is_some_and(|n| n.is_object()) {
            maps.push(p);
        }
    }
    rng.pick(&maps).clone()
}

/// Every key name of the fixtures, to insert real keys in new places.
fn key_names(trees: &[J]) -> Vec<String> {
    fn walk(v: &J, out: &mut std::collections::BTreeSet<String>) {
        match v {
            J::Object(m) => {
                for (k, x) in m {
                    out.insert(k.clone());
                    walk(x, out);
                }
            }
            J::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    trees.iter().for_each(|t| walk(t, &mut out));
    out.into_iter().collect()
}

/// The mutation that plants a password (in `mutate_with`).
const PLANT_PASSWORD: usize = 8;

/// One structure-aware mutation of `tree`, any but planting a password: that comes last in a
/// case (`mutated`), so no later mutation moves the password out from under its key (a map
/// retyped to the list of its values no longer says which value was a password).
fn mutate_tree(tree: &mut J, rng: &mut Rng, donors: &[J], keys: &[String], planted: &Planted) {
    let place = random_place(tree, rng);
    let op = match rng.below(13) {
        n if n >= PLANT_PASSWORD => n + 1,
        n => n,
    };
    mutate_with(op, place, tree, rng, donors, keys, planted);
}

fn mutate_with(
    op: usize,
    place: Option<Vec<J>>,
    tree: &mut J,
    rng: &mut Rng,
    donors: &[J],
    keys: &[String],
    planted: &Planted,
) {
    match op {
        // Drop a key or a list item.
        0 => {
            if let Some(p) = place
                && let Some((last, parent)) = p.split_last()
                && let Some(parent) = node_at(tree, parent)
            {
                match (parent, last) {
                    (J::Object(m), J::String(k)) => {
                        m.remove(k);
                    }
                    (J::Array(a), J::Number(i)) => {
                        a.remove(i.as_u64().unwrap() as usize);
                    }
                    _ => {}
                }
            }
        }
        // Duplicate a list item, or a key's value under a near name.
        1 => {
            if let Some(p) = place
                && let Some((last, parent)) = p.split_last()
                && let Some(parent) = node_at(tree, parent)
            {
                match (parent, last) {
                    (J::Object(m), J::String(k)) => {
                        let v = m[k].clone();
                        // A password's key stays one (`PASSWORD`): under `passwords` or
                        // `drowssap` nothing says the value is a secret.
                        let secret = ["pass", "token"]
                            .iter()
                            .any(|s| k.to_lowercase().contains(s));
                        let near = match if secret { 0 } else { rng.below(3) } {
                            0 => k.to_uppercase(),
                            1 => format!("{k}s"),
                            _ => k.chars().rev().collect(),
                        };
                        m.insert(near, v);
                    }
                    (J::Array(a), J::Number(i)) => {
                        let v = a[i.as_u64().unwrap() as usize].clone();
                        a.push(v);
                    }
                    _ => {}
                }
            }
        }
        // Another type for the same content.
        2 | 3 => {
            if let Some(p) = place
                && let Some(n) = node_at(tree, &p)
            {
                *n = match n.take() {
                    J::String(s) => match rng.below(3) {
                        0 => s.parse::<i64>().map(J::from).unwrap_or(J::from(1)),
                        1 => J::Array(vec![J::String(s)]),
                        _ => J::Bool(true),
                    },
                    J::Number(x) => match rng.below(2) {
                        0 => J::String(x.to_string()),
                        _ => J::Array(vec![J::Number(x)]),
                    },
                    J::Bool(b) => J::String(if b { "yes" } else { "no" }.into()),
                    J::Array(a) => match rng.below(2) {
                        0 => a.into_iter().next().unwrap_or(J::Null),
                        _ => J::Object(
                            a.into_iter()
                                .enumerate()
                                .map(|(i, x)| (i.to_string(), x))
                                .collect(),
                        ),
                    },
                    J::Object(m) => match rng.below(2) {
                        0 => J::Array(m.into_iter().map(|(_, x)| x).collect()),
                        _ => J::String(m.keys().cloned().collect::<Vec<_>>().join(",")),
                    },
                    J::Null => J::Object(Default::default()),
                };
            }
        }
        // A value from another fixture.
        4 | 5 => {
            let donor = rng.pick(donors);
            if let Some(dp) = random_place(donor, rng) {
                let mut d = donor.clone();
                let v = node_at(&mut d, &dp).map(|n| n.take()).unwrap_or(J::Null);
                if let Some(p) = place
                    && let Some(n) = node_at(tree, &p)
                {
                    *n = v;
                } else if let J::String(k) = dp.last().cloned().unwrap_or(J::Null)
                    && let Some(m) =
                        node_at(tree, &random_map(tree, rng)).and_then(|m| m.as_object_mut())
                {
                    m.insert(k, v);
                }
            }
        }
        // A real key in a new place.
        6 => {
            let k = rng.pick(keys).clone();
            let v = match rng.below(4) {
                0 => J::Null,
                1 => J::String(rng.pick(ODD).to_string()),
                2 => J::String(raw_marker(rng.below(RAW.len()))),
                _ => J::Object(Default::default()),
            };
            let at = random_map(tree, rng);
            if let Some(m) = node_at(tree, &at).and_then(|m| m.as_object_mut()) {
                m.insert(k, v);
            }
        }
        // A seed: as a value, a key name or a list item.
        7 => {
            let seed = if rng.below(2) == 0 {
                &planted.user_seed
            } else {
                &planted.account_seed
            };
            match (rng.below(3), place) {
                (0, Some(p)) => {
                    if let Some(n) = node_at(tree, &p) {
                        *n = J::String(seed.clone());
                    }
                }
                (1, _) => {
                    let at = random_map(tree, rng);
                    if let Some(m) = node_at(tree, &at).and_then(|m| m.as_object_mut()) {
                        m.insert(seed.clone(), J::from(1));
                    }
                }
                (_, p) => {
                    let users = J::Array(vec![J::Object(
                        [("nkey".to_string(), J::String(seed.clone()))]
                            .into_iter()
                            .collect(),
                    )]);
                    match p.and_then(|p| node_at(tree, &p)) {
                        Some(J::Array(a)) => a.push(J::String(seed.clone())),
                        _ => {
                            if let Some(m) = tree.as_object_mut() {
                                m.insert("users".into(), users);
                            }
                        }
                    }
                }
            }
        }
        // A password (or a token) where nats-server reads one: a user, an authorization block,
        // a route URL, in a random map or where the chart copies it.
        PLANT_PASSWORD => {
            let pw = rng.pick(&planted.passwords).clone();
            let key = rng
                .pick(&["password", "pass", "Password", "token"])
                .to_string();
            let user = J::Object(
                [
                    ("user".to_string(), J::String("bob".into())),
                    (key.clone(), J::String(pw.clone())),
                ]
                .into_iter()
                .collect(),
            );
            let at = random_map(tree, rng);
            let Some(m) = node_at(tree, &at).and_then(|m| m.as_object_mut()) else {
                return;
            };
            match rng.below(4) {
                0 => {
                    m.insert(key, J::String(pw));
                }
                1 => {
                    m.insert("users".into(), J::Array(vec![user]));
                }
                2 => {
                    m.insert(
                        "authorization".into(),
                        J::Object([(key, J::String(pw))].into_iter().collect()),
                    );
                }
                _ => {
                    m.insert(
                        "routes".into(),
                        J::Array(vec![J::String(format!("nats://bob:{pw}@host:6222"))]),
                    );
                }
            }
        }
        // A raw scalar: huge numbers, YAML 1.1 words, tags.
        10 => {
            if let Some(p) = place
                && let Some(n) = node_at(tree, &p)
            {
                *n = J::String(raw_marker(rng.below(RAW.len())));
            }
        }
        // A null, or odd unicode.
        11 => {
            if let Some(p) = place
                && let Some(n) = node_at(tree, &p)
            {
                *n = if rng.below(2) == 0 {
                    J::Null
                } else {
                    J::String(rng.pick(ODD).to_string())
                };
            }
        }
        // Deep nesting.
        12 => {
            if let Some(p) = place
                && let Some(n) = node_at(tree, &p)
            {
                let depth = *rng.pick(&[10usize, 60, 120, 300]);
                let mut v = n.take();
                for i in 0..depth {
                    v = if i % 2 == 0 {
                        J::Array(vec![v])
                    } else {
                        J::Object([("a".to_string(), v)].into_iter().collect())
                    };
                }
                *n = v;
            }
        }
        // A very long line: a value or a key past column 65,535.
        _ => {
            let long = rng
                .pick(&["x", "é", "a.b."])
                .repeat(*rng.pick(&[5_000usize, 70_000]));
            if rng.below(2) == 0
                && let Some(p) = place
                && let Some(n) = node_at(tree, &p)
            {
                *n = J::String(long);
            } else {
                let at = random_map(tree, rng);
                if let Some(m) = node_at(tree, &at).and_then(|m| m.as_object_mut()) {
                    m.insert(long, J::from(1));
                }
            }
        }
    }
}

fn parse_yaml_docs(text: &str) -> Option<Vec<J>> {
    let mut sources = Sources::default();
    let id = sources.add(natscc::diag::Source::new("f", text.to_string()));
    let (docs, _) = natscc::load::yaml::parse_stream(id, &sources);
    Some(docs?.iter().map(|d| d.to_json()).collect())
}

fn print_docs(docs: &[J], stream: bool) -> String {
    let mut text = if stream {
        natscc::emit::yaml::stream(docs)
    } else {
        docs.iter().map(natscc::emit::yaml::to_yaml).collect()
    };
    for (i, raw) in RAW.iter().enumerate() {
        text = text.replace(&raw_marker(i), raw);
    }
    text
}

/// A mutated copy of a fixture's text.
fn mutated(f: &Fixture, rng: &mut Rng, donors: &[J], keys: &[String], planted: &Planted) -> String {
    let mut password = false;
    let mut text = match parse_yaml_docs(&f.text) {
        Some(mut docs) if !docs.is_empty() => {
            for _ in 0..1 + rng.below(4) {
                let d = rng.below(docs.len());
                mutate_tree(&mut docs[d], rng, donors, keys, planted);
            }
            if rng.below(4) == 0 {
                let d = rng.below(docs.len());
                let place = random_place(&docs[d], rng);
                mutate_with(
                    PLANT_PASSWORD,
                    place,
                    &mut docs[d],
                    rng,
                    donors,
                    keys,
                    planted,
                );
                password = true;
            }
            print_docs(&docs, f.is_stream)
        }
        _ => f.text.clone(),
    };
    // Now and then a byte-level mangle on top: broken YAML, duplicate keys, odd indentation.
    // Not over a planted password: a mangled key (`Pas: sword: x`) no longer says it holds one.
    if !password && rng.below(4) == 0 {
        let m = match rng.below(5) {
            0 => Mutation::Delete(rng.next() as u16, rng.next() as u8),
            1 => Mutation::Insert(rng.next() as u16, rng.below(TOKENS.len())),
            2 => Mutation::DupLine(rng.next() as u16),
            3 => Mutation::SwapLines(rng.next() as u16, rng.next() as u16),
            _ => Mutation::Indent(rng.next() as u16, rng.below(2) == 0),
        };
        text = apply(&text, &m);
    }
    text
}

const COMMANDS: [&str; 6] = [
    "compile",
    "lint",
    "graph",
    "explain",
    "post-render --values",
    "post-render",
];
const FORMATS: [&str; 5] = ["human", "concise", "json", "sarif", "github"];

/// The arguments of one command on `values` (or `stream`), in `format`, writing under `out`.
fn command_args(cmd: &str, values: &Path, format: &str, out: &Path, account: &str) -> Vec<String> {
    let v = values.display().to_string();
    let f = format.to_string();
    match cmd {
        "compile" => vec![
            "compile".into(),
            "-f".into(),
            v,
            "-o".into(),
            out.display().to_string(),
            "--format".into(),
            f,
        ],
        "lint" => vec!["lint".into(), v, "--format".into(), f],
        "graph" => vec!["graph".into(), "-f".into(), v],
        "explain" => vec![
            "explain".into(),
            "-f".into(),
            v,
            "--account".into(),
            account.into(),
            "sensor.temp".into(),
        ],
        "post-render --values" => vec![
            "post-render".into(),
            "--format".into(),
            f,
            "--values".into(),
            v,
        ],
        _ => vec!["post-render".into(), "--format".into(), f],
    }
}

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    took: Duration,
}

/// Runs the binary; a run past `limit` is killed and reported as a hang.
fn run_bin(args: &[String], stdin: Option<&Path>, limit: Duration) -> Result<Run, String> {
    let mut cmd = natscc();
    cmd.args(args).timeout(limit);
    if let Some(s) = stdin {
        cmd.pipe_stdin(s).unwrap();
    }
    let start = Instant::now();
    let out = cmd.output().map_err(|e| format!("cannot run: {e}"))?;
    let took = start.elapsed();
    if took >= limit {
        return Err(format!("killed after {took:?} (hang)"));
    }
    Ok(Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: out.stderr,
        took,
    })
}

/// Per-command reference times, measured in this run on an unmutated fixture of known size:
/// a case's budget is `BUDGET_FACTOR` times the reference, scaled by its size (the bound is at
/// most n log n, ARCHITECTURE.md), so a slow or busy machine moves both alike.
const BUDGET_FACTOR: f64 = 40.0;

struct Reference {
    /// Seconds per command, and the size in bytes it was measured on.
    secs: Vec<f64>,
    bytes: Vec<usize>,
}

fn measure_reference(tmp: &Path) -> Reference {
    let values = root().join("examples/cpc-1.yaml");
    let stream = root().join("fixtures/chart-ref/cpc-1/rendered.yaml");
    let mut secs = vec![];
    let mut bytes = vec![];
    for cmd in COMMANDS {
        let input = if cmd == "post-render" {
            &stream
        } else {
            &values
        };
        let mut times: Vec<f64> = (0..5)
            .map(|i| {
                let out = tmp.join(format!("ref-{i}"));
                let args = command_args(cmd, input, "human", &out, "CPC");
                let stdin = cmd.starts_with("post-render").then_some(stream.as_path());
                let r = run_bin(&args, stdin, Duration::from_secs(120)).unwrap();
                let _ = std::fs::remove_dir_all(&out);
                r.took.as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        secs.push(times[2]);
        let size = |p: &Path| std::fs::metadata(p).unwrap().len() as usize;
        // As a case counts it: post-render --values reads both the values and the stream.
        bytes.push(if cmd == "post-render --values" {
            size(input) + size(&stream)
        } else {
            size(input)
        });
    }
    Reference { secs, bytes }
}

impl Reference {
    fn budget(&self, cmd: usize, bytes: usize) -> Duration {
        // Process start-up dominates small inputs: a floor of 20 ms keeps a fast reference from
        // making the budget a coin toss on a shared machine.
        let per_byte = self.secs[cmd].max(0.02) / self.bytes[cmd] as f64;
        let n = bytes.max(self.bytes[cmd]) as f64;
        Duration::from_secs_f64(
            BUDGET_FACTOR * per_byte * n * (n.ln() / (self.bytes[cmd] as f64).ln()).max(1.0),
        )
    }
}

#[derive(Default)]
struct Tally {
    runs: usize,
    exits: [usize; 3],
    slowest_ratio: f64,
    spent: Duration,
}

/// `NATSCC_MUTATIONS`, else 5,000 (issue 11's figure, about 3 minutes on 2 cores), 20,000
/// with `NATSCC_LONG=1`.
fn fuzz_cases() -> usize {
    let long = std::env::var_os("NATSCC_LONG").is_some_and(|v| v == "1");
    std::env::var("NATSCC_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if long { 20_000 } else { 5000 })
}

/// Every file under `dir` whose bytes hold a planted secret.
fn leaked_files(dir: &Path, planted: &Planted) -> Vec<String> {
    if !dir.exists() {
        return vec![];
    }
    common::files_under(dir)
        .into_iter()
        .filter_map(|rel| {
            let bytes = std::fs::read(dir.join(&rel)).ok()?;
            planted
                .found_in(&bytes)
                .map(|s| format!("{} holds `{s}`", rel.display()))
        })
        .collect()
}

#[test]
fn mutated_fixtures_through_every_command_and_format() {
    let cases = fuzz_cases();
    let seed: u64 = std::env::var("NATSCC_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x11_f022);
    let mut rng = Rng(seed | 1);
    let planted = Planted::new(&mut rng);
    let all = fixtures();
    let values: Vec<&Fixture> = all.iter().filter(|f| !f.is_stream).collect();
    let streams: Vec<&Fixture> = all.iter().filter(|f| f.is_stream).collect();
    let donors: Vec<J> = all
        .iter()
        .filter_map(|f| parse_yaml_docs(&f.text))
        .flatten()
        .collect();
    let keys = key_names(&donors);
    let tmp = tempfile::tempdir().unwrap();
    let reference = std::sync::RwLock::new(measure_reference(tmp.path()));
    // Every fixture in turn (values and streams alike), each case a fresh mutation of it.
    let jobs: Vec<(usize, u64)> = (0..cases).map(|i| (i, rng.next())).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    // `NATSCC_FUZZ_CASE=N` runs case N alone (its findings are printed whole; with
    // `NATSCC_FUZZ_KEEP=DIR` its inputs are copied to DIR).
    let only: Option<usize> = std::env::var("NATSCC_FUZZ_CASE")
        .ok()
        .and_then(|s| s.parse().ok());
    let started = Instant::now();
    let results: Vec<(Vec<Tally>, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|w| {
                let (values, streams, donors, keys, planted, reference, jobs, next) =
                    (&values, &streams, &donors, &keys, &planted, &reference, &jobs, &next);
                let tmp = tmp.path().join(format!("w{w}"));
                s.spawn(move || {
                    std::fs::create_dir_all(&tmp).unwrap();
                    let mut tally: Vec<Tally> = (0..COMMANDS.len()).map(|_| Tally::default()).collect();
                    let mut failures = vec![];
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(case, case_seed)) = jobs.get(i) else { break };
                        if only.is_some_and(|o| o != case) {
                            continue;
                        }
                        let mut rng = Rng(case_seed | 1);
                        let fixture = values[case % values.len()];
                        let stream_fixture = streams[case % streams.len()];
                        let text = mutated(fixture, &mut rng, donors, keys, planted);
                        let stream_text = mutated(stream_fixture, &mut rng, donors, keys, planted);
                        let vfile = tmp.join("values.yaml");
                        let sfile = tmp.join("stream.yaml");
                        std::fs::write(&vfile, &text).unwrap();
                        std::fs::write(&sfile, &stream_text).unwrap();
                        // The values' own rendered stream when they have one, for --values.
                        let pair = fixture.stream.clone().unwrap_or_else(|| stream_fixture.path.clone());
                        if only.is_some()
                            && let Some(keep) = std::env::var_os("NATSCC_FUZZ_KEEP")
                        {
                            // The case's inputs, to run by hand.
                            let keep = PathBuf::from(keep);
                            std::fs::create_dir_all(&keep).unwrap();
                            std::fs::write(keep.join("values.yaml"), &text).unwrap();
                            std::fs::write(keep.join("stream.yaml"), &stream_text).unwrap();
                            std::fs::copy(&pair, keep.join("pair.yaml")).unwrap();
                        }
                        let format = FORMATS[case % FORMATS.len()];
                        let account = *rng.pick(&["CPC", "CSC", "SYS", "Analytics"]);
                        for (c, cmd) in COMMANDS.iter().enumerate() {
                            let out = tmp.join("out");
                            let _ = std::fs::remove_dir_all(&out);
                            let (input, stdin, size) = match *cmd {
                                "post-render" => (&sfile, Some(sfile.as_path()), stream_text.len()),
                                "post-render --values" => (&vfile, Some(pair.as_path()), text.len() + std::fs::metadata(&pair).unwrap().len() as usize),
                                _ => (&vfile, None, text.len()),
                            };
                            let args = command_args(cmd, input, format, &out, account);
                            let budget = reference.read().unwrap().budget(c, size);
                            let limit = (budget * 10).max(Duration::from_secs(60));
                            let describe = |what: &str| {
                                format!("case {case} (seed {seed}), {cmd} --format {format} on a mutation of {}: {what}\n--- input ({} bytes) ---\n{}",
                                    if *cmd == "post-render" { stream_fixture.path.display() } else { fixture.path.display() },
                                    size,
                                    { let t = if *cmd == "post-render" { &stream_text } else { &text }; let mut end = t.len().min(3000); while !t.is_char_boundary(end) { end -= 1; } &t[..end] })
                            };
                            let mut run = match run_bin(&args, stdin, limit) {
                                Ok(r) => r,
                                Err(e) => { failures.push(describe(&e)); continue; }
                            };
                            // Past the budget: measure the reference again (the machine may be
                            // busier now) and run the case again; only a repeat fails.
                            if run.took > budget {
                                *reference.write().unwrap() = measure_reference(&tmp);
                                let budget = reference.read().unwrap().budget(c, size);
                                let _ = std::fs::remove_dir_all(&out);
                                match run_bin(&args, stdin, limit) {
                                    Ok(again) if again.took > budget => failures.push(describe(&format!("took {:?} and {:?}, past its budget of {budget:?}", run.took, again.took))),
                                    Ok(again) => run = again,
                                    Err(e) => { failures.push(describe(&e)); continue; }
                                }
                            }
                            let t = &mut tally[c];
                            t.runs += 1;
                            t.spent += run.took;
                            t.slowest_ratio = t.slowest_ratio.max(run.took.as_secs_f64() / budget.as_secs_f64() * BUDGET_FACTOR);
                            match run.code {
                                Some(code @ 0..=2) => t.exits[code as usize] += 1,
                                other => failures.push(describe(&format!("exit {other:?}\n{}", String::from_utf8_lossy(&run.stderr)))),
                            }
                            let stderr = String::from_utf8_lossy(&run.stderr);
                            if stderr.contains("panicked") {
                                failures.push(describe(&format!("panicked:\n{stderr}")));
                            }
                            // The stream passes through post-render unchanged on success: what
                            // was planted in it may come back on stdout, never on stderr.
                            let passes_through = *cmd == "post-render";
                            if let Some(s) = planted.found_in(&run.stderr) {
                                failures.push(describe(&format!("stderr shows the planted `{s}`:\n{stderr}")));
                            }
                            if !passes_through && let Some(s) = planted.found_in(&run.stdout) {
                                failures.push(describe(&format!("stdout shows the planted `{s}`:\n{}", String::from_utf8_lossy(&run.stdout))));
                            }
                            for leak in leaked_files(&out, planted) {
                                failures.push(describe(&format!("a written file leaks a secret: {leak}")));
                            }
                        }
                    }
                    (tally, failures)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = vec![];
    let mut total: Vec<Tally> = (0..COMMANDS.len()).map(|_| Tally::default()).collect();
    for (tally, f) in results {
        failures.extend(f);
        for (t, x) in total.iter_mut().zip(tally) {
            t.runs += x.runs;
            t.spent += x.spent;
            t.slowest_ratio = t.slowest_ratio.max(x.slowest_ratio);
            for k in 0..3 {
                t.exits[k] += x.exits[k];
            }
        }
    }
    eprintln!(
        "mutations: {cases} cases (seed {seed}) over {} values fixtures and {} streams in {:.1?}",
        values.len(),
        streams.len(),
        started.elapsed()
    );
    for (cmd, t) in COMMANDS.iter().zip(&total) {
        eprintln!(
            "  {cmd:<22} {} runs, exit 0/1/2: {}/{}/{}, {:.1?} in all, slowest at {:.1}x its reference (budget {BUDGET_FACTOR}x)",
            t.runs, t.exits[0], t.exits[1], t.exits[2], t.spent, t.slowest_ratio
        );
    }
    eprintln!("  findings: {}", failures.len());
    for f in failures
        .iter()
        .take(if only.is_some() { usize::MAX } else { 5 })
    {
        eprintln!("==== {f}");
    }
    for f in &failures {
        eprintln!("- {}", f.lines().next().unwrap_or(""));
    }
    assert!(
        failures.is_empty(),
        "{} findings; first:\n{}",
        failures.len(),
        failures[0]
    );
}
