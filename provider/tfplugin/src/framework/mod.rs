//! The resource framework: the `Provider` trait, the traits resources and data sources
//! implement, and what they build on: schema builder, plan rules, diagnostics, private state,
//! timeouts.

pub mod diag;
pub mod plan;
pub mod private;
pub mod provider;
pub mod registry;
pub mod resource;
pub mod schema;
pub mod timeouts;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use private::Private;
pub use provider::Provider;
pub use registry::Registry;
pub use resource::{Applied, Context, DataSource, Plan, ProviderData, Read, Resource};
pub use schema::{Attribute, Block, Mode, NestedBlock, Nesting, Schema};
