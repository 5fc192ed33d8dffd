//! The release engine: how every add-on and manifest set reaches a cluster. A release is a
//! named set of objects applied in stages by server-side apply (field manager `aqemia`),
//! waited on until healthy, recorded in an inventory so that objects dropped from the release
//! are pruned, and uninstalled in reverse order.
//!
//! `object` names objects, `manifest` parses them, `order` stages them, `health` judges them
//! (all pure); `api` (retries, concurrency, errors) and `discovery` (kinds to API paths) are
//! the plumbing every request goes through; `apply`, `wait` and `inventory` talk to the API
//! server about one object or one record; `engine` runs whole releases.
//!
//! The engine takes a `kube::Client`: how the client was made (a kubeconfig, an EKS token,
//! anything else) is the caller's business.

pub mod api;
pub mod apply;
pub mod discovery;
pub mod engine;
pub mod health;
pub mod inventory;
pub mod manifest;
pub mod object;
pub mod order;
pub mod wait;
