//! `ecs-simulator demo`: the README's no-account demo. Generates a multi-region fleet, serves it
//! from a child `ecs-simulator serve` on a free loopback port, and runs the `alicloud_inventory`
//! built beside this binary against it, passing any extra arguments through.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use crate::generate;

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
        .args(["serve", "--listen", "127.0.0.1:0", "--latency-ms", "20"])
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
    let status = Command::new(&inventory)
        .arg("--config")
        .arg(&ini)
        .args(&pass_through)
        .env("ALICLOUD_ECS_ENDPOINT", &url)
        .env("ALICLOUD_ACCESS_KEY", key)
        .env("ALICLOUD_SECRET_KEY", secret)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", inventory.display()))?;
    Ok(ExitCode::from(status.code().unwrap_or(1) as u8))
}
