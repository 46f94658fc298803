//! `ecs-simulator demo`: the README's no-account demo. Generates a multi-region fleet, serves it
//! from a child `ecs-simulator serve` on a free loopback port, and runs the `alicloud_inventory`
//! built beside this binary against it. Without arguments it shows what a person wants to see
//! first: the group tree (`--graph`) and a paragraph on what happened; arguments after `--` go
//! to the inventory instead (`-- --list`, `-- --host NAME`), its output passed through.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::generate;

/// The simulated latency of each API request, as from a host near the region.
const LATENCY_MS: u64 = 20;

/// Removes the demo's temp directory and stops the simulator on every way out.
struct Cleanup {
    dir: PathBuf,
    child: Option<std::process::Child>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn run(
    regions: usize,
    instances: usize,
    pass_through: Vec<String>,
) -> Result<ExitCode, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let inventory = me.with_file_name("alicloud_inventory");
    if !inventory.is_file() {
        return Err(format!(
            "{} is missing; build both binaries first: cargo build --release",
            inventory.display()
        ));
    }
    let dir = std::env::temp_dir().join(format!("alicloud-inventory-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut cleanup = Cleanup {
        dir: dir.clone(),
        child: None,
    };

    let fleet = dir.join("fleet.json");
    let opts = generate::Options {
        regions,
        instances,
        skew: None,
        seed: 2024,
        loopback: false,
        stopped_fraction: 0.1,
        address_offset: 0,
    };
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(&fleet)
            .map_err(|e| format!("cannot write {}: {e}", fleet.display()))?,
    );
    generate::write_fleet(&opts, &mut file).map_err(|e| format!("cannot write the fleet: {e}"))?;
    drop(file);

    let (key, secret) = ("demo-key", "demo-secret");
    let mut child = Command::new(&me)
        .args(["serve", "--listen", "127.0.0.1:0", "--latency-ms"])
        .arg(LATENCY_MS.to_string())
        .arg("--access-key")
        .arg(format!("{key}:{secret}"))
        .arg("--fleet")
        .arg(&fleet)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    cleanup.child = Some(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("the simulator did not start: {e}"))?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("the simulator did not start: {line:?}"))?
        .to_string();

    let ini = dir.join("alicloud.ini");
    let ini_text = format!(
        "[ecs]\nregions = all\ncache_path = {}\n",
        dir.join("cache").display()
    );
    std::fs::write(&ini, ini_text).map_err(|e| format!("cannot write {}: {e}", ini.display()))?;
    eprintln!(
        "demo: {instances} instances in {regions} regions served by the simulator at {url}; \
         running {} --config {}",
        inventory.display(),
        ini.display()
    );
    let command = |args: &[&str]| {
        let mut cmd = Command::new(&inventory);
        cmd.arg("--config")
            .arg(&ini)
            .args(args)
            .env("ALICLOUD_ECS_ENDPOINT", &url)
            .env("ALICLOUD_ACCESS_KEY", key)
            .env("ALICLOUD_SECRET_KEY", secret);
        cmd
    };
    if !pass_through.is_empty() {
        let args: Vec<&str> = pass_through.iter().map(String::as_str).collect();
        let status = command(&args)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", inventory.display()))?;
        return Ok(ExitCode::from(status.code().unwrap_or(1) as u8));
    }

    // The first run calls the API and fills the cache; `--graph` is then drawn from the cache.
    let run = |args: &[&str]| -> Result<(Vec<u8>, Duration), String> {
        let started = Instant::now();
        let out = command(args)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", inventory.display()))?;
        if !out.status.success() {
            return Err(format!("alicloud_inventory {} failed", args.join(" ")));
        }
        Ok((out.stdout, started.elapsed()))
    };
    let (list, cold) = run(&["--list"])?;
    let requests = api_requests(&url);
    let (graph, warm) = run(&["--graph"])?;
    let list: serde_json::Value = serde_json::from_slice(&list)
        .map_err(|e| format!("alicloud_inventory --list printed no JSON: {e}"))?;
    let hosts = list["_meta"]["hostvars"].as_object().map_or(0, |h| h.len());
    let groups = list.as_object().map_or(0, |m| m.len() - 1);
    let cache = cache_file(&dir.join("cache"));

    let mut out = std::io::stdout().lock();
    let summary = format!(
        "{hosts} hosts in {groups} groups, from {instances} instances in {regions} regions ({left} \
         are not running or have no public address, and are left out). The first run called the \
         simulated API {requests} times ({LATENCY_MS} ms each; all regions and pages at once) and \
         took {cold} ms; it wrote its cache to {cache}, which the demo deletes when it ends (a \
         real run keeps it in ~/.cache/alicloud_inventory, fresh for cache_max_age = 300 s). The \
         tree above was drawn from that cache in {warm} ms, with no API call; it is what \
         `ansible-inventory -i alicloud_inventory --graph` shows.",
        left = instances.saturating_sub(hosts),
        requests = requests.map_or("several".to_string(), |n| n.to_string()),
        cold = cold.as_millis(),
        warm = warm.as_millis(),
        cache = cache.map_or("the demo's directory".to_string(), |p| p.display().to_string()),
    );
    let how = "Ansible reads JSON: `ecs-simulator demo -- --list` prints it, `-- --list --pretty` \
               indents it, `-- --host NAME` prints one host's variables.";
    let text = format!("{}\n{}", wrap(&summary, 96), wrap(how, 96));
    out.write_all(&graph)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.write_all(text.as_bytes()))
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// `text` as lines of at most `width` characters (a longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        let n = word.chars().count();
        if line > 0 && line + 1 + n > width {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += n;
    }
    out.push('\n');
    out
}

/// The one cache file the inventory wrote in `dir`.
fn cache_file(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "cache"))
}

/// The API requests the simulator at `url` has served (its test hook `/_sim/stats`).
fn api_requests(url: &str) -> Option<u64> {
    let addr = url.strip_prefix("http://")?;
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET /_sim/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    let body = answer.split_once("\r\n\r\n")?.1;
    serde_json::from_str::<serde_json::Value>(body).ok()?["requests"].as_u64()
}
