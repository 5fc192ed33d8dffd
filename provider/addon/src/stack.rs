//! A stack: add-ons applied in dependency order, those that do not depend on each other side
//! by side, each its own release (inventory, version, digest, seed, revision and record in
//! the cluster). Ordering is pure and checked before anything is applied. An add-on's extra
//! manifests (a ClusterIssuer, policies, dashboards) are a release of their own, `NAME.extras`,
//! applied once the chart is healthy and its readiness probe is accepted: applied with the
//! chart, they would meet webhooks that do not answer yet. Uninstall runs in reverse.

use std::collections::{BTreeMap, BTreeSet};

use aqemia_helm::source::Fetcher;
use aqemia_release::engine::{self, Failure, Options, ReleaseError};
use aqemia_release::inventory::{Inventory, ReleaseId};
use aqemia_release::manifest::Manifest;
use aqemia_release::object::ObjectKey;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::addon::{self, AddOn, Readiness};
use crate::install::{self, Installation, Prior, Target};
use crate::release::{Previous, Session};
use crate::seed::ReleaseSeed;
use crate::AddonError;

/// One add-on of a stack, and what the state records of it.
#[derive(Debug, Clone)]
pub struct Member {
    /// As wanted: its chart pinned at the version and digest the plan resolved.
    pub addon: AddOn,
    /// As last applied; `None` before its first install.
    pub deployed: Option<Deployed>,
}

/// What a stack keeps of one add-on between applies.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// The chart release, its add-on pinned at what was installed.
    pub release: Installation,
    /// The objects of its extra manifests.
    pub extras: Inventory,
}

/// Where one add-on of an apply ended.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    /// What exists now, whatever happened, for the state; `None` when nothing was installed.
    pub deployed: Option<Deployed>,
    pub result: Result<Change, AddonError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Installed,
    /// Renders as recorded, objects in sync: nothing written, the revision kept.
    Unchanged,
}

/// What every add-on of a stack shares.
pub struct Stack<'a> {
    pub client: kube::Client,
    pub fetcher: &'a Fetcher,
    /// Run charts' hooks.
    pub hooks: bool,
    pub options: Options,
    pub cancel: &'a CancellationToken,
}

/// The release of an add-on's extra manifests: a name no chart release can have (release
/// names are DNS labels, without dots).
pub fn extras_id(addon: &AddOn) -> ReleaseId {
    ReleaseId { namespace: addon.namespace.clone(), name: format!("{}.extras", addon.name) }
}

/// Applies `members` wave by wave, each wave's add-ons concurrently. An add-on whose
/// dependency failed is not applied, and says which. Outcomes come in the order of `members`.
pub async fn apply(stack: &Stack<'_>, members: &[Member]) -> Result<Vec<Outcome>, AddonError> {
    let addons: Vec<AddOn> = members.iter().map(|m| m.addon.clone()).collect();
    let mut outcomes: BTreeMap<String, Outcome> = BTreeMap::new();
    for wave in waves(&addons)? {
        let mut runnable = Vec::new();
        for addon in wave {
            let member = members.iter().find(|m| m.addon.name == addon.name).expect("waves come from members");
            let failed = addon.depends_on.iter().find(|d| outcomes.get(*d).is_some_and(|o| o.result.is_err()));
            match failed {
                Some(dependency) => {
                    let error = AddonError::Stack(format!("{} not applied: it depends on {dependency}, which failed", addon.name));
                    outcomes.insert(
                        addon.name.clone(),
                        Outcome { name: addon.name.clone(), deployed: member.deployed.clone(), result: Err(error) },
                    );
                }
                None => runnable.push(member),
            }
        }
        for outcome in futures::future::join_all(runnable.into_iter().map(|m| apply_one(stack, m))).await {
            outcomes.insert(outcome.name.clone(), outcome);
        }
    }
    Ok(members.iter().filter_map(|m| outcomes.remove(&m.addon.name)).collect())
}

