//! A small ini reader with line numbers, following Python's ConfigParser as `alicloud.py` used it.
//!
//! rust-ini would parse the files but cannot say on which line an option stands, and every bad
//! value must be reported as `file:line` (docs/DESIGN.md, "Errors and diagnostics"). The format
//! is small enough that owning the reader is cheaper than working around that.
//!
//! ConfigParser rules kept: `key = value` or `key: value`, names lower-cased, values trimmed,
//! full-line comments with `#` or `;`, indented lines continue the previous value, an option
//! outside a section or a line without a separator is an error, a duplicate option is an error.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A config file is a few kilobytes; this stops `--config /dev/zero` from filling the memory.
pub const MAX_LEN: u64 = 1 << 20;

/// A configuration file's text, at most [`MAX_LEN`] bytes of it: a file that never ends (a link
/// to `/dev/zero`) is refused rather than read into memory. `what` names the file expected.
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    let mut bytes = Vec::new();
    let file = open_regular(path).map_err(|source| Error::ConfigFile {
        path: path.to_path_buf(),
        source,
    })?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(not_regular(path));
    }
    file.take(MAX_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::ConfigFile {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > MAX_LEN {
        return Err(Error::Config(format!(
            "config file {} is larger than {} MiB: is it {what}?",
            path.display(),
            MAX_LEN >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|source| Error::ConfigEncoding {
        path: path.to_path_buf(),
        source,
    })
}

/// Opens without waiting: a FIFO nobody writes would otherwise hold the run for ever.
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::File::options();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}

/// Only regular files are configs: a pipe, a device or a FIFO may never end, or never start.
pub fn not_regular(path: &Path) -> Error {
    let kind = match std::fs::metadata(path) {
        Ok(m) => {
            use std::os::unix::fs::FileTypeExt;
            let t = m.file_type();
            if t.is_fifo() {
                "a pipe or FIFO"
            } else if t.is_char_device() || t.is_block_device() {
                "a device"
            } else if t.is_socket() {
                "a socket"
            } else {
                "not a regular file"
            }
        }
        Err(_) => "not a regular file",
    };
    Error::Config(format!(
        "config file {} is {kind}, and only regular files are read (write the configuration to a file and name that file)",
        path.display()
    ))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, Default)]
pub struct Ini {
    pub path: PathBuf,
    pub sections: Vec<Section>,
}

impl Ini {
    /// Reads the file, or anything else that can be read (a pipe, a FIFO, a device), up to
    /// [`MAX_LEN`] bytes.
    pub fn read(path: &Path) -> Result<Ini> {
        Ini::parse(path, &read_text(path, "the ini file")?)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Ini> {
        let err = |line: usize, message: String| {
            Error::Config(format!("{}:{line}: {message}", path.display()))
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut sections: Vec<Section> = Vec::new();
        // Whether the previous non-blank line was an option, so an indented line continues it.
        let mut in_value = false;
        for (idx, raw) in text.lines().enumerate() {
            let line = idx + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                in_value = false;
                continue;
            }
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            let indented = raw.starts_with([' ', '\t']);
            if indented && in_value {
                if let Some(entry) = sections.last_mut().and_then(|s| s.entries.last_mut()) {
                    if !entry.value.is_empty() {
                        entry.value.push('\n');
                    }
                    entry.value.push_str(trimmed);
                    continue;
                }
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(err(line, "section header without ']'".into()));
                };
                let name = name.trim().to_string();
                if let Some(prev) = sections.iter().find(|s| s.name == name) {
                    return Err(err(
                        line,
                        format!("section [{name}] already started on line {}", prev.line),
                    ));
                }
                sections.push(Section {
                    name,
                    line,
                    entries: Vec::new(),
                });
                in_value = false;
                continue;
            }
            let Some(section) = sections.last_mut() else {
                return Err(err(
                    line,
                    "option before any [section] header (start with [ecs])".into(),
                ));
            };
            let Some(sep) = trimmed.find(['=', ':']) else {
                // The line is not quoted: it may be a secret missing its '='.
                return Err(err(
                    line,
                    "expected 'option = value' (is the '=' missing?)".into(),
                ));
            };
            let key = trimmed[..sep].trim().to_lowercase();
            if key.is_empty() {
                return Err(err(line, "option name missing before '='".into()));
            }
            let value = trimmed[sep + 1..].trim().to_string();
            if let Some(prev) = section.entries.iter().find(|e| e.key == key) {
                return Err(err(
                    line,
                    format!(
                        "option '{key}' in [{}] already set on line {}; keep one",
                        section.name, prev.line
                    ),
                ));
            }
            section.entries.push(Entry { key, value, line });
            in_value = true;
        }
        Ok(Ini {
            path: path.to_path_buf(),
            sections,
        })
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Ini> {
        Ini::parse(Path::new("t.ini"), text)
    }

    #[test]
    fn reads_sections_options_and_lines() {
        let ini =
            parse("# c\n[ecs]\nRegions = all\n; c\nfoo: bar baz \n\n[credentials]\nx=\n").unwrap();
        let ecs = ini.section("ecs").unwrap();
        assert_eq!(
            ecs.entries[0],
            Entry {
                key: "regions".into(),
                value: "all".into(),
                line: 3
            }
        );
        assert_eq!(
            ecs.entries[1],
            Entry {
                key: "foo".into(),
                value: "bar baz".into(),
                line: 5
            }
        );
        assert_eq!(ini.section("credentials").unwrap().entries[0].value, "");
    }

    #[test]
    fn continuation_lines_join_with_newline() {
        let ini = parse("[ecs]\ninstance_filters = a=1,\n    b=2\nx = 1\n").unwrap();
        assert_eq!(ini.section("ecs").unwrap().entries[0].value, "a=1,\nb=2");
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("regions = all\n").unwrap_err().to_string();
        assert!(e.starts_with("t.ini:1: option before any"), "{e}");
        let e = parse("[ecs]\n\nalicloud_secret_key hunter2\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.ini:3: expected"), "{e}");
        assert!(!e.contains("hunter2"), "the line is not quoted: {e}");
        let e = parse("[ecs]\na=1\nA=2\n").unwrap_err().to_string();
        assert!(e.contains("t.ini:3:") && e.contains("line 2"), "{e}");
        assert!(parse("[ecs\n").is_err());
    }

    #[test]
    fn bom_is_ignored() {
        assert!(parse("\u{feff}[ecs]\na=1\n")
            .unwrap()
            .section("ecs")
            .is_some());
    }

    #[test]
    fn a_file_of_max_len_bytes_is_read_and_one_byte_more_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        // A comment pads the file to exactly MAX_LEN bytes; the option after it must still count.
        let tail = "\n[ecs]\na = 1\n";
        let mut text = format!("#{}", "x".repeat(MAX_LEN as usize - 1 - tail.len()));
        text.push_str(tail);
        assert_eq!(text.len() as u64, MAX_LEN);
        let exact = dir.path().join("exact.ini");
        std::fs::write(&exact, &text).unwrap();
        let ini = Ini::read(&exact).unwrap();
        assert_eq!(ini.section("ecs").unwrap().entries[0].value, "1");
        text.push('\n');
        let over = dir.path().join("over.ini");
        std::fs::write(&over, &text).unwrap();
        let e = Ini::read(&over).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "config file {} is larger than 1 MiB: is it the ini file?",
                over.display()
            )
        );
    }
}
