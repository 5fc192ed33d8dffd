//! ReadResource: refresh. A null new state tells Terraform the object is gone.

use crate::framework::{Context, Private, ProviderData, Registry};
use crate::proto::tfplugin5 as pb;

use super::wire;

pub async fn resource<D: ProviderData>(
    registry: &Registry<D>,
    ctx: &Context<D>,
    request: pb::read_resource::Request,
) -> pb::read_resource::Response {
    let mut response = pb::read_resource::Response { private: request.private.clone(), ..Default::default() };
    let Some(entry) = registry.resources.get(request.type_name.as_str()) else {
        response.diagnostics = wire::diagnostics(&registry.unknown_type("resource", &request.type_name));
        return response;
    };
    let current = match wire::decode(request.current_state.as_ref(), &entry.value_type, "current state") {
        Ok(v) => v,
        Err(diags) => {
            response.diagnostics = wire::diagnostics(&diags);
            return response;
        }
    };
    if current.is_null() {
        response.new_state = request.current_state;
        return response;
    }
    let read = entry.implementation.read(ctx, current.clone(), Private::from_bytes(&request.private)).await;
    let mut diags = read.diags;
    // On a failed refresh keep what we knew: dropping the object from state would orphan it.
    let state = match read.state {
        Some(state) if state.is_wholly_known() => state,
        Some(_) => {
            diags.error(
                format!("{} returned an incomplete state", request.type_name),
                "The refreshed state still holds unknown values. This is a bug in the provider; please report it.",
            );
            current
        }
        None if diags.has_errors() => current,
        None => crate::cty::Value::Null,
    };
    match wire::encode(&state, &entry.value_type, "refreshed state") {
        Ok(encoded) => response.new_state = Some(encoded),
        Err(d) => diags.extend(d),
    }
    response.private = read.private.to_bytes();
    response.diagnostics = wire::diagnostics(&diags);
    response
}
