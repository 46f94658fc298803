//! The engine: settings → credentials → cache or API → inventory → output. `main` only maps the
//! result to an exit status.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Instant;

use crate::api::client::Client;
use crate::cache::{Cache, CachedList, Lookup};
use crate::cli::Args;
use crate::config::{glob_match, Env, Settings};
use crate::credentials;
use crate::diag;
use crate::error::{Error, Result};
use crate::fetch;
use crate::fetch::fan_out::{self, Source};
use crate::hostvars::{HostvarOptions, MakeShape};
use crate::info;
use crate::inventory::{self, Inventory, Shapers};
use crate::output;
use crate::output::view::{self, View};

/// How a run that did its work ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The whole answer went to stdout.
    Printed,
    /// The reader closed stdout before the end (`| head`): it wanted no more, which is not an
    /// error, so the run ends quietly and successfully.
    StdoutClosed,
}

pub fn run(args: &Args, env: &Env) -> Result<Outcome> {
    if args.check {
        let summary = crate::check::check(args.config.as_deref(), env)?;
        return to_stdout(|| {
            let mut lock = io::stdout().lock();
            lock.write_all(summary.as_bytes())?;
            lock.flush()
        });
    }
    let view = View::of(args);
    let settings = Settings::load(args.config.as_deref(), env)?;
    for w in &settings.warnings {
        diag::warn(w);
    }
    match &settings.source {
        Some(p) => info!(1, "config: {}", p.display()),
        None => info!(1, "config: none found, built-in defaults"),
    }
    let source = Source::of(&settings, env)?;
    let home_region = credentials::home_region(&settings, env);
    info!(1, "credentials: {}", source.describe());
    let cache = Cache::for_run(&settings, &source.identity(&settings), &home_region);
    // A cache another user could have written is neither read nor written (docs/RELIABILITY.md,
    // "Cache trust").
    let mut trusted = match cache.untrusted() {
        Some(why) => {
            diag::warn(&why);
            false
        }
        None => true,
    };
    let stdout = io::stdout();

    if let Some(name) = &args.host {
        if !args.refresh_cache && trusted {
            match cache.read_host(name) {
                Lookup::Hit(Some(vars)) => {
                    info!(1, "cache hit: {}", cache.path.display());
                    return show(&stdout, &view, &vars);
                }
                Lookup::Hit(None) => info!(1, "host {name} is not in the cache; refreshing once"),
                Lookup::Miss(why) => info!(1, "cache miss ({why}): {}", cache.path.display()),
                Lookup::Corrupt(why) => diag::warn(&format!("{why}; rebuilding it from the API")),
                Lookup::Untrusted(why) => {
                    diag::warn(&why);
                    trusted = false;
                }
            }
        }
        let (inv, _) = refresh(&settings, source, &home_region, trusted.then_some(&cache))?;
        let found = inv.host(name).map_or("{}", |h| &h.hostvars);
        return show(&stdout, &view, found.as_bytes());
    }

    if !args.refresh_cache && trusted {
        match cache.read_list() {
            Lookup::Hit(cached) => {
                info!(1, "cache hit: {}", cache.path.display());
                return show_list(&stdout, &view, cached);
            }
            Lookup::Miss(why) => info!(1, "cache miss ({why}): {}", cache.path.display()),
            Lookup::Corrupt(why) => diag::warn(&format!("{why}; rebuilding it from the API")),
            Lookup::Untrusted(why) => {
                diag::warn(&why);
                trusted = false;
            }
        }
    }
    let (inv, written) = refresh(&settings, source, &home_region, trusted.then_some(&cache))?;
    let outcome = match written {
        // The bytes just written are the output: copy them rather than serialize again.
        Some(cached) => show_list(&stdout, &view, cached),
        None if view != View::Json => {
            let mut json = Vec::new();
            output::write_list(&inv, &mut json).map_err(Error::Stdout)?;
            show(&stdout, &view, &json)
        }
        None => {
            widen_stdout_pipe();
            to_stdout(|| {
                let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
                output::write_list(&inv, &mut out)?;
                out.flush()
            })
        }
    };
    // The process ends next: freeing every host's strings one by one would only cost time
    // (about 3 % of a cold run's CPU).
    std::mem::forget(inv);
    outcome
}

