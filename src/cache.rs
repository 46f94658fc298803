//! The inventory cache (docs/DESIGN.md, "Cache"): one file per settings fingerprint, holding the
//! `--list` output, an index of each host's hostvars, and a checksum.
//!
//! Layout: a fixed-width header line, the JSON exactly as printed, then the index: host names in
//! byte order each followed by the offset and length (u64 LE) of its hostvars in the JSON, a
//! table of the records' offsets (u64 LE) and the record count. `--host` binary-searches that
//! table with a handful of positioned reads, so it costs the same on 100 hosts as on 100,000.
//! Files are written to a temp file beside the cache and renamed over it, so a reader sees the
//! old file or the new one, never half of one.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};

use crate::credentials::Plan;
use crate::inventory::Inventory;
use crate::output;
use crate::settings::Settings;

const MAGIC: &str = "ALICLOUD_INVENTORY_CACHE";
/// Bumped whenever the layout changes; caches of another format or program version are ignored.
const FORMAT: &str = "1";
/// Magic, format, program version (16), created (20), json length (20), index length (20),
/// crc32 (8), separated by spaces, then a newline.
const HEADER_LEN: usize =
    MAGIC.len() + 1 + FORMAT.len() + 1 + 16 + 1 + 20 + 1 + 20 + 1 + 20 + 1 + 8 + 1;

#[derive(Debug, Clone)]
pub struct Cache {
    pub path: PathBuf,
    pub max_age: u64,
}

/// A verified `--list` output in a cache file: mapped (a warm read) or open (just written).
#[derive(Debug)]
pub enum CachedList {
    Mapped(memmap2::Mmap, u64),
    Open(File, u64),
}

impl CachedList {
    /// Writes the JSON to `out` straight from the mapping or the file.
    pub fn copy_to<W: Write>(self, out: &mut W) -> io::Result<()> {
        match self {
            CachedList::Mapped(map, len) => {
                out.write_all(&map[HEADER_LEN..HEADER_LEN + len as usize])
            }
            CachedList::Open(mut file, len) => {
                file.seek(SeekFrom::Start(HEADER_LEN as u64))?;
                io::copy(&mut (&mut file).take(len), out).map(drop)
            }
        }
    }
}

impl CachedList {
    /// The JSON, for a view that needs all of it at once (`--graph`, `--pretty`).
    pub fn json(&self) -> io::Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            CachedList::Mapped(map, len) => Ok(std::borrow::Cow::Borrowed(
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

    /// The cache file of a run with these settings, credentials and home region: its name is
    /// a digest of everything that changes the answer, and of no secret.
    pub fn for_run(settings: &Settings, plan: &Plan, home_region: &str) -> Cache {
        let identity = format!(
            "{}|{}|{}|{}",
            settings.fingerprint(),
            plan.identity(),
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
        // A symlink planted at the cache path is not followed.
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.path)
    }

    fn header(&self, file: &File) -> Result<Lookup<Header>, io::Error> {
        let size = file.metadata()?.len();
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
            Err(e) => Lookup::Corrupt(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    /// The `--list` output from a fresh cache, checksum verified. The file is mapped: the check
    /// reads the page cache in place and the write to stdout is the only copy, so a warm run
    /// costs about what `cat` of the file does.
    pub fn read_list(&self) -> Lookup<CachedList> {
        let (file, h) = match self.read_header() {
            Lookup::Hit(x) => x,
            Lookup::Miss(m) => return Lookup::Miss(m),
            Lookup::Corrupt(m) => return Lookup::Corrupt(m),
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
        Lookup::Hit(CachedList::Mapped(map, h.json_len))
    }

    /// One host's hostvars from a fresh cache; `Hit(None)` = the cache has no such host.
    pub fn read_host(&self, name: &str) -> Lookup<Option<Vec<u8>>> {
        let (file, h) = match self.read_header() {
            Lookup::Hit(x) => x,
            Lookup::Miss(m) => return Lookup::Miss(m),
            Lookup::Corrupt(m) => return Lookup::Corrupt(m),
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
        let dir = self.path.parent().unwrap_or(Path::new("."));
        if !dir.is_dir() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
            std::fs::set_permissions(dir, Permissions::from_mode(0o700))?;
        }
        let file_name = self
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("cache");
        // Created new (never an existing file or a planted symlink), in the same directory so
        // the rename is atomic, and removed when dropped on an error.
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{file_name}."))
            .suffix(".tmp")
            .permissions(Permissions::from_mode(0o600))
            .tempfile_in(dir)?;
        let json_len = write_to(tmp.as_file_mut(), inv)?;
        // On disk before the rename, so a crash leaves the old cache or the whole new one.
        tmp.as_file().sync_all()?;
        let file = tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(CachedList::Open(file, json_len))
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
        at += host.name.len() as u64 + 16;
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
    let record = |i: u64| -> io::Result<(Vec<u8>, u64, u64)> {
        let start = index_start + u64_at(table + 8 * i)?;
        let end = if i + 1 < count {
            index_start + u64_at(table + 8 * (i + 1))?
        } else {
            table
        };
        if end < start + 16 || end > table {
            return Err(bad("index record out of range"));
        }
        let mut buf = vec![0u8; (end - start) as usize];
        file.read_exact_at(&mut buf, start)?;
        let tail = buf.split_off(buf.len() - 16);
        let off = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(tail[8..].try_into().expect("8 bytes"));
        Ok((buf, off, len))
    };
    let (mut lo, mut hi) = (0u64, count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let (key, off, len) = record(mid)?;
        match key.as_slice().cmp(name.as_bytes()) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => {
                if off.checked_add(len).is_none_or(|e| e > h.json_len) {
                    return Err(bad("hostvars out of range"));
                }
                let mut vars = vec![0u8; len as usize];
                file.read_exact_at(&mut vars, HEADER_LEN as u64 + off)?;
                // Only this host's bytes are read, so only they can be checked: parse them.
                match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&vars) {
                    Ok(_) => return Ok(Some(vars)),
                    Err(_) => return Err(bad("damaged hostvars")),
                }
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Host;

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
        let mut printed = Vec::new();
        cache.write(&inv).unwrap().copy_to(&mut printed).unwrap();
        let mut direct = Vec::new();
        output::write_list(&inv, &mut direct).unwrap();
        assert_eq!(printed, direct, "the file holds the output as printed");

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
        let mut again = Vec::new();
        list.copy_to(&mut again).unwrap();
        assert_eq!(again, direct);
        assert!(matches!(cache.read_host("b"), Lookup::Hit(Some(v)) if v == br#"{"y":2}"#));
        assert!(matches!(cache.read_host("c"), Lookup::Hit(None)));
    }
}
