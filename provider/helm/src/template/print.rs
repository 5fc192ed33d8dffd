//! Go's `fmt` as templates use it: `%v` printing of every value (an action's output, `print`,
//! `toString`), `Sprint`'s spacing rules, and `Sprintf` with the verbs, flags, widths and
//! error forms (`%!d(float64=3)`, `%!v(MISSING)`) charts can run into. Values from Helm's values
//! are float64, so `printf "%d" .Values.port` prints `%!d(float64=80)` in Helm too.

use super::value::Value;

/// `%v` of one value, as `fmt.Sprint(v)` prints it.
pub fn sprint_value(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v);
    out
}

fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i, _) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f, 'g', None)),
        Value::Str(s) => out.push_str(s),
        Value::List(items, _) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, item);
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push_str("map[");
            for (i, (k, item)) in map.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_v(out, item);
            }
            out.push(']');
        }
        Value::Object(obj) => out.push_str(&obj.go_string()),
    }
}

/// `fmt.Sprint`: operands printed with `%v`, a space between two operands when neither is a
/// string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 && !matches!(arg, Value::Str(_)) && !matches!(args[i - 1], Value::Str(_)) {
            out.push(' ');
        }
        write_v(&mut out, arg);
    }
    out
}

/// `fmt.Sprintln`: spaces between all operands and a final newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = args.iter().map(sprint_value).collect::<Vec<_>>().join(" ");
    out.push('\n');
    out
}

