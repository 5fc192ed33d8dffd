//! Requests, the envelope, and retries.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::{ApiMessage, Error};

/// Cloudflare's API v4, where a client goes unless told otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.cloudflare.com/client/v4";

/// How 429 and 5xx answers are retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The first wait when the server names none; doubled each time.
    pub backoff: Duration,
    /// The longest wait, whatever `Retry-After` asks for.
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { attempts: 6, backoff: Duration::from_millis(500), max_wait: Duration::from_secs(30) }
    }
}

/// A client for one token at one base URL.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    authorization: HeaderValue,
    pub retry: Retry,
}

// The token never reaches a log through Debug.
impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish_non_exhaustive()
    }
}

/// What every answer carries.
#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    errors: Vec<ApiMessage>,
    result: Option<T>,
    result_info: Option<ResultInfo>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct ResultInfo {
    #[serde(default)]
    pub page: u64,
    #[serde(default)]
    pub total_pages: Option<u64>,
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub per_page: u64,
    #[serde(default)]
    pub total_count: Option<u64>,
}

impl ResultInfo {
    /// Whether a page after this one exists. `total_pages` is recent; older answers give only
    /// the counts.
    pub fn has_more(&self) -> bool {
        match (self.total_pages, self.total_count) {
            (Some(pages), _) => self.page < pages,
            (None, Some(total)) => self.page * self.per_page.max(1) < total,
            (None, None) => self.count > 0 && self.count == self.per_page,
        }
    }
}

impl Client {
    /// `base_url` includes the version prefix (`https://api.cloudflare.com/client/v4`), or is
    /// a stand-in's root; `None` means Cloudflare itself.
    pub fn new(base_url: Option<&str>, token: &str) -> Result<Client, Error> {
        let base = base_url.unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/').to_string();
        Url::parse(&base).map_err(|e| Error::Config(format!("the Cloudflare base URL {base:?} is not a URL: {e}")))?;
        if token.trim().is_empty() {
            return Err(Error::Config("the Cloudflare API token is empty".into()));
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {}", token.trim()))
            .map_err(|_| Error::Config("the Cloudflare API token holds characters a header cannot carry".into()))?;
        authorization.set_sensitive(true);
        // reqwest is built without a crypto provider of its own: ring, as everywhere else.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("aqemia/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client { http, base, authorization, retry: Retry::default() })
    }

    /// One call, retried on 429 and 5xx, giving the envelope's `result` and `result_info`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<(Option<T>, Option<ResultInfo>), Error> {
        let verb = method_name(&method);
        let mut url =
            Url::parse(&format!("{}{path}", self.base)).map_err(|e| Error::Config(format!("{}{path} is not a URL: {e}", self.base)))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self.http.request(method.clone(), url.clone()).header(AUTHORIZATION, self.authorization.clone());
            if let Some(body) = body {
                request = request.header(CONTENT_TYPE, "application/json").body(body.to_string());
            }
            let transport = |e: reqwest::Error| Error::Transport { method: verb, path: path.to_string(), reason: e.to_string() };
            let response = match request.send().await {
                Ok(response) => response,
                // A POST that may have reached the server is not sent twice; one that never
                // connected is.
                Err(e) if attempt < self.retry.attempts && (method != Method::POST || e.is_connect()) => {
                    tracing::debug!(method = verb, path, attempt, "Cloudflare unreachable, retrying: {e}");
                    tokio::time::sleep(self.backoff(attempt, None)).await;
                    continue;
                }
                Err(e) => return Err(transport(e)),
            };
            let status = response.status();
            tracing::debug!(method = verb, path, status = status.as_u16(), attempt, "Cloudflare answered");
            if retryable(status) && attempt < self.retry.attempts {
                let asked = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after);
                tokio::time::sleep(self.backoff(attempt, asked)).await;
                continue;
            }
            let text = response.text().await.map_err(transport)?;
            return read_envelope(verb, path, status, &text);
        }
    }

    fn backoff(&self, attempt: u32, asked: Option<Duration>) -> Duration {
        let doubled = self.retry.backoff.saturating_mul(1 << (attempt - 1).min(16));
        asked.unwrap_or(doubled).min(self.retry.max_wait)
    }
}

fn read_envelope<T: DeserializeOwned>(
    method: &'static str,
    path: &str,
    status: StatusCode,
    text: &str,
) -> Result<(Option<T>, Option<ResultInfo>), Error> {
    let envelope: Result<Envelope<T>, _> = serde_json::from_str(text);
    match envelope {
        Ok(envelope) if status.is_success() && envelope.success => Ok((envelope.result, envelope.result_info)),
        Ok(envelope) => Err(Error::Api { method, path: path.to_string(), status: status.as_u16(), errors: envelope.errors }),
        // A failure that is not an envelope (a proxy's page): the status says enough.
        Err(_) if !status.is_success() => Err(Error::Api { method, path: path.to_string(), status: status.as_u16(), errors: Vec::new() }),
        Err(e) => Err(Error::Decode { method, path: path.to_string(), reason: e.to_string() }),
    }
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// `Retry-After` in seconds (Cloudflare sends seconds; an HTTP date falls back to backoff).
fn retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_read_leniently_and_failures_keep_their_codes() {
        let ok = r#"{"success":true,"errors":[],"messages":[],"result":{"id":"z1","name":"example.com","paused":false,"new":1}}"#;
        let (zone, _) = read_envelope::<crate::Zone>("GET", "/zones/z1", StatusCode::OK, ok).unwrap();
        assert_eq!(zone.unwrap().name, "example.com");

        let exists = r#"{"success":false,"errors":[{"code":81053,"message":"An A, AAAA, or CNAME record with that host already exists."}],"messages":[],"result":null}"#;
        let err = read_envelope::<crate::Record>("POST", "/zones/z1/dns_records", StatusCode::BAD_REQUEST, exists).unwrap_err();
        assert!(err.has_code(&crate::RECORD_EXISTS), "{err}");
        assert!(err.to_string().contains("already exists. (code 81053)"), "{err}");

        let page = read_envelope::<crate::Zone>("GET", "/zones/z1", StatusCode::BAD_GATEWAY, "<html>bad gateway</html>").unwrap_err();
        assert_eq!(page.status(), Some(502));
    }

    #[test]
    fn pages_continue_until_the_last() {
        let info = |page, total_pages, total_count, count| ResultInfo { page, total_pages, total_count, count, per_page: 2 };
        assert!(info(1, Some(2), None, 2).has_more());
        assert!(!info(2, Some(2), None, 1).has_more());
        assert!(info(1, None, Some(3), 2).has_more());
        assert!(!info(2, None, Some(3), 1).has_more());
        assert!(!info(1, None, None, 1).has_more());
    }

    #[test]
    fn waits_follow_retry_after_within_the_cap() {
        let client = Client::new(Some("http://127.0.0.1:1"), "t").unwrap();
        assert_eq!(client.backoff(1, None), Duration::from_millis(500));
        assert_eq!(client.backoff(3, None), Duration::from_secs(2));
        assert_eq!(client.backoff(1, retry_after("7")), Duration::from_secs(7));
        assert_eq!(client.backoff(1, retry_after("3600")), Duration::from_secs(30));
        assert_eq!(retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), None);
    }

    #[test]
    fn a_client_never_shows_its_token() {
        let client = Client::new(None, "sekrit-token-value").unwrap();
        assert!(!format!("{client:?}").contains("sekrit"));
        assert!(Client::new(None, " ").is_err());
        assert!(Client::new(Some("not a url"), "t").is_err());
    }
}
