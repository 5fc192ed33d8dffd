// Compiles the protocol definitions with a pure-Rust protobuf compiler (protox), so a fresh
// machine needs no protoc.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["../../proto/tfplugin5.proto", "../../proto/go_plugin.proto"];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(protos, ["../../proto"])?;
    tonic_prost_build::configure().build_client(true).build_server(true).compile_fds(descriptors)?;
    Ok(())
}
