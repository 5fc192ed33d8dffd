//! What `lookup` reads. `helm template` has no cluster, and its lookups find nothing; an
//! install or upgrade reads the cluster it goes into, read only. The engine knows nothing of
//! Kubernetes clients: the caller hands it a [`LiveCluster`].

use std::sync::Arc;

use serde_json::Value;

/// A cluster a render may read.
pub trait LiveCluster: Send + Sync {
    /// `lookup API_VERSION KIND NAMESPACE NAME`: the object as JSON, `None` when it does not
    /// exist. With `name` empty, the list of them (`{"items": [...]}`), across every namespace
    /// when `namespace` is empty too. An error is a kind the cluster does not serve, or a
    /// cluster that does not answer.
    fn lookup(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<Option<Value>, String>;
}

/// The cluster of a render, if any.
#[derive(Clone, Default)]
pub struct Cluster(pub Option<Arc<dyn LiveCluster>>);

impl Cluster {
    pub fn is_live(&self) -> bool {
        self.0.is_some()
    }

    /// What a template's `lookup` returns: the object, or as Helm returns for one that does not
    /// exist (and for every lookup without a cluster), an empty map.
    pub fn lookup(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<Value, String> {
        match &self.0 {
            Some(cluster) => Ok(cluster.lookup(api_version, kind, namespace, name)?.unwrap_or_else(|| Value::Object(Default::default()))),
            None => Ok(Value::Object(Default::default())),
        }
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Cluster(live)" } else { "Cluster(none)" })
    }
}
