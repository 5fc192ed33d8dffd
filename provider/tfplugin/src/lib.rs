//! A small SDK for Terraform providers written in Rust, speaking plugin protocol 5.
//!
//! - [`cty`]: Terraform's value model and its exact msgpack and JSON codecs;
//! - [`framework`]: what a provider implements: the [`framework::Provider`] trait, resources
//!   and data sources, the schema builder, plan rules, diagnostics with attribute paths,
//!   private state, timeouts;
//! - [`server`]: the go-plugin transport (handshake, AutoMTLS, shutdown, signals) and the
//!   hclog logs Terraform reads;
//! - `rpc`: the protocol boundary, one module per RPC, and the only place that sees wire
//!   types besides the generated [`proto`].
//!
//! A provider is a type implementing [`framework::Provider`]; its `main` calls
//! [`server::serve`] on a Tokio runtime. The SDK knows nothing of any cloud or cluster.

pub mod cty;
pub mod framework;
pub mod proto;
mod rpc;
pub mod server;
