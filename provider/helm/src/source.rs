//! Where charts come from: a chart repository over HTTP(S) (`index.yaml`, the newest version
//! that a constraint admits, the archive checked against the digest the index gives) or an OCI
//! registry (`oci`), a local cache keyed by that digest, and mirrors that replace a
//! repository's or registry's address for sites without internet access.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::chart::{Chart, ChartError};
use super::oci::OciChart;
use super::semver::{Constraint, Version};
use super::yaml;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Invalid(String),
    #[error("looks like {url:?} is not a valid chart repository or cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "chart {name}-{version} from {url}: digest mismatch: the repository index says sha256:{expected}, the archive is sha256:{actual}"
    )]
    DigestMismatch { name: String, version: String, url: String, expected: String, actual: String },
}

/// A chart as Helm's `CHART` argument names it, with `--repo` and `--version`: a local
/// directory or archive, a chart in a repository, or a chart in an OCI registry.
#[derive(Clone, Debug)]
pub enum ChartRef {
    Local(PathBuf),
    Repo(RepoChart),
    Oci(OciChart),
}

impl ChartRef {
    /// Helm's rules: with `repo`, `chart` is a name in that repository; `oci://...` is a
    /// registry; `SCHEME://.../NAME` is a repository URL and a name; anything else is a path.
    /// `version` (exact, or a constraint such as `^1.2`; empty for the newest stable) applies
    /// to charts in repositories and registries only.
    pub fn parse(chart: &str, repo: Option<&str>, version: &str) -> Result<ChartRef, SourceError> {
        let version = version.to_string();
        if let Some(repo_url) = repo {
            return Ok(ChartRef::Repo(RepoChart { repo_url: repo_url.to_string(), name: chart.to_string(), version }));
        }
        if chart.starts_with("oci://") {
            return Ok(ChartRef::Oci(OciChart { reference: chart.to_string(), version }));
        }
        if chart.contains("://") {
            let (repo_url, name) = chart
                .trim_end_matches('/')
                .rsplit_once('/')
                .ok_or_else(|| SourceError::Invalid(format!("{chart}: expected REPO_URL/NAME")))?;
            return Ok(ChartRef::Repo(RepoChart { repo_url: repo_url.to_string(), name: name.to_string(), version }));
        }
        if !version.is_empty() {
            return Err(SourceError::Invalid(format!("--version applies to a chart in a repository or registry; {chart} is a local path")));
        }
        Ok(ChartRef::Local(PathBuf::from(chart)))
    }
}

/// Why a chart could not be had: fetching it, or reading what was fetched.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Chart(#[from] ChartError),
}

/// A chart in a repository: its address, name and version constraint (empty: the newest
/// stable version).
#[derive(Clone, Debug)]
pub struct RepoChart {
    pub repo_url: String,
    pub name: String,
    pub version: String,
}

/// A chart archive fetched (or found in the cache), with what identifies it.
#[derive(Debug)]
pub struct Fetched {
    pub name: String,
    pub version: String,
    pub digest: String,
    pub archive: Vec<u8>,
    pub from_cache: bool,
    /// The repository index or registry manifest gave the digest the archive was checked
    /// against. An index entry without a digest gives an archive nothing vouches for.
    pub verified: bool,
}

/// Fetches charts. Mirrors are `(prefix, replacement)` pairs applied to repository, archive
/// and registry addresses. `plain_http` talks HTTP to registries (Helm's `--plain-http`);
/// `credentials` are the user name and password for registries that want them.
pub struct Fetcher {
    pub cache_dir: PathBuf,
    pub mirrors: Vec<(String, String)>,
    pub plain_http: bool,
    pub credentials: Option<(String, String)>,
    pub(super) client: reqwest::Client,
}

/// The sha256 of an archive as hex, as repository indexes and registries give digests.
pub fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// The default cache: `$XDG_CACHE_HOME/aqemia/charts`, else `~/.cache/aqemia/charts`.
pub fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("aqemia").join("charts")
}

impl Fetcher {
    pub fn new(cache_dir: PathBuf, mirrors: Vec<(String, String)>) -> Result<Fetcher, SourceError> {
        // reqwest is built without a crypto provider of its own: use ring (a process-wide
        // default; a caller that installed one first keeps it). Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .user_agent(concat!("aqemia-helm/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SourceError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Fetcher { cache_dir, mirrors, plain_http: false, credentials: None, client })
    }

    /// Loads the chart `reference` names: a local one as it is, a remote one through the cache.
    pub async fn load(&self, reference: &ChartRef) -> Result<Chart, LoadError> {
        let fetched = match reference {
            ChartRef::Local(path) => return Ok(Chart::load(path)?),
            ChartRef::Repo(chart) => self.fetch_repo_chart(chart).await?,
            ChartRef::Oci(chart) => self.fetch_oci_chart(chart).await?,
        };
        Ok(Chart::from_archive(&fetched.archive)?)
    }

