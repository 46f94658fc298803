//! Shared by every test module: the simulator as a child process and plain HTTP to it, the
//! inventory binary run with a clean environment, and a private temp directory per test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

/// The permanent key every simulator started by [`Sim::start`] accepts.
pub const KEY: &str = "testid";
pub const SECRET: &str = "testsecret-0123456789";

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The `ecs-simulator` binary. It belongs to another package of the workspace, so cargo gives
/// no `CARGO_BIN_EXE_` for it; it is built into the same directory as the inventory binary,
/// which is the parent of this test executable's `deps/` (so `CARGO_TARGET_DIR`, `--release`
/// and `--target` are all followed).
pub fn simulator_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test executable's path");
        let mut dir = exe.parent().expect("a directory").to_path_buf();
        if dir.ends_with("deps") {
            dir.pop();
        }
        let bin = dir.join(format!("ecs-simulator{}", std::env::consts::EXE_SUFFIX));
        assert!(
            bin.is_file(),
            "the simulator binary {} is missing: run `cargo test` at the workspace root \
             (it builds both packages), or `cargo build -p ecs-simulator` (with the same \
             --release/--target) first",
            bin.display()
        );
        bin
    })
}

/// An `ecs-simulator` command with the given arguments.
pub fn simulator(args: &[&str]) -> Command {
    let mut cmd = Command::new(simulator_bin());
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// `ecs-simulator generate ARGS`: a fleet's JSON.
pub fn generate(args: &[&str]) -> Vec<u8> {
    let out = simulator(&["generate"])
        .args(args)
        .output()
        .expect("run ecs-simulator generate");
    assert!(out.status.success(), "generate failed: {out:?}");
    out.stdout
}

/// A running simulator, killed when dropped.
pub struct Sim {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl Sim {
    /// Starts `ecs-simulator serve` accepting [`KEY`]:[`SECRET`] (and any `--access-key` in
    /// `extra`) on a free port.
    pub fn start(fleet: &Path, extra: &[&str]) -> Sim {
        let key = format!("{KEY}:{SECRET}");
        let mut args = vec!["--access-key", key.as_str()];
        args.extend_from_slice(extra);
        Sim::serve(fleet, &args)
    }

    /// Starts `ecs-simulator serve --fleet FLEET ARGS` (on a free port unless ARGS has
    /// `--listen`) and waits for its `listening on` line.
    pub fn serve(fleet: &Path, args: &[&str]) -> Sim {
        let mut child = simulator(&["serve", "--fleet"])
            .arg(fleet)
            .args(if args.contains(&"--listen") {
                &[][..]
            } else {
                &["--listen", "127.0.0.1:0"][..]
            })
            .args(args)
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

    /// `127.0.0.1:PORT`
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
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

    /// Sends SIGTERM and waits for the simulator to exit.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) on our own child, which has not been waited for yet.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "kill -TERM");
        self.child.wait().expect("wait for the simulator")
    }

    /// One HTTP exchange with this simulator; panics when it fails.
    pub fn http(&self, method: &str, target: &str, body: Option<&str>) -> Resp {
        http(self.addr(), method, target, body)
    }

    /// A test hook's JSON answer, which must be a success.
    fn hook(&self, method: &str, target: &str) -> Value {
        let r = self.http(method, target, None);
        assert_eq!(r.status, 200, "{method} {target}: {}", r.body);
        r.json()
    }

    pub fn stats(&self) -> Value {
        self.hook("GET", "/_sim/stats")
    }

    /// Every API request so far, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        let v = self.hook("GET", "/_sim/requests");
        v.as_array().cloned().expect("the request log is an array")
    }

    pub fn api_requests(&self) -> u64 {
        self.stats()["requests"].as_u64().expect("requests count")
    }

    /// Fresh STS credentials expiring in `ttl` seconds (negative: already expired).
    pub fn mint_sts(&self, ttl: i64) -> Value {
        self.hook("POST", &format!("/_sim/mint-sts?ttl={ttl}"))
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
pub struct Resp {
    pub status: u16,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The API error code of the body (empty when there is none).
    pub fn code(&self) -> String {
        self.json()["Code"].as_str().unwrap_or_default().to_owned()
    }
}

/// One HTTP/1.1 exchange with `Connection: close`; `body` is sent as a form. The simulator
/// always answers with a Content-Length, never chunked.
pub fn request(
    addr: &str,
    method: &str,
    target: &str,
    body: Option<&str>,
    timeout: Duration,
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(timeout))?;
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    let body = body.unwrap_or_default();
    if !body.is_empty() {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "unexpected chunked answer"
    );
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
    Ok(Resp {
        status,
        body: body.to_owned(),
    })
}

/// [`request`] with a 30 s timeout; panics when the exchange fails.
pub fn http(addr: &str, method: &str, target: &str, body: Option<&str>) -> Resp {
    request(addr, method, target, body, Duration::from_secs(30)).expect("HTTP exchange")
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

    /// A failure as docs/DESIGN.md, "Errors and diagnostics" wants it: the status, nothing on
    /// stdout, one line on stderr.
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

/// The inventory binary at `dst` (a test that needs files beside the executable): a hard link,
/// which opens no file for writing, or else a copy.
pub fn place_binary(dst: &Path) {
    let built = Path::new(env!("CARGO_BIN_EXE_alicloud_inventory"));
    if std::fs::hard_link(built, dst).is_err() {
        std::fs::copy(built, dst).expect("copy the binary");
    }
}

pub fn output(mut cmd: Command) -> Output {
    // A copied binary can fail to start with ETXTBSY ("text file busy") while a process that
    // another test thread is starting still holds the copy's write descriptor, until its exec
    // closes it: the failure is transient, and starting again is the known remedy.
    let mut attempts = 0;
    let out = loop {
        match cmd.output() {
            Err(e) if e.raw_os_error() == Some(26) && attempts < 100 => {
                attempts += 1;
                std::thread::yield_now();
            }
            other => break other.expect("run the inventory"),
        }
    };
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// Whether `haystack` shows `secret`: as it is, percent-encoded once or twice (a quoted string
/// to sign holds it twice encoded), or any run of 12 or more of its letters and digits.
pub fn leaks(haystack: &str, secret: &str) -> bool {
    let once = alicloud_inventory::api::sign::encode(secret);
    let twice = alicloud_inventory::api::sign::encode(&once);
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
