//! One API request from arrival to answer: the accounts, then throttling, authentication and
//! the action, in the service's order, with stats and the log around them.

use std::collections::HashMap;
use std::time::Duration;

use crate::api::{ECS_VERSION, STS_VERSION};
use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::Config;
use crate::ecs;
use crate::error::ApiError;
use crate::faults::Faults;
use crate::fleet::Fleet;
use crate::params::Params;
use crate::reply::{request_id, Reply};
use crate::stats::Recorder;
use crate::sts::{self, Sts};
use crate::throttle::{Quota, Throttle};

pub struct Sim {
    pub clock: Clock,
    /// The default account.
    pub account_id: String,
    pub ecs_role: Option<String>,
    pub sts: Sts,
    pub stats: Recorder,
    fleet: Fleet,
    /// The other accounts' fleets, by account id.
    fleets: HashMap<String, Fleet>,
    role_arns: Vec<(String, Option<Vec<String>>)>,
    latency: Duration,
    verbose: bool,
    auth: Auth,
    faults: Faults,
    throttle: Throttle,
}

impl Sim {
    pub fn new(cfg: Config, fleet: Fleet, fleets: HashMap<String, Fleet>) -> Sim {
        let clock = Clock {
            skew: cfg.clock_skew,
        };
        Sim {
            clock,
            auth: Auth::new(cfg.keys, cfg.key_accounts, cfg.account_id.clone(), clock),
            account_id: cfg.account_id,
            ecs_role: cfg.ecs_role,
            sts: Sts::default(),
            stats: Recorder::default(),
            fleet,
            fleets,
            role_arns: cfg.role_arns,
            latency: cfg.latency,
            verbose: cfg.verbose,
            faults: Faults::new(cfg.faults),
            throttle: Throttle::new(
                cfg.throttle_first,
                cfg.throttle_above_inflight,
                cfg.quota.map(|n| Quota::new(n, cfg.quota_window_ms)),
            ),
        }
    }

    /// `/_sim/reset`: the counters, the log, the faults' state and the quotas start over.
    pub fn reset(&self) {
        self.stats.reset();
        self.faults.reset();
        self.throttle.reset();
    }

    /// The account whose fleet and limits a caller of `account` gets: its own when it is
    /// served, else the default account's.
    fn served<'a>(&'a self, account: &'a str) -> &'a str {
        if self.fleets.contains_key(account) {
            account
        } else {
            &self.account_id
        }
    }

    fn fleet_of(&self, account: &str) -> &Fleet {
        self.fleets.get(account).unwrap_or(&self.fleet)
    }

    /// One API request, start to end (stats and log around [`Sim::answer`]).
    /// The reply and its request id, which the service also sends as a header (whatever the
    /// body: a cut one too).
    pub async fn api(
        &self,
        method: &str,
        query_keys: Vec<String>,
        params: Params,
    ) -> (Reply, String) {
        let key_account = self
            .auth
            .account_of_key(&self.sts, params.get("AccessKeyId").unwrap_or_default());
        let account = self.served(&key_account).to_owned();
        let (_in_flight, before) = self.stats.enter(&account);
        let id = self
            .stats
            .arrive(method, query_keys, &params, &account, &before);
        let request_id = request_id();
        let host = if params.get("Version") == Some(STS_VERSION) {
            "sts.aliyuncs.com"
        } else {
            "ecs.aliyuncs.com"
        };
        let reply = match self
            .answer(method, &params, before.account, &request_id)
            .await
        {
            Ok(r) => r,
            Err(e) => Reply::error(&e, &request_id, host),
        };
        self.stats
            .finish(id, &reply, &account, params.get("RegionId"));
        if self.verbose {
            eprintln!(
                "ecs-simulator: {method} {} {} -> {}",
                params.get("Action").unwrap_or("-"),
                params.get("RegionId").unwrap_or("-"),
                reply.status
            );
        }
        (reply, request_id)
    }

    async fn answer(
        &self,
        method: &str,
        p: &Params,
        in_flight_before: usize,
        request_id: &str,
    ) -> Result<Reply, ApiError> {
        let arrival = self.throttle.arrive();
        self.throttle.check_in_flight(in_flight_before)?;
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        self.throttle.check_first(arrival)?;
        let caller = self.auth.authenticate(&self.sts, method, p)?;
        let action = p.get("Action").unwrap_or_default();
        let version = p.get("Version").unwrap_or_default();
        let wanted = match action {
            "DescribeRegions" | "DescribeInstances" => ECS_VERSION,
            "AssumeRole" | "GetCallerIdentity" => STS_VERSION,
            _ => {
                return Err(ApiError::new(
                    404,
                    "InvalidAction.NotFound",
                    format!(
                        "Specified api is not found, please check your url and method. ({action})"
                    ),
                ))
            }
        };
        if version != wanted {
            return Err(ApiError::new(
                400,
                "InvalidVersion",
                format!("Specified parameter Version is not valid: {action} needs {wanted}."),
            ));
        }
        if !p
            .get("Format")
            .unwrap_or_default()
            .eq_ignore_ascii_case("JSON")
        {
            return Err(ApiError::invalid_parameter(
                "Format",
                "the simulator only answers JSON",
            ));
        }
        let account = self.served(&caller.account);
        // A known, well-formed call of an operation uses its region's quota (none: "").
        let region = p.get("RegionId").unwrap_or_default();
        self.throttle
            .check_quota(account, region, action, self.clock.now_ms())?;
        let fleet = self.fleet_of(account);
        match action {
            "DescribeRegions" => {
                ecs::describe_regions(fleet, &self.faults, account, request_id).await
            }
            "DescribeInstances" => {
                ecs::describe_instances(fleet, &self.faults, account, p, request_id).await
            }
            "GetCallerIdentity" => Ok(sts::caller_identity(&caller, request_id)),
            _ => self.sts.assume_role(
                &self.role_arns,
                &self.account_id,
                self.clock,
                &caller,
                p,
                request_id,
            ),
        }
    }
}
