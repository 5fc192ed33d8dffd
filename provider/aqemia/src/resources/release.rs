//! What every resource that is a release shares on the Terraform side (`aqemia_manifests`,
//! `aqemia_chart`): the name rule, the session with the cluster a value names, the engine's
//! options from the common flags, the state after an apply whatever happened, and the
//! `objects` map. The release itself lives in the add-on layer; this is only its Terraform face.

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::ProviderConfig;
use crate::connection::Connection;
use crate::cty::{Path, Value};
use crate::framework::{Applied, Attribute, Diagnostics, Private};
use aqemia_addon::release::{place_offline, Previous, Session};
use aqemia_addon::seed::{is_secret, ReleaseSeed};
use aqemia_release::apply::Forcing;
use aqemia_release::engine::{self, Failure, Installed, Options, ReleaseError};
use aqemia_release::inventory::{Inventory, ReleaseId};
use aqemia_release::manifest::Manifest;
use aqemia_release::object::ObjectKey;

/// Where a release's seed is kept: private state, never shown in a plan. A chart's renders
/// draw from it; every release keys its Secrets' digests with it.
const SEED_KEY: &str = "seed";

pub fn seed_of(private: &Private) -> Option<ReleaseSeed> {
    ReleaseSeed::decode(private.get(SEED_KEY)?.as_str()?)
}

pub fn keep_seed(private: &mut Private, seed: &ReleaseSeed) {
    private.set(SEED_KEY, serde_json::Value::String(seed.encode()));
}

pub fn new_seed() -> Result<ReleaseSeed, String> {
    ReleaseSeed::generate().map_err(|e| format!("the operating system gave no random bytes for the release's seed: {e}"))
}

/// `name`: a release name, as Helm allows them.
pub fn name_attribute() -> Attribute {
    Attribute::string("name")
        .required()
        .requires_replace()
        .description("Release name, unique within `namespace`: 1 to 53 lowercase letters, digits or hyphens.")
        .validate("a release name such as \"web-config\"", validate_name)
}

pub fn validate_name(v: &Value) -> Result<(), String> {
    let name = v.as_str().unwrap_or_default();
    // A DNS label, shorter: Helm keeps room for the suffixes of its release records.
    if super::checks::is_dns_label(name) && name.len() <= 53 {
        Ok(())
    } else {
        Err(format!("{name:?} is not a valid release name: use 1 to 53 lowercase letters, digits or hyphens, like \"web-config\""))
    }
}

/// `objects`, described for the resource at hand.
pub fn objects_attribute() -> Attribute {
    Attribute::new("objects", crate::cty::Type::map(crate::cty::Type::String)).computed().description(
        "Every object of the release, keyed `Kind.group/namespace/name`, with the digest of its configuration (Secrets: \
         keyed with the release's own key, `hmac-sha256:`), or what drifted. `terraform plan` names each object that changes.",
    )
}

/// Checks the `cluster` attribute of a configuration (its form and keys).
pub fn validate_cluster(config: &Value, diags: &mut Diagnostics) {
    if let Some(cluster) = config.get("cluster") {
        if let Err(errors) = Connection::from_value(cluster, &Path::root().attr("cluster")) {
            diags.extend(errors);
        }
    }
}

/// The connection a value's `cluster` describes, `None` while it is not known.
pub fn connection(value: &Value) -> Result<Option<Connection>, ReleaseError> {
    let cluster = value.get("cluster").unwrap_or(&Value::Null);
    Connection::from_value(cluster, &Path::root().attr("cluster"))
        .map_err(|d| ReleaseError::Other(anyhow::anyhow!(d.0.first().map(|d| d.detail.clone()).unwrap_or_default())))
}

/// The release a state or plan names, in its cluster.
pub async fn open(value: &Value, provider: &ProviderConfig) -> Result<Session, ReleaseError> {
    open_release(value, provider, release_id(value)).await
}

/// The release `id`, in the cluster a value's `cluster` names.
pub async fn open_release(value: &Value, provider: &ProviderConfig, id: ReleaseId) -> Result<Session, ReleaseError> {
    Ok(Session::new(client(value, provider).await?, id))
}

/// A client of the cluster a value's `cluster` names.
pub async fn client(value: &Value, provider: &ProviderConfig) -> Result<kube::Client, ReleaseError> {
    let connection = connection(value)?.ok_or_else(|| anyhow::anyhow!("the cluster connection is not known"))?;
    Ok(connection.client(provider).await.map_err(|e| e.context(format!("connecting to {}", connection.describe())))?)
}

/// A session at plan time, when the cluster answers; `None` when it cannot be reached (it may
/// be created by this very apply).
pub async fn try_open(value: &Value, provider: &ProviderConfig) -> Option<Session> {
    try_open_release(value, provider, release_id(value)).await
}

/// [`try_open`] for the release `id`.
pub async fn try_open_release(value: &Value, provider: &ProviderConfig, id: ReleaseId) -> Option<Session> {
    let connection = connection(value).ok()??;
    let client = connection.client(provider).await.ok()?;
    Some(Session::new(client, id))
}

