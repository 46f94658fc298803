use super::*;

fn settings(text: &str) -> Result<Settings> {
    let ini = Ini::parse(Path::new("a.ini"), text)?;
    Settings::from_ini(Some(&ini), &Env::default())
}

#[test]
fn defaults_match_the_spec() {
    let s = Settings::from_ini(None, &Env::default()).unwrap();
    assert_eq!(s.regions, Regions::All);
    assert_eq!(s.destination_variables, vec!["public_ip_address"]);
    assert_eq!(s.hostname_variable, "instance_id");
    assert_eq!(s.instance_states, Some(vec!["running".to_string()]));
    assert_eq!(
        (s.cache_max_age, s.max_concurrency, s.max_retries),
        (300, 8, 5)
    );
    assert_eq!(s.timeout, Duration::from_secs(10));
    assert_eq!(
        (s.throttle_window, s.throttle_wait),
        (Duration::from_secs(60), Duration::from_secs(70))
    );
    assert!(s.replace_dash_in_groups && !s.nested_groups && s.group_by.tag_none);
    assert!(!s.group_by.os_type && s.ecs_endpoint.is_none());
    assert_eq!(s.sts_endpoint, "https://sts.aliyuncs.com");
}

#[test]
fn yaml_booleans_lists_and_aliases() {
    let s = settings(
        "[ecs]\nnested_groups = yes\nreplace_dash_in_groups = Off\nregions = cn-hangzhou, cn-beijing\n\
         destination_variable = inner_ip_address, eip_address\nall_instances = TRUE\n",
    )
    .unwrap();
    assert!(s.nested_groups && !s.replace_dash_in_groups);
    assert_eq!(
        s.regions,
        Regions::List(vec!["cn-hangzhou".into(), "cn-beijing".into()])
    );
    assert_eq!(
        s.destination_variables,
        vec!["private_ip_address", "public_ip_address"]
    );
    assert_eq!(s.instance_states, None);
}

#[test]
fn bad_values_name_file_line_and_option() {
    let e = settings("[ecs]\n\nnested_groups = maybe\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "a.ini:3: option 'nested_groups': 'maybe' is not a boolean (use True or False)"
    );
    assert_eq!(e.exit_code(), 2);
    let e = settings("[ecs]\ninstance_states = running, sleeping\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("a.ini:2: option 'instance_states': unknown instance state 'sleeping'"),
        "{e}"
    );
    let e = settings("[ecs]\npattern_include = web[\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("a.ini:2: option 'pattern_include': bad regular expression"),
        "{e}"
    );
    let e = settings("[ecs]\ncache_max_age = soon\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("'soon' is not a whole number of seconds"), "{e}");
    let e = settings("[ecs]\ninstance_filters = flavor=x\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown filter key 'flavor'"), "{e}");
}

#[test]
fn unknown_option_warns_with_the_nearest_name() {
    let s = settings("[ecs]\nregion = all\nfoo_bar_baz_qux = 1\n").unwrap();
    assert_eq!(
        s.warnings[0],
        "a.ini:2: unknown option 'region' in [ecs] ignored (did you mean 'regions'?)"
    );
    assert!(!s.warnings[1].contains("did you mean"), "{}", s.warnings[1]);
}

#[test]
fn a_secret_missing_its_equals_sign_is_not_quoted() {
    let s = settings("[credentials]\nalicloud_secret_key abc:def\n").unwrap();
    assert!(!s.warnings[0].contains("abc"), "{}", s.warnings[0]);
    assert!(
        s.warnings[0].contains("'alicloud_secret_key …'"),
        "{}",
        s.warnings[0]
    );
}

/// `regions` and `regions_exclude` that cancel out gave an empty inventory, cached as good.
#[test]
fn regions_that_exclude_every_listed_region_are_refused() {
    let e = settings("[ecs]\nregions = cn-a\nregions_exclude = cn-a\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("option 'regions_exclude': excludes every region regions lists (cn-a)"),
        "{e}"
    );
    let s = settings("[ecs]\nregions = cn-a, cn-b\nregions_exclude = cn-a\n").unwrap();
    assert_eq!(s.regions_exclude, vec!["cn-a".to_string()]);
    assert!(settings("[ecs]\nregions_exclude = cn-a\n").is_ok());
}

#[test]
fn endpoint_env_beats_ini_and_cache_path_expands() {
    let mut env = Env::default();
    env.0
        .insert("ALICLOUD_ECS_ENDPOINT".into(), "http://127.0.0.1:9/".into());
    env.0.insert("HOME".into(), "/home/op".into());
    env.0.insert("X".into(), "y".into());
    let ini = Ini::parse(
        Path::new("a.ini"),
        "[ecs]\necs_endpoint = ecs.example.com\n",
    )
    .unwrap();
    let s = Settings::from_ini(Some(&ini), &env).unwrap();
    assert_eq!(s.ecs_endpoint.as_deref(), Some("http://127.0.0.1:9"));
    let ini = Ini::parse(Path::new("a.ini"), "[ecs]\ncache_path = ~/c/$X\n").unwrap();
    let s = Settings::from_ini(Some(&ini), &env).unwrap();
    assert_eq!(s.cache_path, PathBuf::from("/home/op/c/y"));
}

