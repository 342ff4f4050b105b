//! Hostile shapes of values, each at about 1 MB and 10 MB: natscc answers every one with a
//! diagnostic or a compile, never a panic, and its work grows linearly with the input. The bound
//! is checked as a ratio measured in the same run (10x the input may cost at most 45x the time;
//! a quadratic cost gives about 100x), so a slow machine does not make it fail.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

/// A hostile shape: a values text of roughly `bytes` bytes.
type Shape = fn(usize) -> String;

/// One flow-style list on one line: `cpcExports: ["s0.x", "s1.x", ...]`.
fn flow_list(bytes: usize) -> String {
    let n = bytes / 10;
    let items: Vec<String> = (0..n).map(|i| format!("\"s{i}.x\"")).collect();
    format!(
        "global:\n  eventBus:\n    clusterType: csc\n    crossLayer:\n      cpcExports: [{}]\n",
        items.join(", ")
    )
}

/// The same entry repeated: every repeat is a finding, and each must cost the same.
fn repeated_entries(bytes: usize) -> String {
    let n = bytes / 6;
    format!(
        "global:\n  eventBus:\n    clusterType: csc\n    crossLayer:\n      cpcExports:\n{}",
        "      - a\n".repeat(n)
    )
}

/// Minified JSON (JSON is YAML): many extra accounts on one line.
fn minified_accounts(bytes: usize) -> String {
    let n = bytes / 60;
    let accounts: Vec<String> = (0..n)
        .map(|i| format!("\"A{i}\":{{\"jetstream\":true,\"mappings\":{{\"a.{i}\":\"b.{i}\"}}}}"))
        .collect();
    format!(
        "{{\"global\":{{\"eventBus\":{{\"clusterType\":\"csc\",\"extraAccounts\":{{{}}}}}}}}}",
        accounts.join(",")
    )
}

/// A finding far past column 65,535 of one line.
fn long_line(bytes: usize) -> String {
    format!("a: {}: b\n", "x".repeat(bytes))
}

/// Non-ASCII text on one long line, where a column is not a byte count.
fn wide_characters(bytes: usize) -> String {
    let n = bytes / 12;
    let items: Vec<String> = (0..n).map(|i| format!("\"é{i}.ü\"")).collect();
    format!(
        "global:\n  eventBus:\n    clusterType: csc\n    crossLayer:\n      cscExports: [{}]\n",
        items.join(", ")
    )
}

/// Lints one file as a process, with every output format, and returns the time taken.
fn lint(dir: &Path, name: &str, text: &str) -> Duration {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    let mut spent = Duration::ZERO;
    for format in ["human", "concise", "json", "sarif", "github"] {
        let start = Instant::now();
        let out = common::natscc()
            .args(["lint", "--format", format])
            .arg(&file)
            .timeout(Duration::from_secs(300))
            .output()
            .unwrap();
        spent += start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked"),
            "{name} ({format}): natscc panicked:\n{}",
            &stderr[..stderr.len().min(2000)]
        );
        let code = out.status.code();
        assert!(
            matches!(code, Some(0..=2)),
            "{name} ({format}): exit {code:?}"
        );
    }
    spent
}

#[test]
fn hostile_shapes_cost_linear_time_and_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let shapes: [(&str, Shape); 5] = [
        ("flow-list", flow_list),
        ("repeated-entries", repeated_entries),
        ("minified-accounts", minified_accounts),
        ("long-line", long_line),
        ("wide-characters", wide_characters),
    ];
    let mut failures = vec![];
    for (name, shape) in shapes {
        let small = lint(tmp.path(), &format!("{name}-1mb.yaml"), &shape(1 << 20));
        let big = lint(tmp.path(), &format!("{name}-10mb.yaml"), &shape(10 << 20));
        // Process start-up is in both; a floor keeps a tiny small-case time from inflating the
        // ratio.
        let ratio = big.as_secs_f64() / small.as_secs_f64().max(0.05);
        eprintln!("{name}: 1 MB {small:?}, 10 MB {big:?}, ratio {ratio:.1}");
        if ratio > 45.0 {
            failures.push(format!(
                "{name}: 10x the input took {ratio:.1}x the time (1 MB {small:?}, 10 MB {big:?})"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "work grows faster than the input:\n{}",
        failures.join("\n")
    );
}

#[test]
fn repeats_are_reported_once_each_up_to_a_bound_then_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("values.yaml");
    std::fs::write(&file, repeated_entries(60_000)).unwrap();
    let out = common::natscc()
        .args(["lint", "--format", "concise"])
        .arg(&file)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // Each finding's own line (its related places follow on `note` lines).
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(": error: natscc::cross_layer::duplicate"))
        .collect();
    let shown = natscc::diag::SHOWN_PER_CODE;
    assert_eq!(
        lines.len(),
        shown + 1,
        "the first {shown} repeats, then one line that counts the rest"
    );
    let repeats = 60_000 / 6 - 1;
    assert!(
        lines[shown].contains(&format!("{} more findings", repeats - shown)),
        "{}",
        lines[shown]
    );
}
