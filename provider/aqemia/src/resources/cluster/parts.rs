//! The record of every AWS object a cluster owns, kept in state as the `parts` map
//! (part name → AWS id). Parts are recorded the moment they exist, so a failed or
//! interrupted apply never loses one; a refresh marks parts that drifted or vanished, which
//! is what makes the next plan show them and the apply repair them.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::cty::Value;

const DRIFT: &str = " (drifted: ";
pub const MISSING: &str = "missing";

/// Shared by the branches of an apply that run side by side.
#[derive(Debug, Default)]
pub struct Parts(Mutex<BTreeMap<String, String>>);

impl Parts {
    pub fn from_value(value: &Value) -> Parts {
        let entries = value.get("parts").and_then(Value::as_entries).cloned().unwrap_or_default();
        Parts(Mutex::new(entries.into_iter().filter_map(|(k, v)| Some((k, v.as_str()?.to_string()))).collect()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The AWS id of a part, without any drift note; `None` when unrecorded or missing.
    pub fn id(&self, key: &str) -> Option<String> {
        self.lock().get(key).and_then(|v| plain_id(v)).map(str::to_string)
    }

    /// The part recorded under `id`, for objects that lost their part tag.
    pub fn key_of(&self, id: &str) -> Option<String> {
        self.lock().iter().find(|(_, v)| plain_id(v) == Some(id)).map(|(k, _)| k.clone())
    }

    pub fn record(&self, key: &str, id: &str) {
        self.lock().insert(key.to_string(), id.to_string());
    }

    pub fn forget(&self, key: &str) {
        self.lock().remove(key);
    }

    pub fn mark_drifted(&self, key: &str, what: &str) {
        let mut parts = self.lock();
        if let Some(id) = parts.get(key).and_then(|v| plain_id(v)).map(str::to_string) {
            parts.insert(key.to_string(), format!("{id}{DRIFT}{what})"));
        }
    }

    pub fn mark_missing(&self, key: &str) {
        self.lock().insert(key.to_string(), MISSING.to_string());
    }

    #[cfg(test)]
    pub fn snapshot(&self) -> BTreeMap<String, String> {
        self.lock().clone()
    }

    pub fn to_value(&self) -> Value {
        Value::Map(self.lock().iter().map(|(k, v)| (k.clone(), Value::string(v.clone()))).collect())
    }
}

/// The id in a recorded value: "vpc-1" and "vpc-1 (drifted: ...)" both give "vpc-1".
pub fn plain_id(value: &str) -> Option<&str> {
    if value == MISSING {
        return None;
    }
    Some(value.split_once(DRIFT).map_or(value, |(id, _)| id))
}

/// What the plan expects a recorded value to become: the plain id again, or unknown for a
/// part that will be made anew.
pub fn planned_value(value: &str) -> Value {
    match plain_id(value) {
        Some(id) => Value::string(id),
        None => Value::unknown(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_notes_come_and_go() {
        let parts = Parts::default();
        parts.record("vpc", "vpc-1");
        parts.mark_drifted("vpc", "tag Team removed");
        assert_eq!(parts.snapshot()["vpc"], "vpc-1 (drifted: tag Team removed)");
        assert_eq!(parts.id("vpc").as_deref(), Some("vpc-1"));
        assert_eq!(parts.key_of("vpc-1").as_deref(), Some("vpc"));
        assert_eq!(planned_value("vpc-1 (drifted: tag Team removed)"), Value::string("vpc-1"));
        parts.mark_missing("vpc");
        assert_eq!(parts.id("vpc"), None);
        assert!(planned_value(MISSING).is_unknown());
    }
}
