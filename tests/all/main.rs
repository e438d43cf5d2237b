//! End-to-end tests through the real guest engine and the real CLI.

mod authing;
mod cli;
mod console;
mod console_api;
mod contract;
mod fetch;
mod function_api;
mod hardening;
mod isolation;
mod limits;
mod pipeline;
mod platform;
mod portable;
mod server;
mod server_limits;
mod templates;
