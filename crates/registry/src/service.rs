//! The gRPC face of the registry: roles, conversion between protobuf and the
//! registry's types, and errors mapped to status codes in one place.

use std::sync::Arc;

use herald_proto::json::{json_to_struct, opt_struct_to_json};
use herald_proto::status::{ErrorCode, ServiceError};
use herald_proto::v1::{self, account_registry_server::AccountRegistry};
use tonic::{Request, Response, Status};

use crate::auth::{Role, require};
use crate::registry::{AccountInput, AccountView, Registry, RegistryError};
use herald_catalog::SecretMap;

pub(crate) const READERS: &[Role] = &[Role::Admin, Role::Producer, Role::Service];

pub struct RegistryService {
    registry: Arc<Registry>,
}

impl RegistryService {
    pub fn new(registry: Arc<Registry>) -> Self {
        RegistryService { registry }
    }
}

/// Logs what the caller will not see, once, where it is handled.
pub(crate) fn status(error: RegistryError) -> Status {
    if error.code() == ErrorCode::Internal || error.code() == ErrorCode::Unavailable {
        tracing::error!(error = %error, cause = ?std::error::Error::source(&error), "registry call failed");
    }
    error.status()
}

fn to_proto(view: AccountView) -> v1::Account {
    v1::Account {
        id: view.id,
        connector_type: view.connector_type.to_owned(),
        name: view.name,
        config: Some(json_to_struct(&view.config)),
        secrets: None,
        secret_fields: view.secret_fields,
        preconfigured: view.preconfigured,
        config_hidden: view.config_hidden,
        version: view.version,
        created_at: timestamp(view.created_at),
        updated_at: timestamp(view.updated_at),
    }
}

pub(crate) fn timestamp(ms: i64) -> Option<prost_types::Timestamp> {
    (ms > 0).then(|| prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    })
}

#[tonic::async_trait]
impl AccountRegistry for RegistryService {
    async fn put_account(
        &self,
        request: Request<v1::PutAccountRequest>,
    ) -> Result<Response<v1::Account>, Status> {
        require(&request, &[Role::Admin], "change accounts")?;
        let account = request
            .into_inner()
            .account
            .ok_or_else(|| Status::invalid_argument("account: required"))?;
        let input = AccountInput {
            config: opt_struct_to_json(account.config.as_ref()),
            secrets: SecretMap(opt_struct_to_json(account.secrets.as_ref())),
            id: account.id,
            connector_type: account.connector_type,
            name: account.name,
            version: account.version,
            // PutAccount replaces the account, this flag too.
            config_hidden: Some(account.config_hidden),
        };
        let view = self.registry.put(input).await.map_err(status)?;
        Ok(Response::new(to_proto(view)))
    }

    async fn get_account(
        &self,
        request: Request<v1::GetAccountRequest>,
    ) -> Result<Response<v1::Account>, Status> {
        require(&request, READERS, "read accounts")?;
        let view = self
            .registry
            .get(&request.get_ref().id)
            .await
            .map_err(status)?;
        Ok(Response::new(to_proto(view)))
    }

    async fn list_accounts(
        &self,
        request: Request<v1::ListAccountsRequest>,
    ) -> Result<Response<v1::ListAccountsResponse>, Status> {
        require(&request, READERS, "list accounts")?;
        let r = request.into_inner();
        if r.page_size < 0 {
            return Err(Status::invalid_argument("page_size: must be 0..1000"));
        }
        let (accounts, next_page_token) = self
            .registry
            .list(
                Some(&r.connector_type),
                &r.query,
                r.page_size as usize,
                &r.page_token,
            )
            .await
            .map_err(status)?;
        Ok(Response::new(v1::ListAccountsResponse {
            accounts: accounts.into_iter().map(to_proto).collect(),
            next_page_token,
        }))
    }

    async fn delete_account(
        &self,
        request: Request<v1::DeleteAccountRequest>,
    ) -> Result<Response<v1::DeleteAccountResponse>, Status> {
        require(&request, &[Role::Admin], "delete accounts")?;
        let r = request.get_ref();
        self.registry
            .delete(&r.id, r.version)
            .await
            .map_err(status)?;
        Ok(Response::new(v1::DeleteAccountResponse {}))
    }

    async fn list_connector_types(
        &self,
        request: Request<v1::ListConnectorTypesRequest>,
    ) -> Result<Response<v1::ListConnectorTypesResponse>, Status> {
        require(&request, READERS, "list connector types")?;
        let schema = |v: &serde_json::Value| v.as_object().map(json_to_struct);
        let connector_types = self
            .registry
            .connector_types()
            .map(|(spec, enabled)| v1::ConnectorType {
                id: spec.id.to_owned(),
                name: spec.name.to_owned(),
                worker: spec.worker.binary().to_owned(),
                enabled,
                config_schema: schema(&spec.config_schema),
                secrets_schema: schema(&spec.secrets_schema),
                params_schema: schema(&spec.params_schema),
                secret_fields: spec
                    .secret_fields()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            })
            .collect();
        Ok(Response::new(v1::ListConnectorTypesResponse {
            connector_types,
        }))
    }

    async fn resolve_account(
        &self,
        request: Request<v1::ResolveAccountRequest>,
    ) -> Result<Response<v1::Account>, Status> {
        require(
            &request,
            &[Role::Service],
            "resolve accounts with their secrets",
        )?;
        let resolved = self
            .registry
            .resolve(&request.get_ref().id)
            .await
            .map_err(status)?;
        let mut account = to_proto(resolved.view);
        account.secrets = Some(json_to_struct(&resolved.secrets.0));
        Ok(Response::new(account))
    }
}
