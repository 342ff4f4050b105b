//! Times a fleet compile in process: `cargo run --release --example fleet_times -- FLEET
//! [check|alone]`.
//! `alone` compiles the fleet folder's common.yaml + cpc.yaml as one cluster 501 times instead.
use std::time::Instant;
fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).expect("a fleet file"));
    let mode = std::env::args().nth(2).unwrap_or_default();
    let t = Instant::now();
    if mode == "alone" {
        let dir = path.parent().unwrap();
        let inputs = natscc::load::Inputs {
            files: vec![dir.join("common.yaml"), dir.join("cpc.yaml")],
            set: vec!["global.eventBus.clusterId=7".into()],
            ..Default::default()
        };
        for _ in 0..501 {
            natscc::compile(&inputs);
        }
        println!("alone x501 {:?}", t.elapsed());
        return;
    }
    let f = natscc::fleet::compile(&path, mode != "check");
    println!(
        "{mode} {:?} ({} clusters, {} findings)",
        t.elapsed(),
        f.clusters.len(),
        f.diags.len()
    );
}
