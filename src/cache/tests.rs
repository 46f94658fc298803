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
    assert!(matches!(cache.read_host("a"), Lookup::Hit(Some(v)) if v == br#"{"ip":"10.0.0.1"}"#));
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
