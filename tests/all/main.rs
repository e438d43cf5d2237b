//! End-to-end tests through the real guest engine and the real CLI.

mod auth0;
mod authing;
mod cli;
mod cluster;
mod console;
mod console_api;
mod contract;
mod fetch;
mod function_api;
mod hardening;
mod import_auth0;
mod isolation;
mod lazy_input;
mod limits;
mod pipeline;
#[allow(
    clippy::duplicate_mod,
    reason = "the same tests, compiled a second time against PostgreSQL"
)]
mod platform;
#[allow(
    clippy::duplicate_mod,
    reason = "the same tests, compiled a second time against PostgreSQL"
)]
#[path = "platform.rs"]
mod platform_postgres;
mod portable;
mod server;
mod server_limits;
mod templates;
