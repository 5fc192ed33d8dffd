//! `aqemia_conformance`: schema, lifecycle, conversions, in that order.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use crate::config::ProviderConfig;
use crate::cty::{self, Path, Type, Value};
use crate::framework::timeouts::{self, Operation};
use crate::framework::{Applied, Attribute, Block, Context, Diagnostics, NestedBlock, Nesting, Plan, Private, Read, Resource, Schema};

use super::store::Store;

pub const TYPE_NAME: &str = "aqemia_conformance";
/// Set to `0` to serve the old schema, so tests can write a v0 state and upgrade it.
pub const SCHEMA_VERSION_ENV: &str = "AQEMIA_CONFORMANCE_SCHEMA_VERSION";
const TIMEOUTS: timeouts::Defaults = timeouts::Defaults {
    create: Duration::from_secs(60),
    read: Duration::from_secs(60),
    update: Duration::from_secs(60),
    delete: Duration::from_secs(60),
};

pub struct Conformance {
    version: i64,
}

impl Conformance {
    pub fn from_env() -> Self {
        let old = std::env::var(SCHEMA_VERSION_ENV).is_ok_and(|v| v == "0");
        Conformance { version: if old { 0 } else { 1 } }
    }
}

// ---- schema ----

fn schema(version: i64) -> Schema {
    // v0 called the free-text attribute `label`; v1 renamed it `str`.
    let text_attribute = if version == 0 { "label" } else { "str" };
    let block = Block::new()
        .description("A test object that exercises every framework feature. Test builds only.")
        .attribute(Attribute::string("id").computed().use_state_for_unknown().description("Identifier assigned on create."))
        .attribute(
            Attribute::string("name")
                .required()
                .description("Name; lowercase letters, digits and hyphens.")
                .validate("1 to 63 lowercase letters, digits or hyphens", validate_name),
        )
        .attribute(Attribute::string("replace_key").optional().requires_replace().description("Changing it replaces the object."))
        .attribute(Attribute::string(text_attribute).optional())
        .attribute(Attribute::number("num").optional().validate("a number >= 0", validate_non_negative))
        .attribute(Attribute::bool("flag").optional())
        .attribute(Attribute::new("dyn", Type::Dynamic).optional())
        .attribute(Attribute::new("strings", Type::list(Type::String)).optional())
        .attribute(Attribute::new("numbers", Type::set(Type::Number)).optional())
        .attribute(Attribute::new("flags", Type::map(Type::Bool)).optional())
        .attribute(Attribute::new("obj", Type::object([("a", Type::String), ("b", Type::Number)])).optional())
        .attribute(Attribute::new("tup", Type::Tuple(vec![Type::String, Type::Number, Type::Bool])).optional())
        .attribute(Attribute::string("secret").optional().sensitive())
        .attribute(Attribute::string("tier").default("standard").description("Defaults to `standard`."))
        .attribute(
            Attribute::string("fail_on")
                .optional()
                .description("`create` or `update`: fail after writing the object, to test partial state."),
        )
        .attribute(Attribute::string("summary").computed().description("`name/tier`, known at plan time when both are."))
        .attribute(Attribute::string("created_at").computed().use_state_for_unknown())
        .attribute(Attribute::number("revision").computed().description("Incremented by every update."))
        .attribute(Attribute::string("legacy").optional().deprecated("Use `str` instead."))
        .block(NestedBlock::new(
            "single",
            Nesting::Single,
            Block::new().attribute(Attribute::string("label").required()).attribute(Attribute::string("echo").computed()),
        ))
        .block(NestedBlock::new("group", Nesting::Group, Block::new().attribute(Attribute::string("note").optional())))
        .block(NestedBlock::new(
            "item",
            Nesting::List,
            Block::new()
                .attribute(Attribute::string("key").required())
                .attribute(Attribute::string("value").optional())
                .attribute(Attribute::string("digest").computed()),
        ))
        .block(NestedBlock::new(
            "tag",
            Nesting::Set,
            Block::new().attribute(Attribute::string("name").required()).attribute(Attribute::string("value").optional()),
        ))
        .block(NestedBlock::new("named", Nesting::Map, Block::new().attribute(Attribute::number("size").optional())))
        .block(timeouts::block(&TIMEOUTS));
    Schema::new(version, block)
}

fn validate_name(v: &Value) -> Result<(), String> {
    let name = v.as_str().unwrap_or_default();
    let ok = (1..=63).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a valid name: use 1 to 63 lowercase letters, digits or hyphens, like \"web-1\""))
    }
}

fn validate_non_negative(v: &Value) -> Result<(), String> {
    match v.as_number() {
        Some(n) if *n >= cty::Number::from(0) => Ok(()),
        _ => Err("must be zero or more, like 0 or 42".into()),
    }
}

// ---- lifecycle ----

