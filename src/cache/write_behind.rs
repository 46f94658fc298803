//! Writeback started while the cache file is still being written: the kernel sends each few
//! MiB to the disk as the next ones are written, so the fsync before the rename waits for the
//! last few only. On a 38 MB cache the fsync went from 22–24 ms to about 1 ms, for 4–10 ms
//! more of writing (docs/BENCHMARKS.md).

use std::fs::File;
use std::io::{self, Write};

/// How much is written between two requests for writeback.
const STEP: u64 = 4 << 20;

/// Writes to `file` from offset `base` on, asking for the writeback of each [`STEP`] written.
pub(super) struct WriteBehind<'f> {
    file: &'f mut File,
    base: u64,
    written: u64,
    /// How much of what was written the writeback was asked for.
    requested: u64,
}

impl<'f> WriteBehind<'f> {
    pub(super) fn new(file: &'f mut File, base: u64) -> Self {
        WriteBehind {
            file,
            base,
            written: 0,
            requested: 0,
        }
    }
}

impl Write for WriteBehind<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.requested >= STEP {
            start_writeback(
                self.file,
                self.base + self.requested,
                self.written - self.requested,
            );
            self.requested = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Asks the kernel to start writing `len` bytes at `offset` to the disk, without waiting. A
/// refusal only leaves that work to the fsync.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: sync_file_range(2) on our open descriptor reads and writes no memory of ours.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &File, _: u64, _: u64) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    /// The bytes land after `base` as written, and writeback is asked for once per STEP,
    /// covering everything written up to that point.
    #[test]
    fn writes_through_and_asks_for_writeback_by_steps() {
        let mut file = tempfile::tempfile().expect("temp file");
        file.write_all(b"head").expect("write");
        let chunk: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        let mut w = WriteBehind::new(&mut file, 4);
        for _ in 0..3 {
            w.write_all(&chunk).expect("write");
        }
        assert_eq!((w.written, w.requested), (3 << 20, 0));
        w.write_all(&chunk).expect("write");
        assert_eq!(w.requested, 4 << 20);
        w.write_all(&chunk[..10]).expect("write");
        w.flush().expect("flush");
        assert_eq!((w.written, w.requested), ((4 << 20) + 10, 4 << 20));
        let mut back = vec![0u8; 16];
        file.read_exact_at(&mut back, (3 << 20) + 4).expect("read");
        assert_eq!(back, chunk[..16]);
        assert_eq!(file.metadata().expect("stat").len(), (4 << 20) + 14);
    }
}
