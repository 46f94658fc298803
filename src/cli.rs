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

    /// The alicloud.ini, or the alicloud_ecs plugin's YAML (.yml/.yaml), to read (beats
    /// ALICLOUD_INI_PATH).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Diagnostics on stderr (repeat for more): requests, retries, timings, cache hits.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The one stderr line for a command line clap refused (after `alicloud_inventory: error: `):
/// clap's first line, its tip if it has one, and the way to `--help`. `None` for `--help` and
/// `--version`, which are answers, not errors.
pub fn usage_error(e: &clap::Error) -> Option<String> {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    let text = e.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("bad arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let tips: Vec<&str> = lines.filter_map(|l| l.strip_prefix("tip: ")).collect();
    let mut line = first.to_string();
    for tip in tips {
        line.push_str("; ");
        line.push_str(tip);
    }
    line.push_str(" (see alicloud_inventory --help)");
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(args: &[&str]) -> Option<String> {
        let argv = std::iter::once("alicloud_inventory").chain(args.iter().copied());
        usage_error(&Args::try_parse_from(argv).expect_err("refused"))
    }

    #[test]
    fn usage_errors_are_one_line_and_help_is_not_an_error() {
        let line = refused(&["--lst"]).unwrap();
        assert_eq!(
            line,
            "unexpected argument '--lst' found; a similar argument exists: '--list' (see alicloud_inventory --help)"
        );
        for args in [&["--bogus"][..], &["--list", "--list"], &["--host"], &["x"]] {
            let line = refused(args).unwrap();
            assert!(!line.contains('\n') && line.ends_with("--help)"), "{line}");
        }
        assert_eq!(refused(&["--help"]), None);
        assert_eq!(refused(&["--version"]), None);
    }
}
