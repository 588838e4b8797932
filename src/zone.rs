//! The shared memory zone of the status counters and the run-time overrides (SPEC §9, §10).
//!
//! One zone, `frontend_gray` (1 MB unless `frontend_gray_zone SIZE;` says otherwise), is a
//! slab pool whose `data` is a [`Root`]: a list of apps, each with a list of deployment
//! records keyed by (deployment name, version). A record holds the counters of
//! `frontend_gray_core::status` and the overrides of §10.
//!
//! Records are only ever added, and only by the master while it reads a configuration (the
//! zone's init callback, before any worker of that configuration exists): every worker finds
//! its records through pointers resolved then, in [`App::deps`], so the request path does
//! atomic loads and adds only — no lock, no lookup, no allocation. A reload keeps the zone
//! (nginx hands the init callback the old zone when name, size and tag are unchanged) and
//! with it the counters and overrides; a reload that changes the size gets a new, empty zone.
//! When the zone is full, the deployments that find no room are not counted (one `[warn]`).
//!
//! Writers of overrides (PATCH in a worker, the master at reload) hold the slab mutex; the
//! request path reads the atomics without it.
//!
//! `zone/init.rs` creates the zone and resolves the records; `zone/state.rs` reads and writes
//! the state file.

use core::ffi::{c_char, c_void};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use frontend_gray_core::decide::{effective_gray, Steering};
use frontend_gray_core::release::{ReplaySlot, ReplaySlots};
use frontend_gray_core::status::{app_name, Counters, StateFile};
use frontend_gray_core::{Deployment, GrayConfig};
use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_int_t, ngx_log_t, ngx_parse_size, ngx_shared_memory_add,
    ngx_shm_zone_t, ngx_shmtx_lock, ngx_shmtx_unlock, ngx_slab_calloc_locked, ngx_slab_pool_t,
    ngx_str_t, NGX_LOG_EMERG, NGX_LOG_NOTICE, NGX_LOG_WARN,
};
use ngx::http::{HttpModule, HttpModuleMainConf};
use ngx::{ngx_conf_log_error, ngx_log_error};

use crate::ffi_guard::guard;
use crate::headers::bytes;
pub use crate::release::RelRec;
use crate::Module;

mod init;
mod state;

pub use init::add_zone;
pub use state::state_of;

pub const DEFAULT_ZONE_SIZE: usize = 1024 * 1024;
/// Smaller zones leave the slab allocator no room (nginx's own modules ask for 8 pages).
pub const MIN_ZONE_SIZE: usize = 32 * 1024;
const MAGIC: u64 = 0x6667_5f7a_6f6e_6502;
/// `DepRec::weight` without an override.
const NO_WEIGHT: u32 = u32::MAX;

/// A string in the zone.
#[repr(C)]
#[derive(Clone, Copy)]
struct ShmStr {
    ptr: *const u8,
    len: usize,
}

impl ShmStr {
    fn as_bytes(&self) -> &[u8] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: written once by `alloc_str`, never freed while the zone lives
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
    fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

#[repr(C)]
pub struct Root {
    magic: u64,
    /// Bumped by every accepted write (and by overrides a reload drops).
    pub generation: AtomicU64,
    apps: *mut AppRec,
    /// The key of the beacon tokens (SPEC §11), random, made with the zone.
    pub secret: [u8; 32],
    /// The beacon's replay table (`REPLAY_SLOTS` slots), made by the first configuration
    /// with a `monitor:`; null before.
    replay: *mut ReplaySlot,
}

/// Slots of the beacon's replay table: one per page view that reported an error in the
/// last 11 minutes (16 bytes each).
pub const REPLAY_SLOTS: usize = 8192;

impl Root {
    /// The replay table, empty when no configuration has a `monitor:` (or the zone was full).
    pub fn replay(&self) -> ReplaySlots<'_> {
        if self.replay.is_null() {
            return ReplaySlots(&[]);
        }
        // SAFETY: REPLAY_SLOTS zeroed slots allocated by the master, never freed
        ReplaySlots(unsafe { core::slice::from_raw_parts(self.replay, REPLAY_SLOTS) })
    }
}

