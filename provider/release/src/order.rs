//! The order in which a release's objects go in and come out.
//!
//! Applying happens in stages, each waited on before the next: what everything else depends
//! on (namespaces, CRDs, cluster-wide RBAC), then the `*Class` kinds that objects refer to by
//! name, then the bulk, and admission webhooks last so that they cannot reject the objects of
//! their own release before their service answers. Within a stage, kinds go in dependency
//! order and ties break by group, kind, namespace and name, so the same release always
//! applies the same way. Uninstalling walks the same order backwards.

use super::object::ObjectKey;

/// A step of a staged apply; the engine waits for each stage to be healthy before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Namespaces, CRDs, ClusterRoles and their bindings. CRDs must be Established, and
    /// discovery refreshed, before any custom resource of theirs is applied.
    Foundation,
    /// Every kind named `*Class` (StorageClass, IngressClass, PriorityClass...).
    Classes,
    /// Everything else, custom resources included.
    Main,
    /// Mutating and validating webhook configurations.
    Webhooks,
}

impl Stage {
    pub fn of(key: &ObjectKey) -> Stage {
        match (key.group.as_str(), key.kind.as_str()) {
            ("", "Namespace") | ("apiextensions.k8s.io", "CustomResourceDefinition") => Stage::Foundation,
            ("rbac.authorization.k8s.io", "ClusterRole" | "ClusterRoleBinding") => Stage::Foundation,
            ("admissionregistration.k8s.io", "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration") => Stage::Webhooks,
            (_, kind) if kind.ends_with("Class") => Stage::Classes,
            _ => Stage::Main,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Stage::Foundation => "namespaces, CRDs and cluster RBAC",
            Stage::Classes => "classes",
            Stage::Main => "workloads and the rest",
            Stage::Webhooks => "admission webhooks",
        }
    }
}

/// Kinds in the order they depend on each other: a kind needs only kinds before it. Kinds
/// not listed (custom resources among them) come after all of these.
const KIND_ORDER: &[&str] = &[
    "CustomResourceDefinition",
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "Secret",
    "ConfigMap",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Service",
    "PodDisruptionBudget",
    "DaemonSet",
    "Pod",
    "ReplicaSet",
    "Deployment",
    "StatefulSet",
    "HorizontalPodAutoscaler",
    "Job",
    "CronJob",
    "Ingress",
    "APIService",
];

fn kind_rank(kind: &str) -> usize {
    KIND_ORDER.iter().position(|k| *k == kind).unwrap_or(KIND_ORDER.len())
}

/// The sort key of an object in apply order.
fn apply_rank(key: &ObjectKey) -> (Stage, usize, &str, &str, &str, &str) {
    (Stage::of(key), kind_rank(&key.kind), &key.group, &key.kind, &key.namespace, &key.name)
}

/// Sorts `items` into apply order by the key each carries.
pub fn sort_for_apply<T>(items: &mut [T], key: impl Fn(&T) -> &ObjectKey) {
    items.sort_by(|a, b| apply_rank(key(a)).cmp(&apply_rank(key(b))));
}

/// Sorts `items` into uninstall order: apply order reversed, so custom resources go before
/// their CRDs and namespaced objects before their namespace.
pub fn sort_for_delete<T>(items: &mut [T], key: impl Fn(&T) -> &ObjectKey) {
    items.sort_by(|a, b| apply_rank(key(b)).cmp(&apply_rank(key(a))));
}

/// Splits items already in apply order into their stages, in order.
pub fn stages<T>(items: &[T], key: impl Fn(&T) -> &ObjectKey) -> Vec<(Stage, &[T])> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let stage = Stage::of(key(&items[start]));
        let len = items[start..].iter().take_while(|item| Stage::of(key(item)) == stage).count();
        out.push((stage, &items[start..start + len]));
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ObjectKey {
        s.parse().unwrap()
    }

    fn printed(keys: &[ObjectKey]) -> Vec<String> {
        keys.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn stages_then_dependency_order_then_names() {
        let mut keys: Vec<ObjectKey> = [
            "ValidatingWebhookConfiguration.admissionregistration.k8s.io//policy-check",
            "Widget.example.com/web/w1",
            "Deployment.apps/web/api",
            "Service/web/api",
            "ConfigMap/web/b",
            "ConfigMap/web/a",
            "IngressClass.networking.k8s.io//edge",
            "ClusterRole.rbac.authorization.k8s.io//reader",
            "Namespace//web",
            "CustomResourceDefinition.apiextensions.k8s.io//widgets.example.com",
            "ServiceAccount/web/api",
        ]
        .into_iter()
        .map(key)
        .collect();
        sort_for_apply(&mut keys, |k| k);
        assert_eq!(
            printed(&keys),
            [
                "CustomResourceDefinition.apiextensions.k8s.io//widgets.example.com",
                "Namespace//web",
                "ClusterRole.rbac.authorization.k8s.io//reader",
                "IngressClass.networking.k8s.io//edge",
                "ServiceAccount/web/api",
                "ConfigMap/web/a",
                "ConfigMap/web/b",
                "Service/web/api",
                "Deployment.apps/web/api",
                "Widget.example.com/web/w1",
                "ValidatingWebhookConfiguration.admissionregistration.k8s.io//policy-check",
            ]
        );
        let staged: Vec<(Stage, usize)> = stages(&keys, |k| k).into_iter().map(|(s, items)| (s, items.len())).collect();
        assert_eq!(staged, [(Stage::Foundation, 3), (Stage::Classes, 1), (Stage::Main, 6), (Stage::Webhooks, 1)]);
    }

    #[test]
    fn delete_order_is_apply_order_reversed() {
        let mut keys: Vec<ObjectKey> = [
            "Namespace//web",
            "Widget.example.com/web/w1",
            "CustomResourceDefinition.apiextensions.k8s.io//widgets.example.com",
            "Secret/web/s",
        ]
        .into_iter()
        .map(key)
        .collect();
        sort_for_delete(&mut keys, |k| k);
        assert_eq!(
            printed(&keys),
            [
                "Widget.example.com/web/w1",
                "Secret/web/s",
                "Namespace//web",
                "CustomResourceDefinition.apiextensions.k8s.io//widgets.example.com"
            ]
        );
    }

    #[test]
    fn order_does_not_depend_on_input_order() {
        let base: Vec<ObjectKey> =
            ["Secret/a/x", "Secret/b/x", "Role.rbac.authorization.k8s.io/a/r", "Gadget.example.com/a/g", "Gadget.other.io/a/g"]
                .into_iter()
                .map(key)
                .collect();
        let mut forward = base.clone();
        let mut backward: Vec<ObjectKey> = base.into_iter().rev().collect();
        sort_for_apply(&mut forward, |k| k);
        sort_for_apply(&mut backward, |k| k);
        assert_eq!(forward, backward);
    }
}
