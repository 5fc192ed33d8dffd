//! `.helmignore`: the rules Helm applies when it loads a chart directory. They look like
//! `.gitignore` but are not: patterns are Go `filepath.Match` globs, a pattern without `/`
//! matches the base name only, and a `!` rule ignores every path it does not match.

#[derive(Clone, Debug)]
struct Pattern {
    glob: String,
    negate: bool,
    must_dir: bool,
    /// Matched against the whole relative path rather than the base name.
    whole_path: bool,
}

#[derive(Clone, Debug)]
pub struct IgnoreRules {
    patterns: Vec<Pattern>,
}

impl Default for IgnoreRules {
    /// Helm's default: dot files inside `templates/`.
    fn default() -> IgnoreRules {
        IgnoreRules::parse("")
    }
}

impl IgnoreRules {
    /// Parses a `.helmignore` and adds Helm's default rule after its own.
    pub fn parse(text: &str) -> IgnoreRules {
        let mut patterns = Vec::new();
        for line in text.lines().chain(std::iter::once("templates/.?*")) {
            let mut rule = line.trim();
            // Helm rejects `**` and malformed globs when it loads the file; such a line never matches here.
            if rule.is_empty() || rule.starts_with('#') || rule.contains("**") {
                continue;
            }
            let negate = rule.starts_with('!');
            if negate {
                rule = &rule[1..];
            }
            let must_dir = rule.ends_with('/');
            rule = rule.trim_end_matches('/');
            let whole_path = rule.contains('/');
            patterns.push(Pattern { glob: rule.trim_start_matches('/').to_string(), negate, must_dir, whole_path });
        }
        IgnoreRules { patterns }
    }

    /// Whether a path (relative, `/`-separated) is left out of the chart.
    pub fn ignores(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." {
            return false;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        for p in &self.patterns {
            let subject = if p.whole_path { path } else { base };
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !glob_match(&p.glob, subject) {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if glob_match(&p.glob, subject) {
                return true;
            }
        }
        false
    }
}

/// Go's `filepath.Match` on `/`-separated names: `*` and `?` never cross a `/`, `[...]`
/// classes with ranges and `^` negation, `\` escapes.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches_at(&p, &n)
}

fn matches_at(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).take_while(|&i| i == 0 || n[i - 1] != '/').any(|i| matches_at(&p[1..], &n[i..])),
        Some('?') => n.first().is_some_and(|&c| c != '/') && matches_at(&p[1..], &n[1..]),
        Some('[') => {
            let Some(&c) = n.first() else { return false };
            match class_match(&p[1..], c) {
                Some((matched, rest)) => matched && c != '/' && matches_at(rest, &n[1..]),
                None => false,
            }
        }
        Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && matches_at(&p[2..], &n[1..]),
        Some(&lit) => n.first() == Some(&lit) && matches_at(&p[1..], &n[1..]),
    }
}

/// Matches `c` against a class body (after `[`); returns whether it matched and the pattern
/// after the closing `]`, or `None` for a malformed class.
fn class_match(p: &[char], c: char) -> Option<(bool, &[char])> {
    let (negated, mut i) = if p.first() == Some(&'^') { (true, 1) } else { (false, 0) };
    let mut matched = false;
    let mut first = true;
    loop {
        let &lo = p.get(i)?;
        if lo == ']' && !first {
            return Some((matched != negated, &p[i + 1..]));
        }
        first = false;
        let (lo, next) = if lo == '\\' { (*p.get(i + 1)?, i + 2) } else { (lo, i + 1) };
        i = next;
        let hi = if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&h| h != ']') {
            let (hi, next) = if p[i + 1] == '\\' { (*p.get(i + 2)?, i + 3) } else { (p[i + 1], i + 2) };
            i = next;
            hi
        } else {
            lo
        };
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_like_go() {
        assert!(glob_match("*.txt", "a.txt"));
        assert!(!glob_match("*.txt", "d/a.txt"));
        assert!(glob_match("d/*.txt", "d/a.txt"));
        assert!(glob_match("[a-c]?", "b1"));
        assert!(!glob_match("[^a-c]?", "b1"));
    }

    #[test]
    fn rules_like_helm() {
        let rules = IgnoreRules::parse("# comment\n*.bak\n/secret.txt\nbuild/\n");
        assert!(rules.ignores("x.bak", false));
        assert!(rules.ignores("templates/y.bak", false));
        assert!(rules.ignores("secret.txt", false));
        assert!(!rules.ignores("files/secret.txt", false));
        assert!(rules.ignores("build", true));
        assert!(!rules.ignores("build", false));
        assert!(rules.ignores("templates/.hidden", false));
        assert!(!rules.ignores("templates/cm.yaml", false));
    }
}
