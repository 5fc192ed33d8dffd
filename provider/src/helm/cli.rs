//! `terraform-provider-aqemia template`: what `helm template` prints for a chart, so that
//! users can see what an add-on applies and tests can compare the two byte for byte.

use std::path::{Path, PathBuf};

use super::chart::Chart;
use super::objects::values_from_json;
use super::oci::OciChart;
use super::render::{render, RenderOptions};
use super::source::{default_cache_dir, Fetcher, RepoChart};
use super::template::Map;
use super::values::{apply_set, merge_user};
use super::yaml;

pub const USAGE: &str = "\
Usage: terraform-provider-aqemia template [flags] RELEASE CHART

Prints the manifests of CHART exactly as `helm template RELEASE CHART` prints them.
CHART is a directory, a .tgz archive, REPO_URL/NAME (a chart repository over HTTP(S)),
NAME with --repo REPO_URL, or oci://HOST/PATH/NAME (an OCI registry).

  -n, --namespace NS       the release namespace (default \"default\")
  -f, --values FILE        a values file; repeat for more, later files win
      --set KEY=VALUE      a value, typed as Helm types it; repeat or separate with commas
      --include-crds       print the chart's crds/ first
      --no-hooks           leave hooks out
      --kube-version V     the Kubernetes version templates see (default v1.37.0)
      --api-versions V     an extra API version for .Capabilities.APIVersions; repeatable
      --version C          the chart version or constraint (e.g. ^1.2) in a repository or
                           registry; the newest stable version when absent
      --repo URL           the chart repository CHART is in
      --mirror FROM=TO     fetch from TO what lives under FROM; repeatable
      --plain-http         talk HTTP, not HTTPS, to an OCI registry
      --username U         the user name for an OCI registry (with --password)
      --password P         its password
      --cache-dir DIR      where fetched archives are kept, by digest
                           (default $XDG_CACHE_HOME/aqemia/charts)
";

struct Args {
    chart: String,
    version: String,
    repo: Option<String>,
    mirrors: Vec<(String, String)>,
    cache_dir: Option<String>,
    plain_http: bool,
    username: Option<String>,
    password: Option<String>,
    options: RenderOptions,
    values_files: Vec<String>,
    sets: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut namespace = "default".to_string();
    let (mut values_files, mut sets, mut api_versions) = (Vec::new(), Vec::new(), Vec::new());
    let (mut include_crds, mut skip_hooks, mut kube_version) = (false, false, None);
    let (mut version, mut repo, mut mirrors, mut cache_dir) = (String::new(), None, Vec::new(), None);
    let (mut plain_http, mut username, mut password) = (false, None, None);
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i).cloned().ok_or_else(|| format!("flag needs an argument: {flag}"))
        };
        match flag.as_str() {
            "-n" | "--namespace" => namespace = value()?,
            "-f" | "--values" => values_files.push(value()?),
            "--set" => sets.push(value()?),
            "--include-crds" => include_crds = true,
            "--no-hooks" => skip_hooks = true,
            "--kube-version" => kube_version = Some(value()?),
            "--api-versions" | "-a" => api_versions.push(value()?),
            "--version" => version = value()?,
            "--repo" => repo = Some(value()?),
            "--cache-dir" => cache_dir = Some(value()?),
            "--plain-http" => plain_http = true,
            "--username" => username = Some(value()?),
            "--password" => password = Some(value()?),
            "--mirror" => {
                let m = value()?;
                let (from, to) = m.split_once('=').ok_or_else(|| format!("--mirror wants FROM=TO, got {m:?}"))?;
                mirrors.push((from.to_string(), to.to_string()));
            }
            f if f.starts_with('-') && f.len() > 1 => return Err(format!("unknown flag: {f}")),
            _ => positional.push(arg.clone()),
        }
        i += 1;
    }
    let [release, chart] =
        <[String; 2]>::try_from(positional).map_err(|p| format!("expected RELEASE and CHART, got {} arguments", p.len()))?;
    let mut options = RenderOptions::new(&release, &namespace);
    options.include_crds = include_crds;
    options.skip_hooks = skip_hooks;
    if let Some(v) = kube_version {
        options.kube_version = if v.starts_with('v') { v } else { format!("v{v}") };
    }
    options.api_versions.extend(api_versions);
    if username.is_some() != password.is_some() {
        return Err("--username and --password go together".into());
    }
    Ok(Args { chart, version, repo, mirrors, cache_dir, plain_http, username, password, options, values_files, sets })
}

/// The user's values: `-f` files merged in order, then every `--set`.
fn user_values(files: &[String], sets: &[String]) -> Result<Map, String> {
    let mut values = Map::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("open {file}: {e}"))?;
        let parsed = yaml::parse_values(&text).map_err(|e| format!("failed to parse {file}: {e}"))?;
        merge_user(&mut values, &values_from_json(&parsed));
    }
    for set in sets {
        apply_set(&mut values, set).map_err(|e| e.to_string())?;
    }
    Ok(values)
}

/// Loads CHART: a local path, or a chart in a repository or registry, fetched through the
/// cache.
fn load_chart(args: &Args) -> Result<Chart, String> {
    let oci = args.repo.is_none() && args.chart.starts_with("oci://");
    let remote = match &args.repo {
        Some(repo) => Some((repo.clone(), args.chart.clone())),
        None if oci => None,
        None if args.chart.contains("://") => {
            let (repo, name) =
                args.chart.trim_end_matches('/').rsplit_once('/').ok_or_else(|| format!("{}: expected REPO_URL/NAME", args.chart))?;
            Some((repo.to_string(), name.to_string()))
        }
        None => {
            if !args.version.is_empty() {
                return Err(format!("--version applies to a chart in a repository or registry; {} is a local path", args.chart));
            }
            return Chart::load(Path::new(&args.chart)).map_err(|e| e.to_string());
        }
    };
    let cache_dir = args.cache_dir.clone().map(PathBuf::from).unwrap_or_else(default_cache_dir);
    let mut fetcher = Fetcher::new(cache_dir, args.mirrors.clone()).map_err(|e| e.to_string())?;
    fetcher.plain_http = args.plain_http;
    fetcher.credentials = args.username.clone().zip(args.password.clone());
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let fetched = match remote {
        Some((repo_url, name)) => runtime.block_on(fetcher.fetch_repo_chart(&RepoChart { repo_url, name, version: args.version.clone() })),
        None => runtime.block_on(fetcher.fetch_oci_chart(&OciChart { reference: args.chart.clone(), version: args.version.clone() })),
    }
    .map_err(|e| e.to_string())?;
    Chart::from_archive(&fetched.archive).map_err(|e| e.to_string())
}

/// Runs the command; the text to print, or the error Helm would print after "Error: ".
pub fn template(args: &[String]) -> Result<String, String> {
    let args = parse_args(args)?;
    let values = user_values(&args.values_files, &args.sets)?;
    let chart = load_chart(&args)?;
    let rendered = render(&chart, values, &args.options).map_err(|e| e.to_string())?;
    Ok(rendered.helm_template_output())
}
