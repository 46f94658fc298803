//! The binary probed as a hostile but realistic user would: an unwritable stderr, signals while
//! the cache is written, patterns that try to leave their anchor, a regions list without a
//! region, a memory limit, refusals from the API, usage errors, configs that are not regular
//! files, a cache_path that cannot be a directory, numeric ranges and a damaged host entry.
//! docs/RELIABILITY.md lists each case with its outcome.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use crate::harness::{self, output, Sim, Workspace};
use serde_json::Value;

const FIXTURE_HOSTS: usize = 8;

fn host_count(v: &Value) -> usize {
    v["_meta"]["hostvars"].as_object().map_or(0, |m| m.len())
}

fn dev_full() -> File {
    File::options()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full")
}

/// A generated fleet of 20,000 instances in 4 regions. Generating it costs seconds, so it is kept
/// in cargo's temp directory for integration tests and made once (written aside, then renamed, so
/// that tests running at once never read half of it).
fn big_fleet() -> PathBuf {
    static FLEET: OnceLock<PathBuf> = OnceLock::new();
    FLEET
        .get_or_init(|| {
            let args = ["--instances", "20000", "--regions", "4", "--seed", "14"];
            let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fleet-20000-4-14.json");
            if !path.is_file() {
                let aside = path.with_extension(format!("{}.part", std::process::id()));
                std::fs::write(&aside, harness::generate(&args)).expect("write the fleet");
                std::fs::rename(&aside, &path).expect("rename the fleet");
            }
            path
        })
        .clone()
}

/// The signals a test sends go to the inventory whatever its parent ignores.
fn default_signals(cmd: &mut Command) {
    // SAFETY: signal(2) only, between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            for sig in [
                libc::SIGTERM,
                libc::SIGINT,
                libc::SIGHUP,
                libc::SIGQUIT,
                libc::SIGUSR1,
                libc::SIGUSR2,
                libc::SIGALRM,
                libc::SIGXFSZ,
            ] {
                libc::signal(sig, libc::SIG_DFL);
            }
            // SIGQUIT's default action dumps core: not into the test's directory.
            let none = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            Ok(())
        });
    }
}

// ---- 1: a failed write to stderr never changes the outcome ----

#[test]
fn an_unwritable_stderr_changes_nothing() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    // An unknown option: a warning on every run, and -vv lines on top.
    let ini = ws.ini("regoins = all");
    let mut cmd = ws.sim_command(&sim, &ini, &["--refresh-cache", "-vv"], &[]);
    cmd.stderr(dev_full());
    let out = cmd.output().expect("run the inventory");
    assert_eq!(out.status.code(), Some(0), "{:?}", out.status);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(host_count(&v), FIXTURE_HOSTS);
    assert_eq!(ws.cache_files().len(), 1, "the cache was written");

    // A failing run keeps its own status, and a warm run its answer.
    let bad = ws.ini_named("bad.ini", "nested_groups = maybe");
    let mut cmd = ws.sim_command(&sim, &bad, &["-v"], &[]);
    cmd.stderr(dev_full());
    let out = cmd.output().expect("run the inventory");
    assert_eq!(out.status.code(), Some(2), "{:?}", out.status);
    assert!(out.stdout.is_empty());
    let mut cmd = ws.sim_command(&sim, &ini, &["-v", "--host", "i_bp1aaaaaaaaaaaaaaa01"], &[]);
    cmd.stderr(dev_full());
    let out = cmd.output().expect("run the inventory");
    assert_eq!(out.status.code(), Some(0), "{:?}", out.status);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["instance_id"], "i-bp1aaaaaaaaaaaaaaa01");
}

// ---- 2: no temp file outlives a run ----

/// inotify on one directory: the test waits for what the inventory does to its temp file
/// rather than for a length of time.
struct Watch {
    fd: OwnedFd,
}

/// What became of the temp file while it was watched.
#[derive(Debug, PartialEq, Eq)]
enum TempSeen {
    /// Created and written to at least the number of times asked, still being written.
    Writing,
    /// Renamed or closed (the write ended) before that.
    Finished,
    /// The inventory exited without creating one.
    Never,
}

