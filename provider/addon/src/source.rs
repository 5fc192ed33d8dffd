//! Where an add-on's chart comes from, and what identifies it: a repository or registry, a
//! name, a version or constraint, and optionally the archive's digest, which pins the chart
//! to the byte. The resolved version and digest are what a release records.

use std::path::Path;

use aqemia_helm::chart::Chart;
use aqemia_helm::source::{hex_sha256, ChartRef, Fetcher};

use crate::AddonError;

/// A chart as an add-on or a user names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChartSource {
    /// An HTTP(S) chart repository or an `oci://` registry prefix; `None` for a local chart.
    pub repository: Option<String>,
    /// The chart's name in the repository, or a local directory or `.tgz`.
    pub chart: String,
    /// Exact, a constraint (`^1.19`), or empty for the newest stable version.
    pub version: String,
    /// `sha256:<hex>` of the archive (of the content, for a directory); a chart that
    /// differs is refused.
    pub digest: Option<String>,
}

/// A chart fetched and checked.
#[derive(Debug)]
pub struct Resolved {
    pub chart: Chart,
    pub version: String,
    /// `sha256:<hex>` of the archive, or of a chart directory's content.
    pub digest: Option<String>,
    /// Whether something vouched for the archive's content: the pin, or the repository's
    /// index or registry manifest. A chart from an index entry without a digest is not.
    pub verified: bool,
}

impl ChartSource {
    /// The Helm engine's reference for this source.
    pub fn reference(&self) -> Result<ChartRef, AddonError> {
        let reference = match self.repository.as_deref() {
            Some(oci) if oci.starts_with("oci://") => {
                ChartRef::parse(&format!("{}/{}", oci.trim_end_matches('/'), self.chart), None, &self.version)
            }
            repository => ChartRef::parse(&self.chart, repository, &self.version),
        };
        reference.map_err(|e| AddonError::Source(e.to_string()))
    }

    /// Fetches (or finds in the cache) the chart, resolving the version, and checks the pin.
    pub async fn resolve(&self, fetcher: &Fetcher) -> Result<Resolved, AddonError> {
        // A pinned archive already in the cache needs no network: refresh and apply work offline.
        if let Some(resolved) = self.pinned_in_cache(fetcher) {
            return Ok(resolved);
        }
        let fetched = match self.reference()? {
            ChartRef::Local(path) => return self.local(&path),
            ChartRef::Repo(chart) => fetcher.fetch_repo_chart(&chart).await,
            ChartRef::Oci(chart) => fetcher.fetch_oci_chart(&chart).await,
        }
        .map_err(|e| AddonError::Source(e.to_string()))?;
        let digest = format!("sha256:{}", fetched.digest);
        self.check_pin(&digest)?;
        let chart = Chart::from_archive(&fetched.archive).map_err(|e| AddonError::Source(e.to_string()))?;
        Ok(Resolved { chart, version: fetched.version, digest: Some(digest), verified: fetched.verified || self.digest.is_some() })
    }

    fn pinned_in_cache(&self, fetcher: &Fetcher) -> Option<Resolved> {
        let pin = self.digest.as_deref()?;
        self.repository.as_ref()?;
        let archive = fetcher.cached(&pin.strip_prefix("sha256:")?.to_ascii_lowercase())?;
        let chart = Chart::from_archive(&archive).ok()?;
        // Only when the version asked for is the one cached (an exact version, not a constraint).
        (chart.name() == self.chart && chart.version().trim_start_matches('v') == self.version.trim_start_matches('v')).then(|| Resolved {
            version: chart.version().to_string(),
            chart,
            digest: Some(pin.to_ascii_lowercase()),
            verified: true,
        })
    }

    fn local(&self, path: &Path) -> Result<Resolved, AddonError> {
        let unreadable = |e: &dyn std::fmt::Display| AddonError::Source(format!("reading the chart {}: {e}", path.display()));
        if path.is_dir() {
            // A directory's digest is its content's (see `Chart::load_directory`): a release
            // records it, so a directory edited since is not taken for what was installed.
            let (chart, digest) = Chart::load_directory(path).map_err(|e| unreadable(&e))?;
            self.check_pin(&digest)?;
            return Ok(Resolved { version: chart.version().to_string(), chart, digest: Some(digest), verified: false });
        }
        let archive = std::fs::read(path).map_err(|e| unreadable(&e))?;
        let digest = format!("sha256:{}", hex_sha256(&archive));
        self.check_pin(&digest)?;
        let chart = Chart::from_archive(&archive).map_err(|e| unreadable(&e))?;
        Ok(Resolved { version: chart.version().to_string(), chart, digest: Some(digest), verified: self.digest.is_some() })
    }

    fn check_pin(&self, actual: &str) -> Result<(), AddonError> {
        match &self.digest {
            Some(pin) if !pin.eq_ignore_ascii_case(actual) => {
                Err(AddonError::DigestMismatch { pinned: pin.clone(), actual: actual.to_string() })
            }
            _ => Ok(()),
        }
    }
}

/// Checks the form of a digest pin: `sha256:` and 64 hex digits.
pub fn valid_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}
