//! The cty type and value model that Terraform uses on the wire, with exact codecs.
//!
//! Values are decoded *against a type* (never by sniffing): the schema decides whether an
//! array is a list, a set or a tuple, and whether a slot is `dynamic`. Numbers keep
//! arbitrary precision; unknown values keep the refinements Terraform sends.

pub mod json;
pub mod msgpack;
mod number;
mod path;
mod types;
mod value;

pub use number::{Number, NumberError};
pub(crate) use path::Trail;
pub use path::{Path, PathStep};
pub use types::{Type, TypeError};
pub use value::{Refinements, Value};

/// Why bytes could not be decoded as a value of the expected type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", if path.is_root() { String::new() } else { format!("{path}: ") })]
pub struct DecodeError {
    pub path: Path,
    pub message: String,
}

/// Why a value could not be encoded as the given type (a value that does not conform).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", if path.is_root() { String::new() } else { format!("{path}: ") })]
pub struct EncodeError {
    pub path: Path,
    pub message: String,
}

/// Terraform normalises every string to NFC on decode; so do we, skipping the (costly)
/// rewrite for the common case of text that already is.
pub(crate) fn nfc(text: &str) -> String {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => text.to_owned(),
        _ => text.nfc().collect(),
    }
}
