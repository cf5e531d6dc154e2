//! The registry over real gRPC, on SQLite in a temp dir and on PostgreSQL
//! when it answers, with a real nats-server where announcements matter.

mod helpers;

mod announce;
mod dead_letters;
mod execute;
mod grpc;
mod hidden_config;
mod history;
mod hostile;
mod kibana_examples;
mod openapi;
mod preconfigured;
mod rest;
mod routes;
mod secrets;
mod signals;
mod storage;
mod tls;
