//! Chart hooks, run as Helm runs them: for one event, in Helm's order (weight, then name,
//! then kind in install order); each created as it is written (a hook is not applied, and not
//! part of the release's inventory), after deleting the previous one of that name when its
//! policy says `before-hook-creation` (the default); Jobs waited until complete and Pods until
//! they succeed, other kinds not at all. A failed hook stops the event: it is deleted if its
//! policy says `hook-failed`, the hooks before it if theirs says `hook-succeeded`. When every
//! hook succeeded, those marked `hook-succeeded` are deleted, last first. `test` hooks are
//! never run.

use std::time::Duration;

use aqemia_release::api::{describe, is_not_found, with_retries};
use aqemia_release::discovery::Discovery;
use aqemia_release::engine::ReleaseError;
use kube::api::{Api, DeleteParams, DynamicObject, PostParams, PropagationPolicy};
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::render::Rendered;

/// The lifecycle events a release runs hooks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    PreInstall,
    PostInstall,
    PreUpgrade,
    PostUpgrade,
    PreDelete,
    PostDelete,
    PreRollback,
    PostRollback,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::PreInstall => "pre-install",
            Event::PostInstall => "post-install",
            Event::PreUpgrade => "pre-upgrade",
            Event::PostUpgrade => "post-upgrade",
            Event::PreDelete => "pre-delete",
            Event::PostDelete => "post-delete",
            Event::PreRollback => "pre-rollback",
            Event::PostRollback => "post-rollback",
        }
    }
}

/// One hook object of a render.
#[derive(Debug, Clone)]
pub struct Hook {
    pub rendered: Rendered,
    pub kind: String,
    pub name: String,
    pub events: Vec<String>,
    pub weight: i64,
    /// `before-hook-creation` when the chart names none, as Helm defaults it.
    pub delete_policies: Vec<String>,
}

impl Hook {
    fn has_policy(&self, policy: &str) -> bool {
        // Helm never deletes a CRD that a hook made: that would delete every object of its kind.
        self.kind != "CustomResourceDefinition" && self.delete_policies.iter().any(|p| p == policy)
    }
}

/// The hooks of `hooks` (in install order of kinds, as rendered) that run for `event`, in the
/// order Helm runs them. The sort is stable: kind decides only on equal weight and name.
pub fn for_event(hooks: &[Hook], event: Event) -> Vec<&Hook> {
    let mut out: Vec<&Hook> = hooks.iter().filter(|h| h.events.iter().any(|e| e == event.name())).collect();
    aqemia_helm::render::sort_hooks_for_run(&mut out, |h| (h.weight, h.name.as_str()));
    out
}

/// Runs the hooks of one event. `namespace` is the release's, for hooks that name none.
pub async fn run(
    discovery: &mut Discovery,
    namespace: &str,
    hooks: &[&Hook],
    event: Event,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), ReleaseError> {
    let mut targets: Vec<Target> = Vec::with_capacity(hooks.len());
    for (index, hook) in hooks.iter().enumerate() {
        let target = Target::of(discovery, hook, namespace).await?;
        if hook.has_policy("before-hook-creation") {
            target.delete_and_wait(deadline, cancel).await?;
        }
        let outcome = match target.create().await {
            Ok(()) => target.wait(deadline, cancel).await,
            Err(e) => Err(e),
        };
        if let Err(reason) = outcome {
            if hook.has_policy("hook-failed") {
                if let Err(e) = target.delete_and_wait(deadline, cancel).await {
                    tracing::warn!(hook = %target.describe(), error = %e, "the failed hook could not be deleted");
                }
            }
            for (earlier, target) in hooks[..index].iter().zip(&targets) {
                if earlier.has_policy("hook-succeeded") {
                    target.delete_and_wait(deadline, cancel).await?;
                }
            }
            return Err(anyhow::anyhow!("{} hook {} ({}) failed: {reason}", event.name(), target.describe(), hook.rendered.source).into());
        }
        targets.push(target);
    }
    for (hook, target) in hooks.iter().zip(&targets).rev() {
        if hook.has_policy("hook-succeeded") {
            target.delete_and_wait(deadline, cancel).await?;
        }
    }
    Ok(())
}

