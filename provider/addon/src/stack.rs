//! A stack: add-ons applied in dependency order, those that do not depend on each other side
//! by side. Ordering is pure and checked before anything is applied.

use std::collections::{BTreeMap, BTreeSet};

use crate::addon::AddOn;
use crate::AddonError;

/// The add-ons in waves: each wave depends only on earlier ones. Unknown dependencies and
/// cycles are refused, naming the add-ons.
pub fn waves(addons: &[AddOn]) -> Result<Vec<Vec<&AddOn>>, AddonError> {
    let by_name: BTreeMap<&str, &AddOn> = addons.iter().map(|a| (a.name.as_str(), a)).collect();
    if by_name.len() != addons.len() {
        return Err(AddonError::Stack("two add-ons of the stack have the same name".into()));
    }
    for addon in addons {
        if let Some(missing) = addon.depends_on.iter().find(|d| !by_name.contains_key(d.as_str())) {
            return Err(AddonError::Stack(format!("add-on {} depends on {missing}, which is not in the stack", addon.name)));
        }
    }
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    while placed.len() < addons.len() {
        let wave: Vec<&AddOn> = addons
            .iter()
            .filter(|a| !placed.contains(a.name.as_str()) && a.depends_on.iter().all(|d| placed.contains(d.as_str())))
            .collect();
        if wave.is_empty() {
            let stuck: Vec<&str> = addons.iter().map(|a| a.name.as_str()).filter(|n| !placed.contains(n)).collect();
            return Err(AddonError::Stack(format!("these add-ons depend on each other in a cycle: {}", stuck.join(", "))));
        }
        placed.extend(wave.iter().map(|a| a.name.as_str()));
        out.push(wave);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addon(name: &str, depends_on: &[&str]) -> AddOn {
        AddOn { name: name.into(), depends_on: depends_on.iter().map(|d| d.to_string()).collect(), ..AddOn::default() }
    }

    fn names(waves: Vec<Vec<&AddOn>>) -> Vec<Vec<&str>> {
        waves.into_iter().map(|w| w.into_iter().map(|a| a.name.as_str()).collect()).collect()
    }

    #[test]
    fn independent_add_ons_share_a_wave() {
        let stack = [
            addon("issuer", &["cert-manager"]),
            addon("cert-manager", &[]),
            addon("kyverno", &[]),
            addon("policies", &["kyverno", "issuer"]),
        ];
        assert_eq!(names(waves(&stack).unwrap()), [vec!["cert-manager", "kyverno"], vec!["issuer"], vec!["policies"]]);
    }

    #[test]
    fn cycles_and_unknown_dependencies_are_named() {
        let err = waves(&[addon("a", &["b"]), addon("b", &["a"]), addon("c", &[])]).unwrap_err();
        assert_eq!(err.to_string(), "these add-ons depend on each other in a cycle: a, b");
        let err = waves(&[addon("a", &["nope"])]).unwrap_err();
        assert_eq!(err.to_string(), "add-on a depends on nope, which is not in the stack");
    }
}