/// The `--list` output from a cache file as `view` shows it.
fn show_list(stdout: &io::Stdout, view: &View, cached: CachedList) -> Result<Outcome> {
    if *view == View::Json {
        return print_cached(stdout, cached);
    }
    let json = cached
        .json()
        .map_err(|e| Error::View(format!("cannot read the cache file: {e}")))?;
    show(stdout, view, &json)
}

/// An answer (the `--list` output or one host's hostvars) as `view` shows it.
fn show(stdout: &io::Stdout, view: &View, json: &[u8]) -> Result<Outcome> {
    let shown = view::prepare(view, json)?;
    widen_stdout_pipe();
    to_stdout(|| shown.write_to(io::BufWriter::with_capacity(1 << 16, stdout.lock())))
}

/// The `--list` output from a cache file, straight to stdout.
fn print_cached(stdout: &io::Stdout, cached: CachedList) -> Result<Outcome> {
    widen_stdout_pipe();
    to_stdout(|| {
        let mut lock = stdout.lock();
        cached.copy_to(&mut lock)?;
        lock.flush()
    })
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

/// Runs `write`, which writes the answer to stdout, and says how that ended.
fn to_stdout(write: impl FnOnce() -> io::Result<()>) -> Result<Outcome> {
    match write() {
        Ok(()) => Ok(Outcome::Printed),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Outcome::StdoutClosed),
        Err(e) => Err(Error::Stdout(e)),
    }
}

/// The `hostvars` patterns that kept no hostvar of any host. A selection prints only what it
/// keeps (and `ansible_host`, composed variables), so the printed names are what a pattern can
/// have matched: most patterns are found among the first host's; the rest are looked for in
/// every host.
fn unmatched_patterns<'p>(patterns: &'p [String], inv: &Inventory) -> Vec<&'p str> {
    let names = |h: &inventory::Host| -> Vec<String> {
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&h.hostvars)
            .map(|m| m.into_iter().map(|(k, _)| k).collect())
            .unwrap_or_default()
    };
    let Some(first) = inv.hosts.first() else {
        return Vec::new();
    };
    let first = names(first);
    let mut left: Vec<&str> = patterns
        .iter()
        .map(String::as_str)
        .filter(|p| !first.iter().any(|n| glob_match(p, n)))
        .collect();
    for h in inv.hosts.iter().skip(1) {
        if left.is_empty() {
            break;
        }
        let names = names(h);
        left.retain(|p| !names.iter().any(|n| glob_match(p, n)));
    }
    left
}

