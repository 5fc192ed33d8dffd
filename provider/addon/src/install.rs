//! One add-on's chart release installed, upgraded, rendered again as it was, and uninstalled
//! with its hooks: the steps an apply takes with a release, shared by `aqemia_chart` and every
//! add-on of a stack.

use aqemia_helm::source::Fetcher;
use aqemia_release::engine::{Failure, Installed, Options, ReleaseError};
use aqemia_release::inventory::Inventory;
use aqemia_release::manifest::Manifest;
use aqemia_release::object::ObjectKey;
use tokio_util::sync::CancellationToken;

use crate::addon::{self, AddOn, Context, Prepared};
use crate::hooks::Event;
use crate::release::{renders_as_recorded, Previous, Session};
use crate::render::Capabilities;
use crate::seed::ReleaseSeed;
use crate::AddonError;

/// A release as it was installed: enough to render it again, object for object.
#[derive(Debug, Clone)]
pub struct Installation {
    /// Pinned at the version and digest that were installed.
    pub addon: AddOn,
    pub revision: i64,
    /// `None` where none was kept: random values then render differently.
    pub seed: Option<ReleaseSeed>,
    /// Whether the release ran its chart's hooks.
    pub hooks: bool,
    /// The objects it owns, as last recorded.
    pub inventory: Inventory,
}

/// Why a release cannot be rendered as it was installed.
#[derive(Debug)]
pub enum Unrenderable {
    /// A local chart (directory or archive) that changed in place since: named.
    Changed(String),
    Failed(AddonError),
}

impl std::fmt::Display for Unrenderable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unrenderable::Changed(chart) => f.write_str(&changed_in_place(chart)),
            Unrenderable::Failed(error) => error.fmt(f),
        }
    }
}

impl From<Unrenderable> for AddonError {
    fn from(error: Unrenderable) -> Self {
        match error {
            Unrenderable::Failed(error) => error,
            changed => AddonError::Source(changed.to_string()),
        }
    }
}

/// What a local chart changed in place since its release was installed means for the release.
pub fn changed_in_place(chart: &str) -> String {
    format!("{chart} changed since the release was installed, and keeps no copy of what was installed")
}

/// The release rendered exactly as installed: its chart at the installed version and digest,
/// its seed and revision, with `capabilities` (the cluster's, when it answers).
pub async fn render_installed(
    fetcher: &Fetcher,
    installation: &Installation,
    capabilities: Option<Capabilities>,
    session: &mut Session,
) -> Result<Prepared, Unrenderable> {
    let context = Context { fetcher, seed: installation.seed.as_ref(), revision: installation.revision, capabilities };
    match addon::prepare(&installation.addon, context, Some(session)).await {
        Err(AddonError::DigestMismatch { .. }) if installation.addon.source.repository.is_none() => {
            Err(Unrenderable::Changed(installation.addon.source.chart.clone()))
        }
        other => other.map_err(Unrenderable::Failed),
    }
}

/// The release rendered exactly as installed, against the capabilities the cluster has now.
pub async fn render_in_cluster(fetcher: &Fetcher, installation: &Installation, session: &mut Session) -> Result<Prepared, Unrenderable> {
    let capabilities = session.capabilities().await.map_err(|e| Unrenderable::Failed(e.into()))?;
    render_installed(fetcher, installation, Some(capabilities), session).await
}

/// The release's inventory as the cluster has it now (see `Session::refresh`), against the
/// release rendered as installed. A local chart changed in place is not compared: its edits
/// would read as drift.
pub async fn refresh(session: &mut Session, fetcher: &Fetcher, installation: &Installation) -> Result<Inventory, Unrenderable> {
    let prepared = render_in_cluster(fetcher, installation, session).await?;
    let manifests = prepared.manifests.unwrap_or_default();
    session.refresh(&manifests, &installation.inventory).await.map_err(|e| Unrenderable::Failed(e.into()))
}

