//! `terraform import aqemia_chart.NAME NAMESPACE/NAME[@CONTEXT]`: a release that aqemia
//! installed, or one that Helm installed.
//!
//! The release is looked for in the cluster of the kubeconfig (`$KUBECONFIG`, else
//! `~/.kube/config`), in its current context or the one after `@`. The state records that
//! connection; a configuration that names the cluster another way shows it as a change.
//!
//! A release aqemia installed is read back from its record (arguments, revision and seed: the
//! same objects with the same generated secrets) and its inventory. A release Helm installed
//! is read from Helm's newest deployed revision (chart, version, values, revision); its
//! objects are listed as installed by Helm, so the first plan names each of them, and that
//! apply takes them over with server-side apply (the same objects, their UIDs kept), forcing
//! only the fields Helm's field manager owned, then deletes Helm's records.

use std::path::PathBuf;

use crate::cty::{json, Value};
use crate::framework::{Diagnostics, Private};
use crate::resources::release::{inventory_value, keep_seed, set, validate_name};
use aqemia_addon::helm_release::{self, HelmRelease};
use aqemia_addon::record;
use aqemia_addon::release::Session;
use aqemia_release::engine::ReleaseError;

/// Private-state key: the record Secrets of a Helm release being taken over, deleted once its
/// objects are aqemia's. Present from the import to the apply that takes the release over.
const HELM_RECORDS_KEY: &str = "helm_records";
/// What the inventory says of each object Helm installed, until aqemia applies it.
const INSTALLED_BY_HELM: &str = "installed by Helm";
/// State attributes the record leaves out: the connection (a property of the state that
/// imports), sensitive values, what the cluster itself tells (`objects`), and Terraform's own.
const NOT_RECORDED: [&str; 5] = ["id", "cluster", "set_sensitive", "objects", "timeouts"];

/// The state `import` hands to the first refresh: id, name, namespace and the connection.
pub fn skeleton(empty: Value, id: &str) -> Result<Value, Diagnostics> {
    let fail = |detail: String| {
        let mut diags = Diagnostics::new();
        diags.error("Invalid import id", detail);
        Err(diags)
    };
    let (release, context) = match id.split_once('@') {
        Some((release, context)) => (release, Some(context)),
        None => (id, None),
    };
    let Some((namespace, name)) = release.split_once('/') else {
        return fail(format!(
            "{id:?} names no namespace: import as NAMESPACE/NAME, like \"kube-system/traefik\", or NAMESPACE/NAME@CONTEXT"
        ));
    };
    for (what, part) in [("namespace", namespace), ("release name", name)] {
        if validate_name(&Value::from(part)).is_err() {
            return fail(format!("{part:?} in {id:?} is not a valid {what}: use lowercase letters, digits and hyphens"));
        }
    }
    let Some(kubeconfig) = kubeconfig_path() else {
        return fail(
            "No kubeconfig to find the release with: set KUBECONFIG to the file of the cluster that holds it (or create \
             ~/.kube/config), then import again."
                .to_string(),
        );
    };
    let mut cluster = vec![("kubeconfig_path".to_string(), Value::string(kubeconfig.to_string_lossy()))];
    cluster.extend(context.map(|c| ("context".to_string(), Value::string(c))));
    let mut state = empty;
    set(&mut state, "id", Value::string(release));
    set(&mut state, "name", Value::string(name));
    set(&mut state, "namespace", Value::string(namespace));
    set(&mut state, "cluster", Value::Map(cluster.into_iter().collect()));
    Ok(state)
}

/// The kubeconfig kubectl and Helm would use: the first file of `$KUBECONFIG`, else
/// `~/.kube/config` when it exists.
fn kubeconfig_path() -> Option<PathBuf> {
    if let Some(first) = std::env::var_os("KUBECONFIG").as_deref().and_then(|v| std::env::split_paths(v).next()) {
        if !first.as_os_str().is_empty() {
            return Some(first);
        }
    }
    let default = PathBuf::from(std::env::var_os("HOME")?).join(".kube/config");
    default.exists().then_some(default)
}

