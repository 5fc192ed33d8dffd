//! `aqemia_manifests`: YAML documents applied as one release by the release engine. CRDs and
//! their custom resources go in with one apply, since nothing about a kind is needed at plan
//! time that the release itself does not say. Schema, lifecycle, conversions, in that order.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::config::ProviderConfig;
use crate::connection::Connection;
use crate::cty::{Path, Type, Value};
use crate::framework::timeouts::{self, Operation};
use crate::framework::{Applied, Attribute, Block, Context, Diagnostics, Plan, Private, Read, Resource, Schema};
use aqemia_release::discovery::Discovery;
use aqemia_release::engine::{self, Failure, Installed, Observed, Options, ReleaseError};
use aqemia_release::inventory::{Inventory, ReleaseId};
use aqemia_release::manifest::{self, Manifest};
use aqemia_release::object::ObjectKey;

pub const TYPE_NAME: &str = "aqemia_manifests";
const TIMEOUTS: timeouts::Defaults = timeouts::Defaults {
    create: Duration::from_secs(300),
    read: Duration::from_secs(60),
    update: Duration::from_secs(300),
    delete: Duration::from_secs(300),
};

pub struct Manifests;

// ---- schema ----

fn schema() -> Schema {
    let block = Block::new()
        .description(
            "A set of Kubernetes objects from YAML documents, applied as one release: server-side apply as field \
             manager `aqemia` in stages (namespaces, CRDs and cluster RBAC; classes; the rest; webhooks last), each \
             waited on; objects dropped from the documents are pruned; drift made in the cluster shows in the next \
             plan and the apply after it repairs it. CRDs and their custom resources can share one apply.",
        )
        .attribute(Attribute::string("id").computed().use_state_for_unknown().description("`<namespace>/<name>`."))
        .attribute(crate::connection::attribute())
        .attribute(
            Attribute::string("name")
                .required()
                .requires_replace()
                .description("Release name, unique within `namespace`: 1 to 53 lowercase letters, digits or hyphens.")
                .validate("a release name such as \"web-config\"", validate_name),
        )
        .attribute(
            Attribute::string("namespace")
                .default("default")
                .requires_replace()
                .description("Namespace for namespaced objects that name none, and for the release's inventory. Default `default`."),
        )
        .attribute(
            Attribute::new("documents", Type::list(Type::String))
                .required()
                .description("YAML texts; each may hold several documents separated by `---`. `List` objects are unpacked."),
        )
        .attribute(Attribute::bool("wait").default(true).description("Wait until every object is ready (kstatus rules). Default `true`."))
        .attribute(Attribute::bool("prune").default(true).description("Delete objects that leave `documents`. Default `true`."))
        .attribute(Attribute::bool("force_conflicts").default(false).description(
            "Take over fields that other field managers own even if this release never set them. Default `false`: such \
             conflicts fail the apply and name the field and its manager. Fields this release set before are always \
             taken back.",
        ))
        .attribute(Attribute::bool("delete_crds_and_pvcs").default(false).description(
            "Also delete CustomResourceDefinitions and PersistentVolumeClaims when they leave the release or it is \
             destroyed. Default `false`: deleting a CRD deletes every object of its kind in the cluster, and deleting a \
             claim can delete its data.",
        ))
        .attribute(Attribute::new("objects", Type::map(Type::String)).computed().description(
            "Every object of the release, keyed `Kind.group/namespace/name`, with the digest of its configuration, or what drifted.",
        ))
        .block(timeouts::block(&TIMEOUTS));
    Schema::new(0, block)
}

fn validate_name(v: &Value) -> Result<(), String> {
    let name = v.as_str().unwrap_or_default();
    let ok = (1..=53).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a valid release name: use 1 to 53 lowercase letters, digits or hyphens, like \"web-config\""))
    }
}

// ---- lifecycle ----

