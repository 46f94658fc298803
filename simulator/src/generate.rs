//! `ecs-simulator generate`: a deterministic, realistic fleet of any size.
//!
//! The same arguments give the same bytes: a hand-written splitmix64 generator drives every
//! choice, and the JSON is written with sorted keys, one instance per line.

use std::io::Write;

use serde_json::{json, Value};

pub struct Options {
    pub regions: usize,
    pub instances: usize,
    pub skew: Option<f64>,
    pub seed: u64,
    pub loopback: bool,
    pub stopped_fraction: f64,
    /// Addresses start this many later in every range, so fleets generated with offsets far
    /// enough apart (one account each) share no address.
    pub address_offset: u64,
}

/// splitmix64 (Steele, Lea, Flood 2014).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..n).map(|_| *self.pick(A) as char).collect()
    }
}

/// Real region ids, their Chinese local names (as the API answers by default), the prefix of
/// their instance ids and their zone letters.
const REGIONS: &[(&str, &str, &str, &str)] = &[
    ("cn-hangzhou", "华东1（杭州）", "bp1", "ghi"),
    ("cn-shanghai", "华东2（上海）", "uf6", "blm"),
    ("cn-beijing", "华北2（北京）", "2ze", "fgh"),
    ("cn-shenzhen", "华南1（深圳）", "wz9", "def"),
    ("cn-qingdao", "华北1（青岛）", "m5e", "bc"),
    ("cn-zhangjiakou", "华北3（张家口）", "8vb", "abc"),
    ("cn-huhehaote", "华北5（呼和浩特）", "hp3", "ab"),
    ("cn-wulanchabu", "华北6（乌兰察布）", "0jl", "abc"),
    ("cn-chengdu", "西南1（成都）", "2vc", "ab"),
    ("cn-hongkong", "中国香港", "j6c", "bcd"),
    ("ap-southeast-1", "新加坡", "t4n", "abc"),
    ("ap-southeast-3", "马来西亚（吉隆坡）", "8ps", "ab"),
    ("ap-southeast-5", "印度尼西亚（雅加达）", "k1a", "abc"),
    ("ap-northeast-1", "日本（东京）", "6we", "ab"),
    ("ap-south-1", "印度（孟买）", "a2d", "ab"),
    ("us-west-1", "美国（硅谷）", "rj9", "ab"),
    ("us-east-1", "美国（弗吉尼亚）", "0xi", "ab"),
    ("eu-central-1", "德国（法兰克福）", "gw8", "ab"),
    ("eu-west-1", "英国（伦敦）", "d7o", "ab"),
    ("me-east-1", "阿联酋（迪拜）", "eb3", "a"),
];

struct Region {
    id: String,
    local_name: String,
    prefix: String,
    zones: Vec<String>,
}

fn region(i: usize) -> Region {
    match REGIONS.get(i) {
        Some((id, name, prefix, zones)) => Region {
            id: (*id).to_owned(),
            local_name: (*name).to_owned(),
            prefix: (*prefix).to_owned(),
            zones: zones.chars().map(|z| format!("{id}-{z}")).collect(),
        },
        None => {
            let id = format!("xx-region-{}", i + 1);
            Region {
                local_name: format!("Synthetic region {}", i + 1),
                prefix: format!("x{}", base36(i as u64, 2)),
                zones: vec![format!("{id}-a"), format!("{id}-b")],
                id,
            }
        }
    }
}

