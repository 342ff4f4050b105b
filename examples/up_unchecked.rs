//! Runs a fleet locally even when natscc refuses it, to see what the servers do:
//! `cargo run --release --example up_unchecked -- FLEET SECONDS`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let fleet = natscc::fleet::compile(std::path::Path::new(&args[1]), false);
    for d in fleet.diags.iter().filter(|d| d.is_error()) {
        eprintln!("(ignored) {}: {}", d.code.name(), d.message);
    }
    let dir = natscc::fleet::up::temp_dir().unwrap();
    let plan = natscc::fleet::up::plan(&fleet, &dir).unwrap();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let server = natscc::fleet::up::server_binary().expect("nats-server");
    let running = natscc::fleet::up::start(
        plan,
        &server,
        std::time::Instant::now() + std::time::Duration::from_secs(20),
        &stop,
    )
    .unwrap();
    natscc::fleet::up::create_streams(&running.plan).unwrap();
    for lc in &running.plan.clusters {
        println!("{}", natscc::fleet::up::address_line(lc));
    }
    println!("ready");
    std::thread::sleep(std::time::Duration::from_secs(args[2].parse().unwrap()));
}
