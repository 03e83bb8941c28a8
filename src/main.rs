//! The `kdesk` binary: all work is done by the library (`kdesk::cli`).

fn main() -> std::process::ExitCode {
    kdesk::cli::main()
}
