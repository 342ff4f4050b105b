//! The Helm 4 plugin (helm-plugin/natscc-postrender) run by Helm's own engine: Helm SDK v4.2.3
//! from PyPI's helm-python-sdk (scripts/setup.sh installs it into .tools/venv), driven by
//! scripts/helm_postrender.py, installs (client dry-run) the small chart in
//! tests/data/postrender-chart with the plugin as `--post-renderer`:
//!
//! - good values: the install succeeds and its manifest is the chart's render byte for byte;
//!   the plugin ran natscc, which answered with exactly the stream it was given;
//! - a cross-layer overlap: Helm refuses the install because the plugin failed, and the
//!   plugin's report (NATSCC_REPORT) carries natscc's code;
//! - `--post-renderer-args` with `--values` (Helm 3's leading `post-render` or not): natscc
//!   compiles the values and finds nothing to rewrite, so the manifest is unchanged again.
//!
//! The chart builds accounts.conf from the values' cross-layer lists with its own template and
//! takes every other ConfigMap from natscc's compile of the good values (written into a copy of
//! the chart here). No tool missing is a reason to skip: each test fails instead.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Every subprocess gets this long; Helm's install takes about a tenth of a second.
const TIMEOUT: Duration = Duration::from_secs(120);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn data(name: &str) -> PathBuf {
    repo().join("tests/data/postrender-chart").join(name)
}

