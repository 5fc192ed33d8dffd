//! Sprig's defaults and choices: `default`, `empty`, `coalesce`, `ternary`, `all`, `any`.

use super::super::value::Value;
use super::{empty, table};

table! {
    variadic "default"(Any, Any) => |_, a| Ok(match a.get(1) {
        Some(given) if !empty(given) => given.clone(),
        _ => a[0].clone(),
    }),
    fixed "empty"(Any) => |_, a| Ok(Value::Bool(empty(&a[0]))),
    variadic "coalesce"(Any) => |_, a| Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil)),
    fixed "ternary"(Any, Any, Bool) => |_, a| Ok(if matches!(a[2], Value::Bool(true)) { a[0].clone() } else { a[1].clone() }),
    variadic "all"(Any) => |_, a| Ok(Value::Bool(a.iter().all(|v| !empty(v)))),
    variadic "any"(Any) => |_, a| Ok(Value::Bool(a.iter().any(|v| !empty(v)))),
}
