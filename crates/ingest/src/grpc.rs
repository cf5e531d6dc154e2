//! The gRPC face of ingest: `herald.v1.Ingest` behind bearer-token auth,
//! with `grpc.health.v1.Health` and server reflection left open.
//!
//! Size limit: tonic refuses a message over `max_decoding_message_size`
//! before reading it whole, with `OUT_OF_RANGE`. The contract answers size
//! limits with `INVALID_ARGUMENT`, so [`SizeLimitStatus`] rewrites that one
//! code on this service's responses (the handlers never return it).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use herald_proto::status::{ErrorCode, ServiceError};
use herald_proto::v1::{self, ingest_server::IngestServer};
use herald_tls::ServerTls;
use tokio::net::TcpListener;
use tonic::server::NamedService;
use tonic::{Request, Response, Status};

use crate::auth::{AuthError, Tokens};
use crate::event::Event;
use crate::metrics::Via;
use crate::submit::{IngestError, Ingestor, Origin, report};

pub struct IngestService {
    ingestor: Ingestor,
}

fn status(error: IngestError) -> Status {
    if error.code() == ErrorCode::Internal {
        tracing::error!(%error, "ingest call failed");
    }
    error.status()
}

#[tonic::async_trait]
impl v1::ingest_server::Ingest for IngestService {
    async fn submit(
        &self,
        request: Request<v1::SubmitRequest>,
    ) -> Result<Response<v1::SubmitResponse>, Status> {
        let origin = Origin {
            trace: herald_telemetry::extract_metadata(request.metadata()),
            implicit_key: None,
        };
        let event = Event::from_proto(request.get_ref());
        let result = self.ingestor.submit(&event, &origin).await;
        report(self.ingestor.metrics(), Via::Grpc, &result);
        result
            .map(|accepted| Response::new(accepted.response))
            .map_err(status)
    }

    async fn get_action_status(
        &self,
        request: Request<v1::GetActionStatusRequest>,
    ) -> Result<Response<v1::ActionStatus>, Status> {
        self.ingestor
            .status(&request.get_ref().action_id)
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn get_alert(
        &self,
        request: Request<v1::GetAlertRequest>,
    ) -> Result<Response<v1::AlertState>, Status> {
        self.ingestor
            .alert(&request.get_ref().key)
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn list_alerts(
        &self,
        request: Request<v1::ListAlertsRequest>,
    ) -> Result<Response<v1::ListAlertsResponse>, Status> {
        self.ingestor
            .alerts(request.get_ref().open_only, 1000)
            .await
            .map(|alerts| Response::new(v1::ListAlertsResponse { alerts }))
            .map_err(status)
    }

    async fn ack_alert(
        &self,
        request: Request<v1::AckAlertRequest>,
    ) -> Result<Response<v1::AlertState>, Status> {
        let r = request.get_ref();
        self.ingestor
            .ack(&r.key, &r.by)
            .await
            .map(Response::new)
            .map_err(status)
    }
}

pub fn auth_status(error: AuthError) -> Status {
    tracing::debug!(%error, "gRPC call refused");
    match error {
        AuthError::Forbidden(_) => Status::permission_denied(error.to_string()),
        _ => Status::unauthenticated(error.to_string()),
    }
}

/// Serves until `shutdown` resolves; over TLS only when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    ingestor: Ingestor,
    tokens: Tokens,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<IngestServer<IngestService>>()
        .await;
    // v1 for current clients, v1alpha for older ones (grpcurl before 1.9,
    // Python's grpcio-reflection).
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(herald_proto::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .with_service_name("herald.v1.Ingest")
            .with_service_name("grpc.health.v1.Health")
    };
    let limit = ingestor.limits().max_event_bytes;
    let server = SizeLimitStatus {
        inner: IngestServer::new(IngestService { ingestor }).max_decoding_message_size(limit),
        limit,
    };
    let ingest =
        tonic::service::interceptor::InterceptedService::new(server, move |request: Request<()>| {
            let header = request
                .metadata()
                .get("authorization")
                .map(|v| v.as_bytes());
            crate::auth::authorize(&tokens, header).map_err(auth_status)?;
            Ok(request)
        });
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(
            reflection()
                .build_v1()
                .expect(herald_proto::DESCRIPTORS_VALID),
        )
        .add_service(
            reflection()
                .build_v1alpha()
                .expect(herald_proto::DESCRIPTORS_VALID),
        )
        .add_service(ingest);
    let result = herald_tls::serve_grpc(router, listener, tls, shutdown).await;
    health_reporter
        .set_not_serving::<IngestServer<IngestService>>()
        .await;
    result?;
    Ok(())
}

/// Rewrites tonic's `OUT_OF_RANGE` for an oversized message into the
/// contract's `INVALID_ARGUMENT`, naming the limit.
#[derive(Clone)]
pub struct SizeLimitStatus<S> {
    inner: S,
    limit: usize,
}

impl<S: NamedService> NamedService for SizeLimitStatus<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tonic::codegen::Service<http::Request<B>> for SizeLimitStatus<S>
where
    S: tonic::codegen::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let limit = self.limit;
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            let out_of_range = (tonic::Code::OutOfRange as i32).to_string();
            if response
                .headers()
                .get("grpc-status")
                .is_some_and(|code| code.as_bytes() == out_of_range.as_bytes())
            {
                tracing::info!(via = "grpc", limit, "event refused: over the size limit");
                let status = Status::invalid_argument(format!(
                    "the event is larger than the limit of {limit} bytes (HERALD_INGEST_MAX_EVENT_BYTES)"
                ));
                return Ok(status.into_http());
            }
            Ok(response)
        })
    }
}
