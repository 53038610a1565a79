//! The portal's server: configuration, start-up, middleware, background work and the command
//! line. Pages and server functions live in the `app` crate.

pub mod background;
pub mod backup;
pub mod bench_data;
pub mod bench_probes;
pub mod config;
pub mod demo;
pub mod downloads;
pub mod mail;
pub mod metrics;
pub mod middleware;
pub mod startup;
pub mod telemetry;
