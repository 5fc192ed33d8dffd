//! A release's conversation with its cluster, for any caller that has object bodies: place
//! them, preview them, install or upgrade them, read their drift, uninstall them. This is
//! what `aqemia_manifests`, `aqemia_chart` and every add-on of a stack share.

use std::collections::BTreeMap;

use aqemia_release::apply::Forcing;
use aqemia_release::discovery::Discovery;
use aqemia_release::engine::{self, Failure, Installed, Observed, Options, ReleaseError};
use aqemia_release::inventory::{Inventory, ReleaseId};
use aqemia_release::manifest::Manifest;
use aqemia_release::object::ObjectKey;
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::hooks::{self, Event, Hook};
use crate::render::Capabilities;

/// One release in one cluster.
pub struct Session {
    pub id: ReleaseId,
    pub discovery: Discovery,
}

impl Session {
    pub fn new(client: kube::Client, id: ReleaseId) -> Session {
        Session { id, discovery: Discovery::new(client) }
    }

    /// The manifests of `bodies`, every kind placed (by the release's own CRDs or by the
    /// cluster) or refused.
    pub async fn place(&mut self, bodies: Vec<(usize, Value)>) -> Result<Vec<Manifest>, ReleaseError> {
        let manifests = engine::resolve_manifests(bodies, &self.id.namespace, Some(&mut self.discovery)).await?;
        manifests.ok_or_else(|| anyhow::anyhow!("a kind was neither placed nor refused by the cluster's discovery").into())
    }

    /// A server-side dry run of each manifest whose digest differs from `recorded`, so what the
    /// API server would refuse fails the plan, not the apply.
    pub async fn preview(
        &mut self,
        manifests: &[Manifest],
        recorded: &Inventory,
        previous: &[Manifest],
        forcing: &Forcing,
    ) -> Result<(), ReleaseError> {
        let changed = changed(manifests, recorded);
        if changed.is_empty() {
            return Ok(());
        }
        engine::preview(&mut self.discovery, &self.id, &changed, &by_key(previous), forcing).await
    }

    /// Installs or upgrades to `manifests`, rolling back to `previous` when an upgrade does not
    /// become healthy, with the rollback hooks of the release it returns to (as Helm's
    /// `--atomic` does). The failure carries what exists, for the caller to record.
    pub async fn install(
        &mut self,
        manifests: Vec<Manifest>,
        previous: &Previous,
        recorded: &Inventory,
        options: &Options,
        cancel: &CancellationToken,
    ) -> Result<Installed, Failure> {
        let started = Instant::now();
        let previous_objects = by_key(&previous.manifests);
        let attempted = by_key(&manifests);
        let failure = match engine::install(&mut self.discovery, &self.id, manifests, &previous_objects, recorded, options, cancel).await {
            Err(failure) if failure.is_unhealthy() => failure,
            other => return other,
        };
        if previous_objects.is_empty() {
            // Nothing to return to: a first install, or a previous release not rendered as it was.
            return Err(match &previous.unavailable {
                Some(why) => Failure { error: anyhow::anyhow!("{}; not rolled back: {why}", failure.error).into(), ..failure },
                None => failure,
            });
        }
        // The wait used the whole timeout; the rollback gets it again, as Helm's does.
        let deadline = Instant::now() + options.deadline.saturating_duration_since(started);
        if let Err(e) = self.run_hooks(&previous.hooks, Event::PreRollback, deadline, cancel).await {
            let error = anyhow::anyhow!("{}; not rolled back, because {e}", failure.error).into();
            return Err(Failure { error, ..failure });
        }
        let restored = engine::roll_back(&mut self.discovery, &self.id, failure, &attempted, &previous_objects, options, cancel).await;
        if restored.rolled_back {
            if let Err(e) = self.run_hooks(&previous.hooks, Event::PostRollback, deadline, cancel).await {
                let error = anyhow::anyhow!("{}; rolled back, but {e}", restored.error).into();
                return Err(Failure { error, ..restored });
            }
        }
        Err(restored)
    }

    /// The inventory as the cluster has it now: `recorded` with missing objects removed, each
    /// drifted one described instead of its digest, and each back in sync given its digest.
    pub async fn refresh(&mut self, manifests: &[Manifest], recorded: &Inventory) -> Result<Inventory, ReleaseError> {
        let observed = engine::observe(&mut self.discovery, &self.id, manifests).await?;
        Ok(refreshed(recorded, manifests, observed))
    }

