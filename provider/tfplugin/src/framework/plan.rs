//! The plan rules every resource gets for free, as pure functions over values:
//! defaults, computed attributes unknown where they will change, keep-state-for-unknown and
//! requires-replace. They run before a resource's own `plan` hook.

use std::collections::BTreeMap;

use crate::cty::{Path, Value};

use super::schema::{Block, Nesting};

/// Builds the planned value from Terraform's proposal. `prior` is `Value::Null` on create.
/// Deterministic: the same inputs always give the same plan, because Terraform plans again
/// during apply and rejects a plan that moved.
pub fn planned_value(block: &Block, prior: &Value, proposed: &Value, config: &Value) -> Value {
    if proposed.is_null() {
        return Value::Null;
    }
    let mut planned = proposed.clone();
    apply_defaults(block, &mut planned, config);
    if prior.is_null() || !planned.equivalent(prior) {
        mark_computed_unknown(block, &mut planned, config, prior, false);
    }
    planned
}

/// Paths of replace-forcing attributes whose planned value differs from the prior one.
pub fn replacing_paths(block: &Block, prior: &Value, planned: &Value) -> Vec<Path> {
    let mut out = Vec::new();
    if !prior.is_null() && !planned.is_null() {
        collect_replacing(block, prior, planned, &Path::root(), &mut out);
    }
    out
}

fn attr_of<'v>(object: &'v Value, name: &str) -> &'v Value {
    object.get(name).unwrap_or(&Value::Null)
}

fn apply_defaults(block: &Block, planned: &mut Value, config: &Value) {
    if planned.is_null() || planned.is_unknown() {
        return;
    }
    for attr in &block.attributes {
        let Some(default) = &attr.default else { continue };
        if attr_of(config, &attr.name).is_null() {
            if let Some(slot) = planned.get_mut(&attr.name) {
                *slot = default.clone();
            }
        }
    }
    for nested in &block.blocks {
        let config_nested = attr_of(config, &nested.name).clone();
        let Some(slot) = planned.get_mut(&nested.name) else { continue };
        for_each_nested(nested.nesting, slot, &config_nested, &Value::Null, |item, cfg, _| apply_defaults(&nested.block, item, cfg));
    }
}

/// `in_set` marks elements of set blocks, where configuration cannot be correlated: there a
/// computed attribute is "not configured" when the proposal left it null.
fn mark_computed_unknown(block: &Block, planned: &mut Value, config: &Value, prior: &Value, in_set: bool) {
    if planned.is_null() || planned.is_unknown() {
        return;
    }
    for attr in &block.attributes {
        if !attr.mode.is_computed() || attr.default.is_some() {
            continue;
        }
        let not_configured = if in_set { attr_of(planned, &attr.name).is_null() } else { attr_of(config, &attr.name).is_null() };
        if !not_configured {
            continue;
        }
        let prior_value = attr_of(prior, &attr.name);
        let next = if attr.use_state_for_unknown && !prior_value.is_null() { prior_value.clone() } else { Value::unknown() };
        if let Some(slot) = planned.get_mut(&attr.name) {
            *slot = next;
        }
    }
    for nested in &block.blocks {
        let config_nested = attr_of(config, &nested.name).clone();
        let prior_nested = attr_of(prior, &nested.name).clone();
        let Some(slot) = planned.get_mut(&nested.name) else { continue };
        let element_in_set = in_set || nested.nesting == Nesting::Set;
        for_each_nested(nested.nesting, slot, &config_nested, &prior_nested, |item, cfg, pri| {
            mark_computed_unknown(&nested.block, item, cfg, pri, element_in_set)
        });
    }
}

