//! Lists every instance of every region concurrently (docs/DESIGN.md, "Fetching").
//!
//! Page 1 of every region goes out at once; as soon as a region's page 1 answers, its remaining
//! pages follow (known from `TotalCount`), so a region with 50 pages does not wait for the slowest
//! region's first page. Each region has its own adaptive limit in the client, and its own holds
//! for throttled windows, so a throttled region does not hold the others. The first failure
//! cancels everything: a half-fetched inventory is never returned.

pub mod fan_out;
mod peek;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use compact_str::CompactString;
use serde::Deserialize;
use tokio::task::JoinSet;

use crate::api::client::{self, CallError, Client, ECS_VERSION};
use crate::config::{FilterSet, Regions, Settings};
use crate::error::{Error, Result};
use crate::hostvars::{HostvarOptions, Instance, MakeShape, Scratch, Shape, MAX_DEPTH};
use crate::info;
use crate::json::reader::{ws, Node, Tree};
use crate::service_codes::{self as codes, Class};
use rustc_hash::FxBuildHasher;

pub const PAGE_SIZE: u64 = 100;
/// More instances than any account holds in one region: a TotalCount above it is a broken or
/// hostile answer, and would otherwise queue millions of page requests.
pub const MAX_TOTAL_COUNT: u64 = 2_000_000;
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

/// A DescribeInstances answer as serde_json reads it: the decoder's slow path (see
/// [`parse_page`]), with `I` the type each instance is read as.
#[derive(Deserialize)]
struct PageAnswer<I> {
    #[serde(rename = "TotalCount")]
    total_count: u64,
    #[serde(rename = "Instances")]
    instances: InstanceList<I>,
}

#[derive(Deserialize)]
struct InstanceList<I> {
    #[serde(rename = "Instance", default = "Vec::new")]
    instance: Vec<I>,
}

/// Any JSON value, read the way an instance used to be read into a tree (every value through
/// `deserialize_any`, keys as strings) but building nothing: so serde_json accepts and refuses
/// exactly the bodies it did, with the same errors.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Checked, D::Error> {
        d.deserialize_any(CheckVisitor)
    }
}

struct CheckVisitor;

impl<'de> serde::de::Visitor<'de> for CheckVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_none<E>(self) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_some<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Checked, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Checked, A::Error> {
        while map.next_key::<CheckedKey>()?.is_some() {
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

struct CheckedKey;

impl<'de> Deserialize<'de> for CheckedKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<CheckedKey, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = CheckedKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<CheckedKey, E> {
                Ok(CheckedKey)
            }
        }
        d.deserialize_str(KeyVisitor)
    }
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
                .map_err(|e| regions_error(home_region, e, settings.max_retries))?;
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
    unit: usize,
    pass: u32,
    page: u64,
    total_count: u64,
    instances: Vec<Instance>,
}

struct Shared {
    client: Client,
    targets: Vec<Target>,
    /// The filter sets listed, each with the state parameter when one state is wanted.
    sets: Vec<FilterSet>,
    /// What is listed: each (target, set) pair, paged on its own.
    units: Vec<(usize, usize)>,
    opts: HostvarOptions,
    states: Option<Vec<String>>,
    max_retries: u32,
    /// `strict_permissions`: a region that refuses (403) fails the run; else it is left out
    /// with a warning, as aws_ec2 does.
    strict_permissions: bool,
    /// The constructed step's maker, when it runs on the pages.
    shaping: Option<Arc<dyn MakeShape>>,
    /// A page 1's (unit, pass, TotalCount), peeked before the page is decoded, so that the
    /// unit's other pages leave at once.
    early: tokio::sync::mpsc::UnboundedSender<(usize, u32, u64)>,
}

/// Lists every instance in `targets` that passes the state filter and hands each to `sink`
/// as its page arrives, once per instance id. Returns how many instances there were.
pub async fn instances(
    client: Client,
    settings: &Settings,
    targets: Vec<Target>,
    opts: HostvarOptions,
    shaping: Option<Arc<dyn MakeShape>>,
    sink: &mut dyn FnMut(Instance),
) -> Result<usize> {
    let l = list(client, settings, targets, opts, shaping, sink).await?;
    for (region, waited, holds) in &l.waits {
        info!(
            1,
            "region {region}: waited {} ms for throttled windows ({})",
            waited.as_millis(),
            crate::diag::count(*holds as u64, "hold")
        );
    }
    info!(
        1,
        "listed {} in {}: {} requests ({} retries, {} throttled, at most {} in flight per region) in {} ms",
        crate::diag::count(l.instances as u64, "instance"),
        crate::diag::count(l.regions as u64, "region"),
        l.stats.requests,
        l.stats.retries,
        l.stats.throttled,
        l.max_in_flight,
        l.elapsed.as_millis()
    );
    Ok(l.instances)
}

