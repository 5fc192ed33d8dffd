//! Sprig's string functions. Sprig puts the subject string last so that it can be piped:
//! `trimSuffix "-" .name` is `strings.TrimSuffix(name, "-")`. Lengths and offsets are in
//! bytes, as in Go.

use super::super::print::go_quote;
use super::super::value::Value;
use super::{strval, table};

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i, _) => *i,
        _ => 0,
    }
}

table! {
    fixed "upper"(Str) => |_, a| Ok(Value::str(s(&a[0]).chars().map(upper_rune).collect::<String>())),
    fixed "lower"(Str) => |_, a| Ok(Value::str(s(&a[0]).chars().map(lower_rune).collect::<String>())),
    fixed "title"(Str) => |_, a| Ok(Value::str(title(s(&a[0])))),
    fixed "trim"(Str) => |_, a| Ok(Value::str(s(&a[0]).trim_matches(is_go_space))),
    fixed "trimAll"(Str, Str) => |_, a| Ok(Value::str(s(&a[1]).trim_matches(|c| s(&a[0]).contains(c)))),
    fixed "trimSuffix"(Str, Str) => |_, a| Ok(Value::str(s(&a[1]).strip_suffix(s(&a[0])).unwrap_or(s(&a[1])))),
    fixed "trimPrefix"(Str, Str) => |_, a| Ok(Value::str(s(&a[1]).strip_prefix(s(&a[0])).unwrap_or(s(&a[1])))),
    fixed "nospace"(Str) => |_, a| Ok(Value::str(nospace(s(&a[0])))),
    fixed "trunc"(Int, Str) => |_, a| Ok(Value::str(trunc(int(&a[0]), s(&a[1])))),
    fixed "substr"(Int, Int, Str) => |_, a| substr(int(&a[0]), int(&a[1]), s(&a[2])).map(Value::str),
    fixed "repeat"(Int, Str) => |_, a| {
        let n = int(&a[0]);
        if n < 0 {
            return Err("strings: negative Repeat count".into());
        }
        Ok(Value::str(s(&a[1]).repeat(n as usize)))
    },
    fixed "contains"(Str, Str) => |_, a| Ok(Value::Bool(s(&a[1]).contains(s(&a[0])))),
    fixed "hasPrefix"(Str, Str) => |_, a| Ok(Value::Bool(s(&a[1]).starts_with(s(&a[0])))),
    fixed "hasSuffix"(Str, Str) => |_, a| Ok(Value::Bool(s(&a[1]).ends_with(s(&a[0])))),
    variadic "quote"(Any) => |_, a| Ok(Value::str(a.iter().filter(|v| !v.is_nil()).map(|v| go_quote(&strval(v))).collect::<Vec<_>>().join(" "))),
    variadic "squote"(Any) => |_, a| Ok(Value::str(a.iter().filter(|v| !v.is_nil()).map(|v| format!("'{}'", strval(v))).collect::<Vec<_>>().join(" "))),
    variadic "cat"(Any) => |_, a| Ok(Value::str(a.iter().filter(|v| !v.is_nil()).map(strval).collect::<Vec<_>>().join(" "))),
    fixed "indent"(Int, Str) => |_, a| Ok(Value::str(indent(int(&a[0]), s(&a[1])))),
    fixed "nindent"(Int, Str) => |_, a| Ok(Value::str(format!("\n{}", indent(int(&a[0]), s(&a[1]))))),
    fixed "replace"(Str, Str, Str) => |_, a| Ok(Value::str(s(&a[2]).replace(s(&a[0]), s(&a[1])))),
    fixed "join"(Str, Any) => |_, a| Ok(Value::str(strslice(&a[1]).join(s(&a[0])))),
    fixed "splitList"(Str, Str) => |_, a| Ok(Value::strings(go_split(s(&a[1]), s(&a[0])))),
    fixed "split"(Str, Str) => |_, a| {
        let parts = go_split(s(&a[1]), s(&a[0]));
        Ok(Value::map(parts.into_iter().enumerate().map(|(i, p)| (format!("_{i}"), Value::str(p))).collect()))
    },
    fixed "toString"(Any) => |_, a| Ok(Value::str(strval(&a[0]))),
    fixed "sortAlpha"(Any) => |_, a| Ok(Value::strings(sort_alpha(&a[0]))),
}

