//! The Helm engine: loads charts and renders them exactly as `helm template` does, without
//! Helm. [`template`] is the Go template language with Sprig's and Helm's functions;
//! [`chart`] loads charts ([`ignore`] is `.helmignore`); [`values`] coalesces values and
//! [`schema`] checks them; [`objects`] are `.Chart`, `.Files` and `.Capabilities`; [`render`]
//! puts it together; [`yaml`] reads and writes YAML as Helm's Go libraries do; [`source`]
//! fetches charts from repositories and [`oci`] from registries ([`semver`] picks versions).
#![doc = ""]
#![doc = include_str!("../README.md")]

pub mod chart;
pub mod ignore;
pub mod lookup;
pub mod objects;
pub mod oci;
pub mod render;
pub mod schema;
pub mod semver;
pub mod source;
pub mod template;
pub mod values;
pub mod yaml;