#[async_trait]
impl Resource<ProviderConfig> for Conformance {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema(self.version)
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let flag = config.get("flag").and_then(Value::as_bool);
        let text = config.get("str");
        if flag == Some(true) && text.is_some_and(Value::is_null) {
            diags.attribute_error(
                &Path::root().attr("str"),
                "Missing str",
                "str must be set when flag is true; set str, or set flag to false.",
            );
        }
    }

    async fn plan(&self, _ctx: &Context, plan: &mut Plan) {
        // A computed value the provider can already decide: known when its inputs are.
        let name = plan.planned.get("name").cloned().unwrap_or(Value::Null);
        let tier = plan.planned.get("tier").cloned().unwrap_or(Value::Null);
        let summary = match (name.as_str(), tier.as_str()) {
            (Some(n), Some(t)) => Value::string(format!("{n}/{t}")),
            _ => Value::unknown(),
        };
        if let Some(slot) = plan.planned.get_mut("summary") {
            *slot = summary;
        }
    }

    async fn plan_destroy(&self, _ctx: &Context, prior: &Value, diags: &mut Diagnostics) {
        if prior.get("tier").and_then(Value::as_str) == Some("protected") {
            diags.attribute_warning(
                &Path::root().attr("tier"),
                "Protected object will be deleted",
                "This conformance object has tier \"protected\"; its data goes with it.",
            );
        }
    }

    async fn create(&self, ctx: &Context, planned: Value, mut private: Private) -> Applied {
        let limit = TIMEOUTS.resolve(&planned, Operation::Create);
        let outcome = tokio::time::timeout(limit, async {
            let store = Store::open()?;
            let id = store.reserve_id()?;
            let state = complete(planned, &id, None);
            store.put(&id, &self.to_json(&state)?)?;
            Ok::<_, anyhow::Error>(state)
        });
        let state = match run(ctx, outcome, "creating conformance object").await {
            Ok(state) => state,
            Err(diags) => return Applied { state: Value::Null, private, diags },
        };
        private.set("generation", json!(1));
        self.fail_if_asked(state, private, "create")
    }

    async fn read(&self, _ctx: &Context, state: Value, private: Private) -> Read {
        let id = state.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let found = Store::open().and_then(|store| store.get(&id));
        match found {
            Ok(None) => Read { state: None, private, diags: Diagnostics::new() },
            Ok(Some(stored)) => match self.from_json(stored) {
                Ok(current) => Read { state: Some(current), private, diags: Diagnostics::new() },
                Err(diags) => Read { state: Some(state), private, diags },
            },
            Err(err) => Read { state: Some(state), private, diags: err.context(format!("reading conformance object ({id})")).into() },
        }
    }

    async fn update(&self, ctx: &Context, prior: Value, planned: Value, mut private: Private) -> Applied {
        let id = prior.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let limit = TIMEOUTS.resolve(&planned, Operation::Update);
        let outcome = tokio::time::timeout(limit, async {
            let state = complete(planned, &id, Some(&prior));
            Store::open()?.put(&id, &self.to_json(&state)?)?;
            Ok::<_, anyhow::Error>(state)
        });
        let state = match run(ctx, outcome, &format!("updating conformance object ({id})")).await {
            Ok(state) => state,
            Err(diags) => return Applied { state: prior, private, diags },
        };
        let generation = private.get("generation").and_then(serde_json::Value::as_i64).unwrap_or(0);
        private.set("generation", json!(generation + 1));
        self.fail_if_asked(state, private, "update")
    }

    async fn delete(&self, ctx: &Context, prior: Value, _private: Private) -> Diagnostics {
        let id = prior.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let limit = TIMEOUTS.resolve(&prior, Operation::Delete);
        let outcome = tokio::time::timeout(limit, async { Store::open()?.delete(&id) });
        run(ctx, outcome, &format!("deleting conformance object ({id})")).await.err().unwrap_or_default()
    }

    async fn import(&self, _ctx: &Context, id: &str) -> Result<(Value, Private), Diagnostics> {
        let stored = Store::open().and_then(|store| store.get(id)).map_err(Diagnostics::from)?;
        let Some(stored) = stored else {
            let mut diags = Diagnostics::new();
            diags.error(
                format!("Cannot import conformance object {id:?}"),
                format!("No object with id {id:?} exists; ids look like \"obj-1\"."),
            );
            return Err(diags);
        };
        Ok((self.from_json(stored)?, Private::default()))
    }

    fn upgrade_state(&self, from_version: i64, state: serde_json::Value) -> Result<serde_json::Value, Diagnostics> {
        match from_version {
            0 => Ok(upgrade_v0(state)),
            other => {
                let mut diags = Diagnostics::new();
                diags.error("Cannot upgrade conformance state", format!("unknown schema version {other}"));
                Err(diags)
            }
        }
    }
}