/// A hook object in its API.
struct Target {
    api: Api<DynamicObject>,
    object: DynamicObject,
    kind: String,
    name: String,
    namespace: Option<String>,
}

impl Target {
    async fn of(discovery: &mut Discovery, hook: &Hook, release_namespace: &str) -> Result<Target, ReleaseError> {
        let body = &hook.rendered.body;
        let api_version = body.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let resolved =
            discovery.resolve(api_version, &hook.kind).await.map_err(|e| anyhow::anyhow!("hook {}: {e}", hook.rendered.source))?;
        let mut object: DynamicObject = serde_json::from_value(body.clone())
            .map_err(|e| anyhow::anyhow!("hook {}: not a Kubernetes object: {e}", hook.rendered.source))?;
        let client = discovery.client().clone();
        let (api, namespace) = if resolved.namespaced {
            let namespace = object.metadata.namespace.clone().unwrap_or_else(|| release_namespace.to_string());
            object.metadata.namespace = Some(namespace.clone());
            (Api::namespaced_with(client, &namespace, &resolved.resource), Some(namespace))
        } else {
            (Api::all_with(client, &resolved.resource), None)
        };
        Ok(Target { api, object, kind: hook.kind.clone(), name: hook.name.clone(), namespace })
    }

    fn describe(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace.as_deref().unwrap_or(""), self.name)
    }

    async fn create(&self) -> Result<(), String> {
        let params = PostParams { field_manager: Some("aqemia".into()), ..PostParams::default() };
        match with_retries(|| self.api.create(&params, &self.object)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("creating it: {}", describe(&e))),
        }
    }

    /// Until a Job completes or a Pod succeeds; other kinds are ready once created.
    async fn wait(&self, deadline: Instant, cancel: &CancellationToken) -> Result<(), String> {
        if !matches!(self.kind.as_str(), "Job" | "Pod") {
            return Ok(());
        }
        // A Job with ttlSecondsAfterFinished may be removed as soon as it finishes (the
        // ingress-nginx chart's are): gone then means done, as Helm's waiter takes it.
        let removed_when_done = self.object.data.pointer("/spec/ttlSecondsAfterFinished").is_some();
        loop {
            let live = match with_retries(|| self.api.get_opt(&self.name)).await {
                Ok(Some(live)) => live,
                Ok(None) if removed_when_done => return Ok(()),
                Ok(None) => return Err("it was deleted before it finished".into()),
                Err(e) => return Err(format!("reading it: {}", describe(&e))),
            };
            let status = live.data.get("status").cloned().unwrap_or(Value::Null);
            match hook_state(&self.kind, &status) {
                HookState::Succeeded => return Ok(()),
                HookState::Failed(reason) => return Err(reason),
                HookState::Running(what) => {
                    if Instant::now() >= deadline {
                        return Err(format!("timed out waiting for it: {what}"));
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                        _ = cancel.cancelled() => return Err("cancelled while waiting for it".into()),
                    }
                }
            }
        }
    }

    /// Deletes the object if it exists and waits until it is gone, so a new one of the same
    /// name can be created.
    async fn delete_and_wait(&self, deadline: Instant, cancel: &CancellationToken) -> Result<(), ReleaseError> {
        let params = DeleteParams { propagation_policy: Some(PropagationPolicy::Background), ..DeleteParams::default() };
        match with_retries(|| self.api.delete(&self.name, &params)).await {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(anyhow::anyhow!("deleting hook {}: {}", self.describe(), describe(&e)).into()),
        }
        loop {
            match with_retries(|| self.api.get_opt(&self.name)).await {
                Ok(None) => return Ok(()),
                Ok(Some(_)) if Instant::now() < deadline && !cancel.is_cancelled() => tokio::time::sleep(Duration::from_millis(250)).await,
                Ok(Some(_)) => return Err(anyhow::anyhow!("hook {} was not deleted in time", self.describe()).into()),
                Err(e) => return Err(anyhow::anyhow!("waiting for hook {} to go: {}", self.describe(), describe(&e)).into()),
            }
        }
    }
}