impl Watch {
    fn new(dir: &Path) -> Watch {
        // SAFETY: plain syscalls; the descriptor is owned from here on.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) };
        assert!(fd >= 0, "inotify_init1");
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let path = CString::new(dir.as_os_str().as_bytes()).expect("a path");
        let mask = libc::IN_CREATE | libc::IN_MODIFY | libc::IN_MOVED_FROM | libc::IN_CLOSE_WRITE;
        // SAFETY: a valid descriptor and a NUL-terminated path.
        let wd = unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) };
        assert!(wd >= 0, "inotify_add_watch {}", dir.display());
        Watch { fd }
    }

    /// Waits until a `*.tmp` file has been created and written `writes` times, or the write
    /// ended, or `child` exited.
    fn temp_written(&self, writes: usize, child: &mut std::process::Child) -> TempSeen {
        let (mut temp, mut seen) = (None::<Vec<u8>>, 0usize);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one pollfd; a bounded wait so that a child that exits is noticed.
            let ready = unsafe { libc::poll(&mut pfd, 1, 100) };
            if ready <= 0 {
                if child.try_wait().expect("try_wait").is_some() {
                    return if temp.is_some() {
                        TempSeen::Finished
                    } else {
                        TempSeen::Never
                    };
                }
                continue;
            }
            // SAFETY: reads into our buffer, at most its length.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                continue;
            }
            let mut at = 0usize;
            while at + 16 <= n as usize {
                let mask = u32::from_ne_bytes(buf[at + 4..at + 8].try_into().unwrap());
                let len = u32::from_ne_bytes(buf[at + 12..at + 16].try_into().unwrap()) as usize;
                let name: Vec<u8> = buf[at + 16..at + 16 + len]
                    .iter()
                    .copied()
                    .take_while(|b| *b != 0)
                    .collect();
                at += 16 + len;
                if !name.ends_with(b".tmp") {
                    continue;
                }
                if mask & libc::IN_CREATE != 0 && temp.is_none() {
                    temp = Some(name.clone());
                }
                if temp.as_ref() != Some(&name) {
                    continue;
                }
                if mask & (libc::IN_MOVED_FROM | libc::IN_CLOSE_WRITE) != 0 {
                    return TempSeen::Finished;
                }
                if mask & libc::IN_MODIFY != 0 {
                    seen += 1;
                }
            }
            if temp.is_some() && seen >= writes {
                return TempSeen::Writing;
            }
        }
    }
}

