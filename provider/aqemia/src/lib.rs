//! aqemia: a Terraform provider (plugin protocol 5) that stands up a production Kubernetes
//! platform on AWS in one apply.
//!
//! It stands on three libraries of the workspace, none of which knows this crate: the
//! provider SDK (`aqemia_tfplugin`: `cty` values, the resource `framework`, the protocol
//! server), the Helm engine (`aqemia_helm`) and the release engine (`aqemia_release`).
//! Here: `provider` is what the SDK serves; `config` is the provider configuration; `aws`
//! the AWS clients and EKS tokens; `connection` the `cluster` attribute and the Kubernetes
//! client it yields; `resources` the resources themselves; `cli` the binary's subcommands.

pub mod aws;
pub mod cli;
pub mod config;
pub mod connection;
pub mod framework;
pub mod provider;
pub mod resources;

pub use aqemia_tfplugin::cty;

/// The provider's release version, also printed by `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The registry address Terraform knows this provider by.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/aqemia/aqemia";
