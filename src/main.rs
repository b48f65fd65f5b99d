//! The `stepflow` command (see `stepflow --help`).

mod cli;

/// Loading a graph file makes many small allocations, which mimalloc serves about twice as fast as
/// the system allocator (see `examples/tf_decode_bench.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
