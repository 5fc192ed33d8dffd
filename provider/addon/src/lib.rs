//! The add-on layer: where the Helm engine and the release engine meet. An add-on is a
//! pinned chart, values built from typed inputs, extra manifests applied after the chart, a
//! readiness probe where kstatus is not enough, and the add-ons it depends on; a stack
//! applies add-ons in dependency order. `aqemia_chart` is the one-add-on case, and the
//! composites are lists of add-ons.
//!
//! `documents` reads YAML as Kubernetes does (one reader for manifests and rendered charts);
//! `source` fetches and pins charts; `render` turns a chart into object bodies; `seed` keeps
//! renders repeatable and Secret digests keyed; `hooks` runs chart hooks as Helm does;
//! `lookup` lets templates read the live cluster; `readiness` waits for webhooks to answer; `release` is a release's conversation with
//! its cluster; `record` keeps what a release was
//! installed from in the cluster, and `helm_release` reads what Helm kept, for imports;
//! `addon`, `install` and `stack` put these together.
//!
//! Like the engines, this crate knows nothing of Terraform: it takes a `kube::Client`.

pub mod addon;
pub mod documents;
pub mod helm_release;
pub mod hooks;
pub mod install;
pub mod lookup;
pub mod readiness;
pub mod record;
pub mod release;
pub mod render;
pub mod seed;
pub mod source;
pub mod stack;

use aqemia_release::engine::ReleaseError;

/// Why an add-on could not be rendered or applied.
#[derive(Debug, thiserror::Error)]
pub enum AddonError {
    /// The chart could not be found, fetched or read.
    #[error("{0}")]
    Source(String),
    #[error("the chart is {actual}, but digest pins {pinned}: the chart changed since it was pinned, or the pin is wrong")]
    DigestMismatch { pinned: String, actual: String },
    /// A values document that does not parse, with its position in the list.
    #[error("values[{index}]: {message}")]
    Values { index: usize, message: String },
    #[error("{0}")]
    Set(String),
    /// A template or schema error, worded as Helm words it.
    #[error("{0}")]
    Render(String),
    /// An object of a kind the cluster does not serve yet, and no CRD of the chart defines:
    /// another release may be about to install it.
    #[error("{template}: the cluster serves no kind {kind} in {api_version}, and no CustomResourceDefinition in this release defines it")]
    Unserved { template: String, api_version: String, kind: String },
    #[error("{0}")]
    Release(#[from] ReleaseError),
    #[error("{0}")]
    Stack(String),
}

impl From<AddonError> for ReleaseError {
    fn from(error: AddonError) -> Self {
        match error {
            AddonError::Release(e) => e,
            other => ReleaseError::Other(anyhow::anyhow!(other.to_string())),
        }
    }
}
