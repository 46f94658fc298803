//! The three promises of the README's "Security": cloud data never reaches Ansible as template
//! text, a cache another user could have written is neither read nor written, and no secret
//! appears in any message, in either config format, at any `-v` level.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::harness::{fixture, Sim, Workspace};
use base64::Engine;
use serde_json::{json, Value};

const PAYLOAD: &str = "{{ lookup('pipe', 'touch /tmp/alicloud-inventory-pwned') }}";

/// The fixture fleet, with Jinja in a tag value, the first instance's name and description, a
/// nested field, and a value written with JSON escapes (which the decoder unescapes).
fn hostile_fleet(dir: &Path) -> PathBuf {
    let mut fleet: Value =
        serde_json::from_slice(&std::fs::read(fixture("fleet.json")).unwrap()).unwrap();
    let first = &mut fleet["instances"][0];
    first["Tags"]["Tag"]
        .as_array_mut()
        .unwrap()
        .push(json!({"TagKey": "pwn", "TagValue": PAYLOAD}));
    first["Tags"]["Tag"]
        .as_array_mut()
        .unwrap()
        .push(json!({"TagKey": "quoted", "TagValue": "say \"{% raw %}\""}));
    first["InstanceName"] = json!("{% if true %}web{% endif %}");
    first["Description"] = json!("{# a comment #}");
    first["VpcAttributes"]["NatIpAddress"] = json!(PAYLOAD);
    let path = dir.join("hostile.json");
    std::fs::write(&path, serde_json::to_vec(&fleet).unwrap()).unwrap();
    path
}

/// Every string in `v` that holds `{{`, `{%` or `{#`, with its path, outside a marker object.
fn bare_templates(v: &Value, at: &str, found: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains("{{") || s.contains("{%") || s.contains("{#") => {
            found.push(format!("{at} = {s:?}"))
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                bare_templates(x, &format!("{at}[{i}]"), found);
            }
        }
        Value::Object(m) if m.len() == 1 && m.contains_key("__ansible_unsafe") => {
            assert!(m["__ansible_unsafe"].is_string(), "{at}: {v}");
        }
        Value::Object(m) => {
            for (k, x) in m {
                bare_templates(x, &format!("{at}.{k}"), found);
            }
        }
        _ => {}
    }
}

fn unsafe_of(s: &str) -> Value {
    json!({ "__ansible_unsafe": s })
}

#[test]
fn cloud_templates_reach_ansible_only_as_unsafe_text() {
    let ws = Workspace::new();
    let sim = Sim::start(&hostile_fleet(ws.dir.path()), &[]);
    let ini = ws.ini(
        "hostname_variable = instance_id\ncompose = {copied: ecs_tags.pwn, both: \"[ecs_tags.pwn, description]\", plain: ecs_tags.env}",
    );
    let host = "i_bp1aaaaaaaaaaaaaaa01";
    let cold = ws.run_sim(&sim, &ini, &["--list"]);
    cold.assert_success();
    let warm = ws.run_sim(&sim, &ini, &["--list"]);
    warm.assert_success();
    assert_eq!(cold.stdout, warm.stdout, "the cache holds the same output");
    let pretty = ws.run_sim(&sim, &ini, &["--list", "--pretty"]).json();
    let one = ws.run_sim(&sim, &ini, &["--host", host]).json();
    for (what, v) in [("--list", &cold.json()), ("--pretty", &pretty)] {
        let mut found = Vec::new();
        bare_templates(v, what, &mut found);
        assert!(found.is_empty(), "{found:#?}");
    }
    let vars = &cold.json()["_meta"]["hostvars"][host];
    assert_eq!(vars, &one, "--host prints the same entry");
    assert_eq!(vars["ecs_tags"]["pwn"], unsafe_of(PAYLOAD));
    assert_eq!(vars["ecs_tags"]["quoted"], unsafe_of("say \"{% raw %}\""));
    assert_eq!(
        vars["instance_name"],
        unsafe_of("{% if true %}web{% endif %}")
    );
    assert_eq!(vars["description"], unsafe_of("{# a comment #}"));
    assert_eq!(vars["vpc_attributes"]["nat_ip_address"], unsafe_of(PAYLOAD));
    assert_eq!(vars["copied"], unsafe_of(PAYLOAD));
    assert_eq!(
        vars["both"],
        json!([unsafe_of(PAYLOAD), unsafe_of("{# a comment #}")])
    );
    // Strings without markers stay plain: the output of every other host is unchanged.
    assert_eq!(vars["plain"], json!("prod"));
    assert_eq!(vars["instance_id"], json!("i-bp1aaaaaaaaaaaaaaa01"));
    assert_eq!(vars["ecs_tags"]["env"], json!("prod"));
}

