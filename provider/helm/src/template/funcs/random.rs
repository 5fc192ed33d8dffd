//! Sprig's random strings (`randAlphaNum`, `randAlpha`, `randNumeric`, `randAscii`), drawn
//! from the operating system's generator: charts use them for passwords. Each render differs,
//! in Helm too.

use super::super::value::Value;
use super::table;

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";

/// `count` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
fn random_string(count: i64, alphabet: &[u8]) -> Result<String, String> {
    if count < 0 {
        return Err(format!("Requested random string length {count} is less than 0."));
    }
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(count as usize);
    let mut buf = [0u8; 64];
    while out.len() < count as usize {
        getrandom::fill(&mut buf).map_err(|e| format!("reading random bytes: {e}"))?;
        for &b in &buf {
            if (b as usize) < limit && out.len() < count as usize {
                out.push(char::from(alphabet[b as usize % alphabet.len()]));
            }
        }
    }
    Ok(out)
}

fn count(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        _ => 0,
    }
}

table! {
    fixed "randAlphaNum"(Int) => |_, a| random_string(count(&a[0]), format!("{LETTERS}{DIGITS}").as_bytes()).map(Value::str),
    fixed "randAlpha"(Int) => |_, a| random_string(count(&a[0]), LETTERS.as_bytes()).map(Value::str),
    fixed "randNumeric"(Int) => |_, a| random_string(count(&a[0]), DIGITS.as_bytes()).map(Value::str),
    fixed "randAscii"(Int) => |_, a| random_string(count(&a[0]), &(32u8..=126).collect::<Vec<u8>>()).map(Value::str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_strings_have_the_length_and_alphabet_asked_for() {
        let s = random_string(200, DIGITS.as_bytes()).unwrap();
        assert_eq!(s.len(), 200);
        assert!(s.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(s, random_string(200, DIGITS.as_bytes()).unwrap());
        assert!(random_string(-1, DIGITS.as_bytes()).is_err());
    }
}
