//! PrepareProviderConfig and Configure.

use crate::config::{self, ProviderConfig};
use crate::framework::Diagnostics;
use crate::proto::tfplugin5 as pb;

use super::wire;

/// Terraform ignores the prepared config; only the diagnostics matter here.
pub fn prepare(request: pb::prepare_provider_config::Request) -> pb::prepare_provider_config::Response {
    let (_, diags) = parse(request.config.as_ref(), "");
    pb::prepare_provider_config::Response { prepared_config: None, diagnostics: wire::diagnostics(&diags) }
}

pub fn configure(request: pb::configure::Request) -> (ProviderConfig, Diagnostics) {
    parse(request.config.as_ref(), &request.terraform_version)
}

fn parse(value: Option<&pb::DynamicValue>, terraform_version: &str) -> (ProviderConfig, Diagnostics) {
    let ty = config::schema().value_type();
    match wire::decode(value, &ty, "provider configuration") {
        Ok(value) => config::from_value(&value, |name| std::env::var(name).ok(), terraform_version),
        Err(diags) => (ProviderConfig::default(), diags),
    }
}
