//! The three exit statuses (docs/DESIGN.md, "Command line"). Ansible only tells zero from
//! non-zero; operators and cron wrappers tell configuration mistakes (2) from runtime failures (1).

pub const SUCCESS: i32 = 0;
/// API, network, cache or file-system failure: retrying later may help.
pub const RUNTIME: i32 = 1;
/// Bad usage or bad configuration: retrying will not help until the operator fixes something.
pub const CONFIG: i32 = 2;