/// What a rollback of an upgrade from `installation` returns to: its objects, rendered again,
/// and its hooks when it ran them. A release that cannot be rendered as it was any more only
/// costs the rollback, and the failure of an upgrade says why it was not rolled back.
pub async fn previous(
    fetcher: &Fetcher,
    installation: &Installation,
    capabilities: Option<Capabilities>,
    session: &mut Session,
) -> Previous {
    match render_installed(fetcher, installation, capabilities, session).await {
        Ok(prepared) => {
            let manifests = prepared.manifests.unwrap_or_default();
            if !renders_as_recorded(&manifests, &installation.inventory) {
                return Previous::unavailable(format!(
                    "rendered again, {} no longer gives the objects of the previous release (its templates depend on \
                     something that changed since, such as the cluster's version or APIs)",
                    installation.addon.source.chart
                ));
            }
            let hooks = if installation.hooks { prepared.rendered.hooks } else { Vec::new() };
            Previous { manifests, hooks, unavailable: None }
        }
        Err(Unrenderable::Changed(chart)) => Previous::unavailable(changed_in_place(&chart)),
        Err(Unrenderable::Failed(e)) => Previous::unavailable(format!("the previous release could not be rendered again: {e}")),
    }
}

/// What an apply installs.
pub struct Target<'a> {
    /// Pinned at the version and digest the plan resolved.
    pub addon: &'a AddOn,
    pub revision: i64,
    pub seed: &'a ReleaseSeed,
    pub hooks: bool,
    pub create_namespace: bool,
    /// The capabilities the plan rendered with, so the apply makes the objects it showed;
    /// asked of the cluster when `None`.
    pub capabilities: Option<Capabilities>,
}

