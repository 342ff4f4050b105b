//! The option table (`src/server_version/options.rs`) held to the binaries: for every row and
//! every release natscc has a table for, a config that sets the option is read by exactly the
//! releases the row names (a release that does not read it answers `unknown field`, and
//! nats-server has no lenient mode). scripts/setup.sh installs each release under
//! `.tools/nats-server/<version>/`; a missing one fails the test.

mod common;

use natscc::server_version::{MEASURED, OPTIONS, Opt};
use std::path::Path;

/// A config that sets the option (any value: the server checks the name first).
fn config(o: &Opt) -> String {
    match o.block {
        "top" => format!("{}: 1\n", o.key),
        "leafnodes.remotes" => {
            let url = if matches!(o.key, "url" | "urls") {
                ""
            } else {
                "url: \"nats://127.0.0.1:1\", "
            };
            format!("leafnodes {{ remotes: [ {{ {url}{}: 1 }} ] }}\n", o.key)
        }
        block => format!("{block} {{ {}: 1 }}\n", o.key),
    }
}

/// Whether the server at `bin` reads the option (does not call it an unknown field).
fn reads(bin: &Path, o: &Opt, scratch: &Path) -> bool {
    let dir = tempfile::tempdir_in(scratch).unwrap();
    std::fs::write(dir.path().join("c.conf"), config(o)).unwrap();
    let (_, said) = common::server_test_bin(bin, dir.path(), "c.conf", vec![], dir.path());
    !said.contains(&format!("unknown field \"{}\"", o.key))
}

#[test]
fn every_row_is_read_by_exactly_the_releases_it_names() {
    let scratch = tempfile::tempdir().unwrap();
    let bins: Vec<_> = MEASURED
        .iter()
        .map(|v| (*v, common::nats_server_of(&v.to_string())))
        .collect();
    // Each release says its own version, so a misplaced binary cannot pass for another.
    for (v, bin) in &bins {
        let out = std::process::Command::new(bin)
            .arg("--version")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(
            said.trim(),
            format!("nats-server: v{v}"),
            "{}",
            bin.display()
        );
    }
    // The rows over the cores: each check is one short `nats-server -t`.
    let wrong = std::sync::Mutex::new(vec![]);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(o) = OPTIONS.get(i) else { break };
                    for (v, bin) in &bins {
                        let measured = reads(bin, o, scratch.path());
                        if measured != o.reads(*v) {
                            wrong.lock().unwrap().push(format!(
                                "{}.{}: the table says {v} {}, the binary {}",
                                o.block,
                                o.key,
                                if o.reads(*v) { "reads it" } else { "does not" },
                                if measured { "reads it" } else { "does not" },
                            ));
                        }
                    }
                }
            });
        }
    });
    let wrong = wrong.into_inner().unwrap();
    assert!(
        wrong.is_empty(),
        "{} row(s) disagree with the binaries (measure again: python3 \
         scripts/measure-server-options.py):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
