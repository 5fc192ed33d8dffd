//! Sprig's random strings (`randAlphaNum`, `randAlpha`, `randNumeric`, `randAscii`): charts
//! use them for passwords. They draw from the engine's [`Entropy`]: the operating system's
//! generator as in Helm, where each render differs, or a release's seed.
//!
//! [`Entropy`]: super::super::entropy::Entropy

use super::super::exec::Engine;
use super::super::value::Value;
use super::table;

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";

/// `count` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
fn random_string(engine: &mut Engine, function: &str, count: i64, alphabet: &[u8]) -> Result<String, String> {
    if count < 0 {
        return Err(format!("Requested random string length {count} is less than 0."));
    }
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(count as usize);
    let mut buf = [0u8; 64];
    while out.len() < count as usize {
        engine.entropy.fill(&format!("{function} {count}"), &mut buf)?;
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
    fixed "randAlphaNum"(Int) => |e, a| random_string(e, "randAlphaNum", count(&a[0]), format!("{LETTERS}{DIGITS}").as_bytes()).map(Value::str),
    fixed "randAlpha"(Int) => |e, a| random_string(e, "randAlpha", count(&a[0]), LETTERS.as_bytes()).map(Value::str),
    fixed "randNumeric"(Int) => |e, a| random_string(e, "randNumeric", count(&a[0]), DIGITS.as_bytes()).map(Value::str),
    fixed "randAscii"(Int) => |e, a| random_string(e, "randAscii", count(&a[0]), &(32u8..=126).collect::<Vec<u8>>()).map(Value::str),
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::template::entropy::Entropy;
    use crate::template::TemplateSet;

    #[test]
    fn random_strings_have_the_length_and_alphabet_asked_for() {
        let mut engine = Engine::new(TemplateSet::new());
        let s = random_string(&mut engine, "randNumeric", 200, DIGITS.as_bytes()).unwrap();
        assert_eq!(s.len(), 200);
        assert!(s.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(s, random_string(&mut engine, "randNumeric", 200, DIGITS.as_bytes()).unwrap());
        assert!(random_string(&mut engine, "randNumeric", -1, DIGITS.as_bytes()).is_err());
    }

    #[test]
    fn seeded_random_strings_repeat_render_after_render() {
        let render = || {
            let mut engine = Engine::new(TemplateSet::new());
            engine.entropy = Entropy::seeded([1; 32], time::OffsetDateTime::UNIX_EPOCH);
            random_string(&mut engine, "randAlphaNum", 24, LETTERS.as_bytes()).unwrap()
        };
        assert_eq!(render(), render());
    }
}