    /// The address to use for `url`, after mirrors.
    pub fn mirrored(&self, url: &str) -> String {
        for (from, to) in &self.mirrors {
            if let Some(rest) = url.strip_prefix(from.trim_end_matches('/')) {
                return format!("{}{rest}", to.trim_end_matches('/'));
            }
        }
        url.to_string()
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, SourceError> {
        let unreachable = |reason: String| SourceError::Unreachable { url: url.to_string(), reason };
        let response = self.client.get(url).send().await.map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(unreachable(format!("HTTP {status}")));
        }
        Ok(response.bytes().await.map_err(|e| unreachable(e.to_string()))?.to_vec())
    }

    fn cache_path(&self, digest: &str) -> PathBuf {
        self.cache_dir.join("sha256").join(format!("{digest}.tgz"))
    }

    /// The archive with this digest from the cache, if it is there and intact.
    pub fn cached(&self, digest: &str) -> Option<Vec<u8>> {
        let data = std::fs::read(self.cache_path(digest)).ok()?;
        (hex_sha256(&data) == digest).then_some(data)
    }

    pub(super) fn store(&self, digest: &str, data: &[u8]) {
        let path = self.cache_path(digest);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // Written aside and renamed, so that a reader never sees half an archive.
        let tmp = path.with_extension(format!("tgz.{}", std::process::id()));
        if std::fs::write(&tmp, data).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        }
    }

    /// Resolves the chart in the repository index and fetches its archive.
    pub async fn fetch_repo_chart(&self, chart: &RepoChart) -> Result<Fetched, SourceError> {
        let repo = self.mirrored(chart.repo_url.trim_end_matches('/'));
        let index_url = format!("{repo}/index.yaml");
        let index = self.get(&index_url).await?;
        let index = yaml::from_yaml(&String::from_utf8_lossy(&index))
            .map_err(|e| SourceError::Invalid(format!("{index_url}: not a chart repository index: {e}")))?;
        let entries = index
            .get("entries")
            .and_then(|e| e.get(&chart.name))
            .and_then(|e| e.as_array())
            .ok_or_else(|| SourceError::Invalid(format!("chart {:?} not found in {} repository", chart.name, chart.repo_url)))?;
        let constraint =
            if chart.version.is_empty() { None } else { Some(Constraint::parse(&chart.version).map_err(SourceError::Invalid)?) };
        let mut best: Option<(Version, &serde_json::Value)> = None;
        for entry in entries {
            let Some(text) = entry.get("version").and_then(|v| v.as_str()) else { continue };
            let Ok(version) = Version::parse(text) else { continue };
            let admitted = match &constraint {
                Some(c) => c.matches(&version) || text == chart.version,
                // Without a constraint Helm takes the newest stable version.
                None => version.pre.is_empty(),
            };
            if admitted && best.as_ref().is_none_or(|(b, _)| version > *b) {
                best = Some((version, entry));
            }
        }
        let Some((_, entry)) = best else {
            let wanted = if chart.version.is_empty() { String::new() } else { format!(" with version {:?}", chart.version) };
            return Err(SourceError::Invalid(format!("chart {:?}{wanted} not found in {} repository", chart.name, chart.repo_url)));
        };
        let version = entry.get("version").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let digest = entry.get("digest").and_then(|v| v.as_str()).unwrap_or_default().trim_start_matches("sha256:").to_lowercase();
        if !digest.is_empty() {
            if let Some(archive) = self.cached(&digest) {
                return Ok(Fetched { name: chart.name.clone(), version, digest, archive, from_cache: true, verified: true });
            }
        }
        let url = entry
            .get("urls")
            .and_then(|u| u.as_array())
            .and_then(|u| u.first())
            .and_then(|u| u.as_str())
            .ok_or_else(|| SourceError::Invalid(format!("chart {}-{version} has no download URL in {index_url}", chart.name)))?;
        let url = if url.contains("://") { self.mirrored(url) } else { format!("{repo}/{}", url.trim_start_matches("./")) };
        let archive = self.get(&url).await?;
        let actual = hex_sha256(&archive);
        if !digest.is_empty() && actual != digest {
            return Err(SourceError::DigestMismatch { name: chart.name.clone(), version, url, expected: digest, actual });
        }
        self.store(&actual, &archive);
        let verified = !digest.is_empty();
        Ok(Fetched { name: chart.name.clone(), version, digest: actual, archive, from_cache: false, verified })
    }
}
