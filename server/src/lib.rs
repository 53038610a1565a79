//! The portal's server: configuration, start-up, middleware, background work and the command
//! line. Pages and server functions live in the `app` crate.

// The app's views are deeply nested generic types; a release build (which does not erase them,
// as debug builds do with `--cfg erase_components`) computes their layout here, past the default
// depth.
#![recursion_limit = "256"]

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