#[repr(C)]
pub struct AppRec {
    next: *mut AppRec,
    name: ShmStr,
    deps: *mut DepRec,
    /// The pinned deployment record (null: no pin).
    pub pin: AtomicPtr<DepRec>,
    /// Some deployment of the app has a weight or enabled override.
    pub steered: AtomicU32,
    /// The last second whose rollouts and guards were evaluated (SPEC §11).
    pub eval: AtomicU64,
}

#[repr(C)]
pub struct DepRec {
    next: *mut DepRec,
    name: ShmStr,
    version: ShmStr,
    pub counters: Counters,
    /// Weight override in percent, or `NO_WEIGHT`.
    pub weight: AtomicU32,
    /// Enabled override: 0 none, 1 true, 2 false.
    pub enabled: AtomicU32,
    /// The rollout / guard state, for a deployment that has one (made by the master).
    release: AtomicPtr<RelRec>,
}

impl DepRec {
    pub fn weight_override(&self) -> Option<u8> {
        match self.weight.load(Ordering::Relaxed) {
            NO_WEIGHT => None,
            w => Some(w.min(100) as u8),
        }
    }
    pub fn enabled_override(&self) -> Option<bool> {
        match self.enabled.load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }
    pub fn set_overrides(&self, weight: Option<u8>, enabled: Option<bool>) {
        self.weight
            .store(weight.map_or(NO_WEIGHT, u32::from), Ordering::Relaxed);
        self.enabled.store(
            match enabled {
                None => 0,
                Some(true) => 1,
                Some(false) => 2,
            },
            Ordering::Relaxed,
        );
    }
    fn has_overrides(&self) -> bool {
        self.weight_override().is_some() || self.enabled_override().is_some()
    }
    pub fn version(&self) -> &str {
        self.version.as_str()
    }
}

/// One app (one YAML file) of this configuration.
pub struct App {
    pub name: String,
    pub path: String,
    /// The compiled configurations of this file (one per `frontend_gray` directive naming it).
    pub cfgs: Vec<Arc<GrayConfig>>,
    /// Set by the zone's init callback; null when the zone had no room.
    pub rec: *mut AppRec,
    /// Per deployment, base first, then `cfg.grays` in order; null where the zone had no room.
    pub deps: Vec<*mut DepRec>,
    /// Per deployment as `deps`: its rollout / guard state (null without one).
    pub rels: Vec<*mut RelRec>,
    /// Per deployment as `deps`: the id its beacon tokens carry (SPEC §11).
    pub dep_ids: Vec<u64>,
}

impl App {
    /// The configuration the status page and PATCH use (all of `cfgs` come from one file).
    pub fn cfg(&self) -> &GrayConfig {
        &self.cfgs[0]
    }

    pub fn rec(&self) -> Option<&AppRec> {
        // SAFETY: zone memory, valid as long as the cycle that resolved it
        unsafe { self.rec.as_ref() }
    }

    pub fn dep(&self, i: usize) -> Option<&DepRec> {
        // SAFETY: as above
        self.deps.get(i).and_then(|p| unsafe { p.as_ref() })
    }

    /// The rollout / guard record of deployment `i`.
    pub fn rel(&self, i: usize) -> Option<&RelRec> {
        // SAFETY: as above
        self.rels.get(i).and_then(|p| unsafe { p.as_ref() })
    }

    /// Index (0 base, `i + 1` gray `i`) of the pinned deployment.
    pub fn pinned(&self) -> Option<usize> {
        let p = self.rec()?.pin.load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        self.deps.iter().position(|&d| d == p)
    }

    /// The overrides in force, for the decision.
    pub fn steering(&self) -> ZoneSteering<'_> {
        ZoneSteering {
            app: Some(self),
            pin: self.pinned(),
            any: self.cfg().released
                || self
                    .rec()
                    .is_some_and(|r| r.steered.load(Ordering::Acquire) != 0),
        }
    }

    /// Effective (enabled, weight) of deployment `i` (base: the rest of 100 in percent).
    pub fn effective(&self, i: usize) -> (bool, u8) {
        let cfg = self.cfg();
        let s = self.steering();
        if i > 0 {
            return effective_gray(cfg, &s, i - 1);
        }
        let sum: u32 = (0..cfg.grays.len())
            .map(|g| u32::from(effective_gray(cfg, &s, g).1))
            .sum();
        (true, 100u32.saturating_sub(sum) as u8)
    }
}

