//! Sprig's dictionary functions. `set`, `unset`, `merge` and `mergeOverwrite` change the map
//! they are given and return it, which charts rely on.

use super::super::value::{Map as Dict, Value};
use super::{empty, strval, table};

table! {
    variadic "dict"(Any) => |_, a| {
        let mut map = Dict::new();
        for pair in a.chunks(2) {
            map.insert(strval(&pair[0]), pair.get(1).cloned().unwrap_or_else(|| Value::str("")));
        }
        Ok(Value::map(map))
    },
    fixed "get"(Map, Str) => |_, a| Ok(with_map(&a[0], |m| m.get(key(&a[1])).cloned()).flatten().unwrap_or_else(|| Value::str(""))),
    fixed "set"(Map, Str, Any) => |_, a| {
        mutate(&a[0], |m| {
            m.insert(key(&a[1]).to_string(), a[2].clone());
        })?;
        Ok(a[0].clone())
    },
    fixed "unset"(Map, Str) => |_, a| {
        mutate(&a[0], |m| {
            m.remove(key(&a[1]));
        })?;
        Ok(a[0].clone())
    },
    fixed "hasKey"(Map, Str) => |_, a| Ok(Value::Bool(with_map(&a[0], |m| m.contains_key(key(&a[1]))).unwrap_or(false))),
    variadic "keys"(Map) => |_, a| Ok(Value::strings(a.iter().flat_map(|d| with_map(d, |m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default()).collect())),
    fixed "values"(Map) => |_, a| Ok(Value::list(with_map(&a[0], |m| m.values().cloned().collect()).unwrap_or_default())),
    variadic "pluck"(Str, Map) => |_, a| Ok(Value::list(a[1..].iter().filter_map(|d| with_map(d, |m| m.get(key(&a[0])).cloned()).flatten()).collect())),
    variadic "merge"(Map, Map) => |_, a| merge(a, false),
    variadic "mergeOverwrite"(Map, Map) => |_, a| merge(a, true),
    variadic "pick"(Map, Str) => |_, a| Ok(Value::map(with_map(&a[0], |m| m.iter().filter(|(k, _)| a[1..].iter().any(|n| key(n) == k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())),
    variadic "omit"(Map, Str) => |_, a| Ok(Value::map(with_map(&a[0], |m| m.iter().filter(|(k, _)| !a[1..].iter().any(|n| key(n) == k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())),
    variadic "dig"(Any) => |_, a| dig(a),
    fixed "deepCopy"(Any) => |_, a| Ok(a[0].deep_copy()),
}

fn key(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn with_map<T>(v: &Value, f: impl FnOnce(&Dict) -> T) -> Option<T> {
    match v {
        Value::Map(m) => Some(f(&m.borrow())),
        _ => None,
    }
}

fn mutate(v: &Value, f: impl FnOnce(&mut Dict)) -> Result<(), String> {
    match v {
        Value::Map(m) => {
            f(&mut m.borrow_mut());
            Ok(())
        }
        _ => Err("assignment to entry in nil map".into()),
    }
}

/// mergo's deep merge as Sprig uses it: maps merge key by key; without `overwrite` a
/// destination value stays unless it is empty, with it the source wins (nil included).
fn merge_into(dst: &mut Dict, src: &Dict, overwrite: bool) {
    for (k, sv) in src {
        if let (Some(Value::Map(dm)), Value::Map(sm)) = (dst.get(k), sv) {
            if !std::rc::Rc::ptr_eq(dm, sm) {
                let sm = sm.borrow().clone();
                merge_into(&mut dm.borrow_mut(), &sm, overwrite);
            }
            continue;
        }
        let keep = match dst.get(k) {
            _ if overwrite => false,
            _ if sv.is_nil() => true,
            Some(dv) => !empty(dv),
            None => false,
        };
        if !keep {
            dst.insert(k.clone(), sv.clone());
        }
    }
}

fn merge(args: &[Value], overwrite: bool) -> Result<Value, String> {
    for src in &args[1..] {
        let Value::Map(sm) = src else { continue };
        let Value::Map(dm) = &args[0] else { return Err("src and dst must be of same type".into()) };
        if std::rc::Rc::ptr_eq(dm, sm) {
            continue;
        }
        let src = sm.borrow().clone();
        merge_into(&mut dm.borrow_mut(), &src, overwrite);
    }
    Ok(args[0].clone())
}

/// `dig "a" "b" default dict`: the value at a path of keys, or the default.
fn dig(args: &[Value]) -> Result<Value, String> {
    if args.len() < 3 {
        return Err("dig needs at least three arguments".into());
    }
    let default = &args[args.len() - 2];
    let mut current = args[args.len() - 1].clone();
    for k in &args[..args.len() - 2] {
        let Value::Str(k) = k else {
            return Err(format!("interface conversion: interface {{}} is {}, not string", k.type_name()));
        };
        let next = match &current {
            Value::Map(m) => m.borrow().get(k.as_ref()).cloned(),
            other => return Err(format!("interface conversion: interface {{}} is {}, not map[string]interface {{}}", other.type_name())),
        };
        match next {
            Some(v) => current = v,
            None => return Ok(default.clone()),
        }
    }
    Ok(current)
}
