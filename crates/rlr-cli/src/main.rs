//! The `rlr` binary: everything lives in the library.

fn main() {
    std::process::exit(rlr_cli::main());
}
