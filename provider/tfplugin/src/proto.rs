//! Generated wire types. Only `rpc` and `server` use them; everything else speaks `cty` and
//! `framework` types.

#[allow(clippy::all, clippy::pedantic)]
pub mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}

#[allow(clippy::all, clippy::pedantic)]
pub mod go_plugin {
    tonic::include_proto!("plugin");
}
