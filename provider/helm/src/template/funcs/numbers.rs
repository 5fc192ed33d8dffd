//! Sprig's numbers and types: integer maths on int64 through `cast`, float maths through
//! decimal arithmetic (Sprig's `addf 0.1 0.2` is exactly 0.3), and `typeOf`/`kindIs`.

use std::str::FromStr;

use bigdecimal::{BigDecimal, RoundingMode};

use super::super::value::{IntType, Value};
use super::{table, to_float, to_int};

table! {
    fixed "int"(Any) => |_, a| Ok(Value::Int(to_int(&a[0]), IntType::Int)),
    fixed "int64"(Any) => |_, a| Ok(Value::int64(to_int(&a[0]))),
    fixed "float64"(Any) => |_, a| Ok(Value::Float(to_float(&a[0]))),
    fixed "atoi"(Str) => |_, a| Ok(Value::int(atoi(a[0].as_str().unwrap_or_default()))),
    variadic "add"(Any) => |_, a| Ok(Value::int64(a.iter().fold(0i64, |acc, v| acc.wrapping_add(to_int(v))))),
    fixed "add1"(Any) => |_, a| Ok(Value::int64(to_int(&a[0]).wrapping_add(1))),
    fixed "sub"(Any, Any) => |_, a| Ok(Value::int64(to_int(&a[0]).wrapping_sub(to_int(&a[1])))),
    variadic "mul"(Any, Any) => |_, a| Ok(Value::int64(a[1..].iter().fold(to_int(&a[0]), |acc, v| acc.wrapping_mul(to_int(v))))),
    fixed "div"(Any, Any) => |_, a| int_op(&a[0], &a[1], i64::checked_div),
    fixed "mod"(Any, Any) => |_, a| int_op(&a[0], &a[1], i64::checked_rem),
    variadic "max"(Any, Any) => |_, a| Ok(Value::int64(a.iter().map(to_int).max().unwrap_or(0))),
    variadic "biggest"(Any, Any) => |_, a| Ok(Value::int64(a.iter().map(to_int).max().unwrap_or(0))),
    variadic "min"(Any, Any) => |_, a| Ok(Value::int64(a.iter().map(to_int).min().unwrap_or(0))),
    variadic "maxf"(Any, Any) => |_, a| Ok(Value::Float(a.iter().map(to_float).fold(f64::NEG_INFINITY, f64::max))),
    variadic "minf"(Any, Any) => |_, a| Ok(Value::Float(a.iter().map(to_float).fold(f64::INFINITY, f64::min))),
    fixed "floor"(Any) => |_, a| Ok(Value::Float(to_float(&a[0]).floor())),
    fixed "ceil"(Any) => |_, a| Ok(Value::Float(to_float(&a[0]).ceil())),
    variadic "round"(Any, Int, Float) => |_, a| Ok(Value::Float(round(to_float(&a[0]), to_int(&a[1]), a.get(2).map(to_float).unwrap_or(0.5)))),
    variadic "addf"(Any) => |_, a| decimal_fold(&Value::Float(0.0), a, |x, y| Ok(x + y)),
    variadic "subf"(Any, Any) => |_, a| decimal_fold(&a[0], &a[1..], |x, y| Ok(x - y)),
    variadic "mulf"(Any, Any) => |_, a| decimal_fold(&a[0], &a[1..], |x, y| Ok(x * y)),
    variadic "divf"(Any, Any) => |_, a| decimal_fold(&a[0], &a[1..], |x, y| {
        if y == BigDecimal::from(0) {
            return Err("decimal division by zero".to_string());
        }
        Ok((x / y).with_scale_round(16, RoundingMode::HalfUp))
    }),
    fixed "typeOf"(Any) => |_, a| Ok(Value::str(a[0].type_name())),
    fixed "kindOf"(Any) => |_, a| Ok(Value::str(a[0].kind_name())),
    fixed "typeIs"(Str, Any) => |_, a| Ok(Value::Bool(a[0].as_str() == Some(a[1].type_name().as_str()))),
    fixed "kindIs"(Str, Any) => |_, a| Ok(Value::Bool(a[0].as_str() == Some(a[1].kind_name()))),
}

fn int_op(a: &Value, b: &Value, op: fn(i64, i64) -> Option<i64>) -> Result<Value, String> {
    op(to_int(a), to_int(b)).map(Value::int64).ok_or_else(|| "runtime error: integer divide by zero".to_string())
}

/// Go's `strconv.Atoi`, with Sprig's 0 for anything it rejects.
fn atoi(s: &str) -> i64 {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    s.parse().unwrap_or(0)
}

fn round(value: f64, places: i64, round_on: f64) -> f64 {
    let pow = 10f64.powf(places as f64);
    let digit = pow * value;
    let fraction = digit.fract();
    let rounded = if fraction >= round_on { digit.ceil() } else { digit.floor() };
    rounded / pow
}

/// The shortest decimal that reads back as `f`, as the decimal library's `NewFromFloat`.
fn decimal(f: f64) -> Result<BigDecimal, String> {
    if !f.is_finite() {
        return Err(format!("Cannot create a Decimal from {}", super::super::print::format_float(f, 'g', None)));
    }
    BigDecimal::from_str(&format!("{f}")).map_err(|e| e.to_string())
}

fn decimal_fold(first: &Value, rest: &[Value], op: fn(BigDecimal, BigDecimal) -> Result<BigDecimal, String>) -> Result<Value, String> {
    let mut acc = decimal(to_float(first))?;
    for v in rest {
        acc = op(acc, decimal(to_float(v))?)?;
    }
    Ok(Value::Float(acc.to_string().parse().unwrap_or(f64::NAN)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_maths_like_sprig() {
        let x: f64 = "9007199254740993".parse().unwrap();
        let r = decimal_fold(&Value::Float(0.1), &[Value::Float(x)], |a, b| Ok(a * b)).unwrap();
        let Value::Float(f) = r else { panic!() };
        assert_eq!(
            crate::template::print::format_float(f, 'g', None),
            "9.007199254740992e+14",
            "{}",
            (decimal(0.1).unwrap() * decimal(x).unwrap()).to_string()
        );
    }
}
