//! Herald's contract: the types generated from `proto/herald/v1`, plus the
//! pieces every service shares with them: conversion between
//! `google.protobuf.Struct` and JSON, and the one mapping from domain errors
//! to `tonic::Status`.

pub mod alert;
pub mod auth;
pub mod codec;
pub mod json;
pub mod status;

#[allow(clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("herald.v1");
    include!(concat!(env!("OUT_DIR"), "/servers/herald.v1.rs"));

    /// The encoded descriptor set of every Herald proto file, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("herald_descriptor");
}

/// Why building server reflection from the compiled-in descriptor sets
/// cannot fail at run time: a bad set fails the reflection tests.
pub const DESCRIPTORS_VALID: &str = "the compiled-in descriptor sets are valid";