/// Refreshes of a 20,000-instance inventory are killed at varied points of writing the cache:
/// right after the temp file appears, and after its 1st, 20th and 150th write. Whatever
/// the timing, SIGTERM and SIGINT leave no temp file, and after a SIGKILL (which no handler
/// sees) the next run removes the orphan: the directory holds only the cache.
#[test]
fn killed_while_writing_the_cache_leaves_only_the_cache() {
    let ws = Workspace::new();
    let sim = Sim::start(&big_fleet(), &[]);
    let ini = ws.ini("");
    let dir = ws.cache_dir();
    std::fs::DirBuilder::new().mode(0o700).create(&dir).unwrap();
    let temp_files = || -> Vec<PathBuf> {
        ws.cache_files()
            .into_iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect()
    };
    let rounds = [
        (libc::SIGTERM, 0),
        (libc::SIGINT, 1),
        (libc::SIGTERM, 150),
        (libc::SIGQUIT, 1),
        (libc::SIGUSR1, 1),
        (libc::SIGUSR2, 1),
        (libc::SIGALRM, 1),
        (libc::SIGKILL, 20),
    ];
    let mut landed = 0;
    for (sig, writes) in rounds {
        let watch = Watch::new(&dir);
        let mut cmd = ws.sim_command(&sim, &ini, &["--refresh-cache"], &[]);
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        default_signals(&mut cmd);
        let mut child = cmd.spawn().expect("start the inventory");
        let seen = watch.temp_written(writes, &mut child);
        let pid = libc::pid_t::try_from(child.id()).expect("a pid");
        // SAFETY: kill(2) on our own child, not yet waited for.
        unsafe { libc::kill(pid, sig) };
        let out = child.wait_with_output().expect("wait");
        let killed = out.status.signal() == Some(sig) || out.status.code() == Some(128 + sig);
        if !killed {
            assert_eq!(
                out.status.code(),
                Some(0),
                "signal {sig}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if killed && seen == TempSeen::Writing {
            landed += 1;
        }
        if sig != libc::SIGKILL {
            assert_eq!(
                temp_files(),
                Vec::<PathBuf>::new(),
                "signal {sig} after {writes} writes ({seen:?}) left a temp file behind"
            );
        }
    }
    assert!(
        landed >= 2,
        "only {landed} kills landed while the temp file was written"
    );
    // One more run (cron's next refresh): the SIGKILL orphan goes, the cache is whole.
    let out = ws.run_sim(&sim, &ini, &["--refresh-cache"]);
    out.assert_success();
    assert!(host_count(&out.json()) > 10_000);
    let files = ws.cache_files();
    assert_eq!(files.len(), 1, "only the cache is left: {files:?}");
    assert_eq!(temp_files(), Vec::<PathBuf>::new());
}

/// Stale temp files of ours (a dead writer, or older than an hour) are removed by the next run
/// that writes the cache; a live writer's, and every file that is not ours, stay.
#[test]
fn stale_temp_files_of_ours_go_and_nothing_else() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("");
    ws.run_sim(&sim, &ini, &[]).assert_success();
    let cache = ws.cache_files().pop().expect("a cache file");
    let name = cache.file_name().unwrap().to_str().unwrap().to_string();
    let dir = ws.cache_dir();
    let dead = {
        let mut c = Command::new("true").spawn().expect("spawn true");
        let pid = c.id();
        c.wait().expect("wait");
        pid
    };
    let me = std::process::id();
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    let plant = |file: &str, old: bool| {
        let p = dir.join(file);
        std::fs::write(&p, b"partial").unwrap();
        if old {
            File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
        p
    };
    let gone = [
        plant(&format!(".{name}.{dead}.AbC12xYz.tmp"), false),
        plant(&format!(".{name}.{me}.old0old0.tmp"), true),
        // What earlier versions named their temp files.
        plant(&format!(".{name}.Xy12Ab.tmp"), true),
        plant(
            ".alicloud_inventory-0123456789abcdef.cache.1.zzzzzzzz.tmp",
            true,
        ),
    ];
    let kept = [
        plant(&format!(".{name}.{me}.live1234.tmp"), false),
        plant(
            ".alicloud_inventory-0123456789abcdef.cache.Xy12Ab.tmp",
            false,
        ),
        plant("notes.txt", true),
        plant(&format!("{name}.bak"), true),
        plant(&format!(".other-tool.{dead}.abc.tmp"), true),
        plant(&format!(".{name}.{dead}"), true),
    ];
    let link = dir.join(format!(".{name}.{dead}.link0000.tmp"));
    std::os::unix::fs::symlink(dir.join("notes.txt"), &link).unwrap();
    let subdir = dir.join(format!(".{name}.{dead}.dir00000.tmp"));
    std::fs::create_dir(&subdir).unwrap();

    ws.run_sim(&sim, &ini, &["--refresh-cache"])
        .assert_success();
    for p in &gone {
        assert!(!p.exists(), "{} is stale and ours: removed", p.display());
    }
    for p in kept.iter().chain([&cache, &subdir]) {
        assert!(p.exists(), "{} must stay", p.display());
    }
    assert!(
        std::fs::symlink_metadata(&link).is_ok(),
        "a symlink is never ours"
    );
}

// ---- 3: a pattern is compiled alone and anchored without splicing ----

#[test]
fn a_pattern_cannot_leave_its_anchor() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    for option in ["pattern_include", "pattern_exclude"] {
        let ini = ws.ini(&format!(
            "hostname_variable = tag_Name\n{option} = zzz)|(web"
        ));
        let out = ws.run_sim(&sim, &ini, &[]);
        out.assert_failure(
            2,
            &format!("alicloud.ini:4: option '{option}': bad regular expression 'zzz)|(web'"),
        );
    }
    assert_eq!(sim.api_requests(), 0, "refused before any request");
    // Python's re.match takes a verbose pattern with a comment: a `)` spliced after it would
    // land in the comment.
    let ini = ws.ini("pattern_include = (?x) i_bp1  # the Hangzhou ones");
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_success();
    let hosts: Vec<String> = out.json()["_meta"]["hostvars"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(hosts.len(), 4, "{hosts:?}");
    assert!(hosts.iter().all(|h| h.starts_with("i_bp1")), "{hosts:?}");
}

// ---- 4: a regions list with no region in it ----

#[test]
fn a_regions_list_without_a_region_is_refused() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    for value in [",,,", " , ,"] {
        let ini = ws.ini(&format!("regions = {value}"));
        let out = ws.run_sim(&sim, &ini, &[]);
        out.assert_failure(2, "alicloud.ini:3: option 'regions': no region in the list");
    }
    let ini = ws.ini("regions = cn-hangzhou, ecs.example.com/x");
    ws.run_sim(&sim, &ini, &[]).assert_failure(
        2,
        "alicloud.ini:3: option 'regions': 'ecs.example.com/x' is not a region id",
    );
    assert_eq!(sim.api_requests(), 0, "refused before any request");
}

