//! The render cache of entry pages nginx serves from files (`frontend_gray_render_cache`):
//! per worker, the rewritten page of each (file, version, configuration), so that the next
//! user of that version gets it without the file being read or scanned again — only their
//! own `head_first` (global-config script, reporter token) is put in between.
//!
//! It applies where the page reaches the body filter as buffers of a file, as nginx's static
//! handler sends it with `sendfile` on (plain HTTP; also when `gzip` makes nginx read the
//! file into memory first): the open file's
//! identity (`fstat`: device, inode, size, mtime to the nanosecond) is the key, so a deploy
//! that replaces or rewrites the file is seen by the next request; a page read while it
//! changed, or of a file changed in the last two seconds, is served but not kept. Elsewhere (TLS without kernel TLS, `sendfile off`, a body other
//! filters changed, proxied entries) pages stream through the rewriter as before.
//!
//! The pages live in memory files (`memfd`, mapped) within the directive's budget (LRU), so
//! the constant parts go out by `sendfile` like the file itself, and only the request's own
//! `head_first` from memory (in memory buffers instead where a later filter, `gzip` say,
//! needs the bytes); a response holds its page (`Rc`) until the request ends, so an eviction
//! never pulls bytes from under it.
//! A reload starts new workers, with empty caches; the configuration's generation in the key
//! covers a configuration read again in the same process.

use core::ffi::{c_char, c_void};
use core::sync::atomic::{AtomicU64, Ordering};
use std::cell::RefCell;
use std::rc::Rc;

use frontend_gray_core::html::render_cache::{render, Key, RenderCache, Rendered};
use frontend_gray_core::html::Injections;
use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{ngx_buf_t, ngx_command_t, ngx_conf_t, ngx_parse_size, NGX_LOG_EMERG};
use ngx::ngx_conf_log_error;

use crate::ffi_guard::guard;
use crate::headers::bytes;
use crate::zone::MainConf;

/// Per worker, unless `frontend_gray_render_cache` says otherwise.
pub const DEFAULT_BUDGET: usize = 16 * 1024 * 1024;

/// The rest of a page after `head_first` goes out by sendfile from its memory file from this
/// size on, in memory (one writev with the header) below it.
pub const SENDFILE_MIN: usize = 16 * 1024;

/// The start of a page before `head_first` (up to `<head>`, mostly) goes out in memory with
/// the header below this size, by sendfile from it on.
pub const PREFIX_MAX: usize = 4 * 1024;

/// A file is kept once it has not changed for this long (seconds).
const SETTLE: i64 = 2;

/// Bumped every time a configuration is read (postconfiguration).
static GENERATION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static CACHE: RefCell<Option<RenderCache<Page>>> = const { RefCell::new(None) };
}

/// A rendered page as the cache keeps it: in a memory file (`memfd`), mapped for reading,
/// so that `sendfile` can send its constant parts; on the heap where no memory file can be
/// made.
pub enum Page {
    Mapped {
        fd: i32,
        ptr: *const u8,
        len: usize,
        split: Option<usize>,
    },
    Heap(Rendered),
}

impl Page {
    fn new(r: Rendered) -> Page {
        // SAFETY: plain syscalls on a file of our own; the mapping is read-only and lives
        // until the page is dropped
        unsafe {
            let len = r.bytes.len();
            if len == 0 {
                return Page::Heap(r);
            }
            let fd = libc::memfd_create(c"frontend-gray-page".as_ptr(), libc::MFD_CLOEXEC);
            if fd < 0 {
                return Page::Heap(r);
            }
            let mut done = 0;
            while done < len {
                let n = libc::write(fd, r.bytes[done..].as_ptr().cast(), len - done);
                if n <= 0 {
                    libc::close(fd);
                    return Page::Heap(r);
                }
                done += n as usize;
            }
            let ptr = libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                0,
            );
            if ptr == libc::MAP_FAILED {
                libc::close(fd);
                return Page::Heap(r);
            }
            Page::Mapped {
                fd,
                ptr: ptr as *const u8,
                len,
                split: r.split,
            }
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match self {
            // SAFETY: the mapping of len bytes lives as long as self
            Page::Mapped { ptr, len, .. } => unsafe { core::slice::from_raw_parts(*ptr, *len) },
            Page::Heap(r) => &r.bytes,
        }
    }

    pub fn split(&self) -> Option<usize> {
        match self {
            Page::Mapped { split, .. } => *split,
            Page::Heap(r) => r.split,
        }
    }

    /// The memory file, for `sendfile`.
    pub fn fd(&self) -> Option<i32> {
        match self {
            Page::Mapped { fd, .. } => Some(*fd),
            Page::Heap(_) => None,
        }
    }

    /// (before, after) `head_first`.
    pub fn parts(&self) -> (&[u8], &[u8]) {
        let b = self.bytes();
        match self.split() {
            Some(s) => b.split_at(s.min(b.len())),
            None => (b, &[]),
        }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        if let Page::Mapped { fd, ptr, len, .. } = *self {
            // SAFETY: the mapping and the file made in `new`, released once
            unsafe {
                libc::munmap(ptr as *mut c_void, len);
                libc::close(fd);
            }
        }
    }
}

pub fn new_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::Relaxed) + 1
}