async fn apply_one(stack: &Stack<'_>, member: &Member) -> Outcome {
    let addon = &member.addon;
    let mut session = Session::new(stack.client.clone(), release_id(addon));
    let outcome = |deployed: Option<Deployed>, result| Outcome { name: addon.name.clone(), deployed, result };
    let prepared = async {
        session.ensure_namespace().await?;
        let capabilities = session.capabilities().await?;
        let seed = match member.deployed.as_ref().and_then(|d| d.release.seed) {
            Some(seed) => seed,
            None => ReleaseSeed::generate().map_err(|e| AddonError::Stack(format!("drawing the release's seed: {e}")))?,
        };
        Ok::<_, AddonError>((capabilities, seed))
    };
    let (capabilities, seed) = match prepared.await {
        Ok(prepared) => prepared,
        Err(e) => return outcome(member.deployed.clone(), Err(e)),
    };
    let mut extras_session = Session::new(stack.client.clone(), extras_id(addon));
    if let Some(deployed) = &member.deployed {
        match unchanged(stack, addon, deployed, &seed, capabilities.clone(), &mut session, &mut extras_session).await {
            Ok(true) => return outcome(member.deployed.clone(), Ok(Change::Unchanged)),
            Ok(false) => {}
            Err(e) => return outcome(member.deployed.clone(), Err(e)),
        }
    }
    let revision = member.deployed.as_ref().map_or(1, |d| d.release.revision + 1);
    let target = Target { addon, revision, seed: &seed, hooks: stack.hooks, create_namespace: false, capabilities: Some(capabilities) };
    let prior = match &member.deployed {
        Some(deployed) => Prior::Installed(&deployed.release),
        None => Prior::Nothing,
    };
    let previous_extras = member.deployed.as_ref().map(|d| d.extras.clone()).unwrap_or_default();
    let installation = |inventory| Installation { addon: addon.clone(), revision, seed: Some(seed), hooks: stack.hooks, inventory };
    let installed = install::install(&mut session, stack.fetcher, target, prior, &stack.options, stack.cancel).await;
    let release = match installed {
        Ok(installed) => installation(installed.inventory),
        Err(Failure { inventory, error, rolled_back }) => {
            let release = match (&member.deployed, rolled_back) {
                (Some(deployed), true) => Installation { inventory, ..deployed.release.clone() },
                // Refused before anything was written: still not installed.
                (None, _) if inventory.is_empty() => return outcome(None, Err(error.into())),
                _ => installation(inventory),
            };
            let error = match rolled_back {
                true => anyhow::anyhow!("{error}; rolled back to its previous objects").into(),
                false => error,
            };
            return outcome(Some(Deployed { release, extras: previous_extras }), Err(error.into()));
        }
    };
    let mut deployed = Deployed { release, extras: previous_extras };
    if let Some(Readiness::DryRunCreate(probe)) = &addon.readiness {
        let ready = crate::readiness::until_accepted(&mut session.discovery, probe, &addon.namespace, stack.options.deadline, stack.cancel);
        if let Err(e) = ready.await {
            return outcome(Some(deployed), Err(AddonError::Stack(format!("{} is installed but does not serve yet: {e}", addon.name))));
        }
    }
    if let Err(e) = apply_extras(stack, member, &mut deployed, &seed, &mut extras_session).await {
        return outcome(Some(deployed), Err(e));
    }
    if let Err(e) = crate::record::store(&stack.client, &session.id, &description(&deployed.release), &seed).await {
        return outcome(Some(deployed), Err(e.into()));
    }
    outcome(Some(deployed), Ok(Change::Installed))
}

/// Whether `addon` renders, at the deployed revision and seed, exactly what is deployed and
/// in sync (drift found at refresh is recorded in the inventory, so it counts as a change).
async fn unchanged(
    stack: &Stack<'_>,
    addon: &AddOn,
    deployed: &Deployed,
    seed: &ReleaseSeed,
    capabilities: crate::render::Capabilities,
    session: &mut Session,
    extras_session: &mut Session,
) -> Result<bool, AddonError> {
    if deployed.release.addon != *addon {
        return Ok(false);
    }
    let context =
        addon::Context { fetcher: stack.fetcher, seed: Some(seed), revision: deployed.release.revision, capabilities: Some(capabilities) };
    let prepared = addon::prepare(addon, context, Some(session)).await?;
    if prepared.manifests.as_deref().map(engine::inventory_of).as_ref() != Some(&deployed.release.inventory) {
        return Ok(false);
    }
    // Extras whose kinds are not served (their CRDs deleted by hand) are changed.
    let extras = place_extras(extras_session, addon, Some(seed)).await.ok();
    Ok(extras.as_deref().map(engine::inventory_of).as_ref() == Some(&deployed.extras))
}

