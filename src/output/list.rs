//! Writes the inventory as Ansible's script-inventory JSON (docs/DESIGN.md, "Command line"): keys
//! and lists sorted, compact, byte-identical for the same account. It is streamed, never built as
//! one string, and reports where each host's hostvars landed so the cache can index them.

use std::io::{self, Write};

use crate::inventory::{Group, Inventory};
use crate::json::write_str;

/// A writer that counts bytes, for the offsets of the cache index and the length of the JSON.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Every host's name as a JSON string, one after the other: a name is written once per group
/// its host is in, a dozen times or more, so it is escaped once and then copied.
struct Names {
    json: Vec<u8>,
    /// Where each host's name ends in `json`.
    ends: Vec<usize>,
}

impl Names {
    fn new(inv: &Inventory) -> Names {
        let mut json = Vec::with_capacity(inv.hosts.iter().map(|h| h.name.len() + 2).sum());
        let ends = inv
            .hosts
            .iter()
            .map(|h| {
                write_str(&mut json, &h.name);
                json.len()
            })
            .collect();
        Names { json, ends }
    }

    fn get(&self, host: u32) -> &[u8] {
        let i = host as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.json[start..self.ends[i]]
    }

    /// The list of `hosts` into `buf`.
    fn list(&self, buf: &mut Vec<u8>, hosts: impl Iterator<Item = u32>) {
        buf.push(b'[');
        for (k, i) in hosts.enumerate() {
            if k > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(self.get(i));
        }
        buf.push(b']');
    }
}

/// One group's value into `buf`.
fn put_group(buf: &mut Vec<u8>, names: &Names, g: &Group) {
    buf.push(b'{');
    if !g.children.is_empty() {
        buf.extend_from_slice(b"\"children\":[");
        for (i, child) in g.children.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            write_str(buf, child);
        }
        buf.extend_from_slice(b"],");
    }
    buf.extend_from_slice(b"\"hosts\":");
    names.list(buf, g.hosts.iter().copied());
    buf.push(b'}');
}

/// Where the parts of a `--list` output landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Per host in order, the byte offset and length of its hostvars object.
    pub spans: Vec<(u64, u64)>,
    /// The length of the whole output.
    pub len: u64,
}

/// Writes `--list` output (with a trailing newline); says where each host's hostvars are.
pub fn write_list<W: Write>(inv: &Inventory, w: W) -> io::Result<Written> {
    let mut w = Counting {
        inner: w,
        written: 0,
    };
    let mut spans = Vec::with_capacity(inv.hosts.len());
    let names = Names::new(inv);
    let mut buf = Vec::new();
    // `_meta` and `alicloud` take their sorted places among the groups.
    let mut keys: Vec<&str> = inv.groups.keys().map(String::as_str).collect();
    keys.push("_meta");
    keys.push("alicloud");
    keys.sort_unstable();
    keys.dedup();
    w.write_all(b"{")?;
    // Each member is put together in `buf` and written at once, but for the hostvars.
    for (i, key) in keys.iter().enumerate() {
        buf.clear();
        if i > 0 {
            buf.push(b',');
        }
        write_str(&mut buf, key);
        buf.push(b':');
        match *key {
            "_meta" => {
                w.write_all(&buf)?;
                w.write_all(b"{\"hostvars\":{")?;
                for (j, h) in inv.hosts.iter().enumerate() {
                    if j > 0 {
                        w.write_all(b",")?;
                    }
                    w.write_all(names.get(j as u32))?;
                    w.write_all(b":")?;
                    spans.push((w.written, h.hostvars.len() as u64));
                    w.write_all(h.hostvars.as_bytes())?;
                }
                w.write_all(b"}}")?;
            }
            "alicloud" => {
                buf.extend_from_slice(b"{\"hosts\":");
                names.list(&mut buf, 0..inv.hosts.len() as u32);
                buf.push(b'}');
                w.write_all(&buf)?;
            }
            group => {
                put_group(&mut buf, &names, &inv.groups[group]);
                w.write_all(&buf)?;
            }
        }
    }
    w.write_all(b"}\n")?;
    w.flush()?;
    Ok(Written {
        spans,
        len: w.written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Host;

    #[test]
    fn sorted_compact_and_spans_point_at_hostvars() {
        let mut inv = Inventory::default();
        inv.hosts.push(Host {
            name: "a".into(),
            hostvars: r#"{"x":1}"#.into(),
        });
        inv.hosts.push(Host {
            name: "b\"q".into(),
            hostvars: r#"{"y":2}"#.into(),
        });
        inv.groups.insert(
            "Zed".into(),
            Group {
                hosts: vec![1],
                children: Default::default(),
            },
        );
        inv.groups.insert(
            "tags".into(),
            Group {
                hosts: vec![],
                children: ["tag_x".to_string()].into(),
            },
        );
        let mut out = Vec::new();
        let Written { spans, len } = write_list(&inv, &mut out).unwrap();
        assert_eq!(len, out.len() as u64);
        let text = String::from_utf8(out.clone()).unwrap();
        assert_eq!(
            text,
            "{\"Zed\":{\"hosts\":[\"b\\\"q\"]},\"_meta\":{\"hostvars\":{\"a\":{\"x\":1},\"b\\\"q\":{\"y\":2}}},\
             \"alicloud\":{\"hosts\":[\"a\",\"b\\\"q\"]},\"tags\":{\"children\":[\"tag_x\"],\"hosts\":[]}}\n"
        );
        let (o, l) = spans[1];
        assert_eq!(&out[o as usize..(o + l) as usize], br#"{"y":2}"#);
    }

    /// A writer that counts flushes.
    #[derive(Default)]
    struct Flushes {
        data: Vec<u8>,
        flushes: usize,
    }

    impl Write for Flushes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.data.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    #[test]
    fn the_output_is_flushed_through_to_the_writer() {
        let mut out = Flushes::default();
        let written = write_list(&Inventory::default(), &mut out).unwrap();
        assert_eq!(out.flushes, 1);
        assert_eq!(
            out.data,
            b"{\"_meta\":{\"hostvars\":{}},\"alicloud\":{\"hosts\":[]}}\n"
        );
        assert_eq!(written.len, out.data.len() as u64);
        assert!(written.spans.is_empty());
    }
}