/// Index of deployment `d` of `cfg`: 0 base, `i + 1` for `cfg.grays[i]`.
pub fn deployment_index(cfg: &GrayConfig, d: &Deployment) -> Option<usize> {
    if ptr::eq(d, &cfg.base) {
        return Some(0);
    }
    cfg.grays.iter().position(|g| ptr::eq(g, d)).map(|i| i + 1)
}

/// The deployments of `cfg` in the zone's order.
pub fn deployments(cfg: &GrayConfig) -> impl Iterator<Item = &Deployment> {
    core::iter::once(&cfg.base).chain(cfg.grays.iter())
}

/// The overrides of one app, read from the zone.
pub struct ZoneSteering<'a> {
    app: Option<&'a App>,
    pin: Option<usize>,
    any: bool,
}

impl ZoneSteering<'_> {
    pub const NONE: ZoneSteering<'static> = ZoneSteering {
        app: None,
        pin: None,
        any: false,
    };
}

impl Steering for ZoneSteering<'_> {
    fn pinned(&self) -> Option<usize> {
        self.pin
    }
    fn overridden(&self) -> bool {
        self.any
    }
    fn gray(&self, i: usize) -> (Option<bool>, Option<u8>) {
        let Some(app) = self.app else {
            return (None, None);
        };
        let (enabled, weight) = match app.dep(i + 1) {
            Some(d) => (d.enabled_override(), d.weight_override()),
            None => (None, None),
        };
        match crate::release::steered_weight(app, i + 1) {
            Some(crate::release::Steer::RolledBack(_)) => (enabled, Some(0)),
            Some(crate::release::Steer::Weight(w)) => (enabled, weight.or(Some(w))),
            None => (enabled, weight),
        }
    }
    fn rolled_back(&self, i: usize) -> Option<u8> {
        match crate::release::steered_weight(self.app?, i + 1)? {
            crate::release::Steer::RolledBack(w) => Some(w),
            crate::release::Steer::Weight(_) => None,
        }
    }
}

/// The overrides (SPEC §10) of the app of `cfg`, for the decision of request `r`.
pub fn steering_for<'a>(r: &ngx::ffi::ngx_http_request_t, cfg: &GrayConfig) -> ZoneSteering<'a> {
    match Module::main_conf(r).and_then(|m| m.app_of(cfg)) {
        Some(app) => app.steering(),
        None => ZoneSteering::NONE,
    }
}

/// The module's http main configuration.
#[derive(Default)]
pub struct MainConf {
    /// `frontend_gray_zone SIZE | off;` (`Some(0)`: off)
    pub zone_size: Option<usize>,
    /// `frontend_gray_state PATH;`
    pub state_path: Option<String>,
    pub apps: Vec<App>,
    pub zone: Option<NonNull<ngx_shm_zone_t>>,
    pub root: Option<NonNull<Root>>,
    /// `frontend_gray_render_cache SIZE | off;` (`Some(0)`: off)
    pub render_cache: Option<usize>,
    /// Which reading of the configuration this is (`render_cache.rs`).
    pub generation: u64,
}

impl MainConf {
    /// The app a compiled configuration belongs to (a pointer comparison per app).
    pub fn app_of(&self, cfg: &GrayConfig) -> Option<&App> {
        self.apps
            .iter()
            .find(|a| a.cfgs.iter().any(|c| ptr::eq(Arc::as_ptr(c), cfg)))
    }

    pub fn app_named(&self, name: &[u8]) -> Option<&App> {
        self.apps.iter().find(|a| a.name.as_bytes() == name)
    }

    pub fn root(&self) -> Option<&Root> {
        // SAFETY: zone memory, set by the init callback
        self.root.map(|r| unsafe { r.as_ref() })
    }

    pub fn pool(&self) -> Option<*mut ngx_slab_pool_t> {
        // SAFETY: the zone outlives the cycle's configuration
        self.zone
            .map(|z| unsafe { (*z.as_ptr()).shm.addr as *mut ngx_slab_pool_t })
    }

