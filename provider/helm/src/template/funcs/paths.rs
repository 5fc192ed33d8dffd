//! Sprig's path functions, on `/`-separated paths as Go's `path` package does.

use super::super::value::Value;
use super::table;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

table! {
    fixed "base"(Str) => |_, a| Ok(Value::str(base(s(&a[0])))),
    fixed "dir"(Str) => |_, a| Ok(Value::str(dir(s(&a[0])))),
    fixed "ext"(Str) => |_, a| Ok(Value::str(ext(s(&a[0])))),
    fixed "clean"(Str) => |_, a| Ok(Value::str(clean(s(&a[0])))),
    fixed "isAbs"(Str) => |_, a| Ok(Value::Bool(s(&a[0]).starts_with('/'))),
}

/// Go's `path.Base`.
fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".into();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// Go's `path.Dir`: everything before the last `/`, cleaned.
fn dir(p: &str) -> String {
    let cut = p.rfind('/').map_or(0, |i| i + 1);
    clean(&p[..cut])
}

/// Go's `path.Ext`: the suffix from the last `.` in the last element.
fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p[i..].to_string();
        }
    }
    String::new()
}

/// Go's `path.Clean`: no `.` elements, `..` resolved, no repeated or trailing slashes.
fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_like_go() {
        assert_eq!(base("a/b/c.yaml"), "c.yaml");
        assert_eq!(dir("a/b/c.yaml"), "a/b");
        assert_eq!(dir("c.yaml"), ".");
        assert_eq!(ext("a/b.tar.gz"), ".gz");
        assert_eq!(clean("a//b/./../c/"), "a/c");
        assert_eq!(clean("/../a"), "/a");
    }
}
