//! The objects of a release as configured: object bodies (read from YAML by the caller) with
//! their keys and digests.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::object::{group_of, ObjectKey};

/// One object of a release.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub key: ObjectKey,
    pub api_version: String,
    /// The object as written (namespace filled in for namespaced kinds).
    pub body: Value,
    /// The digest shown in plans; changes exactly when the object as written changes.
    pub digest: String,
}

/// A document that is not a valid object, with the position of the document in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError {
    pub document: usize,
    pub message: String,
}

/// Whether a kind lives in a namespace: the question only the API server answers for sure,
/// which the engine asks of built-in knowledge, the release's own CRDs and discovery in turn.
pub trait Scopes {
    fn namespaced(&self, group: &str, kind: &str) -> Option<bool>;
}

/// Kinds that Kubernetes serves cluster-wide: a plan can place them without a cluster.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("resource.k8s.io", "DeviceClass"),
];

/// Built-in kinds: cluster-scoped when listed above, namespaced when in a built-in group.
pub struct BuiltinScopes;

impl Scopes for BuiltinScopes {
    fn namespaced(&self, group: &str, kind: &str) -> Option<bool> {
        if CLUSTER_SCOPED.contains(&(group, kind)) {
            return Some(false);
        }
        let builtin_group = group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io");
        builtin_group.then_some(true)
    }
}

/// Asks each source in turn; the first that knows answers.
pub struct Chain<'a>(pub Vec<&'a dyn Scopes>);

impl Scopes for Chain<'_> {
    fn namespaced(&self, group: &str, kind: &str) -> Option<bool> {
        self.0.iter().find_map(|s| s.namespaced(group, kind))
    }
}

/// Scopes of kinds that are neither built in: declared by the release's CRDs, or learnt from
/// discovery.
#[derive(Default)]
pub struct KnownScopes(pub BTreeMap<(String, String), bool>);

impl KnownScopes {
    /// The scopes that CRDs among `bodies` declare.
    pub fn from_crds<'a>(bodies: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut out = BTreeMap::new();
        for body in bodies {
            let is_crd = body.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
                && body.get("apiVersion").and_then(Value::as_str).map(group_of) == Some("apiextensions.k8s.io");
            let group = body.pointer("/spec/group").and_then(Value::as_str);
            let kind = body.pointer("/spec/names/kind").and_then(Value::as_str);
            if let (true, Some(group), Some(kind)) = (is_crd, group, kind) {
                let namespaced = body.pointer("/spec/scope").and_then(Value::as_str) != Some("Cluster");
                out.insert((group.to_string(), kind.to_string()), namespaced);
            }
        }
        KnownScopes(out)
    }
}

impl Scopes for KnownScopes {
    fn namespaced(&self, group: &str, kind: &str) -> Option<bool> {
        self.0.get(&(group.to_string(), kind.to_string())).copied()
    }
}

/// Turns parsed bodies into manifests: keys placed by `scopes` (`None` for a body whose
/// kind no source can place yet), namespaces filled in, duplicates refused.
pub fn manifests(
    bodies: Vec<(usize, Value)>,
    default_namespace: &str,
    scopes: &dyn Scopes,
) -> Result<Vec<Option<Manifest>>, DocumentError> {
    let mut seen: BTreeMap<ObjectKey, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(bodies.len());
    for (document, mut body) in bodies {
        let fail = |message: String| DocumentError { document, message };
        let key = ObjectKey::of(&body, default_namespace).map_err(|e| fail(e.to_string()))?;
        check_string_maps(&body).map_err(fail)?;
        let api_version = body["apiVersion"].as_str().unwrap_or_default().to_string();
        let Some(namespaced) = scopes.namespaced(&key.group, &key.kind) else {
            out.push(None);
            continue;
        };
        let key = if namespaced {
            body["metadata"]["namespace"] = Value::String(key.namespace.clone());
            key
        } else {
            if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("namespace");
            }
            key.cluster_scoped()
        };
        if let Some(first) = seen.insert(key.clone(), document) {
            return Err(fail(format!("{key} is also defined in document {first}: each object may appear once")));
        }
        let digest = digest(&body);
        out.push(Some(Manifest { key, api_version, body, digest }));
    }
    Ok(out)
}

