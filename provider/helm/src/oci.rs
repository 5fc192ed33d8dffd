//! Charts from OCI registries (`oci://host/path/name`), as Helm pushes them: a manifest whose
//! layer of type `application/vnd.cncf.helm.chart.content.v1.tar+gzip` is the chart archive.
//! The registry token flow is followed: a `401` with a `Bearer` challenge sends us to the
//! realm for a token (with the user's credentials when given), then the request is retried.
//! The archive is checked against the layer digest and cached under it.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::StatusCode;

use super::semver::{Constraint, Version};
use super::source::{hex_sha256, Fetched, Fetcher, SourceError};

const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
const CHART_LAYER_TYPES: [&str; 2] = ["application/vnd.cncf.helm.chart.content.v1.tar+gzip", "application/tar+gzip"];

/// A chart in a registry and the version wanted: a tag, a constraint, or empty for the
/// newest stable version.
#[derive(Clone, Debug)]
pub struct OciChart {
    pub reference: String,
    pub version: String,
}

/// How to reach one registry: its base URL, the credentials, and the tokens it granted.
pub struct Registry<'a> {
    fetcher: &'a Fetcher,
    base: String,
    credentials: Option<(String, String)>,
    tokens: Mutex<HashMap<String, String>>,
}

/// The key="value" pairs of a `WWW-Authenticate` challenge after its scheme.
fn challenge_params(header: &str) -> (String, HashMap<String, String>) {
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.insert(key.trim().to_lowercase(), value);
    }
    (scheme.to_lowercase(), params)
}

impl<'a> Registry<'a> {
    fn basic(&self) -> Option<String> {
        use base64::Engine as _;
        self.credentials.as_ref().map(|(u, p)| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))))
    }

    /// A token from the challenge's realm.
    async fn token(&self, params: &HashMap<String, String>) -> Result<String, SourceError> {
        let realm =
            params.get("realm").ok_or_else(|| SourceError::Invalid(format!("{}: a Bearer challenge without a realm", self.base)))?;
        let mut url = reqwest::Url::parse(realm).map_err(|e| SourceError::Invalid(format!("{}: token realm {realm:?}: {e}", self.base)))?;
        for key in ["service", "scope"] {
            if let Some(value) = params.get(key) {
                url.query_pairs_mut().append_pair(key, value);
            }
        }
        let mut request = self.fetcher.client.get(url);
        if let Some(basic) = self.basic() {
            request = request.header(AUTHORIZATION, basic);
        }
        let unreachable = |reason: String| SourceError::Unreachable { url: realm.clone(), reason };
        let response = request.send().await.map_err(|e| unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(format!("the registry refused a token: HTTP {}", response.status())));
        }
        let body = response.bytes().await.map_err(|e| unreachable(e.to_string()))?;
        let body: serde_json::Value = serde_json::from_slice(&body).map_err(|e| unreachable(format!("not a token response: {e}")))?;
        body.get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .map(String::from)
            .ok_or_else(|| unreachable("no token in the response".into()))
    }

    /// GET `path` on the registry, authenticating when challenged; the response body.
    async fn get(&self, path: &str, accept: Option<&str>) -> Result<(Vec<u8>, HeaderMap), SourceError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |reason: String| SourceError::Unreachable { url: url.clone(), reason };
        let mut auth: Option<String> = self.tokens.lock().ok().and_then(|t| t.get(path).cloned().or_else(|| t.get("").cloned()));
        for attempt in 0..2 {
            let mut request = self.fetcher.client.get(&url);
            if let Some(accept) = accept {
                request = request.header(ACCEPT, accept);
            }
            if let Some(auth) = &auth {
                request = request.header(AUTHORIZATION, auth);
            }
            let response = request.send().await.map_err(|e| unreachable(e.to_string()))?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && attempt == 0 {
                let challenge = response.headers().get(WWW_AUTHENTICATE).and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
                let (scheme, params) = challenge_params(&challenge);
                auth = Some(match scheme.as_str() {
                    "bearer" => format!("Bearer {}", self.token(&params).await?),
                    "basic" => self.basic().ok_or_else(|| {
                        unreachable("HTTP 401 Unauthorized: the registry wants credentials (--username, --password)".into())
                    })?,
                    _ => return Err(unreachable(format!("HTTP 401 Unauthorized (challenge {challenge:?})"))),
                });
                if let (Ok(mut tokens), Some(auth)) = (self.tokens.lock(), &auth) {
                    tokens.insert(String::new(), auth.clone());
                }
                continue;
            }
            if !status.is_success() {
                return Err(unreachable(format!("HTTP {status}")));
            }
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(|e| unreachable(e.to_string()))?;
            return Ok((body.to_vec(), headers));
        }
        Err(unreachable("HTTP 401 Unauthorized".into()))
    }
}

