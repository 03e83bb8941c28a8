//! The `kdesk` binary: the command line ([`cli`]), the demonstration ([`demo`]) and the
//! benchmarks ([`bench`]). They are clients of the `kdesk` library like any other program:
//! nothing here is part of the library's API.

mod bench;
mod cli;
mod demo;

/// sled and the record pipeline allocate heavily; mimalloc measured faster than the system
/// allocator for replication (docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
