//! The go-plugin transport: handshake on stdout, gRPC over a private unix socket with
//! AutoMTLS, the go-plugin side services, and the signal and shutdown rules Terraform
//! relies on.

mod go_plugin;
pub mod log;
mod tls;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use tokio::net::UnixListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::framework::Provider;
use crate::proto::go_plugin::{
    grpc_broker_server::GrpcBrokerServer, grpc_controller_server::GrpcControllerServer, grpc_stdio_server::GrpcStdioServer,
};
use crate::proto::tfplugin5::provider_server::ProviderServer;
use crate::rpc::ProviderService;

/// The cookie Terraform sets so a provider knows it was started by Terraform.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
const CORE_PROTOCOL: u32 = 1;
const APP_PROTOCOL: u32 = 5;
/// As large as Terraform's own client allows: big states and rendered releases must pass.
const MAX_MESSAGE_BYTES: usize = 256 << 20;
/// How long to wait for in-flight calls after Shutdown before exiting anyway; Terraform
/// kills the process after 2 s.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// Returned by `serve` when the process was started by hand; its text says what to do instead.
#[derive(Debug)]
pub struct NotStartedByTerraform {
    /// The provider's registry address, e.g. `registry.terraform.io/example/example`.
    pub address: &'static str,
}

impl std::fmt::Display for NotStartedByTerraform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = self.address.split_once('/').map_or(self.address, |(_, source)| source);
        let name = short_name(self.address);
        write!(
            f,
            "This binary is a plugin: the {name} provider for Terraform. Terraform starts it; it is not meant to be run by hand.\n\
             To use it, declare `{name} = {{ source = \"{source}\" }}` in required_providers and run `terraform init`.\n\
             To attach Terraform to it under a debugger, run it with --debug. For its version, --version."
        )
    }
}

/// The provider's local name, the last segment of its address (`example` for
/// `registry.terraform.io/example/example`).
pub fn short_name(address: &str) -> &str {
    address.rsplit('/').next().unwrap_or(address)
}

impl std::error::Error for NotStartedByTerraform {}

/// Serves Terraform: the normal mode, started by Terraform with the handshake environment.
pub async fn serve<P: Provider>(provider: P) -> anyhow::Result<()> {
    if std::env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(NotStartedByTerraform { address: provider.address() }.into());
    }
    if let Ok(versions) = std::env::var("PLUGIN_PROTOCOL_VERSIONS") {
        if !versions.split(',').any(|v| v.trim() == APP_PROTOCOL.to_string()) {
            bail!("Terraform offers plugin protocol versions {versions}, but this provider speaks only version {APP_PROTOCOL}; use Terraform 0.12 or newer");
        }
    }
    log::install(short_name(provider.address()));
    ignore_interrupts()?;

    let socket = SocketDir::create()?;
    let listener = UnixListener::bind(socket.path()).with_context(|| format!("listening on {}", socket.path().display()))?;

    // Terraform sends its client certificate when AutoMTLS is on (the default).
    let auto_mtls = std::env::var("PLUGIN_CLIENT_CERT").is_ok_and(|c| !c.is_empty());
    let mut builder = Server::builder();
    let mut handshake_cert = String::new();
    if auto_mtls {
        let identity = tls::generate()?;
        builder = builder
            .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(&identity.cert_pem, &identity.key_pem)))
            .context("configuring TLS")?;
        handshake_cert = identity.handshake_cert;
    }

    let (shutdown_tx, mut shutdown_rx) = mpsc::channel(1);
    stop_on_sigterm(shutdown_tx.clone())?;
    let router = routes(builder, provider, Some(shutdown_tx)).await;

    // The one line Terraform reads; nothing else may precede it on stdout.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{CORE_PROTOCOL}|{APP_PROTOCOL}|unix|{}|grpc|{handshake_cert}", socket.path().display())?;
    stdout.flush()?;
    drop(stdout);

    // Shutdown starts a graceful stop; held streams (stdio, broker) never end, so it is
    // bounded and the process exits before Terraform's kill.
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_rx.recv().await;
        let _ = stopping_tx.send(true);
    });
    let mut graceful = stopping.clone();
    let mut bounded = stopping;
    let served = router.serve_with_incoming_shutdown(UnixListenerStream::new(listener), async move {
        let _ = graceful.wait_for(|s| *s).await;
    });
    tokio::select! {
        result = served => result.context("serving gRPC")?,
        _ = async move {
            let _ = bounded.wait_for(|s| *s).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {}
    }
    drop(socket);
    Ok(())
}

