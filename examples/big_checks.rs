//! Profiles the overlap and cycle checks on generated big lists:
//! `cargo run --release --example big_checks -- 10000`.
use std::time::Instant;
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
    for _ in 0..5 {
        let t = Instant::now();
        let a = natscc::check::cross_layer::check(&m);
        let t1 = t.elapsed();
        let t = Instant::now();
        let b = natscc::check::imports::check(&m);
        let t2 = t.elapsed();
        let t = Instant::now();
        let g = natscc::graph::build(&m, "");
        let t3 = t.elapsed();
        let t = Instant::now();
        let _ = natscc::graph::server_accounts(&m);
        let t4 = t.elapsed();
        let t = Instant::now();
        let _ = natscc::graph::cycles::replay(&g);
        let t5 = t.elapsed();
        println!("graph {t3:?} server_accounts {t4:?} replay {t5:?}");
        println!("cross_layer {t1:?} imports {t2:?} ({} findings)", a.len() + b.len());
    }
}