#[derive(Debug, PartialEq)]
enum HookState {
    Succeeded,
    Failed(String),
    Running(String),
}

/// Where a Job or Pod hook stands, from its status.
fn hook_state(kind: &str, status: &Value) -> HookState {
    if kind == "Job" {
        let conditions = status.get("conditions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let holds = |kind: &str| {
            conditions
                .iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(kind) && c.get("status").and_then(Value::as_str) == Some("True"))
        };
        if holds("Complete").is_some() {
            return HookState::Succeeded;
        }
        if let Some(failed) = holds("Failed") {
            let field = |name: &str| failed.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
            return HookState::Failed(format!("the Job failed: {}: {}", field("reason"), field("message")));
        }
        let active = status.get("active").and_then(Value::as_i64).unwrap_or(0);
        return HookState::Running(format!("the Job has not completed ({active} pod(s) active)"));
    }
    match status.get("phase").and_then(Value::as_str) {
        Some("Succeeded") => HookState::Succeeded,
        Some("Failed") => {
            let reason = status.get("reason").and_then(Value::as_str).unwrap_or("no reason given");
            let message = status.get("message").and_then(Value::as_str).unwrap_or_default();
            HookState::Failed(format!("the Pod failed: {reason} {message}").trim_end().to_string())
        }
        phase => HookState::Running(format!("the Pod is {}", phase.unwrap_or("not scheduled yet"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hook(name: &str, kind: &str, events: &[&str], weight: i64) -> Hook {
        Hook {
            rendered: Rendered { source: format!("c/templates/{name}.yaml"), body: json!({}), random: false },
            kind: kind.into(),
            name: name.into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            weight,
            delete_policies: vec!["before-hook-creation".into()],
        }
    }

    #[test]
    fn order_is_weight_then_name_then_kind() {
        // As rendered: kinds in install order.
        let hooks = [
            hook("b", "ConfigMap", &["pre-install"], 0),
            hook("a", "Job", &["pre-install", "pre-upgrade"], 0),
            hook("c", "Job", &["pre-install"], -5),
        ];
        let names: Vec<&str> = for_event(&hooks, Event::PreInstall).iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
        assert_eq!(for_event(&hooks, Event::PreUpgrade).len(), 1);
        assert!(for_event(&hooks, Event::PostDelete).is_empty());
    }

    #[test]
    fn crds_are_never_deleted_by_policy() {
        let mut crd = hook("x", "CustomResourceDefinition", &["pre-install"], 0);
        crd.delete_policies = vec!["hook-succeeded".into()];
        assert!(!crd.has_policy("hook-succeeded"));
    }

    #[test]
    fn job_and_pod_states() {
        let complete = json!({"conditions": [{"type": "Complete", "status": "True"}]});
        assert_eq!(hook_state("Job", &complete), HookState::Succeeded);
        let failed = json!({"conditions": [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded", "message": "Job was active longer than specified deadline"}]});
        assert_eq!(
            hook_state("Job", &failed),
            HookState::Failed("the Job failed: DeadlineExceeded: Job was active longer than specified deadline".into())
        );
        assert!(matches!(hook_state("Job", &json!({"active": 1})), HookState::Running(_)));
        assert_eq!(hook_state("Pod", &json!({"phase": "Succeeded"})), HookState::Succeeded);
        assert!(matches!(hook_state("Pod", &json!({"phase": "Failed", "reason": "Error"})), HookState::Failed(r) if r.contains("Error")));
    }
}