    /// What the cluster serves, for `.Capabilities`: its version, and every group-version and
    /// `group/version/Kind`, as Helm's discovery lists them. Two requests, with aggregated
    /// discovery (Kubernetes 1.30 and newer), and the version.
    pub async fn capabilities(&self) -> Result<Capabilities, ReleaseError> {
        let client = self.discovery.client();
        let version = client.apiserver_version().await.map_err(|e| anyhow::Error::new(e).context("reading the server version"))?;
        let mut api_versions = Vec::new();
        for path in ["/api", "/apis"] {
            let request = http::Request::get(path)
                .header(http::header::ACCEPT, AGGREGATED_DISCOVERY)
                .body(Vec::new())
                .map_err(|e| anyhow::anyhow!("building the discovery request: {e}"))?;
            let text = client.request_text(request).await.map_err(|e| anyhow::Error::new(e).context(format!("discovery at {path}")))?;
            let list: Value = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("discovery at {path} is not JSON: {e}"))?;
            api_versions.extend(discovered_api_versions(&list));
        }
        api_versions.sort();
        api_versions.dedup();
        Ok(Capabilities { kube_version: version.git_version, api_versions })
    }

    /// Runs the chart hooks of `event`, in Helm's order (see [`crate::hooks`]).
    pub async fn run_hooks(
        &mut self,
        hooks: &[Hook],
        event: Event,
        deadline: Instant,
        cancel: &CancellationToken,
    ) -> Result<(), ReleaseError> {
        let hooks = hooks::for_event(hooks, event);
        if hooks.is_empty() {
            return Ok(());
        }
        hooks::run(&mut self.discovery, &self.id.namespace, &hooks, event, deadline, cancel).await
    }

    /// Creates the release's namespace unless it exists (Helm's `--create-namespace`: not part
    /// of the release, so an uninstall keeps it).
    pub async fn ensure_namespace(&self) -> Result<(), ReleaseError> {
        use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"));
        let api: Api<DynamicObject> = Api::all_with(self.discovery.client().clone(), &resource);
        let namespace = DynamicObject::new(&self.id.namespace, &resource);
        match api.create(&PostParams::default(), &namespace).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
            Err(e) => Err(ReleaseError::Other(anyhow::Error::new(e).context(format!("creating namespace {}", self.id.namespace)))),
        }
    }

    /// Deletes every object of the release, in reverse order, then its inventory and record in
    /// the cluster; returns the protected ones kept.
    pub async fn uninstall(
        &mut self,
        recorded: &Inventory,
        options: &Options,
        cancel: &CancellationToken,
    ) -> Result<Vec<ObjectKey>, ReleaseError> {
        let kept = engine::uninstall(&mut self.discovery, &self.id, recorded, options, cancel).await?;
        crate::record::remove(self.discovery.client(), &self.id).await?;
        Ok(kept)
    }
}

/// What an unhealthy upgrade returns to: the previous release's objects, and its hooks (for
/// `pre-rollback` and `post-rollback`; empty where hooks are off or the release has none).
#[derive(Debug, Default)]
pub struct Previous {
    pub manifests: Vec<Manifest>,
    pub hooks: Vec<Hook>,
    /// Why there is nothing to return to, when there was a previous release: said with the
    /// failure of an upgrade, which then stays as it failed.
    pub unavailable: Option<String>,
}

impl Previous {
    /// A release that cannot be rolled back, and why.
    pub fn unavailable(why: String) -> Previous {
        Previous { unavailable: Some(why), ..Previous::default() }
    }
}

/// Whether `manifests` are the objects that `recorded` holds, digest for digest (objects
/// found drifted or missing at refresh aside): a release rendered again from a source that
/// changed in place (a chart directory edited since) is not what was installed, and returning
/// to it would be no rollback.
pub fn renders_as_recorded(manifests: &[Manifest], recorded: &Inventory) -> bool {
    let rendered = engine::inventory_of(manifests);
    recorded.iter().filter(|(_, digest)| !digest.starts_with("drifted")).all(|(key, digest)| rendered.get(key) == Some(digest))
}

/// The manifests whose digest differs from the one `recorded`: what an apply changes.
pub fn changed<'a>(manifests: &'a [Manifest], recorded: &Inventory) -> Vec<&'a Manifest> {
    manifests.iter().filter(|m| recorded.get(&m.key) != Some(&m.digest)).collect()
}

/// Places `bodies` without a cluster: `None` when some kind needs one.
pub async fn place_offline(bodies: Vec<(usize, Value)>, namespace: &str) -> Result<Option<Vec<Manifest>>, ReleaseError> {
    engine::resolve_manifests(bodies, namespace, None).await
}

