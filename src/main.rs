// natscc allocates many small strings and maps (subjects, config trees) and frees them from
// several threads; mimalloc does both markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(natscc::cli::main());
}
