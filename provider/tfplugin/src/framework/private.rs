//! Private state: bytes Terraform stores beside a resource's state and hands back on the
//! next call, for what the provider needs but the user must not see or diff.

use serde_json::{Map, Value as Json};

/// A JSON object of provider-owned keys. Empty bytes mean an empty map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Private(Map<String, Json>);

impl Private {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        if bytes.is_empty() {
            return Private::default();
        }
        // Private state written by something else (or corrupted) is dropped rather than
        // failing every later operation on the resource.
        match serde_json::from_slice::<Json>(bytes) {
            Ok(Json::Object(map)) => Private(map),
            _ => Private::default(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        if self.0.is_empty() {
            return Vec::new();
        }
        serde_json::to_vec(&self.0).expect("JSON map always serialises")
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0.get(key)
    }

    pub fn set(&mut self, key: impl Into<String>, value: Json) {
        self.0.insert(key.into(), value);
    }

    pub fn remove(&mut self, key: &str) -> Option<Json> {
        self.0.remove(key)
    }
}
