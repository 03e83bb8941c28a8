//! The `kdesk` binary: all work is done by the library (`kdesk::cli`).

/// sled and the record pipeline allocate heavily; mimalloc measured faster than the system
/// allocator for replication (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kdesk::cli::main()
}
