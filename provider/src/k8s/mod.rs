//! Talking to a Kubernetes cluster: the connection a resource names, discovery, and API
//! errors as people read them.

pub mod connection;
pub mod discovery;

pub use connection::Connection;
pub use discovery::{Discovery, DiscoveryError, Resolved};

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