// ---- 5: a memory limit ----

fn with_address_space_limit(cmd: &mut Command, bytes: u64) {
    // SAFETY: setrlimit(2) only, between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// `ulimit -v 150000` is enough for 20,000 instances; a limit too small to list them fails with
/// one line and exit 1, the old cache intact and no temp file left.
#[test]
fn a_memory_limit_is_met_or_refused_in_one_line() {
    let ws = Workspace::new();
    let sim = Sim::start(&big_fleet(), &[]);
    let ini = ws.ini("");
    let mut cmd = ws.sim_command(&sim, &ini, &[], &[]);
    with_address_space_limit(&mut cmd, 150_000 * 1024);
    let out = output(cmd);
    out.assert_success();
    let hosts = host_count(&out.json());
    assert!(hosts > 10_000, "{hosts} hosts");
    let cache = ws.cache_files();
    assert_eq!(cache.len(), 1);
    let before = std::fs::read(&cache[0]).unwrap();

    let mut cmd = ws.sim_command(&sim, &ini, &["--refresh-cache"], &[]);
    with_address_space_limit(&mut cmd, 40_000 * 1024);
    let out = output(cmd);
    out.assert_failure(1, "out of memory");
    assert_eq!(
        std::fs::read(&cache[0]).unwrap(),
        before,
        "old cache intact"
    );
    assert_eq!(ws.cache_files(), cache, "no temp file left behind");
}

// ---- 6: what the API layer says ----

#[test]
fn api_refusals_name_the_fix_and_the_right_exit() {
    let fleet = harness::fixture("fleet.json");
    let ws = Workspace::new();
    let ini = ws.ini("max_retries = 1");

    for fault in ["*:unavailable", "*:internal"] {
        let sim = Sim::start(&fleet, &["--fault", fault]);
        let out = ws.run_sim(&sim, &ini, &[]);
        out.assert_failure(1, "DescribeRegions: ");
        assert!(
            out.stderr
                .contains("still failing after 1 retry; run again later"),
            "{}",
            out.stderr
        );
    }

    let sim = Sim::start(&fleet, &["--fault", "*:forbidden"]);
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_failure(2, "DescribeRegions: Forbidden.RAM");
    assert!(
        out.stderr.contains("grant ecs:DescribeRegions")
            && out.stderr.contains("list the regions in 'regions'")
            && !out.stderr.contains("ecs:DescribeInstances"),
        "{}",
        out.stderr
    );

    let sim = Sim::start(&fleet, &[]);
    let ini = ws.ini("regions = cn-hangzhou, ALL");
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_failure(2, "region ALL: InvalidRegionId.NotFound");
    assert!(out.stderr.contains("ALL is not a region"), "{}", out.stderr);
}

// ---- 7: usage errors ----

#[test]
fn usage_errors_are_one_line() {
    let ws = Workspace::new();
    for (args, needle) in [
        (&["--bogus"][..], "unexpected argument '--bogus'"),
        (
            &["--list", "--list"][..],
            "'--list' cannot be used multiple times",
        ),
        (&["--config", ""][..], "--config"),
        (&["--lst"][..], "'--list'"),
    ] {
        let out = ws.run(args, &[]);
        out.assert_failure(2, needle);
        assert!(out.stderr.contains("--help"), "{args:?}: {}", out.stderr);
    }
    let out = ws.run(&["--help"], &[]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("Usage: alicloud_inventory"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.is_empty());
    let out = ws.run(&["--version"], &[]);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout.trim(),
        format!("alicloud_inventory {}", env!("CARGO_PKG_VERSION"))
    );
}

/// A file-size limit (`ulimit -f 8`: 4 KiB, less than the cache) while the cache is written: the write fails as a full disk
/// does (the inventory ignores SIGXFSZ, which would otherwise end it with no word and leave its
/// temp file), so the run prints the inventory with one warning and leaves only the old cache.
#[test]
fn a_file_size_limit_ends_the_cache_write_with_a_warning() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("");
    ws.run_sim(&sim, &ini, &["--list"]).assert_success();
    let files = ws.cache_files();
    let before = std::fs::read(&files[0]).unwrap();
    let mut cmd = ws.sim_command(&sim, &ini, &["--refresh-cache"], &[]);
    default_signals(&mut cmd);
    // SAFETY: setrlimit(2) only, between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 8 * 512,
                rlim_max: 8 * 512,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            Ok(())
        });
    }
    let out = output(cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(host_count(&out.json()), FIXTURE_HOSTS);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning: cannot write the cache")
            && out.stderr.contains("File too large"),
        "{}",
        out.stderr
    );
    assert_eq!(ws.cache_files(), files, "no temp file left behind");
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        before,
        "the old cache is intact"
    );
}

