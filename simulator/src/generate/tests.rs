use super::*;

#[test]
fn splitmix64_known_values() {
    // Reference values of splitmix64 seeded with 0 (state starts at 0).
    let mut r = Rng(0);
    assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
    assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
}

#[test]
fn split_honours_skew() {
    let o = |regions, instances, skew| Options {
        regions,
        instances,
        skew,
        seed: 1,
        loopback: false,
        stopped_fraction: 0.1,
        address_offset: 0,
    };
    let c = split(&o(20, 10_000, Some(0.5)));
    assert_eq!(c[0], 5000);
    assert_eq!(c.iter().sum::<usize>(), 10_000);
    let c = split(&o(3, 10, None));
    assert_eq!(c, vec![4, 3, 3]);
    assert_eq!(split(&o(1, 7, Some(0.5))), vec![7]);
}

#[test]
fn loopback_addresses_skip_the_reserved_ones() {
    let mut lo = Addresses::new(127, 0, 256, 254);
    assert_eq!(lo.take(), "127.0.1.1");
}
/// Every field of the API's Instance object (alibabacloud-ecs20140526 7.11.8).
const API_FIELDS: &[&str] = &[
    "AdditionalInfo",
    "AutoReleaseTime",
    "ClockOptions",
    "ClusterId",
    "Cpu",
    "CpuOptions",
    "CreationTime",
    "CreditSpecification",
    "DedicatedHostAttribute",
    "DedicatedInstanceAttribute",
    "DeletionProtection",
    "DeploymentSetGroupNo",
    "DeploymentSetId",
    "Description",
    "DeviceAvailable",
    "EcsCapacityReservationAttr",
    "EipAddress",
    "EnableNVS",
    "ExpiredTime",
    "GPUAmount",
    "GPUSpec",
    "HibernationOptions",
    "HostName",
    "HpcClusterId",
    "ISP",
    "ImageId",
    "ImageOptions",
    "InnerIpAddress",
    "InstanceChargeType",
    "InstanceId",
    "InstanceName",
    "InstanceNetworkType",
    "InstanceType",
    "InstanceTypeFamily",
    "InternetChargeType",
    "InternetMaxBandwidthIn",
    "InternetMaxBandwidthOut",
    "IoOptimized",
    "KeyPairName",
    "LocalStorageAmount",
    "LocalStorageCapacity",
    "Memory",
    "MetadataOptions",
    "NetworkInterfaces",
    "OSName",
    "OSNameEn",
    "OSType",
    "OperationLocks",
    "PrivateDnsNameOptions",
    "PublicIpAddress",
    "RdmaIpAddress",
    "Recyclable",
    "RegionId",
    "ResourceGroupId",
    "SaleCycle",
    "SecurityGroupIds",
    "SecurityOptions",
    "SerialNumber",
    "SpotDuration",
    "SpotInterruptionBehavior",
    "SpotPriceLimit",
    "SpotStrategy",
    "StartTime",
    "Status",
    "StoppedMode",
    "Tags",
    "VlanId",
    "VpcAttributes",
    "ZoneId",
];

#[test]
fn instances_carry_every_field_of_the_api() {
    assert_eq!(API_FIELDS.len(), 69);
    let opts = Options {
        regions: 3,
        instances: 400,
        skew: None,
        seed: 7,
        loopback: false,
        stopped_fraction: 0.1,
        address_offset: 0,
    };
    let mut out = Vec::new();
    write_fleet(&opts, &mut out).unwrap();
    let fleet: Value = serde_json::from_slice(&out).unwrap();
    let instances = fleet["instances"].as_array().unwrap();
    assert_eq!(instances.len(), 400);
    let mut tagged = 0;
    for inst in instances {
        let obj = inst.as_object().unwrap();
        // The API leaves Tags out of an untagged instance, and only that.
        let missing: Vec<_> = API_FIELDS
            .iter()
            .filter(|f| !obj.contains_key(**f))
            .collect();
        assert!(missing.is_empty() || missing == [&"Tags"], "{missing:?}");
        tagged += usize::from(missing.is_empty());
        assert_eq!(obj.len(), 69 - missing.len(), "no field beyond the API's");
    }
    assert!(tagged > 350, "{tagged}");
    // Nested ones too, somewhere in the fleet.
    let text = String::from_utf8(out).unwrap();
    for nested in [
        "\"PrivateIpSet\":[{",
        "\"Ipv6Set\":[{",
        "\"Ipv4PrefixSet\":[{",
        "\"Ipv6PrefixSet\":[{",
        "\"LockReason\":[{",
        "\"IsSupportUnassociate\":true",
        "\"DedicatedHostId\":\"dh-",
        "\"CapacityReservationId\":\"crp-",
        "\"SpotPriceLimit\":0.",
        "\"TagKey\":\"role\"",
    ] {
        assert!(text.contains(nested), "no {nested} in 400 instances");
    }
}
