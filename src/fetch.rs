//! Lists every instance of every region concurrently (docs/DESIGN.md, "Fetching").
//!
//! Page 1 of every region goes out at once; as soon as a region's page 1 answers, its remaining
//! pages follow (known from `TotalCount`), so a region with 50 pages does not wait for the slowest
//! region's first page. One limiter in the client bounds all of it together. The first failure
//! cancels everything: a half-fetched inventory is never returned.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use tokio::task::JoinSet;

use crate::client::{self, CallError, Client, ECS_VERSION};
use crate::codes::{self, Class};
use crate::error::{Error, Result};
use crate::info;
use crate::instance::{Converted, HostvarOptions, Instance};
use crate::inventory;
use crate::settings::{Regions, Settings};

pub const PAGE_SIZE: u64 = 100;
/// More instances than any account holds in one region: a TotalCount above it is a broken or
/// hostile answer, and would otherwise queue millions of page requests.
const MAX_TOTAL_COUNT: u64 = 2_000_000;
/// How often a region is listed again when its TotalCount moved while it was being paged.
const MAX_PASSES: u32 = 3;

#[derive(Deserialize)]
struct RegionsAnswer {
    #[serde(rename = "Regions")]
    regions: RegionList,
}

#[derive(Deserialize)]
struct RegionList {
    #[serde(rename = "Region", default)]
    region: Vec<RegionInfo>,
}

#[derive(Deserialize)]
struct RegionInfo {
    #[serde(rename = "RegionId")]
    region_id: String,
    #[serde(rename = "RegionEndpoint", default)]
    region_endpoint: String,
}

#[derive(Deserialize)]
struct PageAnswer {
    #[serde(rename = "TotalCount")]
    total_count: u64,
    #[serde(rename = "Instances")]
    instances: InstanceList,
}

#[derive(Deserialize)]
struct InstanceList {
    #[serde(rename = "Instance", default)]
    instance: Vec<Converted>,
}

/// A region to list and the base URL to list it at.
#[derive(Debug, Clone)]
pub struct Target {
    pub region: String,
    pub endpoint: String,
}

/// The base URL for `region`: the configured template, the region's own endpoint, or the default.
pub fn endpoint_for(settings: &Settings, region: &str, region_endpoint: Option<&str>) -> String {
    match (
        &settings.ecs_endpoint,
        region_endpoint.filter(|e| !e.is_empty()),
    ) {
        (Some(template), _) => template.replace("{region}", region),
        (None, Some(host)) if host.starts_with("http") => host.trim_end_matches('/').to_string(),
        (None, Some(host)) => format!("https://{host}"),
        (None, None) => format!("https://ecs.{region}.aliyuncs.com"),
    }
}

/// `regions = all` asks DescribeRegions; a list is taken as written. `regions_exclude` applies.
pub async fn targets(
    client: &Client,
    settings: &Settings,
    home_region: &str,
) -> Result<Vec<Target>> {
    let excluded = |r: &str| settings.regions_exclude.iter().any(|x| x == r);
    let list: Vec<Target> = match &settings.regions {
        Regions::List(regions) => regions
            .iter()
            .map(|r| Target {
                region: r.clone(),
                endpoint: endpoint_for(settings, r, None),
            })
            .collect(),
        Regions::All => {
            let endpoint = endpoint_for(settings, home_region, None);
            let params = [("RegionId".to_string(), home_region.to_string())];
            let answer: RegionsAnswer = client
                .call(
                    &endpoint,
                    ECS_VERSION,
                    "DescribeRegions",
                    &params,
                    "DescribeRegions",
                )
                .await
                .map_err(|e| api_error("DescribeRegions".into(), e, settings.max_retries))?;
            answer
                .regions
                .region
                .into_iter()
                .map(|r| Target {
                    endpoint: endpoint_for(settings, &r.region_id, Some(&r.region_endpoint)),
                    region: r.region_id,
                })
                .collect()
        }
    };
    let mut seen = HashSet::new();
    Ok(list
        .into_iter()
        .filter(|t| !excluded(&t.region) && seen.insert(t.region.clone()))
        .collect())
}

