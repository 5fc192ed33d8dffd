//! YAML 1.1 scalar rules as go-yaml v2 applies them (resolve.go), and Go's float
//! formatting (strconv and encoding/json): shared by the loader and the emitter.

/// What go-yaml v2 makes of an untagged plain scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// Looks like a YAML 1.1 timestamp; decoded into `interface{}` it stays a string,
    /// but the emitter must quote it.
    Timestamp,
    Str,
}

/// go-yaml's `resolve("", s)`.
pub(super) fn resolve_plain(s: &str) -> Resolved {
    resolve_with_hint(s, true)
}

/// The body of go-yaml's resolve; `timestamps` is false when an explicit tag other than
/// `!!timestamp` was given (only then does go-yaml skip the timestamp check).
pub(super) fn resolve_with_hint(s: &str, timestamps: bool) -> Resolved {
    // resolveTable: the first byte picks what to try.
    let hint = match s.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return Resolved::Str,
    };
    // resolveMap: YAML 1.1 booleans, nulls and special floats, exact spellings only.
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => return Resolved::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => return Resolved::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match hint {
        b'.' => match go_parse_float(s) {
            Some(f) => Resolved::Float(f),
            None => Resolved::Str,
        },
        b'D' | b'S' => {
            if timestamps && is_timestamp(s) {
                return Resolved::Timestamp;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain, 0) {
                return Resolved::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain, 0) {
                return Resolved::Uint(u);
            }
            if is_yaml_style_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return Resolved::Float(f);
                }
            }
            // A "0b" prefix followed by a sign still parses in base 2 ("0b-11" is -3).
            if let Some(rest) = plain.strip_prefix("0b") {
                if let Some(i) = go_parse_int(rest, 2) {
                    return Resolved::Int(i);
                }
                if let Some(u) = go_parse_uint(rest, 2) {
                    return Resolved::Uint(u);
                }
            }
            Resolved::Str
        }
        _ => Resolved::Str, // 'M' or 'N': only the map spellings above count.
    }
}

