//! A release from documents to a healthy set of objects, and back: install or upgrade in
//! stages, prune what left, read drift, uninstall.

use std::collections::BTreeMap;

use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::concurrently;
use crate::discovery::{Discovery, DiscoveryError, Resolved};

use super::apply::{self, api_for, ApplyError, Forcing};
use super::inventory::{is_protected, Inventory, ReleaseId};
use super::manifest::{self, BuiltinScopes, Chain, KnownScopes, Manifest, Scopes as _};
use super::object::ObjectKey;
use super::order::{self, Stage};
use super::wait::{self, WaitError, Watched};

/// How an install or upgrade behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Wait for each stage to be healthy before the next (CRDs are always waited for).
    pub wait: bool,
    /// Delete objects that left the release.
    pub prune: bool,
    /// Which fields to take from other field managers even though this release never set them.
    pub forcing: Forcing,
    /// Also delete CRDs and PersistentVolumeClaims.
    pub delete_protected: bool,
    pub deadline: Instant,
}

/// What went wrong, and what exists now: the caller records `inventory` in state whatever
/// happened, so nothing created is lost.
#[derive(Debug)]
pub struct Failure {
    pub inventory: Inventory,
    pub error: ReleaseError,
    /// An upgrade that failed health and was rolled back: the cluster holds the previous
    /// object set again.
    pub rolled_back: bool,
}