/// What one listing did, for `-v`.
#[derive(Debug, Clone)]
pub struct Listing {
    pub instances: usize,
    pub regions: usize,
    /// DescribeInstances pages answered (a region listed again counts again).
    pub pages: u64,
    /// Every request of the client that listed, DescribeRegions and STS included.
    pub stats: client::Stats,
    pub max_in_flight: usize,
    /// Regions held for throttled windows: how long in all, and how many holds.
    pub waits: Vec<(String, std::time::Duration, u32)>,
    pub elapsed: std::time::Duration,
}

/// [`instances`], returning what the listing did instead of reporting it.
pub async fn list(
    client: Client,
    settings: &Settings,
    targets: Vec<Target>,
    opts: HostvarOptions,
    shaping: Option<Arc<dyn MakeShape>>,
    sink: &mut dyn FnMut(Instance),
) -> Result<Listing> {
    let started = Instant::now();
    let opts_keep = opts.keep_vars;
    let with_state = |set: &FilterSet| {
        let mut set = set.clone();
        // One wanted state and no status filter of the operator's: let the service filter,
        // which saves pages on accounts with many stopped instances.
        if let Some([state]) = settings.instance_states.as_deref() {
            if !set.iter().any(|(k, _)| k == "Status") {
                let mut s = state.clone();
                s[..1].make_ascii_uppercase();
                set.push(("Status".into(), s));
            }
        }
        set
    };
    let units = |targets: usize, sets: usize| {
        (0..targets)
            .flat_map(|t| (0..sets).map(move |s| (t, s)))
            .collect::<Vec<_>>()
    };
    let mut seen: HashSet<CompactString, FxBuildHasher> = HashSet::default();
    let mut pages = 0;
    let include: Vec<FilterSet> = settings.filters.include.iter().map(with_state).collect();
    let (early, mut early_totals) = tokio::sync::mpsc::unbounded_channel();
    let mut shared = Shared {
        client,
        units: units(targets.len(), include.len()),
        targets,
        sets: include,
        opts,
        states: settings.instance_states.clone(),
        max_retries: settings.max_retries,
        strict_permissions: settings.strict_permissions,
        shaping: shaping.filter(|_| opts_keep),
        early,
    };
    // exclude_filters first: their instances are marked seen, so no include set hands them
    // over. Only ids are needed, so the constructed step does not run on them.
    if !settings.filters.exclude.is_empty() {
        let mut bare = shared.opts.clone();
        bare.keep_vars = false;
        let exclude = Shared {
            units: units(shared.targets.len(), settings.filters.exclude.len()),
            sets: settings.filters.exclude.clone(),
            opts: bare,
            states: None,
            shaping: None,
            ..shared
        };
        let exclude = Arc::new(exclude);
        pages += run_units(&exclude, &mut early_totals, &mut seen, &mut |_| {}).await?;
        // Every task has ended, and with it its share.
        let exclude = Arc::into_inner(exclude).expect("no task outlives run_units");
        shared = Shared {
            client: exclude.client,
            targets: exclude.targets,
            early: exclude.early,
            ..shared
        };
    }
    let excluded = seen.len();
    let shared = Arc::new(shared);
    pages += run_units(&shared, &mut early_totals, &mut seen, sink).await?;
    Ok(Listing {
        instances: seen.len() - excluded,
        regions: shared.targets.len(),
        pages,
        stats: shared.client.stats(),
        max_in_flight: shared.client.max_in_flight(),
        waits: shared.client.waits(),
        elapsed: started.elapsed(),
    })
}

