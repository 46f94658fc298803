//! Process-wide concerns of the binary: the address space malloc reserves, and ending cleanly
//! however the process ends. A temp file of ours that is being written is removed on SIGTERM,
//! SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM (then the signal takes its default
//! course, so the parent still sees it); SIGXFSZ (a file-size limit, `ulimit -f`) is ignored, so
//! the write past the limit fails with EFBIG and the cache write ends as a full disk does; and
//! a failed allocation is one stderr line and exit 1 instead of an abort with a backtrace. Both
//! paths run where almost nothing is allowed (a signal handler, an allocator out of memory):
//! they only swap an atomic pointer and make system calls.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_char, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Once;

/// The temp file to remove if the process is ended now; null when there is none. The string is
/// leaked on purpose: a signal handler may be reading it at any time, so it is never freed.
static TEMP: AtomicPtr<c_char> = AtomicPtr::new(null_mut());

/// Registers `path`, a temp file about to be created, for removal should the process be ended
/// before the guard is dropped.
pub fn guard_temp(path: &Path) -> TempGuard {
    static HANDLERS: Once = Once::new();
    HANDLERS.call_once(install_handlers);
    let ptr = CString::new(path.as_os_str().as_bytes())
        .map(|c| c.into_raw())
        .unwrap_or(null_mut());
    TEMP.store(ptr, Ordering::SeqCst);
    TempGuard { ptr }
}

/// Unregisters its temp file when dropped (once it is renamed or removed).
pub struct TempGuard {
    ptr: *mut c_char,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        // Only our own registration: another may have replaced it since.
        let _ = TEMP.compare_exchange(self.ptr, null_mut(), Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Removes the registered temp file, if any. Async-signal-safe.
fn remove_temp() {
    let p = TEMP.swap(null_mut(), Ordering::SeqCst);
    if !p.is_null() {
        // SAFETY: a NUL-terminated string that is never freed.
        unsafe { libc::unlink(p) };
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    remove_temp();
    // SA_RESETHAND restored the default action; the signal raised again is delivered when this
    // handler returns, and ends the process as it would have without us.
    // SAFETY: raise(2) is async-signal-safe.
    unsafe { libc::raise(sig) };
}

fn install_handlers() {
    // SAFETY: signal(2) only reads and sets the disposition of SIGXFSZ.
    unsafe {
        let old = libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        if old != libc::SIG_DFL && old != libc::SIG_ERR {
            // Handled by someone else: theirs.
            libc::signal(libc::SIGXFSZ, old);
        }
    }
    for sig in [
        libc::SIGTERM,
        libc::SIGINT,
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
    ] {
        // SAFETY: sigaction(2) with zeroed structs of the right type; the handler only calls
        // async-signal-safe functions.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction != libc::SIG_DFL
            {
                // Ignored (nohup, a shell's background job) or handled by someone else: theirs.
                continue;
            }
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            new.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(sig, &new, null_mut());
        }
    }
}

/// Each thread that allocates gets a glibc arena of its own, and each arena reserves 64 MB of
/// address space: under `ulimit -v` that reservation, not the memory used, runs out first (a
/// 20,000-instance refresh peaks at 61 MB of address space with one arena, 145 MB with two,
/// 210 MB with glibc's default on two cores). One arena costs the threads some contention for
/// it (about a fifth more CPU on that refresh), so it is only taken under an address-space
/// limit. `MALLOC_ARENA_MAX` in the environment, read by glibc itself, wins.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit(2) into a local, then mallopt(3) before any thread exists.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_AS, &mut limit) == 0
                && limit.rlim_cur != libc::RLIM_INFINITY
            {
                libc::mallopt(libc::M_ARENA_MAX, 1);
            }
        }
    }
}

/// The system allocator, except that running out of memory ends the run with one line and exit
/// status 1 (and without our temp file) instead of an abort and a backtrace.
pub struct Allocator;

// SAFETY: every call is the system allocator's; only a null result is acted on.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        checked(System.alloc(layout), layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        checked(System.alloc_zeroed(layout), layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        checked(System.realloc(ptr, layout, new_size), new_size)
    }
}

fn checked(ptr: *mut u8, size: usize) -> *mut u8 {
    if ptr.is_null() {
        out_of_memory(size);
    }
    ptr
}

/// Nothing may allocate here: the line is put together in a buffer on the stack. The first
/// thread to run out writes it and ends the process; any other waits for that end.
fn out_of_memory(size: usize) -> ! {
    static FIRST: AtomicBool = AtomicBool::new(true);
    if !FIRST.swap(false, Ordering::SeqCst) {
        loop {
            // SAFETY: pause(2) until the first thread's _exit ends the process.
            unsafe { libc::pause() };
        }
    }
    remove_temp();
    let mut buf = [0u8; 256];
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        let n = bytes.len().min(buf.len() - len);
        buf[len..len + n].copy_from_slice(&bytes[..n]);
        len += n;
    };
    put(b"alicloud_inventory: error: out of memory: allocating ");
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = size;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    put(&digits[i..]);
    put(b" bytes failed (raise the memory limit of the process, ulimit -v)\n");
    // SAFETY: write(2) of our buffer, then _exit(2): no destructor, no allocation.
    unsafe {
        libc::write(libc::STDERR_FILENO, buf.as_ptr().cast(), len);
        libc::_exit(crate::error::exit_codes::RUNTIME);
    }
}
