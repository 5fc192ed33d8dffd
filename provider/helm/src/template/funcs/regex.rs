//! Sprig's regular expressions. Go's RE2 syntax is what the `regex` crate implements, and
//! replacement templates (`$1`, `${name}`) expand the same way.

use regex::Regex;

use super::super::value::Value;
use super::table;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Compiles a pattern; the error reads like Go's `regexp` error.
fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("error parsing regexp: {}", e.to_string().lines().last().unwrap_or_default().trim()))
}

/// Go's `regexp.QuoteMeta`: a backslash before each of `\.+*?()|[]{}^$` only.
fn quote_meta(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Go's `n` argument: a negative count means all matches.
fn limit(n: &Value) -> Option<usize> {
    match n {
        Value::Int(i, _) if *i >= 0 => Some(*i as usize),
        _ => None,
    }
}

table! {
    fixed "regexMatch"(Str, Str) => |_, a| Ok(Value::Bool(compile(s(&a[0]))?.is_match(s(&a[1])))),
    fixed "regexFind"(Str, Str) => |_, a| Ok(Value::str(compile(s(&a[0]))?.find(s(&a[1])).map(|m| m.as_str()).unwrap_or_default())),
    fixed "regexFindAll"(Str, Str, Int) => |_, a| {
        let re = compile(s(&a[0]))?;
        let found: Vec<String> = re.find_iter(s(&a[1])).take(limit(&a[2]).unwrap_or(usize::MAX)).map(|m| m.as_str().to_string()).collect();
        Ok(Value::strings(found))
    },
    fixed "regexReplaceAll"(Str, Str, Str) => |_, a| Ok(Value::str(compile(s(&a[0]))?.replace_all(s(&a[1]), s(&a[2])).into_owned())),
    fixed "regexReplaceAllLiteral"(Str, Str, Str) => |_, a| Ok(Value::str(compile(s(&a[0]))?.replace_all(s(&a[1]), regex::NoExpand(s(&a[2]))).into_owned())),
    fixed "regexSplit"(Str, Str, Int) => |_, a| {
        let re = compile(s(&a[0]))?;
        let parts: Vec<String> = match limit(&a[2]) {
            Some(0) => Vec::new(),
            Some(n) => re.splitn(s(&a[1]), n).map(String::from).collect(),
            None => re.split(s(&a[1])).map(String::from).collect(),
        };
        Ok(Value::strings(parts))
    },
    fixed "regexQuoteMeta"(Str) => |_, a| Ok(Value::str(quote_meta(s(&a[0])))),
}