/// Runs `cmd` in a process group of its own; on the deadline the whole group is killed and
/// the test fails.
fn run(cmd: &mut Command, what: &str) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let pipe = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = vec![];
            r.read_to_end(&mut buf).map(|_| buf).unwrap_or_default()
        })
    };
    let stdout = pipe(Box::new(child.stdout.take().unwrap()));
    let stderr = pipe(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            // Not reaped yet, so the group id is still this child's.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!("{what} did not finish within {TIMEOUT:?}; its process group was killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// A temporary copy of the chart with natscc's compile of the good values in its files/, and a
/// stand-in for natscc that records its arguments, its stdin and its stdout, then answers as
/// natscc does.
struct Setup {
    tmp: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let compiled = tmp.path().join("compiled");
        let out = run(
            Command::new(env!("CARGO_BIN_EXE_natscc"))
                .arg("compile")
                .arg("-f")
                .arg(data("good.yaml"))
                .arg("-o")
                .arg(&compiled),
            "natscc compile",
        );
        assert!(
            out.status.success(),
            "natscc compiles good.yaml: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let chart = tmp.path().join("chart");
        copy_dir(&data("chart"), &chart);
        std::fs::create_dir(chart.join("files")).unwrap();
        std::fs::copy(
            compiled.join("manifests.yaml"),
            chart.join("files/manifests.yaml"),
        )
        .unwrap();
        let seen = tmp.path().join("seen");
        std::fs::create_dir(&seen).unwrap();
        let recorder = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{seen}/args'\ntee '{seen}/stdin' | '{natscc}' \"$@\" > '{seen}/stdout'\nstatus=$?\ncat '{seen}/stdout'\nexit $status\n",
            seen = seen.display(),
            natscc = env!("CARGO_BIN_EXE_natscc"),
        );
        let path = tmp.path().join("natscc-recorder");
        std::fs::write(&path, recorder).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Setup { tmp }
    }

    fn recorder(&self) -> PathBuf {
        self.tmp.path().join("natscc-recorder")
    }

    fn report(&self) -> PathBuf {
        self.tmp.path().join("report.txt")
    }

    /// What the recorder saw: natscc's arguments, its stdin and its stdout.
    fn seen(&self) -> (Vec<String>, String, String) {
        let read = |f: &str| {
            std::fs::read_to_string(self.tmp.path().join("seen").join(f))
                .unwrap_or_else(|e| panic!("the plugin never ran natscc ({f}: {e})"))
        };
        (
            read("args").lines().map(str::to_string).collect(),
            read("stdin"),
            read("stdout"),
        )
    }

    /// `helm install --dry-run=client --post-renderer natscc-postrender` of the chart with
    /// `values`, the plugin running `natscc`: (exit code, the chart's render without a
    /// post-renderer, the manifest with the plugin, Helm's error).
    fn helm(
        &self,
        values: &Path,
        natscc: &Path,
        args: &[&str],
    ) -> (i32, String, Option<String>, Option<String>) {
        let python = repo().join(".tools/venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/setup.sh (./scripts/test.sh does) to install helm-python-sdk",
            python.display()
        );
        let mut cmd = Command::new(&python);
        cmd.arg(repo().join("scripts/helm_postrender.py"))
            .arg("--chart")
            .arg(self.tmp.path().join("chart"))
            .arg("-f")
            .arg(values)
            .arg("--plugin")
            .arg(repo().join("helm-plugin/natscc-postrender"))
            .arg("--natscc")
            .arg(natscc)
            .arg("--report")
            .arg(self.report())
            .args(args.iter().map(|a| format!("--post-renderer-arg={a}")))
            .env("TMPDIR", self.tmp.path())
            .env_remove("NATSCC_REPORT")
            .env_remove("NATSCC_BIN");
        let out = run(&mut cmd, "scripts/helm_postrender.py");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code().unwrap_or(-1);
        assert!(
            code == 0 || code == 1,
            "scripts/helm_postrender.py failed (exit {code}):\n{stderr}"
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("no JSON from helm_postrender.py ({e}):\n{stderr}"));
        let text = |k: &str| json[k].as_str().map(str::to_string);
        (
            code,
            text("render").expect("the chart's render"),
            text("manifest"),
            text("error"),
        )
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn helm_installs_the_good_chart_through_the_plugin_unchanged() {
    let s = Setup::new();
    let (code, render, manifest, error) = s.helm(&data("good.yaml"), &s.recorder(), &[]);
    assert_eq!((code, error), (0, None));
    // The chart rendered the accounts from the values, with the other configs beside them.
    for line in [
        "  accounts.conf: |\n    CSC {\n",
        "        { stream: { account: CPC, subject: \"sensor.>\" }, to: \"cpc.2.sensor.>\" }\n",
        "  nats.conf: |\n    {\n      \"accounts\": {\n        include ../nats-accounts/accounts.conf;\n",
        "  leafnodes.conf: |\n",
        "kind: StatefulSet\n",
    ] {
        assert!(
            render.contains(line),
            "the chart renders {line:?}:\n{render}"
        );
    }
    assert!(
        manifest.as_deref() == Some(render.as_str()),
        "the manifest with the plugin differs from the chart's render:\n{}",
        manifest.unwrap_or_default()
    );
    // The plugin ran `natscc post-render` on the stream and answered with it byte for byte.
    let (args, stdin, stdout) = s.seen();
    assert_eq!(args, ["post-render"]);
    assert!(
        stdin.contains("name: nats-accounts-config\n")
            && stdin.contains("include ../nats-accounts/accounts.conf;"),
        "{stdin}"
    );
    assert!(stdout == stdin, "natscc changed the stream:\n{stdout}");
    assert!(
        std::fs::read_to_string(s.report())
            .unwrap_or_default()
            .is_empty(),
        "a clean stream reports nothing"
    );
}

#[test]
fn helm_refuses_a_cross_layer_overlap_with_the_plugins_finding() {
    let s = Setup::new();
    let natscc = PathBuf::from(env!("CARGO_BIN_EXE_natscc"));
    let (code, render, manifest, error) = s.helm(&data("overlap.yaml"), &natscc, &[]);
    // The chart renders the overlap as it is ...
    assert!(
        render.contains("        { stream: { account: CSC, subject: \"sensor.>\" } }\n"),
        "{render}"
    );
    // ... and Helm stops the install because the plugin failed.
    assert_eq!((code, manifest), (1, None));
    let error = error.expect("Helm's error");
    assert!(
        error.contains("post-renderer plugin \"natscc-postrender\"")
            && error.contains("exited with error"),
        "{error}"
    );
    let report = std::fs::read_to_string(s.report())
        .expect("the plugin writes its findings to NATSCC_REPORT");
    assert!(report.contains("natscc::cross_layer::overlap"), "{report}");
    assert!(
        report.contains("`sensor.>`") && report.contains("ConfigMap `nats-accounts-config`"),
        "{report}"
    );
}

#[test]
fn with_values_the_plugin_leaves_the_charts_render_unchanged() {
    let values = data("good.yaml");
    let values = values.to_str().unwrap();
    // Helm 3's form (`post-render` first) and the plugin's own (post-render's options only).
    for args in [
        &["post-render", "--values", values][..],
        &["--values", values][..],
    ] {
        let s = Setup::new();
        let (code, render, manifest, error) = s.helm(&data("good.yaml"), &s.recorder(), args);
        assert_eq!(
            (code, error),
            (0, None),
            "--post-renderer-args {args:?}: {}",
            std::fs::read_to_string(s.report()).unwrap_or_default()
        );
        assert!(
            manifest.as_deref() == Some(render.as_str()),
            "--post-renderer-args {args:?} changed the manifest:\n{}",
            manifest.unwrap_or_default()
        );
        let (seen, stdin, stdout) = s.seen();
        assert_eq!(
            seen,
            ["post-render", "--values", values],
            "--post-renderer-args {args:?}"
        );
        assert!(
            stdout == stdin,
            "--values rewrote the chart's own render of the values:\n{stdout}"
        );
    }
}
