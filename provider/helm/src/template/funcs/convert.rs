//! Sprig's loose conversions (its `strval`, `empty` and the `cast` package's number parsing),
//! shared by many functions.

use super::super::print::sprint_value;
use super::super::value::Value;

/// Sprig's `strval`: strings as they are, anything else as `%v` prints it (nil is `<nil>`).
pub fn strval(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => sprint_value(other),
    }
}

/// Sprig's `empty`: nil, false, zero, and empty strings, lists and maps.
pub fn empty(v: &Value) -> bool {
    !v.truthy()
}

/// `cast.ToInt64`, which Sprig's `int`, `int64` and arithmetic use: floats truncate, strings
/// parse with Go's base prefixes (after dropping a zero decimal part), anything else is 0.
pub fn to_int(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        Value::Float(f) => go_float_to_int(*f),
        Value::Bool(b) => i64::from(*b),
        Value::Str(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// Go's `int64(f)` on amd64: truncation, and the "integer indefinite" value (the minimum)
/// for NaN and anything out of range, where Rust would saturate.
pub fn go_float_to_int(f: f64) -> i64 {
    if f.is_nan() || f >= 9.223_372_036_854_775_807e18 || f < -9.223_372_036_854_775_808e18 {
        i64::MIN
    } else {
        f as i64
    }
}

/// `cast.ToFloat64`.
pub fn to_float(v: &Value) -> f64 {
    match v {
        Value::Int(i, _) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => s.parse::<f64>().ok().filter(|_| !s.starts_with('+') || s.len() > 1).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// `cast`'s `trimZeroDecimal`: "12.000" is "12", "12.5" stays.
fn trim_zero_decimal(s: &str) -> &str {
    match s.split_once('.') {
        Some((int, frac)) if !int.is_empty() && !frac.is_empty() && frac.bytes().all(|b| b == b'0') => int,
        _ => s,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: an optional sign, `0x`, `0o`, `0b` or a leading-zero
/// octal prefix, and `_` between digits only with a prefix.
pub fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string(), true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    if digits.is_empty() || (!prefixed && digits.contains('_')) {
        return None;
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    let magnitude = u64::from_str_radix(&digits, radix).ok()?;
    if neg {
        if magnitude > i64::MAX as u64 + 1 {
            return None;
        }
        Some((magnitude as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casts_like_sprig() {
        assert_eq!(to_int(&Value::str("0x10")), 16);
        assert_eq!(to_int(&Value::str("010")), 8);
        assert_eq!(to_int(&Value::str("12.000")), 12);
        assert_eq!(to_int(&Value::str("12.5")), 0);
        assert_eq!(to_int(&Value::Float(-3.9)), -3);
        assert_eq!(to_float(&Value::str("1e3")), 1000.0);
        assert_eq!(strval(&Value::Nil), "<nil>");
    }
}
