//! Profiles the overlap and cycle checks on generated big lists:
//! `cargo run --release --example big_checks -- 10000`.
use std::time::Instant;

// The allocator the natscc binary uses, so in-process figures match the shipped tool.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn patterns(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| match i % 3 {
        0 => format!("{prefix}.{i}.>"),
        1 => format!("{prefix}.{i}.*.state"),
        _ => format!("{prefix}.{i}.value"),
    }).collect()
}
fn main() {
    let n: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(10_000);
    let list = |items: Vec<String>| items.iter().map(|s| format!("        - \"{s}\"\n")).collect::<String>();
    let text = format!(
        "global:\n  eventBus:\n    clusterType: cpc\n    clusterId: \"1\"\n    cscEndpoint: nats://csc:7422\n    crossLayer:\n      cscExports:\n{}      cscPrefixedExports:\n{}      cpcExports:\n{}",
        list(patterns("broadcast", n)), list(patterns("command", n)), list(patterns("sensor", n)));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.yaml");
    std::fs::write(&file, text).unwrap();
    let inputs = natscc::load::Inputs { files: vec![file], ..Default::default() };
    let m = natscc::check_only(&inputs).model.unwrap();
    let mut sources = natscc::diag::Sources::default();
    let (root, _) = natscc::load::load(&inputs, &mut sources);
    let root = root.unwrap();
    for _ in 0..31 {
        let t = Instant::now();
        let a = natscc::check::cross_layer::check(&m);
        let b = natscc::check::imports::check(&m);
        let t1 = t.elapsed();
        let t = Instant::now();
        let d = natscc::check::check(&root, Some(&m), &sources);
        let t2 = t.elapsed();
        println!("overlap+cycle rules one after the other {t1:?}; all checks {t2:?} ({} findings)", a.len() + b.len() + d.iter().filter(|d| d.is_error()).count());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
