//! Decodes arbitrary bytes as JSON against a type chosen by the first byte(s); whatever
//! decodes must round-trip through JSON and through msgpack (see `aqemia_fuzz`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| aqemia_fuzz::fuzz_json(data));
