//! `aqemia_manifests`: YAML documents applied as one release by the release engine. CRDs and
//! their custom resources go in with one apply, since nothing about a kind is needed at plan
//! time that the release itself does not say. Schema, lifecycle, conversions, in that order.

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::release::{
    error_text, failed, finish, inventory_from, inventory_value, keep_seed, new_seed, open, options, seed_of, set, try_open,
};
use crate::config::ProviderConfig;
use crate::cty::{Path, Type, Value};
use crate::framework::timeouts::{self, Operation};
use crate::framework::{Applied, Attribute, Block, Context, Diagnostics, Plan, Private, Read, Resource, Schema};
use aqemia_addon::documents;
use aqemia_addon::release::{place_offline, Previous};
use aqemia_addon::seed::{is_secret, ReleaseSeed};
use aqemia_release::engine::{self, Failure, Installed, ReleaseError};
use aqemia_release::inventory::Inventory;
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
            Ok(Some(inventory)) => {
                let digest =
                    |k: &ObjectKey, d: &String| if key.is_none() && is_secret(k) { Value::unknown() } else { Value::string(d.clone()) };
                Value::Map(inventory.iter().map(|(k, d)| (k.to_string(), digest(k, d))).collect())
            }
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

    async fn create(&self, ctx: &Context, planned: Value, mut private: Private) -> Applied {
        let deadline = Instant::now() + TIMEOUTS.resolve(&planned, Operation::Create);
        let key = match release_key(&mut private) {
            Ok(key) => key,
            Err(detail) => return failed(planned, private, detail),
        };
        let outcome = self.install(ctx, &planned, None, deadline, &key).await;
        finish(planned, private, outcome, "creating")
    }

    async fn update(&self, ctx: &Context, prior: Value, planned: Value, mut private: Private) -> Applied {
        let deadline = Instant::now() + TIMEOUTS.resolve(&planned, Operation::Update);
        let key = match release_key(&mut private) {
            Ok(key) => key,
            Err(detail) => return failed(prior, private, detail),
        };
        let outcome = self.install(ctx, &planned, Some(&prior), deadline, &key).await;
        // Rolled back: the cluster holds the prior configuration again, and so does the state.
        let base = if matches!(&outcome, Err(f) if f.rolled_back) { prior } else { planned };
        finish(base, private, outcome, "updating")
    }

    async fn read(&self, ctx: &Context, mut state: Value, private: Private) -> Read {
        let mut diags = Diagnostics::new();
        let refreshed = async {
            let mut session = open(&state, &ctx.config).await?;
            let mut manifests = session.place(bodies(&state)?).await?;
            // A release from before keys were kept has plain digests until its next apply.
            if let Some(key) = seed_of(&private) {
                key.key_secret_digests(&mut manifests);
            }
            session.refresh(&manifests, &inventory_from(&state)).await
        }
        .await;
        match refreshed {
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

impl Manifests {
    async fn install(
        &self,
        ctx: &Context,
        planned: &Value,
        prior: Option<&Value>,
        deadline: Instant,
        key: &ReleaseSeed,
    ) -> Result<Installed, Failure> {
        let previous_inventory = prior.map(inventory_from).unwrap_or_default();
        let early = |error: ReleaseError| Failure { inventory: previous_inventory.clone(), error, rolled_back: false };
        let mut session = open(planned, &ctx.config).await.map_err(early)?;
        let mut manifests = session.place(bodies(planned).map_err(early)?).await.map_err(early)?;
        key.key_secret_digests(&mut manifests);
        let previous = match prior {
            Some(prior) => {
                // What a rollback returns to, recorded with keyed digests too.
                let mut manifests = session.place(bodies(prior).map_err(early)?).await.map_err(early)?;
                key.key_secret_digests(&mut manifests);
                Previous { manifests, ..Previous::default() }
            }
            None => Previous::default(),
        };
        session.install(manifests, &previous, &previous_inventory, &options(planned, deadline), &ctx.cancel).await
    }
}

/// The object bodies of a state's or plan's documents.
fn bodies(value: &Value) -> Result<Vec<(usize, serde_json::Value)>, ReleaseError> {
    let texts = known_documents(value).unwrap_or_default();
    documents::parse(&as_strs(&texts)).map_err(|e| ReleaseError::Document { document: e.document, message: e.message })
}

/// The planned `objects`, `None` when they cannot be known yet. With a reachable cluster,
/// each object that changes is also tried with a server-side dry run, so what the API server
/// would reject fails the plan. Without one (it may not exist before this apply), kinds are
/// placed from what the release itself says.
async fn plan_objects(ctx: &Context, plan: &Plan, key: Option<&ReleaseSeed>) -> Result<Option<Inventory>, ReleaseError> {
    let (Some(_), Some(namespace)) = (known_documents(&plan.planned), plan.planned.get("namespace").and_then(Value::as_str)) else {
        return Ok(None);
    };
    let bodies = bodies(&plan.planned)?;
    let Some(mut session) = try_open(&plan.planned, &ctx.config).await else {
        return Ok(place_offline(bodies, namespace).await?.map(|mut manifests| {
            key.inspect(|key| key.key_secret_digests(&mut manifests));
            engine::inventory_of(&manifests)
        }));
    };
    let mut manifests: Vec<Manifest> = session.place(bodies).await?;
    key.inspect(|key| key.key_secret_digests(&mut manifests));
    let previous = match plan.is_create() {
        true => Vec::new(),
        false => session.place(self::bodies(&plan.prior)?).await?,
    };
    session.preview(&manifests, &inventory_from(&plan.prior), &previous, &super::release::forcing(&plan.planned)).await?;
    Ok(Some(engine::inventory_of(&manifests)))
}

/// The release's key for its Secrets' digests: kept in private state, drawn by the first
/// apply (or the first since keys were kept).
fn release_key(private: &mut Private) -> Result<ReleaseSeed, String> {
    let key = match seed_of(private) {
        Some(key) => key,
        None => new_seed()?,
    };
    keep_seed(private, &key);
    Ok(key)
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
