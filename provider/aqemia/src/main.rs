//! `terraform-provider-aqemia`: see `aqemia::cli` for what it does when started.

fn main() -> std::process::ExitCode {
    aqemia::cli::main()
}
