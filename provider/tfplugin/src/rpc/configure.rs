//! PrepareProviderConfig and Configure.

use crate::framework::{Diagnostics, Provider};
use crate::proto::tfplugin5 as pb;

use super::wire;

/// Terraform ignores the prepared config; only the diagnostics matter here.
pub fn prepare<P: Provider>(provider: &P, request: pb::prepare_provider_config::Request) -> pb::prepare_provider_config::Response {
    let (_, diags) = parse(provider, request.config.as_ref(), "");
    pb::prepare_provider_config::Response { prepared_config: None, diagnostics: wire::diagnostics(&diags) }
}

pub fn configure<P: Provider>(provider: &P, request: pb::configure::Request) -> (P::Data, Diagnostics) {
    parse(provider, request.config.as_ref(), &request.terraform_version)
}

fn parse<P: Provider>(provider: &P, value: Option<&pb::DynamicValue>, terraform_version: &str) -> (P::Data, Diagnostics) {
    let ty = provider.schema().value_type();
    match wire::decode(value, &ty, "provider configuration") {
        Ok(value) => provider.configure(&value, terraform_version),
        Err(diags) => (P::Data::default(), diags),
    }
}
