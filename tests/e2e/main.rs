//! Herald end to end: a real nats-server, the registry, ingest and the chat
//! worker (in process, or as a separate process where killing it matters),
//! and vendors as HTTP servers on loopback.

mod helpers;

mod ai;
mod alertmanager;
mod console;
mod egress;
mod email;
mod fairness;
mod history;
mod hostile_ingest;
mod incident;
mod metrics;
mod pipeline;
mod restarts;
mod smtp_tls;
mod tls;
mod traces;