/// Visits each block object in a nested-block slot with its configuration and prior
/// counterparts: by position for lists, by key for maps, none for sets.
fn for_each_nested(nesting: Nesting, slot: &mut Value, config: &Value, prior: &Value, mut visit: impl FnMut(&mut Value, &Value, &Value)) {
    let null = Value::Null;
    match (nesting, slot) {
        (_, Value::Dynamic(_, inner)) => {
            let (config, prior) = (unwrap_dynamic(config), unwrap_dynamic(prior));
            for_each_nested(nesting, inner, config, prior, visit)
        }
        (Nesting::Single | Nesting::Group, item) => visit(item, config, prior),
        (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items) | Value::Tuple(items)) => {
            let correlated = nesting == Nesting::List;
            for (i, item) in items.iter_mut().enumerate() {
                let cfg = if correlated { config.as_seq().and_then(|c| c.get(i)).unwrap_or(&null) } else { &null };
                let pri = if correlated { prior.as_seq().and_then(|p| p.get(i)).unwrap_or(&null) } else { &null };
                visit(item, cfg, pri);
            }
        }
        (Nesting::Map, Value::Map(items) | Value::Object(items)) => {
            for (key, item) in items.iter_mut() {
                let cfg = config.get(key).unwrap_or(&null);
                let pri = prior.get(key).unwrap_or(&null);
                visit(item, cfg, pri);
            }
        }
        _ => {}
    }
}

fn unwrap_dynamic(v: &Value) -> &Value {
    match v {
        Value::Dynamic(_, inner) => inner,
        other => other,
    }
}

fn collect_replacing(block: &Block, prior: &Value, planned: &Value, path: &Path, out: &mut Vec<Path>) {
    for attr in &block.attributes {
        if !attr.requires_replace {
            continue;
        }
        let (before, after) = (attr_of(prior, &attr.name), attr_of(planned, &attr.name));
        if after.is_unknown() || !before.equivalent(after) {
            out.push(path.attr(&attr.name));
        }
    }
    for nested in &block.blocks {
        let at = path.attr(&nested.name);
        let (before, after) = (unwrap_dynamic(attr_of(prior, &nested.name)), unwrap_dynamic(attr_of(planned, &nested.name)));
        match nested.nesting {
            Nesting::Single | Nesting::Group => {
                if before.is_null() != after.is_null() && nested_has_replace(&nested.block) {
                    out.push(at);
                } else if !before.is_null() {
                    collect_replacing(&nested.block, before, after, &at, out);
                }
            }
            Nesting::List => {
                let (b, a) = (before.as_seq().unwrap_or_default(), after.as_seq().unwrap_or_default());
                if b.len() != a.len() && nested_has_replace(&nested.block) {
                    out.push(at);
                    continue;
                }
                for (i, (x, y)) in b.iter().zip(a).enumerate() {
                    collect_replacing(&nested.block, x, y, &at.index(i as i64), out);
                }
            }
            Nesting::Map => {
                let empty = BTreeMap::new();
                let (b, a) = (before.as_entries().unwrap_or(&empty), after.as_entries().unwrap_or(&empty));
                if b.keys().ne(a.keys()) && nested_has_replace(&nested.block) {
                    out.push(at);
                    continue;
                }
                for (k, x) in b {
                    collect_replacing(&nested.block, x, &a[k], &at.key(k), out);
                }
            }
            // Set elements have no stable identity: any change to a set holding a
            // replace-forcing attribute replaces the object.
            Nesting::Set => {
                if nested_has_replace(&nested.block) && !before.equivalent(after) {
                    out.push(at);
                }
            }
        }
    }
}