#[test]
fn numbers_are_checked_at_their_bounds() {
    for (text, ok) in [
        ("timeout = 0", false),
        ("timeout = 0.5", true),
        ("timeout = 3600", true),
        ("timeout = 3600.5", false),
        ("timeout = -1", false),
        ("max_concurrency = 0", false),
        ("max_concurrency = 1", true),
        ("max_concurrency = 1024", true),
        ("max_concurrency = 1025", false),
        ("max_retries = 0", true),
        ("max_retries = 20", true),
        ("max_retries = 21", false),
    ] {
        let r = settings(&format!("[ecs]\n{text}\n"));
        assert_eq!(r.is_ok(), ok, "{text}");
        if let Err(e) = r {
            let option = text.split(' ').next().unwrap();
            let top = match option {
                "timeout" => "3600",
                "max_concurrency" => "1024",
                _ => "20",
            };
            let e = e.to_string();
            assert!(
                e.starts_with(&format!("a.ini:2: option '{option}': ")) && e.contains(top),
                "the message states the range: {e}"
            );
        }
    }
    let s = settings("[ecs]\ntimeout = 0.5\nmax_concurrency = 3\nmax_retries = 0\n").unwrap();
    assert_eq!(s.timeout, Duration::from_millis(500));
    assert_eq!((s.max_concurrency, s.max_retries), (3, 0));
}

#[test]
fn empty_values_are_unset() {
    let s = settings(
        "[ecs]\necs_endpoint =\nsts_endpoint =\ncache_path =\n[credentials]\n\
         alicloud_access_key =\nalicloud_secret_key =\nalicloud_region =\nassume_role =\n",
    )
    .unwrap();
    assert_eq!(s.ecs_endpoint, None);
    assert_eq!(s.sts_endpoint, "https://sts.aliyuncs.com");
    assert_eq!(s.cache_path, default_cache_dir(&Env::default()));
    let c = &s.credentials;
    assert!(c.access_key.is_none() && c.secret_key.is_none() && c.region.is_none());
    assert!(c.assume_role.is_none());
    let s = settings(
        "[ecs]\nsts_endpoint = sts.example.com\n[credentials]\nalicloud_region = cn-x\n\
         assume_role = {role_arn: acs:ram::1:role/r}\n",
    )
    .unwrap();
    assert_eq!(s.sts_endpoint, "https://sts.example.com");
    assert_eq!(s.credentials.region.as_deref(), Some("cn-x"));
    assert_eq!(
        s.credentials.assume_role.map(|r| r.role_arn),
        Some("acs:ram::1:role/r".to_string())
    );
}

#[test]
fn the_source_is_the_file_read() {
    let s = settings("[ecs]\n").unwrap();
    assert_eq!(s.source.as_deref(), Some(Path::new("a.ini")));
    let s = Settings::from_ini(None, &Env::default()).unwrap();
    assert_eq!(s.source, None);
}

#[test]
fn the_default_cache_is_in_the_users_cache_directory() {
    let d = default_cache_dir(&Env::default());
    assert!(d.is_absolute(), "{}", d.display());
    assert!(d.ends_with("alicloud_inventory"), "{}", d.display());
}

#[test]
fn the_fingerprint_changes_with_every_setting_that_changes_the_answer() {
    let base = Settings::from_ini(None, &Env::default()).unwrap();
    let fp = base.fingerprint();
    assert!(fp.contains("running"), "{fp}");
    let changed = [
        "regions = cn-x",
        "regions_exclude = cn-x",
        "destination_variable = private_ip_address",
        "destination_format = {0}.x",
        "destination_format_tags = Name",
        "hostname_variable = tag_Name",
        "instance_states = stopped",
        "all_instances = True",
        "nested_groups = True",
        "replace_dash_in_groups = False",
        "legacy_tags_hostvar = True",
        "ascii_group_names = True",
        "expand_csv_tags = True",
        "group_by_region = False",
        "group_by_charge_type = True",
        "pattern_include = web",
        "pattern_exclude = web",
        "instance_filters = zone_id=cn-x-a",
        "ecs_endpoint = ecs.example.com",
    ];
    let mut seen = std::collections::HashSet::new();
    seen.insert(fp.clone());
    for line in changed {
        let s = settings(&format!("[ecs]\n{line}\n")).unwrap();
        assert!(
            seen.insert(s.fingerprint()),
            "{line} leaves the fingerprint as it was"
        );
    }
    // What does not change the answer is left out.
    let s =
        settings("[ecs]\ntimeout = 3\nmax_concurrency = 2\nmax_retries = 0\ncache_max_age = 9\n")
            .unwrap();
    assert_eq!(s.fingerprint(), fp);
}

