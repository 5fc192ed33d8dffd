//! `aqemia_app`: the application in one stage. Its Kubernetes objects are built from the
//! arguments (objects.rs) and installed as one release; its Cloudflare record (dns.rs) is
//! written once the rollout is complete and the load balancer has a real hostname.
//! Lifecycle here; schema and checks in schema.rs.

mod dns;
mod objects;
mod schema;

use async_trait::async_trait;
use tokio::time::Instant;

use super::release::{
    error_text, failed, finish_release, install_bodies, inventory_from, inventory_value, open_release, plan_bodies, planned_objects,
    refresh_bodies, release_key, seed_of, set, try_open_release, uninstall_release, Bodies,
};
use crate::config::ProviderConfig;
use crate::cty::Value;
use crate::framework::timeouts::Operation;
use crate::framework::{Applied, Context, Diagnostics, Plan, Private, Read, Resource, Schema};
use aqemia_cloudflare::Record;
use aqemia_release::apply::Forcing;
use aqemia_release::engine::Options;
use aqemia_release::inventory::ReleaseId;
use dns::{Dns, Problem};
use objects::AppSpec;
use schema::TIMEOUTS;

pub const TYPE_NAME: &str = "aqemia_app";

pub struct App;

#[async_trait]
impl Resource<ProviderConfig> for App {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        super::release::validate_cluster(config, diags);
        schema::validate(config, diags);
    }

    async fn plan(&self, ctx: &Context, plan: &mut Plan) {
        if let (Some(stage), Some(name)) =
            (plan.planned.get("stage").and_then(Value::as_str), plan.planned.get("name").and_then(Value::as_str))
        {
            let id = Value::string(format!("{stage}/{name}"));
            set(&mut plan.planned, "id", id);
        }
        let url = url_of(&plan.planned);
        set(&mut plan.planned, "url", url);
        let objects = plan_objects(ctx, plan).await;
        set(&mut plan.planned, "objects", objects);
        plan_dns(ctx, plan).await;
    }

    async fn create(&self, ctx: &Context, planned: Value, private: Private) -> Applied {
        apply(ctx, None, planned, private, Operation::Create).await
    }

    async fn update(&self, ctx: &Context, prior: Value, planned: Value, private: Private) -> Applied {
        apply(ctx, Some(prior), planned, private, Operation::Update).await
    }

    async fn read(&self, ctx: &Context, mut state: Value, private: Private) -> Read {
        let mut diags = Diagnostics::new();
        if let Some(spec) = AppSpec::from_value(&state) {
            let key = seed_of(&private);
            let session = open_release(&state, &ctx.config, release_id(&spec)).await;
            match refresh_bodies(session, Ok(spec.objects(key.as_ref())), &inventory_from(&state), key.as_ref()).await {
                Ok(objects) => set(&mut state, "objects", inventory_value(&objects)),
                Err(e) => diags.error("Reading the app's objects failed", error_text(&e)),
            }
        }
        if let Err(problem) = refresh_record(&ctx.config, &mut state).await {
            problem.report(&mut diags);
        }
        Read { state: Some(state), private, diags }
    }

    async fn delete(&self, ctx: &Context, prior: Value, _private: Private) -> Diagnostics {
        let deadline = Instant::now() + TIMEOUTS.resolve(&prior, Operation::Delete);
        let mut diags = Diagnostics::new();
        // The name stops pointing at the app before the app goes.
        if let Some(record) = RecordRef::of(&prior) {
            let deleted = match dns::client(&ctx.config) {
                Ok(client) => dns::delete_record(&client, &record.zone_id, &record.id).await,
                Err(problem) => Err(problem),
            };
            if let Err(problem) = deleted {
                problem.report(&mut diags);
                return diags;
            }
        }
        let Some(spec) = AppSpec::from_value(&prior) else { return diags };
        let session = open_release(&prior, &ctx.config, release_id(&spec)).await;
        uninstall_release(session, &inventory_from(&prior), &options(deadline), &ctx.cancel).await
    }
}

