//! Server-side apply of one object, as field manager `aqemia`.
//!
//! Not forced at first: an apply that conflicts with another field manager writes nothing
//! and names the fields. Conflicts are then forced only for fields this release applied
//! before (someone changed them since: drift to repair), for fields of a manager the release
//! takes over from (Helm, when a release it installed is imported), or when the user asks;
//! any other conflict stops with the fields and their managers named. An apply that changes nothing
//! is not written by the API server (no new resourceVersion, controllers stay quiet).

use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PropagationPolicy};
use serde_json::Value;

use crate::api::{delete_if_present, describe, get_if_present, with_retries};
use crate::discovery::Resolved;

use super::object::ObjectKey;

/// The field manager of every write.
pub const FIELD_MANAGER: &str = "aqemia";

/// Which conflicting fields an apply takes from the managers that own them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Forcing {
    /// Every conflict: the user asked for it.
    pub all: bool,
    /// Conflicts with the managers this accepts: a release taken over from the tool that
    /// installed it.
    pub take_over_from: Option<fn(&str) -> bool>,
}

impl Forcing {
    /// Whether every one of `conflicts` is the release's to force: a field it applied before
    /// (`previous` holds it) or one a manager it takes over from owns.
    fn covers(&self, conflicts: &[Conflict], previous: Option<&Value>) -> bool {
        let taken_over = |manager: &str| self.take_over_from.is_some_and(|accepts| accepts(manager));
        conflicts.iter().all(|c| taken_over(&c.manager) || previous.is_some_and(|prev| field_present(prev, &c.field)))
    }
}

/// A field that another manager owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// As the API server writes it: `.spec.replicas`.
    pub field: String,
    pub manager: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{key} conflicts with other field managers: {}", list_conflicts(.conflicts))]
    Conflict { key: ObjectKey, conflicts: Vec<Conflict> },
    #[error("the API server rejected {key}: {message}")]
    Rejected { key: ObjectKey, message: String },
    #[error("applying {key}: {message}")]
    Failed { key: ObjectKey, message: String },
}

fn list_conflicts(conflicts: &[Conflict]) -> String {
    conflicts.iter().map(|c| format!("{} (owned by {:?})", c.field, c.manager)).collect::<Vec<_>>().join(", ")
}

/// The API for one object's kind and namespace.
pub fn api_for(client: &kube::Client, resolved: &Resolved, key: &ObjectKey) -> Api<DynamicObject> {
    if resolved.namespaced {
        Api::namespaced_with(client.clone(), &key.namespace, &resolved.resource)
    } else {
        Api::all_with(client.clone(), &resolved.resource)
    }
}

/// Reads the live object; `None` when it does not exist.
pub async fn get(api: &Api<DynamicObject>, key: &ObjectKey) -> Result<Option<Value>, ApplyError> {
    match get_if_present(api, &key.name).await {
        Ok(object) => Ok(object.as_ref().map(to_json)),
        Err(e) => Err(ApplyError::Failed { key: key.clone(), message: format!("reading: {}", describe(&e)) }),
    }
}

/// Whether a write persists or only shows what it would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Commit,
    DryRun,
}

/// Applies `body` (with `Mode::DryRun`, only asks whether the API server would take it).
/// `previous`, the body this release applied last time, and `forcing` decide which conflicts
/// are ours to force.
pub async fn apply(
    api: &Api<DynamicObject>,
    key: &ObjectKey,
    body: &Value,
    previous: Option<&Value>,
    forcing: &Forcing,
    mode: Mode,
) -> Result<(), ApplyError> {
    let mut params = PatchParams::apply(FIELD_MANAGER);
    if forcing.all {
        params = params.force();
    }
    if mode == Mode::DryRun {
        params = params.dry_run();
    }
    // A conflicting apply changes nothing, so there is no need to ask first.
    let result = match patch(api, key, body, &params).await {
        Err(PatchError::Conflict(conflicts)) => {
            if !forcing.covers(&conflicts, previous) {
                return Err(ApplyError::Conflict { key: key.clone(), conflicts });
            }
            patch(api, key, body, &params.force()).await
        }
        other => other,
    };
    result.map(drop).map_err(|e| e.into_apply_error(key))
}

/// The live object as the release would leave it, without writing: drift is the difference.
pub async fn dry_run(api: &Api<DynamicObject>, key: &ObjectKey, body: &Value) -> Result<Value, ApplyError> {
    let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
    patch(api, key, body, &params).await.map_err(|e| e.into_apply_error(key))
}

