//! `ecs-simulator`: a local stand-in for the Alibaba Cloud RPC API (ECS 2014-05-26,
//! STS 2015-04-01) and the ECS metadata service, all on one loopback port, with switchable
//! faults. It serves the project's tests, benchmarks and demo; it is never part of the
//! inventory binary.
//!
//! Routes (one port):
//! - `GET /?...` or `POST /` (form body): the RPC API. ECS `DescribeRegions` and
//!   `DescribeInstances` (Version 2014-05-26) and STS `AssumeRole` and `GetCallerIdentity`
//!   (Version 2015-04-01).
//!
//! Accounts: `--fleet` and the `--access-key` keys are the default account (`--account-id`).
//! `--account ID:FLEET` adds an account with a fleet of its own; its permanent keys are
//! `--account-key ID:KEY:SECRET`, and a role `acs:ram::ID:role/NAME` given with `--role-arn`
//! leads into it. A role may name the accounts it trusts (`--role-arn ARN=ID,ID`); any other
//! caller gets `NoPermission`. A caller sees its own account's fleet; a role in an account the
//! simulator does not serve sees the default fleet. `--throttle-above-inflight` counts the
//! requests in flight per account, as the service throttles per account.
//! - `GET /latest/meta-data/ram/security-credentials/[ROLE]`, `PUT /latest/api/token`: the
//!   metadata service (the session token is handed out but never required).
//! - `/_sim/*`: test hooks, never counted as API requests: `POST /_sim/mint-sts?ttl=S`,
//!   `GET /_sim/stats` (counts, `throttled_by_region` among them), `GET /_sim/requests`
//!   (method, the names of the URL's query parameters, action, region, parameters without
//!   Signature and SecurityToken, status), `POST /_sim/reset` (quotas too).
//!
//! Checks in order: missing common parameter (`MissingParameter`), SignatureMethod and
//! SignatureVersion (`InvalidParameter`), access key (`InvalidAccessKeyId.NotFound`, 404),
//! security token (`InvalidSecurityToken.Missing`, `.MismatchWithAccessKey`, `.Expired`),
//! timestamp (`InvalidTimeStamp.Format`, `.Expired`), signature (`SignatureDoesNotMatch`),
//! nonce (`SignatureNonceUsed`); then Action (`InvalidAction.NotFound`, 404), Version
//! (`InvalidVersion`), Format (anything but JSON is `InvalidParameter`), then the quota of the
//! (account, RegionId, Action) in the current window (`--quota`: `Throttling.User`), then the
//! action's parameters (RegionId, paging, filters), then the fault, then the region's existence.
//! `--throttle-above-inflight` answers at once, before the latency; `--throttle-first` answers
//! after it. Both come before authentication. Every answer has a `Date` header (IMF-fixdate,
//! simulator clock).

// Imports point one way: server → sim → {auth, throttle, stats, ecs, config} → {sts, faults}
// → {fleet, reply} → leaves (api, clock, error, params, sync); demo → generate.
mod api;
mod auth;
mod clock;
mod config;
mod demo;
mod ecs;
mod error;
mod faults;
mod fleet;
mod generate;
mod params;
mod reply;
mod server;
mod sim;
mod stats;
mod sts;
mod sync;
mod throttle;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::faults::Fault;

#[derive(Parser)]
#[command(
    name = "ecs-simulator",
    version,
    about = "Alibaba Cloud ECS/STS API simulator for tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a fleet over HTTP until SIGTERM/SIGINT.
    Serve(Box<ServeArgs>),
    /// Write a generated fleet JSON to stdout (deterministic for the same arguments).
    Generate(GenerateArgs),
    /// Run alicloud_inventory (built beside this binary) against a generated fleet and show its
    /// group tree (--graph) and what it took; arguments after -- go to the inventory instead
    /// (-- --list, -- --list --pretty, -- --host NAME).
    Demo(DemoArgs),
}

#[derive(Args)]
struct DemoArgs {
    /// Number of regions.
    #[arg(long, default_value_t = 3)]
    regions: u32,
    /// Number of instances.
    #[arg(long, default_value_t = 24)]
    instances: usize,
    /// Arguments for alicloud_inventory, e.g. -- --host NAME.
    #[arg(last = true)]
    inventory_args: Vec<String>,
}

