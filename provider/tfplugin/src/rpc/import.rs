//! ImportResourceState (Terraform reads the imported object right after) and
//! MoveResourceState (not offered: aqemia advertises no moves).

use crate::framework::{Context, Diagnostics, ProviderData, Registry};
use crate::proto::tfplugin5 as pb;

use super::wire;

pub async fn resource_state<D: ProviderData>(
    registry: &Registry<D>,
    ctx: &Context<D>,
    request: pb::import_resource_state::Request,
) -> pb::import_resource_state::Response {
    let result = async {
        let entry =
            registry.resources.get(request.type_name.as_str()).ok_or_else(|| registry.unknown_type("resource", &request.type_name))?;
        let (state, private) = entry.implementation.import(ctx, &request.id).await?;
        let state = wire::encode(&state, &entry.value_type, "imported state")?;
        Ok::<_, Diagnostics>(pb::import_resource_state::ImportedResource {
            type_name: request.type_name.clone(),
            state: Some(state),
            private: private.to_bytes(),
            identity: None,
        })
    }
    .await;
    match result {
        Ok(imported) => pb::import_resource_state::Response { imported_resources: vec![imported], ..Default::default() },
        Err(diags) => pb::import_resource_state::Response { diagnostics: wire::diagnostics(&diags), ..Default::default() },
    }
}

pub fn move_state(request: pb::move_resource_state::Request) -> pb::move_resource_state::Response {
    let mut diags = Diagnostics::new();
    diags.error(
        "Moving resources across types is not supported",
        format!(
            "{} cannot be moved from {} ({}); remove it from state and import it as {} instead.",
            request.target_type_name, request.source_type_name, request.source_provider_address, request.target_type_name
        ),
    );
    pb::move_resource_state::Response { diagnostics: wire::diagnostics(&diags), ..Default::default() }
}
