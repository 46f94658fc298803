//! One inventory over several accounts (docs/DESIGN.md, "Accounts"): every account is listed at
//! once, each with its own client (so its own limiters, one per region, since the service
//! throttles per account and region) and its own regions, and its hosts carry `account_alias` and
//! `account_id`. Without `accounts`, the run is the one-account run it always was.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};

use crate::api::client::Client;
use crate::config::{Account, Env, Settings};
use crate::credentials::{self, AccountPlan, Plan};
use crate::diag;
use crate::error::{Error, Result};
use crate::fetch::{self, Listing};
use crate::hostvars::{AccountVars, HostvarOptions, Instance, MakeShape};
use crate::info;

/// Where a run's credentials come from: the chain, or one plan per account.
#[derive(Debug)]
pub enum Source {
    One(Plan),
    Accounts(Vec<AccountPlan>),
}

impl Source {
    /// Decided without any network call, so that a warm cache answers with no STS call.
    pub fn of(settings: &Settings, env: &Env) -> Result<Source> {
        match &settings.accounts {
            None => credentials::plan(settings, env).map(Source::One),
            Some(accounts) => {
                credentials::account_plans(settings, env, accounts).map(Source::Accounts)
            }
        }
    }

    /// The credential part of the cache key: the chain's identity, or each account's alias,
    /// identity (role ARN, profile key id, key id; never a secret) and regions.
    pub fn identity(&self, settings: &Settings) -> String {
        match self {
            Source::One(plan) => plan.identity(),
            Source::Accounts(plans) => plans
                .iter()
                .zip(settings.accounts.iter().flatten())
                .map(|(p, a)| {
                    format!(
                        "account:{}={}/{:?}/{:?}",
                        p.alias,
                        p.identity(),
                        a.regions,
                        a.regions_exclude
                    )
                })
                .collect::<Vec<_>>()
                .join(";"),
        }
    }