#[derive(Args)]
struct ServeArgs {
    /// Fleet file: {"regions": [...], "instances": [...]}.
    #[arg(long)]
    fleet: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// An accepted permanent key (repeatable). Default: testid:testsecret.
    #[arg(long = "access-key", value_name = "ID:SECRET", value_parser = parse_key)]
    access_keys: Vec<(String, String)>,
    /// Delay of every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// The first K API requests answer Throttling.User.
    #[arg(long, default_value_t = 0, value_name = "K")]
    throttle_first: u64,
    /// A request arriving while N are in flight answers Throttling.User at once.
    #[arg(long, value_name = "N")]
    throttle_above_inflight: Option<usize>,
    /// Calls served per account, region and action in each quota window; the window's later
    /// calls answer Throttling.User, as the service's per-minute quotas do. Default: unlimited.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    quota: Option<u64>,
    /// Length of a quota window in milliseconds, windows aligned to the epoch (60000: the
    /// minutes of the simulator clock, as the `Date` header gives it).
    #[arg(long, default_value_t = 60_000, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    quota_window_ms: u64,
    /// REGION:KIND (REGION may be `*`, and ACCOUNT_ID/REGION limits it to one account); KIND:
    /// forbidden, unavailable, internal, throttle, hang, truncated, wrong-shape, error-200,
    /// shifting, flaky, churning (one more instance before every request), huge-total
    /// (TotalCount 2000001). Repeatable.
    #[arg(long = "fault", value_name = "REGION:KIND", value_parser = parse_fault)]
    faults: Vec<(String, Fault)>,
    /// The simulator clock is now + N seconds for timestamp and expiry checks.
    #[arg(
        long,
        default_value_t = 0,
        allow_negative_numbers = true,
        value_name = "N"
    )]
    clock_skew_secs: i64,
    /// A role AssumeRole may assume (repeatable); `=ID,ID` limits it to callers of those
    /// accounts (its trust policy).
    #[arg(long = "role-arn", value_name = "ARN[=ID,...]", value_parser = parse_role)]
    role_arns: Vec<(String, Option<Vec<String>>)>,
    /// The id of the default account: the one of --fleet and --access-key.
    #[arg(long, default_value = config::DEFAULT_ACCOUNT_ID, value_name = "ID", value_parser = parse_account_id)]
    account_id: String,
    /// Another account and its fleet file (repeatable).
    #[arg(long = "account", value_name = "ID:FLEET", value_parser = parse_account)]
    accounts: Vec<(String, PathBuf)>,
    /// A permanent key of another account (repeatable).
    #[arg(long = "account-key", value_name = "ID:KEY:SECRET", value_parser = parse_account_key)]
    account_keys: Vec<(String, String, String)>,
    /// The RAM role name the metadata service hands out credentials for.
    #[arg(long, value_name = "NAME")]
    ecs_role: Option<String>,
    /// Also write the URL to this file (atomically) once listening.
    #[arg(long, value_name = "PATH")]
    port_file: Option<PathBuf>,
    /// Log every API request on stderr.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Args)]
struct GenerateArgs {
    /// Number of regions (real ids first, then xx-region-N).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    regions: u32,
    /// Number of instances.
    #[arg(long, default_value_t = 100)]
    instances: usize,
    /// Fraction of the instances in the first region (0..=1); default: spread evenly.
    #[arg(long, value_parser = parse_fraction)]
    skew: Option<f64>,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Every address is a distinct 127.x.y.z and every instance has a public or EIP address.
    #[arg(long)]
    loopback: bool,
    /// Fraction of Stopped instances.
    #[arg(long, default_value_t = 0.1, value_parser = parse_fraction)]
    stopped_fraction: f64,
    /// Start every address range N addresses later (fleets of several accounts generated with
    /// offsets at least their instance count apart share no address).
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = clap::value_parser!(u64).range(..=1_000_000_000))]
    address_offset: u64,
}

fn parse_key(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok((id.to_owned(), secret.to_owned()))
        }
        _ => Err("expected ID:SECRET".into()),
    }
}

