//! Versions and constraints with the rules Helm uses (the Masterminds semver library), not
//! Cargo's: `^0.2.3` stops below 0.3.0, `1.2` means `1.2.x` in a constraint, `>=1.21-0`
//! admits pre-releases, and a pre-release version matches only a constraint that names one.
//! Used for chart versions in repositories and dependencies and for `semverCompare`.

use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
}

impl Version {
    /// A version, `v` prefix and missing minor or patch allowed (`1.2` is 1.2.0); build
    /// metadata is ignored.
    pub fn parse(text: &str) -> Result<Version, String> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let t = t.split_once('+').map_or(t, |(v, _)| v);
        let (core, pre) = match t.split_once('-') {
            Some((c, p)) => (c, p.to_string()),
            None => (t, String::new()),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
            return Err("Invalid Semantic Version".into());
        }
        let num = |i: usize| parts.get(i).map_or(Ok(0), |p| p.parse::<u64>().map_err(|_| "Invalid Semantic Version".to_string()));
        Ok(Version { major: num(0)?, minor: num(1)?, patch: num(2)?, pre })
    }

    fn cmp_pre(a: &str, b: &str) -> Ordering {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Greater,
            (false, true) => return Ordering::Less,
            _ => {}
        }
        let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
        for (x, y) in pa.iter().zip(&pb) {
            let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                (Ok(n), Ok(m)) => n.cmp(&m),
                (Ok(_), Err(_)) => Ordering::Less,
                (Err(_), Ok(_)) => Ordering::Greater,
                _ => x.cmp(y),
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        pa.len().cmp(&pb.len())
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| Version::cmp_pre(&self.pre, &other.pre))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One comparison: an operator and a version whose missing or wildcard parts are noted.
#[derive(Clone, Debug)]
struct Comparison {
    op: String,
    version: Version,
    /// How many of major, minor, patch were given as numbers (a wildcard ends the count).
    given: usize,
}

/// `A || B`, each a list of comparisons that must all hold.
#[derive(Clone, Debug)]
pub struct Constraint {
    groups: Vec<Vec<Comparison>>,
}

fn parse_comparison(text: &str) -> Result<Comparison, String> {
    let ops = ["!=", ">=", "=>", "<=", "=<", "~>", "=", ">", "<", "~", "^"];
    let op = ops.iter().find(|o| text.starts_with(**o)).copied().unwrap_or("");
    let rest = text[op.len()..].trim();
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    let (core, tail) = match rest.find(['-', '+']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let mut parts: Vec<&str> = core.split('.').collect();
    let mut given = 0;
    for p in &parts {
        if matches!(*p, "x" | "X" | "*") || p.is_empty() {
            break;
        }
        given += 1;
    }
    let wildcard = given < parts.len();
    parts.truncate(given);
    let normal = if parts.is_empty() { "0".to_string() } else { parts.join(".") };
    // `1.21-0` is 1.21.0-0: a pre-release on a partial version counts, on a wildcard not.
    let version = Version::parse(&format!("{normal}{}", if wildcard { "" } else { tail }))
        .map_err(|e| format!("improper constraint: {text}: {e}"))?;
    let given = if !wildcard && !version.pre.is_empty() { 3 } else { given };
    let op = match op {
        "=>" => ">=",
        "=<" => "<=",
        "~>" => "~",
        o => o,
    };
    Ok(Comparison { op: op.to_string(), version, given })
}

impl Constraint {
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let mut groups = Vec::new();
        for group in text.split("||") {
            let mut comparisons = Vec::new();
            // A hyphen range `1.2 - 1.4.5` is `>= 1.2, <= 1.4.5`.
            let group = group.trim();
            let tokens: Vec<&str> = group.split([',', ' ']).filter(|t| !t.is_empty()).collect();
            let mut i = 0;
            while i < tokens.len() {
                let mut tok = tokens[i].to_string();
                // An operator written apart from its version: `>= 1.2`.
                if tok.chars().all(|c| "<>=!~^".contains(c)) && i + 1 < tokens.len() {
                    tok.push_str(tokens[i + 1]);
                    i += 1;
                }
                if i + 2 < tokens.len() && tokens[i + 1] == "-" {
                    comparisons.push(parse_comparison(&format!(">={tok}"))?);
                    comparisons.push(parse_comparison(&format!("<={}", tokens[i + 2]))?);
                    i += 3;
                    continue;
                }
                comparisons.push(parse_comparison(&tok)?);
                i += 1;
            }
            if comparisons.is_empty() {
                comparisons.push(parse_comparison("*")?);
            }
            groups.push(comparisons);
        }
        Ok(Constraint { groups })
    }

    pub fn matches(&self, v: &Version) -> bool {
        self.groups.iter().any(|g| g.iter().all(|c| c.matches(v)))
    }
}