impl Fetcher {
    /// Fetches a chart from an OCI registry.
    pub async fn fetch_oci_chart(&self, chart: &OciChart) -> Result<Fetched, SourceError> {
        let reference = self.mirrored(&chart.reference);
        let rest = reference.strip_prefix("oci://").ok_or_else(|| SourceError::Invalid(format!("{reference}: not an oci:// reference")))?;
        let (host, repo) = rest
            .trim_end_matches('/')
            .split_once('/')
            .ok_or_else(|| SourceError::Invalid(format!("{reference}: expected oci://HOST/PATH/NAME")))?;
        let name = repo.rsplit('/').next().unwrap_or(repo).to_string();
        let scheme = if self.plain_http { "http" } else { "https" };
        let registry = Registry {
            fetcher: self,
            base: format!("{scheme}://{host}"),
            credentials: self.credentials.clone(),
            tokens: Mutex::new(HashMap::new()),
        };

        let tag = match Version::parse(&chart.version) {
            // An exact version is a tag; OCI tags cannot hold `+`, Helm writes `_`.
            Ok(_)
                if !chart.version.is_empty()
                    && chart.version.trim_start_matches('v').chars().next().is_some_and(|c| c.is_ascii_digit()) =>
            {
                chart.version.replace('+', "_")
            }
            _ => self.newest_tag(&registry, repo, &chart.version).await?,
        };
        let (manifest, _) = registry.get(&format!("/v2/{repo}/manifests/{tag}"), Some(MANIFEST_TYPES)).await?;
        let manifest: serde_json::Value =
            serde_json::from_slice(&manifest).map_err(|e| SourceError::Invalid(format!("{reference}:{tag}: not an OCI manifest: {e}")))?;
        let layer = manifest
            .get("layers")
            .and_then(|l| l.as_array())
            .and_then(|layers| {
                layers.iter().find(|l| l.get("mediaType").and_then(|m| m.as_str()).is_some_and(|m| CHART_LAYER_TYPES.contains(&m)))
            })
            .ok_or_else(|| SourceError::Invalid(format!("{reference}:{tag} is not a Helm chart: no chart layer in its manifest")))?;
        let layer_digest = layer.get("digest").and_then(|d| d.as_str()).unwrap_or_default().to_string();
        let digest = layer_digest
            .strip_prefix("sha256:")
            .ok_or_else(|| SourceError::Invalid(format!("{reference}:{tag}: unsupported layer digest {layer_digest:?}")))?
            .to_lowercase();
        let version = tag.replace('_', "+");
        if let Some(archive) = self.cached(&digest) {
            return Ok(Fetched { name, version, digest, archive, from_cache: true, verified: true });
        }
        let (archive, _) = registry.get(&format!("/v2/{repo}/blobs/{layer_digest}"), None).await?;
        let actual = hex_sha256(&archive);
        if actual != digest {
            return Err(SourceError::DigestMismatch { name, version, url: format!("{reference}:{tag}"), expected: digest, actual });
        }
        self.store(&actual, &archive);
        Ok(Fetched { name, version, digest: actual, archive, from_cache: false, verified: true })
    }

    /// The newest tag the constraint admits (stable only without one), from the tag list.
    async fn newest_tag(&self, registry: &Registry<'_>, repo: &str, constraint: &str) -> Result<String, SourceError> {
        let (body, _) = registry.get(&format!("/v2/{repo}/tags/list"), None).await?;
        let list: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| SourceError::Invalid(format!("{repo}: not a tag list: {e}")))?;
        let wanted = constraint;
        let constraint = if constraint.is_empty() { None } else { Some(Constraint::parse(constraint).map_err(SourceError::Invalid)?) };
        let mut best: Option<(Version, String)> = None;
        for tag in list.get("tags").and_then(|t| t.as_array()).into_iter().flatten().filter_map(|t| t.as_str()) {
            let Ok(version) = Version::parse(&tag.replace('_', "+")) else { continue };
            let admitted = match &constraint {
                Some(c) => c.matches(&version),
                None => version.pre.is_empty(),
            };
            if admitted && best.as_ref().is_none_or(|(b, _)| version > *b) {
                best = Some((version, tag.to_string()));
            }
        }
        best.map(|(_, tag)| tag).ok_or_else(|| {
            let wanted = if wanted.is_empty() { "a stable version".to_string() } else { format!("version {wanted:?}") };
            SourceError::Invalid(format!("chart {repo} with {wanted} not found in the registry"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_are_read() {
        let (scheme, p) =
            challenge_params(r#"Bearer realm="http://127.0.0.1:9/token",service="reg",scope="repository:charts/a:pull,push""#);
        assert_eq!(scheme, "bearer");
        assert_eq!(p["realm"], "http://127.0.0.1:9/token");
        assert_eq!(p["service"], "reg");
        assert_eq!(p["scope"], "repository:charts/a:pull,push");
    }
}