/// A malformed endpoint is a configuration error at load, `--check` included, not a request
/// retried five times and then blamed on the network; `ftp://h` no longer becomes
/// `https://ftp://h`.
#[test]
fn a_malformed_endpoint_is_refused_before_any_request() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    for (bad, why) in [
        ("http://127.0.0.1:99999", "invalid port number"),
        ("http://bad host:1", "not a valid URL"),
        ("ftp://h", "not an http:// or https:// URL"),
    ] {
        let ini = ws.ini(&format!("ecs_endpoint = {bad}"));
        for args in [&["--check"][..], &["--list"]] {
            let out = ws.run_sim_env(&sim, &ini, args, &[("ALICLOUD_ECS_ENDPOINT", "")]);
            out.assert_failure(2, &format!("option 'ecs_endpoint': '{bad}' "));
            assert!(out.stderr.contains(why), "{}", out.stderr);
        }
        let out = ws.run_sim_env(&sim, &ws.ini(""), &[], &[("ALICLOUD_ECS_ENDPOINT", bad)]);
        out.assert_failure(2, &format!("ALICLOUD_ECS_ENDPOINT: '{bad}' "));
    }
    assert_eq!(sim.api_requests(), 0);
}

// ---- 8: a config that is not a regular file ----

/// A YAML config that never ends (a link to /dev/zero) is refused as a device, and a regular
/// file over 1 MiB at 1 MiB, as the ini is, instead of being read into memory (it grew to 7 GB
/// in 6 s before).
#[test]
fn a_yaml_config_that_never_ends_is_refused_at_one_mib() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let yml = ws.path("zero.alicloud.yml");
    std::os::unix::fs::symlink("/dev/zero", &yml).unwrap();
    let out = ws.run_sim(&sim, &yml, &[]);
    out.assert_failure(
        2,
        "zero.alicloud.yml is a device, and only regular files are read",
    );
    let big = ws.path("big.alicloud.yml");
    let mut text = String::from("plugin: alicloud_ecs\n");
    while text.len() <= 1 << 20 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&big, text).unwrap();
    let out = ws.run_sim(&sim, &big, &[]);
    out.assert_failure(
        2,
        "big.alicloud.yml is larger than 1 MiB: is it the alicloud_ecs plugin's YAML?",
    );
    assert_eq!(sim.api_requests(), 0);
}

