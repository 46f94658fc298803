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
//! A module imports only the modules declared before it below: the leaves first ([`json`],
//! the page reader and writer; [`footmark`], footmark's key rules; [`group_names`], the one
//! sanitizer of names; [`service_codes`];
//! [`error`], errors as types and exit codes; [`diag`], stderr; [`process`]), then the stages in
//! the data flow's order, but for three libraries a stage uses before its turn: [`api`] (the
//! client's credential types) and [`constructed`] (expressions are compiled as the
//! configuration is read) come before [`config`], [`hostvars`] before [`fetch`] (which decodes
//! pages into hostvars), and [`output`] before [`cache`] (which stores what `output` writes).
//! Where a stage calls a later one (the page decoder runs the constructed step), it defines a
//! trait the later stage implements and [`run`] passes in (`hostvars::MakeShape`).
//! `tests/integration/layout.rs` checks the order.

pub mod service_codes;
pub mod error;
pub mod diag;
pub mod process;
pub mod footmark;
pub mod group_names;
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
