//! End-to-end tests through the real guest engine and the real CLI.

mod cli;
mod contract;
mod isolation;
mod limits;
mod pipeline;
mod portable;
mod server;