/// Pages every unit of `shared` concurrently, handing each instance not yet `seen` to
/// `sink`; returns the pages answered.
async fn run_units(
    shared: &Arc<Shared>,
    early_totals: &mut tokio::sync::mpsc::UnboundedReceiver<(usize, u32, u64)>,
    seen: &mut HashSet<CompactString, FxBuildHasher>,
    sink: &mut dyn FnMut(Instance),
) -> Result<u64> {
    let mut tasks = JoinSet::new();
    // Per unit: current pass, the TotalCounts its pages reported, pages still out, and whether
    // the pass's pages after the first were sent.
    let mut passes: Vec<(u32, HashSet<u64>, u64, bool)> =
        vec![(1, HashSet::new(), 1, false); shared.units.len()];
    for unit in 0..shared.units.len() {
        tasks.spawn(fetch_page(shared.clone(), unit, 1, 1));
    }
    let mut pages = 0u64;
    // Per target: some instance of it was handed over; it was left out (refused).
    let mut delivered = vec![false; shared.targets.len()];
    let mut skipped = vec![false; shared.targets.len()];
    // Pages 2.. of a unit, once its page 1 gave the count (its peek, or its decoded answer).
    let rest = |tasks: &mut JoinSet<_>,
                passes: &mut [(u32, HashSet<u64>, u64, bool)],
                unit: usize,
                pass: u32,
                total: u64| {
        let (current, totals, outstanding, sent) = &mut passes[unit];
        if pass != *current || *sent {
            return Ok(());
        }
        let pages = page_count(total).map_err(|message| Error::Api {
            scope: format!("region {}", shared.targets[shared.units[unit].0].region),
            code: "MalformedResponse".into(),
            message,
            hint: " (the endpoint is not speaking the ECS API; check ecs_endpoint)".into(),
        })?;
        for n in 2..=pages {
            tasks.spawn(fetch_page(shared.clone(), unit, pass, n));
        }
        *outstanding += pages.saturating_sub(1);
        *sent = true;
        totals.insert(total);
        Ok(())
    };
    loop {
        let joined = tokio::select! {
            biased;
            Some((unit, pass, total)) = early_totals.recv() => {
                let t = shared.units.get(unit).map_or(0, |u| u.0);
                if unit < shared.units.len() && !skipped[t] {
                    if let Err(e) = rest(&mut tasks, &mut passes, unit, pass, total) {
                        tasks.abort_all();
                        return Err(e);
                    }
                }
                continue;
            }
            joined = tasks.join_next() => joined,
        };
        let Some(joined) = joined else { break };
        let result = joined?;
        let page = match result {
            Ok(p) => p,
            Err(Refused { unit, error }) => {
                let t = shared.units[unit].0;
                // Left out only before any of its instances was handed over: a region half
                // listed is never passed off as listed.
                if !shared.strict_permissions && !delivered[t] && is_refusal(&error) {
                    if !skipped[t] {
                        skipped[t] = true;
                        crate::diag::warn(&format!(
                            "{error}; region {} left out (strict_permissions is false)",
                            shared.targets[t].region
                        ));
                    }
                    continue;
                }
                tasks.abort_all();
                return Err(error);
            }
        };
        pages += 1;
        let t = shared.units[page.unit].0;
        if skipped[t] {
            continue;
        }
        delivered[t] |= !page.instances.is_empty();
        let target = &shared.targets[t];
        if page.pass != passes[page.unit].0 {
            continue;
        }
        if page.page == 1 {
            if let Err(e) = rest(
                &mut tasks,
                &mut passes,
                page.unit,
                page.pass,
                page.total_count,
            ) {
                tasks.abort_all();
                return Err(e);
            }
        }
        let (pass, totals, outstanding, sent) = &mut passes[page.unit];
        totals.insert(page.total_count);
        *outstanding -= 1;
        hand_over(seen, page.instances, sink);
        if *outstanding == 0 && totals.len() > 1 {
            // Instances were created or deleted while paging: offsets shifted, so an instance
            // may have slipped between two pages. List the region again; ids de-duplicate.
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
            *sent = false;
            tasks.spawn(fetch_page(shared.clone(), page.unit, *pass, 1));
        }
    }
    // Peeks of units whose pages were all answered: nothing left to send.
    while early_totals.try_recv().is_ok() {}
    Ok(pages)
}

/// How many pages a region whose page 1 says `total_count` has; a count above
/// [`MAX_TOTAL_COUNT`] is refused, as a broken answer.
pub fn page_count(total_count: u64) -> std::result::Result<u64, String> {
    if total_count > MAX_TOTAL_COUNT {
        return Err(format!("TotalCount {total_count} is not believable"));
    }
    Ok(total_count.div_ceil(PAGE_SIZE))
}

