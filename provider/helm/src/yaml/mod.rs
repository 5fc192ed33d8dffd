//! Go YAML compatibility for the Helm renderer: byte-for-byte what Helm 4 gets from
//! `sigs.k8s.io/yaml` v1.6.0 on top of go-yaml v2 (`go.yaml.in/yaml/v2` v2.4.2, same
//! behaviour as `gopkg.in/yaml.v2` v2.4.0; v2.4.3..v2.4.5 change nothing used here).
//!
//! * [`to_yaml`] / [`helm_to_yaml`] / [`marshal`]: `toYaml` (`sigs.k8s.io/yaml.Marshal`).
//! * [`from_yaml`] and friends: `fromYaml`, `fromYamlArray`, values.yaml
//!   (`sigs.k8s.io/yaml.Unmarshal`). Numbers come back as the text Go's encoding/json
//!   prints for the float64 Helm holds (`1e6` -> `1000000`), see `load.rs`.
//!
//! Layout: `emit.rs` (emitter), `load.rs` (API, errors, go-yaml's decoder, the JSON
//! round trip), `parse.rs` (granit events -> go-yaml's node tree, with the YAML 1.1 /
//! libyaml fixes), `scalar.rs` (YAML 1.1 resolution, Go float formatting), `sort.rs`
//! (go-yaml's key order and Go's Unicode tables).
//!
//! Each file's tests hold cases whose expected output was taken from Go itself; the chart
//! corpus and the random charts of `tests/helm` compare `toYaml` and values parsing with Helm.
//!
//! # Known differences from Go
//!
//! Writing (`toYaml`):
//! * A number that overflows float64 (`1e400`) is kept as text by go-yaml; we print the
//!   text serde_json keeps, which normalises the exponent (`1e+400` where Go prints the
//!   original `1e400`). Such numbers cannot come out of Helm's own parsing.
//! * Values nested deeper than 1000 levels are refused (Go has no limit).
//! * When a string holds both a control character (which makes go-yaml fail) and, earlier,
//!   another go-yaml failure, the error message may name the other failure. The output
//!   (nothing) is the same.
//!
//! Reading: syntax comes from granit-parser (YAML 1.2); `parse.rs` bends it to go-yaml's
//! YAML 1.1 / libyaml behaviour wherever the oracle found a difference, except for these
//! (all on unusual input). 2, 6 and 8 never change what Helm's fromYaml, fromYamlArray or
//! values.yaml reading give, apart from the text of an error.
//! 1. An alias or anchor glued to `:` (`*a: v`): YAML 1.2 allows `:` in anchor names,
//!    go-yaml does not; we fail (with another message) where go-yaml may succeed.
//! 2. Garbage after a complete root scalar or empty root node (`'a'b`, `a # c\n- x`):
//!    go-yaml returns the root, we fail. Helm's map/array targets fail on a root scalar
//!    either way. (Garbage after a root flow collection or quoted scalar, `[a]]`, is
//!    handled like go-yaml.)
//! 3. Block scalars whose blank lines are indented unlike their content: leading blank
//!    lines with more spaces than the first content line, or an empty scalar with an
//!    indentation indicator followed by a less indented `#` line. go-yaml reads them,
//!    granit rejects them.
//! 4. U+2028/U+2029 line breaks inside a folded (`>`) block scalar come out as `\n`.
//! 5. Nesting deeper than 1000 levels is refused (go-yaml allows 10,000).
//! 6. When two keys become the same string (`1` and `"1"`), Go keeps one at random; we
//!    keep the last.
//! 7. A control character anywhere in the input is an error; go-yaml reads in 512-byte
//!    chunks and may stop before one that lies well after the first document.
//! 8. Error messages: the same text as Go for the common cases (bad indentation, tabs,
//!    unclosed flow collections, unknown anchors, type errors, ...), otherwise a
//!    go-yaml-style message that may differ in wording or line (about 1 in 10 of the
//!    oracle's error cases).

mod emit;
mod load;
mod parse;
mod scalar;
mod sort;

pub use emit::{helm_to_yaml, marshal, to_yaml};
pub use load::{from_yaml, from_yaml_array, from_yaml_map, helm_from_yaml, helm_from_yaml_array, parse_values, yaml_to_json, YamlError};