#[async_trait]
impl Resource<ProviderConfig> for Manifests {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(cluster) = config.get("cluster") {
            if let Err(errors) = Connection::from_value(cluster, &Path::root().attr("cluster")) {
                diags.extend(errors);
            }
        }
        let Some(documents) = known_documents(config) else { return };
        let texts: Vec<&str> = documents.iter().map(String::as_str).collect();
        // Parse errors and malformed objects are known without a cluster.
        let checked = manifest::parse_documents(&texts)
            .and_then(|bodies| manifest::manifests(bodies, "default", &manifest::BuiltinScopes).map(|_| ()));
        if let Err(e) = checked {
            let path = Path::root().attr("documents").index(e.document as i64);
            diags.attribute_error(&path, "Invalid document", format!("documents[{}]: {}", e.document, e.message));
        }
    }

    async fn plan(&self, ctx: &Context, plan: &mut Plan) {
        let namespace = plan.planned.get("namespace").and_then(Value::as_str).map(str::to_string);
        let name = plan.planned.get("name").and_then(Value::as_str).map(str::to_string);
        if let (Some(namespace), Some(name), Some(id)) = (namespace.as_ref(), name, plan.planned.get_mut("id")) {
            if id.is_unknown() {
                *id = Value::string(format!("{namespace}/{name}"));
            }
        }
        let objects = match plan_objects(ctx, plan).await {
            Ok(Some(inventory)) => inventory_value(&inventory),
            Ok(None) => Value::unknown(),
            Err(e) => {
                error_diagnostic(&e, &mut plan.diags);
                Value::unknown()
            }
        };
        if let Some(slot) = plan.planned.get_mut("objects") {
            *slot = objects;
        }
    }

    async fn create(&self, ctx: &Context, planned: Value, private: Private) -> Applied {
        let deadline = Instant::now() + TIMEOUTS.resolve(&planned, Operation::Create);
        let outcome = self.install(ctx, &planned, None, deadline).await;
        finish(planned, private, outcome, "creating")
    }

    async fn update(&self, ctx: &Context, prior: Value, planned: Value, private: Private) -> Applied {
        let deadline = Instant::now() + TIMEOUTS.resolve(&planned, Operation::Update);
        let outcome = self.install(ctx, &planned, Some(&prior), deadline).await;
        // Rolled back: the cluster holds the prior configuration again, and so does the state.
        let base = if matches!(&outcome, Err(f) if f.rolled_back) { prior } else { planned };
        finish(base, private, outcome, "updating")
    }

    async fn read(&self, ctx: &Context, mut state: Value, private: Private) -> Read {
        let mut diags = Diagnostics::new();
        let observed = async {
            let session = Session::open(&state, &ctx.config).await?;
            let mut discovery = session.discovery;
            let manifests = resolve(&state, &mut discovery).await?;
            let observed = engine::observe(&mut discovery, &session.id, &manifests).await?;
            Ok::<_, ReleaseError>((engine::inventory_of(&manifests), observed))
        }
        .await;
        match observed {
            Ok((digests, observed)) => {
                let mut objects = inventory_from(&state);
                for (key, seen) in observed {
                    match seen {
                        // Back in sync (someone undid their change): the digest again.
                        Observed::InSync => {
                            if let (Some(slot), Some(digest)) = (objects.get_mut(&key), digests.get(&key)) {
                                slot.clone_from(digest);
                            }
                        }
                        Observed::Missing => {
                            objects.remove(&key);
                        }
                        Observed::Drifted(what) => {
                            objects.insert(key, what);
                        }
                    }
                }
                set(&mut state, "objects", inventory_value(&objects));
            }
            Err(e) => error_diagnostic(&e, &mut diags),
        }
        Read { state: Some(state), private, diags }
    }

    async fn delete(&self, ctx: &Context, prior: Value, _private: Private) -> Diagnostics {
        let deadline = Instant::now() + TIMEOUTS.resolve(&prior, Operation::Delete);
        let mut diags = Diagnostics::new();
        let result = async {
            let session = Session::open(&prior, &ctx.config).await?;
            let mut discovery = session.discovery;
            let options = options(&prior, deadline);
            engine::uninstall(&mut discovery, &session.id, &inventory_from(&prior), &options, &ctx.cancel).await
        }
        .await;
        match result {
            Ok(kept) if !kept.is_empty() => diags.warning(
                "Objects kept in the cluster",
                format!(
                    "These were left in place because deleting them can delete data or every resource of a kind: {}. \
                     Set delete_crds_and_pvcs = true to delete them with the release.",
                    join(&kept)
                ),
            ),
            Ok(_) => {}
            Err(e) => error_diagnostic(&e, &mut diags),
        }
        diags
    }
}

impl Manifests {
    async fn install(&self, ctx: &Context, planned: &Value, prior: Option<&Value>, deadline: Instant) -> Result<Installed, Failure> {
        let previous_inventory = prior.map(inventory_from).unwrap_or_default();
        let early = |error: ReleaseError| Failure { inventory: previous_inventory.clone(), error, rolled_back: false };
        let session = Session::open(planned, &ctx.config).await.map_err(early)?;
        let mut discovery = session.discovery;
        let manifests = resolve(planned, &mut discovery).await.map_err(early)?;
        let previous = match prior {
            Some(prior) => by_key(resolve(prior, &mut discovery).await.map_err(early)?),
            None => BTreeMap::new(),
        };
        let options = options(planned, deadline);
        engine::upgrade(&mut discovery, &session.id, manifests, &previous, &previous_inventory, &options, &ctx.cancel).await
    }
}

/// The cluster and release a state or plan names.
struct Session {
    id: ReleaseId,
    discovery: Discovery,
}

impl Session {
    async fn open(value: &Value, provider: &ProviderConfig) -> Result<Session, ReleaseError> {
        let cluster = value.get("cluster").unwrap_or(&Value::Null);
        let connection = Connection::from_value(cluster, &Path::root().attr("cluster"))
            .map_err(|d| anyhow::anyhow!(d.0.first().map(|d| d.detail.clone()).unwrap_or_default()))?
            .ok_or_else(|| anyhow::anyhow!("the cluster connection is not known"))?;
        let client = connection.client(provider).await.map_err(|e| e.context(format!("connecting to {}", connection.describe())))?;
        let id = ReleaseId { namespace: text(value, "namespace"), name: text(value, "name") };
        Ok(Session { id, discovery: Discovery::new(client) })
    }
}