/// Hands each instance of a page to `sink` unless its id was seen before: a region listed again
/// (or a shifted page) repeats instances, and the first one counts.
pub fn hand_over(
    seen: &mut HashSet<CompactString, FxBuildHasher>,
    instances: Vec<Instance>,
    sink: &mut dyn FnMut(Instance),
) {
    for inst in instances {
        if seen.insert(inst.id.clone()) {
            sink(inst);
        }
    }
}

/// A page that failed, and the unit it was of.
struct Refused {
    unit: usize,
    error: Error,
}

/// The service refused the call for want of permission (403, `Forbidden*`, `NoPermission`).
fn is_refusal(e: &Error) -> bool {
    matches!(e, Error::Api { code, .. } if codes::classify(code).is_permission())
}

async fn fetch_page(
    shared: Arc<Shared>,
    unit: usize,
    pass: u32,
    page: u64,
) -> std::result::Result<PageResult, Refused> {
    fetch_page_of(shared, unit, pass, page)
        .await
        .map_err(|error| Refused { unit, error })
}

async fn fetch_page_of(
    shared: Arc<Shared>,
    unit: usize,
    pass: u32,
    page: u64,
) -> Result<PageResult> {
    let (region, set) = shared.units[unit];
    let target = &shared.targets[region];
    let mut params = vec![
        ("RegionId".to_string(), target.region.clone()),
        ("PageNumber".to_string(), page.to_string()),
        ("PageSize".to_string(), PAGE_SIZE.to_string()),
    ];
    params.extend(shared.sets[set].iter().cloned());
    let what = format!("region {} page {page}", target.region);
    let (opts, states) = (&shared.opts, shared.states.as_deref());
    let (total_count, instances) = shared
        .client
        .call_with(
            &target.endpoint,
            ECS_VERSION,
            "DescribeInstances",
            &params,
            &what,
            |status, body| {
                if page == 1 && status == 200 {
                    if let Some(total) = peek::total_count(body) {
                        // The listing may be over (a failure ended it): no matter.
                        let _ = shared.early.send((unit, pass, total));
                    }
                }
                decode_page(status, body, opts, states, shared.shaping.as_deref())
            },
        )
        .await
        .map_err(|e| api_error(&target.region, e, shared.max_retries))?
        .map_err(|m| Error::Api {
            scope: format!("region {}", target.region),
            code: "MalformedResponse".into(),
            message: m,
            hint: String::new(),
        })?;
    Ok(PageResult {
        unit,
        pass,
        page,
        total_count,
        instances,
    })
}

/// One page's TotalCount and its instances that pass the state filter, or why the page is
/// not usable: a `CallError` (the service's error, a body that is not the answer's JSON) or
/// a message (an instance that cannot be one).
type Page = std::result::Result<std::result::Result<(u64, Vec<Instance>), String>, CallError>;

/// The instances deeper than this in a body are read by the slow path (serde_json's limit is
/// 128 with the three levels above them).
const FAST_DEPTH: u32 = 120;

/// Decodes a DescribeInstances answer in place ([`Tree`]); what the reader declines (invalid
/// JSON, an envelope of an unusual shape) goes to serde_json, which accepts and refuses
/// exactly what it did when it decoded every page, and gives its own error.
/// `shaping` is given when the constructed step runs on the instances.
fn decode_page(
    status: u16,
    body: &[u8],
    opts: &HostvarOptions,
    states: Option<&[String]>,
    shaping: Option<&dyn MakeShape>,
) -> Page {
    let mut shaper = shaping.map(|m| m.make());
    if status == 200 {
        if let Some(page) = simdutf8::basic::from_utf8(body)
            .ok()
            .and_then(|text| read_page(text, opts, states, shape_of(&mut shaper)))
        {
            return Ok(page);
        }
    }
    client::decode::<PageAnswer<Checked>>(status, body)?;
    let answer: PageAnswer<&serde_json::value::RawValue> =
        serde_json::from_slice(body).map_err(|source| CallError::Malformed {
            len: body.len(),
            source,
        })?;
    let mut scratch = Scratch::default();
    let mut instances = Vec::with_capacity(answer.instances.instance.len());
    let mut tree = Tree::new("");
    for raw in answer.instances.instance {
        tree.set_src(raw.get());
        let Ok((root, _)) = tree.read(0, MAX_DEPTH) else {
            return Ok(Err("an instance the decoder cannot read".into()));
        };
        match Instance::from_tree(
            &tree,
            root,
            opts,
            states,
            &mut scratch,
            shape_of(&mut shaper),
        ) {
            Ok(Some(inst)) => instances.push(inst),
            Ok(None) => {}
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok((answer.total_count, instances)))
}

fn shape_of<'s, 'm>(
    shaper: &'s mut Option<Box<dyn Shape + 'm>>,
) -> Option<&'s mut (dyn Shape + 'm)> {
    shaper.as_deref_mut()
}

