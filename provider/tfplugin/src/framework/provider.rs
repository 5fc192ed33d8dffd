//! What a provider gives the server: who it is, its configuration, and its resources.

use crate::cty::Value;

use super::diag::Diagnostics;
use super::registry::Registry;
use super::resource::ProviderData;
use super::schema::Schema;

pub trait Provider: Send + Sync + 'static {
    /// What `configure` makes of the provider block, handed to every operation.
    type Data: ProviderData + Default;

    /// The registry address Terraform knows the provider by, e.g.
    /// `registry.terraform.io/example/example`; debug mode prints it for reattaching.
    fn address(&self) -> &'static str;

    /// The schema of the provider block (may be empty, never absent).
    fn schema(&self) -> Schema;

    /// Reads the provider block (`config` has the type of `schema()`, unknowns included at
    /// validation time). `terraform_version` is empty when Terraform did not say.
    fn configure(&self, config: &Value, terraform_version: &str) -> (Self::Data, Diagnostics);

    /// The resources and data sources, built once per process.
    fn registry(&self) -> Registry<Self::Data>;
}
