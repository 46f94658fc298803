//! alicloud_inventory: the Ansible dynamic inventory for Alibaba Cloud ECS.
//!
//! The modules follow the data flow: arguments ([`cli`]) → settings ([`settings`], read by
//! [`ini`]) → credentials ([`credentials`]) → signed client ([`client`], [`sign`], [`limiter`])
//! → instances ([`fetch`], [`instance`]) → inventory ([`inventory`]) → cache ([`cache`]) →
//! output ([`output`]). [`run`] wires them together for the binary.

pub mod cache;
pub mod cli;
pub mod client;
pub mod constructed;
pub mod credentials;
pub mod diag;
pub mod error;
pub mod exit_codes;
pub mod fetch;
pub mod ini;
pub mod instance;
pub mod inventory;
pub mod limiter;
pub mod output;
pub mod run;
pub mod settings;
pub mod sign;
