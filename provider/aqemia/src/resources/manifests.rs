//! `aqemia_manifests`: YAML documents applied as one release by the release engine. CRDs and
//! their custom resources go in with one apply, since nothing about a kind is needed at plan
//! time that the release itself does not say. Schema, lifecycle, conversions, in that order.

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::release::{
    error_text, failed, finish, install_bodies, inventory_from, inventory_value, open, options, plan_bodies, planned_objects,
    refresh_bodies, release_key, seed_of, set, try_open, Bodies,
};
use crate::config::ProviderConfig;
use crate::cty::{Path, Type, Value};
use crate::framework::timeouts::{self, Operation};
use crate::framework::{Applied, Attribute, Block, Context, Diagnostics, Plan, Private, Read, Resource, Schema};
use aqemia_addon::documents;
use aqemia_addon::seed::ReleaseSeed;
use aqemia_release::engine::{Failure, Installed, ReleaseError};
use aqemia_release::inventory::Inventory;
use aqemia_release::manifest;

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
        .attribute(super::release::name_attribute())
        .attribute(
            Attribute::string("namespace")
                .default("default")
                .requires_replace()
                .description("Namespace for namespaced objects that name none, and for the release's inventory. Default `default`."),
        )
        .attribute(Attribute::new("documents", Type::list(Type::String)).required().sensitive().description(
            "YAML texts; each may hold several documents separated by `---`. `List` objects are unpacked. Sensitive, so \
                 that a Secret's data never shows in a plan: `objects` names each object that changes.",
        ))
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
        .attribute(super::release::objects_attribute())
        .block(timeouts::block(&TIMEOUTS));
    Schema::new(0, block)
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
        super::release::validate_cluster(config, diags);
        let Some(texts) = known_documents(config) else { return };
        // Parse errors and malformed objects are known without a cluster.
        let checked = documents::parse(&as_strs(&texts))
            .and_then(|bodies| manifest::manifests(bodies, "default", &manifest::BuiltinScopes).map(|_| ()));
        if let Err(e) = checked {
            let path = Path::root().attr("documents").index(e.document as i64);
            diags.attribute_error(&path, "Invalid document", format!("documents[{}]: {}", e.document, e.message));
        }
    }

    async fn plan(&self, ctx: &Context, plan: &mut Plan) {
        super::release::plan_id(&mut plan.planned);
        // Secrets' digests are keyed with the release's key, drawn by the first apply: until
        // then they cannot be known.
        let key = seed_of(&plan.private);
        let objects = match plan_objects(ctx, plan, key.as_ref()).await {
            Ok(inventory) => planned_objects(inventory, key.as_ref()),
            Err(e) => {
                error_diagnostic(&e, &mut plan.diags);
                Value::unknown()
            }
        };
        set(&mut plan.planned, "objects", objects);
    }

    async fn create(&self, ctx: &Context, planned: Value, mut private: Private) -> Applied {
        let deadline = Instant::now() + TIMEOUTS.resolve(&planned, Operation::Create);
        let key = match release_key(&mut private) {
            Ok(key) => key,
            Err(detail) => return failed(planned, private, detail),
        };
        let outcome = install(ctx, &planned, None, deadline, &key).await;
        finish(planned, private, outcome, "creating")
    }

    async fn update(&self, ctx: &Context, prior: Value, planned: Value, mut private: Private) -> Applied {
        let deadline = Instant::now() + TIMEOUTS.resolve(&planned, Operation::Update);
        let key = match release_key(&mut private) {
            Ok(key) => key,
            Err(detail) => return failed(prior, private, detail),
        };
        let outcome = install(ctx, &planned, Some(&prior), deadline, &key).await;
        // Rolled back: the cluster holds the prior configuration again, and so does the state.
        let base = if matches!(&outcome, Err(f) if f.rolled_back) { prior } else { planned };
        finish(base, private, outcome, "updating")
    }

    async fn read(&self, ctx: &Context, mut state: Value, private: Private) -> Read {
        let mut diags = Diagnostics::new();
        let session = open(&state, &ctx.config).await;
        match refresh_bodies(session, bodies(&state), &inventory_from(&state), seed_of(&private).as_ref()).await {
            Ok(objects) => set(&mut state, "objects", inventory_value(&objects)),
            Err(e) => error_diagnostic(&e, &mut diags),
        }
        Read { state: Some(state), private, diags }
    }

    async fn delete(&self, ctx: &Context, prior: Value, _private: Private) -> Diagnostics {
        let deadline = Instant::now() + TIMEOUTS.resolve(&prior, Operation::Delete);
        super::release::uninstall(&prior, &ctx.config, deadline, &ctx.cancel).await
    }
}

async fn install(
    ctx: &Context,
    planned: &Value,
    prior: Option<&Value>,
    deadline: Instant,
    key: &ReleaseSeed,
) -> Result<Installed, Failure> {
    let bodies = match prior {
        Some(prior) => bodies(planned).and_then(|now| Ok(Bodies { now, before: Some(bodies(prior)?) })),
        None => bodies(planned).map(|now| Bodies { now, before: None }),
    };
    let previous_inventory = prior.map(inventory_from).unwrap_or_default();
    let session = open(planned, &ctx.config).await;
    install_bodies(session, bodies, previous_inventory, &options(planned, deadline), &ctx.cancel, key).await
}

/// The object bodies of a state's or plan's documents.
fn bodies(value: &Value) -> Result<Vec<(usize, serde_json::Value)>, ReleaseError> {
    let texts = known_documents(value).unwrap_or_default();
    documents::parse(&as_strs(&texts)).map_err(|e| ReleaseError::Document { document: e.document, message: e.message })
}

/// The planned inventory, `None` when it cannot be known yet (see [`plan_bodies`]).
async fn plan_objects(ctx: &Context, plan: &Plan, key: Option<&ReleaseSeed>) -> Result<Option<Inventory>, ReleaseError> {
    let (Some(_), Some(namespace)) = (known_documents(&plan.planned), plan.planned.get("namespace").and_then(Value::as_str)) else {
        return Ok(None);
    };
    let before = if plan.is_create() { None } else { Some(bodies(&plan.prior)?) };
    let session = try_open(&plan.planned, &ctx.config).await;
    let forcing = super::release::forcing(&plan.planned);
    plan_bodies(session, namespace, Bodies { now: bodies(&plan.planned)?, before }, &inventory_from(&plan.prior), &forcing, key).await
}

// ---- conversions ----

fn as_strs(texts: &[String]) -> Vec<&str> {
    texts.iter().map(String::as_str).collect()
}

fn known_documents(value: &Value) -> Option<Vec<String>> {
    let list = value.get("documents")?;
    if !list.is_wholly_known() {
        return None;
    }
    Some(list.as_seq()?.iter().map(|d| d.as_str().unwrap_or_default().to_string()).collect())
}

/// A release error as a diagnostic, on the document it is about when there is one.
fn error_diagnostic(error: &ReleaseError, diags: &mut Diagnostics) {
    let detail = error_text(error);
    match error {
        ReleaseError::Document { document, .. } | ReleaseError::UnservedKind { document, .. } => {
            diags.attribute_error(&Path::root().attr("documents").index(*document as i64), "Invalid document", detail)
        }
        _ => diags.error("Release failed", detail),
    }
}
