//! `terraform-provider-aqemia`: started by Terraform it serves the plugin protocol; started by
//! hand it explains itself, prints its version, or serves in debug mode.

use std::process::ExitCode;

use aqemia::server::{self, NotStartedByTerraform};

const USAGE: &str = "\
Usage: terraform-provider-aqemia [--version | --debug | --help]
       terraform-provider-aqemia template [flags] RELEASE CHART

  (no arguments)  serve Terraform; Terraform starts the provider this way
  --debug         serve in the foreground and print TF_REATTACH_PROVIDERS for attaching
                  Terraform to a provider under a debugger
  --version       print the provider version and the plugin protocol it speaks
  --help          print this text
  template        print a chart's manifests exactly as `helm template` does
                  (`terraform-provider-aqemia template --help` for its flags)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version" | "-v" | "version") => {
            println!("terraform-provider-aqemia {} (plugin protocol 5, {})", aqemia::VERSION, aqemia::PROVIDER_ADDRESS);
            ExitCode::SUCCESS
        }
        Some("--help" | "-h" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("--debug") => run(true),
        Some("template") => template(&args[1..]),
        None => run(false),
        Some(other) => {
            eprintln!("unknown argument {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// `template`: prints what `helm template` would, or "Error: ..." and exit 1 as Helm does.
fn template(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", aqemia::helm::cli::USAGE);
        return ExitCode::SUCCESS;
    }
    match aqemia::helm::cli::template(args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("Error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(debug: bool) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("terraform-provider-aqemia: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let registry = aqemia::resources::registry();
    let result = runtime.block_on(async {
        if debug {
            server::serve_debug(registry).await
        } else {
            server::serve(registry).await
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
