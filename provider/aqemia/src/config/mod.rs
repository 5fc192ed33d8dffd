//! The provider configuration. Everything is optional and falls back to the environment
//! variables the vendors' own tools read, so `provider "aqemia" {}` works on a machine set
//! up for the AWS CLI. It never depends on a resource: a cluster's connection travels as a
//! resource attribute instead, which is what makes one apply enough.

use std::collections::BTreeMap;

use crate::cty::{Path, Type, Value};
use crate::framework::{Attribute, Block, Diagnostics, NestedBlock, Nesting, Schema};

/// The APIs whose base URL can be overridden (tests point them at local stand-ins).
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("aws", "every AWS service (AWS_ENDPOINT_URL)"),
    ("ec2", "EC2 (AWS_ENDPOINT_URL_EC2)"),
    ("iam", "IAM (AWS_ENDPOINT_URL_IAM)"),
    ("eks", "EKS (AWS_ENDPOINT_URL_EKS)"),
    ("ecr", "ECR (AWS_ENDPOINT_URL_ECR)"),
    ("elbv2", "Elastic Load Balancing v2 (AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2)"),
    ("sts", "STS (AWS_ENDPOINT_URL_STS)"),
    ("s3", "S3 (AWS_ENDPOINT_URL_S3)"),
    ("cloudflare", "the Cloudflare API (CLOUDFLARE_API_BASE_URL)"),
    ("tailscale", "the Tailscale API (TAILSCALE_BASE_URL)"),
];

/// Settings with their environment fallbacks, in the order the schema lists them.
struct Setting {
    name: &'static str,
    env: &'static [&'static str],
    sensitive: bool,
    description: &'static str,
}

const SETTINGS: &[Setting] = &[
    Setting { name: "region", env: &["AWS_REGION", "AWS_DEFAULT_REGION"], sensitive: false, description: "AWS region, e.g. `eu-west-1`." },
    Setting {
        name: "profile",
        env: &["AWS_PROFILE"],
        sensitive: false,
        description: "Named profile from the shared AWS config and credentials files.",
    },
    Setting {
        name: "access_key",
        env: &["AWS_ACCESS_KEY_ID"],
        sensitive: true,
        description: "AWS access key id. Prefer a profile or the environment.",
    },
    Setting { name: "secret_key", env: &["AWS_SECRET_ACCESS_KEY"], sensitive: true, description: "AWS secret access key." },
    Setting { name: "token", env: &["AWS_SESSION_TOKEN"], sensitive: true, description: "AWS session token for temporary credentials." },
    Setting {
        name: "cloudflare_api_token",
        env: &["CLOUDFLARE_API_TOKEN"],
        sensitive: true,
        description: "Cloudflare API token with DNS edit rights on the zones aqemia manages.",
    },
    Setting {
        name: "tailscale_oauth_client_id",
        env: &["TAILSCALE_OAUTH_CLIENT_ID"],
        sensitive: false,
        description: "Tailscale OAuth client id, for the Tailscale operator.",
    },
    Setting {
        name: "tailscale_oauth_client_secret",
        env: &["TAILSCALE_OAUTH_CLIENT_SECRET"],
        sensitive: true,
        description: "Tailscale OAuth client secret.",
    },
];

/// The configured provider, with environment fallbacks applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderConfig {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub cloudflare_api_token: Option<String>,
    pub tailscale_oauth_client_id: Option<String>,
    pub tailscale_oauth_client_secret: Option<String>,
    /// Base URL overrides keyed by the names in [`ENDPOINTS`].
    pub endpoints: BTreeMap<String, String>,
    /// Chart sources and their mirrors: an upstream repository URL or `oci://` prefix, and
    /// what serves it instead.
    pub chart_mirrors: BTreeMap<String, String>,
    /// Settings that were unknown at plan time (they reference something not yet applied).
    /// Operations that need one of them report it instead of guessing.
    pub unknown: Vec<String>,
    pub terraform_version: String,
}

impl ProviderConfig {
    /// The base URL for an API: its own override, else the all-AWS one for AWS services.
    pub fn endpoint(&self, api: &str) -> Option<&str> {
        let aws_service = !matches!(api, "cloudflare" | "tailscale");
        self.endpoints.get(api).or_else(|| if aws_service { self.endpoints.get("aws") } else { None }).map(String::as_str)
    }
}

