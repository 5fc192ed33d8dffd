//! Waiting for objects: healthy after apply, gone after delete. Polls (the watch API would
//! save a few requests but not time at this scale) and names every object still waited for.

use std::time::Duration;

use kube::api::{Api, DynamicObject};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::k8s::concurrently;

use super::apply::{get, ApplyError};
use super::health::{compute, Health};
use super::object::ObjectKey;

const POLL: Duration = Duration::from_secs(1);

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
    poll(items, deadline, cancel, "objects to become ready", |live| match live {
        None => Verdict::Waiting("not found".into()),
        Some(object) => match compute(&object) {
            Health::Current => Verdict::Done,
            Health::Failed(why) => Verdict::Failed(why),
            other => Verdict::Waiting(other.to_string()),
        },
    })
    .await
}

/// Waits until every object is gone (finalizers done).
pub async fn until_deleted(items: &[Watched], deadline: Instant, cancel: &CancellationToken) -> Result<(), WaitError> {
    poll(items, deadline, cancel, "objects to be deleted", |live| match live {
        None => Verdict::Done,
        Some(object) => {
            let finalizers: Vec<String> = object
                .pointer("/metadata/finalizers")
                .and_then(|f| f.as_array())
                .map(|f| f.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if finalizers.is_empty() {
                Verdict::Waiting("terminating".into())
            } else {
                Verdict::Waiting(format!("finalizers {}", finalizers.join(", ")))
            }
        }
    })
    .await
}

enum Verdict {
    Done,
    Waiting(String),
    Failed(String),
}

async fn poll(
    items: &[Watched],
    deadline: Instant,
    cancel: &CancellationToken,
    what: &'static str,
    judge: impl Fn(Option<serde_json::Value>) -> Verdict,
) -> Result<(), WaitError> {
    let mut pending: Vec<&Watched> = items.iter().collect();
    loop {
        let mut still = Vec::new();
        let mut reasons = Vec::new();
        let mut failed = Vec::new();
        // Owned per task: futures holding borrows trip the Send checks of the async trait.
        let owned: Vec<_> = pending.iter().map(|w| (w.api.clone(), w.key.clone())).collect();
        let lives = concurrently(owned.into_iter(), |(api, key)| async move { get(&api, &key).await }).await;
        for (item, live) in pending.into_iter().zip(lives) {
            match judge(live?) {
                Verdict::Done => {}
                Verdict::Waiting(why) => {
                    reasons.push((item.key.clone(), why));
                    still.push(item);
                }
                Verdict::Failed(why) => failed.push((item.key.clone(), why)),
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
