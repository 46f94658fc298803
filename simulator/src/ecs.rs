//! The ECS actions: DescribeRegions and DescribeInstances, over one account's fleet and the
//! faults configured for it.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::error::ApiError;
use crate::faults::{Fault, Faults};
use crate::fleet::{page, Filters, Fleet, Instance};
use crate::params::Params;
use crate::reply::Reply;

pub async fn describe_regions(
    fleet: &Fleet,
    faults: &Faults,
    account: &str,
    request_id: &str,
) -> Result<Reply, ApiError> {
    let star = faults.for_every_region(account).then_some("*");
    if let Some(region) = star {
        if let Some(r) = faults.apply(account, region, request_id).await? {
            return Ok(r);
        }
    }
    let regions = &fleet.regions;
    let body = json!({"RequestId": request_id, "Regions": {"Region": regions}}).to_string();
    let body = match star {
        Some(r) => faults.truncate_if_faulty(account, r, body),
        None => body,
    };
    Ok(Reply::ok(body))
}

pub async fn describe_instances(
    fleet: &Fleet,
    faults: &Faults,
    account: &str,
    p: &Params,
    request_id: &str,
) -> Result<Reply, ApiError> {
    let region = match p.get("RegionId") {
        Some(r) if !r.is_empty() => r,
        _ => return Err(ApiError::missing_parameter("RegionId")),
    };
    let number = positive(p, "PageNumber", 1, u64::MAX)?;
    let size = positive(p, "PageSize", 10, 100)?;
    let filters = Filters::parse(p)?;
    if let Some(r) = faults.apply(account, region, request_id).await? {
        return Ok(r);
    }
    let Some(all) = fleet.instances.get(region) else {
        return Err(ApiError::new(
            404,
            "InvalidRegionId.NotFound",
            "The specified RegionId does not exist.",
        ));
    };
    let fault = faults.for_region(account, region);
    let extra: Vec<Instance> = faults.created(fault, account, region, all);
    let selected: Vec<&Instance> = extra
        .iter()
        .chain(all.iter())
        .filter(|i| filters.is_empty() || filters.matches(&i.f))
        .collect();
    // A broken answer: a TotalCount no region holds, with a normal page.
    let total = if fault == Some(Fault::HugeTotal) {
        2_000_001
    } else {
        selected.len()
    };
    let items = page(&selected, number, size);
    let mut body =
        String::with_capacity(128 + items.iter().map(|i| i.raw.len() + 1).sum::<usize>());
    let _ = write!(
        body,
        r#"{{"RequestId":{},"TotalCount":{},"PageNumber":{},"PageSize":{},"Instances":{{"Instance":["#,
        Value::from(request_id),
        total,
        number,
        size
    );
    for (i, inst) in items.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&inst.raw);
    }
    body.push_str("]}}");
    Ok(Reply::ok(faults.truncate_if_faulty(account, region, body)))
}

/// An optional integer parameter in `1..=max`.
fn positive(p: &Params, name: &str, default: u64, max: u64) -> Result<u64, ApiError> {
    match p.get(name).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::invalid_parameter(
                name,
                &format!("it must be an integer from 1 to {max}"),
            )),
        },
    }
}