#[test]
fn a_secret_in_a_file_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.ini");
    let mode =
        |m: u32| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).unwrap();
    std::fs::write(&path, "[credentials]\nalicloud_secret_key = s\n").unwrap();
    let shown = path.display();
    mode(0o644);
    assert_eq!(
        readable_secret_warning(&path).unwrap(),
        format!("{shown} holds a secret and is readable by everyone (run: chmod 600 {shown})")
    );
    mode(0o640);
    assert!(readable_secret_warning(&path)
        .unwrap()
        .contains("readable by its group"));
    mode(0o604);
    assert!(readable_secret_warning(&path)
        .unwrap()
        .contains("readable by everyone"));
    mode(0o600);
    assert_eq!(readable_secret_warning(&path), None);
    assert_eq!(readable_secret_warning(&dir.path().join("none")), None);
    // Through the settings: a secret or a token alone is enough; no secret, no warning.
    mode(0o644);
    let load = |text: &str| {
        std::fs::write(&path, text).unwrap();
        Settings::load(Some(&path), &Env::default())
            .unwrap()
            .warnings
    };
    assert_eq!(load("[credentials]\nalicloud_secret_key = s\n").len(), 1);
    assert_eq!(
        load("[credentials]\nalicloud_security_token = t\n").len(),
        1
    );
    assert_eq!(load("[credentials]\nalicloud_access_key = k\n").len(), 0);
    assert_eq!(load("[ecs]\nregions = all\n").len(), 0);
}

#[test]
fn known_options_do_not_warn_and_a_far_typo_of_a_long_name_is_still_matched() {
    let s = settings(
        "[ecs]\nregions = all\nalicloud_access_key = k\n[credentials]\nalicloud_secret_key = s\n",
    )
    .unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // Four letters wrong in a 20-letter name: within a third of its length.
    let s = settings("[ecs]\ndxstxnation_vxrixble = x\n").unwrap();
    assert!(
        s.warnings[0].ends_with("(did you mean 'destination_variable'?)"),
        "{}",
        s.warnings[0]
    );
    let s = settings("[ecs]\nxxxx = 1\n[other]\n").unwrap();
    assert!(!s.warnings[0].contains("did you mean"), "{}", s.warnings[0]);
    assert_eq!(
        s.warnings[1],
        "a.ini:3: unknown section [other] ignored (options go in [ecs] and [credentials])"
    );
}

#[test]
fn the_process_environment_is_read() {
    let env = Env::from_process();
    assert_eq!(env.0.get("PATH"), std::env::var("PATH").ok().as_ref());
    assert!(!env.0.is_empty());
}

#[test]
fn too_many_digits_are_out_of_range_and_anything_else_is_not_a_number() {
    let huge = "9".repeat(50);
    let range = "(use a whole number from 0 to 20)";
    let error = |v: &str| {
        settings(&format!("[ecs]\nmax_retries = {v}\n"))
            .unwrap_err()
            .to_string()
    };
    for v in [huge.clone(), format!("-{huge}"), "21".into()] {
        assert_eq!(
            error(&v),
            format!("a.ini:2: option 'max_retries': '{v}' is out of range {range}")
        );
    }
    for v in ["1x", "x1", "+", "-", "1.5"] {
        assert_eq!(
            error(v),
            format!("a.ini:2: option 'max_retries': '{v}' is not a whole number {range}")
        );
    }
}

#[test]
fn a_cache_max_age_past_i128_is_never_or_always_stale_by_its_sign() {
    let huge = "9".repeat(50);
    let age = |v: &str| {
        settings(&format!("[ecs]\ncache_max_age = {v}\n"))
            .unwrap()
            .cache_max_age
    };
    assert_eq!(age(&huge), u64::MAX);
    assert_eq!(age(&format!("+{huge}")), u64::MAX);
    assert_eq!(age(&format!("-{huge}")), 0);
    assert_eq!(age("-5"), 0);
    assert_eq!(age("18446744073709551616"), u64::MAX);
}

#[test]
fn load_reads_yaml_by_its_extension_and_names_a_bad_path() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.yml", "b.yaml", "c.YML"] {
        let path = dir.path().join(name);
        std::fs::write(&path, "plugin: alicloud_ecs\nregions: [cn-x]\n").unwrap();
        let s = Settings::load(Some(&path), &Env::default()).unwrap();
        assert_eq!(s.regions, Regions::List(vec!["cn-x".into()]), "{name}");
        assert_eq!(s.source.as_deref(), Some(path.as_path()));
    }
    // The same text in an ini is an option outside any section.
    let ini = dir.path().join("a.ini");
    std::fs::write(&ini, "plugin: alicloud_ecs\n").unwrap();
    let e = Settings::load(Some(&ini), &Env::default()).unwrap_err();
    assert!(e.to_string().contains("option before any [section]"), "{e}");

    let e = Settings::load(Some(dir.path()), &Env::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "config file {} is a directory (name the ini file in it with --config or ALICLOUD_INI_PATH)",
            dir.path().display()
        )
    );
    let missing = dir.path().join("none.ini");
    let e = Settings::load(Some(&missing), &Env::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "config file {} does not exist (check --config or ALICLOUD_INI_PATH)",
            missing.display()
        )
    );
    // A file where a directory should be: the system's reason, not "does not exist".
    let under_a_file = ini.join("x.ini");
    let e = Settings::load(Some(&under_a_file), &Env::default()).unwrap_err();
    assert!(matches!(e, Error::ConfigFile { .. }), "{e}");
}
