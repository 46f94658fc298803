//! The inventory cache (docs/DESIGN.md, "Cache"): one file per settings fingerprint, holding the
//! `--list` output, an index of each host's hostvars, and a checksum.
//!
//! Layout: a fixed-width header line, the JSON exactly as printed, then the index: host names in
//! byte order each followed by the offset and length (u64 LE) of its hostvars in the JSON and a
//! CRC32 (u32 LE) of the name and the hostvars, a table of the records' offsets (u64 LE) and the
//! record count. `--host` binary-searches that table with a handful of positioned reads and
//! checks the one entry it serves, so it costs the same on 100 hosts as on 100,000.
//! Files are written to a temp file beside the cache and renamed over it, so a reader sees the
//! old file or the new one, never half of one. A temp file is named for its writer
//! (`.<cache>.<pid>.<random>.tmp`): a signal removes it (see `process`), and the next writer
//! removes one whose writer is dead or that is older than an hour.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};

use crate::config::Settings;
use crate::info;
use crate::inventory::Inventory;
use crate::output;
use crate::process;
use write_behind::WriteBehind;

mod write_behind;

const MAGIC: &str = "ALICLOUD_INVENTORY_CACHE";
/// Bumped whenever the layout changes; caches of another format or program version are ignored.
const FORMAT: &str = "2";
/// What follows a host's name in its index record: offset, length, CRC32.
const RECORD_TAIL: u64 = 8 + 8 + 4;
/// A temp file older than this is no writer's any more, whatever its name says (a write takes
/// seconds).
const STALE_AFTER: Duration = Duration::from_secs(3600);
/// Magic, format, program version (16), created (20), json length (20), index length (20),
/// crc32 (8), separated by spaces, then a newline.
const HEADER_LEN: usize =
    MAGIC.len() + 1 + FORMAT.len() + 1 + 16 + 1 + 20 + 1 + 20 + 1 + 20 + 1 + 8 + 1;

#[derive(Debug, Clone)]
pub struct Cache {
    pub path: PathBuf,
    pub max_age: u64,
}

/// A verified `--list` output in a cache file: mapped (a warm read, whose check read the
/// mapping) or open (just written).
#[derive(Debug)]
pub enum CachedList {
    Mapped(memmap2::Mmap, File, u64),
    Open(File, u64),
}

impl CachedList {
    /// Writes the JSON to `out` (stdout) through sendfile(2), which hands the file's page-cache
    /// pages to a pipe without a copy through us: std's `io::copy` will not do that for a pipe
    /// (it copies 8 KiB at a time), and writing from a mapping of a just-written file would
    /// count its pages in our RSS, 350 MB on a W2 run. What sendfile cannot take is written from
    /// the mapping, or read in large pieces.
    pub fn copy_to<W: Write + AsRawFd>(self, out: &mut W) -> io::Result<()> {
        let (file, len, map) = match self {
            CachedList::Mapped(map, file, len) => (file, len, Some(map)),
            CachedList::Open(file, len) => (file, len, None),
        };
        out.flush()?;
        let end = HEADER_LEN as u64 + len;
        let mut at = send(&file, out.as_raw_fd(), HEADER_LEN as u64, end)?;
        if let Some(map) = map {
            return out.write_all(&map[at as usize..end as usize]);
        }
        let mut buf = vec![0u8; (end - at).min(1 << 20) as usize];
        while at < end {
            let n = (end - at).min(buf.len() as u64) as usize;
            file.read_exact_at(&mut buf[..n], at)?;
            out.write_all(&buf[..n])?;
            at += n as u64;
        }
        Ok(())
    }
}

/// Sends `file[from..end]` to `fd` with sendfile(2); returns where it stopped, which is `from`
/// when the kernel cannot send to that kind of file.
#[cfg(target_os = "linux")]
fn send(file: &File, fd: std::os::fd::RawFd, from: u64, end: u64) -> io::Result<u64> {
    let mut offset = from as libc::off_t;
    while (offset as u64) < end {
        let want = (end - offset as u64).min(1 << 30) as usize;
        // SAFETY: two open descriptors; the kernel writes only `offset`.
        let n = unsafe { libc::sendfile(fd, file.as_raw_fd(), &mut offset, want) };
        if n > 0 {
            continue;
        }
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the cache file is shorter than its header says",
            ));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EINVAL | libc::ENOSYS) if offset as u64 == from => return Ok(from),
            _ => return Err(e),
        }
    }
    Ok(offset as u64)
}