fn nested_has_replace(block: &Block) -> bool {
    block.attributes.iter().any(|a| a.requires_replace) || block.blocks.iter().any(|b| nested_has_replace(&b.block))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, NestedBlock};

    fn block() -> Block {
        Block::new()
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("name").required().requires_replace())
            .attribute(Attribute::number("size").optional())
            .attribute(Attribute::string("tier").default("standard"))
            .attribute(Attribute::string("revision").computed())
            .block(NestedBlock::new(
                "item",
                Nesting::List,
                Block::new().attribute(Attribute::string("key").required()).attribute(Attribute::string("digest").computed()),
            ))
    }

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::object(pairs)
    }

    fn item(key: &str, digest: Value) -> Value {
        obj(vec![("key", key.into()), ("digest", digest)])
    }

    fn config(name: &str, size: Value, items: Vec<Value>) -> Value {
        obj(vec![
            ("id", Value::Null),
            ("name", name.into()),
            ("size", size),
            ("tier", Value::Null),
            ("revision", Value::Null),
            ("item", Value::List(items)),
        ])
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let cfg = config("a", Value::Null, vec![item("k", Value::Null)]);
        let planned = planned_value(&block(), &Value::Null, &cfg, &cfg);
        assert!(planned.get("id").unwrap().is_unknown());
        assert!(planned.get("revision").unwrap().is_unknown());
        assert_eq!(planned.get("tier"), Some(&Value::from("standard")));
        assert!(planned.get("item").unwrap().as_seq().unwrap()[0].get("digest").unwrap().is_unknown());
        assert_eq!(planned.get("size"), Some(&Value::Null));
    }

    fn prior() -> Value {
        obj(vec![
            ("id", "id-1".into()),
            ("name", "a".into()),
            ("size", Value::Null),
            ("tier", "standard".into()),
            ("revision", "r1".into()),
            ("item", Value::List(vec![item("k", "d1".into())])),
        ])
    }

    /// What Terraform proposes: config, with computed attributes that the config leaves null
    /// taken from the prior state.
    fn proposed(cfg: &Value) -> Value {
        let mut p = cfg.clone();
        for (k, v) in prior().as_entries().unwrap() {
            if ["id", "tier", "revision"].contains(&k.as_str()) {
                *p.get_mut(k).unwrap() = v.clone();
            }
        }
        let digests: Vec<Value> = cfg
            .get("item")
            .unwrap()
            .as_seq()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, it)| item(it.get("key").unwrap().as_str().unwrap(), if i == 0 { "d1".into() } else { Value::Null }))
            .collect();
        *p.get_mut("item").unwrap() = Value::List(digests);
        p
    }

    #[test]
    fn unchanged_update_is_a_no_op() {
        let cfg = config("a", Value::Null, vec![item("k", Value::Null)]);
        let planned = planned_value(&block(), &prior(), &proposed(&cfg), &cfg);
        assert_eq!(planned, prior());
        assert!(replacing_paths(&block(), &prior(), &planned).is_empty());
    }

    #[test]
    fn changed_update_keeps_state_where_asked_and_unknowns_the_rest() {
        let cfg = config("a", Value::from(3), vec![item("k", Value::Null)]);
        let planned = planned_value(&block(), &prior(), &proposed(&cfg), &cfg);
        assert_eq!(planned.get("id"), Some(&Value::from("id-1")));
        assert!(planned.get("revision").unwrap().is_unknown());
        assert_eq!(planned.get("size"), Some(&Value::from(3)));
        assert!(replacing_paths(&block(), &prior(), &planned).is_empty());
    }

    #[test]
    fn changing_a_replace_forcing_attribute_is_reported() {
        let cfg = config("b", Value::Null, vec![item("k", Value::Null)]);
        let planned = planned_value(&block(), &prior(), &proposed(&cfg), &cfg);
        assert_eq!(replacing_paths(&block(), &prior(), &planned), vec![Path::root().attr("name")]);
    }

    #[test]
    fn destroy_plans_null() {
        assert_eq!(planned_value(&block(), &prior(), &Value::Null, &Value::Null), Value::Null);
    }

    #[test]
    fn planning_is_deterministic() {
        let cfg = config("a", Value::from(3), vec![item("k", Value::Null), item("j", Value::Null)]);
        let first = planned_value(&block(), &prior(), &proposed(&cfg), &cfg);
        for _ in 0..10 {
            assert_eq!(planned_value(&block(), &prior(), &proposed(&cfg), &cfg), first);
        }
    }
}