const AGGREGATED_DISCOVERY: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `group/version` (`v1` for the core group) and `group/version/Kind` of an
/// `APIGroupDiscoveryList`.
fn discovered_api_versions(list: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let items = list.get("items").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for group in items {
        let name = group.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        for version in group.get("versions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
            let Some(version_name) = version.get("version").and_then(Value::as_str) else { continue };
            let group_version = if name.is_empty() { version_name.to_string() } else { format!("{name}/{version_name}") };
            for resource in version.get("resources").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
                // Helm lists subresources' kinds too (`apps/v1/Scale`).
                let subresources = resource.get("subresources").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                for kind in std::iter::once(resource).chain(subresources).filter_map(|r| r.pointer("/responseKind/kind")?.as_str()) {
                    out.push(format!("{group_version}/{kind}"));
                }
            }
            out.push(group_version);
        }
    }
    out
}

fn by_key(manifests: &[Manifest]) -> BTreeMap<ObjectKey, Manifest> {
    manifests.iter().map(|m| (m.key.clone(), m.clone())).collect()
}

fn refreshed(recorded: &Inventory, manifests: &[Manifest], observed: BTreeMap<ObjectKey, Observed>) -> Inventory {
    let digests = engine::inventory_of(manifests);
    let mut objects = recorded.clone();
    for (key, seen) in observed {
        match seen {
            // Back in sync (someone undid their change): the digest again.
            Observed::InSync => {
                if let (Some(slot), Some(digest)) = (objects.get_mut(&key), digests.get(&key)) {
                    slot.clone_from(digest);
                }
            }
            Observed::Missing => {
                objects.remove(&key);
            }
            Observed::Drifted(what) => {
                objects.insert(key, what);
            }
        }
    }
    objects
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn capabilities_list_group_versions_and_kinds() {
        let list = json!({"kind": "APIGroupDiscoveryList", "items": [
            {"metadata": {"name": ""}, "versions": [{"version": "v1", "resources": [{"resource": "pods", "responseKind": {"kind": "Pod"}}]}]},
            {"metadata": {"name": "apps"}, "versions": [{"version": "v1", "resources": [
                {"resource": "deployments", "responseKind": {"kind": "Deployment"},
                 "subresources": [{"subresource": "scale", "responseKind": {"kind": "Scale"}}]}
            ]}]},
        ]});
        assert_eq!(discovered_api_versions(&list), ["v1/Pod", "v1", "apps/v1/Deployment", "apps/v1/Scale", "apps/v1"]);
    }

    #[test]
    fn a_render_is_the_recorded_release_only_digest_for_digest() {
        let key = |name: &str| ObjectKey { group: String::new(), kind: "ConfigMap".into(), namespace: "web".into(), name: name.into() };
        let manifest =
            |name: &str, digest: &str| Manifest { key: key(name), api_version: "v1".into(), body: json!({}), digest: digest.into() };
        let recorded: Inventory = [(key("a"), "sha256:1".into()), (key("b"), "drifted: .data".into())].into();
        assert!(renders_as_recorded(&[manifest("a", "sha256:1"), manifest("b", "sha256:9")], &recorded));
        // An object missing at refresh left the inventory: its render is no evidence either way.
        assert!(renders_as_recorded(&[manifest("a", "sha256:1"), manifest("b", "sha256:9"), manifest("c", "sha256:3")], &recorded));
        assert!(!renders_as_recorded(&[manifest("a", "sha256:2"), manifest("b", "sha256:9")], &recorded));
        assert!(!renders_as_recorded(&[manifest("b", "sha256:9")], &recorded));
    }

    #[test]
    fn refresh_records_drift_loss_and_repair() {
        let key = |name: &str| ObjectKey { group: String::new(), kind: "ConfigMap".into(), namespace: "web".into(), name: name.into() };
        let manifest =
            |name: &str| Manifest { key: key(name), api_version: "v1".into(), body: json!({}), digest: format!("sha256:{name}") };
        let recorded: Inventory =
            [(key("a"), "drifted: .data".into()), (key("b"), "sha256:b".into()), (key("c"), "sha256:c".into())].into();
        let observed =
            [(key("a"), Observed::InSync), (key("b"), Observed::Missing), (key("c"), Observed::Drifted("drifted: .data.x".into()))];
        let refreshed = refreshed(&recorded, &[manifest("a"), manifest("b"), manifest("c")], observed.into());
        let expected: Inventory = [(key("a"), "sha256:a".into()), (key("c"), "drifted: .data.x".into())].into();
        assert_eq!(refreshed, expected);
    }
}
