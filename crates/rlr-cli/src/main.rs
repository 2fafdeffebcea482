//! The `rlr` binary: everything lives in the library.

fn main() {
    // `RUST_LOG=rlr_engine=debug rlr run ...` shows the engine's logs
    // (stages, checkpoints, evaluations); nothing is logged by default.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    std::process::exit(rlr_cli::main());
}