#[cfg(not(target_os = "linux"))]
fn send(_: &File, _: std::os::fd::RawFd, from: u64, _: u64) -> io::Result<u64> {
    Ok(from)
}

impl CachedList {
    /// The JSON, for a view that needs all of it at once (`--graph`, `--pretty`).
    pub fn json(&self) -> io::Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            CachedList::Mapped(map, _, len) => Ok(std::borrow::Cow::Borrowed(
                &map[HEADER_LEN..HEADER_LEN + *len as usize],
            )),
            CachedList::Open(file, len) => {
                let mut json = vec![0u8; *len as usize];
                file.read_exact_at(&mut json, HEADER_LEN as u64)?;
                Ok(std::borrow::Cow::Owned(json))
            }
        }
    }
}

/// A header that parsed and belongs to this program version.
#[derive(Debug, Clone, Copy)]
struct Header {
    json_len: u64,
    index_len: u64,
    crc: u32,
}

/// What reading the cache found.
#[derive(Debug)]
pub enum Lookup<T> {
    Hit(T),
    /// Missing, stale, or from another version: refresh quietly.
    Miss(&'static str),
    /// Damaged: refresh, and tell the operator.
    Corrupt(String),
    /// Not the user's own, or writable by others: neither read nor written; the run calls the
    /// API and tells the operator (see [`Cache::untrusted`]).
    Untrusted(String),
}

/// Why a file or directory is not to be trusted with the cache: as OpenSSH trusts a config file,
/// it must belong to the user running us (or root) and be writable by nobody else.
fn distrust(meta: &std::fs::Metadata, path: &Path, what: &str) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and touches no memory of ours.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me && meta.uid() != 0 {
        return Some(format!(
            "the cache {what} {} belongs to another user (uid {}), so it is neither read nor written; the API is called instead (set cache_path to a directory of your own)",
            path.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Some(format!(
            "the cache {what} {} is writable by other users (mode {:o}), so it is neither read nor written; the API is called instead (chmod go-w {}, or set cache_path to a private directory)",
            path.display(),
            meta.mode() & 0o7777,
            path.display()
        ));
    }
    None
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Cache {
    /// The cache file for these settings: the directory plus a digest of everything that
    /// changes the answer (the caller passes settings fingerprint, endpoint and key id).
    pub fn new(dir: &Path, identity: &str, max_age: u64) -> Cache {
        let digest = Sha1::digest(identity.as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Cache {
            path: dir.join(format!("alicloud_inventory-{hex}.cache")),
            max_age,
        }
    }

    /// The cache file of a run with these settings, credential identity (key id, role or
    /// profile of each account; never a secret) and home region: its name is a digest of
    /// everything that changes the answer.
    pub fn for_run(settings: &Settings, credentials: &str, home_region: &str) -> Cache {
        let identity = format!(
            "{}|{}|{}|{}",
            settings.fingerprint(),
            credentials,
            home_region,
            env!("CARGO_PKG_VERSION")
        );
        Cache::new(&settings.cache_path, &identity, settings.cache_max_age)
    }

    /// The age in seconds of the cache file, from its header, whether or not it is fresh
    /// (for `--check`; a run also verifies the checksum, see [`Cache::read_list`]).
    pub fn age(&self) -> Lookup<u64> {
        let mut buf = [0u8; HEADER_LEN];
        match self.open().and_then(|f| f.read_exact_at(&mut buf, 0)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                return Lookup::Corrupt(format!("{} is truncated", self.path.display()))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Lookup::Miss("no cache yet")
            }
            Err(e) => return Lookup::Corrupt(format!("cannot read {}: {e}", self.path.display())),
        }
        let fields: Vec<&str> = std::str::from_utf8(&buf)
            .unwrap_or_default()
            .split_ascii_whitespace()
            .collect();
        if fields.len() != 7 || fields[0] != MAGIC {
            return Lookup::Corrupt(format!(
                "{} is not a cache file of this program",
                self.path.display()
            ));
        }
        if fields[1] != FORMAT || fields[2] != env!("CARGO_PKG_VERSION") {
            return Lookup::Miss("written by another version");
        }
        match fields[3].parse::<u64>() {
            Ok(created) => Lookup::Hit(now().saturating_sub(created)),
            Err(_) => Lookup::Corrupt(format!("{} has a damaged header", self.path.display())),
        }
    }

    fn open(&self) -> io::Result<File> {
        // A symlink planted at the cache path is not followed; a FIFO there does not block.
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&self.path)
    }

    /// Why the cache directory cannot be trusted, if it cannot: it, or the file in it, belongs
    /// to another user or is writable by others, or an ancestor is writable by others without
    /// the sticky bit (anyone could swap the directory). A directory that does not exist yet is
    /// trusted: [`Cache::write`] makes it 0700.
    pub fn untrusted(&self) -> Option<String> {
        let dir = self.dir();
        let meta = std::fs::metadata(dir).ok()?;
        if !meta.is_dir() {
            // Writing says what is wrong with the path.
            return None;
        }
        if let Some(why) = distrust(&meta, dir, "directory") {
            return Some(why);
        }
        let full = std::fs::canonicalize(dir).ok()?;
        for up in full.ancestors().skip(1) {
            let Ok(m) = std::fs::metadata(up) else {
                continue;
            };
            if m.permissions().mode() & 0o1002 == 0o002 {
                return Some(format!(
                    "{} is writable by every user without the sticky bit, so the cache under it is neither read nor written; the API is called instead (set cache_path elsewhere, or chmod o-w {})",
                    up.display(),
                    up.display()
                ));
            }
        }
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if m.is_file() => distrust(&m, &self.path, "file"),
            _ => None,
        }
    }

    /// Why no cache can be written at this path, when that is known without trying: it, or the
    /// first of its ancestors that exists, is a file or a dangling link.
    pub fn unwritable(&self) -> Option<String> {
        let dir = self.dir();
        (!dir.is_dir()).then(|| not_a_directory(dir)).flatten()
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    fn header(&self, file: &File) -> Result<Lookup<Header>, io::Error> {
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(Lookup::Corrupt(format!(
                "{} is not a regular file",
                self.path.display()
            )));
        }
        // Checked on the open file: what is read is what was judged.
        if let Some(why) = distrust(&meta, &self.path, "file") {
            return Ok(Lookup::Untrusted(why));
        }
        let size = meta.len();
        let mut buf = [0u8; HEADER_LEN];
        if size < HEADER_LEN as u64 {
            return Ok(Lookup::Corrupt(format!(
                "{} is truncated",
                self.path.display()
            )));
        }
        file.read_exact_at(&mut buf, 0)?;
        let Ok(text) = std::str::from_utf8(&buf) else {
            return Ok(Lookup::Corrupt(format!(
                "{} has a damaged header",
                self.path.display()
            )));
        };
        let fields: Vec<&str> = text
            .trim_end_matches('\n')
            .split(' ')
            .filter(|f| !f.is_empty())
            .collect();
        if fields.len() != 7 || fields[0] != MAGIC || !text.ends_with('\n') {
            return Ok(Lookup::Corrupt(format!(
                "{} is not a cache file of this program",
                self.path.display()
            )));
        }
        if fields[1] != FORMAT || fields[2] != env!("CARGO_PKG_VERSION") {
            return Ok(Lookup::Miss("written by another version"));
        }
        let num = |s: &str| s.parse::<u64>().ok();
        let (Some(created), Some(json_len), Some(index_len), Ok(crc)) = (
            num(fields[3]),
            num(fields[4]),
            num(fields[5]),
            u32::from_str_radix(fields[6], 16),
        ) else {
            return Ok(Lookup::Corrupt(format!(
                "{} has a damaged header",
                self.path.display()
            )));
        };
        if HEADER_LEN as u64 + json_len + index_len != size {
            return Ok(Lookup::Corrupt(format!(
                "{} is truncated",
                self.path.display()
            )));
        }
        if self.max_age == 0 || now().saturating_sub(created) >= self.max_age {
            return Ok(Lookup::Miss("stale"));
        }
        Ok(Lookup::Hit(Header {
            json_len,
            index_len,
            crc,
        }))
    }

    fn read_header(&self) -> Lookup<(File, Header)> {
        let file = match self.open() {
            Ok(f) => f,
            // A missing file, or a cache_path under a regular file: there is no cache; writing
            // will say what is wrong with the path.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Lookup::Miss("no cache yet")
            }
            Err(e) => return Lookup::Corrupt(format!("cannot read {}: {e}", self.path.display())),
        };
        match self.header(&file) {
            Ok(Lookup::Hit(h)) => Lookup::Hit((file, h)),
            Ok(Lookup::Miss(m)) => Lookup::Miss(m),
            Ok(Lookup::Corrupt(m)) => Lookup::Corrupt(m),
            Ok(Lookup::Untrusted(m)) => Lookup::Untrusted(m),
            Err(e) => Lookup::Corrupt(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    /// The `--list` output from a fresh cache, checksum verified. The file is mapped: the check
    /// reads the page cache in place and sendfile hands the same pages to stdout, so a warm run
    /// costs about what `cat` of the file does.
    pub fn read_list(&self) -> Lookup<CachedList> {
        let (file, h) = match self.read_header() {
            Lookup::Hit(x) => x,
            Lookup::Miss(m) => return Lookup::Miss(m),
            Lookup::Corrupt(m) => return Lookup::Corrupt(m),
            Lookup::Untrusted(m) => return Lookup::Untrusted(m),
        };
        // SAFETY: cache files are never changed in place; a writer renames a new file over the
        // path, so the mapped file stays as it is while it is mapped (the directory is 0700).
        let map = match unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
            Ok(m) => m,
            Err(e) => return Lookup::Corrupt(format!("cannot read {}: {e}", self.path.display())),
        };
        // header() checked the size against the lengths in the header.
        if map.len() as u64 != HEADER_LEN as u64 + h.json_len + h.index_len
            || crc32fast::hash(&map[HEADER_LEN..]) != h.crc
        {
            return Lookup::Corrupt(format!("{} failed its checksum", self.path.display()));
        }
        Lookup::Hit(CachedList::Mapped(map, file, h.json_len))
    }

    /// How many hosts the cache file holds, fresh or stale; `None` when there is no readable
    /// cache of this program and format. For the warning when a refresh finds none.
    pub fn previous_hosts(&self) -> Option<u64> {
        let file = self.open().ok()?;
        let any_age = Cache {
            path: self.path.clone(),
            max_age: u64::MAX,
        };
        let Ok(Lookup::Hit(h)) = any_age.header(&file) else {
            return None;
        };
        let end = (HEADER_LEN as u64 + h.json_len + h.index_len).checked_sub(8)?;
        let mut b = [0u8; 8];
        file.read_exact_at(&mut b, end).ok()?;
        Some(u64::from_le_bytes(b))
    }

    /// One host's hostvars from a fresh cache; `Hit(None)` = the cache has no such host.
    pub fn read_host(&self, name: &str) -> Lookup<Option<Vec<u8>>> {
        let (file, h) = match self.read_header() {
            Lookup::Hit(x) => x,
            Lookup::Miss(m) => return Lookup::Miss(m),
            Lookup::Corrupt(m) => return Lookup::Corrupt(m),
            Lookup::Untrusted(m) => return Lookup::Untrusted(m),
        };
        match find_host(&file, &h, name) {
            Ok(found) => Lookup::Hit(found),
            Err(e) => Lookup::Corrupt(format!("{}: {e}", self.path.display())),
        }
    }

    /// Writes the inventory to a temp file and renames it over the cache.
    /// Returns the new file, open, so the caller can print the output from it rather than
    /// serialize the inventory a second time.
    pub fn write(&self, inv: &Inventory) -> io::Result<CachedList> {
        let dir = self.dir();
        if !dir.is_dir() {
            // mkdir's own answer for these would be "File exists".
            if let Some(why) = not_a_directory(dir) {
                return Err(io::Error::other(why));
            }
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
            std::fs::set_permissions(dir, Permissions::from_mode(0o700))?;
        }
        // Checked again as the file is replaced: a directory that changed hands since the run
        // began is left alone.
        if let Some(why) = self.untrusted() {
            return Err(io::Error::other(why));
        }
        // First, so that orphans never fill the disk this write needs.
        remove_stale_temp_files(dir);
        let file_name = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("cache");
        let mut tmp = TempFile::create(dir, file_name)?;
        let json_len = write_to(tmp.file.as_file_mut(), inv)?;
        // On disk before the rename, so a crash leaves the old cache or the whole new one.
        tmp.file.as_file().sync_all()?;
        let file = tmp.persist(&self.path)?;
        Ok(CachedList::Open(file, json_len))
    }
}

/// Why `dir`, which is not a directory, cannot be made one: it, or the first of its ancestors
/// that exists, is a file or a dangling symbolic link. `None` when mkdir should just try.
fn not_a_directory(dir: &Path) -> Option<String> {
    for p in dir.ancestors().filter(|p| !p.as_os_str().is_empty()) {
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(p).unwrap_or_default();
            return match std::fs::metadata(p) {
                Ok(m) if m.is_dir() => None,
                Ok(_) => Some(format!(
                    "{} is a symbolic link to {}, which is not a directory",
                    p.display(),
                    target.display()
                )),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Some(format!(
                    "{} is a symbolic link to {}, which does not exist",
                    p.display(),
                    target.display()
                )),
                Err(_) => None,
            };
        }
        return match meta.is_dir() {
            true => None,
            false if meta.is_file() => Some(format!("{} is a file, not a directory", p.display())),
            false => Some(format!("{} is not a directory", p.display())),
        };
    }
    None
}

/// A temp file of ours being written (tempfile's `NamedTempFile`: removed when dropped unless
/// persisted), also registered with the signal handler should the process be ended first.
struct TempFile {
    file: tempfile::NamedTempFile,
    _guard: process::TempGuard,
}

impl TempFile {
    fn create(dir: &Path, cache_name: &str) -> io::Result<TempFile> {
        let mut guard = None;
        let file = tempfile::Builder::new()
            .prefix(&format!(".{cache_name}.{}.", std::process::id()))
            .suffix(".tmp")
            .rand_bytes(8)
            .make_in(dir, |path| {
                // Registered before it exists: a signal right after the open still finds it.
                guard = Some(process::guard_temp(path));
                // Created new: never an existing file or a planted symlink.
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
            })?;
        let guard = guard.ok_or_else(|| io::Error::other("temp file not registered"))?;
        Ok(TempFile {
            file,
            _guard: guard,
        })
    }

