//! Times a fleet compile in process: `cargo run --release --example fleet_times -- FLEET [check]`.
use std::time::Instant;
fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).expect("a fleet file"));
    let emit = std::env::args().nth(2).as_deref() != Some("check");
    let t = Instant::now();
    let f = natscc::fleet::compile(&path, emit);
    println!("{} {:?} ({} clusters, {} findings)", if emit { "compile" } else { "check" }, t.elapsed(), f.clusters.len(), f.diags.len());
}