/// Serves in the foreground for a developer: plaintext, no cookie, prints the
/// `TF_REATTACH_PROVIDERS` value to export before running Terraform, ends on Ctrl-C.
pub async fn serve_debug<P: Provider>(provider: P) -> anyhow::Result<()> {
    let socket = SocketDir::create()?;
    let listener = UnixListener::bind(socket.path()).with_context(|| format!("listening on {}", socket.path().display()))?;
    let address = provider.address();
    log::install(short_name(address));
    let router = routes(Server::builder(), provider, None).await;
    let attach = serde_json::json!({
        "Protocol": "grpc",
        "ProtocolVersion": APP_PROTOCOL,
        "Pid": std::process::id(),
        "Test": true,
        "Addr": {"Network": "unix", "String": socket.path().display().to_string()},
    });
    // OpenTofu knows the same provider under its own registry host.
    let reattach = serde_json::json!({
        address: attach,
        address.replace("registry.terraform.io", "registry.opentofu.org"): attach,
    });
    println!("Provider started. To attach Terraform, set this in the shell that runs Terraform:\n");
    println!("\tTF_REATTACH_PROVIDERS='{reattach}'\n");
    println!("Press Ctrl-C to stop the provider.");
    let (stop_tx, mut stop_rx) = mpsc::channel(1);
    stop_on_sigterm(stop_tx)?;
    let stopped = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = stop_rx.recv() => {}
        }
    };
    router.serve_with_incoming_shutdown(UnixListenerStream::new(listener), stopped).await.context("serving gRPC")?;
    drop(socket);
    Ok(())
}

async fn routes<P: Provider>(builder: Server, provider: P, shutdown: Option<mpsc::Sender<()>>) -> tonic::transport::server::Router {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;
    let provider = ProviderServer::new(ProviderService::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let mut builder = builder;
    builder
        .add_service(health_service)
        .add_service(provider)
        .add_service(GrpcControllerServer::new(go_plugin::Controller { shutdown }))
        .add_service(GrpcStdioServer::new(go_plugin::Stdio))
        .add_service(GrpcBrokerServer::new(go_plugin::Broker))
}

/// Ctrl-C in the terminal reaches the whole process group; Terraform owns shutdown (it sends
/// Stop, then Shutdown), so the provider must not die half-way through an apply.
fn ignore_interrupts() -> anyhow::Result<()> {
    let mut interrupts =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::spawn(async move {
        while interrupts.recv().await.is_some() {
            tracing::debug!("ignoring SIGINT: Terraform stops the provider itself");
        }
    });
    Ok(())
}

/// SIGTERM (a supervisor, or a developer ending debug mode) stops like Shutdown does, so the
/// socket directory is removed.
fn stop_on_sigterm(stop: mpsc::Sender<()>) -> anyhow::Result<()> {
    let mut terms = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).context("installing the SIGTERM handler")?;
    tokio::spawn(async move {
        if terms.recv().await.is_some() {
            let _ = stop.send(()).await;
        }
    });
    Ok(())
}

/// A private directory holding the socket, removed when dropped.
struct SocketDir {
    dir: PathBuf,
    socket: PathBuf,
}

impl SocketDir {
    fn create() -> anyhow::Result<Self> {
        let base = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let dir = base.join(format!("aqemia-plugin-{}-{nonce:x}", std::process::id()));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        let socket = dir.join("sock");
        Ok(SocketDir { dir, socket })
    }

    fn path(&self) -> &Path {
        &self.socket
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
