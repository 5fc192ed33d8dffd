//! The SDK's resource framework, bound to this provider's configuration: resources implement
//! `Resource<ProviderConfig>` and get a `Context` whose `config` is the `ProviderConfig`.

pub use aqemia_tfplugin::framework::*;

use crate::config::ProviderConfig;

pub type Context = aqemia_tfplugin::framework::Context<ProviderConfig>;
pub type Registry = aqemia_tfplugin::framework::Registry<ProviderConfig>;