/// The extras' release brought to `member`'s extra manifests, after the chart: installed,
/// upgraded, or uninstalled when there are none any more. `deployed.extras` follows.
async fn apply_extras(
    stack: &Stack<'_>,
    member: &Member,
    deployed: &mut Deployed,
    seed: &ReleaseSeed,
    session: &mut Session,
) -> Result<(), AddonError> {
    // Placed now: the chart may have just installed their CRDs.
    let extras = place_extras(session, &member.addon, Some(seed)).await?;
    if extras.is_empty() {
        if !deployed.extras.is_empty() {
            session.uninstall(&deployed.extras, &stack.options, stack.cancel).await?;
            deployed.extras = Inventory::new();
        }
        return Ok(());
    }
    // What the extras were before: the fields they set are theirs to take back from drift.
    let before = match &member.deployed {
        Some(prior) => place_extras(session, &prior.release.addon, Some(seed)).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let previous = Previous { manifests: before, ..Previous::default() };
    match session.install(extras, &previous, &deployed.extras, &stack.options, stack.cancel).await {
        Ok(installed) => {
            deployed.extras = installed.inventory;
            Ok(())
        }
        Err(failure) => {
            deployed.extras = failure.inventory;
            Err(AddonError::Release(failure.error))
        }
    }
}

/// The add-on's extra manifests placed by the cluster, their Secrets' digests keyed with its
/// seed.
async fn place_extras(session: &mut Session, addon: &AddOn, seed: Option<&ReleaseSeed>) -> Result<Vec<Manifest>, AddonError> {
    if addon.extra_manifests.is_empty() {
        return Ok(Vec::new());
    }
    let bodies = addon.extra_manifests.iter().cloned().enumerate().collect();
    let mut manifests = session.place(bodies).await.map_err(|e| match e {
        ReleaseError::Document { document, message } => AddonError::Stack(format!("{}: extra manifest {document}: {message}", addon.name)),
        ReleaseError::UnservedKind { document, api_version, kind } => AddonError::Stack(format!(
            "{}: extra manifest {document} is a {kind} of {api_version}, which the cluster does not serve, even with the chart installed",
            addon.name
        )),
        other => other.into(),
    })?;
    if let Some(seed) = seed {
        seed.key_secret_digests(&mut manifests);
    }
    Ok(manifests)
}

/// What the record of an add-on's release says of it: enough to tell what is installed.
fn description(release: &Installation) -> Value {
    let source = &release.addon.source;
    json!({
        "chart": source.chart,
        "repository": source.repository,
        "version": source.version,
        "digest": source.digest,
        "revision": release.revision,
    })
}

/// Each deployed add-on's objects as the cluster has them now (see `Session::refresh`),
/// add-ons side by side. An add-on that cannot be rendered as installed keeps its inventory,
/// and the reason comes back with it.
pub async fn refresh(client: &kube::Client, fetcher: &Fetcher, deployed: &[Deployed]) -> Vec<Result<Deployed, AddonError>> {
    futures::future::join_all(deployed.iter().map(|d| refresh_one(client, fetcher, d))).await
}

async fn refresh_one(client: &kube::Client, fetcher: &Fetcher, deployed: &Deployed) -> Result<Deployed, AddonError> {
    let addon = &deployed.release.addon;
    let mut session = Session::new(client.clone(), release_id(addon));
    let inventory = install::refresh(&mut session, fetcher, &deployed.release).await?;
    let mut extras_session = Session::new(client.clone(), extras_id(addon));
    let extras = place_extras(&mut extras_session, addon, deployed.release.seed.as_ref()).await?;
    let extras = extras_session.refresh(&extras, &deployed.extras).await?;
    Ok(Deployed { release: Installation { inventory, ..deployed.release.clone() }, extras })
}

/// Uninstalls the deployed add-ons in reverse dependency order, each wave's side by side:
/// extras first, then the chart with its delete hooks. Returns the protected objects kept.
/// The first failure stops the uninstall before the add-ons that the failed one depends on.
pub async fn uninstall(stack: &Stack<'_>, deployed: &[Deployed]) -> Result<Vec<ObjectKey>, AddonError> {
    // Dependencies on add-ons not being uninstalled order nothing.
    let present: BTreeSet<&str> = deployed.iter().map(|d| d.release.addon.name.as_str()).collect();
    let addons: Vec<AddOn> = deployed
        .iter()
        .map(|d| {
            let depends_on = d.release.addon.depends_on.iter().filter(|n| present.contains(n.as_str())).cloned().collect();
            AddOn { depends_on, ..d.release.addon.clone() }
        })
        .collect();
    let mut kept = Vec::new();
    for wave in waves(&addons)?.into_iter().rev() {
        let wave = wave.into_iter().filter_map(|addon| deployed.iter().find(|d| d.release.addon.name == addon.name));
        for result in futures::future::join_all(wave.map(|d| uninstall_one(stack, d))).await {
            kept.extend(result?);
        }
    }
    Ok(kept)
}

async fn uninstall_one(stack: &Stack<'_>, deployed: &Deployed) -> Result<Vec<ObjectKey>, AddonError> {
    let addon = &deployed.release.addon;
    let mut kept = Session::new(stack.client.clone(), extras_id(addon)).uninstall(&deployed.extras, &stack.options, stack.cancel).await?;
    let mut session = Session::new(stack.client.clone(), release_id(addon));
    kept.extend(install::uninstall(&mut session, stack.fetcher, &deployed.release, &stack.options, stack.cancel).await?.kept);
    Ok(kept)
}

/// The release of an add-on's chart.
pub fn release_id(addon: &AddOn) -> ReleaseId {
    ReleaseId { namespace: addon.namespace.clone(), name: addon.name.clone() }
}

/// The add-ons in waves: each wave depends only on earlier ones. Unknown dependencies and
/// cycles are refused, naming the add-ons.
pub fn waves(addons: &[AddOn]) -> Result<Vec<Vec<&AddOn>>, AddonError> {
    let by_name: BTreeMap<&str, &AddOn> = addons.iter().map(|a| (a.name.as_str(), a)).collect();
    if by_name.len() != addons.len() {
        return Err(AddonError::Stack("two add-ons of the stack have the same name".into()));
    }
    for addon in addons {
        if let Some(missing) = addon.depends_on.iter().find(|d| !by_name.contains_key(d.as_str())) {
            return Err(AddonError::Stack(format!("add-on {} depends on {missing}, which is not in the stack", addon.name)));
        }
    }
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    while placed.len() < addons.len() {
        let wave: Vec<&AddOn> = addons
            .iter()
            .filter(|a| !placed.contains(a.name.as_str()) && a.depends_on.iter().all(|d| placed.contains(d.as_str())))
            .collect();
        if wave.is_empty() {
            let stuck: Vec<&str> = addons.iter().map(|a| a.name.as_str()).filter(|n| !placed.contains(n)).collect();
            return Err(AddonError::Stack(format!("these add-ons depend on each other in a cycle: {}", stuck.join(", "))));
        }
        placed.extend(wave.iter().map(|a| a.name.as_str()));
        out.push(wave);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addon(name: &str, depends_on: &[&str]) -> AddOn {
        AddOn { name: name.into(), depends_on: depends_on.iter().map(|d| d.to_string()).collect(), ..AddOn::default() }
    }

    fn names(waves: Vec<Vec<&AddOn>>) -> Vec<Vec<&str>> {
        waves.into_iter().map(|w| w.into_iter().map(|a| a.name.as_str()).collect()).collect()
    }

    #[test]
    fn independent_add_ons_share_a_wave() {
        let stack = [
            addon("issuer", &["cert-manager"]),
            addon("cert-manager", &[]),
            addon("kyverno", &[]),
            addon("policies", &["kyverno", "issuer"]),
        ];
        assert_eq!(names(waves(&stack).unwrap()), [vec!["cert-manager", "kyverno"], vec!["issuer"], vec!["policies"]]);
    }

    #[test]
    fn cycles_and_unknown_dependencies_are_named() {
        let err = waves(&[addon("a", &["b"]), addon("b", &["a"]), addon("c", &[])]).unwrap_err();
        assert_eq!(err.to_string(), "these add-ons depend on each other in a cycle: a, b");
        let err = waves(&[addon("a", &["nope"])]).unwrap_err();
        assert_eq!(err.to_string(), "add-on a depends on nope, which is not in the stack");
    }
}
