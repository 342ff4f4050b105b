//! No input makes natscc panic. Random mangles of every fixture and example, with random
//! `--set` strings, go through `compile`, `check_only`, the lint driver, the graph and explain
//! and every report format, each under `catch_unwind`; findings must point inside their source.
//! Then the hostile inputs a user can hand the CLI (binary, non-UTF-8, huge numbers, deep
//! nesting, alias bombs, folders, unreadable files, unwritable outputs): each gives a coded
//! diagnostic, exit 1 or 2, and writes nothing.
//!
//! `NATSCC_FUZZ_CASES=5000 cargo test --release --test no_panic` runs a longer search.

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
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
            if e.is_dir() {
                walk(&e, out);
            } else if e.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(e);
            }
        }
    }
    let mut paths = vec![];
    walk(&root().join("fixtures"), &mut paths);
    walk(&root().join("examples"), &mut paths);
    paths.sort();
    paths
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
        if let Some(m) = &c.model {
            let g = natscc::graph::build(m, "");
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
