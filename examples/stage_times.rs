//! Times each stage of one compile in process: `cargo run --release --example stage_times -- FILE`.
use std::time::Instant;
fn main() {
    let file = std::env::args().nth(1).expect("a values file");
    let t = Instant::now();
    let mut sources = natscc::diag::Sources::default();
    let inputs = natscc::load::Inputs {
        files: vec![file.into()],
        ..Default::default()
    };
    let (root, _) = natscc::load::load(&inputs, &mut sources);
    let root = root.unwrap();
    let t_load = t.elapsed();
    let t = Instant::now();
    let _ = natscc::check::schema::check(&root);
    let t_schema1 = t.elapsed();
    let t = Instant::now();
    let _ = natscc::check::schema::check(&root);
    let t_schema2 = t.elapsed();
    let t = Instant::now();
    let m = natscc::model::build(&root).unwrap();
    let bus = natscc::bus::build(&root);
    let t_model = t.elapsed();
    let t = Instant::now();
    let d = natscc::check::check(&root, Some((&m, &bus)), &sources);
    let t_check = t.elapsed();
    let t = Instant::now();
    let files = natscc::emit::emit(&m, &bus);
    let t_emit = t.elapsed();
    println!(
        "load {t_load:?} schema(first) {t_schema1:?} schema(again) {t_schema2:?} model {t_model:?} all checks {t_check:?} emit {t_emit:?} ({} findings, {} files)",
        d.len(),
        files.len()
    );
}
