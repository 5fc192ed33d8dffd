//! The provider as the SDK serves it: its address, its configuration and its resources.

use crate::config::{self, ProviderConfig};
use crate::cty::Value;
use crate::framework::{Diagnostics, Provider, Registry, Schema};

pub struct Aqemia;

impl Provider for Aqemia {
    type Data = ProviderConfig;

    fn address(&self) -> &'static str {
        crate::PROVIDER_ADDRESS
    }

    fn schema(&self) -> Schema {
        config::schema()
    }

    fn configure(&self, config: &Value, terraform_version: &str) -> (ProviderConfig, Diagnostics) {
        config::from_value(config, |name| std::env::var(name).ok(), terraform_version)
    }

    fn registry(&self) -> Registry {
        crate::resources::registry()
    }
}
