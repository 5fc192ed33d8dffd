//! AWS access: SDK clients built from the provider configuration, one error type that keeps
//! the service's error code, and EKS token minting.
//!
//! Every client retries throttling, 5xx and timeouts with the SDK's standard mode (jittered
//! exponential backoff), so callers only see errors that a retry would not cure.

pub mod token;

use std::fmt;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::config::ProviderConfig;

/// Attempts per call, the first included. Eight attempts span about a minute of backoff,
/// long enough to ride out a throttling burst during a large apply.
const MAX_ATTEMPTS: u32 = 8;

/// The clients one operation uses, all for one region.
#[derive(Clone)]
pub struct Aws {
    pub region: String,
    pub sdk: SdkConfig,
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub eks: aws_sdk_eks::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    /// The STS base URL token minting presigns against (an override, or the regional one).
    pub sts_endpoint: String,
}

impl Aws {
    /// Clients for `region`, with the provider's credentials and endpoint overrides.
    pub async fn connect(config: &ProviderConfig, region: &str) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .http_client(http_client())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS).with_initial_backoff(Duration::from_millis(200)))
            .timeout_config(TimeoutConfig::builder().operation_attempt_timeout(Duration::from_secs(60)).build());
        if let Some(profile) = &config.profile {
            loader = loader.profile_name(profile);
        }
        if let (Some(key), Some(secret)) = (&config.access_key, &config.secret_key) {
            loader = loader.credentials_provider(Credentials::new(key, secret, config.token.clone(), None, "aqemia provider block"));
        }
        let sdk = loader.load().await;
        let endpoint = |api: &str| config.endpoint(api).map(str::to_string);
        macro_rules! client {
            ($krate:ident, $api:literal) => {{
                let mut builder = $krate::config::Builder::from(&sdk);
                if let Some(url) = endpoint($api) {
                    builder = builder.endpoint_url(url);
                }
                $krate::Client::from_conf(builder.build())
            }};
        }
        Aws {
            region: region.to_string(),
            ec2: client!(aws_sdk_ec2, "ec2"),
            iam: client!(aws_sdk_iam, "iam"),
            eks: client!(aws_sdk_eks, "eks"),
            ecr: client!(aws_sdk_ecr, "ecr"),
            elb: client!(aws_sdk_elasticloadbalancingv2, "elbv2"),
            sts_endpoint: endpoint("sts").unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com")),
            sdk,
        }
    }
}

/// One HTTPS client for every service: rustls with ring, the crypto the rest of the
/// provider already links.
fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring)).build_https()
}

/// A failed AWS call, with the service's error code when it sent one.
#[derive(Debug, thiserror::Error)]
pub struct AwsError {
    pub code: Option<String>,
    pub message: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl AwsError {
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// "Not found" in any service's words.
    pub fn is_not_found(&self) -> bool {
        let code = self.code.as_deref().unwrap_or_default();
        // EC2 says `InvalidVpcID.NotFound`, EKS and ECR `…NotFoundException`, IAM `NoSuchEntity`.
        code.ends_with("NotFound") || code.ends_with("NotFoundException") || code == "NoSuchEntity"
    }
}

impl<E, R> From<SdkError<E, R>> for AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    fn from(err: SdkError<E, R>) -> Self {
        let code = err.code().map(str::to_string);
        let message = match err.message() {
            Some(message) => message.to_string(),
            None => aws_sdk_ec2::error::DisplayErrorContext(&err).to_string(),
        };
        AwsError { code, message }
    }
}

/// `Ok(None)` for "not found", so finding, refreshing and deleting what may be gone
/// already read the same way.
pub fn found<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}
