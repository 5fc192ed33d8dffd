//! The `cluster` attribute every cluster-facing resource takes, and the client it yields.
//!
//! The connection travels as a resource attribute, never through the provider
//! configuration: that is what lets one apply create a cluster and install into it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use base64::Engine as _;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::aws::{token, Aws};
use crate::config::ProviderConfig;
use crate::cty::{Path, Type, Value};
use crate::framework::{Attribute, Diagnostics};

/// Keys of an EKS connection, as `aqemia_cluster.<name>.connection` carries it.
const EKS_KEYS: [&str; 4] = ["name", "endpoint", "ca_certificate", "region"];
/// Keys of a kubeconfig connection.
const KUBECONFIG_KEYS: [&str; 2] = ["kubeconfig_path", "context"];

/// Where a resource's objects go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// A kubeconfig file, and the context in it (its current context when absent).
    Kubeconfig { path: PathBuf, context: Option<String> },
    /// An EKS cluster, reached with a token minted from the provider's AWS credentials.
    Eks { name: String, endpoint: String, ca_certificate: String, region: String },
}

/// The schema attribute, named `cluster` everywhere.
pub fn attribute() -> Attribute {
    Attribute::new("cluster", Type::map(Type::String)).required().description(
        "How to reach the cluster: `aqemia_cluster.<name>.connection` (an EKS cluster: `{ name, endpoint, \
         ca_certificate, region }`, authenticated with a token the provider mints from its AWS credentials for \
         each operation), or `{ kubeconfig_path = \"...\", context = \"...\" }` (context optional: the file's \
         current context). Never taken from the provider configuration, so one apply can create a cluster and \
         install into it.",
    )
}

impl Connection {
    /// Reads the attribute at `path`. `Ok(None)` while any part is unknown (plan time).
    pub fn from_value(value: &Value, path: &Path) -> Result<Option<Connection>, Diagnostics> {
        if value.is_unknown() {
            return Ok(None);
        }
        let Some(entries) = value.as_entries() else {
            return Err(error(path, "cluster must be a map of strings, like { kubeconfig_path = \"~/.kube/config\" }"));
        };
        let mut given = BTreeMap::new();
        for (key, item) in entries {
            if item.is_unknown() {
                return Ok(None);
            }
            if !EKS_KEYS.contains(&key.as_str()) && !KUBECONFIG_KEYS.contains(&key.as_str()) {
                return Err(error(
                    &path.key(key),
                    format!("{key:?} is not a connection setting: use kubeconfig_path and context, or {} for EKS", EKS_KEYS.join(", ")),
                ));
            }
            if let Some(text) = item.as_str().filter(|t| !t.is_empty()) {
                given.insert(key.as_str(), text);
            }
        }
        if let Some(kubeconfig) = given.get("kubeconfig_path") {
            if let Some(eks) = EKS_KEYS.iter().find(|k| given.contains_key(*k)) {
                return Err(error(
                    &path.key(*eks),
                    format!("{eks} belongs to the EKS form; with kubeconfig_path give only kubeconfig_path and context"),
                ));
            }
            return Ok(Some(Connection::Kubeconfig {
                path: expand_home(kubeconfig),
                context: given.get("context").map(|c| c.to_string()),
            }));
        }
        if EKS_KEYS.iter().any(|k| given.contains_key(k)) {
            if let Some(missing) = EKS_KEYS.iter().find(|k| !given.contains_key(*k)) {
                return Err(error(
                    &path.key(*missing),
                    format!(
                        "an EKS connection needs {}; {missing} is missing (pass aqemia_cluster.<name>.connection whole)",
                        EKS_KEYS.join(", ")
                    ),
                ));
            }
            if !given["ca_certificate"].contains("-----BEGIN CERTIFICATE-----") {
                return Err(error(
                    &path.key("ca_certificate"),
                    "ca_certificate must be the cluster's CA in PEM form (-----BEGIN CERTIFICATE-----)",
                ));
            }
            let text = |k: &str| given[k].to_string();
            return Ok(Some(Connection::Eks {
                name: text("name"),
                endpoint: text("endpoint"),
                ca_certificate: text("ca_certificate"),
                region: text("region"),
            }));
        }
        Err(error(path, "cluster names no cluster: set kubeconfig_path (and optionally context)"))
    }

    /// A client for this connection. Built per operation, so credentials (and an EKS
    /// token, valid 15 minutes) are always fresh.
    pub async fn client(&self, provider: &ProviderConfig) -> anyhow::Result<kube::Client> {
        match self {
            Connection::Eks { name, endpoint, ca_certificate, region } => {
                let tokens = token::TokenSource::new(Aws::connect(provider, region).await, name);
                // The first token now, so a connection that cannot authenticate says so here.
                tokens.current().await.with_context(|| format!("minting a token for EKS cluster {name}"))?;
                let builder = kube::client::ClientBuilder::try_from(eks_config(endpoint, ca_certificate)?)
                    .context("creating the Kubernetes client")?;
                // The token goes on each request: a Buffer makes the stack cloneable, as the filter
                // needs, and the filter asks the source, which mints again before expiry.
                let stack = tower::ServiceBuilder::new()
                    .layer(tower::filter::AsyncFilterLayer::new(BearerToken(tokens)))
                    .layer(tower::buffer::BufferLayer::new(1024));
                Ok(builder.with_layer(&stack).build())
            }
            Connection::Kubeconfig { path, context } => {
                let kubeconfig = Kubeconfig::read_from(path).with_context(|| format!("reading kubeconfig {}", path.display()))?;
                let options = KubeConfigOptions { context: context.clone(), ..Default::default() };
                let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.with_context(|| match context {
                    Some(context) => format!("loading context {context:?} from {}", path.display()),
                    None => format!("loading the current context from {}", path.display()),
                })?;
                kube::Client::try_from(config).context("creating the Kubernetes client")
            }
        }
    }

