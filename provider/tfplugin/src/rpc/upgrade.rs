//! UpgradeResourceState (called for every resource in state on every plan, refresh and
//! destroy, also when the version is unchanged) and UpgradeResourceIdentity.

use crate::cty;
use crate::framework::{Diagnostics, ProviderData, Registry};
use crate::proto::tfplugin5 as pb;

use super::wire;

pub fn resource_state<D: ProviderData>(
    registry: &Registry<D>,
    request: pb::upgrade_resource_state::Request,
) -> pb::upgrade_resource_state::Response {
    let result = upgrade(registry, &request).and_then(|(value, ty)| wire::encode(&value, &ty, "upgraded state"));
    match result {
        Ok(state) => pb::upgrade_resource_state::Response { upgraded_state: Some(state), diagnostics: Vec::new() },
        Err(diags) => pb::upgrade_resource_state::Response { upgraded_state: None, diagnostics: wire::diagnostics(&diags) },
    }
}

fn upgrade<D: ProviderData>(
    registry: &Registry<D>,
    request: &pb::upgrade_resource_state::Request,
) -> Result<(cty::Value, cty::Type), Diagnostics> {
    let entry = registry.resources.get(request.type_name.as_str()).ok_or_else(|| registry.unknown_type("resource", &request.type_name))?;
    let raw = request.raw_state.as_ref().map(|r| r.json.as_slice()).unwrap_or_default();
    let mut diags = Diagnostics::new();
    if raw.is_empty() {
        let legacy = request.raw_state.as_ref().is_some_and(|r| !r.flatmap.is_empty());
        if legacy {
            diags.error(
                "State too old to read",
                "This state was written by Terraform 0.11 or older (flatmap format); upgrade it with Terraform 0.12 first.",
            );
            return Err(diags);
        }
        return Ok((cty::Value::Null, entry.value_type.clone()));
    }
    let current = entry.schema.version;
    let json = if request.version < current {
        let stored: serde_json::Value = serde_json::from_slice(raw).map_err(|e| {
            let mut d = Diagnostics::new();
            d.error("Cannot read stored state", format!("The state of {} is not valid JSON: {e}.", request.type_name));
            d
        })?;
        let upgraded = entry.implementation.upgrade_state(request.version, stored)?;
        serde_json::to_vec(&upgraded).expect("JSON value always serialises")
    } else {
        raw.to_vec()
    };
    let value = cty::json::decode(&json, &entry.value_type).map_err(|e| {
        let mut d = Diagnostics::new();
        d.error(
            "Cannot read stored state",
            format!(
                "The state of {} (schema version {}) does not match schema version {current}: {e}.",
                request.type_name, request.version
            ),
        );
        d
    })?;
    Ok((value, entry.value_type.clone()))
}

/// aqemia declares no resource identities, so Terraform has nothing to upgrade.
pub fn identity(request: pb::upgrade_resource_identity::Request) -> pb::upgrade_resource_identity::Response {
    let mut diags = Diagnostics::new();
    diags.error("Resource identity not supported", format!("{} declares no resource identity; nothing to upgrade.", request.type_name));
    pb::upgrade_resource_identity::Response { upgraded_identity: None, diagnostics: wire::diagnostics(&diags) }
}
