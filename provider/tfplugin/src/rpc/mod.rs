//! The protocol boundary: one module per RPC. Wire types stop here; resources see `cty`
//! values and framework types only. Errors are answered as diagnostics, never as gRPC
//! errors, which Terraform would turn into a fatal "plugin did not respond".

mod apply;
mod configure;
mod data;
mod import;
mod plan;
mod read;
mod schema;
mod stop;
mod upgrade;
mod validate;
pub mod wire;

use std::sync::{Arc, Mutex, RwLock};

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::framework::{Context, Provider as ProviderDefinition, Registry};
use crate::proto::tfplugin5 as pb;
use crate::proto::tfplugin5::provider_server::Provider;

pub struct ProviderService<P: ProviderDefinition> {
    provider: P,
    registry: Arc<Registry<P::Data>>,
    config: RwLock<Arc<P::Data>>,
    /// Replaced after each Stop, so a stopped process (debug mode serves many commands)
    /// can still serve the next command.
    cancel: Mutex<CancellationToken>,
    schema: pb::get_provider_schema::Response,
}

impl<P: ProviderDefinition> ProviderService<P> {
    pub fn new(provider: P) -> Self {
        let registry = provider.registry();
        let schema = schema::build(&provider.schema(), &registry);
        ProviderService {
            provider,
            registry: Arc::new(registry),
            config: RwLock::new(Arc::new(P::Data::default())),
            cancel: Mutex::new(CancellationToken::new()),
            schema,
        }
    }

    fn context(&self) -> Context<P::Data> {
        Context { config: self.config.read().expect("config lock").clone(), cancel: self.cancel.lock().expect("cancel lock").clone() }
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

/// Runs one request that reaches a resource, logged as terraform-plugin-go logs it: arriving
/// at trace level, served (with its duration) at debug level. Nothing is formatted unless a
/// `TF_LOG` variable asks for that level.
async fn logged<T>(rpc: &'static str, type_name: &str, call: impl std::future::Future<Output = T>) -> T {
    tracing::trace!(tf_rpc = rpc, tf_resource_type = type_name, "received {rpc}");
    let start = std::time::Instant::now();
    let response = call.await;
    let millis = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::debug!(tf_rpc = rpc, tf_resource_type = type_name, tf_req_duration_ms = millis, "served {rpc}");
    response
}

#[tonic::async_trait]
impl<P: ProviderDefinition> Provider for ProviderService<P> {
    async fn get_metadata(&self, _: Request<pb::get_metadata::Request>) -> RpcResult<pb::get_metadata::Response> {
        Ok(Response::new(schema::metadata(&self.registry)))
    }

    async fn get_schema(&self, _: Request<pb::get_provider_schema::Request>) -> RpcResult<pb::get_provider_schema::Response> {
        Ok(Response::new(self.schema.clone()))
    }

    async fn prepare_provider_config(
        &self,
        r: Request<pb::prepare_provider_config::Request>,
    ) -> RpcResult<pb::prepare_provider_config::Response> {
        Ok(Response::new(configure::prepare(&self.provider, r.into_inner())))
    }

    async fn validate_resource_type_config(
        &self,
        r: Request<pb::validate_resource_type_config::Request>,
    ) -> RpcResult<pb::validate_resource_type_config::Response> {
        Ok(Response::new(validate::resource(&self.registry, r.into_inner())))
    }

    async fn validate_data_source_config(
        &self,
        r: Request<pb::validate_data_source_config::Request>,
    ) -> RpcResult<pb::validate_data_source_config::Response> {
        Ok(Response::new(validate::data_source(&self.registry, r.into_inner())))
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        Ok(Response::new(upgrade::resource_state(&self.registry, r.into_inner())))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response::default()))
    }

    async fn upgrade_resource_identity(
        &self,
        r: Request<pb::upgrade_resource_identity::Request>,
    ) -> RpcResult<pb::upgrade_resource_identity::Response> {
        Ok(Response::new(upgrade::identity(r.into_inner())))
    }

    async fn configure(&self, r: Request<pb::configure::Request>) -> RpcResult<pb::configure::Response> {
        let (config, diags) = configure::configure(&self.provider, r.into_inner());
        *self.config.write().expect("config lock") = Arc::new(config);
        Ok(Response::new(pb::configure::Response { diagnostics: wire::diagnostics(&diags) }))
    }

    async fn read_resource(&self, r: Request<pb::read_resource::Request>) -> RpcResult<pb::read_resource::Response> {
        let r = r.into_inner();
        let type_name = r.type_name.clone();
        Ok(Response::new(logged("ReadResource", &type_name, read::resource(&self.registry, &self.context(), r)).await))
    }

    async fn plan_resource_change(&self, r: Request<pb::plan_resource_change::Request>) -> RpcResult<pb::plan_resource_change::Response> {
        let r = r.into_inner();
        let type_name = r.type_name.clone();
        Ok(Response::new(logged("PlanResourceChange", &type_name, plan::resource_change(&self.registry, &self.context(), r)).await))
    }

    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let r = r.into_inner();
        let type_name = r.type_name.clone();
        Ok(Response::new(logged("ApplyResourceChange", &type_name, apply::resource_change(&self.registry, &self.context(), r)).await))
    }

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let r = r.into_inner();
        let type_name = r.type_name.clone();
        Ok(Response::new(logged("ImportResourceState", &type_name, import::resource_state(&self.registry, &self.context(), r)).await))
    }

    async fn move_resource_state(&self, r: Request<pb::move_resource_state::Request>) -> RpcResult<pb::move_resource_state::Response> {
        Ok(Response::new(import::move_state(r.into_inner())))
    }

    async fn read_data_source(&self, r: Request<pb::read_data_source::Request>) -> RpcResult<pb::read_data_source::Response> {
        let r = r.into_inner();
        let type_name = r.type_name.clone();
        Ok(Response::new(logged("ReadDataSource", &type_name, data::read(&self.registry, &self.context(), r)).await))
    }

    async fn get_functions(&self, _: Request<pb::get_functions::Request>) -> RpcResult<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn call_function(&self, r: Request<pb::call_function::Request>) -> RpcResult<pb::call_function::Response> {
        Ok(Response::new(stop::call_function(r.into_inner())))
    }

    async fn stop(&self, _: Request<pb::stop::Request>) -> RpcResult<pb::stop::Response> {
        let mut cancel = self.cancel.lock().expect("cancel lock");
        stop::cancel_in_flight(&mut cancel);
        Ok(Response::new(pb::stop::Response::default()))
    }
}
