//! Go text/template's own functions (`and` and `or` are evaluated lazily by the executor).

use std::cmp::Ordering;

use super::super::print::{sprint, sprintf, sprintln};
use super::super::value::{IntType, Value};
use super::table;

table! {
    fixed "not"(Any) => |_, a| Ok(Value::Bool(!a[0].truthy())),
    fixed "len"(Any) => |_, a| length(&a[0]),
    variadic "index"(Any, Any) => |_, a| index(&a[0], &a[1..]),
    variadic "print"(Any) => |_, a| Ok(Value::str(sprint(a))),
    variadic "println"(Any) => |_, a| Ok(Value::str(sprintln(a))),
    variadic "printf"(Str, Any) => |_, a| Ok(Value::str(sprintf(a[0].as_str().unwrap_or_default(), &a[1..]))),
    variadic "eq"(Any, Any) => |_, a| eq(&a[0], &a[1..]).map(Value::Bool),
    fixed "ne"(Any, Any) => |_, a| eq(&a[0], &a[1..]).map(|b| Value::Bool(!b)),
    fixed "lt"(Any, Any) => |_, a| compare(&a[0], &a[1]).map(|o| Value::Bool(o == Ordering::Less)),
    fixed "le"(Any, Any) => |_, a| compare(&a[0], &a[1]).map(|o| Value::Bool(o != Ordering::Greater)),
    fixed "gt"(Any, Any) => |_, a| compare(&a[0], &a[1]).map(|o| Value::Bool(o == Ordering::Greater)),
    fixed "ge"(Any, Any) => |_, a| compare(&a[0], &a[1]).map(|o| Value::Bool(o != Ordering::Less)),
}

fn length(v: &Value) -> Result<Value, String> {
    let n = match v {
        Value::Str(s) => s.len(),
        Value::List(items, _) => items.len(),
        Value::Map(map) => map.borrow().len(),
        Value::Nil => return Err("len of nil pointer".into()),
        other => return Err(format!("len of type {}", other.type_name())),
    };
    Ok(Value::int(n as i64))
}

fn index_arg(index: &Value, len: usize) -> Result<usize, String> {
    let x = match index {
        Value::Int(i, _) => *i,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => return Err(format!("cannot index slice/array with type {}", other.type_name())),
    };
    if x < 0 || x as usize > len {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Value, indexes: &[Value]) -> Result<Value, String> {
    if item.is_nil() {
        return Err("index of untyped nil".into());
    }
    let mut item = item.clone();
    for index in indexes {
        item = match &item {
            Value::List(items, _) => {
                let x = index_arg(index, items.len())?;
                items.get(x).cloned().ok_or_else(|| format!("index out of range: {x}"))?
            }
            Value::Str(s) => {
                let x = index_arg(index, s.len())?;
                Value::Int(i64::from(*s.as_bytes().get(x).ok_or_else(|| format!("index out of range: {x}"))?), IntType::Int)
            }
            Value::Map(map) => match index {
                Value::Str(key) => map.borrow().get(key.as_ref()).cloned().unwrap_or(Value::Nil),
                Value::Nil => Value::Nil,
                other => return Err(format!("value has type {}; should be string", other.type_name())),
            },
            Value::Nil => return Err("index of nil pointer".into()),
            other => return Err(format!("can't index item of type {}", other.type_name())),
        };
    }
    Ok(item)
}

/// Go's `basicKind` classes: values of different classes never compare equal, and integers
/// compare with integers only.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(..) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::String,
        _ => Kind::Other,
    }
}

fn eq(first: &Value, others: &[Value]) -> Result<bool, String> {
    if others.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = kind(first);
    for other in others {
        let k2 = kind(other);
        let truth = if k1 != k2 {
            if !first.is_nil() && !other.is_nil() {
                return Err("incompatible types for comparison".into());
            }
            false
        } else {
            match (first, other) {
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Int(a, _), Value::Int(b, _)) => a == b,
                (Value::Float(a), Value::Float(b)) => a == b,
                (Value::Str(a), Value::Str(b)) => a == b,
                (Value::Nil, Value::Nil) => true,
                (a, b) => {
                    return Err(format!(
                        "non-comparable types {}: {}, {}: {}",
                        sprint(std::slice::from_ref(a)),
                        a.type_name(),
                        b.type_name(),
                        sprint(std::slice::from_ref(b))
                    ));
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    let (ka, kb) = (kind(a), kind(b));
    if matches!(ka, Kind::Invalid | Kind::Bool | Kind::Other) || matches!(kb, Kind::Invalid | Kind::Bool | Kind::Other) {
        return Err("invalid type for comparison".into());
    }
    if ka != kb {
        return Err("incompatible types for comparison".into());
    }
    Ok(match (a, b) {
        (Value::Int(x, _), Value::Int(y, _)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Greater),
        (Value::Str(x), Value::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => unreachable!("kinds checked above"),
    })
}
