//! `natscc keys` where others can reach (issue 11): it changes the mode of nothing it did not
//! create, writes and reads no key through a link or a file of another owner, reports loose
//! modes, links and foreign owners in `keys check`, validates `--extra-account` as compile does,
//! and every failure is a coded diagnostic with the README's exit code (2 usage or I/O, 1
//! findings). Everything happens in the test's own temporary folder; as root (CI) a file of
//! another user is made with chown to uid 65534.

use assert_cmd::Command;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

const NOBODY: u32 = 65534;

fn natscc() -> Command {
    Command::cargo_bin("natscc").unwrap()
}

fn run(args: &[&str], dir: &Path) -> Output {
    natscc().args(args).arg(dir).output().unwrap()
}

fn generate(dir: &Path, extra: &[&str]) -> Output {
    natscc()
        .args(["keys", "generate", "--cpc", "1"])
        .args(extra)
        .arg("-o")
        .arg(dir)
        .output()
        .unwrap()
}

fn check(dir: &Path) -> Output {
    run(&["keys", "check"], dir)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .map(|u| u == "0")
        })
        .unwrap_or(false)
}

/// Makes `p` another user's (as root, which CI is); `false` when this user cannot.
fn give_away(p: &Path) -> bool {
    match std::os::unix::fs::lchown(p, Some(NOBODY), Some(NOBODY)) {
        Ok(()) => true,
        Err(e) => {
            assert!(!is_root(), "root must be able to chown: {e}");
            eprintln!("not root: the foreign-owner case of this test cannot be built");
            false
        }
    }
}