/// Go's `strconv.FormatFloat(f, verb, prec, 64)` for the verbs `e`, `f` and `g`; `None` is the
/// shortest representation that reads back as the same number.
pub fn format_float(f: f64, verb: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let neg = f.is_sign_negative();
    let abs = f.abs();
    let body = match (verb, prec) {
        // Rust rounds fixed and scientific forms exactly as Go does; only the exponent differs.
        ('f', Some(p)) => format!("{abs:.p$}"),
        ('e', Some(p)) => {
            let (digits, dp) = decimal_digits(abs, Some(p + 1));
            fmt_e(&digits, dp, p)
        }
        ('e', None) => {
            let (digits, dp) = decimal_digits(abs, None);
            fmt_e(&digits, dp, digits.len().saturating_sub(1))
        }
        ('f', None) => {
            let (digits, dp) = decimal_digits(abs, None);
            fmt_f(&digits, dp, (digits.len() as i32 - dp).max(0) as usize)
        }
        _ => {
            let shortest = prec.is_none();
            let (digits, dp) = decimal_digits(abs, prec.map(|p| p.max(1)));
            let mut p = prec.unwrap_or(digits.len()).max(1);
            if shortest {
                p = digits.len().max(1);
            }
            let mut eprec = p;
            if eprec > digits.len() && digits.len() as i32 >= dp {
                eprec = digits.len();
            }
            if shortest {
                eprec = 6;
            }
            let exp = dp - 1;
            if exp < -4 || exp >= eprec as i32 {
                fmt_e(&digits, dp, p.min(digits.len().max(1)) - 1)
            } else {
                let p = if p as i32 > dp { digits.len() } else { p };
                fmt_f(&digits, dp, (p as i32 - dp).max(0) as usize)
            }
        }
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// The decimal digits of `f` (no trailing zeros) and the position of the decimal point:
/// `f = 0.d1d2d3… × 10^dp`. The shortest digits that read back as `f` when `significant` is
/// `None`, else rounded to that many significant digits.
fn decimal_digits(f: f64, significant: Option<usize>) -> (Vec<u8>, i32) {
    if f == 0.0 {
        return (Vec::new(), 0);
    }
    let sci = match significant {
        None => format!("{f:e}"),
        Some(n) => format!("{:.*e}", n.max(1) - 1, f),
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    if significant.is_none() {
        break_tie_to_even(f, &mut digits, exp);
    }
    (digits, exp + 1)
}

/// When the number lies exactly halfway between two shortest candidates, Go picks the one
/// with the even last digit; Rust may pick the other.
fn break_tie_to_even(f: f64, digits: &mut [u8], exp: i32) {
    let n = digits.len();
    if digits[n - 1] % 2 == 0 {
        return;
    }
    let exact = format!("{f:.80e}");
    let (mantissa, exact_exp) = exact.split_once('e').unwrap_or((&exact, "0"));
    if exact_exp.parse::<i32>().ok() != Some(exp) {
        return;
    }
    let all: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    if all.len() <= n || all[n] != 5 || all[n + 1..].iter().any(|&d| d != 0) {
        return;
    }
    let truncated = &all[..n];
    if truncated == digits {
        // Rust rounded down to an odd digit; the even candidate is one up (no carry: odd < 9).
        if digits[n - 1] < 9 {
            digits[n - 1] += 1;
        }
    } else {
        digits.copy_from_slice(truncated);
    }
}

fn fmt_e(digits: &[u8], dp: i32, prec: usize) -> String {
    let mut out = String::new();
    out.push(char::from(b'0' + digits.first().copied().unwrap_or(0)));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(char::from(b'0' + digits.get(i).copied().unwrap_or(0)));
        }
    }
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let abs = exp.unsigned_abs();
    if abs < 10 {
        out.push('0');
    }
    out.push_str(&abs.to_string());
    out
}

fn fmt_f(digits: &[u8], dp: i32, prec: usize) -> String {
    let digit = |i: i32| -> char {
        if i >= 0 && (i as usize) < digits.len() {
            char::from(b'0' + digits[i as usize])
        } else {
            '0'
        }
    };
    let mut out = String::new();
    if dp > 0 {
        for i in 0..dp {
            out.push(digit(i));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec as i32 {
            out.push(digit(dp + i));
        }
    }
    out
}

/// Go's `strconv.Quote`: double quotes, Go escapes, printable Unicode kept as is.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Close to Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the
/// ASCII space.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c as u32, 0xAD | 0x2028 | 0x2029 | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F))
}

/// One `%` directive's flags, width and precision.
#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next_arg = 0;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        let number = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, next_arg: &mut usize| -> Option<usize> {
            if chars.peek().map(|&(_, c)| c) == Some('*') {
                chars.next();
                let n = match args.get(*next_arg) {
                    Some(Value::Int(i, _)) => Some((*i).max(0) as usize),
                    _ => None,
                };
                *next_arg += 1;
                return n;
            }
            let mut n: Option<usize> = None;
            while let Some(&(_, d)) = chars.peek() {
                let Some(v) = d.to_digit(10) else { break };
                n = Some(n.unwrap_or(0) * 10 + v as usize);
                chars.next();
            }
            n
        };
        spec.width = number(&mut chars, &mut next_arg);
        if chars.peek().map(|&(_, c)| c) == Some('.') {
            chars.next();
            spec.prec = Some(number(&mut chars, &mut next_arg).unwrap_or(0));
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next_arg += 1;
        if matches!(arg, Value::List(..) | Value::Map(_)) && verb != 'T' {
            out.push_str(&format_arg(arg, verb, spec));
        } else {
            out.push_str(&element(arg, verb, spec));
        }
    }
    if next_arg < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[next_arg..]
            .iter()
            .map(|a| if a.is_nil() { "<nil>".to_string() } else { format!("{}={}", a.type_name(), sprint_value(a)) })
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn is_numeric(v: &Value) -> bool {
    matches!(v, Value::Int(..) | Value::Float(_))
}

/// Go's `fmtInteger`: at least `prec` digits (none at all for zero with precision 0), and a
/// sign by the flags.
fn format_int(i: i64, spec: Spec) -> String {
    let mut digits = i.unsigned_abs().to_string();
    if let Some(p) = spec.prec {
        if p == 0 && i == 0 {
            digits.clear();
        } else if digits.len() < p {
            digits = format!("{}{digits}", "0".repeat(p - digits.len()));
        }
    }
    if i < 0 {
        format!("-{digits}")
    } else {
        with_sign(digits, spec, false)
    }
}

