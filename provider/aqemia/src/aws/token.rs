//! EKS bearer tokens: a presigned STS GetCallerIdentity URL that names the cluster in a
//! signed `x-k8s-aws-id` header, base64url-encoded behind `k8s-aws-v1.`. The API server's
//! authenticator calls the URL and learns who we are. Tokens live 15 minutes; a
//! [`TokenSource`] mints one per connection and mints again long before it expires (a release
//! may wait longer than 15 minutes), and never stores one.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings};
use aws_sigv4::sign::v4;
use base64::Engine as _;

use super::Aws;

const PREFIX: &str = "k8s-aws-v1.";
/// The header that binds a token to one cluster.
pub const CLUSTER_HEADER: &str = "x-k8s-aws-id";
/// How long the presigned URL is valid; the authenticator adds its own 15-minute cap.
const URL_LIFETIME: Duration = Duration::from_secs(60);

/// A token is used for this long, then replaced: a third of the 15 minutes EKS accepts it,
/// so a request never carries one about to expire.
const REMINT_AFTER: Duration = Duration::from_secs(5 * 60);

/// The tokens of one connection: the one held, minted again once it is older than
/// `remint_after`. Clones share the token.
#[derive(Clone)]
pub struct TokenSource {
    aws: Aws,
    cluster: String,
    remint_after: Duration,
    held: Arc<tokio::sync::Mutex<Option<(secrecy::SecretString, tokio::time::Instant)>>>,
}

impl TokenSource {
    /// `AQEMIA_EKS_TOKEN_REMINT_SECONDS` shortens the re-mint interval, for tests that prove it
    /// with a short-lived token.
    pub fn new(aws: Aws, cluster: &str) -> TokenSource {
        let remint_after = std::env::var("AQEMIA_EKS_TOKEN_REMINT_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(REMINT_AFTER);
        TokenSource { aws, cluster: cluster.to_string(), remint_after, held: Arc::default() }
    }

    /// The current token, minted now if none is held or the one held is too old.
    pub async fn current(&self) -> anyhow::Result<secrecy::SecretString> {
        let mut held = self.held.lock().await;
        if let Some((token, minted)) = held.as_ref() {
            if minted.elapsed() < self.remint_after {
                return Ok(token.clone());
            }
        }
        let token = secrecy::SecretString::from(mint(&self.aws, &self.cluster).await?);
        tracing::debug!(cluster = %self.cluster, "minted an EKS token");
        *held = Some((token.clone(), tokio::time::Instant::now()));
        Ok(token)
    }
}

/// A fresh token for `cluster`.
pub async fn mint(aws: &Aws, cluster: &str) -> anyhow::Result<String> {
    let provider = aws.sdk.credentials_provider().context("no AWS credentials are configured")?;
    let credentials = provider.provide_credentials().await.context("loading AWS credentials")?;
    presign(&credentials.into(), &aws.region, &aws.sts_endpoint, cluster, SystemTime::now())
}

fn presign(
    identity: &aws_smithy_runtime_api::client::identity::Identity,
    region: &str,
    sts: &str,
    cluster: &str,
    now: SystemTime,
) -> anyhow::Result<String> {
    let url = format!("{}/?Action=GetCallerIdentity&Version=2011-06-15", sts.trim_end_matches('/'));
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(URL_LIFETIME);
    let params = v4::SigningParams::builder().identity(identity).region(region).name("sts").time(now).settings(settings).build()?.into();
    let request = SignableRequest::new("GET", &url, [(CLUSTER_HEADER, cluster)].into_iter(), SignableBody::Bytes(&[]))?;
    let (instructions, _) = sign(request, &params)?.into_parts();
    let mut signed = url;
    for (name, value) in instructions.params() {
        signed.push('&');
        signed.push_str(name);
        signed.push('=');
        signed.push_str(&percent_encode(value));
    }
    Ok(format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signed)))
}

/// RFC 3986 unreserved characters pass; everything else is %-escaped (SigV4's rule).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;

    #[test]
    fn token_is_a_presigned_sts_url_bound_to_the_cluster() {
        let identity = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test").into();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let token = presign(&identity, "eu-west-1", "https://sts.eu-west-1.amazonaws.com", "main", now).unwrap();
        let url = String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.strip_prefix(PREFIX).unwrap()).unwrap())
            .unwrap();
        assert!(url.starts_with("https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&"), "{url}");
        assert!(url.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"), "{url}");
        assert!(url.contains("X-Amz-Credential=AKIDEXAMPLE%2F20260921%2Feu-west-1%2Fsts%2Faws4_request"), "{url}");
        assert!(url.contains("X-Amz-Expires=60"), "{url}");
        assert!(url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"), "{url}");
        assert!(url.contains("X-Amz-Signature="), "{url}");
        // Same inputs, same token; another cluster, another signature.
        assert_eq!(token, presign(&identity, "eu-west-1", "https://sts.eu-west-1.amazonaws.com", "main", now).unwrap());
        assert_ne!(token, presign(&identity, "eu-west-1", "https://sts.eu-west-1.amazonaws.com", "other", now).unwrap());
    }
}