pub fn release_id(value: &Value) -> ReleaseId {
    ReleaseId { namespace: text(value, "namespace"), name: text(value, "name") }
}

/// Which conflicts the user lets the release force: all of them with `force_conflicts`.
pub fn forcing(value: &Value) -> Forcing {
    Forcing { all: value.get("force_conflicts").and_then(Value::as_bool).unwrap_or(false), take_over_from: None }
}

/// The engine's options from the flags every release resource has.
pub fn options(value: &Value, deadline: Instant) -> Options {
    let flag = |name: &str| value.get(name).and_then(Value::as_bool).unwrap_or(false);
    Options {
        wait: flag("wait"),
        // A chart release always prunes what its chart no longer renders, as Helm does.
        prune: value.get("prune").and_then(Value::as_bool).unwrap_or(true),
        forcing: forcing(value),
        delete_protected: flag("delete_crds_and_pvcs"),
        deadline,
    }
}

/// The state after create or update: what exists, whatever happened.
pub fn finish(planned: Value, private: Private, outcome: Result<Installed, Failure>, verb: &str) -> Applied {
    let id = format!("{}/{}", text(&planned, "namespace"), text(&planned, "name"));
    finish_release(planned, private, outcome, verb, &id)
}

/// [`finish`] for a resource whose id is `id`.
pub fn finish_release(mut planned: Value, private: Private, outcome: Result<Installed, Failure>, verb: &str, id: &str) -> Applied {
    set(&mut planned, "id", Value::string(id));
    let mut diags = Diagnostics::new();
    let inventory = match outcome {
        Ok(installed) => {
            if !installed.kept.is_empty() {
                diags.warning(
                    "Objects left the release but were kept",
                    format!(
                        "Not deleted, because deleting them can delete data or every resource of a kind: {}. Set \
                         delete_crds_and_pvcs = true to prune them too, or delete them by hand.",
                        join(&installed.kept)
                    ),
                );
            }
            installed.inventory
        }
        Err(failure) => {
            let mut detail = error_text(&failure.error);
            if failure.rolled_back {
                detail.push_str("\n\nThe release was rolled back to its previous objects; fix the configuration and apply again.");
            }
            diags.error(format!("{verb} release {id}"), detail);
            failure.inventory
        }
    };
    set(&mut planned, "objects", inventory_value(&inventory));
    Applied { state: planned, private, diags }
}

/// An apply that failed before it touched the cluster: `state` as it was.
pub fn failed(state: Value, private: Private, detail: String) -> Applied {
    let mut diags = Diagnostics::new();
    diags.error("Applying the release failed", detail);
    Applied { state, private, diags }
}

/// Object bodies a resource produces itself (its documents, or objects built from its
/// arguments), with those its prior state produced: what an upgrade may roll back to.
pub struct Bodies {
    pub now: Vec<(usize, serde_json::Value)>,
    pub before: Option<Vec<(usize, serde_json::Value)>>,
}

/// Installs or upgrades a release of `bodies` with Secret digests keyed by `key`. A failure
/// carries what exists, for the state.
pub async fn install_bodies(
    session: Result<Session, ReleaseError>,
    bodies: Result<Bodies, ReleaseError>,
    previous_inventory: Inventory,
    options: &Options,
    cancel: &CancellationToken,
    key: &ReleaseSeed,
) -> Result<Installed, Failure> {
    let early = |error: ReleaseError| Failure { inventory: previous_inventory.clone(), error, rolled_back: false };
    let (mut session, bodies) = (session.map_err(early)?, bodies.map_err(early)?);
    let manifests = place_keyed(&mut session, bodies.now, Some(key)).await.map_err(early)?;
    let previous = match bodies.before {
        // What a rollback returns to, recorded with keyed digests too.
        Some(before) => Previous { manifests: place_keyed(&mut session, before, Some(key)).await.map_err(early)?, ..Previous::default() },
        None => Previous::default(),
    };
    session.install(manifests, &previous, &previous_inventory, options, cancel).await
}

/// The planned inventory of a release of `bodies`, `None` when it cannot be known yet. With a
/// reachable cluster, each object that changes is also tried with a server-side dry run, so
/// what the API server would refuse fails the plan. Without one (it may not exist before this
/// apply), kinds are placed from what the release itself says.
pub async fn plan_bodies(
    session: Option<Session>,
    namespace: &str,
    bodies: Bodies,
    recorded: &Inventory,
    forcing: &Forcing,
    key: Option<&ReleaseSeed>,
) -> Result<Option<Inventory>, ReleaseError> {
    let Some(mut session) = session else {
        return Ok(place_offline(bodies.now, namespace).await?.map(|mut manifests| {
            key.inspect(|key| key.key_secret_digests(&mut manifests));
            engine::inventory_of(&manifests)
        }));
    };
    let manifests = place_keyed(&mut session, bodies.now, key).await?;
    let previous = match bodies.before {
        Some(before) => session.place(before).await?,
        None => Vec::new(),
    };
    session.preview(&manifests, recorded, &previous, forcing).await?;
    Ok(Some(engine::inventory_of(&manifests)))
}