impl Failure {
    /// The new objects were written but did not become healthy: what an upgrade rolls back
    /// from (a refused write changed nothing to go back from).
    pub fn is_unhealthy(&self) -> bool {
        matches!(self.error, ReleaseError::Wait(_))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("documents[{document}]: {message}")]
    Document { document: usize, message: String },
    /// A kind the cluster does not serve (yet) and no CRD of the release defines.
    #[error("documents[{document}]: the cluster serves no kind {kind} in {api_version}, and no CustomResourceDefinition in this release defines it")]
    UnservedKind { document: usize, api_version: String, kind: String },
    #[error("{0}")]
    Apply(#[from] ApplyError),
    #[error("{0}")]
    Wait(#[from] WaitError),
    #[error("{0}")]
    Other(#[from] anyhow::Error),
}

impl From<DiscoveryError> for ReleaseError {
    fn from(e: DiscoveryError) -> Self {
        ReleaseError::Other(anyhow::Error::new(e))
    }
}

/// The outcome of a successful install or upgrade.
#[derive(Debug, Default)]
pub struct Installed {
    pub inventory: Inventory,
    /// Protected objects that left the release and were kept.
    pub kept: Vec<ObjectKey>,
}

/// The manifests of `bodies` (each with the index of the document it came from), placed with
/// what is known without a cluster (built-in kinds, the release's own CRDs) and then with
/// `discovery` when one is given. `Ok(None)` when some kind can only be placed by a cluster
/// that cannot be asked yet.
pub async fn resolve_manifests(
    bodies: Vec<(usize, Value)>,
    default_namespace: &str,
    discovery: Option<&mut Discovery>,
) -> Result<Option<Vec<Manifest>>, ReleaseError> {
    let crds = KnownScopes::from_crds(bodies.iter().map(|(_, b)| b));
    let mut discovered = KnownScopes::default();
    if let Some(discovery) = discovery {
        for (document, body) in &bodies {
            let api_version = body.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
            let kind = body.get("kind").and_then(Value::as_str).unwrap_or_default();
            let group = crate::api::group_of(api_version);
            let known = Chain(vec![&BuiltinScopes, &crds, &discovered]).namespaced(group, kind).is_some();
            // Malformed bodies are reported by `manifests` below, with their document.
            if known || api_version.is_empty() || kind.is_empty() {
                continue;
            }
            match discovery.resolve(api_version, kind).await {
                Ok(resolved) => {
                    discovered.0.insert((group.to_string(), kind.to_string()), resolved.namespaced);
                }
                Err(DiscoveryError::NoSuchKind { .. }) => {
                    return Err(ReleaseError::UnservedKind { document: *document, api_version: api_version.into(), kind: kind.into() })
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let placed =
        manifest::manifests(bodies, default_namespace, &Chain(vec![&BuiltinScopes, &crds, &discovered])).map_err(document_error)?;
    Ok(placed.into_iter().collect())
}

fn document_error(e: manifest::DocumentError) -> ReleaseError {
    ReleaseError::Document { document: e.document, message: e.message }
}

/// The inventory a set of manifests makes: what plans show.
pub fn inventory_of(manifests: &[Manifest]) -> Inventory {
    manifests.iter().map(|m| (m.key.clone(), m.digest.clone())).collect()
}

/// Installs or upgrades. `previous` holds what this release applied before (its bodies decide
/// which conflicting fields are ours to force).
pub async fn install(
    discovery: &mut Discovery,
    id: &ReleaseId,
    mut manifests: Vec<Manifest>,
    previous: &BTreeMap<ObjectKey, Manifest>,
    previous_inventory: &Inventory,
    options: &Options,
    cancel: &CancellationToken,
) -> Result<Installed, Failure> {
    let client = discovery.client().clone();
    // Everything this release may own: state, the cluster's record, and the new set.
    let mut recorded = previous_inventory.clone();
    let in_cluster = id.load(&client).await.map_err(|e| Failure { inventory: recorded.clone(), error: e.into(), rolled_back: false })?;
    recorded.extend(in_cluster);
    let planned = inventory_of(&manifests);
    let mut claimed = recorded.clone();
    claimed.extend(planned.clone());
    // Best effort now (the namespace may be part of the release), again after the first stage.
    let _ = id.store(&client, &claimed).await;

    order::sort_for_apply(&mut manifests, |m| &m.key);
    let mut installed = Installed::default();
    let mut applied = recorded.clone();
    let fail = |applied: &Inventory, error: ReleaseError| Failure { inventory: applied.clone(), error, rolled_back: false };
    for (stage, batch) in order::stages(&manifests, |m| &m.key) {
        let mut watched = Vec::new();
        for manifest in batch {
            let resolved = resolve_for_apply(discovery, manifest, options.deadline).await.map_err(|e| fail(&applied, e))?;
            let api = api_for(&client, &resolved, &manifest.key);
            let mut body = manifest.body.clone();
            id.stamp_object(&mut body);
            let before = previous.get(&manifest.key).map(|m| &m.body);
            apply::apply(&api, &manifest.key, &body, before, &options.forcing, apply::Mode::Commit)
                .await
                .map_err(|e| fail(&applied, e.into()))?;
            applied.insert(manifest.key.clone(), manifest.digest.clone());
            watched.push(Watched { key: manifest.key.clone(), api });
        }
        if stage == Stage::Foundation {
            id.store(&client, &claimed).await.map_err(|e| fail(&applied, e.into()))?;
            // Custom resources need their CRDs served: wait, then ask discovery afresh.
            let crds: Vec<Watched> = watched.iter().filter(|w| is_crd(&w.key)).cloned().collect();
            wait::until_healthy(&crds, options.deadline, cancel).await.map_err(|e| fail(&applied, e.into()))?;
            for manifest in batch.iter().filter(|m| is_crd(&m.key)) {
                if let Some(group) = manifest.body.pointer("/spec/group").and_then(Value::as_str) {
                    discovery.forget_group(group);
                }
            }
        }
        if options.wait {
            wait::until_healthy(&watched, options.deadline, cancel).await.map_err(|e| fail(&applied, e.into()))?;
            if stage == Stage::Webhooks {
                let configurations: Vec<&Value> = batch.iter().map(|m| &m.body).collect();
                let services = wait::webhook_services(&configurations);
                wait::until_services_have_endpoints(&client, &services, options.deadline, cancel)
                    .await
                    .map_err(|e| fail(&applied, e.into()))?;
            }
        }
    }

    // Objects that left the release.
    let stale: Vec<ObjectKey> = recorded.keys().filter(|k| !planned.contains_key(*k)).cloned().collect();
    if options.prune {
        // On failure the stale objects stay in the inventory, so the next apply prunes again.
        installed.kept = delete_objects(discovery, id, stale, options, cancel, false).await.map_err(|e| fail(&applied, e))?;
    }
    id.store(&client, &planned).await.map_err(|e| fail(&planned, e.into()))?;
    installed.inventory = planned;
    Ok(installed)
}

/// After `failure` of an upgrade to `attempted`: the previous object set applied again
/// (without waiting: it was healthy before) and the new objects that were not part of it
/// pruned. Returns the failure to report, with what exists now.
pub async fn roll_back(
    discovery: &mut Discovery,
    id: &ReleaseId,
    failure: Failure,
    attempted: &BTreeMap<ObjectKey, Manifest>,
    previous: &BTreeMap<ObjectKey, Manifest>,
    options: &Options,
    cancel: &CancellationToken,
) -> Failure {
    let back: Vec<Manifest> = previous.values().cloned().collect();
    let rollback = Options { wait: false, prune: true, ..options.clone() };
    match install(discovery, id, back, attempted, &failure.inventory, &rollback, cancel).await {
        Ok(restored) => Failure { inventory: restored.inventory, error: failure.error, rolled_back: true },
        Err(second) => Failure {
            inventory: second.inventory,
            error: anyhow::anyhow!("{}; rolling back to the previous objects failed too: {}", failure.error, second.error).into(),
            rolled_back: false,
        },
    }
}

fn is_crd(key: &ObjectKey) -> bool {
    key.group == "apiextensions.k8s.io" && key.kind == "CustomResourceDefinition"
}

/// Discovery for an object about to be applied. Right after its CRD is established a kind
/// can take a moment to appear in discovery: retried until the deadline.
async fn resolve_for_apply(discovery: &mut Discovery, manifest: &Manifest, deadline: Instant) -> Result<Resolved, ReleaseError> {
    loop {
        match discovery.resolve(&manifest.api_version, &manifest.key.kind).await {
            Ok(resolved) => return Ok(resolved),
            Err(DiscoveryError::NoSuchKind { .. }) if Instant::now() + std::time::Duration::from_secs(1) < deadline => {
                discovery.forget_group(&manifest.key.group);
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            Err(e) => {
                return Err(ApplyError::Rejected { key: manifest.key.clone(), message: e.to_string() }.into());
            }
        }
    }
}

/// Deletes `keys` (protected kinds only when asked), in uninstall order, each only if it
/// carries this release's stamp. With `wait_gone`, waits until finalizers are done.
/// Returns what was kept.
pub async fn delete_objects(
    discovery: &mut Discovery,
    id: &ReleaseId,
    mut keys: Vec<ObjectKey>,
    options: &Options,
    cancel: &CancellationToken,
    wait_gone: bool,
) -> Result<Vec<ObjectKey>, ReleaseError> {
    order::sort_for_delete(&mut keys, |k| k);
    let client = discovery.client().clone();
    let (mut kept, mut watched) = (Vec::new(), Vec::new());
    for key in keys {
        if is_protected(&key) && !options.delete_protected {
            kept.push(key);
            continue;
        }
        let resolved = match discovery.resolve_group_kind(&key.group, &key.kind).await {
            Ok(resolved) => resolved,
            // The kind is gone (its CRD was deleted): so are its objects.
            Err(DiscoveryError::NoSuchKind { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        let api = api_for(&client, &resolved, &key);
        match apply::get(&api, &key).await? {
            Some(live) if id.owns(&live) => {
                apply::delete(&api, &key).await?;
                watched.push(Watched { key, api });
            }
            // Gone already, or no longer ours: leave it.
            _ => {}
        }
    }
    if wait_gone {
        wait::until_deleted(&watched, options.deadline, cancel).await?;
    }
    Ok(kept)
}

/// Uninstalls: every object in reverse order, waiting for finalizers, then the inventory.
pub async fn uninstall(
    discovery: &mut Discovery,
    id: &ReleaseId,
    inventory: &Inventory,
    options: &Options,
    cancel: &CancellationToken,
) -> Result<Vec<ObjectKey>, ReleaseError> {
    let mut keys: Vec<ObjectKey> = inventory.keys().cloned().collect();
    keys.extend(id.load(discovery.client()).await?.into_keys().filter(|k| !inventory.contains_key(k)));
    let kept = delete_objects(discovery, id, keys, options, cancel, true).await?;
    id.remove(discovery.client()).await?;
    Ok(kept)
}

/// A plan's look ahead: a server-side dry run of each object in `manifests`, so that what
/// the API server would reject or what would conflict fails the plan, not the apply. Custom
/// resources whose CRD is not served yet (it may come with the release) are skipped.
pub async fn preview(
    discovery: &mut Discovery,
    id: &ReleaseId,
    manifests: &[&Manifest],
    previous: &BTreeMap<ObjectKey, Manifest>,
    forcing: &Forcing,
) -> Result<(), ReleaseError> {
    // Owned inputs: the tasks run concurrently and outlive no borrow.
    let items: Vec<(Target, Option<Value>, bool)> = targets(discovery, id, manifests.iter().copied())
        .await?
        .into_iter()
        .flatten()
        .map(|target| {
            let before = previous.get(&target.key).map(|m| m.body.clone());
            let namespace_comes_with_release = creates_namespace(manifests, &target.key.namespace);
            (target, before, namespace_comes_with_release)
        })
        .collect();
    let results = concurrently(items.into_iter(), move |(target, before, namespace_comes_with_release)| async move {
        let dry = apply::apply(&target.api, &target.key, &target.body, before.as_ref(), forcing, apply::Mode::DryRun).await;
        match dry {
            // Its namespace comes with the release: nothing to ask the server yet.
            Err(ApplyError::Rejected { .. }) if namespace_comes_with_release => Ok(()),
            other => other,
        }
    })
    .await;
    results.into_iter().collect::<Result<(), ApplyError>>().map_err(ReleaseError::from)
}

/// An object's API and its body as applied (stamped with the release).
struct Target {
    key: ObjectKey,
    api: kube::api::Api<kube::api::DynamicObject>,
    body: Value,
}

/// The target of each manifest, `None` where its kind is not served (yet).
async fn targets<'m>(
    discovery: &mut Discovery,
    id: &ReleaseId,
    manifests: impl Iterator<Item = &'m Manifest>,
) -> Result<Vec<Option<Target>>, ReleaseError> {
    let client = discovery.client().clone();
    let mut out = Vec::new();
    for manifest in manifests {
        let target = match discovery.resolve(&manifest.api_version, &manifest.key.kind).await {
            Ok(resolved) => {
                let mut body = manifest.body.clone();
                id.stamp_object(&mut body);
                Some(Target { key: manifest.key.clone(), api: api_for(&client, &resolved, &manifest.key), body })
            }
            Err(DiscoveryError::NoSuchKind { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        out.push(target);
    }
    Ok(out)
}

fn creates_namespace(manifests: &[&Manifest], namespace: &str) -> bool {
    !namespace.is_empty() && manifests.iter().any(|m| m.key.group.is_empty() && m.key.kind == "Namespace" && m.key.name == namespace)
}

/// What drift refresh found for one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// As applied.
    InSync,
    /// Changed in the cluster since; the text says by whom and where.
    Drifted(String),
    /// Deleted from the cluster.
    Missing,
}

/// Compares each object of `manifests` in the cluster with what this release would make of
/// it (a server-side dry run), so server defaults are not mistaken for drift.
pub async fn observe(
    discovery: &mut Discovery,
    id: &ReleaseId,
    manifests: &[Manifest],
) -> Result<BTreeMap<ObjectKey, Observed>, ReleaseError> {
    let keys: Vec<ObjectKey> = manifests.iter().map(|m| m.key.clone()).collect();
    let targets = targets(discovery, id, manifests.iter()).await?;
    let results = concurrently(keys.into_iter().zip(targets), |(key, target)| async move {
        let Some(target) = target else { return Ok((key, Observed::Missing)) };
        let Some(live) = apply::get(&target.api, &key).await? else { return Ok((key, Observed::Missing)) };
        let wanted = apply::dry_run(&target.api, &key, &target.body).await?;
        let changed = changed_paths(&apply::comparable(&wanted), &apply::comparable(&live));
        let observed = if changed.is_empty() { Observed::InSync } else { Observed::Drifted(explain_drift(&live, &changed)) };
        Ok::<_, ReleaseError>((key, observed))
    })
    .await;
    results.into_iter().collect()
}

/// "changed by kubectl-edit: .spec.replicas": the most recent other writer of a changed
/// field (by managed fields), and where.
fn explain_drift(live: &Value, changed: &[Vec<String>]) -> String {
    let writers = live.pointer("/metadata/managedFields").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let culprit = writers
        .iter()
        .filter(|w| w.get("manager").and_then(Value::as_str) != Some(apply::FIELD_MANAGER))
        .filter(|w| w.get("subresource").and_then(Value::as_str) != Some("status"))
        .filter(|w| w.get("fieldsV1").is_some_and(|fields| changed.iter().any(|path| fields_cover(fields, path))))
        .max_by_key(|w| w.get("time").and_then(Value::as_str).unwrap_or_default().to_string());
    let shown: Vec<String> = changed.iter().take(3).map(|p| render(p)).collect();
    let more = if changed.len() > 3 { format!(" and {} more", changed.len() - 3) } else { String::new() };
    match culprit.and_then(|w| w.get("manager")).and_then(Value::as_str) {
        Some(manager) => format!("drifted: changed by {manager}: {}{more}", shown.join(", ")),
        None => format!("drifted: {}{more}", shown.join(", ")),
    }
}

/// Whether a managed-fields set (`{"f:spec": {"f:replicas": {}}}`) holds `path`. List
/// items are keyed by content there, not by index: a set that reaches the list holds it.
fn fields_cover(fields: &Value, path: &[String]) -> bool {
    let mut current = fields;
    for segment in path {
        if segment.starts_with('[') {
            return true;
        }
        match current.get(format!("f:{segment}")) {
            Some(next) => current = next,
            None => return false,
        }
    }
    true
}

/// `.spec.template.ports[1]`
fn render(path: &[String]) -> String {
    if path.is_empty() {
        return ".".into();
    }
    path.iter().map(|s| if s.starts_with('[') { s.clone() } else { format!(".{s}") }).collect()
}

/// Where `want` and `live` differ, as paths of keys and `[index]` segments.
pub fn changed_paths(want: &Value, live: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    diff(want, live, &mut Vec::new(), &mut out);
    out
}

fn diff(want: &Value, live: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match (want, live) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                path.push(key.clone());
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff(x, y, path, out),
                    _ => out.push(path.clone()),
                }
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                path.push(format!("[{i}]"));
                diff(x, y, path, out);
                path.pop();
            }
        }
        (a, b) if a == b => {}
        _ => out.push(path.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drift_paths_and_the_writer_who_made_them() {
        let want = json!({"spec": {"replicas": 2, "template": {"ports": [80, 443]}}, "metadata": {"name": "a"}});
        let live = json!({"spec": {"replicas": 5, "template": {"ports": [80, 8443]}, "paused": true}, "metadata": {"name": "a",
        "managedFields": [
            {"manager": "aqemia", "operation": "Apply", "time": "2026-11-30T10:00:00Z", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status", "time": "2026-11-30T10:05:00Z",
             "fieldsV1": {"f:status": {}}},
            {"manager": "kube-controller-manager", "operation": "Update", "time": "2026-11-30T10:04:00Z",
             "fieldsV1": {"f:metadata": {"f:annotations": {}}}},
            {"manager": "kubectl", "operation": "Update", "subresource": "scale", "time": "2026-11-30T10:03:00Z",
             "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        ]}});
        let changed = changed_paths(&apply::comparable(&want), &apply::comparable(&live));
        let rendered: Vec<String> = changed.iter().map(|p| render(p)).collect();
        assert_eq!(rendered, [".spec.paused", ".spec.replicas", ".spec.template.ports[1]"]);
        assert_eq!(explain_drift(&live, &changed), "drifted: changed by kubectl: .spec.paused, .spec.replicas, .spec.template.ports[1]");
    }

    #[test]
    fn drift_without_a_known_writer_still_says_where() {
        let live = json!({"data": {"a": "2"}, "metadata": {"managedFields": []}});
        let changed = changed_paths(&apply::comparable(&json!({"data": {"a": "1"}, "metadata": {}})), &apply::comparable(&live));
        assert_eq!(explain_drift(&live, &changed), "drifted: .data.a");
    }
}
