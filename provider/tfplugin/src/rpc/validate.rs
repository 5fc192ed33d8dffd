//! ValidateResourceTypeConfig and ValidateDataSourceConfig: schema validators, then the
//! resource's own cross-attribute checks. Configuration may hold unknowns here.

use crate::cty::{Path, Value};
use crate::framework::registry::Registered;
use crate::framework::{DataSource, Diagnostics, ProviderData, Registry, Resource};
use crate::proto::tfplugin5 as pb;

use super::wire;

pub fn resource<D: ProviderData>(
    registry: &Registry<D>,
    request: pb::validate_resource_type_config::Request,
) -> pb::validate_resource_type_config::Response {
    let entry = registry.resources.get(request.type_name.as_str());
    let diags =
        check(registry, "resource", &request.type_name, entry, request.config.as_ref(), |r: &dyn Resource<D>, v, d| r.validate(v, d));
    pb::validate_resource_type_config::Response { diagnostics: wire::diagnostics(&diags) }
}

pub fn data_source<D: ProviderData>(
    registry: &Registry<D>,
    request: pb::validate_data_source_config::Request,
) -> pb::validate_data_source_config::Response {
    let entry = registry.data_sources.get(request.type_name.as_str());
    let diags =
        check(registry, "data source", &request.type_name, entry, request.config.as_ref(), |r: &dyn DataSource<D>, v, d| r.validate(v, d));
    pb::validate_data_source_config::Response { diagnostics: wire::diagnostics(&diags) }
}

fn check<D: ProviderData, T: ?Sized>(
    registry: &Registry<D>,
    kind: &str,
    name: &str,
    entry: Option<&Registered<T>>,
    config: Option<&pb::DynamicValue>,
    own_checks: impl Fn(&T, &Value, &mut Diagnostics),
) -> Diagnostics {
    let Some(entry) = entry else { return registry.unknown_type(kind, name) };
    let config = match wire::decode(config, &entry.value_type, "configuration") {
        Ok(config) => config,
        Err(diags) => return diags,
    };
    let mut diags = Diagnostics::new();
    entry.schema.block.validate_value(&config, &Path::root(), &mut diags);
    own_checks(&entry.implementation, &config, &mut diags);
    diags
}