/// Installs the objects, then writes the record; the state says what exists whatever failed.
async fn apply(ctx: &Context, prior: Option<Value>, planned: Value, mut private: Private, operation: Operation) -> Applied {
    let deadline = Instant::now() + TIMEOUTS.resolve(&planned, operation);
    let key = match release_key(&mut private) {
        Ok(key) => key,
        Err(detail) => return failed(prior.unwrap_or(Value::Null), private, detail),
    };
    let Some(spec) = AppSpec::from_value(&planned) else {
        return failed(prior.unwrap_or(Value::Null), private, "the app's arguments are not all known at apply".into());
    };
    let id = release_id(&spec);
    let bodies =
        Bodies { now: spec.objects(Some(&key)), before: prior.as_ref().and_then(AppSpec::from_value).map(|p| p.objects(Some(&key))) };
    let session = match open_release(&planned, &ctx.config, id.clone()).await {
        // The stage's namespace is made if missing and never deleted: other apps may share it.
        Ok(session) => session.ensure_namespace().await.map(|_| session),
        Err(e) => Err(e),
    };
    let previous_inventory = prior.as_ref().map(inventory_from).unwrap_or_default();
    let outcome = install_bodies(session, Ok(bodies), previous_inventory, &options(deadline), &ctx.cancel, &key).await;
    let rolled_back = matches!(&outcome, Err(f) if f.rolled_back);
    let verb = if prior.is_some() { "updating" } else { "creating" };
    let base = match (&prior, rolled_back) {
        (Some(prior), true) => prior.clone(),
        _ => planned,
    };
    let mut applied = finish_release(base, private, outcome, verb, &format!("{}/{}", id.namespace, id.name));
    if applied.diags.has_errors() {
        // No record is pointed at an app that did not roll out; the prior one stays as it was.
        keep_record(prior.as_ref(), &mut applied.state);
        return applied;
    }
    if let Err(problem) = write_record(ctx, prior.as_ref(), &mut applied.state, deadline).await {
        problem.report(&mut applied.diags);
    }
    applied
}

fn release_id(spec: &AppSpec) -> ReleaseId {
    ReleaseId { namespace: spec.stage.clone(), name: spec.name.clone() }
}

fn options(deadline: Instant) -> Options {
    Options { wait: true, prune: true, forcing: Forcing::default(), delete_protected: false, deadline }
}

fn url_of(value: &Value) -> Value {
    let (host, issuer) = (value.get("host").unwrap_or(&Value::Null), value.get("cluster_issuer").unwrap_or(&Value::Null));
    if host.is_unknown() || issuer.is_unknown() {
        return Value::unknown();
    }
    match host.as_str() {
        Some(host) => Value::string(format!("{}://{host}", if issuer.is_null() { "http" } else { "https" })),
        None => Value::Null,
    }
}

/// The planned `objects`, with a dry run of each change where the cluster answers.
async fn plan_objects(ctx: &Context, plan: &mut Plan) -> Value {
    let Some(spec) = AppSpec::from_value(&plan.planned) else { return Value::unknown() };
    // Secrets' digests, and the pod annotation that follows `secret_env`, are keyed with the
    // release's key, drawn by the first apply: until then they cannot be known.
    let key = seed_of(&plan.private);
    let before = if plan.is_create() { None } else { AppSpec::from_value(&plan.prior).map(|p| p.objects(key.as_ref())) };
    // A first apply may create the stage's namespace, where a dry run of every object fails:
    // its objects are only placed then.
    let session = match plan.is_create() {
        true => None,
        false => try_open_release(&plan.planned, &ctx.config, release_id(&spec)).await,
    };
    let bodies = Bodies { now: spec.objects(key.as_ref()), before };
    match plan_bodies(session, &spec.stage, bodies, &inventory_from(&plan.prior), &Forcing::default(), key.as_ref()).await {
        Ok(inventory) => {
            let mut objects = planned_objects(inventory, key.as_ref());
            if key.is_none() && !spec.secret_env.is_empty() {
                if let Value::Map(entries) = &mut objects {
                    entries.iter_mut().filter(|(k, _)| k.starts_with("Deployment.apps/")).for_each(|(_, v)| *v = Value::unknown());
                }
            }
            objects
        }
        Err(e) => {
            plan.diags.error("The app's objects would be refused", error_text(&e));
            Value::unknown()
        }
    }
}