/// The manifests of a state or plan, placed with discovery's help.
async fn resolve(value: &Value, discovery: &mut Discovery) -> Result<Vec<Manifest>, ReleaseError> {
    let documents = known_documents(value).unwrap_or_default();
    let texts: Vec<&str> = documents.iter().map(String::as_str).collect();
    let manifests = engine::resolve_manifests(&texts, &text(value, "namespace"), Some(discovery)).await?;
    Ok(manifests.expect("with discovery every kind is placed or refused"))
}

/// The planned `objects`, `None` when they cannot be known yet. With a reachable cluster,
/// each object that changes is also tried with a server-side dry run, so what the API server
/// would reject fails the plan. Without one (it may not exist before this apply), kinds are
/// placed from what the release itself says.
async fn plan_objects(ctx: &Context, plan: &Plan) -> Result<Option<Inventory>, ReleaseError> {
    let (Some(documents), Some(namespace)) = (known_documents(&plan.planned), plan.planned.get("namespace").and_then(Value::as_str)) else {
        return Ok(None);
    };
    let texts: Vec<&str> = documents.iter().map(String::as_str).collect();
    let cluster = plan.planned.get("cluster").unwrap_or(&Value::Null);
    let client = match Connection::from_value(cluster, &Path::root()) {
        Ok(Some(connection)) => connection.client(&ctx.config).await.ok(),
        _ => None,
    };
    let Some(client) = client else {
        return Ok(engine::resolve_manifests(&texts, namespace, None).await?.map(|m| engine::inventory_of(&m)));
    };
    let mut discovery = Discovery::new(client);
    let Some(manifests) = engine::resolve_manifests(&texts, namespace, Some(&mut discovery)).await? else { return Ok(None) };
    let prior_objects = inventory_from(&plan.prior);
    let changed: Vec<&Manifest> = manifests.iter().filter(|m| prior_objects.get(&m.key) != Some(&m.digest)).collect();
    if !changed.is_empty() {
        let previous = match plan.is_create() {
            true => BTreeMap::new(),
            false => by_key(resolve(&plan.prior, &mut discovery).await?),
        };
        let id = ReleaseId { namespace: namespace.to_string(), name: text(&plan.planned, "name") };
        let force = plan.planned.get("force_conflicts").and_then(Value::as_bool).unwrap_or(false);
        engine::preview(&mut discovery, &id, &changed, &previous, force).await?;
    }
    Ok(Some(engine::inventory_of(&manifests)))
}

fn by_key(manifests: Vec<Manifest>) -> BTreeMap<ObjectKey, Manifest> {
    manifests.into_iter().map(|m| (m.key.clone(), m)).collect()
}

fn options(value: &Value, deadline: Instant) -> Options {
    let flag = |name: &str| value.get(name).and_then(Value::as_bool).unwrap_or(false);
    Options {
        wait: flag("wait"),
        prune: flag("prune"),
        force_conflicts: flag("force_conflicts"),
        delete_protected: flag("delete_crds_and_pvcs"),
        deadline,
    }
}

/// The state after create or update: what exists, whatever happened.
fn finish(mut planned: Value, private: Private, outcome: Result<Installed, Failure>, verb: &str) -> Applied {
    let id = format!("{}/{}", text(&planned, "namespace"), text(&planned, "name"));
    set(&mut planned, "id", Value::string(id.clone()));
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

// ---- conversions ----

fn text(value: &Value, name: &str) -> String {
    value.get(name).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn set(value: &mut Value, name: &str, new: Value) {
    if let Some(slot) = value.get_mut(name) {
        *slot = new;
    }
}

fn known_documents(value: &Value) -> Option<Vec<String>> {
    let list = value.get("documents")?;
    if !list.is_wholly_known() {
        return None;
    }
    Some(list.as_seq()?.iter().map(|d| d.as_str().unwrap_or_default().to_string()).collect())
}

fn inventory_from(value: &Value) -> Inventory {
    let Some(entries) = value.get("objects").and_then(Value::as_entries) else { return Inventory::new() };
    entries.iter().filter_map(|(k, v)| Some((k.parse::<ObjectKey>().ok()?, v.as_str().unwrap_or_default().to_string()))).collect()
}

fn inventory_value(inventory: &Inventory) -> Value {
    Value::Map(inventory.iter().map(|(k, v)| (k.to_string(), Value::string(v.clone()))).collect())
}

fn join(keys: &[ObjectKey]) -> String {
    keys.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// The whole cause chain: "connecting to ...: reading kubeconfig ...: No such file".
fn error_text(error: &ReleaseError) -> String {
    match error {
        ReleaseError::Other(e) => format!("{e:#}"),
        other => other.to_string(),
    }
}

/// A release error as a diagnostic, on the document it is about when there is one.
fn error_diagnostic(error: &ReleaseError, diags: &mut Diagnostics) {
    let detail = error_text(error);
    match error {
        ReleaseError::Document { document, .. } => {
            diags.attribute_error(&Path::root().attr("documents").index(*document as i64), "Invalid document", detail)
        }
        _ => diags.error("Release failed", detail),
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
