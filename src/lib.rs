//! alicloud_inventory: the Ansible dynamic inventory for Alibaba Cloud ECS.
//!
//! One directory or file per stage, in the order the data flows (docs/DESIGN.md, "Data flow"):
//! arguments ([`cli`]) → configuration ([`config`]: ini or YAML, and the environment) →
//! credentials ([`credentials`]) → the signed API client ([`api`]) → fetching and decoding
//! pages ([`fetch`]) → hostvars ([`hostvars`]) → constructed groups and variables
//! ([`constructed`]) → the inventory's names and groups ([`inventory`]) → the cache ([`cache`])
//! → output ([`output`]: the list, `--pretty`, `--graph`). [`run`] wires them together for the
//! binary, and [`check`] is `--check`.
//!
//! A module imports only the modules declared before it below, which is the data flow's order
//! but for three libraries a stage uses before its turn: the client's credential types ([`api`])
//! and the constructed engine ([`constructed`], which compiles expressions as the configuration
//! is read) come before [`config`], [`hostvars`] before [`fetch`] (which decodes pages into
//! hostvars), and [`output`] before [`cache`] (which stores what `output` writes). The leaves: [`json`] (the page reader, key
//! table and writer), [`footmark`] (footmark's key rules), [`service_codes`] (what the service's error codes mean), [`error`]
//! (errors as types, exit codes), [`diag`] (stderr) and [`process`]. Where a stage must call a later one (the page
//! decoder runs the constructed step), it defines a trait that the later stage implements and
//! [`run`] passes in (`hostvars::MakeShape`). `tests/integration/layout.rs` checks both rules.

pub mod service_codes;
pub mod error;
pub mod diag;
pub mod process;
pub mod footmark;
pub mod json;

pub mod cli;
pub mod api;
pub mod constructed;
pub mod config;
pub mod credentials;
pub mod hostvars;
pub mod fetch;
pub mod inventory;
pub mod output;
pub mod cache;

pub mod check;
pub mod run;
