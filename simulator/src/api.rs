//! What the simulator takes from the inventory: the API versions it accepts and the request
//! signing it checks, so both always agree. The only module that names the inventory crate.

pub use alicloud_inventory::api::client::{ECS_VERSION, STS_VERSION};
pub use alicloud_inventory::api::sign;
