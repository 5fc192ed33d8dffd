//! What a release owns. Kept twice: in Terraform state (the `objects` attribute) and in the
//! cluster, in a ConfigMap beside the release, written before objects are created so that
//! an apply that dies half-way still knows what to prune or delete next time. Every object
//! is stamped with its release, and nothing without that stamp is ever deleted.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};

use crate::api::{delete_if_present, describe, get_if_present, with_retries};

use super::apply::FIELD_MANAGER;
use super::object::ObjectKey;

/// Object key → digest of the object as last applied.
pub type Inventory = BTreeMap<ObjectKey, String>;

/// Marks every object of a release with `<namespace>/<name>` of the release.
pub const RELEASE_ANNOTATION: &str = "aqemia.io/release";
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
const DATA_KEY: &str = "objects";

/// A release's identity in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseId {
    pub namespace: String,
    pub name: String,
}

impl ReleaseId {
    pub fn stamp(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The name of the release's own records in its namespace: the inventory ConfigMap, and
    /// the Secret of what it was installed from (`aqemia-addon`'s `record`).
    pub fn record_name(&self) -> String {
        format!("aqemia-release-{}", self.name)
    }

    /// Adds the release's label and annotation to an object about to be applied.
    pub fn stamp_object(&self, body: &mut Value) {
        let metadata = &mut body["metadata"];
        metadata["labels"][MANAGED_BY_LABEL] = json!("aqemia");
        metadata["annotations"][RELEASE_ANNOTATION] = json!(self.stamp());
    }

    /// Whether a live object carries this release's stamp.
    pub fn owns(&self, live: &Value) -> bool {
        live.pointer("/metadata/annotations").and_then(|a| a.get(RELEASE_ANNOTATION)).and_then(Value::as_str) == Some(&self.stamp())
    }

    /// The inventory stored in the cluster; empty when there is none.
    pub async fn load(&self, client: &kube::Client) -> anyhow::Result<Inventory> {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &self.namespace);
        let configmap = match get_if_present(&api, &self.record_name()).await {
            Ok(Some(cm)) => cm,
            Ok(None) => return Ok(Inventory::new()),
            Err(e) => anyhow::bail!("reading the inventory of release {}: {}", self.stamp(), describe(&e)),
        };
        let text = configmap.data.and_then(|mut d| d.remove(DATA_KEY)).unwrap_or_else(|| "{}".into());
        let entries: BTreeMap<String, String> = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the inventory ConfigMap {} of release {} is damaged: {e}", self.record_name(), self.stamp()))?;
        Ok(entries.into_iter().filter_map(|(k, v)| k.parse().ok().map(|key| (key, v))).collect())
    }

    pub async fn store(&self, client: &kube::Client, inventory: &Inventory) -> anyhow::Result<()> {
        let entries: BTreeMap<String, &String> = inventory.iter().map(|(k, v)| (k.to_string(), v)).collect();
        let body = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": self.record_name(),
                "namespace": self.namespace,
                "labels": {MANAGED_BY_LABEL: "aqemia"},
                "annotations": {RELEASE_ANNOTATION: self.stamp()},
            },
            "data": {DATA_KEY: serde_json::to_string(&entries).expect("strings serialise")},
        });
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &self.namespace);
        let (name, params, patch) = (self.record_name(), PatchParams::apply(FIELD_MANAGER).force(), Patch::Apply(&body));
        with_retries(|| api.patch(&name, &params, &patch))
            .await
            .map_err(|e| anyhow::anyhow!("writing the inventory of release {}: {}", self.stamp(), describe(&e)))?;
        Ok(())
    }

    pub async fn remove(&self, client: &kube::Client) -> anyhow::Result<()> {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &self.namespace);
        delete_if_present(&api, &self.record_name(), &Default::default())
            .await
            .map_err(|e| anyhow::anyhow!("deleting the inventory of release {}: {}", self.stamp(), describe(&e)))
    }
}

/// Kinds kept when they leave a release or the release is destroyed, unless asked: deleting
/// a CRD deletes every resource of its kind cluster-wide, deleting a claim can delete data.
pub fn is_protected(key: &ObjectKey) -> bool {
    matches!((key.group.as_str(), key.kind.as_str()), ("apiextensions.k8s.io", "CustomResourceDefinition") | ("", "PersistentVolumeClaim"))
}