/// Only regular files are configs (issue 29): a FIFO nobody writes held the run for ever, and
/// a device (`/dev/zero`) is no configuration. Each is one line, exit 2, no request.
#[test]
fn a_config_that_is_not_a_regular_file() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();

    let dir = ws.path("conf.d");
    std::fs::create_dir(&dir).unwrap();
    let out = ws.run_sim(&sim, &dir, &[]);
    out.assert_failure(2, "conf.d is a directory");

    let out = ws.run_sim(&sim, Path::new("/dev/null"), &[]);
    out.assert_failure(
        2,
        "config file /dev/null is a device, and only regular files are read (write the configuration to a file and name that file)",
    );

    // A named pipe nobody writes: refused at once, where opening it waited for ever.
    let fifo = ws.path("alicloud.fifo");
    let c = CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let out = ws.run_sim(&sim, &fifo, &[]);
    out.assert_failure(
        2,
        "alicloud.fifo is a pipe or FIFO, and only regular files are read",
    );

    assert_eq!(sim.api_requests(), 0);
}

/// Constructed names that cannot be what they say (issue 29): a group named `_meta` replaced the
/// hostvars in the JSON, a group `''` was printed, and a keyed group that is its own parent made
/// a loop Ansible refuses. Refused, naming the entry and the fix.
#[test]
fn group_names_that_cannot_be_groups_are_refused() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let yml = |body: &str| {
        let path = ws.path("g.alicloud.yml");
        std::fs::write(
            &path,
            format!(
                "plugin: alicloud_ecs\ncache: false\ncache_connection: {}\nregions: [cn-shanghai]\n{body}\n",
                ws.cache_dir().display()
            ),
        )
        .unwrap();
        path
    };
    let out = ws.run_sim(&sim, &yml("groups:\n  _meta: true"), &[]);
    out.assert_failure(2, "groups._meta: a group cannot be named '' or '_meta'");
    let out = ws.run_sim(&sim, &yml("groups:\n  '': true"), &[]);
    out.assert_failure(2, "a group cannot be named '' or '_meta'");
    let out = ws.run_sim(
        &sim,
        &yml("keyed_groups:\n  - key: \"'meta'\"\n    prefix: ''"),
        &[],
    );
    out.assert_failure(2, "keyed_groups[0] failed for host");
    assert!(
        out.stderr.contains("makes the group '_meta'"),
        "{}",
        out.stderr
    );
    let out = ws.run_sim(
        &sim,
        &yml("keyed_groups:\n  - key: \"'x'\"\n    prefix: p\n    parent_group: p_x"),
        &[],
    );
    out.assert_failure(2, "group 'p_x' would be its own parent_group");
    assert_eq!(
        sim.api_requests(),
        2,
        "the two runs that got as far as listing"
    );
    // A composed variable Ansible 2.19 warns about on every run (and 2.23 refuses).
    for name in ["my-var", "'1x'", "none", "'é'"] {
        let out = ws.run_sim(&sim, &yml(&format!("compose:\n  {name}: '1'")), &[]);
        out.assert_failure(2, "is not a variable name Ansible accepts");
    }
    assert_eq!(sim.api_requests(), 2);
}

/// A composed integer beyond 64 bits stays exact (issue 29), as Python's does: `2**64` was
/// printed as 1.8446744073709552e+19.
#[test]
fn big_integers_stay_exact() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let path = ws.path("big.alicloud.yml");
    std::fs::write(
        &path,
        format!(
            "plugin: alicloud_ecs\ncache_connection: {}\nregions: [cn-shanghai]\ncompose:\n  big: 2**64\n  neg: -2**63 - 1\n  huge: 2**127\n",
            ws.cache_dir().display()
        ),
    )
    .unwrap();
    let out = ws.run_sim(&sim, &path, &[]);
    out.assert_success();
    for want in [
        "\"big\":18446744073709551616",
        "\"neg\":-9223372036854775809",
        "\"huge\":170141183460469231731687303715884105728",
    ] {
        assert!(out.stdout.contains(want), "{want} in {}", out.stdout);
    }
}

// ---- 9: a cache_path that cannot be a directory ----

