//! Shell completions and man pages come from the clap definition, so they name every command.

mod common;

use common::natscc;

const COMMANDS: &[&str] = &[
    "compile",
    "lint",
    "graph",
    "explain",
    "keys",
    "rules",
    "schema",
    "post-render",
    "completions",
    "man",
];

fn stdout(args: &[&str]) -> String {
    let out = natscc().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "natscc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completion_scripts_name_every_command_and_the_bash_one_is_valid_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = stdout(&["completions", shell]);
        for c in COMMANDS {
            assert!(script.contains(c), "{shell} completion lacks `{c}`");
        }
        assert!(
            script.contains("deny-warnings"),
            "{shell} completion lacks options"
        );
        // Elvish and PowerShell scripts do not complete option values.
        assert!(
            matches!(shell, "elvish" | "powershell") || script.contains("sarif"),
            "{shell} completion lacks --format values"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("natscc.bash");
    std::fs::write(&path, stdout(&["completions", "bash"])).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash runs");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Sourced and asked, it completes subcommands.
    let probe = format!(
        "source {}; COMP_WORDS=(natscc post); COMP_CWORD=1; _natscc natscc post natscc; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &probe])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "post-render",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        natscc()
            .args(["completions", "tcsh"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn the_man_page_documents_every_command_and_renders() {
    let page = stdout(&["man"]);
    assert!(page.contains(".TH natscc 1"), "{page}");
    for c in COMMANDS {
        assert!(
            page.contains(&format!("natscc\\-{}", c.replace('-', "\\-"))),
            "the man page lacks `{c}`"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man");
    natscc().args(["man", "--out"]).arg(&dir).assert().success();
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for want in [
        "natscc.1",
        "natscc-post-render.1",
        "natscc-lint.1",
        "natscc-keys-generate.1",
        "natscc-completions.1",
    ] {
        assert!(
            pages.iter().any(|p| p == want),
            "{want} missing from {pages:?}"
        );
    }
    // groff reads every page without a warning, when it is installed.
    if let Ok(out) = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(dir.join("natscc-post-render.1"))
        .output()
    {
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let post_render = std::fs::read_to_string(dir.join("natscc-post-render.1")).unwrap();
    assert!(
        post_render.contains("\\-\\-post\\-renderer"),
        "the post-render page explains Helm use"
    );
}
