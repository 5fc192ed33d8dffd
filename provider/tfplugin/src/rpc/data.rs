//! ReadDataSource: the result must be a wholly known, non-null object.

use crate::framework::{Context, Diagnostics, ProviderData, Registry};
use crate::proto::tfplugin5 as pb;

use super::wire;

pub async fn read<D: ProviderData>(
    registry: &Registry<D>,
    ctx: &Context<D>,
    request: pb::read_data_source::Request,
) -> pb::read_data_source::Response {
    let result = async {
        let entry = registry
            .data_sources
            .get(request.type_name.as_str())
            .ok_or_else(|| registry.unknown_type("data source", &request.type_name))?;
        let config = wire::decode(request.config.as_ref(), &entry.value_type, "configuration")?;
        let state = entry.implementation.read(ctx, config).await?;
        if state.is_null() || !state.is_wholly_known() {
            let mut diags = Diagnostics::new();
            diags.error(
                format!("{} returned an incomplete result", request.type_name),
                "A data source must return a wholly known object. This is a bug in the provider; please report it.",
            );
            return Err(diags);
        }
        wire::encode(&state, &entry.value_type, "data source result")
    }
    .await;
    match result {
        Ok(state) => pb::read_data_source::Response { state: Some(state), ..Default::default() },
        Err(diags) => pb::read_data_source::Response { diagnostics: wire::diagnostics(&diags), ..Default::default() },
    }
}
