//! How `natscc compile -o` treats the output folder (issue 11): it replaces a folder only while
//! everything in it is what natscc wrote there (by the `.natscc-manifest` it keeps), refuses a
//! symlink, swaps old for new in one step that survives kill -9, cleans up the staging folders
//! killed runs left, and writes nothing when compilation fails. Also the YAML printer's
//! block scalars, which must keep every trailing newline.

// A scenario reads top to bottom as one story; the 120-line limit is for src/.
#![allow(clippy::too_many_lines)]

mod common;

use common::{files_under, natscc};
use natscc::emit::{MANIFEST, sha256_hex, write_atomic};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn compile(out: &Path, extra: &[&str]) -> std::process::Output {
    natscc()
        .current_dir(root())
        .args([
            "compile",
            "--format",
            "concise",
            "-f",
            "examples/cpc-1.yaml",
        ])
        .args(extra)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files_under(dir)
        .into_iter()
        .map(|rel| (rel.clone(), std::fs::read(dir.join(&rel)).unwrap()))
        .collect()
}

/// The manifest's entries (path -> hash), comment lines skipped.
fn manifest(dir: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir.join(MANIFEST))
        .unwrap_or_else(|e| panic!("{}: no manifest: {e}", dir.display()));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            l.split_once("  ")
                .map(|(h, p)| (p.to_string(), h.to_string()))
                .unwrap()
        })
        .collect()
}

/// The folder is whole: exactly the files its manifest lists (and the manifest), each unchanged.
fn whole(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let m = manifest(dir);
    let mut on_disk: Vec<String> = files_under(dir)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| p != MANIFEST)
        .collect();
    on_disk.sort();
    let listed: Vec<String> = m.keys().cloned().collect();
    if on_disk != listed {
        return Err(format!(
            "files {on_disk:?} but the manifest lists {listed:?}"
        ));
    }
    for (p, h) in &m {
        if sha256_hex(&std::fs::read(dir.join(p)).unwrap()) != *h {
            return Err(format!("{p} does not match its hash"));
        }
    }
    Ok(m)
}

fn leftovers(parent: &Path, base: &str) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{base}.natscc-")))
        .collect()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn sha256_matches_the_standard() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // Two blocks of padding.
    assert_eq!(
        sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
    assert_eq!(
        sha256_hex(&vec![b'a'; 1_000_000]),
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    );
}

#[test]
fn the_manifest_lists_every_file_and_sha256sum_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(compile(&out, &[]).status.code(), Some(0));
    let m = whole(&out).unwrap();
    assert!(
        m.contains_key("nats/nats-config/nats.conf") && m.contains_key("env.yaml"),
        "{m:?}"
    );
    // The manifest is in sha256sum's format: the standard tool checks it as it stands.
    if let Ok(run) = std::process::Command::new("sha256sum")
        .current_dir(&out)
        .args(["--quiet", "-c", MANIFEST])
        .output()
    {
        assert!(
            run.status.success(),
            "sha256sum -c: {}{}",
            String::from_utf8_lossy(&run.stdout),
            stderr(&run)
        );
    }
}

/// The audit's case: files named as natscc names its outputs, but written by hand.
#[test]
fn user_files_with_output_names_are_refused_not_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("mycfg");
    std::fs::create_dir_all(out.join("prod")).unwrap();
    std::fs::create_dir_all(out.join("empty")).unwrap();
    std::fs::write(out.join("nats.conf"), "port: 4222 # mine\n").unwrap();
    std::fs::write(out.join("secrets.yaml"), "mine: true\n").unwrap();
    std::fs::write(out.join("prod/env.yaml"), "mine: prod\n").unwrap();
    let before = tree(&out);
    let run = compile(&out, &[]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains(": error: natscc::output::io: ")
            && stderr(&run).contains("natscc did not write"),
        "{}",
        stderr(&run)
    );
    assert!(
        stderr(&run).contains("move it out") || stderr(&run).contains("new folder"),
        "says what to do: {}",
        stderr(&run)
    );
    assert_eq!(tree(&out), before);
    assert!(out.join("empty").is_dir());
    assert!(leftovers(tmp.path(), "mycfg").is_empty());

    // Only the empty folder: still the user's, still refused.
    let only_empty = tmp.path().join("only-empty");
    std::fs::create_dir_all(only_empty.join("keep")).unwrap();
    assert_eq!(compile(&only_empty, &[]).status.code(), Some(2));
    assert!(only_empty.join("keep").is_dir());

    // An empty existing folder is filled.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(compile(&empty, &[]).status.code(), Some(0));
    whole(&empty).unwrap();
}

