//! `aqemia_conformance_stack`: a stack of add-ons described in JSON, so the tests drive the
//! add-on layer's stack (waves, concurrency, extras after readiness, records, reverse
//! uninstall) through the real Terraform CLI before a composite stands on it. Test builds only.
//!
//! `addons` is `jsonencode([{name, namespace, chart, values, depends_on, extra_manifests,
//! readiness}])` with local charts; `releases` is what the stack recorded of each add-on, as
//! JSON: revision, digest, objects and extras. Seeds stay in private state.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio::time::Instant;

use crate::config::ProviderConfig;
use crate::cty::{Path, Value};
use crate::framework::timeouts::{self, Operation};
use crate::framework::{Applied, Attribute, Block, Context, Diagnostics, Plan, Private, Read, Resource, Schema};
use crate::resources::release::{self, set, text};
use aqemia_addon::addon::{AddOn, Readiness};
use aqemia_addon::install::Installation;
use aqemia_addon::seed::ReleaseSeed;
use aqemia_addon::source::ChartSource;
use aqemia_addon::stack::{self, Deployed, Member, Stack};
use aqemia_addon::AddonError;
use aqemia_release::engine::Options;
use aqemia_release::inventory::Inventory;

pub const TYPE_NAME: &str = "aqemia_conformance_stack";
const TIMEOUTS: timeouts::Defaults = timeouts::Defaults {
    create: Duration::from_secs(180),
    read: Duration::from_secs(60),
    update: Duration::from_secs(180),
    delete: Duration::from_secs(180),
};
const SEEDS_KEY: &str = "seeds";

pub struct ConformanceStack;

fn schema() -> Schema {
    let block = Block::new()
        .description("A stack of add-ons from local charts, for tests of the add-on layer. Test builds only.")
        .attribute(Attribute::string("id").computed().use_state_for_unknown())
        .attribute(crate::connection::attribute())
        .attribute(Attribute::string("addons").required().description("JSON list of add-ons."))
        .attribute(Attribute::string("releases").computed().description("JSON: what the stack recorded of each add-on."))
        .block(timeouts::block(&TIMEOUTS));
    Schema::new(0, block)
}

#[async_trait]
impl Resource<ProviderConfig> for ConformanceStack {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        release::validate_cluster(config, diags);
        if let Some(Err(e)) = config.get("addons").and_then(Value::as_str).map(addons_of) {
            diags.attribute_error(&Path::root().attr("addons"), "Invalid add-ons", e.to_string());
        }
    }

    async fn plan(&self, _ctx: &Context, plan: &mut Plan) {
        if plan.planned.get("id").is_some_and(Value::is_unknown) {
            set(&mut plan.planned, "id", Value::string("stack".to_string()));
        }
        let drifted = text(&plan.prior, "releases").contains("\"drifted");
        if plan.is_create() || drifted || plan.prior.get("addons") != plan.planned.get("addons") {
            set(&mut plan.planned, "releases", Value::unknown());
        }
    }

    async fn create(&self, ctx: &Context, planned: Value, private: Private) -> Applied {
        apply(ctx, planned, None, private, Operation::Create).await
    }

    async fn update(&self, ctx: &Context, prior: Value, planned: Value, private: Private) -> Applied {
        apply(ctx, planned, Some(&prior), private, Operation::Update).await
    }

    async fn read(&self, ctx: &Context, mut state: Value, private: Private) -> Read {
        let mut diags = Diagnostics::new();
        let refreshed = async {
            let deployed = deployed_of(&state, &private)?;
            let client = release::client(&state, &ctx.config).await?;
            let fetcher = crate::resources::chart::fetcher(&ctx.config)?;
            stack::refresh(&client, &fetcher, &deployed).await.into_iter().collect::<Result<Vec<_>, _>>()
        };
        match refreshed.await {
            Ok(deployed) => set(&mut state, "releases", Value::string(releases_json(&deployed))),
            Err(e) => diags.error("Reading the stack failed", e.to_string()),
        }
        Read { state: Some(state), private, diags }
    }

    async fn delete(&self, ctx: &Context, prior: Value, private: Private) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let deadline = Instant::now() + TIMEOUTS.resolve(&prior, Operation::Delete);
        let uninstalled = async {
            let deployed = deployed_of(&prior, &private)?;
            let (client, fetcher) = (release::client(&prior, &ctx.config).await?, crate::resources::chart::fetcher(&ctx.config)?);
            let stack = Stack { client, fetcher: &fetcher, hooks: true, options: options(deadline), cancel: &ctx.cancel };
            stack::uninstall(&stack, &deployed).await
        };
        match uninstalled.await {
            Ok(kept) => release::warn_kept(&kept, &mut diags),
            Err(e) => diags.error("Uninstalling the stack failed", e.to_string()),
        }
        diags
    }
}