/// Deletes with background propagation; an object already gone counts as deleted.
pub async fn delete(api: &Api<DynamicObject>, key: &ObjectKey) -> Result<(), ApplyError> {
    let params = DeleteParams { propagation_policy: Some(PropagationPolicy::Background), ..Default::default() };
    delete_if_present(api, &key.name, &params)
        .await
        .map_err(|e| ApplyError::Failed { key: key.clone(), message: format!("deleting: {}", describe(&e)) })
}

enum PatchError {
    Conflict(Vec<Conflict>),
    Rejected(String),
    Failed(String),
}

impl PatchError {
    fn into_apply_error(self, key: &ObjectKey) -> ApplyError {
        let key = key.clone();
        match self {
            PatchError::Conflict(conflicts) => ApplyError::Conflict { key, conflicts },
            PatchError::Rejected(message) => ApplyError::Rejected { key, message },
            PatchError::Failed(message) => ApplyError::Failed { key, message },
        }
    }
}

async fn patch(api: &Api<DynamicObject>, key: &ObjectKey, body: &Value, params: &PatchParams) -> Result<Value, PatchError> {
    let patch = Patch::Apply(body);
    match with_retries(|| api.patch(&key.name, params, &patch)).await {
        Ok(object) => Ok(to_json(&object)),
        Err(kube::Error::Api(status)) if status.is_conflict() => {
            let causes = status.details.as_ref().map(|d| d.causes.as_slice()).unwrap_or_default();
            let conflicts: Vec<Conflict> = causes
                .iter()
                .map(|c| Conflict { field: c.field.clone(), manager: manager_of(&c.message).unwrap_or("unknown").to_string() })
                .collect();
            if conflicts.is_empty() {
                Err(PatchError::Failed(status.message.clone()))
            } else {
                Err(PatchError::Conflict(conflicts))
            }
        }
        // 4xx other than conflicts: the object itself is wrong (invalid, forbidden, denied by
        // a webhook, kind not served).
        Err(kube::Error::Api(status)) if (400..500).contains(&status.code) => Err(PatchError::Rejected(status.message.clone())),
        Err(e) => Err(PatchError::Failed(describe(&e))),
    }
}

/// The manager named in a conflict cause: `conflict with "kubectl-edit" using apps/v1`.
fn manager_of(message: &str) -> Option<&str> {
    let start = message.find('"')? + 1;
    let len = message[start..].find('"')?;
    Some(&message[start..start + len])
}

fn to_json(object: &DynamicObject) -> Value {
    serde_json::to_value(object).expect("an object read from JSON serialises back")
}

/// An object without what changes on every write or belongs to controllers: two objects
/// that compare equal here hold the same configuration.
pub fn comparable(object: &Value) -> Value {
    let mut out = object.clone();
    if let Some(map) = out.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for volatile in ["managedFields", "resourceVersion", "generation"] {
                meta.remove(volatile);
            }
        }
    }
    out
}

/// Whether `body` sets the field at `path`, a managed-fields path like
/// `.spec.template.spec.containers[name="app"].image` or `.metadata.finalizers[="a"]`.
pub fn field_present(body: &Value, path: &str) -> bool {
    let mut current = body;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after_dot) = rest.strip_prefix('.') {
            // Keys may hold dots themselves (`app.kubernetes.io/name`): take the longest key
            // that the path continues with.
            let Some(map) = current.as_object() else { return false };
            let Some((key, next)) = map
                .iter()
                .filter(|(k, _)| after_dot.starts_with(k.as_str()) && matches!(after_dot[k.len()..].chars().next(), None | Some('.' | '[')))
                .max_by_key(|(k, _)| k.len())
            else {
                return false;
            };
            current = next;
            rest = &after_dot[key.len()..];
        } else if let Some(after_bracket) = rest.strip_prefix('[') {
            let Some(end) = closing_bracket(after_bracket) else { return false };
            let selector = &after_bracket[..end];
            let Some(items) = current.as_array() else { return false };
            let found = match selector.parse::<usize>() {
                Ok(index) => items.get(index),
                Err(_) => items.iter().find(|item| matches_selector(item, selector)),
            };
            let Some(found) = found else { return false };
            current = found;
            rest = &after_bracket[end + 1..];
        } else {
            return false;
        }
    }
    true
}

