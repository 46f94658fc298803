//! Command-line arguments, as Ansible's script plugin and operators pass them (docs/DESIGN.md, "Command line").

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "alicloud_inventory",
    version,
    about = "Ansible dynamic inventory for Alibaba Cloud ECS",
    long_about = "Ansible dynamic inventory for Alibaba Cloud ECS.\n\n\
        Reads alicloud.ini and credentials, lists ECS instances in every configured region and \
        prints Ansible's script-inventory JSON, through a file cache."
)]
pub struct Args {
    /// Print the whole inventory (the default when no action is given).
    #[arg(long)]
    pub list: bool,

    /// Print the hostvars of one host ({} for an unknown host).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,

    /// Print the group tree as `ansible-inventory --graph [GROUP]` does, from the cache.
    #[arg(
        long,
        value_name = "GROUP",
        num_args = 0..=1,
        default_missing_value = "all",
        conflicts_with_all = ["list", "host"]
    )]
    pub graph: Option<String>,

    /// With --list or --host: indented JSON with sorted keys.
    #[arg(long, conflicts_with = "graph")]
    pub pretty: bool,

    /// Validate the configuration and credentials setup without calling the API; print a summary.
    #[arg(long, conflicts_with_all = ["list", "host", "graph", "refresh_cache", "pretty"])]
    pub check: bool,

    /// Ignore the cache, call the API and rewrite the cache.
    #[arg(long)]
    pub refresh_cache: bool,

    /// The ini file to read (beats ALICLOUD_INI_PATH).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Diagnostics on stderr (repeat for more): requests, retries, timings, cache hits.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}
