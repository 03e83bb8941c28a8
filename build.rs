//! Compiles `proto/kdesk/v1/*.proto` with protox (pure Rust: no system `protoc` needed), and
//! writes the encoded descriptor set used by gRPC server reflection.
use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let files = [
        "proto/kdesk/v1/records.proto",
        "proto/kdesk/v1/admin.proto",
        "proto/kdesk/v1/exchange.proto",
        "proto/kdesk/v1/audit.proto",
    ];
    let fds = protox::compile(files, ["proto"])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("kdesk_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
