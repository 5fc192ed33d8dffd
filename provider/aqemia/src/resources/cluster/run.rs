//! What every step of an apply or refresh shares: the clients, the spec, the parts record,
//! the deadline, progress lines in Terraform's log, waits, and tag comparison.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::parts::Parts;
use super::spec::Spec;
use crate::aws::Aws;

pub struct Run<'a> {
    pub aws: &'a Aws,
    pub spec: &'a Spec,
    pub parts: &'a Parts,
    /// The user tags of the prior state: keys dropped from the configuration are removed
    /// from AWS, while tags others added (controllers, cost tools) are left alone.
    pub prior_tags: BTreeMap<String, String>,
    pub deadline: Instant,
    pub cancel: CancellationToken,
}

impl Run<'_> {
    pub fn log(&self, message: impl AsRef<str>) {
        tracing::info!(tf_resource_type = "aqemia_cluster", "aqemia_cluster.{}: {}", self.spec.name, message.as_ref());
    }

    /// Polls `probe` until it yields a value, with backoff from 0.5 s to 15 s. `what` names
    /// the wait in progress lines and in the timeout error.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, probe: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<Option<T>>>,
    {
        self.wait_until(what, self.deadline, probe).await
    }

    /// `wait_for` with a deadline of its own, earlier than the operation's.
    pub async fn wait_until<T, F, Fut>(&self, what: &str, deadline: Instant, mut probe: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<Option<T>>>,
    {
        let started = Instant::now();
        let mut pause = Duration::from_millis(500);
        let mut next_note = started + Duration::from_secs(30);
        loop {
            if let Some(value) = probe().await? {
                return Ok(value);
            }
            let now = Instant::now();
            if now >= deadline {
                anyhow::bail!("timed out after {}s waiting for {what}", (now - started).as_secs());
            }
            if now >= next_note {
                self.log(format!("still waiting for {what} ({}s)", (now - started).as_secs()));
                next_note = now + Duration::from_secs(30);
            }
            tokio::select! {
                _ = tokio::time::sleep(pause.min(deadline - now)) => {}
                _ = self.cancel.cancelled() => anyhow::bail!("interrupted while waiting for {what}"),
            }
            pause = (pause * 2).min(Duration::from_secs(15));
        }
    }

    /// How a part's tags must change: wanted tags missing or different are set; user tags
    /// removed from the configuration since the last apply are removed.
    pub fn tag_fix(&self, part: &str, actual: &BTreeMap<String, String>) -> TagFix {
        let wanted = self.spec.tags_for(part);
        let set: BTreeMap<String, String> =
            wanted.iter().filter(|(k, v)| actual.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
        let remove = self.prior_tags.keys().filter(|k| !wanted.contains_key(*k) && actual.contains_key(*k)).cloned().collect();
        TagFix { set, remove }
    }
}

#[derive(Debug, Default, PartialEq)]
pub struct TagFix {
    pub set: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

impl TagFix {
    /// "tag Team changed" for the plan.
    pub fn describe(&self) -> Option<String> {
        let keys: Vec<&str> = self.set.keys().chain(&self.remove).map(String::as_str).collect();
        match keys.len() {
            0 => None,
            1 => Some(format!("tag {} differs", keys[0])),
            _ => Some(format!("tags {} differ", keys.join(", "))),
        }
    }
}

/// Joins what drifted on one part: "tag Team differs; ingress 443/tcp missing".
pub fn join_drift(items: Vec<String>) -> Option<String> {
    (!items.is_empty()).then(|| items.join("; "))
}
