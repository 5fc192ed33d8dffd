//! Waiting for objects: healthy after apply, gone after delete, webhooks' services served.
//! Polls (the watch API would save a few requests but not time at this scale) and names
//! every object still waited for and why.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::api::{concurrently, describe};

use super::apply::{get, ApplyError};
use super::health::{compute, pod_selector, pod_trouble, Health};
use super::object::ObjectKey;

const POLL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Watched {
    pub key: ObjectKey,
    pub api: Api<DynamicObject>,
}

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("timed out waiting for {}: {}", .what, list(.pending))]
    TimedOut { what: &'static str, pending: Vec<(ObjectKey, String)> },
    #[error("{}", list(.failed))]
    Failed { failed: Vec<(ObjectKey, String)> },
    #[error("cancelled by Terraform while waiting for {}", list(.pending))]
    Cancelled { pending: Vec<(ObjectKey, String)> },
    #[error(transparent)]
    Api(#[from] ApplyError),
}

fn list(items: &[(ObjectKey, String)]) -> String {
    items.iter().map(|(key, why)| format!("{key} ({why})")).collect::<Vec<_>>().join("; ")
}

/// Waits until every object is Current. Stops early when one has Failed: waiting longer
/// would not help.
pub async fn until_healthy(items: &[Watched], deadline: Instant, cancel: &CancellationToken) -> Result<(), WaitError> {
    let waited = poll(watched(items), deadline, cancel, "objects to become ready", |(key, api)| async move {
        Ok(match get(&api, &key).await? {
            None => Verdict::Waiting("not found".into()),
            Some(object) => match compute(&object) {
                Health::Current => Verdict::Done,
                Health::Failed(why) => Verdict::Failed(why),
                other => Verdict::Waiting(other.to_string()),
            },
        })
    })
    .await;
    // A workload's counts say that it waits, its pods say why: read them once, at the end.
    match waited {
        Err(WaitError::TimedOut { what, pending }) => Err(WaitError::TimedOut { what, pending: with_pods(items, pending).await }),
        Err(WaitError::Failed { failed }) => Err(WaitError::Failed { failed: with_pods(items, failed).await }),
        other => other,
    }
}

/// Pods named per workload in a diagnostic: enough to act on, few enough to read.
const PODS_NAMED: usize = 3;

/// Each workload's reason followed by its pods that are not Ready and why (scheduling,
/// image pulls, crashes, probes): what a user would otherwise look for with `kubectl describe`.
async fn with_pods(items: &[Watched], reasons: Vec<(ObjectKey, String)>) -> Vec<(ObjectKey, String)> {
    concurrently(reasons.into_iter(), |(key, why)| async move {
        let Some(watched) = items.iter().find(|w| w.key == key) else { return (key, why) };
        match pods_not_ready(&watched.api, &key).await {
            Some(pods) => (key, format!("{why}; {pods}")),
            None => (key, why),
        }
    })
    .await
}

/// `pod NAME: why` for up to [`PODS_NAMED`] pods of the workload that are not Ready; `None`
/// for objects without pods, or when they cannot be read (the diagnostic stays as it was).
async fn pods_not_ready(api: &Api<DynamicObject>, key: &ObjectKey) -> Option<String> {
    let selector = pod_selector(&get(api, key).await.ok()??)?;
    let pods: Api<Pod> = Api::namespaced(api.clone().into_client(), &key.namespace);
    let list = pods.list(&ListParams::default().labels(&selector)).await.ok()?;
    let troubled: Vec<String> = list
        .items
        .iter()
        .filter_map(|pod| {
            let why = pod_trouble(&serde_json::to_value(pod).ok()?)?;
            Some(format!("pod {}: {why}", pod.metadata.name.as_deref().unwrap_or("?")))
        })
        .collect();
    match troubled.len() {
        0 if list.items.is_empty() => Some(format!("no pods match {selector}")),
        0 => None,
        n if n > PODS_NAMED => Some(format!("{} (and {} more)", troubled[..PODS_NAMED].join("; "), n - PODS_NAMED)),
        _ => Some(troubled.join("; ")),
    }
}

/// Waits until every object is gone (finalizers done).
pub async fn until_deleted(items: &[Watched], deadline: Instant, cancel: &CancellationToken) -> Result<(), WaitError> {
    poll(watched(items), deadline, cancel, "objects to be deleted", |(key, api)| async move {
        let Some(object) = get(&api, &key).await? else { return Ok(Verdict::Done) };
        let finalizers: Vec<&str> = object
            .pointer("/metadata/finalizers")
            .and_then(|f| f.as_array())
            .map(|f| f.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        Ok(Verdict::Waiting(if finalizers.is_empty() { "terminating".into() } else { format!("finalizers {}", finalizers.join(", ")) }))
    })
    .await
}

/// The Services that the admission webhooks of these configurations call, keyed as Services.
pub fn webhook_services(configurations: &[&Value]) -> Vec<ObjectKey> {
    let mut out: Vec<ObjectKey> = configurations
        .iter()
        .flat_map(|c| c.get("webhooks").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|hook| hook.pointer("/clientConfig/service"))
        .filter_map(|service| {
            let text = |name: &str| service.get(name).and_then(Value::as_str).map(str::to_string);
            Some(ObjectKey { group: String::new(), kind: "Service".into(), namespace: text("namespace")?, name: text("name")? })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Waits until each Service has a ready endpoint: before that, a webhook that calls it fails
/// every request it intercepts (or lets them all through, with failurePolicy Ignore).
pub async fn until_services_have_endpoints(
    client: &kube::Client,
    services: &[ObjectKey],
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), WaitError> {
    let items: Vec<(ObjectKey, Api<EndpointSlice>)> =
        services.iter().map(|s| (s.clone(), Api::namespaced(client.clone(), &s.namespace))).collect();
    poll(items, deadline, cancel, "webhook services to have ready endpoints", |(key, api)| async move {
        let selector = format!("kubernetes.io/service-name={}", key.name);
        let slices = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| ApplyError::Failed { key: key.clone(), message: format!("listing endpoint slices: {}", describe(&e)) })?;
        let ready = slices
            .items
            .iter()
            .flat_map(|slice| slice.endpoints.iter().flatten())
            .any(|endpoint| !endpoint.addresses.is_empty() && endpoint.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true));
        Ok(if ready { Verdict::Done } else { Verdict::Waiting("no ready endpoints".into()) })
    })
    .await
}

fn watched(items: &[Watched]) -> Vec<(ObjectKey, Api<DynamicObject>)> {
    items.iter().map(|w| (w.key.clone(), w.api.clone())).collect()
}

enum Verdict {
    Done,
    Waiting(String),
    Failed(String),
}

/// Probes every item each second until all are done, one has failed, the deadline passes or
/// Terraform cancels. Items are owned (an API handle is cheap to clone): probes run
/// concurrently, and futures holding borrows would trip the Send checks of async traits.
async fn poll<T, F, Fut>(
    items: Vec<(ObjectKey, T)>,
    deadline: Instant,
    cancel: &CancellationToken,
    what: &'static str,
    probe: F,
) -> Result<(), WaitError>
where
    T: Clone,
    F: Fn((ObjectKey, T)) -> Fut,
    Fut: std::future::Future<Output = Result<Verdict, ApplyError>>,
{
    let mut pending = items;
    loop {
        let verdicts = concurrently(pending.clone().into_iter(), &probe).await;
        let mut still = Vec::new();
        let mut reasons = Vec::new();
        let mut failed = Vec::new();
        for (item, verdict) in pending.into_iter().zip(verdicts) {
            match verdict? {
                Verdict::Done => {}
                Verdict::Waiting(why) => {
                    reasons.push((item.0.clone(), why));
                    still.push(item);
                }
                Verdict::Failed(why) => failed.push((item.0.clone(), why)),
            }
        }
        if !failed.is_empty() {
            return Err(WaitError::Failed { failed });
        }
        if still.is_empty() {
            return Ok(());
        }
        if Instant::now() + POLL > deadline {
            return Err(WaitError::TimedOut { what, pending: reasons });
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = cancel.cancelled() => return Err(WaitError::Cancelled { pending: reasons }),
        }
        pending = still;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn webhook_services_are_found_once_each() {
        let mutating = json!({"webhooks": [
            {"name": "a.example.com", "clientConfig": {"service": {"namespace": "sys", "name": "hooks", "path": "/a"}}},
            {"name": "b.example.com", "clientConfig": {"service": {"namespace": "sys", "name": "hooks", "path": "/b"}}},
            {"name": "c.example.com", "clientConfig": {"url": "https://hooks.example.com/c"}},
        ]});
        let validating =
            json!({"webhooks": [{"name": "d.example.com", "clientConfig": {"service": {"namespace": "ops", "name": "guard"}}}]});
        let keys: Vec<String> = webhook_services(&[&mutating, &validating]).iter().map(ToString::to_string).collect();
        assert_eq!(keys, ["Service/ops/guard", "Service/sys/hooks"]);
    }
}
