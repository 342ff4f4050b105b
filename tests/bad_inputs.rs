//! Every `fixtures/bad/*.yaml` must be refused: exit 1, no output folder, and for each
//! `# expect: <code> <line>` comment a diagnostic with that code at that line of that file.
//! Every error reported must be one the file expects, so one mistake is reported once, at the
//! place it was made (warnings may come on top).

mod common;

use common::natscc;
use std::path::Path;

#[derive(Debug, PartialEq)]
struct Finding {
    file: String,
    line: u32,
    severity: String,
    code: String,
}

/// Parses `file:line:col: severity: code: message`; location-less lines have file `natscc`, line 0.
fn parse_concise(stderr: &str) -> Vec<Finding> {
    stderr
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(4, ": ");
            let (loc, severity, code) = (parts.next()?, parts.next()?, parts.next()?);
            let mut loc = loc.rsplitn(3, ':');
            let (line, file) = match (loc.next(), loc.next(), loc.next()) {
                (Some(_col), Some(line), Some(file)) => (line.parse().ok()?, file.to_string()),
                _ => (0, loc_less(l)?),
            };
            Some(Finding {
                file,
                line,
                severity: severity.into(),
                code: code.into(),
            })
        })
        .collect()
}

fn loc_less(line: &str) -> Option<String> {
    line.starts_with("natscc: ").then(|| "natscc".to_string())
}

fn expectations(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# expect:"))
        .map(|e| {
            let mut w = e.split_whitespace();
            let code = w.next().expect("an expect line names a code").to_string();
            let line = w
                .next()
                .and_then(|n| n.parse().ok())
                .expect("an expect line names a line number");
            (code, line)
        })
        .collect()
}

/// What is wrong with the compiler's answer for one bad file, if anything.
fn check_file(dir: &Path, name: &str) -> Option<String> {
    let expected = expectations(&std::fs::read_to_string(dir.join(name)).unwrap());
    assert!(
        !expected.is_empty(),
        "fixtures/bad/{name} has no `# expect: <code> <line>` line"
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let run = natscc()
        .current_dir(dir)
        .args(["compile", "-f", name, "-o"])
        .arg(&out)
        .args(["--format", "concise"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    let findings = parse_concise(&stderr);
    let mut problems = vec![];
    if run.status.code() != Some(1) {
        problems.push(format!("exit status {:?}, expected 1", run.status.code()));
    }
    if out.exists() {
        problems.push("the output folder was written".into());
    }
    for (code, line) in &expected {
        if !findings
            .iter()
            .any(|f| f.file == name && f.line == *line && f.code == *code)
        {
            problems.push(format!("no {code} at line {line}"));
        }
    }
    for f in findings.iter().filter(|f| f.severity == "error") {
        if !(f.file == name && expected.contains(&(f.code.clone(), f.line))) {
            problems.push(format!(
                "unexpected error {} at {}:{}",
                f.code, f.file, f.line
            ));
        }
    }
    (!problems.is_empty())
        .then(|| format!("fixtures/bad/{name}: {}\n{stderr}", problems.join("; ")))
}

#[test]
fn bad_inputs_are_refused_precisely() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 30,
        "only {} bad inputs under fixtures/bad",
        names.len()
    );
    let failures: Vec<String> = names.iter().filter_map(|n| check_file(&dir, n)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs not refused as expected:\n\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

#[test]
fn concise_lines_parse() {
    let f = parse_concise(
        "a.yaml:3:5: error: natscc::x::y: msg: with colons (help: h)\nnatscc: warning: natscc::z: m\n",
    );
    assert_eq!(
        f[0],
        Finding {
            file: "a.yaml".into(),
            line: 3,
            severity: "error".into(),
            code: "natscc::x::y".into()
        }
    );
    assert_eq!(
        f[1],
        Finding {
            file: "natscc".into(),
            line: 0,
            severity: "warning".into(),
            code: "natscc::z".into()
        }
    );
}
