//! Emits a values file's configs without running the checks: for seeing what the server
//! itself says about a config natscc would refuse. `cargo run --example emit_unchecked -- FILE DIR`
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut sources = natscc::diag::Sources::default();
    let inputs = natscc::load::Inputs {
        files: vec![args[1].clone().into()],
        ..Default::default()
    };
    let (root, _) = natscc::load::load(&inputs, &mut sources);
    let root = root.expect("values load");
    let model = natscc::model::build(&root).expect("a cluster type");
    let files = natscc::emit::emit(&model, &natscc::bus::build(&root));
    natscc::emit::write_atomic(std::path::Path::new(&args[2]), &files).expect("write");
}
