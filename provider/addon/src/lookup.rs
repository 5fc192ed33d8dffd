//! `lookup` against the cluster a release goes into, read only, through the release's own
//! client. The Helm engine renders synchronously: each lookup blocks its worker thread on the
//! request while the provider's other tasks go on (its runtime is multi-threaded; where the
//! runtime is not, renders get no cluster and their lookups find nothing, as `helm template`'s).

use std::sync::Arc;

use aqemia_helm::lookup::{Cluster, LiveCluster};
use aqemia_release::api::{describe, get_if_present, with_retries};
use aqemia_release::discovery::Discovery;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;
use tokio::runtime::{Handle, RuntimeFlavor};

/// The cluster for renders of a release in `client`'s cluster.
pub fn live(client: kube::Client) -> Cluster {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => Cluster(Some(Arc::new(Live { client, handle }))),
        _ => Cluster::default(),
    }
}

struct Live {
    client: kube::Client,
    handle: Handle,
}

impl LiveCluster for Live {
    fn lookup(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<Option<Value>, String> {
        tokio::task::block_in_place(|| self.handle.block_on(self.read(api_version, kind, namespace, name)))
    }
}

impl Live {
    async fn read(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Result<Option<Value>, String> {
        let resolved = Discovery::new(self.client.clone()).resolve(api_version, kind).await.map_err(|e| e.to_string())?;
        // As Helm: a namespace narrows only a namespaced kind.
        let api: Api<DynamicObject> = match resolved.namespaced && !namespace.is_empty() {
            true => Api::namespaced_with(self.client.clone(), namespace, &resolved.resource),
            false => Api::all_with(self.client.clone(), &resolved.resource),
        };
        let json = |object: Result<Value, serde_json::Error>| object.map(Some).map_err(|e| format!("{kind} is not JSON: {e}"));
        if name.is_empty() {
            let params = ListParams::default();
            let list = with_retries(|| api.list(&params)).await.map_err(|e| describe(&e))?;
            return json(serde_json::to_value(&list));
        }
        match get_if_present(&api, name).await.map_err(|e| describe(&e))? {
            Some(object) => json(serde_json::to_value(&object)),
            None => Ok(None),
        }
    }
}