/// What an apply upgrades from.
pub enum Prior<'a> {
    /// Nothing: a first install.
    Nothing,
    /// A release aqemia installed: an upgrade that does not become healthy returns to it.
    Installed(&'a Installation),
    /// Objects another tool installed (a Helm release being taken over), listed in `inventory`:
    /// nothing to return to, for the reason given.
    Foreign { inventory: &'a Inventory, why: String },
}

/// Renders and installs (or upgrades to) `target`, with its hooks. Everything renders before
/// the first write, so a chart that fails to render touches nothing. The failure carries what
/// exists, for the caller to record.
pub async fn install(
    session: &mut Session,
    fetcher: &Fetcher,
    target: Target<'_>,
    prior: Prior<'_>,
    options: &Options,
    cancel: &CancellationToken,
) -> Result<Installed, Failure> {
    let recorded = match &prior {
        Prior::Nothing => Inventory::new(),
        Prior::Installed(installation) => installation.inventory.clone(),
        Prior::Foreign { inventory, .. } => (*inventory).clone(),
    };
    let early = |error: ReleaseError| Failure { inventory: recorded.clone(), error, rolled_back: false };
    if target.create_namespace {
        session.ensure_namespace().await.map_err(early)?;
    }
    let capabilities = match target.capabilities {
        Some(planned) => planned,
        None => session.capabilities().await.map_err(early)?,
    };
    let context = || Context { fetcher, seed: Some(target.seed), revision: target.revision, capabilities: Some(capabilities.clone()) };
    let prepared = addon::prepare(target.addon, context(), Some(session)).await.map_err(|e| early(e.into()))?;
    // The prior release, for a rollback if the upgrade does not become healthy.
    let (previous, upgrade) = match prior {
        Prior::Nothing => (Previous::default(), false),
        Prior::Installed(installation) => (self::previous(fetcher, installation, Some(capabilities.clone()), session).await, true),
        Prior::Foreign { why, .. } => (Previous::unavailable(why), true),
    };
    let (before, after) = if upgrade { (Event::PreUpgrade, Event::PostUpgrade) } else { (Event::PreInstall, Event::PostInstall) };
    let hooks = &prepared.rendered.hooks;
    if target.hooks {
        session.run_hooks(hooks, before, options.deadline, cancel).await.map_err(early)?;
    }
    let manifests = prepared.manifests.unwrap_or_default();
    let mut installed = session.install(manifests.clone(), &previous, &recorded, options, cancel).await?;
    // A template that reads the cluster can render otherwise once the release's own objects
    // exist: a chart that generates a password when `lookup` finds no Secret, and reuses the
    // Secret's from then on, checksums a different text on the next render. Rendered again
    // and the objects that differ applied, as `helm upgrade` would, so that the next plan
    // finds the release as it renders. Only templates that drew randomness or read the
    // cluster can differ; one pass, so a template that reads something ever-changing cannot
    // loop.
    if prepared.rendered.objects.iter().any(|object| object.random) {
        let again = addon::prepare(target.addon, context(), Some(session)).await;
        let again = again.map_err(|e| Failure { inventory: installed.inventory.clone(), error: e.into(), rolled_back: false })?;
        installed = converge(session, again.manifests.unwrap_or_default(), manifests, installed, options, cancel).await?;
    }
    if target.hooks {
        if let Err(error) = session.run_hooks(hooks, after, options.deadline, cancel).await {
            return Err(Failure { inventory: installed.inventory, error, rolled_back: false });
        }
    }
    Ok(installed)
}

/// Applies the objects of `again`, a second render, that differ from what `installed` holds,
/// the first render's objects being what they return to. The same objects with other digests
/// are applied alone; objects added or gone make it a whole install.
async fn converge(
    session: &mut Session,
    again: Vec<Manifest>,
    first: Vec<Manifest>,
    installed: Installed,
    options: &Options,
    cancel: &CancellationToken,
) -> Result<Installed, Failure> {
    let changed: Vec<Manifest> = again.iter().filter(|m| installed.inventory.get(&m.key) != Some(&m.digest)).cloned().collect();
    if changed.is_empty() {
        return Ok(installed);
    }
    let first = Previous { manifests: first, ..Previous::default() };
    let same_objects = again.len() == installed.inventory.len() && again.iter().all(|m| installed.inventory.contains_key(&m.key));
    if !same_objects {
        return session.install(again, &first, &installed.inventory, options, cancel).await;
    }
    // Without pruning, the engine keeps the rest of the release; its inventory, in state and
    // in the cluster, is the whole release with the new digests.
    let mut inventory = installed.inventory;
    let partial = Options { prune: false, ..options.clone() };
    let applied = session.install(changed, &first, &inventory, &partial, cancel).await?;
    inventory.extend(applied.inventory);
    if let Err(e) = session.id.store(session.discovery.client(), &inventory).await {
        return Err(Failure { inventory, error: e.into(), rolled_back: false });
    }
    Ok(Installed { inventory, kept: installed.kept })
}

/// What an uninstall did.
#[derive(Debug, Default)]
pub struct Uninstalled {
    /// Protected objects left in place (CRDs, claims).
    pub kept: Vec<ObjectKey>,
    /// Why the delete hooks were not run: the release could not be rendered again to find them.
    pub hooks_not_run: Option<String>,
}

/// Deletes every object of the release and its records, with its `pre-delete` and
/// `post-delete` hooks when it runs hooks. The hooks come from rendering the release again,
/// as it was installed; a release that cannot be rendered any more is still uninstalled.
pub async fn uninstall(
    session: &mut Session,
    fetcher: &Fetcher,
    installation: &Installation,
    options: &Options,
    cancel: &CancellationToken,
) -> Result<Uninstalled, ReleaseError> {
    let mut uninstalled = Uninstalled::default();
    let mut hooks = Vec::new();
    if installation.hooks {
        match render_in_cluster(fetcher, installation, session).await {
            Ok(prepared) => hooks = prepared.rendered.hooks,
            Err(why) => uninstalled.hooks_not_run = Some(why.to_string()),
        }
    }
    session
        .run_hooks(&hooks, Event::PreDelete, options.deadline, cancel)
        .await
        .map_err(|e| anyhow::anyhow!("{e}\n\nNothing was deleted."))?;
    uninstalled.kept = session.uninstall(&installation.inventory, options, cancel).await?;
    session.run_hooks(&hooks, Event::PostDelete, options.deadline, cancel).await?;
    Ok(uninstalled)
}