/// The record as state keeps it: where it is.
struct RecordRef {
    zone_id: String,
    id: String,
    name: String,
}

impl RecordRef {
    fn of(value: &Value) -> Option<RecordRef> {
        let block = value.get("dns").filter(|b| !b.is_null())?;
        let text = |name: &str| block.get(name).and_then(Value::as_str).map(str::to_string);
        Some(RecordRef { zone_id: text("zone_id")?, id: text("record_id")?, name: schema::record_name(value)?.to_ascii_lowercase() })
    }
}

fn set_dns(value: &mut Value, name: &str, new: Value) {
    if let Some(slot) = value.get_mut("dns").and_then(|b| b.get_mut(name)) {
        *slot = new;
    }
}

/// Plans the record: its zone (an error on the attribute when the token cannot see it), what
/// it will point at when that is known now, and a conflict with a record someone else made.
async fn plan_dns(ctx: &Context, plan: &mut Plan) {
    let Some(mut dns) = Dns::from_value(&plan.planned) else {
        for computed in ["record_id", "content"] {
            if plan.planned.get("dns").is_some_and(|b| !b.is_null()) {
                set_dns(&mut plan.planned, computed, Value::unknown());
            }
        }
        return;
    };
    // The zone comes from what is configured: a zone id kept in state may be another zone's.
    dns.zone_id = plan.config.get("dns").and_then(|b| b.get("zone_id")).and_then(Value::as_str).map(str::to_string);
    let client = match dns::client(&ctx.config) {
        Ok(client) => client,
        Err(problem) => {
            if ctx.config.unknown.iter().any(|s| s == "cloudflare_api_token") {
                ["zone_id", "record_id", "content"].iter().for_each(|a| set_dns(&mut plan.planned, a, Value::unknown()));
            } else {
                problem.report(&mut plan.diags);
            }
            return;
        }
    };
    let zone = match dns::zone(&client, &dns).await {
        Ok(zone) => zone,
        Err(problem) => return problem.report(&mut plan.diags),
    };
    set_dns(&mut plan.planned, "zone_id", Value::string(zone.id.clone()));
    if !schema::in_zone(&dns.name, &zone.name) {
        return Problem {
            attribute: Some("name"),
            summary: "Record outside its zone",
            detail: format!("{} is not in the zone {}", dns.name, zone.name),
        }
        .report(&mut plan.diags);
    }
    let content = match (&dns.target, &dns.load_balancer_service) {
        (Some(target), _) => Some(target.to_ascii_lowercase()),
        (None, Some((namespace, name))) => match super::release::client(&plan.planned, &ctx.config).await {
            Ok(kube) => dns::load_balancer_address(&kube, namespace, name).await.ok().flatten().map(|a| a.to_ascii_lowercase()),
            // The cluster may be made by this very apply.
            Err(_) => None,
        },
        (None, None) => None,
    };
    set_dns(&mut plan.planned, "content", content.map(Value::string).unwrap_or_else(Value::unknown));
    let kept = RecordRef::of(&plan.prior).filter(|r| r.zone_id == zone.id && r.name == dns.name);
    let record_id = match kept {
        Some(record) => Value::string(record.id),
        None => {
            if !dns.adopt_existing {
                let owner = owner(&plan.planned);
                if let Err(problem) = dns::check_free(&client, &zone, &dns.name, &dns::ownership_comment(&owner)).await {
                    problem.report(&mut plan.diags);
                }
            }
            Value::unknown()
        }
    };
    set_dns(&mut plan.planned, "record_id", record_id);
}

/// `<stage>/<name> in <cluster>`, what the record's comment names: two clusters that run the
/// same app and stage never take each other's record for their own.
fn owner(value: &Value) -> String {
    let cluster = super::release::connection(value).ok().flatten().map(|c| c.label()).unwrap_or_default();
    format!("{}/{} in {cluster}", super::release::text(value, "stage"), super::release::text(value, "name"))
}