/// Pads to the width: on the right with `-`; with zeros on the left with `0` (after the sign
/// for numbers; never for integers with a precision, nor for Inf and NaN); else with spaces.
fn pad(text: &str, spec: Spec, numeric: bool) -> String {
    let Some(width) = spec.width else { return text.to_string() };
    let len = text.chars().count();
    if len >= width {
        return text.to_string();
    }
    let fill = width - len;
    let is_int = numeric && !text.contains(['.', 'e', 'E', 'x', 'X', 'p', 'P', 'I', 'N']);
    let not_finite = numeric && (text.contains("Inf") || text.contains("NaN"));
    if spec.minus {
        format!("{text}{}", " ".repeat(fill))
    } else if spec.zero && !not_finite && !(is_int && spec.prec.is_some()) {
        let (sign, digits) = match text.strip_prefix(['-', '+', ' ']) {
            Some(rest) if numeric => (&text[..1], rest),
            _ => ("", text),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{text}", " ".repeat(fill))
    }
}

fn bad_verb(verb: char, arg: &Value, spec: Spec) -> String {
    match arg {
        Value::Nil => format!("%!{verb}(<nil>)"),
        other => format!("%!{verb}({}={})", other.type_name(), pad(&format_arg(other, 'v', spec), spec, is_numeric(other))),
    }
}

/// Go's `%x` of a float64: hexadecimal mantissa, shortest, binary exponent.
fn hex_float(f: f64, upper: bool) -> String {
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let text = if f == 0.0 {
        "0x0p+00".to_string()
    } else {
        let bits = f.abs().to_bits();
        let mut exp = ((bits >> 52) & 0x7ff) as i64;
        let mut mantissa = bits & ((1u64 << 52) - 1);
        if exp == 0 {
            // Subnormal: normalise so that the leading digit is 1.
            exp = 1;
            while mantissa & (1u64 << 52) == 0 {
                mantissa <<= 1;
                exp -= 1;
            }
            mantissa &= (1u64 << 52) - 1;
        }
        let digits = format!("{mantissa:013x}");
        let digits = digits.trim_end_matches('0');
        let e = exp - 1023;
        let frac = if digits.is_empty() { String::new() } else { format!(".{digits}") };
        format!("0x1{frac}p{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
    };
    let out = format!("{sign}{text}");
    if upper {
        out.to_uppercase()
    } else {
        out
    }
}

fn with_sign(s: String, spec: Spec, negative: bool) -> String {
    if negative {
        s
    } else if spec.plus {
        format!("+{s}")
    } else if spec.space {
        format!(" {s}")
    } else {
        s
    }
}

fn format_arg(arg: &Value, verb: char, spec: Spec) -> String {
    // Verbs apply element-wise to lists and maps, as fmt does.
    match arg {
        Value::List(items, _) if verb != 'T' => {
            // A nil element prints as <nil> whatever the verb.
            let inner: Vec<String> = items.iter().map(|v| if v.is_nil() { "<nil>".to_string() } else { element(v, verb, spec) }).collect();
            return format!("[{}]", inner.join(" "));
        }
        Value::Map(map) if verb != 'T' => {
            let inner: Vec<String> = map
                .borrow()
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        element(&Value::str(k.as_str()), verb, spec),
                        if v.is_nil() { "<nil>".to_string() } else { element(v, verb, spec) }
                    )
                })
                .collect();
            return format!("map[{}]", inner.join(" "));
        }
        _ => {}
    }
    match verb {
        // With %v, `+` asks for field names rather than a sign.
        'v' => match arg {
            Value::Float(f) => with_sign(format_float(*f, 'g', spec.prec), Spec { plus: false, ..spec }, *f < 0.0),
            Value::Int(i, _) => format_int(*i, Spec { plus: false, ..spec }),
            Value::Str(s) if spec.sharp => go_quote(s),
            Value::Str(s) => truncate(s, spec.prec),
            other => sprint_value(other),
        },
        'T' => arg.type_name(),
        's' => match arg {
            Value::Str(s) => truncate(s, spec.prec),
            other => bad_verb('s', other, spec),
        },
        'q' => match arg {
            Value::Str(s) if spec.sharp && !s.contains('`') => format!("`{s}`"),
            Value::Str(s) => go_quote(s),
            Value::Int(i, _) => char::from_u32(*i as u32)
                .map(|c| format!("'{}'", go_quote(&c.to_string()).trim_matches('"').replace("\\\"", "\"")))
                .unwrap_or_else(|| "'\u{fffd}'".into()),
            other => bad_verb('q', other, spec),
        },
        'd' => match arg {
            Value::Int(i, _) => format_int(*i, spec),
            other => bad_verb('d', other, spec),
        },
        't' => match arg {
            Value::Bool(b) => b.to_string(),
            other => bad_verb('t', other, spec),
        },
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => match arg {
            Value::Float(f) => {
                let lower = verb.to_ascii_lowercase();
                let prec = match lower {
                    'g' => spec.prec,
                    _ => Some(spec.prec.unwrap_or(6)),
                };
                let s = format_float(*f, lower, prec);
                let s = if verb.is_ascii_uppercase() { s.to_uppercase() } else { s };
                with_sign(s, spec, *f < 0.0)
            }
            other => bad_verb(verb, other, spec),
        },
        'x' | 'X' => {
            let s = match arg {
                Value::Int(i, _) => {
                    let hex = format!("{:x}", i.unsigned_abs());
                    let hex = if spec.sharp { format!("0x{hex}") } else { hex };
                    if *i < 0 {
                        format!("-{hex}")
                    } else {
                        hex
                    }
                }
                Value::Str(s) => s.bytes().map(|b| format!("{b:02x}")).collect(),
                Value::Float(f) => return hex_float(*f, verb == 'X'),
                other => return bad_verb(verb, other, spec),
            };
            if verb == 'X' {
                s.to_uppercase()
            } else {
                s
            }
        }
        'o' => match arg {
            Value::Int(i, _) => format!("{}{:o}", if *i < 0 { "-" } else { "" }, i.unsigned_abs()),
            other => bad_verb('o', other, spec),
        },
        'b' => match arg {
            Value::Int(i, _) => format!("{}{:b}", if *i < 0 { "-" } else { "" }, i.unsigned_abs()),
            other => bad_verb('b', other, spec),
        },
        'c' => match arg {
            Value::Int(i, _) => char::from_u32(*i as u32).unwrap_or('\u{fffd}').to_string(),
            other => bad_verb('c', other, spec),
        },
        'U' => match arg {
            Value::Int(i, _) => format!("U+{:04X}", i),
            other => bad_verb('U', other, spec),
        },
        other => bad_verb(other, arg, spec),
    }
}

