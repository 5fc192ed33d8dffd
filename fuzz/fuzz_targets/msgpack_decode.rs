//! Decodes arbitrary bytes as msgpack against a type chosen by the first byte(s); whatever
//! decodes must re-encode to bytes that decode to the same value (see `aqemia_fuzz`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| aqemia_fuzz::fuzz_msgpack(data));