/// What one finished page request brings back.
struct PageResult {
    region: usize,
    pass: u32,
    page: u64,
    total_count: u64,
    instances: Vec<Instance>,
}

struct Shared {
    client: Client,
    targets: Vec<Target>,
    filters: Vec<(String, String)>,
    opts: HostvarOptions,
    states: Option<Vec<String>>,
    max_retries: u32,
    /// The settings, when the constructed step or the hostvar selection runs on the pages.
    prepare: Option<Arc<Settings>>,
}

/// Lists every instance in `targets` that passes the state filter and hands each to `sink`
/// as its page arrives, once per instance id. Returns how many instances there were.
pub async fn instances(
    client: Client,
    settings: &Settings,
    targets: Vec<Target>,
    opts: HostvarOptions,
    sink: &mut dyn FnMut(Instance),
) -> Result<usize> {
    let started = Instant::now();
    let opts_keep = opts.keep_vars;
    let mut filters = settings.instance_filters.clone();
    // One wanted state and no status filter of the operator's: let the service filter, which
    // saves pages on accounts with many stopped instances.
    if let Some([state]) = settings.instance_states.as_deref() {
        if !filters.iter().any(|(k, _)| k == "Status") {
            let mut s = state.clone();
            s[..1].make_ascii_uppercase();
            filters.push(("Status".into(), s));
        }
    }
    let shared = Arc::new(Shared {
        client,
        targets,
        filters,
        opts,
        states: settings.instance_states.clone(),
        max_retries: settings.max_retries,
        prepare: opts_keep.then(|| Arc::new(settings.clone())),
    });
    let mut tasks = JoinSet::new();
    // Per region: current pass, the TotalCounts its pages reported, pages still out.
    let mut passes: Vec<(u32, HashSet<u64>, u64)> =
        vec![(1, HashSet::new(), 1); shared.targets.len()];
    for region in 0..shared.targets.len() {
        tasks.spawn(fetch_page(shared.clone(), region, 1, 1));
    }
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(joined) = tasks.join_next().await {
        let result = joined?;
        let page = match result {
            Ok(p) => p,
            Err(e) => {
                tasks.abort_all();
                return Err(e);
            }
        };
        let (pass, totals, outstanding) = &mut passes[page.region];
        if page.pass != *pass {
            continue;
        }
        totals.insert(page.total_count);
        *outstanding -= 1;
        if page.page == 1 {
            if page.total_count > MAX_TOTAL_COUNT {
                tasks.abort_all();
                return Err(Error::Api {
                    scope: format!("region {}", shared.targets[page.region].region),
                    code: "MalformedResponse".into(),
                    message: format!("TotalCount {} is not believable", page.total_count),
                    hint: " (the endpoint is not speaking the ECS API; check ecs_endpoint)".into(),
                });
            }
            let pages = page.total_count.div_ceil(PAGE_SIZE);
            for n in 2..=pages {
                tasks.spawn(fetch_page(shared.clone(), page.region, *pass, n));
            }
            *outstanding += pages.saturating_sub(1);
        }
        for inst in page.instances {
            // A region listed again (or a shifted page) repeats instances: the first one counts.
            if seen.insert(inst.id.clone()) {
                sink(inst);
            }
        }
        if *outstanding == 0 && totals.len() > 1 {
            // Instances were created or deleted while paging: offsets shifted, so an instance
            // may have slipped between two pages. List the region again; ids de-duplicate.
            let target = &shared.targets[page.region];
            if *pass >= MAX_PASSES {
                return Err(Error::Api {
                    scope: format!("region {}", target.region),
                    code: "InconsistentPaging".into(),
                    message: format!("TotalCount kept changing over {MAX_PASSES} listings"),
                    hint: " (instances are being created or deleted right now; run again)".into(),
                });
            }
            info!(
                1,
                "region {}: TotalCount changed while paging; listing it again", target.region
            );
            *pass += 1;
            totals.clear();
            *outstanding = 1;
            tasks.spawn(fetch_page(shared.clone(), page.region, *pass, 1));
        }
    }
    let stats = shared.client.stats();
    info!(
        1,
        "listed {} instances in {} regions: {} requests ({} retries, {} throttled, at most {} in flight) in {} ms",
        seen.len(),
        shared.targets.len(),
        stats.requests,
        stats.retries,
        stats.throttled,
        shared.client.max_in_flight(),
        started.elapsed().as_millis()
    );
    Ok(seen.len())
}