impl Comparison {
    /// The first version past the range a partial version stands for (`1.2` → 1.3.0).
    fn next_after_partial(&self) -> Version {
        let v = &self.version;
        match self.given {
            0 => Version { major: u64::MAX, minor: 0, patch: 0, pre: String::new() },
            1 => Version { major: v.major + 1, minor: 0, patch: 0, pre: String::new() },
            2 => Version { major: v.major, minor: v.minor + 1, patch: 0, pre: String::new() },
            _ => Version { patch: v.patch + 1, pre: String::new(), ..v.clone() },
        }
    }

    fn matches(&self, v: &Version) -> bool {
        // A pre-release is only considered by a comparison that names one.
        if !v.pre.is_empty() && self.version.pre.is_empty() {
            return false;
        }
        let c = &self.version;
        let floor = Version { pre: c.pre.clone(), ..c.clone() };
        match self.op.as_str() {
            "" | "=" => {
                if self.given == 3 {
                    v == c
                } else {
                    *v >= floor && *v < self.next_after_partial()
                }
            }
            "!=" => {
                if self.given == 3 {
                    v != c
                } else {
                    !(*v >= floor && *v < self.next_after_partial())
                }
            }
            ">" => {
                if self.given == 3 {
                    v > c
                } else {
                    *v >= self.next_after_partial()
                }
            }
            ">=" => *v >= floor,
            "<" => *v < floor,
            "<=" => {
                if self.given == 3 {
                    v <= c
                } else {
                    *v < self.next_after_partial()
                }
            }
            "~" => {
                let upper = if self.given <= 1 {
                    Version { major: c.major + 1, minor: 0, patch: 0, pre: String::new() }
                } else {
                    Version { major: c.major, minor: c.minor + 1, patch: 0, pre: String::new() }
                };
                *v >= floor && *v < upper
            }
            "^" => {
                let upper = if c.major > 0 || self.given <= 1 {
                    Version { major: c.major + 1, minor: 0, patch: 0, pre: String::new() }
                } else if c.minor > 0 || self.given == 2 {
                    Version { major: 0, minor: c.minor + 1, patch: 0, pre: String::new() }
                } else {
                    Version { major: 0, minor: 0, patch: c.patch + 1, pre: String::new() }
                };
                *v >= floor && *v < upper
            }
            _ => false,
        }
    }
}

/// Helm's `semverCompare`.
pub fn compare(constraint: &str, version: &str) -> Result<bool, String> {
    let c = Constraint::parse(constraint)?;
    let v = Version::parse(version)?;
    Ok(c.matches(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_like_masterminds() {
        let cases = [
            (">=1.21-0", "v1.37.0", true),
            (">=1.21-0", "1.21.0-rc.1", true),
            (">=1.21", "1.21.0-rc.1", false),
            ("^1.2.3", "1.9.0", true),
            ("^1.2.3", "2.0.0", false),
            ("^0.2.3", "0.3.0", false),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("1.2.x", "1.2.7", true),
            ("1.2", "1.3.0", false),
            ("*", "4.0.0", true),
            (">1.2", "1.2.9", false),
            ("<=1.2", "1.2.9", true),
            (">= 1.0.0, < 2.0.0", "1.5.0", true),
            ("1.0.0 - 1.4.5", "1.4.5", true),
            ("<1.0.0 || >=3.0.0", "2.0.0", false),
        ];
        for (c, v, want) in cases {
            assert_eq!(compare(c, v).unwrap(), want, "{c} {v}");
        }
    }
}
