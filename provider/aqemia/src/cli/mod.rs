//! The binary's command line. Started by Terraform (no arguments, the handshake environment
//! set) it serves the plugin protocol; started by hand it explains itself, prints its
//! version, serves in debug mode, or runs a subcommand.

mod template;

use std::process::ExitCode;

use aqemia_tfplugin::server::{self, NotStartedByTerraform};
use clap::{Parser, Subcommand};

use crate::provider::Aqemia;

#[derive(Parser)]
#[command(
    name = "terraform-provider-aqemia",
    about = "The aqemia provider for Terraform: a production Kubernetes platform on AWS in one apply.\n\
             Terraform starts it with no arguments; by hand it runs the subcommands below.",
    disable_version_flag = true
)]
struct Cli {
    /// Serve in the foreground and print TF_REATTACH_PROVIDERS, for attaching Terraform to a
    /// provider under a debugger.
    #[arg(long)]
    debug: bool,
    /// Print the provider version and the plugin protocol it speaks.
    #[arg(short = 'v', long)]
    version: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print a chart's manifests exactly as `helm template RELEASE CHART` prints them.
    Template(template::TemplateArgs),
    /// Print the provider version and the plugin protocol it speaks.
    Version,
}

/// Parses the command line and runs what it asks for.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Template(args)) => template::run(args),
        Some(Command::Version) => version(),
        None if cli.version => version(),
        None => serve(cli.debug),
    }
}

fn version() -> ExitCode {
    println!("terraform-provider-aqemia {} (plugin protocol 5, {})", crate::VERSION, crate::PROVIDER_ADDRESS);
    ExitCode::SUCCESS
}

fn serve(debug: bool) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("terraform-provider-aqemia: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        if debug {
            server::serve_debug(Aqemia).await
        } else {
            server::serve(Aqemia).await
        }
    });
    // Held gRPC streams may keep worker tasks alive; they must not delay the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is::<NotStartedByTerraform>() => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("terraform-provider-aqemia: {err:#}");
            ExitCode::FAILURE
        }
    }
}