#[test]
fn a_cache_path_that_is_a_file_or_a_dangling_link_is_named() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let file = ws.path("plain-file");
    std::fs::write(&file, "x").unwrap();
    let link = ws.path("dangling");
    std::os::unix::fs::symlink(ws.path("nowhere"), &link).unwrap();
    for (path, needle) in [
        (
            &file,
            format!("{} is a file, not a directory", file.display()),
        ),
        (
            &link,
            format!(
                "{} is a symbolic link to {}, which does not exist",
                link.display(),
                ws.path("nowhere").display()
            ),
        ),
    ] {
        let ini = ws.path("alicloud.ini");
        std::fs::write(&ini, format!("[ecs]\ncache_path = {}\n", path.display())).unwrap();
        let out = ws.run_sim(&sim, &ini, &[]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(host_count(&out.json()), FIXTURE_HOSTS);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(
            out.stderr.contains("warning: cannot write the cache") && out.stderr.contains(&needle),
            "want {needle:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("os error 17"), "{}", out.stderr);
    }
    assert!(
        !ws.path("nowhere").exists(),
        "the link's target is not created"
    );
}

// ---- 10: numeric options and their ranges ----

#[test]
fn numeric_options_state_their_ranges() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    // As in the Python script, a negative age means always stale.
    let ini = ws.ini("cache_max_age = -1");
    ws.run_sim(&sim, &ini, &[]).assert_success();
    let first = sim.api_requests();
    assert!(first > 0);
    ws.run_sim(&sim, &ini, &[]).assert_success();
    assert!(sim.api_requests() > first, "a negative age is always stale");

    for (line, needle) in [
        ("timeout = 0", "option 'timeout': must be more than 0 and at most 3600 seconds"),
        ("timeout = -5", "option 'timeout': must be more than 0 and at most 3600 seconds"),
        ("timeout = 3601", "option 'timeout': must be more than 0 and at most 3600 seconds"),
        ("max_retries = -1", "option 'max_retries': '-1' is out of range (use a whole number from 0 to 20)"),
        ("max_retries = 21", "option 'max_retries': '21' is out of range (use a whole number from 0 to 20)"),
        ("max_retries = 2.5", "option 'max_retries': '2.5' is not a whole number (use a whole number from 0 to 20)"),
        ("max_concurrency = 0", "option 'max_concurrency': '0' is out of range (use a whole number from 1 to 1024)"),
        (
            "max_concurrency = 99999999999999999999999",
            "option 'max_concurrency': '99999999999999999999999' is out of range (use a whole number from 1 to 1024)",
        ),
        ("cache_max_age = soon", "option 'cache_max_age': 'soon' is not a whole number of seconds"),
    ] {
        let out = ws.run_sim(&sim, &ws.ini(line), &[]);
        out.assert_failure(2, needle);
        assert!(!out.stderr.contains("between 0 and"), "{}", out.stderr);
    }
}

// ---- 11: --host checks the bytes it serves ----

#[test]
fn host_serves_no_corrupted_entry() {
    let sim = Sim::fixture_fleet(&[]);
    let ws = Workspace::new();
    let ini = ws.ini("");
    let out = ws.run_sim(&sim, &ini, &[]);
    out.assert_success();
    let truth = out.json()["_meta"]["hostvars"]["i_bp1aaaaaaaaaaaaaaa01"].clone();
    assert_eq!(truth["ansible_host"], "47.96.10.11");
    let file = ws.cache_files().pop().unwrap();
    let mut bytes = std::fs::read(&file).unwrap();
    let needle = b"47.96.10.11";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the address in the cache");
    bytes[at + needle.len() - 1] = b'2';
    std::fs::write(&file, &bytes).unwrap();
    let requests = sim.api_requests();

    // Another host's entry is intact: served from the cache, no request.
    let out = ws.run_sim(&sim, &ini, &["--host", "i_uf6bbbbbbbbbbbbbbb08"]);
    out.assert_success();
    assert_eq!(sim.api_requests(), requests);

    let out = ws.run_sim(&sim, &ini, &["--host", "i_bp1aaaaaaaaaaaaaaa01"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json(), truth, "the damaged entry is never served");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("failed its checksum; rebuilding it from the API"),
        "{}",
        out.stderr
    );
    assert!(sim.api_requests() > requests, "rebuilt from the API");
    let out = ws.run_sim(&sim, &ini, &["--host", "i_bp1aaaaaaaaaaaaaaa01"]);
    out.assert_success();
    assert_eq!(out.json(), truth);
}
