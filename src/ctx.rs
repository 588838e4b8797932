//! The per-request context: what the module decided for this client request.
//!
//! nginx clears module contexts on an internal redirect (`index`, `try_files`, `error_page`),
//! but the decision must survive it: the module acts once per client request and the entry
//! response still needs its cookies. The context therefore lives in a request-pool cleanup
//! (which also drops it) and is found again through the pool's cleanup list, the way nginx's
//! own realip module keeps its context.

use core::ffi::c_void;
use core::ptr;

use std::cell::{Cell, UnsafeCell};

use frontend_gray_core::conditions::Facts;
use frontend_gray_core::{Decision, GrayConfig};
use ngx::ffi::{ngx_http_request_t, ngx_pool_cleanup_add, ngx_table_elt_t};
use ngx::http::HttpModule;

use crate::Module;

pub struct RequestCtx {
    pub cfg: &'static GrayConfig,
    /// `None`: the module looked at the request and left it alone.
    pub decision: Option<Decision<'static>>,
    /// The URI was rewritten (or left alone) in the preaccess phase; a decision made earlier,
    /// for a `$gray_*` variable, is not.
    pub rewritten: Cell<bool>,
    /// The cleaned path the decision was made on, and the (address, length) of the URI it
    /// came from, so the rewrite reuses it while the URI is unchanged.
    #[allow(clippy::type_complexity)]
    pub path: Cell<Option<((usize, usize), &'static [u8])>>,
    /// What the decision learnt of the request once (User-Agent, JWT claims), for the
    /// global-config script.
    pub facts: Facts,
    /// `headers_in.accept_encoding` of an HTML entry, held back from the content phase (so
    /// that `gzip_static` / `brotli_static` do not pick a precompressed file that could not be
    /// rewritten) and put back by the header filter for nginx's `gzip`.
    pub accept_encoding: Cell<*mut ngx_table_elt_t>,
    /// The body filter's state, set by the header filter of an entry response (in the request
    /// pool with the rest of the context).
    pub body: UnsafeCell<Option<crate::body::BodyState>>,
}

impl RequestCtx {
    pub fn new(
        cfg: &'static GrayConfig,
        decision: Option<Decision<'static>>,
        facts: Facts,
    ) -> Self {
        RequestCtx {
            cfg,
            decision,
            facts,
            rewritten: Cell::new(false),
            path: Cell::new(None),
            accept_encoding: Cell::new(core::ptr::null_mut()),
            body: UnsafeCell::new(None),
        }
    }

    /// The body state. nginx runs a request's filters on one thread, one at a time; callers
    /// must not hold the reference across a call back into the filter chain.
    #[allow(clippy::mut_from_ref)]
    pub fn body(&self) -> &mut Option<crate::body::BodyState> {
        // SAFETY: see above
        unsafe { &mut *self.body.get() }
    }
}

unsafe extern "C" fn drop_ctx(data: *mut c_void) {
    // SAFETY: data is the RequestCtx written by `create`, dropped once when the pool goes.
    unsafe { ptr::drop_in_place(data as *mut RequestCtx) }
}

fn slot(r: &ngx_http_request_t) -> *mut *mut c_void {
    // SAFETY: r.ctx has ngx_http_max_module slots; ctx_index is ours
    unsafe { r.ctx.add(Module::module().ctx_index) }
}

/// The context of the main request `r`, also after an internal redirect. Subrequests share
/// the main request's pool and must not see it: callers check `r == r.main` first.
pub fn get(r: &ngx_http_request_t) -> Option<&'static RequestCtx> {
    // SAFETY: the slot is ours; the data it points to lives as long as the request pool.
    unsafe {
        let p = *slot(r);
        if !p.is_null() {
            return Some(&*(p as *const RequestCtx));
        }
        if r.internal() == 0 {
            return None;
        }
        let mut c = (*r.pool).cleanup;
        while !c.is_null() {
            if (*c).handler.map(|h| h as usize)
                == Some(drop_ctx as unsafe extern "C" fn(*mut c_void) as usize)
            {
                *slot(r) = (*c).data;
                return Some(&*((*c).data as *const RequestCtx));
            }
            c = (*c).next;
        }
        None
    }
}

/// Stores the context `ctx` makes for request `r`; `None` when the pool is out of memory.
/// (Made where it is stored: a context is a few hundred bytes, not worth a copy per request.)
pub fn create(
    r: &ngx_http_request_t,
    ctx: impl FnOnce() -> RequestCtx,
) -> Option<&'static RequestCtx> {
    // SAFETY: r.pool is the live request pool; the cleanup owns the value from here on.
    unsafe {
        let c = ngx_pool_cleanup_add(r.pool, core::mem::size_of::<RequestCtx>());
        if c.is_null() {
            return None;
        }
        let p = (*c).data as *mut RequestCtx;
        ptr::write(p, ctx());
        (*c).handler = Some(drop_ctx);
        *slot(r) = p as *mut c_void;
        Some(&*p)
    }
}