/// Go's `unicode.ToUpper`: one rune for one rune; where the full mapping needs several
/// characters (ß), Go leaves the rune as it is.
fn upper_rune(c: char) -> char {
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower`, one rune for one rune (İ becomes i).
fn lower_rune(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Go's `unicode.ToTitle`: the title case of the four digraphs, otherwise upper case.
fn title_rune(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        c => upper_rune(c),
    }
}

/// Sprig's `nospace` (goutils' `DeleteWhiteSpace`) works on bytes: it drops whitespace bytes
/// and turns every other byte into the character of that code, so non-ASCII text comes out
/// as Latin-1 mojibake, exactly as in Helm.
/// A string without any whitespace byte comes back unchanged.
fn nospace(s: &str) -> String {
    if !s.bytes().any(|b| is_go_space(char::from(b))) {
        return s.to_string();
    }
    s.bytes().filter(|&b| !is_go_space(char::from(b))).map(char::from).collect()
}

/// Go's `unicode.IsSpace`, which `strings.TrimSpace` uses.
fn is_go_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{85}' | '\u{a0}') || (c as u32 > 0xff && c.is_whitespace())
}

/// Go's `strings.Split`: an empty separator splits into UTF-8 characters.
pub fn go_split(s: &str, sep: &str) -> Vec<String> {
    if sep.is_empty() {
        return s.chars().map(String::from).collect();
    }
    s.split(sep).map(String::from).collect()
}

/// Sprig's `strslice`: a list's non-nil elements as strings; any other value alone.
pub fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(items, _) => items.iter().filter(|i| !i.is_nil()).map(strval).collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

fn sort_alpha(v: &Value) -> Vec<String> {
    match v {
        Value::List(..) => {
            let mut items = strslice(v);
            items.sort();
            items
        }
        other => vec![strval(other)],
    }
}

fn indent(spaces: i64, v: &str) -> String {
    let pad = " ".repeat(spaces.max(0) as usize);
    format!("{pad}{}", v.replace('\n', &format!("\n{pad}")))
}

/// The longest prefix of at most `n` bytes that ends on a character boundary: Go slices
/// bytes, and a cut inside a character yields invalid UTF-8 that we cannot represent.
fn floor_boundary(s: &str, n: usize) -> usize {
    let mut n = n.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    n
}

fn trunc(c: i64, s: &str) -> String {
    let len = s.len() as i64;
    if c < 0 && len + c > 0 {
        return s[floor_boundary(s, (len + c) as usize)..].to_string();
    }
    if c >= 0 && len > c {
        return s[..floor_boundary(s, c as usize)].to_string();
    }
    s.to_string()
}

fn substr(start: i64, end: i64, s: &str) -> Result<String, String> {
    let len = s.len() as i64;
    let (from, to) = if start < 0 {
        (0, end)
    } else if end < 0 || end > len {
        (start, len)
    } else {
        (start, end)
    };
    if from > to || to > len || from < 0 {
        return Err(format!("runtime error: slice bounds out of range [{from}:{to}]"));
    }
    Ok(s[floor_boundary(s, from as usize)..floor_boundary(s, to as usize)].to_string())
}

/// Go's deprecated `strings.Title`: the first letter of each word in title case, a word
/// starting after any character that is not a letter, digit, underscore or mark.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_separator = true;
    for c in s.chars() {
        if prev_separator {
            out.push(title_rune(c));
        } else {
            out.push(c);
        }
        prev_separator = if c.is_ascii() { !(c.is_ascii_alphanumeric() || c == '_') } else { !(c.is_alphanumeric()) && c.is_whitespace() };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_like_go() {
        assert_eq!(trunc(3, "abcdef"), "abc");
        assert_eq!(trunc(-2, "abcdef"), "ef");
        assert_eq!(trunc(10, "ab"), "ab");
        assert_eq!(substr(1, 3, "abcdef").unwrap(), "bc");
        assert_eq!(substr(-1, 2, "abcdef").unwrap(), "ab");
        assert_eq!(substr(2, 99, "abcdef").unwrap(), "cdef");
    }

    #[test]
    fn title_cases_words() {
        assert_eq!(title("hello world-foo bar_baz"), "Hello World-Foo Bar_baz");
    }
}