fn parse_role(s: &str) -> Result<(String, Option<Vec<String>>), String> {
    let (arn, trusted) = match s.split_once('=') {
        Some((arn, ids)) => {
            let ids: Vec<String> = ids
                .split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .map(str::to_owned)
                .collect();
            if ids.is_empty() {
                return Err("no account after '=' (ARN=ID,ID)".into());
            }
            (arn, Some(ids))
        }
        None => (s, None),
    };
    if arn.is_empty() {
        return Err("the role ARN is empty".into());
    }
    Ok((arn.to_owned(), trusted))
}

fn parse_account_id(s: &str) -> Result<String, String> {
    if s.is_empty() || s.contains([':', '/', ',', '=']) {
        return Err("an account id is non-empty, without : / , =".into());
    }
    Ok(s.to_owned())
}

fn parse_account(s: &str) -> Result<(String, PathBuf), String> {
    let (id, fleet) = s.split_once(':').ok_or("expected ID:FLEET")?;
    if fleet.is_empty() {
        return Err("the fleet file is empty".into());
    }
    Ok((parse_account_id(id)?, PathBuf::from(fleet)))
}

fn parse_account_key(s: &str) -> Result<(String, String, String), String> {
    let (id, key) = s.split_once(':').ok_or("expected ID:KEY:SECRET")?;
    let (key, secret) = parse_key(key).map_err(|_| "expected ID:KEY:SECRET".to_string())?;
    Ok((parse_account_id(id)?, key, secret))
}

fn parse_fault(s: &str) -> Result<(String, Fault), String> {
    let (region, kind) = s.split_once(':').ok_or("expected REGION:KIND")?;
    if region.is_empty() {
        return Err("the region is empty (use * for every region)".into());
    }
    Fault::NAMES
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, f)| (region.to_owned(), *f))
        .ok_or_else(|| {
            let names: Vec<&str> = Fault::NAMES.iter().map(|(n, _)| *n).collect();
            format!("unknown fault {kind:?}; one of: {}", names.join(", "))
        })
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err("expected a number from 0 to 1".into()),
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let fleet = fleet::Fleet::load(&args.fleet)?;
    let mut keys: HashMap<String, String> = args.access_keys.into_iter().collect();
    if keys.is_empty() {
        keys.insert("testid".into(), "testsecret".into());
    }
    let mut fleets = HashMap::new();
    for (id, path) in &args.accounts {
        if *id == args.account_id || fleets.contains_key(id) {
            return Err(format!("account {id} is given twice"));
        }
        fleets.insert(id.clone(), fleet::Fleet::load(path)?);
    }
    let mut key_accounts = HashMap::new();
    for (account, key, secret) in args.account_keys {
        if !fleets.contains_key(&account) {
            return Err(format!(
                "--account-key names account {account}, which no --account serves"
            ));
        }
        if keys.insert(key.clone(), secret).is_some() || key_accounts.contains_key(&key) {
            return Err(format!("access key {key} is given twice"));
        }
        key_accounts.insert(key, account);
    }
    let cfg = Config {
        listen: args.listen,
        keys,
        latency: Duration::from_millis(args.latency_ms),
        throttle_first: args.throttle_first,
        throttle_above_inflight: args.throttle_above_inflight,
        quota: args.quota,
        quota_window_ms: args.quota_window_ms,
        faults: args.faults,
        clock_skew: args.clock_skew_secs,
        role_arns: args.role_arns,
        account_id: args.account_id,
        key_accounts,
        ecs_role: args.ecs_role,
        port_file: args.port_file,
        verbose: args.verbose,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let result = rt.block_on(server::run(cfg, fleet, fleets));
    // Hung requests are abandoned, not awaited.
    rt.shutdown_background();
    result
}

fn generate(args: GenerateArgs) -> Result<(), String> {
    let opts = generate::Options {
        regions: args.regions as usize,
        instances: args.instances,
        skew: args.skew,
        seed: args.seed,
        loopback: args.loopback,
        stopped_fraction: args.stopped_fraction,
        address_offset: args.address_offset,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    generate::write_fleet(&opts, &mut out).map_err(|e| format!("cannot write the fleet: {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve(*a),
        Command::Generate(a) => generate(a),
        Command::Demo(a) => match demo::run(a.regions as usize, a.instances, a.inventory_args) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ecs-simulator: error: {e}");
            ExitCode::FAILURE
        }
    }
}
