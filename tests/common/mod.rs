//! Shared by the integration tests: the simulator as a child process, the inventory binary run
//! with a clean environment, and a tiny HTTP client for the simulator's test hooks.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const KEY: &str = "testid";
pub const SECRET: &str = "testsecret-0123456789";

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A running simulator, killed when dropped.
pub struct Sim {
    child: Child,
    pub url: String,
}

impl Sim {
    /// Starts `ecs-simulator serve` on a free port and waits for its `listening on` line.
    pub fn start(fleet: &Path, extra: &[&str]) -> Sim {
        let key = format!("{KEY}:{SECRET}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecs-simulator"))
            .args(["serve", "--access-key", &key, "--fleet"])
            .arg(fleet)
            .args(if extra.contains(&"--listen") {
                &[][..]
            } else {
                &["--listen", "127.0.0.1:0"][..]
            })
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the simulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("read");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("simulator said {line:?}"));
        Sim {
            url: url.to_string(),
            child,
        }
    }

    /// The port this simulator listens on, to start a successor on the same endpoint (the
    /// endpoint is part of the cache key).
    pub fn port(&self) -> String {
        self.url.rsplit(':').next().expect("a port").to_string()
    }

    /// Stops this simulator and starts another on the same port with other switches.
    pub fn restart(self, fleet: &Path, extra: &[&str]) -> Sim {
        let listen = format!("127.0.0.1:{}", self.port());
        drop(self);
        let mut args = vec!["--listen", listen.as_str()];
        args.extend_from_slice(extra);
        Sim::start(fleet, &args)
    }

    pub fn fixture_fleet(extra: &[&str]) -> Sim {
        Sim::start(&fixture("fleet.json"), extra)
    }

    pub fn stats(&self) -> Value {
        serde_json::from_str(&http(&self.url, "GET", "/_sim/stats")).expect("stats JSON")
    }

    /// Every API request so far, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        let v: Value =
            serde_json::from_str(&http(&self.url, "GET", "/_sim/requests")).expect("requests JSON");
        v.as_array().cloned().unwrap_or_default()
    }

    pub fn api_requests(&self) -> u64 {
        self.stats()["requests"].as_u64().expect("requests count")
    }

    pub fn mint_sts(&self, ttl: i64) -> Value {
        serde_json::from_str(&http(
            &self.url,
            "POST",
            &format!("/_sim/mint-sts?ttl={ttl}"),
        ))
        .expect("mint JSON")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 request to the simulator's test hooks.
pub fn http(base: &str, method: &str, path: &str) -> String {
    let host = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).expect("connect to simulator");
    write!(s, "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read response");
    let (head, body) = resp.split_once("\r\n\r\n").expect("HTTP response");
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return dechunk(body);
    }
    body.to_string()
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

/// A private home, cache and ini for one test.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    /// A failure as SPEC §2 wants it: the status, nothing on stdout, one line on stderr.
    pub fn assert_failure(&self, code: i32, needle: &str) {
        assert_eq!(self.code, code, "exit status; stderr: {}", self.stderr);
        assert!(
            self.stdout.is_empty(),
            "stdout must be empty on failure: {}",
            self.stdout
        );
        assert_eq!(
            self.stderr.lines().count(),
            1,
            "one stderr line: {}",
            self.stderr
        );
        assert!(
            self.stderr.starts_with("alicloud_inventory: error: "),
            "{}",
            self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr should mention {needle:?}: {}",
            self.stderr
        );
    }

    pub fn assert_success(&self) {
        assert_eq!(self.code, 0, "stderr: {}", self.stderr);
        assert!(
            self.stderr.is_empty(),
            "a successful run writes nothing to stderr: {}",
            self.stderr
        );
    }
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.path("cache")
    }

    /// Writes `alicloud.ini` with `[ecs]` options (cache_path is added) and returns its path.
    pub fn ini(&self, ecs: &str) -> PathBuf {
        self.ini_named("alicloud.ini", ecs)
    }

    pub fn ini_named(&self, name: &str, ecs: &str) -> PathBuf {
        let path = self.path(name);
        let text = format!(
            "[ecs]\ncache_path = {}\n{ecs}\n",
            self.cache_dir().display()
        );
        std::fs::write(&path, text).expect("write ini");
        path
    }

    /// The cache directory is 0700 and every file in it 0600.
    pub fn assert_private_cache(&self) {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&self.cache_dir()), 0o700, "cache directory mode");
        let files = self.cache_files();
        assert!(!files.is_empty(), "no cache file was written");
        for f in files {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
    }

    /// The cache files (not temp files) in the cache directory.
    pub fn cache_files(&self) -> Vec<PathBuf> {
        let Ok(rd) = std::fs::read_dir(self.cache_dir()) else {
            return Vec::new();
        };
        let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        v.sort();
        v
    }

    /// The inventory command with only the given environment (plus a private HOME and PATH).
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_alicloud_inventory"));
        cmd.args(args)
            .env_clear()
            .env("HOME", self.dir.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        output(self.command(args, env))
    }

    /// Runs against `sim` with the test keys and the given ini.
    pub fn run_sim(&self, sim: &Sim, ini: &Path, args: &[&str]) -> Output {
        self.run_sim_env(sim, ini, args, &[])
    }

    pub fn run_sim_env(
        &self,
        sim: &Sim,
        ini: &Path,
        args: &[&str],
        extra: &[(&str, &str)],
    ) -> Output {
        output(self.sim_command(sim, ini, args, extra))
    }

    /// The command `run_sim_env` runs, for tests that set more on it.
    pub fn sim_command(
        &self,
        sim: &Sim,
        ini: &Path,
        args: &[&str],
        extra: &[(&str, &str)],
    ) -> Command {
        let mut all: Vec<&str> = vec!["--config", ini.to_str().expect("UTF-8 path")];
        all.extend_from_slice(args);
        let mut env = vec![
            ("ALICLOUD_ECS_ENDPOINT", sim.url.as_str()),
            ("ALICLOUD_ACCESS_KEY", KEY),
            ("ALICLOUD_SECRET_KEY", SECRET),
        ];
        for (k, v) in extra {
            env.retain(|(ek, _)| ek != k);
            env.push((k, v));
        }
        self.command(&all, &env)
    }
}

pub fn output(mut cmd: Command) -> Output {
    let out = cmd.output().expect("run the inventory");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// Whether `haystack` shows `secret`: as it is, percent-encoded once or twice (a quoted string
/// to sign holds it twice encoded), or any run of 12 or more of its letters and digits.
pub fn leaks(haystack: &str, secret: &str) -> bool {
    let once = alicloud_inventory::sign::encode(secret);
    let twice = alicloud_inventory::sign::encode(&once);
    if [secret, &once, &twice]
        .iter()
        .any(|f| haystack.contains(*f))
    {
        return true;
    }
    secret
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|run| run.len() >= 12)
        .any(|run| haystack.contains(run))
}
