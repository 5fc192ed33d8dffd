//! Which resource serves a kind, and whether it is namespaced: asked of the API server once
//! per group-version and operation, forgotten when new CRDs change the answer.

use std::collections::HashMap;

use kube::core::{GroupVersion, GroupVersionKind};
use kube::discovery::{ApiCapabilities, ApiResource, Scope};

use crate::api::{describe, group_of, is_not_found, with_retries};

/// A resolved kind.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// Why a kind could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The group-version is served but has no such kind, or the group-version is not served
    /// (often: its CRD is not installed or not established yet).
    #[error("the API server serves no kind {kind} in {api_version}")]
    NoSuchKind { api_version: String, kind: String },
    #[error(transparent)]
    Api(#[from] anyhow::Error),
}

/// Discovery results for one operation.
pub struct Discovery {
    client: kube::Client,
    /// By apiVersion: the kinds of that group-version.
    groups: HashMap<String, Vec<(ApiResource, ApiCapabilities)>>,
    /// By group: the kinds at their recommended versions, for objects known by key only.
    recommended: HashMap<String, Vec<(ApiResource, ApiCapabilities)>>,
}

impl Discovery {
    pub fn new(client: kube::Client) -> Self {
        Discovery { client, groups: HashMap::new(), recommended: HashMap::new() }
    }

    pub async fn resolve(&mut self, api_version: &str, kind: &str) -> Result<Resolved, DiscoveryError> {
        let gvk = parse_gvk(api_version, kind);
        let no_such_kind = || DiscoveryError::NoSuchKind { api_version: api_version.to_string(), kind: kind.to_string() };
        if !self.groups.contains_key(api_version) {
            let gv = GroupVersion::gv(&gvk.group, &gvk.version);
            let resources = match with_retries(|| kube::discovery::pinned_group(&self.client, &gv)).await {
                Ok(group) => group.versioned_resources(&gvk.version),
                Err(e) if is_not_found(&e) => return Err(no_such_kind()),
                Err(e) => return Err(anyhow::anyhow!("discovering {api_version}: {}", describe(&e)).into()),
            };
            self.groups.insert(api_version.to_string(), resources);
        }
        let resources = &self.groups[api_version];
        let (resource, caps) = resources.iter().find(|(r, _)| r.kind == kind).ok_or_else(no_such_kind)?;
        Ok(Resolved { resource: resource.clone(), namespaced: caps.scope == Scope::Namespaced })
    }

    /// Resolves a kind by group alone, at the version the server recommends: how objects
    /// known only by their key (pruning, uninstalling) are reached.
    pub async fn resolve_group_kind(&mut self, group: &str, kind: &str) -> Result<Resolved, DiscoveryError> {
        let no_such_kind = || DiscoveryError::NoSuchKind {
            api_version: if group.is_empty() { "v1".into() } else { format!("{group}/*") },
            kind: kind.to_string(),
        };
        if !self.recommended.contains_key(group) {
            let resources = match with_retries(|| kube::discovery::group(&self.client, group)).await {
                Ok(found) => found.recommended_resources(),
                Err(kube::Error::Discovery(_)) => return Err(no_such_kind()),
                Err(e) if is_not_found(&e) => return Err(no_such_kind()),
                Err(e) => return Err(anyhow::anyhow!("discovering API group {group:?}: {}", describe(&e)).into()),
            };
            self.recommended.insert(group.to_string(), resources);
        }
        let (resource, caps) = self.recommended[group].iter().find(|(r, _)| r.kind == kind).ok_or_else(no_such_kind)?;
        Ok(Resolved { resource: resource.clone(), namespaced: caps.scope == Scope::Namespaced })
    }

    /// Drops what is known about `group`, after CRDs of that group were established.
    pub fn forget_group(&mut self, group: &str) {
        self.groups.retain(|api_version, _| group_of(api_version) != group);
        self.recommended.remove(group);
    }

    pub fn client(&self) -> &kube::Client {
        &self.client
    }
}

fn parse_gvk(api_version: &str, kind: &str) -> GroupVersionKind {
    match api_version.split_once('/') {
        Some((group, version)) => GroupVersionKind::gvk(group, version, kind),
        None => GroupVersionKind::gvk("", api_version, kind),
    }
}