/// A key of the envelope: plain text, or None (escapes go to the slow path).
fn plain_key(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let len = b.get(i + 1..)?.iter().position(|&c| c == b'"')?;
    let key = &b[i + 1..i + 1 + len];
    (!key.iter().any(|&c| c == b'\\' || c < 0x20)).then_some((key, i + len + 2))
}

/// The fast path of [`decode_page`]: `{"TotalCount": N, "Instances": {"Instance": [...]}}`
/// with any other members; None for anything else.
fn read_page(
    text: &str,
    opts: &HostvarOptions,
    states: Option<&[String]>,
    mut shape: Option<&mut (dyn Shape + '_)>,
) -> Option<std::result::Result<(u64, Vec<Instance>), String>> {
    let b = text.as_bytes();
    let mut tree = Tree::new(text);
    let mut scratch = Scratch::default();
    let mut total = None;
    let mut instances = None;
    let mut failed = None;
    // Members of an object at `i` (after its brace): calls `member` with each key and the
    // position of its value, which returns the position after the value.
    fn members(
        b: &[u8],
        i: usize,
        mut member: impl FnMut(&[u8], usize) -> Option<usize>,
    ) -> Option<usize> {
        let mut i = ws(b, i);
        if b.get(i) == Some(&b'}') {
            return Some(i + 1);
        }
        loop {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let (key, end) = plain_key(b, i)?;
            i = ws(b, end);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = ws(b, member(key, i + 1)?);
            match b.get(i) {
                Some(b',') => i = ws(b, i + 1),
                Some(b'}') => return Some(i + 1),
                _ => return None,
            }
        }
    }
    let start = ws(b, 0);
    if b.get(start) != Some(&b'{') {
        return None;
    }
    let end = members(b, start + 1, |key, i| match key {
        b"TotalCount" if total.is_none() => {
            tree.clear();
            let (n, end) = tree.read(i, 1).ok()?;
            let Node::Num {
                start,
                len,
                plain: true,
            } = tree.node(n)
            else {
                return None;
            };
            total = Some(
                text[start as usize..(start + len) as usize]
                    .parse::<u64>()
                    .ok()?,
            );
            Some(end)
        }
        b"Instances" if instances.is_none() => {
            // Grown instance by instance, the list was copied seven times over.
            let mut list = Vec::with_capacity(PAGE_SIZE as usize);
            let i = ws(b, i);
            if b.get(i) != Some(&b'{') {
                return None;
            }
            let mut seen = false;
            let end = members(b, i + 1, |key, i| {
                if key != b"Instance" {
                    tree.clear();
                    return tree.read(i, FAST_DEPTH - 2).ok().map(|(_, end)| end);
                }
                if std::mem::replace(&mut seen, true) {
                    return None;
                }
                let mut i = ws(b, i);
                if b.get(i) != Some(&b'[') {
                    return None;
                }
                i = ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    return Some(i + 1);
                }
                loop {
                    tree.clear();
                    let (root, end) = tree.read(i, FAST_DEPTH - 3).ok()?;
                    if failed.is_none() {
                        let shape = shape.as_deref_mut();
                        match Instance::from_tree(&tree, root, opts, states, &mut scratch, shape) {
                            Ok(Some(inst)) => list.push(inst),
                            Ok(None) => {}
                            Err(e) => failed = Some(e),
                        }
                    }
                    i = ws(b, end);
                    match b.get(i) {
                        Some(b',') => i += 1,
                        Some(b']') => return Some(i + 1),
                        _ => return None,
                    }
                }
            })?;
            instances = Some(list);
            Some(end)
        }
        b"TotalCount" | b"Instances" => None,
        _ => {
            tree.clear();
            tree.read(i, FAST_DEPTH - 1).ok().map(|(_, end)| end)
        }
    })?;
    if ws(b, end) != b.len() {
        return None;
    }
    let (total, instances) = (total?, instances?);
    Some(match failed {
        Some(e) => Err(e),
        None => Ok((total, instances)),
    })
}

