//! The `stepflow` command (see `stepflow --help`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