fn files(d: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        let m = std::fs::symlink_metadata(&p).unwrap();
        if m.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// No seed under `dir` appears in any output.
fn assert_no_seed(outputs: &[&Output], dir: &Path) {
    for f in files(dir) {
        let Ok(t) = std::fs::read_to_string(&f) else {
            continue;
        };
        for word in t.split_whitespace() {
            let word = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            if word.len() > 50 && word.starts_with('S') {
                for o in outputs {
                    assert!(
                        !text(o).contains(word),
                        "a seed of {} was printed",
                        f.display()
                    );
                }
            }
        }
    }
}

/// `keys generate -o work/parent/keys` leaves `work` and `work/parent` (and the folder above)
/// as they were; the folders natscc makes are 0700, its files 0600; an existing output folder
/// keeps its mode, and an existing loose seed keeps its mode and is reported.
#[test]
fn generate_sets_modes_only_on_what_it_creates() {
    let tmp = tempfile::tempdir().unwrap();
    chmod(tmp.path(), 0o755);
    let parent = tmp.path().join("work/parent");
    std::fs::create_dir_all(&parent).unwrap();
    chmod(&tmp.path().join("work"), 0o755);
    chmod(&parent, 0o755);
    let keys = parent.join("keys");
    let out = generate(&keys, &["--extra-account", "Analytics"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(mode(tmp.path()), 0o755);
    assert_eq!(mode(&tmp.path().join("work")), 0o755, "work was changed");
    assert_eq!(mode(&parent), 0o755, "work/parent was changed");
    assert_eq!(mode(&keys), 0o700);
    for f in files(&keys) {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
        assert_eq!(mode(f.parent().unwrap()), 0o700, "{}", f.display());
    }

    // Folders natscc creates above the output folder are its own: 0700.
    let fresh = tmp.path().join("a/b/keys");
    assert_eq!(generate(&fresh, &[]).status.code(), Some(0));
    for d in ["a", "a/b", "a/b/keys"] {
        assert_eq!(mode(&tmp.path().join(d)), 0o700, "{d}");
    }

    // An existing output folder of ours keeps its mode.
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    chmod(&mine, 0o750);
    assert_eq!(generate(&mine, &[]).status.code(), Some(0));
    assert_eq!(mode(&mine), 0o750);

    // A seed someone made 0644 is not chmodded behind their back: it is a finding.
    let seed = keys.join("csc/nats-surveyor/seed");
    chmod(&seed, 0o644);
    let again = generate(&keys, &["--extra-account", "Analytics"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        text(&again).contains("natscc::keys::mode") && text(&again).contains("nats-surveyor/seed"),
        "{}",
        text(&again)
    );
    assert_eq!(mode(&seed), 0o644);
    assert_no_seed(&[&out, &again], &keys);
}

/// A planted `seed.natscc-tmp` (a link to a 0666 file of another user, or that user's file
/// itself) never receives a seed, and the seed never becomes a link.
#[test]
fn generate_refuses_planted_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "someone else's file\n").unwrap();
    chmod(&victim, 0o666);
    give_away(&victim);

    let ww = tmp.path().join("ww");
    let folder = ww.join("csc/nats-surveyor");
    std::fs::create_dir_all(&folder).unwrap();
    std::os::unix::fs::symlink(&victim, folder.join("seed.natscc-tmp")).unwrap();
    let out = generate(&ww, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("natscc::keys::link") && text(&out).contains("seed.natscc-tmp"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "someone else's file\n",
        "the seed went into the planted file"
    );
    assert!(
        std::fs::symlink_metadata(folder.join("seed")).is_err(),
        "a seed was made through the planted link"
    );
    assert_no_seed(&[&out], &ww);

    // Another user's file in the temporary file's place.
    std::fs::remove_file(folder.join("seed.natscc-tmp")).unwrap();
    let planted = folder.join("seed.natscc-tmp");
    std::fs::write(&planted, "planted\n").unwrap();
    chmod(&planted, 0o666);
    if give_away(&planted) {
        let out = generate(&ww, &[]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("natscc::keys::owner"), "{}", text(&out));
        assert_eq!(std::fs::read_to_string(&planted).unwrap(), "planted\n");
        assert!(std::fs::symlink_metadata(folder.join("seed")).is_err());
    }

    // Our own leftover from an interrupted run is replaced, and the key is made.
    std::fs::remove_file(&planted).unwrap();
    std::fs::write(&planted, "half a key").unwrap();
    let out = generate(&ww, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(std::fs::symlink_metadata(&planted).is_err());
    let seed = std::fs::symlink_metadata(folder.join("seed")).unwrap();
    assert!(seed.is_file() && seed.mode() & 0o777 == 0o600);
    assert_no_seed(&[&out], &ww);
}

/// Links, other users' files and folders, and folders others may write are refused where keys
/// live, and nothing is chmodded.
#[test]
fn generate_refuses_links_foreign_owners_and_open_folders() {
    let tmp = tempfile::tempdir().unwrap();
    // An existing seed that is a link (to a valid seed elsewhere).
    let keys = tmp.path().join("keys");
    assert_eq!(generate(&keys, &[]).status.code(), Some(0));
    let seed = keys.join("csc/nats-mtls-leaf/seed");
    let elsewhere = tmp.path().join("elsewhere-seed");
    std::fs::rename(&seed, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &seed).unwrap();
    let out = generate(&keys, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("natscc::keys::link"), "{}", text(&out));

    // The output folder itself a link.
    let real = tmp.path().join("real");
    std::fs::create_dir(&real).unwrap();
    chmod(&real, 0o700);
    let linked = tmp.path().join("linked");
    std::os::unix::fs::symlink(&real, &linked).unwrap();
    let out = generate(&linked, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("natscc::keys::link"), "{}", text(&out));
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);

    // An output folder everyone may write (a shared /tmp): refused, and left 0777.
    let open = tmp.path().join("open");
    std::fs::create_dir(&open).unwrap();
    chmod(&open, 0o1777);
    let out = generate(&open, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("natscc::keys::mode"), "{}", text(&out));
    assert_eq!(mode(&open), 0o1777);
    assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0);

    // A cluster folder of another user.
    let theirs = tmp.path().join("theirs");
    std::fs::create_dir_all(theirs.join("csc")).unwrap();
    chmod(&theirs.join("csc"), 0o755);
    if give_away(&theirs.join("csc")) {
        let out = generate(&theirs, &[]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("natscc::keys::owner"), "{}", text(&out));
        assert_eq!(std::fs::read_dir(theirs.join("csc")).unwrap().count(), 0);
        assert_eq!(mode(&theirs.join("csc")), 0o755);
    }
}

/// Applies `spoil` to a fresh, clean key folder; `keys check` must find it (exit 1) under `code`
/// and name `names` in its report.
fn check_finds(spoil: impl FnOnce(&Path) -> bool, code: &str, names: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    assert_eq!(generate(&keys, &[]).status.code(), Some(0));
    let clean = check(&keys);
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean));
    if !spoil(&keys) {
        return;
    }
    let out = check(&keys);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{code} {names}: {t}");
    assert!(!t.contains("checks out"), "{t}");
    assert!(
        t.lines().any(|l| l.contains(code) && l.contains(names)),
        "expected {code} on {names}: {t}"
    );
    assert_no_seed(&[&clean, &out], &keys);
}

#[test]
fn check_reports_open_folders() {
    check_finds(
        |k| {
            chmod(&k.join("csc/nats-xkey"), 0o777);
            true
        },
        "natscc::keys::mode",
        "csc/nats-xkey",
    );
    check_finds(
        |k| {
            chmod(&k.join("csc"), 0o770);
            true
        },
        "natscc::keys::mode",
        "keys/csc ",
    );
    check_finds(
        |k| {
            chmod(k, 0o777);
            true
        },
        "natscc::keys::mode",
        "keys ",
    );
}