    /// Renames the file over `target` (in the same directory, so atomically).
    fn persist(self, target: &Path) -> io::Result<File> {
        let file = self.file.persist(target).map_err(|e| e.error)?;
        Ok(file)
    }
}

/// For a temp file name of ours, the writer's pid if the name has one (earlier versions' names
/// do not); `None` for any other name.
fn temp_file_writer(name: &str) -> Option<Option<u32>> {
    let rest = name
        .strip_prefix(".alicloud_inventory-")?
        .strip_suffix(".tmp")?;
    let (digest, rest) = rest.split_once(".cache.")?;
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if digest.len() != 16 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match rest.split_once('.') {
        Some((pid, random)) if alnum(random) && !pid.is_empty() => pid
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| pid.parse().ok()),
        None if alnum(rest) => Some(None),
        _ => None,
    }
}

/// Whether process `pid` may still be writing (on this host: see docs/DESIGN.md, "Cache").
fn writer_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let found = unsafe { libc::kill(pid, 0) } == 0;
    // EPERM: it exists, as another user's process.
    found || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Removes the temp files of ours in `dir` that no writer will finish: regular files of this
/// user, named as ours, whose writer is dead or that are older than [`STALE_AFTER`]. Nothing
/// else is touched.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    // SAFETY: geteuid(2) cannot fail.
    let uid = unsafe { libc::geteuid() };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(writer) = name.to_str().and_then(temp_file_writer) else {
            continue;
        };
        // DirEntry::metadata does not follow a symlink.
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        if !meta.file_type().is_file() || std::os::unix::fs::MetadataExt::uid(&meta) != uid {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > STALE_AFTER);
        let stale = old || writer.is_some_and(|pid| !writer_alive(pid));
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            info!(1, "removed a stale temp file: {}", entry.path().display());
        }
    }
}

