//! The engine: settings → credentials → cache or API → inventory → output. `main` only maps the
//! result to an exit status.

use std::io::{self, Write};
use std::time::Instant;

use crate::cache::{Cache, CachedList, Lookup};
use crate::cli::Args;
use crate::client::Client;
use crate::credentials::{self, Plan};
use crate::diag;
use crate::error::{Error, Result};
use crate::fetch;
use crate::info;
use crate::instance::HostvarOptions;
use crate::inventory::{self, Inventory};
use crate::output;
use crate::settings::{Env, Settings};

pub fn run(args: &Args, env: &Env) -> Result<()> {
    let settings = Settings::load(args.config.as_deref(), env)?;
    for w in &settings.warnings {
        diag::warn(w);
    }
    match &settings.source {
        Some(p) => info!(1, "config: {}", p.display()),
        None => info!(1, "config: none found, built-in defaults"),
    }
    let plan = credentials::plan(&settings, env)?;
    let home_region = credentials::home_region(&settings, env);
    info!(1, "credentials: {}", plan.source());
    let identity = format!(
        "{}|{}|{}|{}",
        settings.fingerprint(),
        plan.identity(),
        home_region,
        env!("CARGO_PKG_VERSION")
    );
    let cache = Cache::new(&settings.cache_path, &identity, settings.cache_max_age);
    let stdout = io::stdout();

    if let Some(name) = &args.host {
        if !args.refresh_cache {
            match cache.read_host(name) {
                Lookup::Hit(Some(vars)) => {
                    info!(1, "cache hit: {}", cache.path.display());
                    return print(&stdout, &[&vars, b"\n"]);
                }
                Lookup::Hit(None) => info!(1, "host {name} is not in the cache; refreshing once"),
                Lookup::Miss(why) => info!(1, "cache miss ({why}): {}", cache.path.display()),
                Lookup::Corrupt(why) => diag::warn(&format!("{why}; rebuilding it from the API")),
            }
        }
        let (inv, _) = refresh(&settings, plan, &home_region, &cache)?;
        let found = inv
            .hosts
            .binary_search_by(|h| h.name.as_str().cmp(name))
            .map(|i| inv.hosts[i].hostvars.as_bytes())
            .unwrap_or(b"{}");
        return print(&stdout, &[found, b"\n"]);
    }

    if !args.refresh_cache {
        match cache.read_list() {
            Lookup::Hit(cached) => {
                info!(1, "cache hit: {}", cache.path.display());
                return print_cached(&stdout, cached);
            }
            Lookup::Miss(why) => info!(1, "cache miss ({why}): {}", cache.path.display()),
            Lookup::Corrupt(why) => diag::warn(&format!("{why}; rebuilding it from the API")),
        }
    }
    let (inv, written) = refresh(&settings, plan, &home_region, &cache)?;
    match written {
        // The bytes just written are the output: copy them rather than serialize again.
        Some(cached) => print_cached(&stdout, cached),
        None => {
            widen_stdout_pipe();
            let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
            output::write_list(&inv, &mut out).map_err(stdout_error)?;
            out.flush().map_err(stdout_error)
        }
    }
}

/// The `--list` output from a cache file, straight to stdout.
fn print_cached(stdout: &io::Stdout, cached: CachedList) -> Result<()> {
    widen_stdout_pipe();
    let mut lock = stdout.lock();
    cached.copy_to(&mut lock).map_err(stdout_error)?;
    lock.flush().map_err(stdout_error)
}

/// A pipe holds 64 KiB by default: writing megabytes of inventory through it takes a wake-up of
/// the reader every 64 KiB. Asking for 1 MiB (what an unprivileged process may) cuts those
/// sixteenfold; if stdout is not a pipe, or the kernel says no, nothing changes.
fn widen_stdout_pipe() {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl on fd 1 with an integer argument touches no memory of ours.
    unsafe {
        libc::fcntl(libc::STDOUT_FILENO, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

fn print(stdout: &io::Stdout, parts: &[&[u8]]) -> Result<()> {
    let mut lock = stdout.lock();
    for p in parts {
        lock.write_all(p).map_err(stdout_error)?;
    }
    lock.flush().map_err(stdout_error)
}

/// A reader that closed the pipe early (`| head`) wanted no more; that is not an error.
fn stdout_error(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(crate::exit_codes::SUCCESS);
    }
    Error::Io(format!("cannot write the inventory to stdout: {e}"))
}

/// Calls the API, builds the inventory and rewrites the cache, returning the new cache file
/// when it could be written. A failure leaves the cache as it was; a cache that cannot be
/// written costs a warning, not the inventory.
fn refresh(
    settings: &Settings,
    plan: Plan,
    home_region: &str,
    cache: &Cache,
) -> Result<(Inventory, Option<CachedList>)> {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io(format!("cannot start the async runtime: {e}")))?;
    let opts = HostvarOptions {
        destination_variables: settings.destination_variables.clone(),
        destination_format: settings.destination_format.clone(),
        destination_format_tags: settings.destination_format_tags.clone(),
        hostname_variable: settings.hostname_variable.clone(),
        legacy_tags_hostvar: settings.legacy_tags_hostvar,
    };
    let mut builder = inventory::Builder::new(settings);
    let total = runtime.block_on(async {
        let creds = plan.resolve().await?;
        let client = Client::new(
            creds,
            settings.timeout,
            settings.max_concurrency,
            settings.max_retries,
        )
        .map_err(Error::Io)?;
        let targets = fetch::targets(&client, settings, home_region).await?;
        info!(
            1,
            "regions: {}",
            targets
                .iter()
                .map(|t| t.region.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        // Hosts are named and grouped as their pages arrive.
        fetch::instances(client, settings, targets, opts, &mut |i| builder.add(i)).await
    })?;
    // Dropping the runtime here would wait for idle pooled connections; nothing is left to run.
    runtime.shutdown_background();
    let inv = builder.finish();
    for w in &inv.warnings {
        diag::warn(w);
    }
    info!(
        1,
        "{} hosts in {} groups ({} instances without an address left out, {} by pattern) in {} ms",
        inv.hosts.len(),
        inv.groups.len() + 1,
        inv.without_address,
        inv.filtered_out,
        started.elapsed().as_millis()
    );
    if inv.hosts.is_empty() && inv.without_address > 0 && inv.without_address == total {
        diag::warn(&format!(
            "all {total} instances were left out for lack of an address in {} (set destination_variable = private_ip_address, or give them public addresses)",
            settings.destination_variables.join(", ")
        ));
    }
    let written = match cache.write(&inv) {
        Ok(cached) => {
            info!(1, "cache written: {}", cache.path.display());
            Some(cached)
        }
        Err(e) => {
            diag::warn(&format!(
                "cannot write the cache {}: {e} (the inventory is printed anyway; check cache_path)",
                cache.path.display()
            ));
            None
        }
    };
    Ok((inv, written))
}