/// Go `strconv.ParseUint(s, base, 64)` for base 0 (prefixes 0x/0o/0b/0, no
/// underscores: go-yaml removed them) or an explicit base.
fn go_parse_uint(s: &str, base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let (mut base, mut digits) = (base, s);
    if base == 0 {
        base = 10;
        if let Some(rest) = s.strip_prefix('0') {
            // "0x..", "0o..", "0b.." (case-insensitive, with at least one digit), else octal.
            let lower = rest.as_bytes().first().map(u8::to_ascii_lowercase);
            (base, digits) = match lower {
                Some(b'b') if rest.len() >= 2 => (2, &rest[1..]),
                Some(b'o') if rest.len() >= 2 => (8, &rest[1..]),
                Some(b'x') if rest.len() >= 2 => (16, &rest[1..]),
                _ => (8, rest),
            };
        }
    }
    let mut n: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(36)?;
        if d >= base {
            return None;
        }
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// Go `strconv.ParseInt(s, base, 64)`: an optional sign, then [`go_parse_uint`].
fn go_parse_int(s: &str, base: u32) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(rest, base)?;
    if neg {
        if u <= 1 << 63 {
            Some((u as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// Go `strconv.ParseFloat(s, 64)` for the decimal syntax go-yaml can hand it
/// (underscores allowed between digits; out of range is a failure, underflow is 0).
fn go_parse_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let (mut digits, mut dot) = (false, false);
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' => digits = true,
            b'_' => {}
            b'.' if !dot => dot = true,
            _ => break,
        }
        i += 1;
    }
    if !digits {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if i >= b.len() || !b[i].is_ascii_digit() {
            return None;
        }
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    if i != b.len() || (s.contains('_') && !underscores_ok(s)) {
        return None;
    }
    let f: f64 = s.replace('_', "").parse().ok()?;
    f.is_finite().then_some(f)
}

/// Go's `underscoreOK`: underscores only between digits.
fn underscores_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut saw = b'^';
    for &c in s.as_bytes() {
        if c.is_ascii_digit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// go-yaml's `parseTimestamp`: `time.Parse` with the layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also with a lower-case `t`),
/// `2006-1-2 15:4:5.999999999` and `2006-1-2`.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // Quick check: all formats start with exactly four digits and a '-'.
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    [Some(b'T'), Some(b't'), Some(b' '), None].iter().any(|&sep| timestamp_layout(b, sep))
}

/// One layout. `sep` is the date/time separator, `None` for the date-only layout.
fn timestamp_layout(b: &[u8], sep: Option<u8>) -> bool {
    // time.getnum: one digit, or two when the second is a digit too.
    fn num(b: &[u8], i: &mut usize) -> Option<u32> {
        let d = |k: usize| b.get(k).filter(|c| c.is_ascii_digit()).map(|c| u32::from(c - b'0'));
        let first = d(*i)?;
        *i += 1;
        Some(match d(*i) {
            Some(second) => {
                *i += 1;
                first * 10 + second
            }
            None => first,
        })
    }
    let lit = |i: &mut usize, c: u8| {
        let ok = b.get(*i) == Some(&c);
        *i += usize::from(ok);
        ok
    };
    let year: u32 = b[..4].iter().fold(0, |a, c| a * 10 + u32::from(c - b'0'));
    let mut i = 5;
    let Some(month) = num(b, &mut i) else { return false };
    if !(1..=12).contains(&month) || !lit(&mut i, b'-') {
        return false;
    }
    let Some(day) = num(b, &mut i) else { return false };
    if let Some(sep) = sep {
        if sep == b' ' {
            // A space in a Go layout matches one or more spaces.
            if b.get(i) != Some(&b' ') {
                return false;
            }
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
        } else if !lit(&mut i, sep) {
            return false;
        }
        let hour = num(b, &mut i);
        if !matches!(hour, Some(h) if h < 24) || !lit(&mut i, b':') {
            return false;
        }
        if !matches!(num(b, &mut i), Some(m) if m < 60) || !lit(&mut i, b':') {
            return false;
        }
        if !matches!(num(b, &mut i), Some(s) if s < 60) {
            return false;
        }
        // Optional fraction: '.' or ',' and any number of digits.
        if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if sep != b' ' {
            // Z07:00: 'Z', or [+-]hh:mm with hh <= 24 and mm <= 60.
            if b.get(i) == Some(&b'Z') {
                i += 1;
            } else {
                let z = &b[i..];
                let two = |k: usize| z[k].is_ascii_digit() && z[k + 1].is_ascii_digit();
                if z.len() < 6 || z[3] != b':' || !two(1) || !two(4) {
                    return false;
                }
                let hh = u32::from(z[1] - b'0') * 10 + u32::from(z[2] - b'0');
                let mm = u32::from(z[4] - b'0') * 10 + u32::from(z[5] - b'0');
                if hh > 24 || mm > 60 || (z[0] != b'+' && z[0] != b'-') {
                    return false;
                }
                i += 6;
            }
        }
    }
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    i == b.len() && (1..=days).contains(&day)
}

/// go-yaml quotes YAML 1.1 base-60 floats (`1:30`) although it no longer reads them:
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
pub(super) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        // One digit, or two with the first in 0-5 (the regex cannot be followed by a digit).
        match i - start {
            1 => {}
            2 if b[start] <= b'5' => {}
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

// ---------------------------------------------------------------------------------------
// Go float formatting.

/// The Go float formats this port needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FloatFormat {
    /// `strconv.FormatFloat(f, 'g', -1, 64)` (go-yaml's encoder).
    G64,
    /// `strconv.FormatFloat(f, 'g', -1, 32)` (sigs.k8s.io/yaml's float map keys); the
    /// caller passes a value that is exactly a float32.
    G32,
    /// encoding/json's float64 encoding.
    Json,
}

/// Formats a finite float like Go does.
pub(super) fn format_float(f: f64, how: FloatFormat) -> String {
    let (mut digits, mut dp) = shortest_digits(f.abs(), how == FloatFormat::G32);
    if digits == b"0" {
        digits.clear(); // Go's zero has no digits and dp 0
        dp = 0;
    }
    let nd = digits.len() as i32;
    let mut out = String::from(if f.is_sign_negative() { "-" } else { "" });
    let exponent_form = match how {
        // %e when the exponent is < -4 or >= 6 (the shortest-mode precision).
        FloatFormat::G64 | FloatFormat::G32 => dp - 1 < -4 || dp > 6,
        FloatFormat::Json => f != 0.0 && (f.abs() < 1e-6 || f.abs() >= 1e21),
    };
    if exponent_form {
        out.push(digits.first().map_or('0', |&d| d as char));
        if nd > 1 {
            out.push('.');
            out.extend(digits[1..].iter().map(|&d| d as char));
        }
        let e = if nd == 0 { 0 } else { dp - 1 };
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        // Go pads the exponent to two digits; encoding/json strips that again.
        if e.abs() < 10 && how != FloatFormat::Json {
            out.push('0');
        }
        out.push_str(&e.abs().to_string());
    } else {
        if dp > 0 {
            for i in 0..dp {
                out.push(digits.get(i as usize).map_or('0', |&d| d as char));
            }
        } else {
            out.push('0');
        }
        if nd > dp {
            out.push('.');
            for j in dp..nd {
                out.push(if j < 0 { '0' } else { digits[j as usize] as char });
            }
        }
    }
    out
}

/// The shortest digits that read back as `f` (a float32 when `single`), and the decimal
/// point position. Rust's `{:e}` finds them like Go, except that when the exact value lies
/// exactly between two shortest candidates it rounds up where Go rounds to even.
fn shortest_digits(f: f64, single: bool) -> (Vec<u8>, i32) {
    let split = |s: &str| -> (Vec<u8>, i32) {
        let (mant, exp) = s.split_once('e').expect("{:e} has an exponent");
        let digits = mant.bytes().filter(u8::is_ascii_digit).collect();
        (digits, exp.parse::<i32>().expect("exponent") + 1)
    };
    let (mut digits, dp) = split(&if single { format!("{:e}", f as f32) } else { format!("{f:e}") });
    let n = digits.len();
    if n >= if single { 6 } else { 15 } && digits[n - 1] % 2 == 1 {
        // The exact expansion (a float32 is exact as a float64 too).
        let (mut exact, exact_dp) = split(&format!("{f:.1100e}"));
        while exact.len() > 1 && exact.last() == Some(&b'0') {
            exact.pop();
        }
        if exact.len() == n + 1 && exact[n] == b'5' && exact_dp == dp {
            // A tie: the candidates are exact[..n] and exact[..n] + 1; take the even one.
            let mut other = exact[..n].to_vec();
            if other == digits {
                let mut k = n;
                while k > 0 && other[k - 1] == b'9' {
                    other[k - 1] = b'0';
                    k -= 1;
                }
                if k == 0 {
                    return (digits, dp);
                }
                other[k - 1] += 1;
            }
            let text = format!("0.{}e{dp}", String::from_utf8_lossy(&other));
            let same = if single { text.parse::<f32>().ok() == Some(f as f32) } else { text.parse::<f64>().ok() == Some(f) };
            if same && other[n - 1] % 2 == 0 {
                digits = other;
            }
        }
    }
    (digits, dp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_follows_go_yaml_v2() {
        use Resolved::*;
        let cases: &[(&str, Resolved)] = &[
            ("", Null),
            ("~", Null),
            ("null", Null),
            ("NULL", Null),
            ("nUll", Str),
            ("yes", Bool(true)),
            ("Y", Bool(true)),
            ("on", Bool(true)),
            ("OFF", Bool(false)),
            ("nO", Str),
            ("0x1F", Int(31)),
            ("-0x1F", Int(-31)),
            ("0o17", Int(15)),
            ("017", Int(15)),
            ("0b101", Int(5)),
            ("0b-11", Int(-3)),
            ("1_000", Int(1000)),
            ("+1", Int(1)),
            ("08", Float(8.0)),
            ("0x", Str),
            ("18446744073709551615", Uint(u64::MAX)),
            ("1e3", Float(1000.0)),
            (".5", Float(0.5)),
            ("._5", Str),
            (".5_5", Float(0.55)),
            ("1.", Float(1.0)),
            ("1e400", Str),
            ("1e-400", Float(0.0)),
            (".inf", Float(f64::INFINITY)),
            ("-.Inf", Float(f64::NEG_INFINITY)),
            ("inf", Str),
            ("2001-12-14", Timestamp),
            ("2001-12-14 21:59:43.10", Timestamp),
            ("2001-12-14T21:59:43", Str),
            ("2002-2-29", Str),
            ("2004-2-29", Timestamp),
            ("2001-01-01T10:00:00+24:00", Timestamp),
            ("2001-01-01T10:00:00+25:00", Str),
            ("<<", Str),
            ("1:30", Str),
        ];
        for (s, want) in cases {
            assert_eq!(resolve_plain(s), *want, "{s:?}");
        }
        assert!(matches!(resolve_plain(".nan"), Float(f) if f.is_nan()));
    }

    #[test]
    fn base60_floats_are_recognised() {
        for s in ["1:30", "-1:30", "190:20:30", "1_0:30", "1:30.5", "12:30:45.5"] {
            assert!(is_base60_float(s), "{s}");
        }
        for s in ["1:60", "1:3_0", "a:30", "1:", ":30", "130"] {
            assert!(!is_base60_float(s), "{s}");
        }
    }

    #[test]
    fn floats_print_like_go() {
        let g = |f| format_float(f, FloatFormat::G64);
        let j = |f| format_float(f, FloatFormat::Json);
        assert_eq!(
            [g(1e6), g(123456.0), g(1.5), g(0.0001), g(0.00001), g(-0.0), g(1e21)],
            ["1e+06", "123456", "1.5", "0.0001", "1e-05", "-0", "1e+21"]
        );
        assert_eq!(
            [j(1e6), j(1e20), j(1e21), j(1e-6), j(1e-7), j(-0.0), j(2.5e-8)],
            ["1000000", "100000000000000000000", "1e+21", "0.000001", "1e-7", "-0", "2.5e-8"]
        );
        // An exact tie between two shortest candidates: Go keeps the even one.
        assert_eq!(g(2.192_971_728_692_553_2e15), "2.1929717286925532e+15");
        assert_eq!(format_float(f64::from(2.718_281_7_f32), FloatFormat::G32), "2.7182817");
    }
}