/// The index of the `]` that closes a selector, skipping brackets inside quoted values.
fn closing_bracket(text: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ']' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

/// `name="app"`, `containerPort=80,protocol="TCP"`, or `="value"` (a set of scalars).
fn matches_selector(item: &Value, selector: &str) -> bool {
    if let Some(literal) = selector.strip_prefix('=') {
        return serde_json::from_str::<Value>(literal).is_ok_and(|v| &v == item);
    }
    split_pairs(selector).into_iter().all(|(field, literal)| {
        let expected = serde_json::from_str::<Value>(literal).unwrap_or_else(|_| Value::String(literal.to_string()));
        item.get(field) == Some(&expected)
    })
}

/// Splits `a="x,y",b=2` at the commas outside quotes.
fn split_pairs(selector: &str) -> Vec<(&str, &str)> {
    let mut pairs = Vec::new();
    let (mut start, mut in_string, mut escaped) = (0, false, false);
    for (i, c) in selector.char_indices().chain(std::iter::once((selector.len(), ','))) {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ',' if !in_string => {
                if let Some((field, literal)) = selector[start..i].split_once('=') {
                    pairs.push((field, literal));
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn managed_field_paths_find_what_a_body_sets() {
        let body = json!({
            "spec": {
                "replicas": 2,
                "template": {"spec": {"containers": [
                    {"name": "app", "image": "web:1", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                ]}},
            },
            "metadata": {"finalizers": ["a.io/x"], "labels": {"app.kubernetes.io/name": "web"}},
        });
        assert!(field_present(&body, ".spec.replicas"));
        assert!(field_present(&body, ".spec.template.spec.containers[name=\"app\"].image"));
        assert!(field_present(
            &body,
            ".spec.template.spec.containers[name=\"app\"].ports[containerPort=80,protocol=\"TCP\"].containerPort"
        ));
        assert!(field_present(&body, ".metadata.finalizers[=\"a.io/x\"]"));
        assert!(field_present(&body, ".metadata.labels.app.kubernetes.io/name"));
        assert!(field_present(&body, ".spec.template.spec.containers[0].image"));
        assert!(!field_present(&body, ".metadata.labels.missing"));
        assert!(!field_present(&body, ".spec.paused"));
        assert!(!field_present(&body, ".spec.template.spec.containers[name=\"sidecar\"].image"));
        assert!(!field_present(&body, ".metadata.finalizers[=\"b.io/y\"]"));
    }

    #[test]
    fn only_our_own_fields_and_those_of_a_manager_taken_over_from_are_forced() {
        let conflict = |field: &str, manager: &str| Conflict { field: field.into(), manager: manager.into() };
        let previous = json!({"spec": {"replicas": 2}});
        let helm = Forcing { all: false, take_over_from: Some(|m: &str| m == "helm") };
        let ours = [conflict(".spec.replicas", "kubectl-edit")];
        let helms = [conflict(".metadata.labels.team", "helm")];
        let mixed = [conflict(".spec.replicas", "kubectl-edit"), conflict(".metadata.labels.team", "helm")];
        let others = [conflict(".metadata.labels.team", "kubectl-edit")];
        assert!(Forcing::default().covers(&ours, Some(&previous)));
        assert!(!Forcing::default().covers(&helms, Some(&previous)));
        assert!(helm.covers(&helms, None) && helm.covers(&mixed, Some(&previous)));
        assert!(!helm.covers(&mixed, None) && !helm.covers(&others, Some(&previous)));
    }

    #[test]
    fn conflict_messages_name_the_manager() {
        assert_eq!(manager_of("conflict with \"kubectl-edit\" using apps/v1"), Some("kubectl-edit"));
        assert_eq!(manager_of("conflict with \"other\""), Some("other"));
        assert_eq!(manager_of("no quotes"), None);
    }

    #[test]
    fn comparison_ignores_bookkeeping_and_status() {
        let a = json!({"metadata": {"name": "x", "resourceVersion": "1", "managedFields": [], "generation": 1}, "spec": {"a": 1}, "status": {"b": 1}});
        let b = json!({"metadata": {"name": "x", "resourceVersion": "2", "generation": 2}, "spec": {"a": 1}});
        let c = json!({"metadata": {"name": "x"}, "spec": {"a": 2}});
        assert_eq!(comparable(&a), comparable(&b));
        assert_ne!(comparable(&a), comparable(&c));
    }
}