#[test]
fn check_reports_seeds_others_may_read_or_write() {
    check_finds(
        |k| {
            chmod(&k.join("csc/auth-callout-keys/xkey-seed"), 0o666);
            true
        },
        "natscc::keys::mode",
        "xkey-seed",
    );
    check_finds(
        |k| {
            chmod(&k.join("csc/nats-surveyor/seed"), 0o644);
            true
        },
        "natscc::keys::mode",
        "nats-surveyor/seed",
    );
    check_finds(
        |k| {
            chmod(&k.join("cpc-1/nats-nack-user/nack-user.nk"), 0o640);
            true
        },
        "natscc::keys::mode",
        "nack-user.nk",
    );
    check_finds(
        |k| {
            chmod(&k.join("csc/nats-xkey/pubkey"), 0o666);
            true
        },
        "natscc::keys::mode",
        "nats-xkey/pubkey",
    );
}

#[test]
fn check_reports_links_and_foreign_owners() {
    // A seed replaced by a link to the very same seed: the content checks out, the link does not.
    check_finds(
        |k| {
            let seed = k.join("csc/nats-surveyor/seed");
            let outside = k.parent().unwrap().join("outside");
            std::fs::rename(&seed, &outside).unwrap();
            std::os::unix::fs::symlink(&outside, &seed).unwrap();
            true
        },
        "natscc::keys::link",
        "nats-surveyor/seed",
    );
    check_finds(
        |k| {
            let d = k.join("cpc-1/nats-leaf-csc");
            let outside = k.parent().unwrap().join("leaf");
            std::fs::rename(&d, &outside).unwrap();
            std::os::unix::fs::symlink(&outside, &d).unwrap();
            true
        },
        "natscc::keys::link",
        "nats-leaf-csc",
    );
    check_finds(
        |k| give_away(&k.join("csc/nats-surveyor/seed")),
        "natscc::keys::owner",
        "nats-surveyor/seed",
    );
    check_finds(
        |k| give_away(&k.join("cpc-1/nats-xkey")),
        "natscc::keys::owner",
        "cpc-1/nats-xkey",
    );
}

/// A public key that is another key's (still a valid user key) does not match its seed, and a
/// seed that is no NKey is invalid; both are findings, not usage errors.
#[test]
fn check_reports_mismatched_and_invalid_keys() {
    check_finds(
        |k| {
            let other = std::fs::read(k.join("cpc-1/nats-mtls-leaf/pubkey")).unwrap();
            std::fs::write(k.join("cpc-1/nats-surveyor/pubkey"), other).unwrap();
            true
        },
        "natscc::keys::mismatch",
        "nats-surveyor/pubkey",
    );
    check_finds(
        |k| {
            std::fs::write(k.join("csc/nats-surveyor/seed"), "SUAnotaseed\n").unwrap();
            true
        },
        "natscc::keys::invalid",
        "nats-surveyor/seed",
    );
}

