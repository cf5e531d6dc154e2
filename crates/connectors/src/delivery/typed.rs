//! An account's `config` and `secrets` and an action's `params` read into
//! the connector's own types (the ones its schemas are derived from), a
//! problem being the attempt's permanent outcome naming the field.

use herald_catalog::typed::read;
use herald_proto::v1::ErrorKind;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::delivery::Outcome;

pub fn params<T: DeserializeOwned>(params: &Map<String, Value>) -> Result<T, Outcome> {
    read(params, "").map_err(|v| Outcome::permanent(ErrorKind::InvalidParams, v.to_string()))
}

pub fn config<T: DeserializeOwned>(config: &Map<String, Value>) -> Result<T, Outcome> {
    read(config, "config").map_err(|v| Outcome::permanent(ErrorKind::InvalidConfig, v.to_string()))
}

pub fn secrets<T: DeserializeOwned>(secrets: &Map<String, Value>) -> Result<T, Outcome> {
    read(secrets, "secrets")
        .map_err(|v| Outcome::permanent(ErrorKind::InvalidConfig, v.to_string()))
}
