//! `terraform-provider-aqemia template`: what `helm template` prints for a chart, so that
//! users can see what an add-on applies and tests can compare the two byte for byte. Flags
//! are Helm's; the work is the Helm engine's.

use std::path::PathBuf;
use std::process::ExitCode;

use aqemia_helm::render::{render, RenderOptions};
use aqemia_helm::source::{default_cache_dir, ChartRef, Fetcher};
use aqemia_helm::values::user_values;
use clap::Args;

/// CHART is a directory, a .tgz archive, REPO_URL/NAME (a chart repository over HTTP(S)),
/// NAME with --repo REPO_URL, or oci://HOST/PATH/NAME (an OCI registry).
#[derive(Args)]
pub struct TemplateArgs {
    /// The release name.
    release: String,
    /// The chart: a path, REPO_URL/NAME, NAME with --repo, or oci://HOST/PATH/NAME.
    chart: String,
    /// The release namespace.
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// A values file; repeat for more, later files win.
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    values_files: Vec<PathBuf>,
    /// A value, typed as Helm types it; repeat, or separate with commas.
    #[arg(long = "set", value_name = "KEY=VALUE", allow_hyphen_values = true)]
    sets: Vec<String>,
    /// Print the chart's crds/ first.
    #[arg(long)]
    include_crds: bool,
    /// Leave hooks out.
    #[arg(long)]
    no_hooks: bool,
    /// The Kubernetes version templates see (default v1.37.0).
    #[arg(long, value_name = "V")]
    kube_version: Option<String>,
    /// An extra API version for .Capabilities.APIVersions; repeatable.
    #[arg(short = 'a', long = "api-versions", value_name = "V")]
    api_versions: Vec<String>,
    /// The chart version or constraint (e.g. ^1.2) in a repository or registry; the newest
    /// stable version when absent.
    #[arg(long, value_name = "C", default_value = "", hide_default_value = true)]
    version: String,
    /// The chart repository CHART is in.
    #[arg(long, value_name = "URL")]
    repo: Option<String>,
    /// Fetch from TO what lives under FROM; repeatable.
    #[arg(long = "mirror", value_name = "FROM=TO", value_parser = parse_mirror)]
    mirrors: Vec<(String, String)>,
    /// Talk HTTP, not HTTPS, to an OCI registry.
    #[arg(long)]
    plain_http: bool,
    /// The user name for an OCI registry.
    #[arg(long, requires = "password")]
    username: Option<String>,
    /// Its password.
    #[arg(long, requires = "username")]
    password: Option<String>,
    /// Where fetched archives are kept, by digest (default $XDG_CACHE_HOME/aqemia/charts).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

fn parse_mirror(text: &str) -> Result<(String, String), String> {
    let (from, to) = text.split_once('=').ok_or_else(|| format!("--mirror wants FROM=TO, got {text:?}"))?;
    Ok((from.to_string(), to.to_string()))
}

/// Prints what `helm template` would, or "Error: ..." and exit 1 as Helm does.
pub fn run(args: TemplateArgs) -> ExitCode {
    match template(args) {
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

fn template(args: TemplateArgs) -> Result<String, String> {
    let mut documents = Vec::new();
    for file in &args.values_files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("open {}: {e}", file.display()))?;
        documents.push((file.display().to_string(), text));
    }
    let values = user_values(documents.iter().map(|(name, text)| (name.as_str(), text.as_str())), &args.sets).map_err(|e| e.to_string())?;

    let reference = ChartRef::parse(&args.chart, args.repo.as_deref(), &args.version).map_err(|e| e.to_string())?;
    let mut fetcher =
        Fetcher::new(args.cache_dir.clone().unwrap_or_else(default_cache_dir), args.mirrors.clone()).map_err(|e| e.to_string())?;
    fetcher.plain_http = args.plain_http;
    fetcher.credentials = args.username.clone().zip(args.password.clone());
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let chart = runtime.block_on(fetcher.load(&reference)).map_err(|e| e.to_string())?;

    let mut options = RenderOptions::new(&args.release, &args.namespace);
    options.include_crds = args.include_crds;
    options.skip_hooks = args.no_hooks;
    if let Some(v) = args.kube_version {
        options.kube_version = if v.starts_with('v') { v } else { format!("v{v}") };
    }
    options.api_versions.extend(args.api_versions);
    let rendered = render(&chart, values, &options).map_err(|e| e.to_string())?;
    Ok(rendered.helm_template_output())
}