/// `--k8s` puts no file from outside the keys into a Secret and writes no Secret through a link.
#[test]
fn k8s_refuses_links() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("passwd");
    std::fs::write(&outside, "root:x:0:0:NOT-A-KEY:/root:/bin/sh\n").unwrap();
    let leaked = |keys: &Path| {
        files(keys)
            .iter()
            .filter(|f| f.to_string_lossy().ends_with(".k8s.yaml"))
            .any(|f| std::fs::read_to_string(f).unwrap().contains("NOT-A-KEY"))
    };

    // A pubkey that is a link.
    let keys = tmp.path().join("k1");
    assert_eq!(generate(&keys, &[]).status.code(), Some(0));
    let pubkey = keys.join("csc/nats-surveyor/pubkey");
    std::fs::remove_file(&pubkey).unwrap();
    std::os::unix::fs::symlink(&outside, &pubkey).unwrap();
    let out = generate(&keys, &["--k8s"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("natscc::keys::link"), "{}", text(&out));
    assert!(!leaked(&keys));

    // Any other file of a Secret folder that is a link.
    let keys = tmp.path().join("k2");
    assert_eq!(generate(&keys, &[]).status.code(), Some(0));
    std::os::unix::fs::symlink(&outside, keys.join("csc/nats-surveyor/extra")).unwrap();
    let out = generate(&keys, &["--k8s"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("natscc::keys::link") && text(&out).contains("nats-surveyor/extra"),
        "{}",
        text(&out)
    );
    assert!(!leaked(&keys));

    // The manifest's own path a link to another user's writable file.
    let keys = tmp.path().join("k3");
    assert_eq!(generate(&keys, &[]).status.code(), Some(0));
    let victim = tmp.path().join("victim.yaml");
    std::fs::write(&victim, "theirs\n").unwrap();
    chmod(&victim, 0o666);
    give_away(&victim);
    std::os::unix::fs::symlink(&victim, keys.join("csc.secrets.k8s.yaml")).unwrap();
    let out = generate(&keys, &["--k8s"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("natscc::keys::link"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "theirs\n",
        "the Secrets were written into the planted file"
    );

    // Without links, the manifests are written, 0600, and check is happy with them.
    let keys = tmp.path().join("k4");
    let out = generate(&keys, &["--k8s"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for f in ["csc.secrets.k8s.yaml", "cpc-1.secrets.k8s.yaml"] {
        assert_eq!(mode(&keys.join(f)), 0o600, "{f}");
    }
    assert_eq!(check(&keys).status.code(), Some(0));
    assert_no_seed(&[&out], &keys);
}

/// `--extra-account` takes exactly the names compile takes, with compile's codes.
#[test]
fn extra_account_names_are_judged_as_compile_judges_them() {
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "CSC",
        "SYS",
        "auth",
        "AUTHX",
        "cpc1",
        "CPCx",
        "1abc",
        "a_b",
        "Analytics",
        "Ops2",
    ] {
        let compiled = natscc()
            .args(["compile", "--format", "concise", "-f"])
            .arg(root.join("examples/csc.yaml"))
            .arg("--set")
            .arg(format!("global.eventBus.extraAccounts.{name}.enabled=true"))
            .arg("-o")
            .arg(tmp.path().join(format!("out-{name}")))
            .output()
            .unwrap();
        let codes = |o: &Output| {
            let mut v: Vec<&str> = ["natscc::accounts::name", "natscc::accounts::reserved"]
                .into_iter()
                .filter(|c| text(o).contains(c))
                .collect();
            v.sort();
            v
        };
        let keys = tmp.path().join(format!("keys-{name}"));
        let generated = generate(&keys, &["--extra-account", name]);
        let want = codes(&compiled);
        if want.is_empty() {
            assert_eq!(
                compiled.status.code(),
                Some(0),
                "{name}: {}",
                text(&compiled)
            );
            assert_eq!(
                generated.status.code(),
                Some(0),
                "{name}: {}",
                text(&generated)
            );
        } else {
            assert_eq!(
                generated.status.code(),
                Some(2),
                "{name}: {}",
                text(&generated)
            );
            assert_eq!(
                codes(&generated).first(),
                want.first(),
                "{name}: {}",
                text(&generated)
            );
            assert!(!keys.exists(), "{name}: keys were made for a refused name");
        }
    }
    // The names the compiler refuses whatever their case.
    for name in ["csc", "Sys", "Cpc", "cpcAnalytics"] {
        let out = generate(&tmp.path().join("k"), &["--extra-account", name]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            text(&out).contains("natscc::accounts::reserved"),
            "{name}: {}",
            text(&out)
        );
    }
}

/// Every failure is coded, with a help line; 2 for usage and I/O errors.
#[test]
fn failures_are_coded_with_the_readme_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "not a folder\n").unwrap();
    for (args, target, code) in [
        (
            &["keys", "generate", "-o"][..],
            file.clone(),
            "natscc::keys::not_a_folder",
        ),
        (
            &["keys", "generate", "-o"][..],
            file.join("keys"),
            "natscc::keys::not_a_folder",
        ),
        (
            &["keys", "check"][..],
            file.clone(),
            "natscc::keys::not_a_folder",
        ),
        (
            &["keys", "check"][..],
            tmp.path().join("missing"),
            "natscc::keys::io",
        ),
    ] {
        let out = run(args, &target);
        let t = text(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} {}: {t}",
            target.display()
        );
        assert!(
            t.contains(code) && t.contains("help:"),
            "{args:?} {}: {t}",
            target.display()
        );
        assert!(!t.contains("checks out"), "{t}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder\n");
    // A finding is 1, coded too.
    let keys = tmp.path().join("keys");
    assert_eq!(generate(&keys, &[]).status.code(), Some(0));
    std::fs::remove_file(keys.join("csc/nats-xkey/pubkey")).unwrap();
    let out = check(&keys);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("natscc::keys::missing"),
        "{}",
        text(&out)
    );
    assert_no_seed(&[&out], &keys);
}

/// `keys check` on a folder that does not exist is an I/O error (2), not a finding (1).
#[test]
fn check_of_a_missing_folder_is_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = check(&tmp.path().join("nope"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("natscc::keys::io"),
        "{}",
        text(&out)
    );
}
