//! The runtime against a real nats-server, a real registry and a vendor on
//! loopback (wiremock), with a small webhook-style connector defined here.

mod harness;

mod admission;
mod delivery;
mod faults;
mod follow;
mod replicas;
