//! The go-plugin services Terraform expects beside the provider: controller (shutdown),
//! stdio and broker (held open; aqemia needs neither).

use std::pin::Pin;

use futures::Stream;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

use crate::proto::go_plugin as pb;

pub struct Controller {
    /// Told when Terraform asks the provider to exit. None in debug mode, where one process
    /// serves many Terraform commands and only Ctrl-C ends it.
    pub shutdown: Option<mpsc::Sender<()>>,
}

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        if let Some(tx) = &self.shutdown {
            let _ = tx.try_send(());
        }
        Ok(Response::new(pb::Empty {}))
    }
}

type HeldStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

pub struct Stdio;

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = HeldStream<pb::StdioData>;

    async fn stream_stdio(&self, _: Request<()>) -> Result<Response<Self::StreamStdioStream>, Status> {
        // Logs go to stderr directly; ending this stream early would make go-plugin complain.
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}

pub struct Broker;

#[tonic::async_trait]
impl pb::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = HeldStream<pb::ConnInfo>;

    async fn start_stream(&self, request: Request<Streaming<pb::ConnInfo>>) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut incoming = request.into_inner();
        tokio::spawn(async move { while let Ok(Some(_)) = incoming.message().await {} });
        Ok(Response::new(Box::pin(futures::stream::pending())))
    }
}