/// Writes header, JSON and index to `file`; returns the JSON's length.
fn write_to(file: &mut File, inv: &Inventory) -> io::Result<u64> {
    file.write_all(&[b' '; HEADER_LEN])?;
    let mut crc = crc32fast::Hasher::new();
    let mut w = BufWriter::with_capacity(
        1 << 16,
        Crc {
            inner: WriteBehind::new(&mut *file, HEADER_LEN as u64),
            crc: &mut crc,
        },
    );
    let written = output::write_list(inv, &mut w)?;
    // The index: records, then their offsets, then the count.
    let mut offsets = Vec::with_capacity(inv.hosts.len());
    let mut at = 0u64;
    for (host, (off, len)) in inv.hosts.iter().zip(&written.spans) {
        offsets.push(at);
        w.write_all(host.name.as_bytes())?;
        w.write_all(&off.to_le_bytes())?;
        w.write_all(&len.to_le_bytes())?;
        w.write_all(&entry_crc(host.name.as_bytes(), host.hostvars.as_bytes()).to_le_bytes())?;
        at += host.name.len() as u64 + RECORD_TAIL;
    }
    for o in &offsets {
        w.write_all(&o.to_le_bytes())?;
    }
    w.write_all(&(offsets.len() as u64).to_le_bytes())?;
    w.flush()?;
    drop(w);
    let index_len = at + 8 * offsets.len() as u64 + 8;
    let header = format!(
        "{MAGIC} {FORMAT} {:<16} {:020} {:020} {:020} {:08x}\n",
        env!("CARGO_PKG_VERSION"),
        now(),
        written.len,
        index_len,
        crc.finalize()
    );
    debug_assert_eq!(header.len(), HEADER_LEN);
    file.write_all_at(header.as_bytes(), 0)?;
    Ok(written.len)
}

