//! What `serve` was told on the command line.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::faults::Fault;

/// The id of the default account (the one of `--fleet` and `--access-key`).
pub const DEFAULT_ACCOUNT_ID: &str = "1000000000000001";

pub struct Config {
    pub listen: SocketAddr,
    pub keys: HashMap<String, String>,
    pub latency: Duration,
    pub throttle_first: u64,
    pub throttle_above_inflight: Option<usize>,
    /// Calls served per (account, region, action) per quota window (`None`: unlimited).
    pub quota: Option<u64>,
    pub quota_window_ms: u64,
    pub faults: Vec<(String, Fault)>,
    pub clock_skew: i64,
    /// Roles AssumeRole may assume, each with the accounts it trusts (`None`: every account).
    pub role_arns: Vec<(String, Option<Vec<String>>)>,
    pub account_id: String,
    /// The account of each key in `keys` that is not the default account's.
    pub key_accounts: HashMap<String, String>,
    pub ecs_role: Option<String>,
    pub port_file: Option<PathBuf>,
    pub verbose: bool,
}
