//! cty numbers: arbitrary-precision decimals (Terraform keeps 512-bit floats parsed from
//! decimal text), plus the two infinities cty allows.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use bigdecimal::BigDecimal;
use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};

/// Far beyond any f64 (about 10^±324) and any real configuration value.
const MAX_DECIMAL_EXPONENT: i64 = 4096;

#[derive(Clone, Debug)]
enum Repr {
    NegInf,
    Finite(BigDecimal),
    PosInf,
}

/// An exact number. Equality, ordering and hashing are numeric: `1`, `1.0` and `1e0` are
/// the same number.
#[derive(Clone, Debug)]
pub struct Number(Repr);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0:?} is not a number")]
pub struct NumberError(pub String);

impl Number {
    pub fn infinity(positive: bool) -> Self {
        Number(if positive { Repr::PosInf } else { Repr::NegInf })
    }

    pub fn is_infinite(&self) -> bool {
        !matches!(self.0, Repr::Finite(_))
    }

    pub fn decimal(&self) -> Option<&BigDecimal> {
        match &self.0 {
            Repr::Finite(d) => Some(d),
            _ => None,
        }
    }

    /// The exact value of a binary float: every finite f64 is a finite decimal.
    pub fn from_f64_exact(f: f64) -> Option<Number> {
        if f.is_nan() {
            return None;
        }
        if f.is_infinite() {
            return Some(Number::infinity(f > 0.0));
        }
        if f == 0.0 {
            return Some(Number::from(0i64));
        }
        let bits = f.to_bits();
        let negative = bits >> 63 == 1;
        let exponent = ((bits >> 52) & 0x7ff) as i64;
        let fraction = bits & ((1u64 << 52) - 1);
        // value = mantissa * 2^power, with the mantissa made odd so the decimal below has
        // no trailing zeros to strip (normalising big decimals is the costly part).
        let (mut mantissa, mut power) = if exponent == 0 { (fraction, -1074) } else { (fraction | (1u64 << 52), exponent - 1075) };
        let zeros = mantissa.trailing_zeros();
        mantissa >>= zeros;
        power += i64::from(zeros);
        let mut digits = BigInt::from(mantissa);
        if negative {
            digits = -digits;
        }
        let decimal = if power >= 0 {
            BigDecimal::new(digits << power as usize, 0)
        } else {
            // m / 2^k == m * 5^k / 10^k
            let k = (-power) as u32;
            BigDecimal::new(digits * BigInt::from(5u32).pow(k), i64::from(k))
        };
        Some(Number(Repr::Finite(decimal)))
    }

    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let trimmed = text.trim();
        match trimmed {
            "+Inf" | "Inf" | "+inf" | "inf" | "Infinity" => return Ok(Number::infinity(true)),
            "-Inf" | "-inf" | "-Infinity" => return Ok(Number::infinity(false)),
            _ => {}
        }
        // BigDecimal accepts forms Go's big.ParseFloat (cty) rejects: digit separators, and
        // no digit at all.
        if trimmed.contains('_') || !trimmed.bytes().any(|b| b.is_ascii_digit()) {
            return Err(NumberError(text.to_string()));
        }
        let decimal = BigDecimal::from_str(trimmed).map_err(|_| NumberError(text.to_string()))?.normalized();
        // Bounded so a hostile `1e999999999` cannot make printing allocate gigabytes.
        let (_, scale) = decimal.as_bigint_and_exponent();
        if !(-MAX_DECIMAL_EXPONENT..=MAX_DECIMAL_EXPONENT).contains(&scale) {
            return Err(NumberError(text.to_string()));
        }
        Ok(Number(Repr::Finite(decimal)))
    }

    pub fn is_integer(&self) -> bool {
        match &self.0 {
            Repr::Finite(d) => d.is_integer(),
            _ => false,
        }
    }

    /// The value as i64 when it is exactly one.
    pub fn to_i64(&self) -> Option<i64> {
        match &self.0 {
            Repr::Finite(d) if d.is_integer() => d.to_i64(),
            _ => None,
        }
    }

    pub fn to_u64(&self) -> Option<u64> {
        match &self.0 {
            Repr::Finite(d) if d.is_integer() => d.to_u64(),
            _ => None,
        }
    }

    /// The nearest f64 (correctly rounded from the decimal text).
    pub fn to_f64(&self) -> f64 {
        match &self.0 {
            Repr::NegInf => f64::NEG_INFINITY,
            Repr::PosInf => f64::INFINITY,
            Repr::Finite(d) => d.to_plain_string().parse().unwrap_or(f64::NAN),
        }
    }

    /// The f64 holding exactly this number, if there is one.
    pub fn to_f64_exact(&self) -> Option<f64> {
        let f = self.to_f64();
        (Number::from_f64_exact(f).as_ref() == Some(self)).then_some(f)
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Number {}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.0, &other.0) {
            (Repr::Finite(a), Repr::Finite(b)) => a.cmp(b),
            (a, b) => rank(a).cmp(&rank(b)),
        }
    }
}

fn rank(r: &Repr) -> u8 {
    match r {
        Repr::NegInf => 0,
        Repr::Finite(_) => 1,
        Repr::PosInf => 2,
    }
}