/// Decodes one DescribeInstances answer (status and body) the way a fetch does; the entry point
/// of the response-parser fuzz target (test code: the `fuzzing` feature).
#[cfg(any(test, feature = "fuzzing"))]
pub fn parse_page(
    status: u16,
    body: &[u8],
    opts: &HostvarOptions,
) -> std::result::Result<(u64, Vec<Instance>), String> {
    parse_page_shaped(status, body, opts, None)
}

/// [`parse_page`], with the constructed step of `shaping` when `opts` asks for it.
#[cfg(any(test, feature = "fuzzing"))]
pub fn parse_page_shaped(
    status: u16,
    body: &[u8],
    opts: &HostvarOptions,
    shaping: Option<&dyn MakeShape>,
) -> std::result::Result<(u64, Vec<Instance>), String> {
    decode_page(status, body, opts, None, shaping).map_err(|e| e.to_string())?
}

/// What went wrong listing the regions, in the home region. A refusal is the operator's to fix
/// (exit 2): DescribeRegions is only needed because `regions` does not list them.
fn regions_error(home_region: &str, e: CallError, max_retries: u32) -> Error {
    if let CallError::Api { code, message, .. } = &e {
        let class = codes::classify(code);
        if class.is_permission() {
            return Error::Config(format!(
                "DescribeRegions: {code}: {message} (grant ecs:DescribeRegions, or list the regions in 'regions' in alicloud.ini so that it is not needed)"
            ));
        }
        if class == Class::Region {
            return Error::Api {
                scope: "DescribeRegions".into(),
                code: code.clone(),
                message: message.clone(),
                hint: format!(
                    " ({home_region} is not a region: check alicloud_region or ALICLOUD_REGION)"
                ),
            };
        }
    }
    call_error("DescribeRegions".into(), e, max_retries, "")
}

/// The one line an operator reads when listing `region` failed.
pub fn api_error(region: &str, e: CallError, max_retries: u32) -> Error {
    call_error(format!("region {region}"), e, max_retries, region)
}

/// Scope, the service's code and message, and what to do.
fn call_error(scope: String, e: CallError, max_retries: u32, region: &str) -> Error {
    match e {
        CallError::Api {
            status,
            code,
            message,
        } => Error::Api {
            scope,
            hint: hint_for(status, &code, max_retries, region),
            code,
            message,
        },
        CallError::ThrottleWait {
            code,
            message,
            action,
            waited,
        } => Error::Api {
            scope,
            code,
            message,
            hint: client::throttle_wait_hint(&action, waited),
        },
        e @ CallError::Transport(_) => {
            let retried = if max_retries > 0 {
                format!(" after {}", retries(max_retries))
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

/// "1 retry", "5 retries".
fn retries(n: u32) -> String {
    format!("{n} {}", if n == 1 { "retry" } else { "retries" })
}

fn hint_for(status: u16, code: &str, max_retries: u32, region: &str) -> String {
    let h = match codes::classify(code) {
        c if c.is_permission() => "add it to regions_exclude or grant ecs:DescribeInstances".into(),
        Class::BadKeyId => "check the access key id".into(),
        Class::BadSignature => "check the access key secret".into(),
        Class::Clock => "check this machine's clock: is NTP running?".into(),
        Class::BadToken => "the security token is invalid or expired; get fresh credentials".into(),
        // Throttling waits for windows (CallError::ThrottleWait); a bare one is not retried.
        Class::Throttled => {
            "still throttled; raise throttle_wait in alicloud.ini, or run again later".into()
        }
        Class::Region => format!("{region} is not a region: check regions in alicloud.ini"),
        _ if codes::is_retryable(status, code) && max_retries > 0 => format!(
            "still failing after {}; run again later, or raise max_retries in alicloud.ini",
            retries(max_retries)
        ),
        _ if codes::is_retryable(status, code) => {
            "not retried as max_retries = 0; run again later, or raise max_retries in alicloud.ini"
                .into()
        }
        _ => return String::new(),
    };
    format!(" ({h})")
}

#[cfg(test)]
mod tests;
