//! A thin client of Cloudflare's API v4 for what aqemia manages: zones and DNS records.
//!
//! Why not the `cloudflare` crate: it has no PATCH, no record comments, strict structs that
//! broke each time Cloudflare dropped a field, and a listing that fails on any zone holding a
//! record type it does not know. This client is lenient on what it reads (unknown fields and
//! types pass, missing ones default) and strict on what it sends.
//!
//! Every call goes through one envelope reader: `success`, `errors[{code, message}]`,
//! `result`, `result_info`. 429 and 5xx answers are retried with the server's `Retry-After`
//! (or a short backoff); what remains is an [`Error`] that keeps Cloudflare's codes, so
//! callers can tell "that record already exists" (81053, 81057, 81058) from "this token cannot
//! see the zone" (9109, 10000).

pub mod dns;
mod http;

pub use dns::{Record, RecordSpec, Zone};
pub use http::{Client, Retry};

/// One entry of an answer's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ApiMessage {
    #[serde(default)]
    pub code: i64,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Cloudflare answered with a failure envelope (or a failing status).
    #[error("Cloudflare answered {method} {path} with HTTP {status}: {}", describe(.errors))]
    Api { method: &'static str, path: String, status: u16, errors: Vec<ApiMessage> },
    /// The request did not get an answer: the network, TLS, or a timeout.
    #[error("Cloudflare could not be reached for {method} {path}: {reason}")]
    Transport { method: &'static str, path: String, reason: String },
    /// An answer that is not Cloudflare's envelope.
    #[error("Cloudflare's answer to {method} {path} could not be read: {reason}")]
    Decode { method: &'static str, path: String, reason: String },
    /// The base URL or the token cannot make a request at all.
    #[error("{0}")]
    Config(String),
}

/// Codes Cloudflare gives when a record of that name already exists: a CNAME beside an
/// A/AAAA/CNAME (81053), a CNAME where an A/AAAA is (81054), the same record (81057), an
/// identical record (81058).
pub const RECORD_EXISTS: [i64; 4] = [81053, 81054, 81057, 81058];
/// Codes for a token that may not use the zone or is not valid at all.
pub const NOT_ALLOWED: [i64; 3] = [9109, 10000, 9106];

impl Error {
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn has_code(&self, codes: &[i64]) -> bool {
        matches!(self, Error::Api { errors, .. } if errors.iter().any(|e| codes.contains(&e.code)))
    }

    /// The record or zone does not exist (or no longer does).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404) || self.has_code(&[81044, 7003])
    }

    /// The token was refused, or may not use what was asked for.
    pub fn is_not_allowed(&self) -> bool {
        matches!(self.status(), Some(401 | 403)) || self.has_code(&NOT_ALLOWED)
    }
}

fn describe(errors: &[ApiMessage]) -> String {
    if errors.is_empty() {
        return "no error details".into();
    }
    errors.iter().map(|e| format!("{} (code {})", e.message, e.code)).collect::<Vec<_>>().join("; ")
}