impl Hash for Number {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Repr::Finite(d) => {
                let n = d.normalized();
                let (digits, scale) = n.as_bigint_and_exponent();
                if digits.is_zero() {
                    0u8.hash(state);
                } else {
                    digits.hash(state);
                    scale.hash(state);
                }
            }
            other => rank(other).hash(state),
        }
    }
}

/// Plain decimal notation, never an exponent: `1180591620717411303424`, `0.1`, `-3.5`.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::NegInf => f.write_str("-Inf"),
            Repr::PosInf => f.write_str("+Inf"),
            Repr::Finite(d) => {
                let n = d.normalized();
                if n.is_zero() {
                    f.write_str("0")
                } else {
                    f.write_str(&n.to_plain_string())
                }
            }
        }
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number(Repr::Finite(BigDecimal::from(n)))
    }
}

impl From<i32> for Number {
    fn from(n: i32) -> Self {
        Number::from(i64::from(n))
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number(Repr::Finite(BigDecimal::from(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_is_numeric() {
        assert_eq!(Number::parse("1").unwrap(), Number::parse("1.000").unwrap());
        assert_eq!(Number::parse("1e3").unwrap(), Number::from(1000i64));
        assert_ne!(Number::parse("0.1").unwrap(), Number::from_f64_exact(0.1).unwrap());
    }

    #[test]
    fn floats_convert_exactly() {
        assert_eq!(Number::from_f64_exact(0.5).unwrap().to_string(), "0.5");
        assert_eq!(Number::from_f64_exact(0.1).unwrap().to_string(), "0.1000000000000000055511151231257827021181583404541015625");
        assert_eq!(Number::from_f64_exact(-1.5e300).unwrap().to_f64(), -1.5e300);
        assert_eq!(Number::from_f64_exact(5e-324).unwrap().to_f64(), 5e-324);
        assert!(Number::from_f64_exact(f64::NAN).is_none());
    }

    #[test]
    fn prints_plain_decimals() {
        assert_eq!(Number::parse("1180591620717411303424").unwrap().to_string(), "1180591620717411303424");
        assert_eq!(Number::parse("1e-7").unwrap().to_string(), "0.0000001");
        assert_eq!(Number::parse("-3.50").unwrap().to_string(), "-3.5");
        assert_eq!(Number::parse("0.000").unwrap().to_string(), "0");
    }

    #[test]
    fn exact_f64_only_when_exact() {
        assert_eq!(Number::parse("0.5").unwrap().to_f64_exact(), Some(0.5));
        assert_eq!(Number::parse("0.1").unwrap().to_f64_exact(), None);
        assert_eq!(Number::parse("9007199254740993").unwrap().to_f64_exact(), None);
    }

    #[test]
    fn rejects_garbage() {
        assert!(Number::parse("abc").is_err());
        assert!(Number::parse("").is_err());
        assert!(Number::parse("1..2").is_err());
        assert!(Number::parse("1_000").is_err());
        assert!(Number::parse("1e").is_err());
        assert!(Number::parse("NaN").is_err());
        // Far beyond any float: refused rather than printed as thousands of digits.
        assert!(Number::parse("1e5000").is_err());
    }

    #[test]
    fn accepts_what_go_parses() {
        assert_eq!(Number::parse(".5").unwrap().to_string(), "0.5");
        assert_eq!(Number::parse("+1E+3").unwrap(), Number::from(1000));
        assert_eq!(Number::parse("-0").unwrap(), Number::from(0));
        assert_eq!(Number::parse("-Inf").unwrap(), Number::infinity(false));
        assert_eq!(Number::parse("+Inf").unwrap().to_string(), "+Inf");
    }

    #[test]
    fn integers_convert_only_when_exact() {
        assert_eq!(Number::parse("42.0").unwrap().to_i64(), Some(42));
        assert_eq!(Number::parse("42.5").unwrap().to_i64(), None);
        assert_eq!(Number::from(u64::MAX).to_i64(), None);
        assert_eq!(Number::from(u64::MAX).to_u64(), Some(u64::MAX));
        assert_eq!(Number::from(-1).to_u64(), None);
        assert!(Number::parse("1e30").unwrap().is_integer());
        assert!(!Number::infinity(true).is_integer());
        assert_eq!(Number::infinity(true).to_i64(), None);
    }

    #[test]
    fn order_and_hash_are_numeric() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |n: &Number| {
            let mut h = DefaultHasher::new();
            n.hash(&mut h);
            h.finish()
        };
        let a = Number::parse("1.50").unwrap();
        let b = Number::from_f64_exact(1.5).unwrap();
        assert_eq!(hash(&a), hash(&b));
        assert_eq!(hash(&Number::from(10)), hash(&Number::parse("1e1").unwrap()));
        let mut sorted = [Number::infinity(true), Number::from(2), Number::parse("-1e400").unwrap(), Number::infinity(false)];
        sorted.sort();
        assert_eq!(sorted.iter().map(ToString::to_string).collect::<Vec<_>>()[..2], ["-Inf".to_string(), format!("-1{}", "0".repeat(400))]);
        assert!(Number::from(2) < Number::infinity(true));
    }
}