    /// For `-v`.
    pub fn describe(&self) -> String {
        match self {
            Source::One(plan) => plan.source(),
            Source::Accounts(plans) => plans
                .iter()
                .map(|p| format!("account '{}': {}", p.alias, p.source()))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// What listing the accounts gave.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Instances listed in the accounts that succeeded.
    pub instances: usize,
    /// Accounts left out under `skip_failed_accounts`, with why.
    pub failed: Vec<(String, String)>,
}

/// An account's settings: the top level with its own `regions` and `regions_exclude`.
fn settings_of(settings: &Settings, account: &Account) -> Settings {
    let mut s = settings.clone();
    if let Some(r) = &account.regions {
        s.regions = r.clone();
    }
    if let Some(x) = &account.regions_exclude {
        s.regions_exclude = x.clone();
    }
    s
}

/// What an account's listing kept back (nothing when its hosts went straight to the sink),
/// what it did, and the account id.
type Listed = (Vec<Instance>, Listing, String);

/// Makes the constructed step's maker for an account's settings (`inventory::Shapers`).
pub type Shaping<'a> = &'a dyn Fn(&Settings) -> Arc<dyn MakeShape>;

/// Lists every account at once. The first failure fails the run (naming the account), so hosts
/// go to `sink` as their pages arrive, as in a one-account run, and are named and grouped
/// while other pages are on the way. Under `skip_failed_accounts`, an account's hosts wait
/// until the whole account is listed, so one that fails half-way leaves nothing behind; each
/// failed account is then one warning, and the run fails only when every account failed (with
/// the first failure, and no warning).
pub async fn fetch(
    plans: Vec<AccountPlan>,
    settings: &Settings,
    home_region: &str,
    shaping: Shaping<'_>,
    sink: &mut dyn FnMut(Instance),
) -> Result<Fetched> {
    let per_account: Vec<Settings> = settings
        .accounts
        .iter()
        .flatten()
        .map(|a| settings_of(settings, a))
        .collect();
    // The accounts' futures run on this thread, in turn: a borrow of the sink never spans an
    // await, so they can share it.
    let sink = RefCell::new(sink);
    let stream = (!settings.skip_failed_accounts).then_some(&sink);
    // The accounts' own requests run as tasks of the runtime; this only waits for the next
    // account to finish.
    let mut pending: FuturesUnordered<_> = plans
        .into_iter()
        .zip(&per_account)
        .map(|(plan, s)| async move {
            let listed = list(&plan, s, home_region, shaping(s), stream).await;
            (plan.alias, listed)
        })
        .collect();
    let accounts = pending.len();
    let mut fetched = Fetched::default();
    let mut first_error = None;
    while let Some((alias, listed)) = pending.next().await {
        match listed {
            Ok((instances, l, id)) => {
                info!(
                    1,
                    "account '{alias}' ({id}): {} in {}, {}, {} requests ({} retries, {} throttled, at most {} in flight) in {} ms",
                    crate::diag::count(l.instances as u64, "instance"),
                    crate::diag::count(l.regions as u64, "region"),
                    crate::diag::count(l.pages, "page"),
                    l.stats.requests,
                    l.stats.retries,
                    l.stats.throttled,
                    l.max_in_flight,
                    l.elapsed.as_millis()
                );
                for (region, waited, holds) in &l.waits {
                    info!(
                        1,
                        "account '{alias}': region {region}: waited {} ms for throttled windows ({})",
                        waited.as_millis(),
                        crate::diag::count(*holds as u64, "hold")
                    );
                }
                fetched.instances += l.instances;
                let mut sink = sink.borrow_mut();
                for inst in instances {
                    sink(inst);
                }
            }
            Err(e) if settings.skip_failed_accounts => {
                fetched.failed.push((alias.clone(), e.to_string()));
                first_error.get_or_insert(Error::Account {
                    alias,
                    source: Box::new(e),
                });
            }
            // Dropping the other accounts' futures aborts their requests.
            Err(e) => {
                return Err(Error::Account {
                    alias,
                    source: Box::new(e),
                })
            }
        }
    }
    match first_error {
        // Nothing to print: the run fails as a one-account run would, with one line.
        Some(e) if fetched.failed.len() == accounts => Err(e),
        _ => {
            for (alias, cause) in &fetched.failed {
                diag::warn(&format!(
                    "account '{alias}' left out: {cause} (skip_failed_accounts is set: this inventory lacks its hosts and is not cached)"
                ));
            }
            Ok(fetched)
        }
    }
}

/// One account: its keys, its id, its regions, every page. The account id comes from the role
/// ARN, or else from GetCallerIdentity, asked while DescribeRegions runs.
async fn list(
    plan: &AccountPlan,
    s: &Settings,
    home_region: &str,
    shaping: Arc<dyn MakeShape>,
    stream: Option<&RefCell<&mut dyn FnMut(Instance)>>,
) -> Result<Listed> {
    let started = Instant::now();
    let creds = plan.credentials().await?;
    let client = Client::new(creds, s.timeout, s.max_concurrency, s.max_retries)?
        .with_throttle(s.throttle_window, s.throttle_wait);
    let (id, targets) = match plan.known_account_id() {
        Some(id) => (id, fetch::targets(&client, s, home_region).await?),
        None => {
            let (id, targets) = tokio::join!(
                credentials::caller_account_id(&client, &s.sts_endpoint),
                fetch::targets(&client, s, home_region)
            );
            (id?, targets?)
        }
    };
    info!(
        1,
        "account '{}' ({id}): regions {}",
        plan.alias,
        targets
            .iter()
            .map(|t| t.region.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut opts = HostvarOptions::from_settings(s);
    opts.account = Some(AccountVars {
        alias: plan.alias.clone(),
        id: id.clone(),
    });
    let mut found = Vec::new();
    let mut listing = fetch::list(
        client,
        s,
        targets,
        opts,
        Some(shaping),
        &mut |i| match stream {
            Some(sink) => (sink.borrow_mut())(i),
            None => found.push(i),
        },
    )
    .await?;
    listing.elapsed = started.elapsed();
    Ok((found, listing, id))
}
