//! What a resource or data source implements. Plan rules, validation from the schema,
//! value codecs and the wire are handled around these calls.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::cty::{Path, Value};

use super::diag::Diagnostics;
use super::private::Private;
use super::schema::Schema;

/// What a provider's `configure` makes of its configuration, handed to every operation
/// (terraform-plugin-framework calls it the same): credentials, endpoints, clients.
pub trait ProviderData: Send + Sync + 'static {}

impl<T: Send + Sync + 'static> ProviderData for T {}

/// What every operation gets: the configured provider and a token that fires when
/// Terraform asks the provider to stop (Ctrl-C), so long waits end early and cleanly.
pub struct Context<D> {
    pub config: Arc<D>,
    pub cancel: CancellationToken,
}

impl<D> Clone for Context<D> {
    fn clone(&self) -> Self {
        Context { config: self.config.clone(), cancel: self.cancel.clone() }
    }
}

/// A plan in the making, after the built-in rules ran. The resource's `plan` hook may
/// refine `planned` (never contradicting configuration), add replace-forcing paths and
/// stash what apply needs in `private`.
pub struct Plan {
    /// Null on create.
    pub prior: Value,
    pub config: Value,
    pub planned: Value,
    pub private: Private,
    pub requires_replace: Vec<Path>,
    pub diags: Diagnostics,
}

impl Plan {
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }
}

/// The outcome of create or update. On failure, `state` is whatever exists so far (or null
/// if nothing does): Terraform stores it, so nothing created is ever lost.
pub struct Applied {
    pub state: Value,
    pub private: Private,
    pub diags: Diagnostics,
}

impl Applied {
    pub fn ok(state: Value, private: Private) -> Self {
        Applied { state, private, diags: Diagnostics::new() }
    }
}

/// The outcome of a refresh: `None` when the remote object is gone.
pub struct Read {
    pub state: Option<Value>,
    pub private: Private,
    pub diags: Diagnostics,
}

#[async_trait]
pub trait Resource<D: ProviderData>: Send + Sync + 'static {
    /// The full type name, e.g. `aqemia_cluster`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks beyond the per-attribute validators of the schema (cross-attribute rules).
    /// The configuration may hold unknowns: skip what is not known yet.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Refines the plan after the built-in rules. Must be deterministic.
    async fn plan(&self, _ctx: &Context<D>, _plan: &mut Plan) {}

    /// Looks at a planned destroy (Terraform 1.3 and newer ask), to warn about what will be
    /// kept or lost. An error here stops the destroy before anything is touched.
    async fn plan_destroy(&self, _ctx: &Context<D>, _prior: &Value, _diags: &mut Diagnostics) {}

    async fn create(&self, ctx: &Context<D>, planned: Value, private: Private) -> Applied;

    async fn read(&self, ctx: &Context<D>, state: Value, private: Private) -> Read;

    async fn update(&self, ctx: &Context<D>, prior: Value, planned: Value, private: Private) -> Applied;

    async fn delete(&self, ctx: &Context<D>, prior: Value, private: Private) -> Diagnostics;

    /// Turns an import id into a state for `read` to complete.
    async fn import(&self, _ctx: &Context<D>, id: &str) -> Result<(Value, Private), Diagnostics> {
        let mut diags = Diagnostics::new();
        diags.error(
            format!("{} cannot be imported", self.type_name()),
            format!("Import of {} is not supported; create it with `terraform apply` instead (id {id:?}).", self.type_name()),
        );
        Err(diags)
    }

    /// Rewrites a state stored by an older schema version (as JSON of that version) into the
    /// current version's JSON. Called once, with the version that wrote the state.
    fn upgrade_state(&self, from_version: i64, _state: serde_json::Value) -> Result<serde_json::Value, Diagnostics> {
        let mut diags = Diagnostics::new();
        diags.error(
            format!("Cannot upgrade {} state", self.type_name()),
            format!(
                "The state was written with schema version {from_version}, which this release of the provider cannot read. \
                 Use the provider release that wrote it, or remove the resource from state and import it again."
            ),
        );
        Err(diags)
    }
}

#[async_trait]
pub trait DataSource<D: ProviderData>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Returns the full value: configuration plus computed attributes, wholly known.
    async fn read(&self, ctx: &Context<D>, config: Value) -> Result<Value, Diagnostics>;
}
