//! The resource framework: schema builder, plan rules, diagnostics, private state,
//! timeouts, and the traits resources and data sources implement.

pub mod diag;
pub mod plan;
pub mod private;
pub mod provider;
pub mod resource;
pub mod schema;
pub mod timeouts;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use private::Private;
pub use provider::Provider;
pub use resource::{Applied, Context, DataSource, Plan, ProviderData, Read, Resource};
pub use schema::{Attribute, Block, Mode, NestedBlock, Nesting, Schema};
pub mod registry;
pub use registry::Registry;
