//! What the test hooks report: counters (`/_sim/stats`), the request log (`/_sim/requests`)
//! and the requests in flight, overall and per served account.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use crate::params::Params;
use crate::reply::Reply;
use crate::sync::lock;

#[derive(Default)]
struct Stats {
    requests: u64,
    by_action: BTreeMap<String, u64>,
    by_region: BTreeMap<String, u64>,
    by_account: BTreeMap<String, AccountStats>,
    throttled: u64,
    /// Throttled answers to requests naming a RegionId, whatever throttled them.
    throttled_by_region: BTreeMap<String, u64>,
    errors: u64,
    max_in_flight: usize,
    metadata: u64,
    /// Bytes of the bodies of the successful answers: what a client decodes.
    ok_body_bytes: u64,
}

/// The requests of one served account.
#[derive(Default, serde::Serialize)]
struct AccountStats {
    requests: u64,
    throttled: u64,
    max_in_flight: usize,
}

struct LogEntry {
    id: u64,
    method: String,
    /// The names of the parameters in the URL's query string (values are not kept), so tests
    /// can check that no signature or token travels in a URL.
    query_keys: Vec<String>,
    action: Option<String>,
    region: Option<String>,
    params: Map<String, Value>,
    status: Option<u16>,
}

#[derive(Default)]
struct Log {
    next_id: u64,
    entries: Vec<LogEntry>,
}

#[derive(Default)]
pub struct Recorder {
    stats: Mutex<Stats>,
    log: Mutex<Log>,
    in_flight: AtomicUsize,
    /// Requests in flight per served account.
    account_in_flight: Mutex<HashMap<String, usize>>,
}

/// A request counted in flight; counted out however it ends (a hung one is dropped).
pub struct InFlight<'a> {
    rec: &'a Recorder,
    account: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.rec.in_flight.fetch_sub(1, Ordering::SeqCst);
        if let Some(n) = lock(&self.rec.account_in_flight).get_mut(&self.account) {
            *n = n.saturating_sub(1);
        }
    }
}

/// The counts in flight before a request came in: its account's and all.
pub struct Before {
    pub account: usize,
    pub all: usize,
}

impl Recorder {
    /// Counts a request of `account` in flight until the guard drops.
    pub fn enter(&self, account: &str) -> (InFlight<'_>, Before) {
        let in_account = {
            let mut counts = lock(&self.account_in_flight);
            let n = counts.entry(account.to_owned()).or_default();
            *n += 1;
            *n - 1
        };
        // Counted after the account's count: whoever sees a request in `in_flight` (the
        // stats) also finds it in its account's count, which throttling reads.
        let all = self.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight {
            rec: self,
            account: account.to_owned(),
        };
        (
            guard,
            Before {
                account: in_account,
                all,
            },
        )
    }

    /// Records the arrival of an API request; returns its log id.
    pub fn arrive(
        &self,
        method: &str,
        query_keys: Vec<String>,
        params: &Params,
        account: &str,
        before: &Before,
    ) -> u64 {
        let action = params.get("Action").map(str::to_owned);
        let region = params.get("RegionId").map(str::to_owned);
        {
            let mut st = lock(&self.stats);
            st.requests += 1;
            *st.by_action
                .entry(action.clone().unwrap_or_default())
                .or_default() += 1;
            if let Some(r) = &region {
                *st.by_region.entry(r.clone()).or_default() += 1;
            }
            st.max_in_flight = st.max_in_flight.max(before.all + 1);
            let a = st.by_account.entry(account.to_owned()).or_default();
            a.requests += 1;
            a.max_in_flight = a.max_in_flight.max(before.account + 1);
        }
        let logged: Map<String, Value> = params
            .iter()
            .filter(|(k, _)| !matches!(*k, "Signature" | "SecurityToken"))
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        let mut log = lock(&self.log);
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push(LogEntry {
            id,
            method: method.to_owned(),
            query_keys,
            action,
            region,
            params: logged,
            status: None,
        });
        id
    }

    pub fn finish(&self, id: u64, reply: &Reply, account: &str, region: Option<&str>) {
        {
            let mut st = lock(&self.stats);
            if reply.status >= 400 {
                st.errors += 1;
            } else {
                st.ok_body_bytes += reply.body.len() as u64;
            }
            if reply.throttled {
                st.throttled += 1;
                st.by_account
                    .entry(account.to_owned())
                    .or_default()
                    .throttled += 1;
                if let Some(r) = region {
                    *st.throttled_by_region.entry(r.to_owned()).or_default() += 1;
                }
            }
        }
        let mut log = lock(&self.log);
        if let Ok(i) = log.entries.binary_search_by_key(&id, |e| e.id) {
            log.entries[i].status = Some(reply.status);
        }
    }

    /// A request to the metadata service.
    pub fn metadata(&self) {
        lock(&self.stats).metadata += 1;
    }

    /// Forgets the counters and the log (not what is in flight).
    pub fn reset(&self) {
        *lock(&self.stats) = Stats::default();
        lock(&self.log).entries.clear();
    }

    pub fn stats_json(&self) -> Value {
        let st = lock(&self.stats);
        json!({
            "requests": st.requests,
            "by_action": st.by_action,
            "by_region": st.by_region,
            "by_account": st.by_account,
            "throttled": st.throttled,
            "throttled_by_region": st.throttled_by_region,
            "errors": st.errors,
            "max_in_flight": st.max_in_flight,
            "in_flight": self.in_flight.load(Ordering::SeqCst),
            "metadata_requests": st.metadata,
            "ok_body_bytes": st.ok_body_bytes,
        })
    }

    pub fn requests_json(&self) -> Value {
        let log = lock(&self.log);
        let entries: Vec<Value> = log
            .entries
            .iter()
            .map(|e| {
                json!({
                    "method": e.method,
                    "query_keys": e.query_keys,
                    "action": e.action,
                    "region": e.region,
                    "params": e.params,
                    "status": e.status,
                })
            })
            .collect();
        Value::Array(entries)
    }
}
