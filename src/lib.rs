//! alicloud_inventory: the Ansible dynamic inventory for Alibaba Cloud ECS.
//!
//! The modules follow the data flow: arguments ([`cli`]) → settings ([`settings`], read by
//! [`ini`]) → credentials ([`credentials`]) → signed client ([`client`], [`sign`]) → instances
//! ([`fetch`], [`instance`]) → inventory ([`inventory`]) → cache ([`cache`]) → output
//! ([`output`]). [`run`] wires them together for the binary.

pub mod sign;