/// Whether a state still lacks the arguments only an import leaves out.
pub fn is_skeleton(state: &Value) -> bool {
    state.get("chart").is_some_and(Value::is_null)
}

/// Whether the release is still Helm's: imported from Helm, not yet applied.
pub fn helm_records(private: &Private) -> Option<Vec<String>> {
    let list = private.get(HELM_RECORDS_KEY)?.as_array()?;
    Some(list.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
}

/// Once aqemia owns the objects: Helm's records deleted, and the state no longer Helm's.
pub async fn forget_helm(session: &Session, private: &mut Private) -> Result<(), ReleaseError> {
    if let Some(records) = helm_records(private) {
        helm_release::forget(session.discovery.client(), &session.id.namespace, &records).await?;
        private.remove(HELM_RECORDS_KEY);
    }
    Ok(())
}

/// The record of a release for its cluster: every argument and computed value of its state
/// but those in [`NOT_RECORDED`].
pub fn description(state: &Value, ty: &crate::cty::Type) -> serde_json::Value {
    let mut json = json::encode_value(state, ty).unwrap_or_default();
    if let Some(object) = json.as_object_mut() {
        for name in NOT_RECORDED {
            object.remove(name);
        }
    }
    json
}

/// Fills an imported skeleton from the cluster: aqemia's record first, else Helm's.
pub async fn complete(session: &mut Session, state: Value, private: &mut Private, ty: &crate::cty::Type) -> Result<Value, ReleaseError> {
    let client = session.discovery.client().clone();
    if let Some(found) = record::load(&client, &session.id).await? {
        let mut json = json::encode_value(&state, ty).map_err(|e| anyhow::anyhow!("{e}"))?;
        if let (Some(object), Some(recorded)) = (json.as_object_mut(), found.description.as_object()) {
            object.extend(recorded.iter().filter(|(name, _)| !NOT_RECORDED.contains(&name.as_str())).map(|(k, v)| (k.clone(), v.clone())));
        }
        let mut state = json::decode_value(&json, ty)
            .map_err(|e| anyhow::anyhow!("the record of release {} does not fit this provider's schema: {e}", session.id.stamp()))?;
        set(&mut state, "objects", inventory_value(&session.id.load(&client).await?));
        keep_seed(private, &found.seed);
        return Ok(state);
    }
    let Some(helm) = helm_release::latest_deployed(&client, &session.id.namespace, &session.id.name).await? else {
        return Err(anyhow::anyhow!(
            "no release {} in the cluster: neither aqemia's record (Secret {}) nor a deployed Helm release \
             (Secrets labelled owner=helm, name={})",
            session.id.stamp(),
            session.id.record_name(),
            session.id.name
        )
        .into());
    };
    let state = from_helm(session, state, &helm).await?;
    private.set(HELM_RECORDS_KEY, serde_json::json!(helm.records));
    Ok(state)
}

/// A state for a release Helm installed: its chart by name (Helm does not record the
/// repository: the configuration gives it), version, values and revision, and its objects.
async fn from_helm(session: &mut Session, mut state: Value, helm: &HelmRelease) -> Result<Value, ReleaseError> {
    let bodies = aqemia_addon::documents::parse(&[helm.manifest.as_str()])
        .map_err(|e| anyhow::anyhow!("the manifest of Helm release {} does not parse: {}", session.id.stamp(), e.message))?;
    let manifests = session.place(bodies).await?;
    let objects = manifests.iter().map(|m| (m.key.to_string(), Value::string(INSTALLED_BY_HELM))).collect();
    let values = match helm.values.as_object() {
        Some(map) if !map.is_empty() => Value::List(vec![Value::string(aqemia_helm::yaml::to_yaml(&helm.values))]),
        _ => Value::Null,
    };
    for (name, value) in [
        ("chart", Value::string(helm.chart.clone())),
        ("version", Value::string(helm.chart_version.clone())),
        ("resolved_version", Value::string(helm.chart_version.clone())),
        ("revision", Value::from(helm.revision)),
        ("values", values),
        ("objects", Value::Map(objects)),
    ] {
        set(&mut state, name, value);
    }
    Ok(state)
}