    /// Names the cluster in messages.
    /// A short name for the cluster: the EKS cluster's, or the kubeconfig context's.
    pub fn label(&self) -> String {
        match self {
            Connection::Eks { name, .. } => name.clone(),
            Connection::Kubeconfig { context: Some(context), .. } => context.clone(),
            Connection::Kubeconfig { path, context: None } => {
                path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default()
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Connection::Eks { name, region, .. } => format!("EKS cluster {name} in {region}"),
            Connection::Kubeconfig { path, context: Some(context) } => format!("context {context:?} of {}", path.display()),
            Connection::Kubeconfig { path, context: None } => format!("the current context of {}", path.display()),
        }
    }
}

/// Puts the current EKS token on each request.
#[derive(Clone)]
struct BearerToken(token::TokenSource);

impl<B: Send + 'static> tower::filter::AsyncPredicate<http::Request<B>> for BearerToken {
    type Future = futures::future::BoxFuture<'static, Result<http::Request<B>, tower::BoxError>>;
    type Request = http::Request<B>;

    fn check(&mut self, mut request: http::Request<B>) -> Self::Future {
        let tokens = self.0.clone();
        Box::pin(async move {
            use secrecy::ExposeSecret as _;
            let token = tokens.current().await.context("minting an EKS token")?;
            let mut value = http::HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))?;
            value.set_sensitive(true);
            request.headers_mut().insert(http::header::AUTHORIZATION, value);
            Ok(request)
        })
    }
}

/// A client configuration for an API server at `endpoint` that trusts only `ca_pem`.
fn eks_config(endpoint: &str, ca_pem: &str) -> anyhow::Result<kube::Config> {
    let url: http::Uri = endpoint.parse().with_context(|| format!("{endpoint:?} is not a URL"))?;
    let mut config = kube::Config::new(url);
    config.root_cert = Some(pem_certificates(ca_pem)?);
    Ok(config)
}

/// The DER bodies of the certificates in a PEM text.
fn pem_certificates(pem: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for block in pem.split("-----BEGIN CERTIFICATE-----").skip(1) {
        let body = block.split("-----END CERTIFICATE-----").next().unwrap_or_default();
        let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        out.push(base64::engine::general_purpose::STANDARD.decode(text).context("a certificate in the CA is not valid base64")?);
    }
    anyhow::ensure!(!out.is_empty(), "the CA holds no PEM certificate");
    Ok(out)
}

/// Whether an API server answers over TLS with this CA: any HTTP status counts, since a
/// fresh control plane may refuse anonymous requests and still be up. The error says why not.
pub async fn answers(endpoint: &str, ca_pem: &str) -> Result<(), String> {
    let config = eks_config(endpoint, ca_pem).map_err(|e| format!("{e:#}"))?;
    let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
    match client.apiserver_version().await {
        Ok(_) | Err(kube::Error::Api(..)) => Ok(()),
        Err(e) => Err(aqemia_release::api::describe(&e)),
    }
}

fn error(path: &Path, detail: impl Into<String>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    diags.attribute_error(path, "Invalid cluster connection", detail);
    diags
}

/// `~/x` as a shell would read it: configurations are shared between machines.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Value {
        Value::Map(pairs.iter().map(|(k, v)| (k.to_string(), Value::string(*v))).collect())
    }

    #[test]
    fn kubeconfig_form() {
        let root = Path::root().attr("cluster");
        let conn = Connection::from_value(&map(&[("kubeconfig_path", "/k/config"), ("context", "dev")]), &root).unwrap();
        assert_eq!(conn, Some(Connection::Kubeconfig { path: "/k/config".into(), context: Some("dev".into()) }));
        let conn = Connection::from_value(&map(&[("kubeconfig_path", "/k/config"), ("context", "")]), &root).unwrap();
        assert_eq!(conn, Some(Connection::Kubeconfig { path: "/k/config".into(), context: None }));
    }

    #[test]
    fn unknown_until_apply() {
        let mut value = map(&[("kubeconfig_path", "/k/config")]);
        if let Value::Map(entries) = &mut value {
            entries.insert("context".into(), Value::unknown());
        }
        assert_eq!(Connection::from_value(&value, &Path::root().attr("cluster")).unwrap(), None);
    }

    #[test]
    fn mistakes_name_the_key() {
        let root = Path::root().attr("cluster");
        let diags = Connection::from_value(&map(&[("kubeconfig", "/k")]), &root).unwrap_err();
        let d = &diags.0[0];
        assert_eq!(d.path, Some(root.key("kubeconfig")));
        assert!(d.detail.contains("kubeconfig_path"), "{}", d.detail);
        let diags = Connection::from_value(&map(&[("kubeconfig_path", "/k"), ("region", "eu-west-1")]), &root).unwrap_err();
        assert_eq!(diags.0[0].path, Some(root.key("region")));
        assert!(Connection::from_value(&map(&[]), &root).is_err());
    }
}
