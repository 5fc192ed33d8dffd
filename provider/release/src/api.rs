//! Requests to the Kubernetes API: retries of transient failures, bounded concurrency, and
//! API errors as people read them.

/// The group of an `apiVersion` (`apps/v1` → `apps`, `v1` → the core group, "").
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// An API error as one line for a diagnostic: the API server's own message when it sent one.
pub fn describe(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

/// Whether `err` is the API server saying the object (or the whole API path) does not exist.
/// An unserved group-version answers a bare 404 page, not a Status: the code is what counts.
pub fn is_not_found(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(status) if status.is_not_found() || status.code == 404)
}

/// Requests in flight at once for reads and dry runs: enough to hide round trips, few enough
/// not to crowd an API server that is also serving its controllers.
const CONCURRENCY: usize = 8;

/// Runs `task` over `items`, a few at a time; results in the order of `items`.
pub async fn concurrently<I, T, F, Fut>(items: I, task: F) -> Vec<T>
where
    I: Iterator,
    F: Fn(I::Item) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    use futures::StreamExt;
    futures::stream::iter(items).map(task).buffered(CONCURRENCY).collect().await
}

/// Attempts per request before a transient failure is reported.
const ATTEMPTS: u32 = 5;
/// The first pause between attempts; it doubles after each (0.2 s to 1.6 s: 3 s in all).
const FIRST_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// Whether a failed request is worth repeating: throttled, a server-side error, or the
/// connection failed. Everything this crate sends is safe to repeat: server-side apply,
/// reads, deletes (a repeat that finds nothing is "already gone").
pub fn is_transient(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => matches!(status.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// Runs `request` until it succeeds, fails for good, or has failed transiently `ATTEMPTS`
/// times, pausing with exponential backoff in between.
pub async fn with_retries<T, F, Fut>(mut request: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut pause = FIRST_PAUSE;
    let mut attempt = 1;
    loop {
        match request().await {
            Err(e) if attempt < ATTEMPTS && is_transient(&e) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            outcome => return outcome,
        }
    }
}

/// Reads object `name`, retrying transient failures; `None` when it does not exist.
pub async fn get_if_present<K>(api: &kube::Api<K>, name: &str) -> Result<Option<K>, kube::Error>
where
    K: Clone + k8s_openapi::serde::de::DeserializeOwned + std::fmt::Debug,
{
    match with_retries(|| api.get(name)).await {
        Ok(object) => Ok(Some(object)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Deletes object `name`, retrying transient failures; one already gone counts as deleted.
pub async fn delete_if_present<K>(api: &kube::Api<K>, name: &str, params: &kube::api::DeleteParams) -> Result<(), kube::Error>
where
    K: Clone + k8s_openapi::serde::de::DeserializeOwned + std::fmt::Debug,
{
    match with_retries(|| api.delete(name, params)).await {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn status(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(kube::core::Status::failure("test", "").with_code(code)))
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_then_reported() {
        let calls = AtomicU32::new(0);
        let outcome = with_retries(|| async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < 2 {
                Err(status(503))
            } else {
                Ok(n)
            }
        })
        .await;
        assert_eq!(outcome.unwrap(), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 3);

        calls.store(0, Ordering::SeqCst);
        let outcome: Result<(), _> = with_retries(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(429))
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
    }

    #[tokio::test(start_paused = true)]
    async fn rejections_are_not_retried() {
        let calls = AtomicU32::new(0);
        let outcome: Result<(), _> = with_retries(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(status(422))
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(!is_transient(&status(404)) && !is_transient(&status(409)));
    }
}
