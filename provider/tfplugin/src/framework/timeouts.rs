//! The `timeouts` block every long-running resource offers: `timeouts { create = "30m" }`.

use std::time::Duration;

use crate::cty::Value;

use super::schema::{Attribute, Block, NestedBlock, Nesting};

pub const BLOCK_NAME: &str = "timeouts";

/// Which operation a timeout bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    fn attribute(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// The nested block, with each operation's default in its description.
pub fn block(defaults: &Defaults) -> NestedBlock {
    let attr = |op: Operation, default: Duration| {
        Attribute::string(op.attribute())
            .optional()
            .description(format!(
                "How long to wait for {} before giving up, as a Go-style duration such as `30m` or `1h30m`. Default `{}`.",
                op.attribute(),
                format_duration(default)
            ))
            .validate("a duration such as `45s`, `30m` or `1h30m`", |v| parse_duration(v.as_str().unwrap_or_default()).map(|_| ()))
    };
    let block = Block::new()
        .description("Time limits for each operation.")
        .attribute(attr(Operation::Create, defaults.create))
        .attribute(attr(Operation::Read, defaults.read))
        .attribute(attr(Operation::Update, defaults.update))
        .attribute(attr(Operation::Delete, defaults.delete));
    NestedBlock::new(BLOCK_NAME, Nesting::Single, block)
}

#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub create: Duration,
    pub read: Duration,
    pub update: Duration,
    pub delete: Duration,
}

impl Defaults {
    pub fn all(d: Duration) -> Self {
        Defaults { create: d, read: d, update: d, delete: d }
    }

    /// The timeout for `op` from a resource value (its `timeouts` block), or the default.
    pub fn resolve(&self, resource: &Value, op: Operation) -> Duration {
        let configured =
            resource.get(BLOCK_NAME).and_then(|t| t.get(op.attribute())).and_then(Value::as_str).and_then(|s| parse_duration(s).ok());
        configured.unwrap_or(match op {
            Operation::Create => self.create,
            Operation::Read => self.read,
            Operation::Update => self.update,
            Operation::Delete => self.delete,
        })
    }
}

/// Parses `1h30m`, `45s`, `500ms`, `2h` (units h, m, s, ms; at least one part).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration; write it like `45s`, `30m` or `1h30m`");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let amount: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = match &rest[..unit_len] {
            "h" => Duration::from_secs(3600),
            "m" => Duration::from_secs(60),
            "s" => Duration::from_secs(1),
            "ms" => Duration::from_millis(1),
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += unit * u32::try_from(amount).map_err(|_| bad())?;
    }
    Ok(total)
}

pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if s > 0 || out.is_empty() {
        out += &format!("{s}s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_style_durations() {
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("m5").is_err());
    }

    #[test]
    fn formats_round_trip() {
        for d in [Duration::from_secs(5400), Duration::from_secs(45), Duration::from_secs(1200)] {
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
