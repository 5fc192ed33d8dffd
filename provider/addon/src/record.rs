//! What a release was installed from, kept in the cluster beside its inventory: the caller's
//! own description of the release (its chart, version, values, revision) and its seed, in a
//! Secret, because the seed makes the release's passwords and keys. Reading it back is what
//! lets a release that aqemia installed be imported into another state and render the same
//! objects, with the same secrets.

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};

use aqemia_release::api::{delete_if_present, describe, get_if_present, with_retries};
use aqemia_release::apply::FIELD_MANAGER;
use aqemia_release::engine::ReleaseError;
use aqemia_release::inventory::{ReleaseId, MANAGED_BY_LABEL, RELEASE_ANNOTATION};

use crate::seed::ReleaseSeed;

/// The Secret's `type`, so that `kubectl get secrets --field-selector type=...` lists them.
pub const SECRET_TYPE: &str = "aqemia.io/release.v1";
const DESCRIPTION_KEY: &str = "release";
const SEED_KEY: &str = "seed";

/// A release as its record has it.
#[derive(Debug, Clone)]
pub struct Record {
    /// What the caller wrote: a JSON object of its own design.
    pub description: Value,
    pub seed: ReleaseSeed,
}

fn api(client: &kube::Client, id: &ReleaseId) -> Api<Secret> {
    Api::namespaced(client.clone(), &id.namespace)
}

/// Writes (or replaces) the record of `id`.
pub async fn store(client: &kube::Client, id: &ReleaseId, description: &Value, seed: &ReleaseSeed) -> Result<(), ReleaseError> {
    let text = serde_json::to_string(description).map_err(|e| anyhow::anyhow!("describing release {}: {e}", id.stamp()))?;
    let body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": SECRET_TYPE,
        "metadata": {
            "name": id.record_name(),
            "namespace": id.namespace,
            "labels": {MANAGED_BY_LABEL: "aqemia"},
            "annotations": {RELEASE_ANNOTATION: id.stamp()},
        },
        "stringData": {DESCRIPTION_KEY: text, SEED_KEY: seed.encode()},
    });
    let (name, params, patch) = (id.record_name(), PatchParams::apply(FIELD_MANAGER).force(), Patch::Apply(&body));
    let api = api(client, id);
    with_retries(|| api.patch(&name, &params, &patch))
        .await
        .map_err(|e| anyhow::anyhow!("writing the record of release {}: {}", id.stamp(), describe(&e)))?;
    Ok(())
}

/// The record of `id`; `None` when aqemia keeps none (the release is not aqemia's, or was
/// installed before releases kept records).
pub async fn load(client: &kube::Client, id: &ReleaseId) -> Result<Option<Record>, ReleaseError> {
    // Named as the inventory ConfigMap, so `kubectl get cm,secret NAME` shows both.
    let name = id.record_name();
    let secret = match get_if_present(&api(client, id), &name).await {
        Ok(Some(secret)) => secret,
        Ok(None) => return Ok(None),
        Err(e) => return Err(anyhow::anyhow!("reading the record of release {}: {}", id.stamp(), describe(&e)).into()),
    };
    if secret.type_.as_deref() != Some(SECRET_TYPE) {
        return Ok(None);
    }
    let damaged = |what: &str| ReleaseError::from(anyhow::anyhow!("the record {name} of release {} is damaged: {what}", id.stamp()));
    let data = secret.data.unwrap_or_default();
    let text = |key: &str| data.get(key).and_then(|ByteString(bytes)| std::str::from_utf8(bytes).ok());
    let description = serde_json::from_str(text(DESCRIPTION_KEY).ok_or_else(|| damaged("no release description"))?)
        .map_err(|e| damaged(&format!("the release description is not JSON: {e}")))?;
    let seed = text(SEED_KEY).and_then(ReleaseSeed::decode).ok_or_else(|| damaged("no valid seed"))?;
    Ok(Some(Record { description, seed }))
}

/// Deletes the record of `id`; one already gone counts as deleted.
pub async fn remove(client: &kube::Client, id: &ReleaseId) -> Result<(), ReleaseError> {
    delete_if_present(&api(client, id), &id.record_name(), &Default::default())
        .await
        .map_err(|e| anyhow::anyhow!("deleting the record of release {}: {}", id.stamp(), describe(&e)).into())
}