/// The budget in force (0: off).
pub fn budget(mcf: &MainConf) -> usize {
    mcf.render_cache.unwrap_or(DEFAULT_BUDGET)
}

/// Whether an entry of `len` bytes may come from the cache.
pub fn cacheable(mcf: &MainConf, len: i64) -> bool {
    let b = budget(mcf);
    b > 0 && len > 0 && (len as u64) <= (b / 4) as u64
}

/// `frontend_gray_render_cache SIZE | off;` (http).
pub extern "C" fn set_render_cache(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    guard(NGX_CONF_ERROR, || {
        // SAFETY: nginx calls directive handlers with valid cf and this module's main conf
        let (cf, mcf) = unsafe { (&mut *cf, &mut *(conf as *mut MainConf)) };
        if mcf.render_cache.is_some() {
            return c"is duplicate".as_ptr() as *mut c_char;
        }
        // SAFETY: TAKE1: the name and one argument
        let mut v = unsafe { (*cf.args).as_slice::<ngx::ffi::ngx_str_t>()[1] };
        if bytes(&v) == b"off" {
            mcf.render_cache = Some(0);
            return NGX_CONF_OK;
        }
        // SAFETY: v is a valid nginx string
        let n = unsafe { ngx_parse_size(&mut v) };
        if n <= 0 {
            ngx_conf_log_error!(
                NGX_LOG_EMERG,
                cf,
                "\"frontend_gray_render_cache\": invalid size \"{}\"",
                String::from_utf8_lossy(bytes(&v))
            );
            return NGX_CONF_ERROR;
        }
        mcf.render_cache = Some(n as usize);
        NGX_CONF_OK
    })
}

/// The identity of the file whose first bytes `b` holds, when it is a whole file of
/// `length` bytes (the length the response was sent with): a file buffer as the static
/// handler makes it, or the first piece the copy filter read of it into memory (for `gzip`).
///
/// # Safety
/// `b` is a live buffer.
pub unsafe fn file_identity(b: *const ngx_buf_t, length: i64) -> Option<(i32, FileStat)> {
    unsafe {
        if (*b).in_file() == 0 || (*b).file.is_null() || (*b).file_pos != 0 {
            return None;
        }
        let fd = (*(*b).file).fd;
        if fd < 0 {
            return None;
        }
        let st = fstat(fd)?;
        (st.size == length).then_some((fd, st))
    }
}

/// What the key needs of `fstat`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FileStat {
    dev: u64,
    ino: u64,
    size: i64,
    mtime_sec: i64,
    mtime_nsec: i64,
}

fn fstat(fd: i32) -> Option<FileStat> {
    use std::os::unix::fs::MetadataExt;
    // a borrowed fd: ManuallyDrop keeps std from closing nginx's file
    use std::os::fd::FromRawFd;
    let f = core::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    let m = f.metadata().ok()?;
    Some(FileStat {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size() as i64,
        mtime_sec: m.mtime(),
        mtime_nsec: m.mtime_nsec(),
    })
}

fn pread_all(fd: i32, len: usize) -> Option<Vec<u8>> {
    use std::os::fd::FromRawFd;
    use std::os::unix::fs::FileExt;
    // SAFETY: nginx's open file, borrowed for the call (not closed: ManuallyDrop)
    let f = core::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    let mut v = vec![0u8; len];
    f.read_exact_at(&mut v, 0).ok()?;
    Some(v)
}

/// The rendered page of the file behind `fd` for this (version, injections, configuration):
/// from the cache, or read, rendered and kept. `None` when it cannot be read.
pub fn page(
    mcf: &MainConf,
    fd: i32,
    st: FileStat,
    version: &'static str,
    inj: &Injections<'static>,
    config: usize,
) -> Option<(Rc<Page>, bool)> {
    let key = Key {
        dev: st.dev,
        ino: st.ino,
        size: st.size,
        mtime_sec: st.mtime_sec,
        mtime_nsec: st.mtime_nsec,
        range: (0, st.size),
        version: version.as_ptr() as usize,
        config,
        generation: mcf.generation,
    };
    let budget = budget(mcf);
    let hit = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let cache = c.get_or_insert_with(|| RenderCache::new(budget));
        cache.retain_generation(mcf.generation);
        cache.get(&key)
    });
    if let Some(p) = hit {
        return Some((p, true));
    }
    let text = pread_all(fd, st.size as usize)?;
    let rendered = render(version, inj, &text);
    drop(text);
    // kept only when the file did not change while it was read, and has not changed for
    // SETTLE seconds: file times are coarse (a tick of some milliseconds) and inode numbers
    // are reused, so two versions of a file written within one tick could share a key;
    // any write after a page is kept has a later time
    let settled = (crate::release::now() as i64).saturating_sub(st.mtime_sec) >= SETTLE;
    let keep = settled && fstat(fd) == Some(st);
    let len = rendered.bytes.len();
    let page = Rc::new(if keep {
        Page::new(rendered)
    } else {
        Page::Heap(rendered)
    });
    if keep {
        CACHE.with(|c| {
            if let Some(cache) = c.borrow_mut().as_mut() {
                cache.insert(key, page.clone(), len);
            }
        });
    }
    Some((page, false))
}
