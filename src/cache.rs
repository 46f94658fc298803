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

use crate::info;
use crate::inventory::Inventory;
use crate::output;
use crate::process;
use crate::settings::Settings;

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
            inner: &mut *file,
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
mod tests {
    use super::*;
    use crate::inventory::Host;
    use std::io::{Read, Seek, SeekFrom};

    /// An inventory of hosts `h000`, `h002`, ... (even numbers, sorted), each with its own
    /// hostvars.
    fn inventory(n: usize) -> Inventory {
        let mut inv = Inventory::default();
        for i in 0..n {
            inv.hosts.push(Host {
                name: format!("h{:03}", 2 * i),
                hostvars: format!(r#"{{"n":{i},"name":"h{:03}"}}"#, 2 * i).into(),
            });
        }
        inv
    }

    fn written(n: usize) -> (tempfile::TempDir, Cache, Inventory) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "id", 300);
        let inv = inventory(n);
        cache.write(&inv).unwrap();
        (dir, cache, inv)
    }

    fn list_of(cache: &Cache) -> Vec<u8> {
        match cache.read_list() {
            Lookup::Hit(l) => printed(l, Dest::Pipe),
            Lookup::Miss(m) => panic!("miss: {m}"),
            Lookup::Corrupt(m) => panic!("corrupt: {m}"),
            Lookup::Untrusted(m) => panic!("untrusted: {m}"),
        }
    }

    /// What a lookup found, in words, for assertions.
    fn what<T>(l: Lookup<T>) -> String {
        match l {
            Lookup::Hit(_) => "hit".into(),
            Lookup::Miss(m) => format!("miss: {m}"),
            Lookup::Corrupt(m) => format!("corrupt: {m}"),
            Lookup::Untrusted(m) => format!("untrusted: {m}"),
        }
    }

    #[test]
    fn a_fifo_at_the_cache_path_is_damage_and_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "id", 300);
        let path = std::ffi::CString::new(cache.path.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
        // A blocking open of a FIFO without a writer would never return.
        let w = what(cache.read_list());
        assert!(
            w.starts_with("corrupt: ") && w.ends_with("is not a regular file"),
            "{w}"
        );
        assert!(what(cache.read_host("h")).ends_with("is not a regular file"));
    }

    #[test]
    fn a_file_others_may_write_is_untrusted_and_ours_is_not() {
        let (dir, cache, _) = written(3);
        assert_eq!(cache.untrusted(), None);
        std::fs::set_permissions(&cache.path, Permissions::from_mode(0o620)).unwrap();
        let w = what(cache.read_list());
        assert!(w.starts_with("untrusted: the cache file "), "{w}");
        assert!(w.contains("writable by other users (mode 620)"), "{w}");
        assert!(cache.untrusted().is_some());
        std::fs::set_permissions(&cache.path, Permissions::from_mode(0o600)).unwrap();
        std::fs::set_permissions(dir.path(), Permissions::from_mode(0o757)).unwrap();
        let why = cache.untrusted().unwrap();
        assert!(why.starts_with("the cache directory "), "{why}");
        // Nothing is written into a directory that is not trusted.
        let e = cache.write(&inventory(1)).unwrap_err();
        assert!(e.to_string().contains("writable by other users"), "{e}");
        std::fs::set_permissions(dir.path(), Permissions::from_mode(0o700)).unwrap();
    }

    /// Rewrites the cache file with `edit` applied to its bytes.
    fn damage(cache: &Cache, edit: impl FnOnce(&mut Vec<u8>)) {
        let mut bytes = std::fs::read(&cache.path).unwrap();
        edit(&mut bytes);
        std::fs::write(&cache.path, bytes).unwrap();
    }

    /// Overwrites the i-th field of the header with a value of the same width.
    fn header_field(b: &mut [u8], i: usize, new: &str) {
        let text = String::from_utf8(b[..HEADER_LEN].to_vec()).unwrap();
        let field = text.split_whitespace().nth(i).unwrap();
        let start = field.as_ptr() as usize - text.as_ptr() as usize;
        assert_eq!(new.len(), field.len(), "same width");
        b[start..start + field.len()].copy_from_slice(new.as_bytes());
    }

    #[test]
    fn the_file_name_is_a_digest_of_the_identity() {
        let dir = Path::new("/c");
        let a = Cache::new(dir, "settings|key:LTAIa", 1);
        assert_eq!(a.path, Cache::new(dir, "settings|key:LTAIa", 9).path);
        assert_ne!(a.path, Cache::new(dir, "settings|key:LTAIb", 1).path);
        assert_eq!(a.path.parent(), Some(dir));
        let name = a.path.file_name().unwrap().to_str().unwrap();
        let hex = name
            .strip_prefix("alicloud_inventory-")
            .and_then(|n| n.strip_suffix(".cache"))
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(hex.len(), 16, "{name}");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
        assert!(!name.contains("LTAI"), "{name}");
    }

    #[test]
    fn every_host_is_found_and_no_other_name() {
        for n in [0, 1, 2, 3, 7, 64, 100] {
            let (_dir, cache, inv) = written(n);
            for h in &inv.hosts {
                match cache.read_host(&h.name) {
                    Lookup::Hit(Some(v)) => assert_eq!(v, h.hostvars.as_bytes(), "{n}: {}", h.name),
                    other => panic!("{n}: {}: {}", h.name, what(other)),
                }
            }
            // Before the first, between any two, after the last, and prefixes.
            for i in 0..=2 * n + 1 {
                let name = format!("h{:03}", 2 * i + 1);
                assert!(
                    matches!(cache.read_host(&name), Lookup::Hit(None)),
                    "{n}: {name}"
                );
            }
            for name in ["", "h", "h00", "h0000", "a", "z"] {
                assert!(
                    matches!(cache.read_host(name), Lookup::Hit(None)),
                    "{n}: {name:?}"
                );
            }
            let mut direct = Vec::new();
            output::write_list(&inv, &mut direct).unwrap();
            assert_eq!(list_of(&cache), direct, "{n}");
        }
    }

    #[test]
    fn a_second_write_replaces_the_first() {
        let (_dir, cache, _) = written(5);
        let inv = inventory(2);
        cache.write(&inv).unwrap();
        let mut direct = Vec::new();
        output::write_list(&inv, &mut direct).unwrap();
        assert_eq!(list_of(&cache), direct);
        assert!(matches!(cache.read_host("h004"), Lookup::Hit(None)));
    }

    #[test]
    fn no_file_and_a_path_under_a_regular_file_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "id", 300);
        assert_eq!(what(cache.read_list()), "miss: no cache yet");
        assert_eq!(what(cache.read_host("x")), "miss: no cache yet");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let under = Cache::new(&file.join("sub"), "id", 300);
        assert_eq!(what(under.read_list()), "miss: no cache yet");
        assert!(
            under.write(&inventory(1)).is_err(),
            "writing says what is wrong"
        );
    }

    #[test]
    fn what_cannot_be_read_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "id", 300);
        // A directory where the file should be: opened, but not a file.
        std::fs::create_dir(&cache.path).unwrap();
        let w = what(cache.read_list());
        assert!(w.ends_with("is not a regular file"), "{w}");
        std::fs::remove_dir(&cache.path).unwrap();
        // A planted symlink is not followed.
        let target = dir.path().join("target");
        std::fs::write(&target, "x".repeat(HEADER_LEN + 10)).unwrap();
        std::os::unix::fs::symlink(&target, &cache.path).unwrap();
        let w = what(cache.read_host("x"));
        assert!(w.starts_with("corrupt: cannot read "), "{w}");
    }

    #[test]
    fn stale_or_disabled_caches_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let inv = inventory(2);
        let off = Cache::new(dir.path(), "id", 0);
        off.write(&inv).unwrap();
        assert_eq!(what(off.read_list()), "miss: stale");
        assert_eq!(what(off.read_host("h000")), "miss: stale");
        let fresh = Cache::new(dir.path(), "id", 3600);
        assert_eq!(what(fresh.read_list()), "hit");
        // Written an hour and a second ago.
        damage(&fresh, |b| {
            let at = MAGIC.len() + 1 + FORMAT.len() + 1 + 16 + 1;
            let old = format!("{:020}", now() - 3601);
            b[at..at + 20].copy_from_slice(old.as_bytes());
        });
        assert_eq!(what(fresh.read_list()), "miss: stale");
        assert_eq!(what(Cache::new(dir.path(), "id", 7200).read_list()), "hit");
    }

    #[test]
    fn damaged_files_are_corrupt_and_other_versions_are_misses() {
        // Overwrites the i-th field of the header with a value of the same width.
        let other_version = format!("9{}", &env!("CARGO_PKG_VERSION")[1..]);
        type Edit = Box<dyn Fn(&mut Vec<u8>)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("is truncated", Box::new(|b| b.truncate(HEADER_LEN - 1))),
            // Exactly a header long: read as one, and found foreign.
            (
                "is not a cache file of this program",
                Box::new(|b| {
                    b.truncate(HEADER_LEN);
                    b[0] = b'X';
                }),
            ),
            ("is truncated", Box::new(|b| b.truncate(b.len() - 1))),
            ("is truncated", Box::new(|b| b.push(b'x'))),
            ("has a damaged header", Box::new(|b| b[3] = 0xff)),
            (
                "is not a cache file of this program",
                Box::new(|b| b[0] = b'X'),
            ),
            (
                "is not a cache file of this program",
                Box::new(|b| b[HEADER_LEN - 1] = b' '),
            ),
            (
                "is not a cache file of this program",
                Box::new(|b| b[MAGIC.len()] = b'_'),
            ),
            (
                "written by another version",
                Box::new(move |b| header_field(b, 1, "9")),
            ),
            (
                "written by another version",
                Box::new(move |b| header_field(b, 2, &other_version)),
            ),
            (
                "has a damaged header",
                Box::new(move |b| header_field(b, 4, "0000000000000000000x")),
            ),
            (
                "has a damaged header",
                Box::new(move |b| header_field(b, 5, "-0000000000000000001")),
            ),
            (
                "has a damaged header",
                Box::new(move |b| header_field(b, 6, "0000000g")),
            ),
            (
                "has a damaged header",
                Box::new(move |b| header_field(b, 3, "0000000000000000000z")),
            ),
            (
                "failed its checksum",
                Box::new(|b| b[HEADER_LEN + 5] ^= 0x01),
            ),
            (
                "failed its checksum",
                Box::new(|b| *b.last_mut().unwrap() ^= 0x01),
            ),
            (
                "failed its checksum",
                Box::new(move |b| header_field(b, 6, "00000000")),
            ),
        ];
        for (want, edit) in cases {
            let (_dir, cache, _) = written(3);
            damage(&cache, |b| edit(b));
            let got = what(cache.read_list());
            assert!(got.ends_with(want), "{got}, expected {want}");
            assert_eq!(
                got.starts_with("corrupt"),
                !want.contains("version"),
                "{got}"
            );
        }
    }

    #[test]
    fn a_damaged_index_or_hostvars_fail_the_host_lookup() {
        let (_dir, cache, inv) = written(4);
        let size = std::fs::metadata(&cache.path).unwrap().len() as usize;
        // The record count, at the very end: larger than the index holds.
        damage(&cache, |b| {
            let n = b.len();
            b[n - 8..].copy_from_slice(&u64::MAX.to_le_bytes());
        });
        let w = what(cache.read_host("h002"));
        assert!(w.contains("index count"), "{w}");
        let (_dir, cache, _) = written(4);
        damage(&cache, |b| {
            let n = b.len();
            b[n - 8..].copy_from_slice(&1000u64.to_le_bytes());
        });
        assert!(what(cache.read_host("h002")).contains("out of range"));
        // A record offset past its end.
        let (_dir, cache, _) = written(4);
        damage(&cache, |b| {
            let at = b.len() - 8 - 8 * 2;
            b[at..at + 8].copy_from_slice(&(size as u64).to_le_bytes());
        });
        assert!(what(cache.read_host("h002")).contains("index record out of range"));
        // A record shorter than its offset and length need: one host, "h000" and 16 bytes,
        // made to start 12 bytes in.
        let (_dir, cache, _) = written(1);
        damage(&cache, |b| {
            let n = b.len();
            b[n - 16..n - 8].copy_from_slice(&12u64.to_le_bytes());
        });
        assert!(what(cache.read_host("h000")).contains("index record out of range"));
        // A host's range past the JSON, and a range that ends exactly at its last byte.
        let json_len = |b: &[u8]| -> u64 {
            let text = std::str::from_utf8(&b[..HEADER_LEN]).unwrap();
            text.split_whitespace().nth(4).unwrap().parse().unwrap()
        };
        for (range, want) in [
            ((0, u64::MAX), "hostvars out of range"),
            ((1, 0), "hostvars out of range"),
            // In range but not this host's bytes: its entry's checksum catches it.
            ((0, 1), "the entry of host h002 failed its checksum"),
        ] {
            let (_dir, cache, _) = written(4);
            damage(&cache, |b| {
                let end = json_len(b);
                let (off, len) = match range {
                    (0, u64::MAX) => (0, end + 1),
                    (1, 0) => (end, 1),
                    _ => (end - 1, 1),
                };
                let at = b.windows(4).rposition(|w| w == b"h002").unwrap() + 4;
                b[at..at + 8].copy_from_slice(&off.to_le_bytes());
                b[at + 8..at + 16].copy_from_slice(&len.to_le_bytes());
            });
            let w = what(cache.read_host("h002"));
            assert!(w.ends_with(want), "{range:?}: {w}");
        }
        // The hostvars of h002 damaged: its entry's own checksum catches it.
        let (_dir, cache, _) = written(4);
        let vars = inv.hosts[1].hostvars.as_bytes().to_vec();
        damage(&cache, |b| {
            let at = b.windows(vars.len()).position(|w| w == vars).unwrap();
            b[at] = b'x';
        });
        let w = what(cache.read_host("h002"));
        assert!(
            w.ends_with("the entry of host h002 failed its checksum"),
            "{w}"
        );
        assert!(matches!(cache.read_host("h000"), Lookup::Hit(Some(_))));
    }

    /// A writer that takes at most 4 bytes a call and counts flushes.
    #[derive(Default)]
    struct Trickle {
        data: Vec<u8>,
        flushes: usize,
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(4);
            self.data.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    #[test]
    fn the_crc_writer_sums_what_was_written_and_passes_flush_on() {
        let mut sink = Trickle::default();
        let mut crc = crc32fast::Hasher::new();
        let mut w = Crc {
            inner: &mut sink,
            crc: &mut crc,
        };
        // A short write is summed for the bytes taken, not the bytes offered.
        assert_eq!(w.write(b"hello world").unwrap(), 4);
        w.write_all(b"o world").unwrap();
        w.flush().unwrap();
        assert_eq!(sink.data, b"hello world");
        assert_eq!(sink.flushes, 1);
        assert_eq!(crc.finalize(), crc32fast::hash(b"hello world"));
    }

    #[test]
    fn a_written_cache_is_private_complete_and_alone() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(&dir.path().join("sub"), "id", 300);
        let mut inv = Inventory::default();
        for (name, vars) in [("a", r#"{"x":1}"#), ("b", r#"{"y":2}"#)] {
            inv.hosts.push(Host {
                name: name.into(),
                hostvars: vars.into(),
            });
        }
        let out = printed(cache.write(&inv).unwrap(), Dest::Pipe);
        let mut direct = Vec::new();
        output::write_list(&inv, &mut direct).unwrap();
        assert_eq!(out, direct, "the file holds the output as printed");

        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache.path), 0o600);
        assert_eq!(mode(cache.path.parent().unwrap()), 0o700);
        let names: Vec<_> = std::fs::read_dir(cache.path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![cache.path.file_name().unwrap()],
            "no temp file left"
        );

        let Lookup::Hit(list) = cache.read_list() else {
            panic!("a fresh cache is a hit")
        };
        assert_eq!(printed(list, Dest::Pipe), direct);
        assert!(matches!(cache.read_host("b"), Lookup::Hit(Some(v)) if v == br#"{"y":2}"#));
        assert!(matches!(cache.read_host("c"), Lookup::Hit(None)));
    }
    #[test]
    fn a_damaged_host_entry_fails_its_own_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "id", 300);
        let mut inv = Inventory::default();
        for (name, vars) in [("a", r#"{"ip":"10.0.0.1"}"#), ("b", r#"{"ip":"10.0.0.2"}"#)] {
            inv.hosts.push(Host {
                name: name.into(),
                hostvars: vars.into(),
            });
        }
        cache.write(&inv).unwrap();
        let mut bytes = std::fs::read(&cache.path).unwrap();
        let at = bytes
            .windows(8)
            .position(|w| w == b"10.0.0.2")
            .expect("b's address");
        bytes[at + 7] = b'3';
        std::fs::write(&cache.path, &bytes).unwrap();
        match cache.read_host("b") {
            Lookup::Corrupt(m) => assert!(
                m.ends_with("the entry of host b failed its checksum"),
                "{m}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(cache.read_host("a"), Lookup::Hit(Some(v)) if v == br#"{"ip":"10.0.0.1"}"#)
        );
    }

    #[test]
    fn temp_file_names_of_ours_and_no_others() {
        let ours = ".alicloud_inventory-0123456789abcdef.cache";
        assert_eq!(
            temp_file_writer(&format!("{ours}.42.Ab3dEf12.tmp")),
            Some(Some(42))
        );
        // Earlier versions' names carry no pid: only their age counts.
        assert_eq!(temp_file_writer(&format!("{ours}.Ab3dEf.tmp")), Some(None));
        for other in [
            format!("{ours}.tmp"),
            format!("{ours}.42.Ab3dEf12"),
            format!("{ours}.42..tmp"),
            format!("{ours}.4x2.Ab.tmp"),
            format!("{ours}.42.a/b.tmp"),
            ".alicloud_inventory-0123.cache.42.Ab.tmp".to_string(),
            "alicloud_inventory-0123456789abcdef.cache.42.Ab.tmp".to_string(),
            ".other-0123456789abcdef.cache.42.Ab.tmp".to_string(),
        ] {
            assert_eq!(temp_file_writer(&other), None, "{other}");
        }
        assert!(writer_alive(std::process::id()));
        assert!(writer_alive(0), "pid 0 is never taken for dead");
        assert!(writer_alive(u32::MAX), "nor a pid out of range");
    }

    #[test]
    fn a_cache_path_that_cannot_be_a_directory_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        assert_eq!(
            not_a_directory(&file.join("sub")),
            Some(format!("{} is a file, not a directory", file.display()))
        );
        assert_eq!(
            not_a_directory(&link),
            Some(format!(
                "{} is a symbolic link to {}, which does not exist",
                link.display(),
                dir.path().join("nowhere").display()
            ))
        );
        assert_eq!(not_a_directory(&dir.path().join("new/sub")), None);
        let err = Cache::new(&file, "id", 300)
            .write(&Inventory::default())
            .unwrap_err();
        assert!(
            err.to_string().ends_with("is a file, not a directory"),
            "{err}"
        );
    }

    #[test]
    fn the_age_is_read_from_the_header_fresh_or_not() {
        let dir = tempfile::tempdir().unwrap();
        // Stale at once: the age is read all the same.
        let cache = Cache::new(dir.path(), "id", 0);
        assert_eq!(what(cache.age()), "miss: no cache yet");
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        assert_eq!(what(Cache::new(&file, "id", 0).age()), "miss: no cache yet");
        cache.write(&inventory(2)).unwrap();
        let created = format!("{:020}", now() - 1000);
        damage(&cache, |b| header_field(b, 3, &created));
        match cache.age() {
            Lookup::Hit(age) => assert!((1000..1100).contains(&age), "{age}"),
            other => panic!("{}", what(other)),
        }
        let shown = cache.path.display().to_string();
        let other_version = format!("9{}", &env!("CARGO_PKG_VERSION")[1..]);
        type Edit = Box<dyn Fn(&mut Vec<u8>)>;
        let cases: Vec<(Edit, String)> = vec![
            (
                Box::new(|b| b.truncate(HEADER_LEN - 1)),
                format!("corrupt: {shown} is truncated"),
            ),
            (
                Box::new(|b| b[0] = b'X'),
                format!("corrupt: {shown} is not a cache file of this program"),
            ),
            (
                Box::new(|b| header_field(b, 1, "9")),
                "miss: written by another version".into(),
            ),
            (
                Box::new(move |b| header_field(b, 2, &other_version)),
                "miss: written by another version".into(),
            ),
            (
                Box::new(|b| header_field(b, 3, "0000000000000000000z")),
                format!("corrupt: {shown} has a damaged header"),
            ),
        ];
        for (edit, want) in cases {
            cache.write(&inventory(2)).unwrap();
            damage(&cache, |b| edit(b));
            assert_eq!(what(cache.age()), want);
        }
        std::fs::remove_file(&cache.path).unwrap();
        std::fs::create_dir(&cache.path).unwrap();
        let w = what(cache.age());
        assert!(
            w.starts_with(&format!("corrupt: cannot read {shown}: ")),
            "{w}"
        );
    }

    #[test]
    fn the_json_is_the_output_whether_mapped_or_just_written() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "id", 300);
        let inv = inventory(3);
        let mut direct = Vec::new();
        output::write_list(&inv, &mut direct).unwrap();
        let written = cache.write(&inv).unwrap();
        assert!(matches!(written, CachedList::Open(..)));
        assert_eq!(&*written.json().unwrap(), &direct[..]);
        assert_eq!(printed(written, Dest::Pipe), direct);
        assert_eq!(printed(cache.write(&inv).unwrap(), Dest::File), direct);
        assert_eq!(printed(cache.write(&inv).unwrap(), Dest::Append), direct);
        let Lookup::Hit(mapped) = cache.read_list() else {
            panic!("a fresh cache is a hit")
        };
        assert!(matches!(mapped, CachedList::Mapped(..)));
        assert_eq!(&*mapped.json().unwrap(), &direct[..]);
        assert_eq!(printed(mapped, Dest::Pipe), direct);
        for into in [Dest::File, Dest::Append] {
            let Lookup::Hit(mapped) = cache.read_list() else {
                panic!("a fresh cache is a hit")
            };
            assert_eq!(printed(mapped, into), direct);
        }
    }

    /// What `copy_to` prints into a pipe, as Ansible reads it, or into a file: the kernel
    /// sends a file to each by other means, and refuses to send it to a file opened to append
    /// (`>>`), which takes the reads instead.
    fn printed(list: CachedList, into: Dest) -> Vec<u8> {
        if into != Dest::Pipe {
            let mut file = tempfile::tempfile().unwrap();
            if into == Dest::Append {
                let path = format!("/proc/self/fd/{}", file.as_raw_fd());
                let mut appending = OpenOptions::new().append(true).open(path).unwrap();
                list.copy_to(&mut appending).unwrap();
            } else {
                list.copy_to(&mut file).unwrap();
            }
            let mut got = Vec::new();
            file.seek(SeekFrom::Start(0)).unwrap();
            file.read_to_end(&mut got).unwrap();
            return got;
        }
        let (mut reader, mut writer) = io::pipe().unwrap();
        let reading = std::thread::spawn(move || {
            let mut got = Vec::new();
            reader.read_to_end(&mut got).unwrap();
            got
        });
        list.copy_to(&mut writer).unwrap();
        drop(writer);
        reading.join().unwrap()
    }

    #[derive(PartialEq, Clone, Copy)]
    enum Dest {
        Pipe,
        File,
        Append,
    }

    #[test]
    fn the_shortest_record_has_an_empty_name() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path(), "id", 300);
        let mut inv = Inventory::default();
        for (name, vars) in [("", r#"{"e":1}"#), ("a", r#"{"a":1}"#)] {
            inv.hosts.push(Host {
                name: name.into(),
                hostvars: vars.into(),
            });
        }
        cache.write(&inv).unwrap();
        assert!(matches!(cache.read_host(""), Lookup::Hit(Some(v)) if v == br#"{"e":1}"#));
        assert!(matches!(cache.read_host("a"), Lookup::Hit(Some(v)) if v == br#"{"a":1}"#));
    }

    /// A pid no process has: Linux never hands out one above 2^22.
    const DEAD: u32 = 1 << 30;

    #[test]
    fn a_writer_that_is_gone_is_dead() {
        assert!(!writer_alive(DEAD));
        // errno still says ESRCH from the call above: a live process is found all the same.
        assert!(writer_alive(std::process::id()));
        assert!(!writer_alive(DEAD));
    }

    #[test]
    fn old_style_temp_names_are_letters_and_digits_only() {
        let ours = ".alicloud_inventory-0123456789abcdef.cache";
        for other in [format!("{ours}.a-b.tmp"), format!("{ours}..tmp")] {
            assert_eq!(temp_file_writer(&other), None, "{other}");
        }
    }

    #[test]
    fn only_stale_temp_files_of_ours_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let ours = ".alicloud_inventory-0123456789abcdef.cache";
        let me = std::process::id();
        let long_ago = SystemTime::now() - STALE_AFTER - Duration::from_secs(60);
        let file = |name: String, old: bool| {
            let path = dir.path().join(name);
            let f = File::create(&path).unwrap();
            if old {
                f.set_modified(long_ago).unwrap();
            }
            path
        };
        let removed = [
            file(format!("{ours}.{DEAD}.Ab.tmp"), false),
            file(format!("{ours}.{me}.Cd.tmp"), true),
            file(format!("{ours}.Ef.tmp"), true),
        ];
        let live = file(format!("{ours}.{me}.Gh.tmp"), false);
        let mut kept = vec![
            live.clone(),
            file(format!("{ours}.Ij.tmp"), false),
            file(".other.cache.12.Kl.tmp".into(), true),
        ];
        // Named as ours, with a dead writer, but no regular file: a directory and a symlink.
        let sub = dir.path().join(format!("{ours}.{DEAD}.Mn.tmp"));
        std::fs::create_dir(&sub).unwrap();
        let link = dir.path().join(format!("{ours}.{DEAD}.Op.tmp"));
        std::os::unix::fs::symlink(&live, &link).unwrap();
        kept.extend([sub, link]);

        remove_stale_temp_files(dir.path());
        for p in &removed {
            assert!(std::fs::symlink_metadata(p).is_err(), "{}", p.display());
        }
        for p in &kept {
            assert!(std::fs::symlink_metadata(p).is_ok(), "{}", p.display());
        }
    }

    #[test]
    fn a_link_is_judged_by_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let to_file = dir.path().join("to_file");
        std::os::unix::fs::symlink(&file, &to_file).unwrap();
        let to_dir = dir.path().join("to_dir");
        std::os::unix::fs::symlink(dir.path(), &to_dir).unwrap();
        let looped = dir.path().join("loop");
        std::os::unix::fs::symlink(&looped, &looped).unwrap();
        assert_eq!(
            not_a_directory(&to_file.join("sub")),
            Some(format!(
                "{} is a symbolic link to {}, which is not a directory",
                to_file.display(),
                file.display()
            ))
        );
        assert_eq!(not_a_directory(&to_dir.join("new")), None);
        // A link that cannot be resolved for another reason: mkdir will say what is wrong.
        assert_eq!(not_a_directory(&looped), None);
        assert_eq!(
            not_a_directory(Path::new("/dev/null/sub")),
            Some("/dev/null is not a directory".to_string())
        );
    }
}
