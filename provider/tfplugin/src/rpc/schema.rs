//! GetSchema and GetMetadata.

use crate::framework::{ProviderData, Registry, Schema};
use crate::proto::tfplugin5 as pb;

use super::wire;

/// Built once per process: Terraform asks in every process it starts.
pub fn build<D: ProviderData>(provider: &Schema, registry: &Registry<D>) -> pb::get_provider_schema::Response {
    pb::get_provider_schema::Response {
        // Must be present even when empty, or Terraform reports a missing provider schema.
        provider: Some(wire::schema(provider)),
        resource_schemas: registry.resources.iter().map(|(n, r)| (n.to_string(), wire::schema(&r.schema))).collect(),
        data_source_schemas: registry.data_sources.iter().map(|(n, d)| (n.to_string(), wire::schema(&d.schema))).collect(),
        diagnostics: Vec::new(),
        provider_meta: Some(pb::Schema { version: 0, block: Some(pb::schema::Block::default()) }),
        server_capabilities: Some(capabilities()),
        functions: Default::default(),
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // Lets a resource see a destroy coming (TF >= 1.3) and warn about what it keeps.
        plan_destroy: true,
        // The schema is cheap but Terraform >= 1.6 then asks only once per command.
        get_provider_schema_optional: true,
        move_resource_state: false,
        generate_resource_config: false,
    }
}

pub fn metadata<D: ProviderData>(registry: &Registry<D>) -> pb::get_metadata::Response {
    pb::get_metadata::Response {
        server_capabilities: Some(capabilities()),
        diagnostics: Vec::new(),
        data_sources: registry.data_sources.keys().map(|n| pb::get_metadata::DataSourceMetadata { type_name: n.to_string() }).collect(),
        resources: registry.resources.keys().map(|n| pb::get_metadata::ResourceMetadata { type_name: n.to_string() }).collect(),
        functions: Vec::new(),
    }
}
