//! The release engine: how every add-on and manifest set reaches a cluster. A release is a
//! named set of objects applied in stages by server-side apply (field manager `aqemia`),
//! waited on until healthy, recorded in an inventory so that objects dropped from the release
//! are pruned, and uninstalled in reverse order.
//!
//! `object` names objects, `order` stages them, `health` judges them; the parts that talk to
//! the API server build on these.

pub mod health;
pub mod object;
pub mod order;