async fn fetch_page(
    shared: Arc<Shared>,
    region: usize,
    pass: u32,
    page: u64,
) -> Result<PageResult> {
    let target = &shared.targets[region];
    let mut params = vec![
        ("RegionId".to_string(), target.region.clone()),
        ("PageNumber".to_string(), page.to_string()),
        ("PageSize".to_string(), PAGE_SIZE.to_string()),
    ];
    params.extend(shared.filters.iter().cloned());
    let what = format!("region {} page {page}", target.region);
    let answer: PageAnswer = shared
        .client
        .call(
            &target.endpoint,
            ECS_VERSION,
            "DescribeInstances",
            &params,
            &what,
        )
        .await
        .map_err(|e| api_error(format!("region {}", target.region), e, shared.max_retries))?;
    let (total_count, mut instances) =
        page_instances(answer, &shared.opts, shared.states.as_deref()).map_err(|m| Error::Api {
            scope: format!("region {}", target.region),
            code: "MalformedResponse".into(),
            message: m,
            hint: String::new(),
        })?;
    if let Some(settings) = &shared.prepare {
        let mut step = crate::constructed::step::Step::new(settings);
        for inst in &mut instances {
            inventory::prepare(inst, settings, &mut step);
        }
    }
    Ok(PageResult {
        region,
        pass,
        page,
        total_count,
        instances,
    })
}

/// The instances of one page that pass the state filter, and the page's TotalCount.
fn page_instances(
    answer: PageAnswer,
    opts: &HostvarOptions,
    states: Option<&[String]>,
) -> std::result::Result<(u64, Vec<Instance>), String> {
    let mut instances = Vec::with_capacity(answer.instances.instance.len());
    for raw in answer.instances.instance {
        let inst = Instance::from_converted(raw.0, opts)?;
        if states.is_none_or(|s| s.contains(&inst.state)) {
            instances.push(inst);
        }
    }
    Ok((answer.total_count, instances))
}

/// Decodes one DescribeInstances answer (status and body) the way a fetch does; the entry point
/// of the response-parser fuzz target.
pub fn parse_page(
    status: u16,
    body: &[u8],
    opts: &HostvarOptions,
) -> std::result::Result<(u64, Vec<Instance>), String> {
    let answer: PageAnswer = client::decode(status, body).map_err(|e| e.to_string())?;
    page_instances(answer, opts, None)
}

/// The one line an operator reads: scope, the service's code and message, and what to do.
pub fn api_error(scope: String, e: CallError, max_retries: u32) -> Error {
    match e {
        CallError::Api { code, message, .. } => Error::Api {
            scope,
            hint: hint_for(&code, max_retries),
            code,
            message,
        },
        e @ CallError::Transport(_) => {
            let retried = if max_retries > 0 {
                format!(" after {max_retries} retries")
            } else {
                String::new()
            };
            Error::Transport {
                scope,
                message: format!("{e}{retried} (check the endpoint and the network, or raise timeout/max_retries in alicloud.ini)"),
                source: Some(e.into()),
            }
        }
        e @ CallError::Malformed { .. } => Error::Api {
            scope,
            code: "MalformedResponse".into(),
            message: e.to_string(),
            hint: " (the endpoint is not speaking the ECS API; check ecs_endpoint)".into(),
        },
    }
}

fn hint_for(code: &str, max_retries: u32) -> String {
    let h = match codes::classify(code) {
        c if c.is_permission() => "add it to regions_exclude or grant ecs:DescribeInstances",
        Class::BadKeyId => "check the access key id",
        Class::BadSignature => "check the access key secret",
        Class::Clock => "check this machine's clock: is NTP running?",
        Class::BadToken => "the security token is invalid or expired; get fresh credentials",
        Class::Throttled => {
            return format!(
                " (still throttled after {max_retries} retries; lower max_concurrency or run again later)"
            )
        }
        Class::Region => "check regions in alicloud.ini",
        _ => return String::new(),
    };
    format!(" ({h})")
}
