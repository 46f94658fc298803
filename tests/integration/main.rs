//! The integration tests, one binary with a module per area; each runs the real binaries
//! (`alicloud_inventory`, and `ecs-simulator` on a free loopback port) through `harness`.
//! Plain `cargo test` at the workspace root builds both binaries first.

mod harness;

mod accounts;
mod claims;
mod constructed;
mod credentials;
mod faults;
mod fuzz_regressions;
mod hardening;
mod inventory;
mod layout;
mod parity;
mod plugin_parity;
mod plugin_yaml;
mod security;
mod signing;
mod simulator;
mod throttle_windows;
mod tools;
