//! Injected failures, per region (`--fault`), and the state of the stateful ones.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::error::ApiError;
use crate::fleet::Instance;
use crate::reply::Reply;
use crate::sync::lock;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Forbidden,
    Unavailable,
    Internal,
    Throttle,
    Hang,
    Truncated,
    WrongShape,
    Error200,
    Shifting,
    Flaky,
    Churning,
    HugeTotal,
}

impl Fault {
    pub const NAMES: &'static [(&'static str, Fault)] = &[
        ("forbidden", Fault::Forbidden),
        ("unavailable", Fault::Unavailable),
        ("internal", Fault::Internal),
        ("throttle", Fault::Throttle),
        ("hang", Fault::Hang),
        ("truncated", Fault::Truncated),
        ("wrong-shape", Fault::WrongShape),
        ("error-200", Fault::Error200),
        ("shifting", Fault::Shifting),
        ("flaky", Fault::Flaky),
        ("churning", Fault::Churning),
        ("huge-total", Fault::HugeTotal),
    ];
}

/// Per-region state of the stateful faults.
#[derive(Default)]
struct FaultState {
    flaky_calls: u64,
    shifting_served: bool,
    churning_served: u64,
}

/// The configured faults (`REGION` or `ACCOUNT/REGION`, `*` for every region) and their state,
/// by `ACCOUNT/REGION`.
pub struct Faults {
    list: Vec<(String, Fault)>,
    state: Mutex<HashMap<String, FaultState>>,
}

impl Faults {
    pub fn new(list: Vec<(String, Fault)>) -> Faults {
        Faults {
            list,
            state: Mutex::default(),
        }
    }

    pub fn for_region(&self, account: &str, region: &str) -> Option<Fault> {
        // An account's own fault beats one for every account; a region beats `*`.
        let mine = |r: &str| format!("{account}/{r}");
        [mine(region), mine("*"), region.to_owned(), "*".to_owned()]
            .iter()
            .find_map(|want| self.list.iter().find(|(r, _)| r == want))
            .map(|(_, f)| *f)
    }

    /// Whether a `*` fault (every account's or this one's) is configured: only those reach
    /// DescribeRegions.
    pub fn for_every_region(&self, account: &str) -> bool {
        let mine = format!("{account}/*");
        self.list.iter().any(|(r, _)| r == "*" || *r == mine)
    }

    pub fn reset(&self) {
        lock(&self.state).clear();
    }

    /// Applies the fault configured for `region`, if any. `Ok(None)`: answer normally (for
    /// `truncated` and `shifting` the caller shapes the normal answer).
    pub async fn apply(
        &self,
        account: &str,
        region: &str,
        request_id: &str,
    ) -> Result<Option<Reply>, ApiError> {
        let Some(fault) = self.for_region(account, region) else {
            return Ok(None);
        };
        match fault {
            Fault::Forbidden => Err(ApiError::new(
                403,
                "Forbidden.RAM",
                "User not authorized to operate on the specified resource.",
            )),
            Fault::Unavailable => Err(ApiError::unavailable()),
            Fault::Internal => Err(ApiError::internal()),
            Fault::Throttle => Err(ApiError::throttling()),
            Fault::Hang => std::future::pending().await,
            Fault::WrongShape => Ok(Some(Reply::ok(
                json!({"RequestId": request_id, "Instances": "oops", "Regions": "oops", "TotalCount": "x"})
                    .to_string(),
            ))),
            Fault::Error200 => Ok(Some(Reply::ok(
                json!({
                    "RequestId": request_id,
                    "Code": "InternalError",
                    "Message": "The request processing has failed due to some unknown error, exception or failure.",
                })
                .to_string(),
            ))),
            Fault::Flaky => {
                let mut f = lock(&self.state);
                let st = f.entry(format!("{account}/{region}")).or_default();
                st.flaky_calls += 1;
                if st.flaky_calls % 2 == 1 {
                    Err(ApiError::unavailable())
                } else {
                    Ok(None)
                }
            }
            Fault::Truncated | Fault::Shifting | Fault::Churning | Fault::HugeTotal => Ok(None),
        }
    }

    pub fn truncate_if_faulty(&self, account: &str, region: &str, mut body: String) -> String {
        if self.for_region(account, region) == Some(Fault::Truncated) {
            let mut cut = body.len() / 2;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
        }
        body
    }

    /// The instances `fault` (the region's) "creates" before this request, listed first.
    pub fn created(
        &self,
        fault: Option<Fault>,
        account: &str,
        region: &str,
        all: &[Instance],
    ) -> Vec<Instance> {
        match fault {
            Some(Fault::Shifting) => {
                let mut f = lock(&self.state);
                let st = f.entry(format!("{account}/{region}")).or_default();
                let shifted = st.shifting_served;
                st.shifting_served = true;
                if shifted {
                    all.first()
                        .and_then(new_instance_like)
                        .into_iter()
                        .collect()
                } else {
                    Vec::new()
                }
            }
            // One more instance created before every request: TotalCount never settles.
            Some(Fault::Churning) => {
                let mut f = lock(&self.state);
                let st = f.entry(format!("{account}/{region}")).or_default();
                let n = st.churning_served;
                st.churning_served += 1;
                all.first()
                    .map(|like| (0..n).filter_map(|i| churned_like(like, i)).collect())
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }
}

/// The instance "created mid-listing" by the `shifting` fault: a copy of `like` with a new id.
fn new_instance_like(like: &Instance) -> Option<Instance> {
    let mut v: Value = serde_json::from_str(&like.raw).ok()?;
    let obj = v.as_object_mut()?;
    let id = format!(
        "i-shifted{}",
        &like.f.id.get(2..13).unwrap_or("00000000000")
    );
    obj.insert("InstanceId".into(), Value::from(id.clone()));
    obj.insert(
        "InstanceName".into(),
        Value::from(format!("created-mid-listing-{id}")),
    );
    obj.insert("HostName".into(), Value::from(format!("iZ{}Z", &id[2..])));
    Some(Instance::from_value(&v))
}

/// The `n`th instance "created" by the `churning` fault: a copy of `like` with a new id.
fn churned_like(like: &Instance, n: u64) -> Option<Instance> {
    let mut v: Value = serde_json::from_str(&like.raw).ok()?;
    let id = format!("i-churned{n:012}");
    v.as_object_mut()?
        .insert("InstanceId".into(), Value::from(id));
    Some(Instance::from_value(&v))
}
