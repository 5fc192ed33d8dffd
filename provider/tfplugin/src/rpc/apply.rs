//! ApplyResourceChange: create, update or delete. Whatever exists after a failure goes
//! back to Terraform with the error, so it is in state and the next apply resumes.

use crate::cty::Value;
use crate::framework::{Applied, Context, Diagnostics, Private, ProviderData, Registry};
use crate::proto::tfplugin5 as pb;

use super::wire;

pub async fn resource_change<D: ProviderData>(
    registry: &Registry<D>,
    ctx: &Context<D>,
    request: pb::apply_resource_change::Request,
) -> pb::apply_resource_change::Response {
    let Some(entry) = registry.resources.get(request.type_name.as_str()) else {
        return failed(registry.unknown_type("resource", &request.type_name));
    };
    let ty = &entry.value_type;
    let decoded = wire::decode(request.prior_state.as_ref(), ty, "prior state")
        .and_then(|prior| Ok((prior, wire::decode(request.planned_state.as_ref(), ty, "planned state")?)));
    let (prior, planned) = match decoded {
        Ok(pair) => pair,
        Err(diags) => return failed(diags),
    };
    let private = Private::from_bytes(&request.planned_private);
    let resource = &entry.implementation;

    let applied = if planned.is_null() {
        let diags = resource.delete(ctx, prior.clone(), private.clone()).await;
        // A failed delete keeps the object in state so a later destroy can finish it.
        let state = if diags.has_errors() { prior.clone() } else { Value::Null };
        Applied { state, private, diags }
    } else if prior.is_null() {
        resource.create(ctx, planned, private).await
    } else {
        resource.update(ctx, prior.clone(), planned, private).await
    };

    let Applied { mut state, private, mut diags } = applied;
    if !state.is_wholly_known() {
        if !diags.has_errors() {
            diags.error(
                format!("{} returned an incomplete state", request.type_name),
                "The new state still holds unknown values. This is a bug in the provider; please report it.",
            );
        }
        // Terraform cannot store unknowns; the prior state is the best record we have.
        state = prior;
    }
    match wire::encode(&state, ty, "new state") {
        Ok(new_state) => pb::apply_resource_change::Response {
            new_state: Some(new_state),
            private: private.to_bytes(),
            diagnostics: wire::diagnostics(&diags),
            legacy_type_system: false,
            new_identity: None,
        },
        Err(d) => {
            diags.extend(d);
            failed(diags)
        }
    }
}

fn failed(diags: Diagnostics) -> pb::apply_resource_change::Response {
    pb::apply_resource_change::Response { diagnostics: wire::diagnostics(&diags), ..Default::default() }
}
