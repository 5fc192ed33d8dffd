//! aqemia: a Terraform provider (plugin protocol 5) that stands up a production Kubernetes
//! platform on AWS in one apply.
//!
//! Layout: `cty` is the value model and its wire codecs; `framework` is what a resource
//! implements (schema, plan rules, diagnostics); `rpc` is the protocol boundary, one module per
//! RPC, and the only place that sees wire types; `server` is the go-plugin transport;
//! `config` is the provider configuration; `helm` renders charts as Helm does; `k8s` reaches a
//! cluster; `release` is the engine that puts objects into it; `resources` holds the resources
//! themselves.

pub mod aws;
pub mod config;
pub mod cty;
pub mod framework;
pub mod helm;
pub mod k8s;
pub mod proto;
pub mod release;
pub mod resources;
pub mod rpc;
pub mod server;

/// The provider's release version, also printed by `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The registry address Terraform knows this provider by.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/aqemia/aqemia";
