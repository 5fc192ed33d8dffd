//! One add-on: a pinned chart with its values, the manifests that go in after it, a readiness
//! probe beyond kstatus, and what it depends on; and the steps every caller takes with one:
//! fetch, render, place.

use aqemia_helm::source::Fetcher;
use aqemia_release::engine::ReleaseError;
use aqemia_release::manifest::Manifest;
use serde_json::Value;

use crate::release::{place_offline, Session};
use crate::render::{self, Capabilities, Inputs};
use crate::seed::ReleaseSeed;
use crate::source::ChartSource;
use crate::AddonError;

/// An add-on as a composite declares it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddOn {
    /// The release name, unique in its namespace.
    pub name: String,
    pub namespace: String,
    pub source: ChartSource,
    /// YAML documents merged in order (the add-on's own, built from typed inputs, then the
    /// user's escape hatch).
    pub values: Vec<String>,
    /// Helm `--set` arguments, applied last.
    pub sets: Vec<String>,
    pub include_crds: bool,
    /// Objects applied after the chart is healthy and `readiness` passes (a ClusterIssuer,
    /// policies, dashboards).
    pub extra_manifests: Vec<Value>,
    pub readiness: Option<Readiness>,
    /// Names of add-ons of the same stack that must be in place first.
    pub depends_on: Vec<String>,
}

impl AddOn {
    /// The add-on with its chart pinned at the version and digest it resolves to now: what a
    /// plan records, so that the apply installs exactly that.
    pub async fn pinned(&self, fetcher: &Fetcher) -> Result<AddOn, AddonError> {
        let resolved = self.source.resolve(fetcher).await?;
        let mut source = ChartSource { digest: resolved.digest, ..self.source.clone() };
        // A local chart is what its path holds; only a repository resolves versions.
        if source.repository.is_some() {
            source.version = resolved.version;
        }
        Ok(AddOn { source, ..self.clone() })
    }
}

/// Proof that an add-on serves, where its objects' health is not enough.
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    /// A server-side dry-run create of this object is accepted: an admission webhook that
    /// must see it answers.
    DryRunCreate(Value),
}

/// An add-on fetched, rendered and placed: what a plan shows and an apply installs.
#[derive(Debug)]
pub struct Prepared {
    pub version: String,
    /// `sha256:<hex>` of the chart archive, or of a chart directory's content.
    pub digest: Option<String>,
    /// Something vouched for the archive (a pin, an index or registry digest).
    pub verified: bool,
    pub rendered: render::Release,
    /// The objects placed, in the order of `rendered.objects`; `None` when a kind needs a
    /// cluster that cannot be asked yet.
    pub manifests: Option<Vec<Manifest>>,
}

impl Prepared {
    /// Whether the digest of `manifests[index]` depends on the seed: its template drew random
    /// values, or it is a Secret (whose digest the seed keys).
    pub fn seeded(&self, index: usize) -> bool {
        let random = self.rendered.objects.get(index).is_some_and(|r| r.random);
        random || self.manifests.as_ref().and_then(|m| m.get(index)).is_some_and(|m| crate::seed::is_secret(&m.key))
    }
}

/// What an add-on is prepared with: the release's seed (`None` before install: random
/// objects then differ from what install will make), revision and cluster.
pub struct Context<'a> {
    pub fetcher: &'a Fetcher,
    pub seed: Option<&'a ReleaseSeed>,
    pub revision: i64,
    pub capabilities: Option<Capabilities>,
}

/// Fetches, renders and places an add-on's chart, everything before the first write: a
/// chart that fails to render touches nothing.
pub async fn prepare(addon: &AddOn, context: Context<'_>, session: Option<&mut Session>) -> Result<Prepared, AddonError> {
    let resolved = addon.source.resolve(context.fetcher).await?;
    let inputs = Inputs {
        release: addon.name.clone(),
        namespace: addon.namespace.clone(),
        values: addon.values.clone(),
        sets: addon.sets.clone(),
        include_crds: addon.include_crds,
        revision: context.revision,
        seed: context.seed.map(ReleaseSeed::render_seed),
        capabilities: context.capabilities,
        // Templates read the cluster the release goes into, when there is one to ask.
        cluster: session.as_deref().map(|s| crate::lookup::live(s.discovery.client().clone())).unwrap_or_default(),
    };
    let rendered = render::chart(&resolved.chart, &inputs)?;
    let placed = match session {
        Some(session) => session.place(rendered.bodies()).await.map(Some),
        None => place_offline(rendered.bodies(), &addon.namespace).await,
    };
    // An object the cluster cannot take is named by the template that made it.
    let source = |document: usize| rendered.objects.get(document).map(|o| o.source.clone()).unwrap_or_default();
    let mut manifests = placed.map_err(|e| match e {
        ReleaseError::Document { document, message } => AddonError::Render(format!("{}: {message}", source(document))),
        ReleaseError::UnservedKind { document, api_version, kind } => {
            AddonError::Unserved { template: source(document), api_version, kind }
        }
        other => AddonError::Release(other),
    })?;
    if let (Some(seed), Some(manifests)) = (context.seed, manifests.as_mut()) {
        seed.key_secret_digests(manifests);
    }
    Ok(Prepared { version: resolved.version, digest: resolved.digest, verified: resolved.verified, rendered, manifests })
}
