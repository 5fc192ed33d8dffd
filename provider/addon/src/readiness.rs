//! Proof that an add-on serves where its objects' health is not enough: a webhook Deployment
//! can be Available while its CA bundle is not injected or its Service has no endpoints yet,
//! and objects applied then are refused. The probe is a server-side dry-run create of an object
//! the add-on's webhooks must see (a ClusterIssuer for cert-manager, a policy for Kyverno),
//! repeated while the answers are those of a webhook still starting, as cert-manager's own
//! API check does. Nothing is written.

use std::time::Duration;

use aqemia_release::api::{describe, group_of};
use aqemia_release::apply::FIELD_MANAGER;
use aqemia_release::discovery::Discovery;
use aqemia_release::engine::ReleaseError;
use kube::api::{Api, DynamicObject, PostParams};
use serde_json::Value;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Answers of a webhook, or an API, that is still coming up: worth asking again.
const STARTING: [&str; 10] = [
    "failed calling webhook",
    "no endpoints available for service",
    "connection refused",
    "x509: certificate signed by unknown authority",
    "could not find the requested resource",
    "no matches for kind",
    "serves no kind",
    "the server is currently unable to handle the request",
    "context deadline exceeded",
    "not found",
];
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// Waits until a server-side dry-run create of `probe` is accepted. An answer that is not one
/// of a webhook starting (a denial of the probe itself) fails at once: waiting would not help.
pub async fn until_accepted(
    discovery: &mut Discovery,
    probe: &Value,
    default_namespace: &str,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<(), ReleaseError> {
    let api_version = probe.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let kind = probe.get("kind").and_then(Value::as_str).unwrap_or_default();
    let name = probe.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let what = format!("a dry-run create of {kind} {name}");
    let object: DynamicObject =
        serde_json::from_value(probe.clone()).map_err(|e| anyhow::anyhow!("the readiness probe is not an object: {e}"))?;
    let params = PostParams { dry_run: true, field_manager: Some(FIELD_MANAGER.into()) };
    let mut pause = FIRST_PAUSE;
    loop {
        let answer = match discovery.resolve(api_version, kind).await {
            Ok(resolved) => {
                let namespace = probe.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or(default_namespace);
                let api: Api<DynamicObject> = match resolved.namespaced {
                    true => Api::namespaced_with(discovery.client().clone(), namespace, &resolved.resource),
                    false => Api::all_with(discovery.client().clone(), &resolved.resource),
                };
                match api.create(&params, &object).await {
                    Ok(_) => return Ok(()),
                    Err(e) => describe(&e),
                }
            }
            Err(e) => {
                // A CRD just established: ask discovery afresh next time.
                discovery.forget_group(group_of(api_version));
                e.to_string()
            }
        };
        if !is_starting(&answer) {
            return Err(anyhow::anyhow!("{what} was refused: {answer}").into());
        }
        if Instant::now() + pause > deadline {
            return Err(anyhow::anyhow!("{what} was still not accepted when the timeout ran out; the last answer: {answer}").into());
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = cancel.cancelled() => return Err(anyhow::anyhow!("cancelled while waiting for {what} to be accepted").into()),
        }
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

fn is_starting(answer: &str) -> bool {
    let answer = answer.to_ascii_lowercase();
    STARTING.iter().any(|text| answer.contains(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_starting_webhook_is_asked_again_and_a_denial_is_final() {
        assert!(is_starting(
            "Internal error occurred: failed calling webhook \"webhook.cert-manager.io\": Post \"https://cert-manager-webhook.cert-manager.svc:443/validate\": dial tcp 10.96.0.12:443: connect: connection refused"
        ));
        assert!(is_starting("the server could not find the requested resource"));
        assert!(!is_starting("admission webhook \"webhook.cert-manager.io\" denied the request: spec.acme.email: Invalid value"));
    }
}
