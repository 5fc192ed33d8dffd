//! Value checks more than one resource's schema uses. Each returns what is wrong and what
//! would be right, for a diagnostic on the attribute.

use crate::cty::Value;

/// A whole number from `low` to `high`.
pub fn range(low: i64, high: i64) -> impl Fn(&Value) -> Result<(), String> + Send + Sync + 'static {
    move |v| match v.as_number().and_then(|n| n.to_i64()) {
        Some(n) if (low..=high).contains(&n) => Ok(()),
        _ => Err(format!(
            "{} is out of range; use a whole number from {low} to {high}",
            v.as_number().map(|n| n.to_string()).unwrap_or_default()
        )),
    }
}

/// A DNS label as Kubernetes names namespaces: 1 to 63 lowercase letters, digits or hyphens,
/// starting and ending with a letter or digit.
pub fn is_dns_label(text: &str) -> bool {
    (1..=63).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

/// A fully qualified host name: two or more DNS labels, 253 characters at most.
pub fn is_host_name(text: &str) -> bool {
    text.len() <= 253 && text.split('.').count() >= 2 && text.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_lowercase_labels_with_a_domain() {
        assert!(is_host_name("app.example.com"));
        assert!(is_host_name("dev.app-1.example.co.uk"));
        for bad in ["localhost", "App.example.com", "app..example.com", "-app.example.com", "app_1.example.com", "*.example.com"] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }
}
