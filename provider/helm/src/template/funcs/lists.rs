//! Sprig's list functions. They accept any slice (`[]string` as well as `[]interface {}`) and
//! return `[]interface {}`; a nil list is a Go runtime error in most of them, as in Sprig.

use std::rc::Rc;

use super::super::value::{ElemType, Value};
use super::{empty, table};

table! {
    variadic "list"(Any) => |_, a| Ok(Value::list(a.to_vec())),
    variadic "tuple"(Any) => |_, a| Ok(Value::list(a.to_vec())),
    fixed "first"(Any) => |_, a| items(&a[0], "first").map(|l| l.first().cloned().unwrap_or(Value::Nil)),
    fixed "last"(Any) => |_, a| items(&a[0], "last").map(|l| l.last().cloned().unwrap_or(Value::Nil)),
    // An empty list gives a nil slice; a one-element list an empty one.
    fixed "rest"(Any) => |_, a| items(&a[0], "rest").map(|l| if l.is_empty() { Value::list_or_nil(l) } else { Value::list(l[1..].to_vec()) }),
    fixed "initial"(Any) => |_, a| items(&a[0], "initial").map(|l| if l.is_empty() { Value::list_or_nil(l) } else { Value::list(l[..l.len() - 1].to_vec()) }),
    // Sprig's `slice` replaces Go's: lists only, indices converted loosely, nil when empty.
    variadic "slice"(Any, Any) => |_, a| {
        let Value::List(l, elem) = &a[0] else {
            return Err(format!("list should be type of slice or array but {}", a[0].kind_name()));
        };
        if l.is_empty() {
            return Ok(Value::Nil);
        }
        let start = a.get(1).map(super::to_int).unwrap_or(0);
        let end = a.get(2).map(super::to_int).unwrap_or(l.len() as i64);
        if start < 0 || end < start || end as usize > l.len() {
            return Err(format!("reflect: slice index out of range"));
        }
        Ok(Value::List(Rc::new(l[start as usize..end as usize].to_vec()), *elem))
    },
    fixed "append"(Any, Any) => |_, a| items(&a[0], "push").map(|mut l| { l.push(a[1].clone()); Value::list(l) }),
    fixed "push"(Any, Any) => |_, a| items(&a[0], "push").map(|mut l| { l.push(a[1].clone()); Value::list(l) }),
    fixed "prepend"(Any, Any) => |_, a| items(&a[0], "prepend").map(|mut l| { l.insert(0, a[1].clone()); Value::list(l) }),
    variadic "concat"(Any) => |_, a| {
        let mut out = Vec::new();
        for list in a {
            match list {
                Value::List(l, _) => out.extend(l.iter().cloned()),
                other => return Err(format!("Cannot concat type {} as list", other.kind_name())),
            }
        }
        Ok(Value::list_or_nil(out))
    },
    fixed "has"(Any, Any) => |_, a| match &a[1] {
        Value::Nil => Ok(Value::Bool(false)),
        Value::List(l, _) => Ok(Value::Bool(l.iter().any(|i| deep_equal(i, &a[0])))),
        other => Err(format!("Cannot find has on type {}", other.kind_name())),
    },
    variadic "without"(Any, Any) => |_, a| items(&a[0], "without").map(|l| Value::list(l.into_iter().filter(|i| !a[1..].iter().any(|o| deep_equal(o, i))).collect())),
    fixed "uniq"(Any) => |_, a| items(&a[0], "uniq").map(|l| {
        let mut out: Vec<Value> = Vec::new();
        for i in l {
            if !out.iter().any(|o| deep_equal(o, &i)) {
                out.push(i);
            }
        }
        Value::list(out)
    }),
    fixed "reverse"(Any) => |_, a| items(&a[0], "reverse").map(|mut l| { l.reverse(); Value::list(l) }),
    fixed "compact"(Any) => |_, a| items(&a[0], "compact").map(|l| Value::list(l.into_iter().filter(|i| !empty(i)).collect())),
    fixed "chunk"(Int, Any) => |_, a| {
        let size = int(&a[0]);
        let list = items(&a[1], "chunk")?;
        if size <= 0 {
            return Ok(Value::list(Vec::new()));
        }
        Ok(Value::list(list.chunks(size as usize).map(|c| Value::list(c.to_vec())).collect()))
    },
    fixed "until"(Int) => |_, a| {
        let n = int(&a[0]);
        Ok(until_step(0, n, if n < 0 { -1 } else { 1 }))
    },
    fixed "untilStep"(Int, Int, Int) => |_, a| Ok(until_step(int(&a[0]), int(&a[1]), int(&a[2]))),
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        _ => 0,
    }
}

/// The elements of any slice; Sprig's error for anything else (a Go panic for nil).
fn items(v: &Value, func: &str) -> Result<Vec<Value>, String> {
    match v {
        Value::List(l, _) => Ok(l.as_ref().clone()),
        Value::Nil => Err("runtime error: invalid memory address or nil pointer dereference".into()),
        other => Err(format!("Cannot find {func} on type {}", other.kind_name())),
    }
}

fn until_step(start: i64, stop: i64, step: i64) -> Value {
    let mut out = Vec::new();
    if stop < start {
        if step < 0 {
            let mut i = start;
            while i > stop {
                out.push(Value::int(i));
                i += step;
            }
        }
    } else if step > 0 {
        let mut i = start;
        while i < stop {
            out.push(Value::int(i));
            i += step;
        }
    }
    Value::List(Rc::new(out), ElemType::Int)
}

/// Go's `reflect.DeepEqual` on template values: types must match too (int 1 is not
/// float64 1).
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x, tx), Value::Int(y, ty)) => x == y && tx == ty,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::List(x, ex), Value::List(y, ey)) => ex == ey && x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q)),
        (Value::Map(x), Value::Map(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}