/// An element of a list or map: formatted and padded with the directive's flags, as fmt
/// applies them to each element.
fn element(v: &Value, verb: char, spec: Spec) -> String {
    let text = format_arg(v, verb, spec);
    // Nested lists and maps pad their own elements, not themselves.
    if text.starts_with("%!") || (matches!(v, Value::List(..) | Value::Map(_)) && verb != 'T') {
        text
    } else {
        pad(&text, spec, is_numeric(v))
    }
}

fn truncate(s: &str, prec: Option<usize>) -> String {
    match prec {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go() {
        let cases = [
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1.5, "1.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (0.0, "0"),
            (3.0, "3"),
            (1e21, "1e+21"),
            (900719925474099.25, "9.007199254740992e+14"),
            (123456789012.0, "1.23456789012e+11"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float(f, 'g', None), want, "{f}");
        }
        assert_eq!(format_float(3.14159, 'f', Some(2)), "3.14");
        assert_eq!(format_float(0.5, 'f', Some(0)), "0");
        assert_eq!(format_float(1234.5, 'e', Some(2)), "1.23e+03");
        assert_eq!(format_float(0.000123, 'f', Some(6)), "0.000123");
    }

    #[test]
    fn sprintf_matches_go() {
        let args = [Value::Float(3.0), Value::int(7), Value::str("x")];
        assert_eq!(sprintf("%d %d %s", &args), "%!d(float64=3) 7 x");
        assert_eq!(sprintf("%v %05d %-4s|", &args), "3 00007 x   |");
        assert_eq!(sprintf("%s", &[]), "%!s(MISSING)");
        assert_eq!(sprintf("%s", &[Value::str("a"), Value::int(1)]), "a%!(EXTRA int=1)");
        assert_eq!(sprintf("%q", &[Value::str("a\"b\n")]), "\"a\\\"b\\n\"");
        assert_eq!(sprintf("%5.2f", &[Value::Float(3.14159)]), " 3.14");
    }

    #[test]
    fn sprint_spaces_non_strings() {
        assert_eq!(sprint(&[Value::int(1), Value::int(2), Value::str("a"), Value::int(3)]), "1 2a3");
        let list = Value::list(vec![Value::int(1), Value::Nil, Value::str("b")]);
        assert_eq!(sprint_value(&list), "[1 <nil> b]");
    }
}
