//! The gRPC face of routes, `herald.v1.RouteRegistry`: admin writes;
//! admin, producer and service read (ingest looks routes up as `service`).

use std::sync::Arc;

use herald_config::RouteDocument;
use herald_proto::v1::{self, route_registry_server::RouteRegistry};
use tonic::{Request, Response, Status};

use crate::auth::{Role, require};
use crate::registry::{MAX_PAGE_SIZE, Registry, RegistryError, RouteView};
use crate::service::{READERS, status, timestamp};

pub struct RouteRegistryService {
    registry: Arc<Registry>,
}

impl RouteRegistryService {
    pub fn new(registry: Arc<Registry>) -> Self {
        RouteRegistryService { registry }
    }
}

pub fn route_to_proto(view: RouteView) -> v1::Route {
    v1::Route {
        preconfigured: view.preconfigured,
        version: view.version,
        created_at: timestamp(view.created_at),
        updated_at: timestamp(view.updated_at),
        ..view.route.to_proto()
    }
}

#[tonic::async_trait]
impl RouteRegistry for RouteRegistryService {
    async fn put_route(
        &self,
        request: Request<v1::PutRouteRequest>,
    ) -> Result<Response<v1::Route>, Status> {
        require(&request, &[Role::Admin], "change routes")?;
        let route = request
            .into_inner()
            .route
            .ok_or_else(|| Status::invalid_argument("route: required"))?;
        let doc = RouteDocument::from_proto(&route)
            .map_err(|v| status(RegistryError::InvalidRoute(v)))?;
        let view = self
            .registry
            .put_route(doc, route.version)
            .await
            .map_err(status)?;
        Ok(Response::new(route_to_proto(view)))
    }

    async fn get_route(
        &self,
        request: Request<v1::GetRouteRequest>,
    ) -> Result<Response<v1::Route>, Status> {
        require(&request, READERS, "read routes")?;
        let view = self
            .registry
            .get_route(&request.get_ref().id)
            .await
            .map_err(status)?;
        Ok(Response::new(route_to_proto(view)))
    }

    async fn list_routes(
        &self,
        request: Request<v1::ListRoutesRequest>,
    ) -> Result<Response<v1::ListRoutesResponse>, Status> {
        require(&request, READERS, "list routes")?;
        let r = request.into_inner();
        if r.page_size < 0 || r.page_size as usize > MAX_PAGE_SIZE {
            return Err(Status::invalid_argument(format!(
                "page_size: must be 0..{MAX_PAGE_SIZE}"
            )));
        }
        let (routes, next_page_token) = self
            .registry
            .list_routes(r.page_size as usize, &r.page_token)
            .await
            .map_err(status)?;
        Ok(Response::new(v1::ListRoutesResponse {
            routes: routes.into_iter().map(route_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn delete_route(
        &self,
        request: Request<v1::DeleteRouteRequest>,
    ) -> Result<Response<v1::DeleteRouteResponse>, Status> {
        require(&request, &[Role::Admin], "delete routes")?;
        let r = request.get_ref();
        self.registry
            .delete_route(&r.id, r.version)
            .await
            .map_err(status)?;
        Ok(Response::new(v1::DeleteRouteResponse {}))
    }
}