pub fn schema() -> Schema {
    let mut block =
        Block::new().description("Credentials and endpoints. Every setting is optional and falls back to its usual environment variable.");
    for setting in SETTINGS {
        let mut attr = Attribute::string(setting.name).optional().description(format!(
            "{} Falls back to `{}`.",
            setting.description,
            setting.env.join("`, then `")
        ));
        if setting.sensitive {
            attr = attr.sensitive();
        }
        block = block.attribute(attr);
    }
    let mut endpoints = Block::new().description("Base URL overrides, for private endpoints and local stand-ins.");
    for (name, what) in ENDPOINTS {
        endpoints = endpoints.attribute(
            Attribute::string(*name)
                .optional()
                .description(format!("Base URL for {what}. Falls back to `{}`.", endpoint_env(name)))
                .validate("an absolute http or https URL", validate_url),
        );
    }
    block = block.attribute(
        Attribute::new("chart_mirrors", Type::map(Type::String))
            .optional()
            .description(format!(
                "Chart mirrors for every chart this provider installs: an upstream chart repository URL or `oci://` \
                 prefix, and the URL that serves the same charts (an air-gapped mirror, or a repository on loopback in \
                 tests). The longest matching prefix wins; archive URLs in a mirrored index are mirrored too. Falls \
                 back to `{CHART_MIRRORS_ENV}` (`upstream=mirror` pairs separated by commas or spaces).",
            ))
            .validate("a map of URLs to URLs", validate_mirrors),
    );
    Schema::new(0, block.block(NestedBlock::new("endpoints", Nesting::Single, endpoints)))
}

pub const CHART_MIRRORS_ENV: &str = "AQEMIA_CHART_MIRRORS";

/// Whether `url` can name a chart source: an http(s) chart repository or an `oci://` prefix.
pub fn is_chart_source_url(url: &str) -> bool {
    ["https://", "http://", "oci://"].iter().any(|scheme| url.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty()))
}

fn validate_mirrors(v: &Value) -> Result<(), String> {
    let Some(entries) = v.as_entries() else { return Ok(()) };
    for (from, to) in entries {
        let to = to.as_str().unwrap_or_default();
        if !is_chart_source_url(from) || !is_chart_source_url(to) {
            return Err(format!(
                "{from:?} = {to:?}: both sides must be absolute http(s):// or oci:// URLs, like \
                 \"https://charts.jetstack.io\" = \"http://127.0.0.1:8879\""
            ));
        }
    }
    Ok(())
}

/// `upstream=mirror` pairs separated by commas or whitespace.
fn parse_mirrors(text: &str) -> BTreeMap<String, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter_map(|pair| pair.split_once('='))
        .map(|(from, to)| (from.trim().to_string(), to.trim().to_string()))
        .collect()
}

fn endpoint_env(name: &str) -> String {
    match name {
        "aws" => "AWS_ENDPOINT_URL".into(),
        "cloudflare" => "CLOUDFLARE_API_BASE_URL".into(),
        "tailscale" => "TAILSCALE_BASE_URL".into(),
        "elbv2" => "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2".into(),
        service => format!("AWS_ENDPOINT_URL_{}", service.to_uppercase()),
    }
}

fn validate_url(v: &Value) -> Result<(), String> {
    let url = v.as_str().unwrap_or_default();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        _ => Err(format!("{url:?} is not an absolute URL; write it like `https://api.example.com` or `http://127.0.0.1:5000`")),
    }
}

