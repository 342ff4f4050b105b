//! Runs a fleet locally even when natscc refuses it, to see what the servers do:
//! `cargo run --release --example up_unchecked -- FLEET SECONDS`. The auth callouts are the
//! release binary's (`target/release/natscc`, else NATSCC_BIN).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fleet = natscc::fleet::compile(std::path::Path::new(&args[1]), false);
    for d in fleet.diags.iter().filter(|d| d.is_error()) {
        eprintln!("(ignored) {}: {}", d.code.name(), d.message);
    }
    let dir = natscc::fleet::up::temp_dir().unwrap();
    let plan = natscc::fleet::up::plan(&fleet, &dir).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let tools = natscc::fleet::up::Tools {
        nats_server: natscc::fleet::up::server_binary().expect("nats-server"),
        // Each pod's release from NATS_SERVER_DIR/<version>/, as `natscc up` finds it.
        servers: std::env::var_os("NATS_SERVER_DIR").map(Into::into),
        natscc: std::env::var_os("NATSCC_BIN")
            .map(Into::into)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/natscc")
            }),
    };
    let t = std::time::Instant::now();
    let running = natscc::fleet::up::start(
        plan,
        &tools,
        std::time::Instant::now() + std::time::Duration::from_secs(30),
        &stop,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for lc in &running.plan.clusters {
        for line in natscc::fleet::up::address_lines(lc) {
            println!("{line}");
        }
    }
    println!("ready after {:?}", t.elapsed());
    std::thread::sleep(std::time::Duration::from_secs(args[2].parse().unwrap()));
}