fn base36(mut n: u64, width: usize) -> String {
    const D: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = D[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// (type, family, cpu, memory MiB, gpu amount, gpu spec)
const TYPES: &[(&str, &str, u32, u32, u32, &str)] = &[
    ("ecs.g6.large", "ecs.g6", 2, 8192, 0, ""),
    ("ecs.g6.xlarge", "ecs.g6", 4, 16384, 0, ""),
    ("ecs.g7.large", "ecs.g7", 2, 8192, 0, ""),
    ("ecs.c6.large", "ecs.c6", 2, 4096, 0, ""),
    ("ecs.c6.2xlarge", "ecs.c6", 8, 16384, 0, ""),
    ("ecs.r6.large", "ecs.r6", 2, 16384, 0, ""),
    ("ecs.t5-lc1m2.small", "ecs.t5", 1, 2048, 0, ""),
    ("ecs.t6-c1m2.large", "ecs.t6", 2, 4096, 0, ""),
    ("ecs.hfc6.large", "ecs.hfc6", 2, 4096, 0, ""),
    ("ecs.gn6i-c4g1.xlarge", "ecs.gn6i", 4, 15360, 1, "NVIDIA T4"),
];

/// (image id, OSName, OSType)
const IMAGES: &[(&str, &str, &str)] = &[
    (
        "ubuntu_22_04_x64_20G_alibase_20230907.vhd",
        "Ubuntu  22.04 64位",
        "linux",
    ),
    (
        "aliyun_3_x64_20G_alibase_20231220.vhd",
        "Alibaba Cloud Linux  3.2104 LTS 64位",
        "linux",
    ),
    (
        "centos_7_9_x64_20G_alibase_20230815.vhd",
        "CentOS  7.9 64位",
        "linux",
    ),
    (
        "debian_12_4_x64_20G_alibase_20231220.vhd",
        "Debian  12.4 64位",
        "linux",
    ),
    (
        "win2022_21H2_x64_dtc_en-us_40G_alibase_20231115.vhd",
        "Windows Server  2022 数据中心版 64位英文版",
        "windows",
    ),
];

const ROLES: &[&str] = &["web", "db", "cache", "worker", "api", "batch"];
const ENVS: &[&str] = &["prod", "prod", "staging", "dev", "生产", "测试"];
const RESOURCE_GROUPS: &[&str] = &[
    "rg-acfmzw2jz2z4ldq",
    "rg-aek2kqofrgkxbsa",
    "rg-aekzbxltdpbrxxi",
];
const DESCRIPTIONS: &[&str] = &[
    "",
    "",
    "managed by terraform",
    "批处理节点",
    "legacy: do not touch",
];

/// Hands out distinct addresses of a range, never `.0` or `.255` in the last octet.
struct Addresses {
    first: u8,
    second_base: u32,
    second_span: u32,
    next: u64,
}

impl Addresses {
    fn new(first: u8, second_base: u32, second_span: u32, start: u64) -> Addresses {
        Addresses {
            first,
            second_base,
            second_span,
            next: start,
        }
    }

    fn take(&mut self) -> String {
        let k = self.next;
        self.next += 1;
        let d = k % 254 + 1;
        let c = (k / 254) % 256;
        let b = (k / (254 * 256)) % u64::from(self.second_span) + u64::from(self.second_base);
        format!("{}.{b}.{c}.{d}", self.first)
    }
}

fn ip_list(ips: &[String]) -> Value {
    json!({ "IpAddress": ips })
}

fn minutes(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%MZ")
        .to_string()
}

/// What [`add_full_fields`] needs to know of an instance already drawn.
struct Facts<'a> {
    status: &'a str,
    prepaid: bool,
    cpu: u32,
    created: i64,
    classic: bool,
    has_eip: bool,
    region_prefix: &'a str,
    os_name_en: &'a str,
}

/// The English `OSNameEn` of an image of [`IMAGES`].
fn image_en(image: &str) -> &'static str {
    match image.split('_').next().unwrap_or("") {
        "ubuntu" => "Ubuntu  22.04 64 bit",
        "aliyun" => "Alibaba Cloud Linux  3.2104 LTS 64 bit",
        "centos" => "CentOS  7.9 64 bit",
        "debian" => "Debian  12.4 64 bit",
        _ => "Windows Server  2022 DataCenter 64 bit English",
    }
}

