//! Identity of the objects in a release: what the inventory records and what plans list.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

pub use crate::api::group_of;

/// Names one Kubernetes object across API versions: the group (empty for the core group),
/// kind, namespace (empty when cluster-scoped) and name.
///
/// Written `Kind.group/namespace/name` (`Deployment.apps/web/api`, `Namespace//web`): the
/// kind leads because that is what a reader scans a plan for, and the group keeps kinds of
/// the same name in different groups apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// Why a document cannot be an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    #[error("{field} is missing: every object needs apiVersion, kind and metadata.name")]
    Missing { field: &'static str },
    #[error("{field} must be a string, not {found}")]
    NotAString { field: &'static str, found: &'static str },
    #[error("{0:?} is not an object key: expected Kind[.group]/namespace/name (namespace empty when cluster-scoped)")]
    BadKey(String),
}

impl ObjectKey {
    /// The key of a manifest, with `default_namespace` for objects that name none. Whether the
    /// kind is namespaced at all is the server's to say: see [`ObjectKey::cluster_scoped`].
    pub fn of(document: &Value, default_namespace: &str) -> Result<Self, ObjectError> {
        let api_version = required(document, "apiVersion", "/apiVersion")?;
        let kind = required(document, "kind", "/kind")?;
        let name = required(document, "metadata.name", "/metadata/name")?;
        let namespace = match document.pointer("/metadata/namespace") {
            None | Some(Value::Null) => default_namespace,
            Some(Value::String(ns)) if ns.is_empty() => default_namespace,
            Some(Value::String(ns)) => ns,
            Some(other) => return Err(ObjectError::NotAString { field: "metadata.namespace", found: json_kind(other) }),
        };
        Ok(ObjectKey {
            group: group_of(api_version).to_string(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// The same key for a kind the server reports as cluster-scoped.
    pub fn cluster_scoped(mut self) -> Self {
        self.namespace.clear();
        self
    }

    /// `Kind.group`, or `Kind` in the core group: the group-qualified kind.
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

fn required<'a>(document: &'a Value, field: &'static str, pointer: &str) -> Result<&'a str, ObjectError> {
    match document.pointer(pointer) {
        None | Some(Value::Null) => Err(ObjectError::Missing { field }),
        Some(Value::String(s)) if s.is_empty() => Err(ObjectError::Missing { field }),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(ObjectError::NotAString { field, found: json_kind(other) }),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.group_kind(), self.namespace, self.name)
    }
}

impl FromStr for ObjectKey {
    type Err = ObjectError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ObjectError::BadKey(s.to_string());
        // Names and namespaces are DNS labels or subdomains: neither holds a '/'.
        let mut parts = s.splitn(3, '/');
        let (Some(group_kind), Some(namespace), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let (kind, group) = group_kind.split_once('.').unwrap_or((group_kind, ""));
        if kind.is_empty() || name.is_empty() || name.contains('/') {
            return Err(bad());
        }
        Ok(ObjectKey { group: group.into(), kind: kind.into(), namespace: namespace.into(), name: name.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_print_and_parse_back() {
        let deploy = ObjectKey::of(&json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}}), "web").unwrap();
        assert_eq!(deploy.to_string(), "Deployment.apps/web/api");
        let ns =
            ObjectKey::of(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}), "web").unwrap().cluster_scoped();
        assert_eq!(ns.to_string(), "Namespace//web");
        let crd_key = "CustomResourceDefinition.apiextensions.k8s.io//widgets.example.com";
        for key in [deploy, ns] {
            assert_eq!(key.to_string().parse::<ObjectKey>().unwrap(), key);
        }
        let crd: ObjectKey = crd_key.parse().unwrap();
        assert_eq!(
            (crd.group.as_str(), crd.kind.as_str(), crd.name.as_str()),
            ("apiextensions.k8s.io", "CustomResourceDefinition", "widgets.example.com")
        );
        assert_eq!(crd.to_string(), crd_key);
    }

    #[test]
    fn an_explicit_namespace_wins_over_the_default() {
        let key =
            ObjectKey::of(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ops"}}), "web").unwrap();
        assert_eq!(key.namespace, "ops");
    }

    #[test]
    fn malformed_documents_say_what_is_missing() {
        assert_eq!(
            ObjectKey::of(&json!({"kind": "ConfigMap", "metadata": {"name": "c"}}), "d"),
            Err(ObjectError::Missing { field: "apiVersion" })
        );
        assert_eq!(
            ObjectKey::of(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}), "d"),
            Err(ObjectError::Missing { field: "metadata.name" })
        );
        assert_eq!(
            ObjectKey::of(&json!({"apiVersion": "v1", "kind": 3, "metadata": {"name": "c"}}), "d"),
            Err(ObjectError::NotAString { field: "kind", found: "a number" })
        );
        assert!(matches!("Deployment.apps/web".parse::<ObjectKey>(), Err(ObjectError::BadKey(_))));
        assert!(matches!("/web/api".parse::<ObjectKey>(), Err(ObjectError::BadKey(_))));
    }
}