#[test]
fn a_changed_output_file_is_refused_until_the_change_is_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(compile(&out, &[]).status.code(), Some(0));
    let conf = out.join("nats/nats-config/nats.conf");
    let original = std::fs::read(&conf).unwrap();
    std::fs::write(&conf, b"# tuned by hand\n").unwrap();
    let before = tree(&out);
    for extra in [
        &[][..],
        &["--set", "global.eventBus.mtls.enabled=false"][..],
    ] {
        let run = compile(&out, extra);
        assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
        assert!(
            stderr(&run).contains("was changed since natscc wrote it"),
            "{}",
            stderr(&run)
        );
        assert_eq!(tree(&out), before);
    }
    // A file natscc wrote and the user deleted loses nothing: the folder is replaced.
    std::fs::write(&conf, original).unwrap();
    std::fs::remove_file(out.join("env.yaml")).unwrap();
    assert_eq!(
        compile(&out, &["--set", "global.eventBus.mtls.enabled=false"])
            .status
            .code(),
        Some(0)
    );
    whole(&out).unwrap();
    assert!(!out.join("nats-mtls").exists());
}

/// A folder written by a natscc that kept no manifest is replaced when every file in it is what
/// natscc writes now (nothing to lose), and refused otherwise.
#[test]
fn an_unchanged_folder_without_a_manifest_is_adopted() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    assert_eq!(compile(&out, &[]).status.code(), Some(0));
    std::fs::remove_file(out.join(MANIFEST)).unwrap();
    assert_eq!(compile(&out, &[]).status.code(), Some(0));
    whole(&out).unwrap();
    std::fs::remove_file(out.join(MANIFEST)).unwrap();
    assert_eq!(
        compile(&out, &["--set", "global.eventBus.mtls.enabled=false"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_symlink_at_o_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real");
    assert_eq!(compile(&real, &[]).status.code(), Some(0));
    let before = tree(&real);
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let run = compile(&link, &["--set", "global.eventBus.mtls.enabled=false"]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains(": error: natscc::output::io: ")
            && stderr(&run).contains("symbolic link"),
        "{}",
        stderr(&run)
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), real);
    assert_eq!(tree(&real), before);
    // Named with a trailing slash, which would otherwise resolve to the folder behind it.
    let run = compile(
        Path::new(&format!("{}/", link.display())),
        &["--set", "global.eventBus.mtls.enabled=false"],
    );
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(tree(&real), before);
    // A dangling link too.
    let dangling = tmp.path().join("dangling");
    std::os::unix::fs::symlink(tmp.path().join("nowhere"), &dangling).unwrap();
    assert_eq!(compile(&dangling, &[]).status.code(), Some(2));
    assert!(
        std::fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink()
            && !tmp.path().join("nowhere").exists()
    );
}

#[test]
fn a_failing_compile_writes_nothing_and_a_rerun_touches_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("a/b/fresh");
    let run = natscc()
        .current_dir(root())
        .args(["compile", "-f", "fixtures/bad/subject-space.yaml", "-o"])
        .arg(&fresh)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(!tmp.path().join("a").exists());
    let out = tmp.path().join("out");
    assert_eq!(compile(&out, &[]).status.code(), Some(0));
    let stamp = |d: &Path| -> Vec<(PathBuf, std::time::SystemTime, u64)> {
        use std::os::unix::fs::MetadataExt;
        let mut v: Vec<_> = files_under(d)
            .into_iter()
            .map(|rel| {
                let m = std::fs::metadata(d.join(&rel)).unwrap();
                (rel, m.modified().unwrap(), m.ino())
            })
            .collect();
        let m = std::fs::metadata(d).unwrap();
        v.push((PathBuf::from("."), m.modified().unwrap(), m.ino()));
        v
    };
    let before = (tree(&out), stamp(&out));
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(compile(&out, &[]).status.code(), Some(0));
    assert_eq!(
        (tree(&out), stamp(&out)),
        before,
        "an unchanged re-run touched the folder"
    );
    let run = natscc()
        .current_dir(root())
        .args(["compile", "-f", "fixtures/bad/subject-space.yaml", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert_eq!((tree(&out), stamp(&out)), before);
    assert_eq!(leftovers(tmp.path(), "out"), Vec::<String>::new());
}

/// A pid no process has now (a child that has exited and been reaped).
fn dead_pid() -> u32 {
    let mut c = std::process::Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

#[test]
fn leftovers_are_removed_only_when_provably_natscc_s() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let files: BTreeMap<String, String> = [
        ("env.yaml", "a: 1\n"),
        ("nats/nats-config/nats.conf", "port: 4222\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into()))
    .collect();
    write_atomic(&out, &files).unwrap();
    let pid = dead_pid();
    let mk = |name: &str, with: &[(&str, &[u8])]| {
        let d = tmp.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (f, b) in with {
            std::fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
            std::fs::write(d.join(f), b).unwrap();
        }
        d
    };
    let m = std::fs::read(out.join(MANIFEST)).unwrap();
    // A stage cut short: the manifest, one file cut in the middle, one missing.
    let cut = mk(
        &format!(".out.natscc-stage-{pid}"),
        &[(MANIFEST, &m), ("env.yaml", b"a:")],
    );
    // An old copy half removed, and a stage killed before it held anything.
    let old = mk(
        &format!(".out.natscc-old-{pid}"),
        &[
            (MANIFEST, &m),
            ("nats/nats-config/nats.conf", b"port: 4222\n"),
        ],
    );
    let empty = mk(
        &format!(".out.natscc-stage-{}", pid.wrapping_add(1_000_000)),
        &[],
    );
    // Not provably natscc's: a file no manifest lists, no manifest, another name, a live pid.
    let foreign = mk(
        &format!(".out.natscc-stage-{}", pid.wrapping_add(2_000_000)),
        &[(MANIFEST, &m), ("notes.txt", b"mine")],
    );
    let unlisted = mk(
        &format!(".out.natscc-old-{}", pid.wrapping_add(3_000_000)),
        &[("env.yaml", b"a: 1\n")],
    );
    let named = mk(".out.natscc-stage-mine", &[(MANIFEST, &m)]);
    let other = mk(&format!(".other.natscc-stage-{pid}"), &[(MANIFEST, &m)]);
    let live_child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let busy = mk(
        &format!(".out.natscc-stage-{}", live_child.id()),
        &[(MANIFEST, &m)],
    );
    let mut changed = files.clone();
    changed.insert("env.yaml".into(), "a: 2\n".into());
    write_atomic(&out, &changed).unwrap();
    let mut live_child = live_child;
    live_child.kill().unwrap();
    live_child.wait().unwrap();
    for gone in [&cut, &old, &empty] {
        assert!(!gone.exists(), "{} was left", gone.display());
    }
    for kept in [&foreign, &unlisted, &named, &other, &busy] {
        assert!(kept.exists(), "{} was removed", kept.display());
    }
    assert_eq!(
        std::fs::read_to_string(out.join("env.yaml")).unwrap(),
        "a: 2\n"
    );
}

#[test]
fn a_fleet_gets_one_manifest_per_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fleet");
    let files: BTreeMap<String, String> = [
        ("a/env.yaml", "a\n"),
        ("a/nats/nats-config/nats.conf", "x\n"),
        ("b/env.yaml", "b\n"),
    ]
    .into_iter()
    .map(|(k, v)| (k.into(), v.into()))
    .collect();
    write_atomic(&out, &files).unwrap();
    assert!(!out.join(MANIFEST).exists());
    assert_eq!(
        whole(&out.join("a")).unwrap().keys().collect::<Vec<_>>(),
        ["env.yaml", "nats/nats-config/nats.conf"]
    );
    assert_eq!(
        whole(&out.join("b")).unwrap().keys().collect::<Vec<_>>(),
        ["env.yaml"]
    );
    // The fleet folder is natscc's as a whole: replaced; a file of the user's beside the clusters
    // is not.
    let mut next = files.clone();
    next.remove("b/env.yaml");
    write_atomic(&out, &next).unwrap();
    assert!(!out.join("b").exists());
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let e = write_atomic(&out, &files).unwrap_err();
    assert!(e.to_string().contains("natscc did not write"), "{e}");
    assert!(out.join("notes.txt").is_file());
}

/// How many compiles are killed: `NATSCC_KILLS`, else 1,000 (issue 11's figure, about 10 s),
/// 5,000 with `NATSCC_LONG=1`.
fn kills() -> usize {
    let long = std::env::var_os("NATSCC_LONG").is_some_and(|v| v == "1");
    std::env::var("NATSCC_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if long { 5000 } else { 1000 })
}

/// Kill -9 at random points of compiles that replace an existing folder: after each, the
/// folder is whole, old or new; every compile that runs to its end leaves no staging folder
/// (it removes those the killed runs before it left), and neither does a last normal compile.
#[test]
fn kill_9_at_any_point_leaves_the_old_or_the_new_folder_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_natscc"));
    let variants: [&[&str]; 2] = [&[], &["--set", "global.eventBus.mtls.enabled=false"]];
    // Each variant's manifest, from a normal compile of its own.
    let expected: Vec<BTreeMap<String, String>> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let d = tmp.path().join(format!("ref-{i}"));
            assert_eq!(compile(&d, v).status.code(), Some(0));
            whole(&d).unwrap()
        })
        .collect();
    assert_ne!(expected[0], expected[1]);
    let out = tmp.path().join("out");
    assert_eq!(compile(&out, variants[0]).status.code(), Some(0));
    let spawn = |v: &[&str]| {
        std::process::Command::new(&bin)
            .current_dir(root())
            .args([
                "compile",
                "--format",
                "concise",
                "-f",
                "examples/cpc-1.yaml",
            ])
            .args(v)
            .arg("-o")
            .arg(&out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // How long one compile takes here, so the kills spread over the whole run, writing included.
    let mut times: Vec<Duration> = (0..6)
        .map(|i| {
            let t = Instant::now();
            assert!(spawn(variants[(i + 1) % 2]).wait().unwrap().success());
            t.elapsed()
        })
        .collect();
    times.sort();
    let full = times[times.len() / 2].as_micros() as u64;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let started = Instant::now();
    let (
        mut runs,
        mut killed,
        mut finished,
        mut new,
        mut old,
        mut left_behind,
        mut killed_after_swap,
    ) = (0, 0, 0, 0, 0, 0, 0);
    let mut current = expected[0].clone();
    // `kills()` compiles killed; `full` follows the machine's pace so the kills keep landing.
    let want_kills = kills();
    let mut full = full;
    while killed < want_kills && runs < 3 * want_kills {
        // Always the other variant, so every run replaces the folder.
        let other = usize::from(current == expected[0]);
        let want = &expected[other];
        let mut child = spawn(variants[other]);
        // Half the kills anywhere from 200 µs to a little past a whole compile, half in its
        // last third, where the folder is written and swapped.
        let r = next();
        let at = if r % 2 == 0 {
            200 + (r >> 1) % (full + full / 10)
        } else {
            full * 2 / 3 + (r >> 1) % (full / 3 + full / 10)
        };
        std::thread::sleep(Duration::from_micros(at));
        let was_killed = child.try_wait().unwrap().is_none();
        if was_killed {
            child.kill().unwrap();
            killed += 1;
            full += full / 100;
        } else {
            finished += 1;
            full -= full / 20;
        }
        child.wait().unwrap();
        runs += 1;
        let got = whole(&out)
            .unwrap_or_else(|e| panic!("run {runs} (seed {seed}): the folder is not whole: {e}"));
        if got == *want {
            new += 1;
            killed_after_swap += usize::from(was_killed);
        } else if got == current {
            old += 1;
        } else {
            panic!("run {runs} (seed {seed}): the folder is neither the old nor the new output");
        }
        current = got;
        let left = leftovers(tmp.path(), "out");
        if !left.is_empty() {
            assert!(
                was_killed,
                "run {runs} (seed {seed}) ran to its end and left {left:?}"
            );
            left_behind += 1;
        }
    }
    assert_eq!(compile(&out, variants[0]).status.code(), Some(0));
    assert_eq!(whole(&out).unwrap(), expected[0]);
    assert_eq!(
        leftovers(tmp.path(), "out"),
        Vec::<String>::new(),
        "a normal compile left staging folders"
    );
    eprintln!(
        "kill -9: {runs} runs in {:.1?} (one compile ~{full} µs, seed {seed}): {killed} killed, {finished} finished first; folder new {new} ({killed_after_swap} of them killed after the swap), old {old}; \
         {left_behind} runs left a staging folder, all removed by the next compiles",
        started.elapsed()
    );
    assert!(
        killed >= want_kills,
        "too few kills landed: {killed} of {runs}"
    );
}

// ---- The YAML printer ----

fn reparse(text: &str) -> serde_json::Value {
    let mut sources = natscc::diag::Sources::default();
    let id = sources.add(natscc::diag::Source::new("printed.yaml", text.to_string()));
    let (node, diags) = natscc::load::yaml::parse(id, &sources);
    assert!(diags.is_empty(), "{diags:?}\n{text}");
    node.unwrap().to_json()
}

fn tricky_strings() -> Vec<String> {
    let mut v: Vec<String> = [
        "a\n",
        "a\n\n",
        "a\n\n\n",
        "a",
        "a\nb",
        "a\nb\n",
        "a\nb\n\n",
        "a\n\nb",
        "a\n\nb\n\n",
        "x:\n  y: 1\n\n",
        "# not a comment\n\n",
        "- item\n\n\n\n",
        "a\n  indented\n\n",
        "{\n}\n\n",
        "\n",
        "\n\n",
        "",
        " lead\n\n",
        "trail \n",
        "tab\there\n\n",
        "cr\r\n\r\n",
        "nel\u{85}x\n",
        "ls\u{2028}x\n\n",
        "ps\u{2029}",
        "bom\u{feff}x\n",
        "del\u{7f}x\n\n",
        "c1\u{9b}x",
        "yes",
        "null",
        "0x1F",
        "é\n\n",
        "---\nkey: v\n\n",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("{}\n\n", "long line ".repeat(30)));
    v
}

fn document() -> serde_json::Value {
    let strings = tricky_strings();
    let mut data = serde_json::Map::new();
    for (i, s) in strings.iter().enumerate() {
        data.insert(format!("k{i:02}"), serde_json::Value::String(s.clone()));
    }
    serde_json::json!({ "apiVersion": "v1", "kind": "ConfigMap", "data": data, "list": strings, "nested": { "deeper": { "last": "end\n\n" } } })
}

#[test]
fn printed_block_scalars_keep_every_trailing_newline() {
    let v = serde_json::json!({ "a": "x\n\n", "b": "x\n", "c": "x\ny" });
    let text = natscc::emit::yaml::to_yaml(&v);
    assert_eq!(text, "a: |+\n  x\n\nb: |\n  x\nc: |-\n  x\n  y\n");
    let doc = document();
    let text = natscc::emit::yaml::to_yaml(&doc);
    assert_eq!(
        reparse(&text),
        doc,
        "natscc's loader reads back something else:\n{text}"
    );
    // As a stream too (documents separated by ---).
    let stream = natscc::emit::yaml::stream(&[doc.clone(), doc.clone()]);
    let mut sources = natscc::diag::Sources::default();
    let id = sources.add(natscc::diag::Source::new("stream.yaml", stream.clone()));
    let (docs, diags) = natscc::load::yaml::parse_stream(id, &sources);
    assert!(diags.is_empty(), "{diags:?}");
    let docs = docs.unwrap();
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().all(|d| d.to_json() == doc), "{stream}");
}

/// PyYAML (a YAML 1.1 reader, as Helm's go-yaml is) reads the same strings back.
#[test]
fn printed_yaml_reads_back_the_same_in_python() {
    let python = [
        root().join(".tools/venv/bin/python"),
        PathBuf::from("python3"),
    ]
    .into_iter()
    .find(|p| {
        std::process::Command::new(p)
            .args(["-c", "import yaml"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(python) = python else {
        eprintln!("SKIPPED: no Python with the yaml module");
        return;
    };
    let doc = document();
    let stream = natscc::emit::yaml::stream(std::slice::from_ref(&doc));
    let mut child = std::process::Command::new(python)
        .args(["-c", "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin.buffer.read().decode('utf-8')))))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{stream}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read, serde_json::Value::Array(vec![doc]), "{stream}");
}