// ---- the cache is trusted only as OpenSSH trusts a config file ----

/// A warm cache of the fixture fleet in `ws`'s cache directory; returns the ini and the file.
fn warm_cache(ws: &Workspace, sim: &Sim) -> (PathBuf, PathBuf) {
    let ini = ws.ini("");
    ws.run_sim(sim, &ini, &["--list"]).assert_success();
    let files = ws.cache_files();
    assert_eq!(files.len(), 1, "{files:?}");
    (ini, files[0].clone())
}

/// A run against a cache it must not trust: one warning naming the path and a fix, the
/// inventory from the API, and the cache file left as it was.
fn assert_distrusted(ws: &Workspace, sim: &Sim, ini: &Path, file: &Path, named: &Path, fix: &str) {
    let before = std::fs::read(file).unwrap();
    let calls = sim.api_requests();
    for args in [
        &["--list"][..],
        &["--host", "i_bp1aaaaaaaaaaaaaaa01"],
        &["--graph"],
    ] {
        let out = ws.run_sim(sim, ini, args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(!out.stdout.is_empty(), "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("alicloud_inventory: warning: ")
                && out.stderr.contains(&named.display().to_string())
                && out.stderr.contains(fix),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert!(
        sim.api_requests() >= calls + 3,
        "every run called the API instead of reading the cache"
    );
    assert_eq!(std::fs::read(file).unwrap(), before, "nothing was written");
    assert_eq!(ws.cache_files(), vec![file.to_path_buf()], "no other file");
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_cache_directory_or_file_writable_by_others_is_neither_read_nor_written() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let (ini, file) = warm_cache(&ws, &sim);
    let dir = ws.cache_dir();
    chmod(&dir, 0o777);
    assert_distrusted(&ws, &sim, &ini, &file, &dir, "chmod go-w");
    chmod(&dir, 0o770);
    assert_distrusted(&ws, &sim, &ini, &file, &dir, "chmod go-w");
    // A directory others may read but not write is the user's own choice, and trusted.
    chmod(&dir, 0o755);
    let calls = sim.api_requests();
    ws.run_sim(&sim, &ini, &["--list"]).assert_success();
    assert_eq!(sim.api_requests(), calls, "served from the cache");
    chmod(&dir, 0o700);
    chmod(&file, 0o666);
    assert_distrusted(&ws, &sim, &ini, &file, &file, "chmod go-w");
    let check = ws.run_sim(&sim, &ini, &["--check"]);
    assert!(
        check.stdout.contains("writable by other users"),
        "{}",
        check.stdout
    );
}

#[test]
fn an_ancestor_anyone_may_rename_in_is_not_trusted() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let (ini, file) = warm_cache(&ws, &sim);
    // The workspace's own directory (the cache directory's parent) open to all, without the
    // sticky bit: anyone could move the cache directory aside and put their own in its place.
    chmod(ws.dir.path(), 0o777);
    assert_distrusted(&ws, &sim, &ini, &file, ws.dir.path(), "o-w");
    // With the sticky bit (as /tmp), only the owner may rename it.
    chmod(ws.dir.path(), 0o1777);
    let calls = sim.api_requests();
    ws.run_sim(&sim, &ini, &["--list"]).assert_success();
    assert_eq!(sim.api_requests(), calls, "served from the cache");
    chmod(ws.dir.path(), 0o700);
}

/// Two users: run as root (as CI does), the cache directory and the file planted in it belong
/// to `nobody`. Not root: ownership cannot be given away, and the test says so and checks
/// only that a directory of the user's own is trusted.
#[test]
fn a_cache_of_another_user_is_neither_read_nor_written() {
    const NOBODY: u32 = 65534;
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let (ini, file) = warm_cache(&ws, &sim);
    let dir = ws.cache_dir();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: the cache of another user is only simulated by modes here");
        return;
    }
    std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
    assert_eq!(std::fs::metadata(&dir).unwrap().uid(), NOBODY);
    assert_distrusted(&ws, &sim, &ini, &file, &dir, "directory of your own");
    // The directory back to us, the file still nobody's (renamed over ours by its owner).
    std::os::unix::fs::chown(&dir, Some(0), Some(0)).unwrap();
    std::os::unix::fs::chown(&file, Some(NOBODY), Some(NOBODY)).unwrap();
    assert_distrusted(&ws, &sim, &ini, &file, &file, "directory of your own");
    // Root's own files are trusted again.
    std::os::unix::fs::chown(&file, Some(0), Some(0)).unwrap();
    let calls = sim.api_requests();
    ws.run_sim(&sim, &ini, &["--list"]).assert_success();
    assert_eq!(sim.api_requests(), calls, "served from the cache");
}

// ---- no secret in any message ----

const PLANTED: &str = "Q7zSeCrEtTaIl9xWv4";

/// The secret, or six characters of it, in any form a message could carry it: as it is, or
/// base64-encoded at any alignment.
fn leaks(text: &str) -> Option<String> {
    let b = PLANTED.as_bytes();
    for w in b.windows(6) {
        let w = std::str::from_utf8(w).unwrap();
        if text.contains(w) {
            return Some(w.to_string());
        }
    }
    for skip in 0..3 {
        let enc = base64::engine::general_purpose::STANDARD.encode(&b[skip..]);
        let inner = &enc[..enc.len() - 4];
        for w in inner.as_bytes().windows(8).step_by(4) {
            let w = std::str::from_utf8(w).unwrap();
            if text.contains(w) {
                return Some(format!("base64 {w}"));
            }
        }
    }
    None
}

/// Secret-bearing options written wrong, in the ini: `(section, line)`.
fn ini_cases(profile: &Path) -> Vec<(&'static str, String)> {
    let s = PLANTED;
    let mut v = vec![];
    for opt in [
        "alicloud_access_key",
        "alicloud_secret_key",
        "alicloud_security_token",
    ] {
        for value in [
            s.to_string(),
            format!("[{s}]"),
            format!("{{t: {s}}}"),
            format!("\"{s}"),
            format!("{s}\\"),
        ] {
            v.push(("credentials", format!("{opt} = {value}")));
        }
    }
    for accounts in [
        format!("[{{alias: a, alicloud_access_key: k, alicloud_secret_key: Abc,{s}}}]"),
        format!("{{alias: a, alicloud_access_key: k, alicloud_secret_key: {s}}}"),
        format!("[{{alias: a, alicloud_access_key: k, alicloud_secret_key: [{s}]}}]"),
        format!("[{{alias: a, alicloud_access_key: k, alicloud_secret_key: {s}, bogus: 1}}]"),
        format!("[{{alias: a, alicloud_access_key: k, alicloud_secret_key: \"{s}}}]"),
        format!("[{{alias: a, alicloud_access_key: k, alicloud_secret_key: {{x: {s}}}}}]"),
        format!("[{{alias: a, alicloud_access_key: {s}}}]"),
        format!("[{s}]"),
        format!("[{{alias: a, alicloud_secret_key: {s}}}, {{alias: a, alicloud_secret_key: {s}}}]"),
        format!("[{{alias: a, alicloud_security_token: {{t: {s}}}, alicloud_access_key: k, alicloud_secret_key: x}}]"),
    ] {
        v.push(("ecs", format!("accounts = {accounts}")));
    }
    for role in [
        format!("{{role_arn: \"acs:ram::1:role/r\", policy: {s}, bogus: 1}}"),
        format!("{{role_arn: \"acs:ram::1:role/r\", policy: [{s}]}}"),
        format!("{{role_arn: \"acs:ram::1:role/r\", policy: \"{s}}}"),
        format!("{{role_arn: \"acs:ram::1:role/r\", policy: {s}, session_expiration: {s}}}"),
        format!("{{policy: {s}}}"),
        s.to_string(),
    ] {
        v.push(("credentials", format!("assume_role = {role}")));
    }
    v.push((
        "credentials",
        format!(
            "alicloud_shared_credentials_file = {}\nalicloud_profile = p",
            profile.display()
        ),
    ));
    v
}

/// The same mistakes in the alicloud_ecs plugin's YAML: the lines after `plugin:`.
fn yaml_cases(profile: &Path) -> Vec<String> {
    let s = PLANTED;
    let mut v = vec![];
    for opt in [
        "alicloud_access_key",
        "alicloud_secret_key",
        "alicloud_security_token",
    ] {
        for value in [
            s.to_string(),
            format!("[{s}]"),
            format!("{{t: {s}}}"),
            format!("\"{s}"),
            format!("{s}: x"),
            format!("[[{s}]]"),
            format!("!!binary {s}"),
        ] {
            v.push(format!("{opt}: {value}"));
        }
        v.push(format!("{opt}: {s}\n{opt}: {s}x"));
    }
    for accounts in [
        format!("{{alias: a, alicloud_access_key: k, alicloud_secret_key: {s}}}"),
        format!("\n  alias: a\n  alicloud_secret_key: {s}"),
        format!("[{{alias: a, alicloud_access_key: k, alicloud_secret_key: [{s}]}}]"),
        format!("[{{alias: a, alicloud_access_key: k, alicloud_secret_key: {s}, bogus: 1}}]"),
        format!("[{{alias: a, alicloud_access_key: {s}}}]"),
        format!("[{s}]"),
        format!("[\"{s}\"]"),
        format!("[{{alias: a, alicloud_secret_key: {s}}}, {{alias: a, alicloud_secret_key: {s}}}]"),
        format!("[{{alias: a, alicloud_security_token: {{t: {s}}}, alicloud_access_key: k, alicloud_secret_key: x}}]"),
    ] {
        v.push(format!("accounts: {accounts}"));
    }
    for role in [
        format!("{{role_arn: \"acs:ram::1:role/r\", policy: {s}, bogus: 1}}"),
        format!("{{role_arn: \"acs:ram::1:role/r\", policy: [{s}]}}"),
        format!("{{role_arn: \"acs:ram::1:role/r\", policy: {{Statement: [{s}]}}, session_expiration: {s}}}"),
        format!("{{policy: {s}}}"),
        s.to_string(),
        format!("[{s}]"),
    ] {
        v.push(format!("alicloud_assume_role: {role}"));
    }
    v.push(format!(
        "shared_credentials_file: {}\nprofile: p",
        profile.display()
    ));
    v
}

/// Every secret-bearing option written wrong, in both formats, through `--check` and `--list`
/// at `-vvv`: not six characters of the secret in stdout, stderr or the cache.
#[test]
fn no_secret_in_any_message() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    // Profile files that are not what the CLI writes, the secret inside.
    let profile = ws.path("profiles.json");
    let mut runs = 0;
    let mut leaked = Vec::new();
    let profiles = [
        format!("{{\"current\": \"p\", \"profiles\": [{{\"name\": \"p\", \"mode\": \"AK\", \"access_key_id\": 5, \"access_key_secret\": [\"{PLANTED}\"]}}]}}"),
        format!("{{\"current\": \"p\", \"profiles\": [{{\"name\": \"p\", \"access_key_secret\": \"{PLANTED}"),
        format!("{{\"profiles\": [{{\"name\": \"p\", \"mode\": \"{PLANTED}\", \"access_key_id\": \"k\", \"access_key_secret\": \"{PLANTED}\"}}]}}"),
    ];
    let mut check = |args: &[&str], config: &Path, what: &str| {
        for extra in [&[][..], &["-vvv"]] {
            let mut all = args.to_vec();
            all.extend_from_slice(extra);
            let out = ws.run_sim(&sim, config, &all);
            runs += 1;
            let cached: String = ws
                .cache_files()
                .iter()
                .map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned())
                .collect();
            for (stream, text) in [
                ("stdout", &out.stdout),
                ("stderr", &out.stderr),
                ("cache", &cached),
            ] {
                if let Some(w) = leaks(text) {
                    leaked.push(format!("{what} {all:?}: {stream} holds {w:?}: {text}"));
                }
            }
        }
    };
    for (n, profile_text) in profiles.iter().enumerate() {
        std::fs::write(&profile, profile_text).unwrap();
        for (section, line) in ini_cases(&profile) {
            let ini = ws.path("alicloud.ini");
            let header = match section {
                "ecs" => String::new(),
                other => format!("[{other}]\n"),
            };
            let text = format!(
                "[ecs]\ncache_path = {}\n{header}{line}\n",
                ws.cache_dir().display()
            );
            std::fs::write(&ini, text).unwrap();
            for args in [&["--check"][..], &["--list"]] {
                check(args, &ini, &format!("ini (profile {n}) [{section}] {line}"));
            }
        }
        for lines in yaml_cases(&profile) {
            let yml = ws.path("test.alicloud.yml");
            let text = format!(
                "plugin: alicloud_ecs\ncache_connection: {}\n{lines}\n",
                ws.cache_dir().display()
            );
            std::fs::write(&yml, text).unwrap();
            for args in [&["--check"][..], &["--list"]] {
                check(args, &yml, &format!("yaml (profile {n}) {lines}"));
            }
        }
    }
    assert!(runs > 300, "{runs} runs");
    assert!(
        leaked.is_empty(),
        "{} leaks:\n{}",
        leaked.len(),
        leaked.join("\n")
    );
}