/// Labels and annotations, which the engine adds to, must be maps of strings.
fn check_string_maps(body: &Value) -> Result<(), String> {
    for field in ["labels", "annotations"] {
        match body.pointer(&format!("/metadata/{field}")) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) if map.values().all(Value::is_string) => {}
            Some(_) => return Err(format!("metadata.{field} must be a map of strings, like {{ app: web }}")),
        }
    }
    Ok(())
}

/// `sha256:` and 16 hex digits of the canonical JSON: the same object always gives the same
/// digest, whatever the key order or formatting of its YAML.
pub fn digest(body: &Value) -> String {
    let hash = Sha256::digest(canonical_text(body).as_bytes());
    let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The object as JSON with keys sorted: what digests are taken of.
pub fn canonical_text(body: &Value) -> String {
    let mut text = String::new();
    canonical(body, &mut text);
    text
}

fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd() -> Value {
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.example.com"},
               "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets"}}})
    }

    fn configmap(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
    }

    fn place(bodies: Vec<Value>, scopes: &dyn Scopes) -> Result<Vec<Option<Manifest>>, DocumentError> {
        manifests(bodies.into_iter().enumerate().collect(), "web", scopes)
    }

    #[test]
    fn namespaced_kinds_get_the_default_namespace_and_cluster_kinds_none() {
        let mut namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web", "namespace": "x"}});
        let placed = place(vec![configmap("a", json!({})), namespace.clone(), crd()], &BuiltinScopes).unwrap();
        let keys: Vec<String> = placed.iter().map(|m| m.as_ref().unwrap().key.to_string()).collect();
        assert_eq!(keys, ["ConfigMap/web/a", "Namespace//web", "CustomResourceDefinition.apiextensions.k8s.io//widgets.example.com"]);
        assert_eq!(placed[0].as_ref().unwrap().body["metadata"]["namespace"], json!("web"));
        namespace["metadata"].as_object_mut().unwrap().remove("namespace");
        assert_eq!(placed[1].as_ref().unwrap().body, namespace);
    }

    #[test]
    fn custom_kinds_are_placed_by_their_crd_in_the_release() {
        let cr = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
        assert_eq!(place(vec![cr.clone()], &BuiltinScopes).unwrap(), vec![None]);
        let placed = place(vec![cr], &KnownScopes::from_crds([&crd()])).unwrap();
        assert_eq!(placed[0].as_ref().unwrap().key.to_string(), "Widget.example.com/web/w");
    }

    #[test]
    fn digests_ignore_key_order_but_not_content() {
        let digest = |body: Value| place(vec![body], &BuiltinScopes).unwrap()[0].as_ref().unwrap().digest.clone();
        let a = digest(configmap("a", json!({"x": "1", "y": "2"})));
        let reordered = json!({"data": {"y": "2", "x": "1"}, "metadata": {"name": "a"}, "kind": "ConfigMap", "apiVersion": "v1"});
        assert_eq!(a, digest(reordered));
        assert_ne!(a, digest(configmap("a", json!({"x": "1", "y": "3"}))));
        assert!(a.starts_with("sha256:") && a.len() == 23);
    }

    #[test]
    fn errors_name_the_document() {
        let mut other = configmap("a", json!({}));
        other["metadata"]["namespace"] = json!("web");
        let err = place(vec![configmap("a", json!({})), other], &BuiltinScopes).unwrap_err();
        assert_eq!(err.document, 1);
        assert!(err.message.contains("ConfigMap/web/a is also defined in document 0"), "{}", err.message);
        let labelled = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "labels": ["x"]}});
        assert!(place(vec![labelled], &BuiltinScopes).unwrap_err().message.contains("metadata.labels must be a map of strings"));
        let unquoted = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "annotations": {"replicas": 3}}});
        assert!(place(vec![unquoted], &BuiltinScopes).unwrap_err().message.contains("metadata.annotations"));
        let nameless = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}});
        assert!(place(vec![nameless], &BuiltinScopes).unwrap_err().message.contains("metadata.name is missing"));
    }
}