/// The checksum of one host's entry: its name and its hostvars, so that `--host` can check the
/// few bytes it reads.
fn entry_crc(name: &[u8], hostvars: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(name);
    crc.update(hostvars);
    crc.finalize()
}

/// A writer that checksums what goes through it (`output` counts the bytes).
struct Crc<'a, W> {
    inner: W,
    crc: &'a mut crc32fast::Hasher,
}

impl<W: Write> Write for Crc<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn find_host(file: &File, h: &Header, name: &str) -> io::Result<Option<Vec<u8>>> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    let index_start = HEADER_LEN as u64 + h.json_len;
    let index_end = index_start + h.index_len;
    let u64_at = |pos: u64| -> io::Result<u64> {
        let mut b = [0u8; 8];
        file.read_exact_at(&mut b, pos)?;
        Ok(u64::from_le_bytes(b))
    };
    if h.index_len < 8 {
        return Err(bad("index truncated"));
    }
    let count = u64_at(index_end - 8)?;
    let table = index_end
        .checked_sub(8 + count.checked_mul(8).ok_or_else(|| bad("index count"))?)
        .filter(|t| *t >= index_start)
        .ok_or_else(|| bad("index count out of range"))?;
    let record = |i: u64| -> io::Result<(Vec<u8>, u64, u64, u32)> {
        let start = index_start + u64_at(table + 8 * i)?;
        let end = if i + 1 < count {
            index_start + u64_at(table + 8 * (i + 1))?
        } else {
            table
        };
        if start.checked_add(RECORD_TAIL).is_none_or(|s| end < s) || end > table {
            return Err(bad("index record out of range"));
        }
        let mut buf = vec![0u8; (end - start) as usize];
        file.read_exact_at(&mut buf, start)?;
        let tail = buf.split_off(buf.len() - RECORD_TAIL as usize);
        let off = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(tail[8..16].try_into().expect("8 bytes"));
        let crc = u32::from_le_bytes(tail[16..].try_into().expect("4 bytes"));
        Ok((buf, off, len, crc))
    };
    let (mut lo, mut hi) = (0u64, count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let (key, off, len, crc) = record(mid)?;
        match key.as_slice().cmp(name.as_bytes()) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => {
                if off.checked_add(len).is_none_or(|e| e > h.json_len) {
                    return Err(bad("hostvars out of range"));
                }
                let mut vars = vec![0u8; len as usize];
                file.read_exact_at(&mut vars, HEADER_LEN as u64 + off)?;
                // Only this host's bytes are read, so only they are checked, by their own CRC.
                if entry_crc(&key, &vars) != crc {
                    return Err(bad(&format!(
                        "the entry of host {name} failed its checksum"
                    )));
                }
                return Ok(Some(vars));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