impl Conformance {
    fn fail_if_asked(&self, state: Value, private: Private, operation: &str) -> Applied {
        let mut applied = Applied::ok(state, private);
        if applied.state.get("fail_on").and_then(Value::as_str) == Some(operation) {
            applied.diags.attribute_error(
                &Path::root().attr("fail_on"),
                format!("Simulated failure after {operation}"),
                "The object was written, then the operation failed on purpose (fail_on). Remove fail_on and apply again.",
            );
        }
        applied
    }

    fn to_json(&self, state: &Value) -> anyhow::Result<serde_json::Value> {
        let bytes = cty::json::encode(state, &schema(self.version).value_type())?;
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// Reads a stored object, upgrading one written by the v0 schema.
    fn from_json(&self, stored: serde_json::Value) -> Result<Value, Diagnostics> {
        let stored = if self.version >= 1 && stored.get("label").is_some() { upgrade_v0(stored) } else { stored };
        let bytes = serde_json::to_vec(&stored).expect("JSON value always serialises");
        cty::json::decode(&bytes, &schema(self.version).value_type()).map_err(|e| {
            let mut diags = Diagnostics::new();
            diags.error("Cannot read conformance object", e.to_string());
            diags
        })
    }
}

/// Runs a store operation under its timeout and Terraform's Stop.
async fn run<T>(
    ctx: &Context,
    operation: impl std::future::Future<Output = Result<anyhow::Result<T>, tokio::time::error::Elapsed>>,
    what: &str,
) -> Result<T, Diagnostics> {
    let result = tokio::select! {
        r = operation => r,
        _ = ctx.cancel.cancelled() => return Err(anyhow::anyhow!("{what}: cancelled by Terraform").into()),
    };
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(err.context(what.to_string()).into()),
        Err(_) => Err(anyhow::anyhow!("{what}: timed out; raise the limit in the timeouts block").into()),
    }
}

// ---- conversions ----

/// Fills every computed attribute of a planned value.
fn complete(mut state: Value, id: &str, prior: Option<&Value>) -> Value {
    let set = |state: &mut Value, name: &str, value: Value| {
        if let Some(slot) = state.get_mut(name) {
            *slot = value;
        }
    };
    set(&mut state, "id", Value::string(id));
    let summary = format!(
        "{}/{}",
        state.get("name").and_then(Value::as_str).unwrap_or_default(),
        state.get("tier").and_then(Value::as_str).unwrap_or_default()
    );
    set(&mut state, "summary", Value::string(summary));
    let created_at = match prior.and_then(|p| p.get("created_at")) {
        Some(v) if !v.is_null() => v.clone(),
        _ => {
            let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
            Value::string(secs.to_string())
        }
    };
    set(&mut state, "created_at", created_at);
    let revision = prior.and_then(|p| p.get("revision")).and_then(Value::as_number).and_then(cty::Number::to_i64).unwrap_or(0) + 1;
    set(&mut state, "revision", Value::from(revision));
    if let Some(single) = state.get_mut("single") {
        if let Some(label) = single.get("label").and_then(Value::as_str).map(str::to_uppercase) {
            *single.get_mut("echo").expect("single has echo") = Value::string(label);
        }
    }
    if let Some(Value::List(items)) = state.get_mut("item") {
        for item in items {
            let key = item.get("key").and_then(Value::as_str).unwrap_or_default().to_string();
            let value = item.get("value").and_then(Value::as_str).unwrap_or_default().to_string();
            *item.get_mut("digest").expect("item has digest") = Value::string(digest(&format!("{key}={value}")));
        }
    }
    state
}

/// A short stable digest (FNV-1a), enough to show a change.
fn digest(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3));
    format!("{hash:016x}")
}

fn upgrade_v0(mut state: serde_json::Value) -> serde_json::Value {
    if let Some(object) = state.as_object_mut() {
        let label = object.remove("label").unwrap_or(serde_json::Value::Null);
        object.insert("str".into(), label);
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v0_state_upgrades_to_v1() {
        let v0 = json!({"id": "obj-1", "name": "a", "label": "hello", "tier": "standard"});
        let v1 = upgrade_v0(v0);
        assert_eq!(v1["str"], json!("hello"));
        assert!(v1.get("label").is_none());
        let bytes = serde_json::to_vec(&v1).unwrap();
        let value = cty::json::decode(&bytes, &schema(1).value_type()).expect("upgraded state decodes with the v1 schema");
        assert_eq!(value.get("str"), Some(&Value::from("hello")));
    }

    #[test]
    fn name_validation_says_what_is_right() {
        assert!(validate_name(&Value::from("web-1")).is_ok());
        let err = validate_name(&Value::from("Web_1")).unwrap_err();
        assert!(err.contains("lowercase") && err.contains("web-1"));
    }
}