/// Completes an instance to every field of the API's Instance object (alibabacloud-ecs20140526
/// 7.11.8, `DescribeInstancesResponseBodyInstancesInstance`: 69 fields) and every nested one,
/// with the values the API gives a typical instance: mostly empty attributes, a few filled.
fn add_full_fields(inst: &mut Value, rng: &mut Rng, f: &Facts) {
    let p = f.region_prefix;
    let spot = match rng.below(20) {
        0 => "SpotAsPriceGo",
        1 => "SpotWithPriceLimit",
        _ => "NoSpot",
    };
    let rare = |rng: &mut Rng, n: usize| rng.below(n) == 0;
    let dedicated = rare(rng, 50);
    let reserved = rare(rng, 30);
    let locked = f.status == "Stopped" && rare(rng, 4);
    let serial = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        rng.next_u64() as u32,
        rng.next_u64() as u16,
        rng.next_u64() & 0xfff,
        rng.next_u64() & 0xfff,
        rng.next_u64() & 0xffff_ffff_ffff
    );
    let extra = json!({
        "OSNameEn": f.os_name_en,
        "StartTime": minutes(f.created + 60 + rng.below(86_400) as i64),
        "SerialNumber": serial,
        "SpotStrategy": spot,
        "SpotPriceLimit": if spot == "SpotWithPriceLimit" { 0.5 + rng.below(100) as f64 / 100.0 } else { 0.0 },
        "SpotDuration": i32::from(spot != "NoSpot"),
        "SpotInterruptionBehavior": if spot == "NoSpot" { "" } else { "Terminate" },
        "SaleCycle": if f.prepaid { "Month" } else { "" },
        "VlanId": "",
        "ClusterId": "",
        "HpcClusterId": "",
        "ISP": "",
        "DeviceAvailable": true,
        "Recyclable": false,
        "EnableNVS": false,
        "LocalStorageAmount": 0,
        "LocalStorageCapacity": 0,
        "DeploymentSetGroupNo": if inst["DeploymentSetId"] == "" { 0 } else { 1 + rng.below(3) },
        "RdmaIpAddress": {"IpAddress": []},
        "OperationLocks": {"LockReason": if locked {
            json!([{"LockMsg": "The specified instance is locked due to an overdue payment.", "LockReason": "financial"}])
        } else {
            json!([])
        }},
        "DedicatedHostAttribute": if dedicated {
            json!({
                "DedicatedHostClusterId": format!("dc-{p}{}", rng.alnum(17)),
                "DedicatedHostId": format!("dh-{p}{}", rng.alnum(17)),
                "DedicatedHostName": format!("ddh-{:02}", rng.below(20)),
            })
        } else {
            json!({"DedicatedHostClusterId": "", "DedicatedHostId": "", "DedicatedHostName": ""})
        },
        "DedicatedInstanceAttribute": if dedicated {
            json!({"Affinity": "host", "Tenancy": "host"})
        } else {
            json!({"Affinity": "", "Tenancy": ""})
        },
        "EcsCapacityReservationAttr": if reserved {
            json!({"CapacityReservationId": format!("crp-{p}{}", rng.alnum(17)), "CapacityReservationPreference": "target"})
        } else {
            json!({"CapacityReservationId": "", "CapacityReservationPreference": ""})
        },
        "MetadataOptions": {
            "HttpEndpoint": "enabled",
            "HttpPutResponseHopLimit": 1,
            "HttpTokens": if rare(rng, 3) { "required" } else { "optional" },
            "InstanceMetadataTags": "disabled",
        },
        "CpuOptions": {
            "CoreCount": (f.cpu / 2).max(1),
            "EnableVISST": false,
            "EnableVRDT": false,
            "NestedVirtualization": "",
            "Numa": "",
            "ThreadsPerCore": if f.cpu > 1 { 2 } else { 1 },
            "TopologyType": "",
            "TurboMode": "",
        },
        "HibernationOptions": {"Configured": false},
        "ImageOptions": {"CurrentOSNVMeSupported": rng.below(2) == 0, "LoginAsNonRoot": false},
        "SecurityOptions": {"EnableSecureBoot": false},
        "PrivateDnsNameOptions": {
            "EnableInstanceIdDnsAAAARecord": false,
            "EnableInstanceIdDnsARecord": false,
            "EnableIpDnsARecord": false,
            "EnableIpDnsPtrRecord": false,
            "HostnameType": "Custom",
        },
        "ClockOptions": {"PtpStatus": ""},
        "AdditionalInfo": {"EnableHighDensityMode": false, "ManagedHostId": "", "NodeSerialNumber": ""},
    });
    if let (Value::Object(inst), Value::Object(extra)) = (&mut *inst, extra) {
        inst.extend(extra);
    }
    let eip = &mut inst["EipAddress"];
    eip["Bandwidth"] = json!(if f.has_eip {
        5 * (1 + rng.below(40))
    } else {
        0
    });
    eip["IsSupportUnassociate"] = json!(f.has_eip);
    if f.classic {
        return;
    }
    if let Some(nic) = inst["NetworkInterfaces"]["NetworkInterface"].get_mut(0) {
        let primary = nic["PrimaryIpAddress"].clone();
        nic["PrivateIpSets"] = json!({"PrivateIpSet": [
            {"Primary": true, "PrivateDnsName": "", "PrivateIpAddress": primary},
        ]});
        nic["Ipv6Sets"] = if rare(rng, 5) {
            json!({"Ipv6Set": [{"Ipv6Address": format!("2408:4005:3ff:{:x}::{:x}", rng.below(0xffff), 1 + rng.below(0xfffe)), "Primary": true}]})
        } else {
            json!({"Ipv6Set": []})
        };
        // Prefix delegation is rare; the sets are there, empty, on every other NIC.
        let (v4, v6) = if rare(rng, 50) {
            let block = rng.below(4096);
            (
                json!([{"Ipv4Prefix": format!("172.31.{}.{}/28", block / 16, (block % 16) * 16)}]),
                json!([{"Ipv6Prefix": format!("2408:4005:3ff:{block:x}:8000::/80")}]),
            )
        } else {
            (json!([]), json!([]))
        };
        nic["Ipv4PrefixSets"] = json!({ "Ipv4PrefixSet": v4 });
        nic["Ipv6PrefixSets"] = json!({ "Ipv6PrefixSet": v6 });
    }
}