/// The planned `objects` from [`plan_bodies`]: unknown while it is, and a Secret's digest
/// unknown until the release's key is drawn by its first apply.
pub fn planned_objects(inventory: Option<Inventory>, key: Option<&ReleaseSeed>) -> Value {
    let Some(inventory) = inventory else { return Value::unknown() };
    let digest = |k: &ObjectKey, d: &String| if key.is_none() && is_secret(k) { Value::unknown() } else { Value::string(d.clone()) };
    Value::Map(inventory.iter().map(|(k, d)| (k.to_string(), digest(k, d))).collect())
}

/// The release's objects as the cluster has them now: digests, or what drifted.
pub async fn refresh_bodies(
    session: Result<Session, ReleaseError>,
    bodies: Result<Vec<(usize, serde_json::Value)>, ReleaseError>,
    recorded: &Inventory,
    key: Option<&ReleaseSeed>,
) -> Result<Inventory, ReleaseError> {
    let mut session = session?;
    // A release from before keys were kept has plain digests until its next apply.
    let manifests = place_keyed(&mut session, bodies?, key).await?;
    session.refresh(&manifests, recorded).await
}

/// `bodies` placed in the release's cluster, Secrets' digests keyed with `key` when there is one.
async fn place_keyed(
    session: &mut Session,
    bodies: Vec<(usize, serde_json::Value)>,
    key: Option<&ReleaseSeed>,
) -> Result<Vec<Manifest>, ReleaseError> {
    let mut manifests = session.place(bodies).await?;
    key.inspect(|key| key.key_secret_digests(&mut manifests));
    Ok(manifests)
}

/// The release's key for its Secrets' digests: kept in private state, drawn by the first
/// apply (or the first since keys were kept).
pub fn release_key(private: &mut Private) -> Result<ReleaseSeed, String> {
    let key = match seed_of(private) {
        Some(key) => key,
        None => new_seed()?,
    };
    keep_seed(private, &key);
    Ok(key)
}

/// Uninstalls the release a state names; warns about the objects kept.
pub async fn uninstall(prior: &Value, provider: &ProviderConfig, deadline: Instant, cancel: &CancellationToken) -> Diagnostics {
    uninstall_release(open(prior, provider).await, &inventory_from(prior), &options(prior, deadline), cancel).await
}

/// Uninstalls the release a session names; warns about the objects kept.
pub async fn uninstall_release(
    session: Result<Session, ReleaseError>,
    recorded: &Inventory,
    options: &Options,
    cancel: &CancellationToken,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    match async { session?.uninstall(recorded, options, cancel).await }.await {
        Ok(kept) => warn_kept(&kept, &mut diags),
        Err(e) => diags.error("Release failed", error_text(&e)),
    }
    diags
}

/// Names the protected objects an uninstall left in place.
pub fn warn_kept(kept: &[ObjectKey], diags: &mut Diagnostics) {
    if !kept.is_empty() {
        diags.warning(
            "Objects kept in the cluster",
            format!(
                "These were left in place because deleting them can delete data or every resource of a kind: {}. \
                 Set delete_crds_and_pvcs = true to delete them with the release.",
                join(kept)
            ),
        );
    }
}

/// A planned `id` not known yet is `<namespace>/<name>` once both are.
pub fn plan_id(planned: &mut Value) {
    if !planned.get("id").is_some_and(Value::is_unknown) {
        return;
    }
    if let (Some(namespace), Some(name)) = (planned.get("namespace").and_then(Value::as_str), planned.get("name").and_then(Value::as_str)) {
        let id = Value::string(format!("{namespace}/{name}"));
        set(planned, "id", id);
    }
}

pub fn text(value: &Value, name: &str) -> String {
    value.get(name).and_then(Value::as_str).unwrap_or_default().to_string()
}

pub fn set(value: &mut Value, name: &str, new: Value) {
    if let Some(slot) = value.get_mut(name) {
        *slot = new;
    }
}

/// The recorded inventory: a state's `objects`.
pub fn inventory_from(value: &Value) -> Inventory {
    let Some(entries) = value.get("objects").and_then(Value::as_entries) else { return Inventory::new() };
    entries.iter().filter_map(|(k, v)| Some((k.parse::<ObjectKey>().ok()?, v.as_str().unwrap_or_default().to_string()))).collect()
}

pub fn inventory_value(inventory: &Inventory) -> Value {
    Value::Map(inventory.iter().map(|(k, v)| (k.to_string(), Value::string(v.clone()))).collect())
}

pub fn join(keys: &[ObjectKey]) -> String {
    keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// The whole cause chain: "connecting to ...: reading kubeconfig ...: No such file".
pub fn error_text(error: &ReleaseError) -> String {
    match error {
        ReleaseError::Other(e) => format!("{e:#}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_are_dns_labels() {
        assert!(validate_name(&Value::from("web-config")).is_ok());
        for bad in ["", "Web", "-web", "web-", &"a".repeat(54)] {
            let err = validate_name(&Value::from(bad)).unwrap_err();
            assert!(err.contains("web-config"), "{err}");
        }
    }
}
