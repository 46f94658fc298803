//! alicloud_inventory: the Ansible dynamic inventory for Alibaba Cloud ECS.
//!
//! The modules follow the data flow: arguments ([`cli`]) → settings ([`settings`], read by
//! [`ini`]) → credentials ([`credentials`], which yield [`keys`]) → signed client ([`client`],
//! [`sign`], [`limiter`], [`http`]) → instances ([`fetch`], [`instance`]) → inventory
//! ([`inventory`]) → cache ([`cache`]) → output ([`output`]). [`run`] wires them together for
//! the binary. Beside the flow: [`error`] and [`exit_codes`] (what a failure prints and returns),
//! [`codes`] (what the service's error codes mean) and [`diag`] (stderr).
//!
//! No module imports one that imports it back: the keys the client signs with are a leaf of
//! their own, so the credential chain can use the client (for STS) without the client knowing
//! the chain.

pub mod accounts;
pub mod cache;
pub mod check;
pub mod cli;
pub mod client;
pub mod codes;
pub mod constructed;
pub mod credentials;
pub mod diag;
pub mod error;
pub mod exit_codes;
pub mod fetch;
pub mod footmark;
pub mod graph;
pub mod http;
pub mod ini;
pub mod instance;
pub mod inventory;
pub mod json;
pub mod keys;
pub mod limiter;
pub mod output;
pub mod process;
pub mod run;
pub mod settings;
pub mod sign;
pub mod tree;
pub mod view;
