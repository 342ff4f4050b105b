fn main() {
    std::process::exit(natscc::cli::main());
}