/// How many instances each region gets.
fn split(opts: &Options) -> Vec<usize> {
    let n = opts.regions.max(1);
    let m = opts.instances;
    let mut counts = vec![0usize; n];
    let (first, rest_regions) = match opts.skew {
        Some(s) if n > 1 => (((s * m as f64).round() as usize).min(m), n - 1),
        _ => (0, n),
    };
    let offset = n - rest_regions;
    counts[0] = first;
    let rest = m - first;
    for (i, c) in counts.iter_mut().skip(offset).enumerate() {
        *c += rest / rest_regions + usize::from(i < rest % rest_regions);
    }
    counts
}

pub fn write_fleet(opts: &Options, out: &mut impl Write) -> std::io::Result<()> {
    let mut rng = Rng::new(opts.seed);
    let counts = split(opts);
    let regions: Vec<Region> = (0..counts.len()).map(region).collect();
    let region_values: Vec<Value> = regions
        .iter()
        .map(|r| {
            json!({
                "RegionId": r.id,
                "LocalName": r.local_name,
                "RegionEndpoint": format!("ecs.{}.aliyuncs.com", r.id),
                "Status": "available",
            })
        })
        .collect();
    write!(
        out,
        "{{\"regions\":{},\n\"instances\":[",
        Value::Array(region_values)
    )?;
    // Separate ranges: public 47.96/11, EIP 39.96/11, private VPC 172.16/12, classic 10/8.
    let off = opts.address_offset;
    let mut public = Addresses::new(47, 96, 32, off);
    let mut eip = Addresses::new(39, 96, 32, off);
    let mut private = Addresses::new(172, 16, 16, off);
    let mut inner = Addresses::new(10, 0, 256, off);
    // Loopback: 127.0.1.1 onwards, one address never reused.
    let mut lo = Addresses::new(127, 0, 256, 254 + off);
    let mut global = 0u64;
    let mut first = true;
    // The fields beyond the ones above draw from a stream of their own, so that adding them
    // left every earlier choice (names, states, addresses) as it was.
    let mut full = Rng::new(opts.seed ^ 0xF011_F1E1_D5F0_0001);
    for (r, &count) in regions.iter().zip(&counts) {
        let vpcs: Vec<(String, Vec<(String, String)>)> = (0..2)
            .map(|_| {
                let vpc = format!("vpc-{}{}", r.prefix, rng.alnum(17));
                let vsws = (0..2)
                    .map(|_| {
                        let zone = rng.pick(&r.zones).clone();
                        (format!("vsw-{}{}", r.prefix, rng.alnum(17)), zone)
                    })
                    .collect();
                (vpc, vsws)
            })
            .collect();
        let sgs: Vec<String> = (0..4)
            .map(|_| format!("sg-{}{}", r.prefix, rng.alnum(17)))
            .collect();
        let deployment_set = format!("ds-{}{}", r.prefix, rng.alnum(17));
        let mut previous_name = String::new();
        for local in 0..count {
            let g = global;
            global += 1;
            // The index, scrambled by a bijection of 0..36^7, keeps ids unique and irregular.
            let unique = base36(g.wrapping_mul(2_654_435_761) % 36u64.pow(7), 7);
            let id = format!("i-{}{}{unique}", r.prefix, rng.alnum(10));
            let role = *rng.pick(ROLES);
            let name = if local % 50 == 49 {
                previous_name.clone()
            } else {
                format!("{role}-{}-{local:05}", r.id)
            };
            previous_name = name.clone();
            let (itype, family, cpu, mem, gpus, gpu_spec) = *rng.pick(TYPES);
            let (image, os_name, os_type) = *rng.pick(IMAGES);
            let sf = opts.stopped_fraction;
            let roll = rng.unit();
            let status = if roll < sf {
                "Stopped"
            } else if roll < sf + 0.01 {
                "Starting"
            } else if roll < sf + 0.02 {
                "Stopping"
            } else if roll < sf + 0.025 {
                "Pending"
            } else {
                "Running"
            };
            // Addresses: (classic?, private, inner, public, eip)
            let kind = rng.below(100);
            let (classic, has_private, has_public, has_eip) = if opts.loopback {
                match kind {
                    0..=59 => (false, true, true, false),
                    60..=79 => (false, true, false, true),
                    80..=89 => (true, true, true, false),
                    _ => (false, false, false, true),
                }
            } else {
                match kind {
                    0..=69 => (false, true, true, false),
                    70..=77 => (false, true, false, true),
                    78..=79 => (false, false, false, true),
                    80..=89 => (false, true, false, false),
                    90..=92 => (false, false, false, false),
                    _ => (true, true, true, false),
                }
            };
            let take = |pool: &mut Addresses, lo: &mut Addresses| {
                if opts.loopback {
                    lo.take()
                } else {
                    pool.take()
                }
            };
            let private_ips: Vec<String> = if has_private && !classic {
                vec![take(&mut private, &mut lo)]
            } else {
                vec![]
            };
            let inner_ips: Vec<String> = if has_private && classic {
                vec![take(&mut inner, &mut lo)]
            } else {
                vec![]
            };
            let public_ips: Vec<String> = if has_public {
                vec![take(&mut public, &mut lo)]
            } else {
                vec![]
            };
            let eip_ip = if has_eip {
                take(&mut eip, &mut lo)
            } else {
                String::new()
            };
            let internet_charge = if rng.below(2) == 0 {
                "PayByTraffic"
            } else {
                "PayByBandwidth"
            };
            let eip_value = if has_eip {
                json!({
                    "AllocationId": format!("eip-{}{}", r.prefix, rng.alnum(17)),
                    "IpAddress": eip_ip,
                    "InternetChargeType": internet_charge,
                })
            } else {
                json!({"AllocationId": "", "IpAddress": "", "InternetChargeType": ""})
            };
            let (vpc_id, (vsw_id, zone)) = if classic {
                (String::new(), (String::new(), rng.pick(&r.zones).clone()))
            } else {
                let (vpc, vsws) = rng.pick(&vpcs);
                (vpc.clone(), rng.pick(vsws).clone())
            };
            let mut sg_ids: Vec<String> = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let sg = rng.pick(&sgs);
                if !sg_ids.contains(sg) {
                    sg_ids.push(sg.clone());
                }
            }
            let mac = format!(
                "00:16:3e:{:02x}:{:02x}:{:02x}",
                (g >> 16) & 0xff,
                (g >> 8) & 0xff,
                g & 0xff
            );
            let nics = if classic {
                json!({"NetworkInterface": []})
            } else {
                json!({"NetworkInterface": [{
                    "MacAddress": mac,
                    "NetworkInterfaceId": format!("eni-{}{}", r.prefix, rng.alnum(17)),
                    "PrimaryIpAddress": private_ips.first().cloned().unwrap_or_default(),
                    "Type": "Primary",
                }]})
            };
            let created = 1_546_300_800 + (rng.below(5 * 365 * 86_400) as i64);
            let prepaid = rng.below(5) == 0;
            let expired = if prepaid {
                minutes(created + (1 + rng.below(3) as i64) * 365 * 86_400)
            } else {
                "2099-12-31T15:59Z".to_owned()
            };
            let credit = match family {
                "ecs.t5" | "ecs.t6" => {
                    if rng.below(2) == 0 {
                        "Standard"
                    } else {
                        "Unlimited"
                    }
                }
                _ => "",
            };
            let tag_roll = rng.below(100);
            let mut inst = json!({
                "InstanceId": id,
                "InstanceName": name,
                "HostName": format!("iZ{}Z", &id[2..]),
                "Description": *rng.pick(DESCRIPTIONS),
                "RegionId": r.id,
                "ZoneId": zone,
                "InstanceType": itype,
                "InstanceTypeFamily": family,
                "Cpu": cpu,
                "Memory": mem,
                "Status": status,
                "ImageId": image,
                "OSName": os_name,
                "OSType": os_type,
                "CreationTime": minutes(created),
                "ExpiredTime": expired,
                "InstanceChargeType": if prepaid { "PrePaid" } else { "PostPaid" },
                "InternetChargeType": internet_charge,
                "InternetMaxBandwidthIn": 100,
                "InternetMaxBandwidthOut": if has_public { 1 + rng.below(100) } else { 0 },
                "IoOptimized": true,
                "InstanceNetworkType": if classic { "classic" } else { "vpc" },
                "PublicIpAddress": ip_list(&public_ips),
                "InnerIpAddress": ip_list(&inner_ips),
                "EipAddress": eip_value,
                "VpcAttributes": {
                    "VpcId": vpc_id,
                    "VSwitchId": vsw_id,
                    "PrivateIpAddress": ip_list(&private_ips),
                    "NatIpAddress": "",
                },
                "SecurityGroupIds": {"SecurityGroupId": sg_ids},
                "NetworkInterfaces": nics,
                "GPUAmount": gpus,
                "GPUSpec": gpu_spec,
                "DeletionProtection": rng.below(10) == 0,
                "CreditSpecification": credit,
                "DeploymentSetId": if rng.below(10) == 0 { deployment_set.as_str() } else { "" },
                "ResourceGroupId": *rng.pick(RESOURCE_GROUPS),
                "AutoReleaseTime": if rng.below(30) == 0 { "2030-01-01T00:00Z" } else { "" },
                "KeyPairName": *rng.pick(&["deploy-key", "deploy-key", "ops-2023", ""]),
                "SpotStrategy": "NoSpot",
                "StoppedMode": if status == "Stopped" { "KeepCharging" } else { "Not-applicable" },
            });
            match tag_roll {
                0..=2 => {} // the real API omits Tags for an untagged instance
                3..=5 => inst["Tags"] = json!({"Tag": []}),
                _ => {
                    let mut tags = vec![
                        json!({"TagKey": "Name", "TagValue": name}),
                        json!({"TagKey": "env", "TagValue": *rng.pick(ENVS)}),
                        json!({"TagKey": "role", "TagValue": role}),
                    ];
                    if role == "web" {
                        tags.push(json!({"TagKey": "services", "TagValue": "nginx,redis"}));
                    }
                    if rng.below(4) == 0 {
                        tags.push(
                            json!({"TagKey": "app:tier.v1 x", "TagValue": "front end: v1.2"}),
                        );
                    }
                    if rng.below(5) == 0 {
                        tags.push(json!({"TagKey": "managed", "TagValue": ""}));
                    }
                    if rng.below(6) == 0 {
                        tags.push(json!({"TagKey": "owner", "TagValue": "ops team, 运维"}));
                    }
                    inst["Tags"] = json!({ "Tag": tags });
                }
            }
            add_full_fields(
                &mut inst,
                &mut full,
                &Facts {
                    status,
                    prepaid,
                    cpu,
                    created,
                    classic,
                    has_eip,
                    region_prefix: &r.prefix,
                    os_name_en: image_en(image),
                },
            );
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            serde_json::to_writer(&mut *out, &inst)?;
        }
    }
    out.write_all(b"\n]}\n")?;
    out.flush()
}

#[cfg(test)]
mod tests;
