//! PlanResourceChange: the framework's plan rules, then the resource's own refinements.

use crate::cty::Value;
use crate::framework::{plan as rules, Context, Diagnostics, Plan, Private, ProviderData, Registry};
use crate::proto::tfplugin5 as pb;

use super::wire;

pub async fn resource_change<D: ProviderData>(
    registry: &Registry<D>,
    ctx: &Context<D>,
    request: pb::plan_resource_change::Request,
) -> pb::plan_resource_change::Response {
    match plan(registry, ctx, &request).await {
        Ok(response) => response,
        Err(diags) => pb::plan_resource_change::Response { diagnostics: wire::diagnostics(&diags), ..Default::default() },
    }
}

async fn plan<D: ProviderData>(
    registry: &Registry<D>,
    ctx: &Context<D>,
    request: &pb::plan_resource_change::Request,
) -> Result<pb::plan_resource_change::Response, Diagnostics> {
    let entry = registry.resources.get(request.type_name.as_str()).ok_or_else(|| registry.unknown_type("resource", &request.type_name))?;
    let ty = &entry.value_type;
    let prior = wire::decode(request.prior_state.as_ref(), ty, "prior state")?;
    let proposed = wire::decode(request.proposed_new_state.as_ref(), ty, "proposed state")?;
    let config = wire::decode(request.config.as_ref(), ty, "configuration")?;

    // Destroy (Terraform >= 1.3 asks): nothing to decide, keep the private state for apply.
    if proposed.is_null() {
        let mut diags = Diagnostics::new();
        if !prior.is_null() {
            entry.implementation.plan_destroy(ctx, &prior, &mut diags).await;
        }
        return Ok(pb::plan_resource_change::Response {
            planned_state: Some(wire::encode(&Value::Null, ty, "planned state")?),
            planned_private: request.prior_private.clone(),
            diagnostics: wire::diagnostics(&diags),
            ..Default::default()
        });
    }

    let mut plan = Plan {
        planned: rules::planned_value(&entry.schema.block, &prior, &proposed, &config),
        prior,
        config,
        private: Private::from_bytes(&request.prior_private),
        requires_replace: Vec::new(),
        diags: Diagnostics::new(),
    };
    entry.implementation.plan(ctx, &mut plan).await;

    let mut replace = rules::replacing_paths(&entry.schema.block, &plan.prior, &plan.planned);
    for path in plan.requires_replace {
        if !replace.contains(&path) {
            replace.push(path);
        }
    }
    let mut diags = plan.diags;
    let planned_state = match wire::encode(&plan.planned, ty, "planned state") {
        Ok(v) => Some(v),
        Err(d) => {
            diags.extend(d);
            None
        }
    };
    Ok(pb::plan_resource_change::Response {
        planned_state,
        requires_replace: replace.iter().map(wire::attribute_path).collect(),
        planned_private: plan.private.to_bytes(),
        diagnostics: wire::diagnostics(&diags),
        legacy_type_system: false,
        deferred: None,
        planned_identity: None,
    })
}