/// Builds the configuration from the provider block (which may hold unknowns during plan)
/// and an environment lookup.
pub fn from_value(value: &Value, env: impl Fn(&str) -> Option<String>, terraform_version: &str) -> (ProviderConfig, Diagnostics) {
    let mut diags = Diagnostics::new();
    schema().block.validate_value(value, &Path::root(), &mut diags);
    let mut config = ProviderConfig { terraform_version: terraform_version.to_string(), ..Default::default() };
    let null = Value::Null;
    let pick = |slot: &Value, envs: &[String], unknown: &mut Vec<String>, name: &str| -> Option<String> {
        if slot.is_unknown() {
            unknown.push(name.to_string());
            return None;
        }
        slot.as_str().map(str::to_string).or_else(|| envs.iter().find_map(|e| env(e).filter(|v| !v.is_empty())))
    };
    for setting in SETTINGS {
        let slot = value.get(setting.name).unwrap_or(&null);
        let envs: Vec<String> = setting.env.iter().map(|e| e.to_string()).collect();
        let picked = pick(slot, &envs, &mut config.unknown, setting.name);
        let field = match setting.name {
            "region" => &mut config.region,
            "profile" => &mut config.profile,
            "access_key" => &mut config.access_key,
            "secret_key" => &mut config.secret_key,
            "token" => &mut config.token,
            "cloudflare_api_token" => &mut config.cloudflare_api_token,
            "tailscale_oauth_client_id" => &mut config.tailscale_oauth_client_id,
            "tailscale_oauth_client_secret" => &mut config.tailscale_oauth_client_secret,
            other => unreachable!("setting {other} has no field"),
        };
        *field = picked;
    }
    let endpoints = value.get("endpoints").unwrap_or(&null);
    for (name, _) in ENDPOINTS {
        let slot = endpoints.get(name).unwrap_or(&null);
        let path = format!("endpoints.{name}");
        if let Some(url) = pick(slot, &[endpoint_env(name)], &mut config.unknown, &path) {
            config.endpoints.insert(name.to_string(), url.trim_end_matches('/').to_string());
        }
    }
    match value.get("chart_mirrors") {
        Some(slot) if slot.is_unknown() => config.unknown.push("chart_mirrors".into()),
        Some(Value::Map(entries)) => {
            config.chart_mirrors = entries.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()
        }
        _ => config.chart_mirrors = env(CHART_MIRRORS_ENV).map(|text| parse_mirrors(&text)).unwrap_or_default(),
    }
    (config, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_value(pairs: Vec<(&str, Value)>, endpoints: Value) -> Value {
        let mut attrs: BTreeMap<String, Value> = SETTINGS.iter().map(|s| (s.name.to_string(), Value::Null)).collect();
        for (k, v) in pairs {
            attrs.insert(k.into(), v);
        }
        attrs.insert("endpoints".into(), endpoints);
        attrs.insert("chart_mirrors".into(), Value::Null);
        Value::Object(attrs)
    }

    #[test]
    fn configuration_wins_over_environment() {
        let env = |k: &str| (k == "AWS_REGION").then(|| "us-east-1".to_string());
        let (cfg, diags) = from_value(&block_value(vec![("region", "eu-west-1".into())], Value::Null), env, "1.11.4");
        assert!(diags.is_empty());
        assert_eq!(cfg.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn environment_fills_what_configuration_leaves_out() {
        let env = |k: &str| match k {
            "AWS_DEFAULT_REGION" => Some("eu-central-1".to_string()),
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000/".to_string()),
            "TAILSCALE_BASE_URL" => Some("http://127.0.0.1:4010".to_string()),
            _ => None,
        };
        let (cfg, _) = from_value(&Value::Null, env, "1.0.3");
        assert_eq!(cfg.region.as_deref(), Some("eu-central-1"));
        assert_eq!(cfg.endpoint("eks"), Some("http://127.0.0.1:5000"));
        assert_eq!(cfg.endpoint("tailscale"), Some("http://127.0.0.1:4010"));
        assert_eq!(cfg.endpoint("cloudflare"), None);
    }

    #[test]
    fn chart_mirrors_from_configuration_or_environment() {
        let env =
            |k: &str| (k == CHART_MIRRORS_ENV).then(|| "https://a.example=http://127.0.0.1:1, oci://r.example/x=http://m".to_string());
        let (cfg, _) = from_value(&Value::Null, env, "1.0.3");
        assert_eq!(cfg.chart_mirrors.get("https://a.example").map(String::as_str), Some("http://127.0.0.1:1"));
        assert_eq!(cfg.chart_mirrors.get("oci://r.example/x").map(String::as_str), Some("http://m"));
        assert!(validate_mirrors(&Value::Map([("charts.example".to_string(), Value::from("http://m"))].into())).is_err());
    }

    #[test]
    fn unknown_settings_are_recorded_not_guessed() {
        let env = |_: &str| Some("from-env".to_string());
        let (cfg, diags) = from_value(&block_value(vec![("region", Value::unknown())], Value::Null), env, "1.11.4");
        assert!(diags.is_empty());
        assert_eq!(cfg.region, None);
        assert_eq!(cfg.unknown, vec!["region".to_string()]);
    }

    #[test]
    fn bad_endpoint_is_a_diagnostic_on_its_path() {
        let endpoints = Value::Object(
            ENDPOINTS.iter().map(|(n, _)| (n.to_string(), if *n == "eks" { "localhost:5000".into() } else { Value::Null })).collect(),
        );
        let (_, diags) = from_value(&block_value(vec![], endpoints), |_| None, "1.11.4");
        let d = diags.iter().next().expect("one diagnostic");
        assert_eq!(d.path.as_ref().map(ToString::to_string).as_deref(), Some("endpoints.eks"));
        assert!(d.detail.contains("https://"));
    }
}