/// Calls the API, builds the inventory and rewrites the cache (unless it is untrusted: None),
/// returning the new cache file when it could be written. A failure leaves the cache as it
/// was; a cache that cannot be written costs a warning, not the inventory; an inventory that
/// lacks a skipped account is not cached.
fn refresh(
    settings: &Settings,
    source: Source,
    home_region: &str,
    cache: Option<&Cache>,
) -> Result<(Inventory, Option<CachedList>)> {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let opts = HostvarOptions::from_settings(settings);
    let mut builder = inventory::Builder::new(settings);
    let mut complete = true;
    let total = runtime.block_on(async {
        let plan = match source {
            Source::One(plan) => plan,
            Source::Accounts(plans) => {
                let shaping =
                    |s: &Settings| Arc::new(Shapers(Arc::new(s.clone()))) as Arc<dyn MakeShape>;
                let fetched = fan_out::fetch(plans, settings, home_region, &shaping, &mut |i| {
                    builder.add(i)
                })
                .await?;
                complete = fetched.failed.is_empty();
                return Ok(fetched.instances);
            }
        };
        let creds = plan.resolve().await?;
        let client = Client::new(
            creds,
            settings.timeout,
            settings.max_concurrency,
            settings.max_retries,
        )?
        .with_throttle(settings.throttle_window, settings.throttle_wait);
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
        let shaping = opts
            .keep_vars
            .then(|| Arc::new(Shapers(Arc::new(settings.clone()))) as Arc<dyn MakeShape>);
        fetch::instances(client, settings, targets, opts, shaping, &mut |i| {
            builder.add(i)
        })
        .await
    })?;
    // Dropping the runtime here would wait for idle pooled connections; nothing is left to run.
    runtime.shutdown_background();
    if let Some(e) = builder.take_error() {
        // Some failures end the run whatever strict says, as in Ansible (an empty group name).
        let why = if settings.constructed.as_ref().is_some_and(|c| c.strict()) {
            "strict is on: fix the entry, or set strict to false to skip it for such hosts"
        } else {
            "Ansible refuses this one even with strict off: fix the entry for such hosts"
        };
        return Err(Error::Config(format!("{e} ({why})")));
    }
    let inv = builder.finish();
    for w in &inv.warnings {
        diag::warn(w);
    }
    if let Some(selection) = &settings.hostvars {
        for p in unmatched_patterns(&selection.patterns, &inv) {
            diag::warn(&format!(
                "hostvars pattern '{p}' matches no hostvar of any host, so it prints nothing (the names are footmark's, as docs/HOSTVARS.md lists them: instance_id, ecs_tags, ...)"
            ));
        }
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
    if !complete {
        info!(1, "cache not written: some accounts were left out");
        return Ok((inv, None));
    }
    let Some(cache) = cache else {
        return Ok((inv, None));
    };
    // An answer of no hosts may be true (every instance gone), so it is written, but never
    // without a word when the cache had some (docs/RELIABILITY.md).
    if inv.hosts.is_empty() {
        if let Some(n) = cache.previous_hosts().filter(|&n| n > 0) {
            diag::warn(&format!(
                "the API listed no hosts, where the cache had {n}: the empty inventory is printed and cached (if that is wrong, check regions, instance_states, filters and which account the credentials reach)"
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_stdout_is_an_outcome_and_other_write_errors_are_errors() {
        assert_eq!(to_stdout(|| Ok(())).unwrap(), Outcome::Printed);
        let closed = to_stdout(|| Err(io::ErrorKind::BrokenPipe.into())).unwrap();
        assert_eq!(closed, Outcome::StdoutClosed);
        let e = to_stdout(|| Err(io::Error::from_raw_os_error(libc::ENOSPC))).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit_codes::RUNTIME);
        assert!(
            e.to_string()
                .starts_with("cannot write the inventory to stdout: No space left"),
            "{e}"
        );
        assert!(
            std::error::Error::source(&e).is_some(),
            "the io::Error is kept"
        );
    }

    fn args(config: &std::path::Path) -> Args {
        Args {
            list: true,
            host: None,
            refresh_cache: false,
            config: Some(config.to_path_buf()),
            verbose: 0,
            graph: None,
            pretty: false,
            check: false,
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// Configuration problems end the run before anything is fetched or printed, as exit 2.
    #[test]
    fn configuration_errors_stop_the_run_first() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap();
        let e = run(&args(&dir.path().join("nope.ini")), &env(&[("HOME", home)])).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit_codes::CONFIG);
        assert!(e.to_string().contains("nope.ini does not exist"), "{e}");

        let ini = dir.path().join("a.ini");
        let cache = dir.path().join("cache");
        std::fs::write(&ini, format!("[ecs]\ncache_path = {}\n", cache.display())).unwrap();
        let e = run(&args(&ini), &env(&[("HOME", home)])).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit_codes::CONFIG);
        assert!(
            e.to_string().contains("no Alibaba Cloud credentials"),
            "{e}"
        );
        let e = run(
            &args(&ini),
            &env(&[("HOME", home), ("ALICLOUD_ACCESS_KEY", "k")]),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit_codes::CONFIG);
        std::fs::write(&ini, "[ecs]\nmax_retries = many\n").unwrap();
        let e = run(&args(&ini), &env(&[("HOME", home)])).unwrap_err();
        assert!(
            e.to_string().contains("a.ini:2: option 'max_retries'"),
            "{e}"
        );
        assert!(!cache.exists(), "nothing was written");
    }
}