    /// Runs `f` holding the zone's mutex (writers of overrides only).
    pub fn locked<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let sp = self.pool()?;
        // SAFETY: the slab pool's mutex, initialised by nginx with the zone
        unsafe { ngx_shmtx_lock(&mut (*sp).mutex) };
        let r = guard(None, || Some(f()));
        // SAFETY: locked above
        unsafe { ngx_shmtx_unlock(&mut (*sp).mutex) };
        r
    }
}

/// Registers the app of a `frontend_gray` file (from the directive's handler).
pub fn register_app(cf: &mut ngx_conf_t, cfg: &Arc<GrayConfig>, path: &str) -> Result<(), String> {
    let Some(mcf) = Module::main_conf_mut(&*cf) else {
        return Err("no http main configuration".into());
    };
    let name = app_name(cfg.name.as_deref(), path);
    if let Some(a) = mcf.apps.iter_mut().find(|a| a.name == name) {
        if a.path != path {
            return Err(format!(
                "app name \"{name}\" is already used by file \"{}\": give one of them its own \"name:\"",
                a.path
            ));
        }
        a.cfgs.push(cfg.clone());
        return Ok(());
    }
    mcf.apps.push(App {
        name: name.to_string(),
        path: path.to_string(),
        cfgs: vec![cfg.clone()],
        rec: ptr::null_mut(),
        deps: Vec::new(),
        rels: Vec::new(),
        dep_ids: Vec::new(),
    });
    Ok(())
}

fn arg1(cf: &ngx_conf_t) -> ngx_str_t {
    // SAFETY: TAKE1 directives have their name and one argument
    unsafe { (*cf.args).as_slice::<ngx_str_t>()[1] }
}

/// `frontend_gray_zone SIZE | off;` (http). `off`: no zone, no counters, no steering.
pub extern "C" fn set_zone_size(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    guard(NGX_CONF_ERROR, || {
        // SAFETY: nginx calls directive handlers with valid cf and this module's main conf
        let (cf, mcf) = unsafe { (&mut *cf, &mut *(conf as *mut MainConf)) };
        if mcf.zone_size.is_some() {
            return c"is duplicate".as_ptr() as *mut c_char;
        }
        let mut v = arg1(cf);
        if bytes(&v) == b"off" {
            mcf.zone_size = Some(0);
            return NGX_CONF_OK;
        }
        // SAFETY: v is a valid nginx string
        let n = unsafe { ngx_parse_size(&mut v) };
        if n < MIN_ZONE_SIZE as isize {
            ngx_conf_log_error!(
                NGX_LOG_EMERG,
                cf,
                "\"frontend_gray_zone\": invalid size \"{}\": at least {}k",
                String::from_utf8_lossy(bytes(&v)),
                MIN_ZONE_SIZE / 1024
            );
            return NGX_CONF_ERROR;
        }
        mcf.zone_size = Some(n as usize);
        NGX_CONF_OK
    })
}

/// `frontend_gray_state PATH;` (http): relative to the prefix.
pub extern "C" fn set_state_path(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    guard(NGX_CONF_ERROR, || {
        // SAFETY: as above
        let (cf, mcf) = unsafe { (&mut *cf, &mut *(conf as *mut MainConf)) };
        if mcf.state_path.is_some() {
            return c"is duplicate".as_ptr() as *mut c_char;
        }
        let mut v = arg1(cf);
        // SAFETY: cf.cycle is valid during configuration parsing
        if unsafe { ngx::ffi::ngx_conf_full_name(cf.cycle, &mut v, 0) } != 0 {
            return NGX_CONF_ERROR;
        }
        mcf.state_path = Some(String::from_utf8_lossy(bytes(&v)).into_owned());
        NGX_CONF_OK
    })
}

/// Recomputes `AppRec::steered` from the deployment records in use.
pub fn update_steered(app: &App) {
    if let Some(rec) = app.rec() {
        let any = (1..app.deps.len()).any(|i| app.dep(i).is_some_and(DepRec::has_overrides));
        rec.steered.store(u32::from(any), Ordering::Release);
    }
}