async fn apply(ctx: &Context, mut planned: Value, prior: Option<&Value>, mut private: Private, operation: Operation) -> Applied {
    let deadline = Instant::now() + TIMEOUTS.resolve(&planned, operation);
    let mut diags = Diagnostics::new();
    let outcomes = async {
        let fetcher = crate::resources::chart::fetcher(&ctx.config)?;
        let mut deployed = match prior {
            Some(prior) => deployed_of(prior, &private)?,
            None => Vec::new(),
        };
        let mut members = Vec::new();
        for addon in addons_of(&text(&planned, "addons"))? {
            let index = deployed.iter().position(|d| d.release.addon.name == addon.name);
            members.push(Member { addon: addon.pinned(&fetcher).await?, deployed: index.map(|i| deployed.remove(i)) });
        }
        let client = release::client(&planned, &ctx.config).await?;
        let stack = Stack { client, fetcher: &fetcher, hooks: true, options: options(deadline), cancel: &ctx.cancel };
        // Add-ons that left the stack are uninstalled after it applies.
        let outcomes = stack::apply(&stack, &members).await?;
        stack::uninstall(&stack, &deployed).await?;
        Ok::<_, AddonError>(outcomes)
    };
    let outcomes = match outcomes.await {
        Ok(outcomes) => outcomes,
        Err(e) => {
            diags.error("Applying the stack failed", e.to_string());
            return Applied { state: prior.cloned().unwrap_or(planned), private, diags };
        }
    };
    let mut seeds = serde_json::Map::new();
    let mut kept = Vec::new();
    for outcome in &outcomes {
        if let Err(e) = &outcome.result {
            diags.error(format!("Applying add-on {}", outcome.name), e.to_string());
        }
        if let Some(deployed) = &outcome.deployed {
            if let Some(seed) = deployed.release.seed {
                seeds.insert(outcome.name.clone(), json!(seed.encode()));
            }
            kept.push(deployed.clone());
        }
    }
    private.set(SEEDS_KEY, serde_json::Value::Object(seeds));
    let changes: BTreeMap<&str, String> = outcomes
        .iter()
        .map(|o| (o.name.as_str(), o.result.as_ref().map(|c| format!("{c:?}")).unwrap_or_else(|_| "Failed".into())))
        .collect();
    let mut releases: serde_json::Value = serde_json::from_str(&releases_json(&kept)).expect("our own JSON");
    for (name, change) in changes {
        if let Some(release) = releases.get_mut(name) {
            release["change"] = json!(change);
        }
    }
    set(&mut planned, "releases", Value::string(releases.to_string()));
    Applied { state: planned, private, diags }
}

fn options(deadline: Instant) -> Options {
    Options { wait: true, prune: true, forcing: Default::default(), delete_protected: true, deadline }
}

/// The add-ons of the `addons` JSON.
fn addons_of(text: &str) -> Result<Vec<AddOn>, AddonError> {
    let bad = |e: String| AddonError::Stack(format!("addons: {e}"));
    let list: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let strings = |v: &serde_json::Value, key: &str| -> Vec<String> {
        v.get(key).and_then(|l| l.as_array()).map(|l| l.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    let addons: Vec<AddOn> = list
        .iter()
        .map(|entry| AddOn {
            name: entry["name"].as_str().unwrap_or_default().to_string(),
            namespace: entry["namespace"].as_str().unwrap_or_default().to_string(),
            source: ChartSource { chart: entry["chart"].as_str().unwrap_or_default().to_string(), ..ChartSource::default() },
            values: strings(entry, "values"),
            include_crds: true,
            extra_manifests: entry.get("extra_manifests").and_then(|l| l.as_array()).cloned().unwrap_or_default(),
            readiness: entry.get("readiness").filter(|r| !r.is_null()).map(|r| Readiness::DryRunCreate(r.clone())),
            depends_on: strings(entry, "depends_on"),
            ..AddOn::default()
        })
        .collect();
    if let Some(nameless) = addons.iter().position(|a| a.name.is_empty() || a.namespace.is_empty() || a.source.chart.is_empty()) {
        return Err(bad(format!("entry {nameless} needs a name, a namespace and a chart")));
    }
    stack::waves(&addons)?;
    Ok(addons)
}

/// What a state's `releases` and `addons` and its private seeds say is deployed.
fn deployed_of(state: &Value, private: &Private) -> Result<Vec<Deployed>, AddonError> {
    let releases: serde_json::Value = serde_json::from_str(&text(state, "releases")).unwrap_or_default();
    let seeds = private.get(SEEDS_KEY).cloned().unwrap_or_default();
    let addons = addons_of(&text(state, "addons"))?;
    let inventory = |v: &serde_json::Value| -> Inventory {
        let entries = v.as_object().cloned().unwrap_or_default();
        entries.into_iter().filter_map(|(k, d)| Some((k.parse().ok()?, d.as_str()?.to_string()))).collect()
    };
    let mut deployed = Vec::new();
    for addon in addons {
        let Some(recorded) = releases.get(&addon.name) else { continue };
        let source = ChartSource { digest: recorded["digest"].as_str().map(str::to_string), ..addon.source.clone() };
        deployed.push(Deployed {
            release: Installation {
                addon: AddOn { source, ..addon.clone() },
                revision: recorded["revision"].as_i64().unwrap_or(1),
                seed: seeds.get(&addon.name).and_then(|s| s.as_str()).and_then(ReleaseSeed::decode),
                hooks: true,
                inventory: inventory(&recorded["objects"]),
            },
            extras: inventory(&recorded["extras"]),
        });
    }
    Ok(deployed)
}

fn releases_json(deployed: &[Deployed]) -> String {
    let strings = |inventory: &Inventory| inventory.iter().map(|(k, d)| (k.to_string(), json!(d))).collect::<serde_json::Map<_, _>>();
    let releases: serde_json::Map<String, serde_json::Value> = deployed
        .iter()
        .map(|d| {
            let release = json!({
                "revision": d.release.revision,
                "digest": d.release.addon.source.digest,
                "objects": strings(&d.release.inventory),
                "extras": strings(&d.extras),
            });
            (d.release.addon.name.clone(), release)
        })
        .collect();
    serde_json::Value::Object(releases).to_string()
}
