//! Test-only resource and data source that exercise every part of the framework through the
//! real Terraform CLI: every type and nesting mode, unknowns, sensitive values, defaults,
//! import, replacement, partial failure and a v0 -> v1 state upgrade. Compiled only with
//! the `conformance` feature, never in release builds.
//!
//! Objects live as JSON files in the directory named by `AQEMIA_CONFORMANCE_STORE`, so tests
//! can make drift by editing a file and check what apply really did.

mod data_source;
mod resource;
mod stack;
mod store;

use crate::framework::Registry;

pub fn register(registry: Registry) -> Registry {
    registry.resource(resource::Conformance::from_env()).resource(stack::ConformanceStack).data_source(data_source::ConformanceEcho)
}