/// Writes the record after a successful install: waits for the load balancer's hostname
/// when it points there, moves it when its zone or name changed, deletes it when the block
/// is gone. `state` gets what Cloudflare holds; after a failure, the record that still exists.
async fn write_record(ctx: &Context, prior: Option<&Value>, state: &mut Value, deadline: Instant) -> Result<(), Problem> {
    let had = prior.and_then(RecordRef::of);
    let mut had_deleted = false;
    match reconcile_record(ctx, had.as_ref(), state, deadline, &mut had_deleted).await {
        Ok(Some((zone_id, record))) => {
            set_dns(state, "zone_id", Value::string(zone_id));
            set_dns(state, "record_id", Value::string(record.id));
            set_dns(state, "content", Value::string(record.content));
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(problem) => {
            keep_record(if had_deleted { None } else { prior }, state);
            Err(problem)
        }
    }
}

/// The record `state` asks for, made or brought in line: its zone's id and the record.
async fn reconcile_record(
    ctx: &Context,
    had: Option<&RecordRef>,
    state: &Value,
    deadline: Instant,
    had_deleted: &mut bool,
) -> Result<Option<(String, Record)>, Problem> {
    let Some(dns) = Dns::from_value(state) else {
        if let Some(had) = had {
            dns::delete_record(&dns::client(&ctx.config)?, &had.zone_id, &had.id).await?;
            *had_deleted = true;
        }
        return Ok(None);
    };
    let client = dns::client(&ctx.config)?;
    let zone = dns::zone(&client, &dns).await?;
    // Known before anything is deleted: a load balancer that never comes leaves the old record.
    let content = match (&dns.target, &dns.load_balancer_service) {
        (Some(target), _) => target.clone(),
        (None, Some((namespace, name))) => {
            let kube = super::release::client(state, &ctx.config).await.map_err(|e| Problem {
                attribute: None,
                summary: "Connecting to the cluster failed",
                detail: error_text(&e),
            })?;
            dns::wait_for_load_balancer(&kube, (namespace, name), deadline, &ctx.cancel).await?
        }
        (None, None) => {
            return Err(Problem {
                attribute: None,
                summary: "Missing target",
                detail: "set dns.load_balancer_service or dns.target".into(),
            })
        }
    };
    let reusable = had.filter(|h| h.zone_id == zone.id && h.name == dns.name);
    if let (Some(had), None) = (had, reusable) {
        // Deleted before the new one is made: Cloudflare refuses two records of one name.
        dns::delete_record(&client, &had.zone_id, &had.id).await?;
        *had_deleted = true;
    }
    let spec = dns.spec(&content, &owner(state));
    let record = dns::ensure_record(&client, &zone, reusable.map(|h| h.id.as_str()), &spec, dns.adopt_existing).await?;
    Ok(Some((zone.id, record)))
}

/// After a failed install: the record is what the prior state said (none on create).
fn keep_record(prior: Option<&Value>, state: &mut Value) {
    for name in ["zone_id", "record_id", "content"] {
        let was = prior.and_then(|p| p.get("dns")).and_then(|b| b.get(name)).cloned().unwrap_or(Value::Null);
        let configured = state.get("dns").and_then(|b| b.get(name)).is_some_and(|v| !v.is_unknown() && !v.is_null());
        if name != "zone_id" || !configured {
            set_dns(state, name, was);
        }
    }
}

/// Reads the record back: what it points at, proxied and TTL as they are now, so a change
/// made in the dashboard shows in the plan; a record deleted there is planned anew.
async fn refresh_record(config: &ProviderConfig, state: &mut Value) -> Result<(), Problem> {
    let Some(record) = RecordRef::of(state) else { return Ok(()) };
    let client = dns::client(config)?;
    let live = client.record(&record.zone_id, &record.id).await.map_err(|e| Problem {
        attribute: None,
        summary: "Reading the DNS record failed",
        detail: e.to_string(),
    })?;
    match live {
        Some(live) => {
            set_dns(state, "content", Value::string(live.content));
            set_dns(state, "proxied", Value::from(live.proxied));
            set_dns(state, "ttl", Value::from(live.ttl as i64));
        }
        None => {
            set_dns(state, "record_id", Value::Null);
            set_dns(state, "content", Value::Null);
        }
    }
    Ok(())
}
