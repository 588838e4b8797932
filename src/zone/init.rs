//! Creating the zone and resolving this configuration's records in it: the zone's init
//! callback, run by the master while it reads a configuration (at start and at every reload).

use super::*;

/// Adds the zone (from postconfiguration, once every directive is read).
pub fn add_zone(cf: *mut ngx_conf_t) -> bool {
    // SAFETY: valid cf during postconfiguration
    let Some(mcf) = Module::main_conf_mut(unsafe { &*cf }) else {
        return false;
    };
    let size = mcf.zone_size.unwrap_or(DEFAULT_ZONE_SIZE);
    if size == 0 {
        return true; // frontend_gray_zone off
    }
    let mut name = ngx_str_t {
        len: "frontend_gray".len(),
        data: c"frontend_gray".as_ptr() as *mut u8,
    };
    let tag = Module::module() as *const _ as *mut c_void;
    // SAFETY: valid cf; the name is static
    let zone = unsafe { ngx_shared_memory_add(cf, &mut name, size, tag) };
    if zone.is_null() {
        return false;
    }
    // SAFETY: a fresh zone entry of this cycle
    unsafe {
        (*zone).init = Some(init_zone);
        (*zone).data = mcf as *mut MainConf as *mut c_void;
    }
    mcf.zone = NonNull::new(zone);
    true
}

unsafe extern "C" fn init_zone(zone: *mut ngx_shm_zone_t, old: *mut c_void) -> ngx_int_t {
    guard(ngx::core::Status::NGX_ERROR.into(), || {
        // SAFETY: nginx passes the zone we added, its data is our main conf, the old data (if
        // any) the previous cycle's, still alive while the new cycle initialises.
        let zone = unsafe { &mut *zone };
        let mcf = unsafe { &mut *(zone.data as *mut MainConf) };
        let sp = zone.shm.addr as *mut ngx_slab_pool_t;
        let log = zone.shm.log;
        // SAFETY: the slab pool nginx initialised at the start of the zone
        unsafe { (*sp).set_log_nomem(0) };
        let reused = !old.is_null() || zone.shm.exists != 0;
        let mut root = if reused {
            // SAFETY: the zone's data is the Root written below by an earlier cycle
            let r = unsafe { (*sp).data } as *mut Root;
            if !r.is_null() && unsafe { (*r).magic } == MAGIC {
                r
            } else {
                ptr::null_mut()
            }
        } else {
            ptr::null_mut()
        };
        // SAFETY: the master is the only process running this, the mutex orders it against
        // workers of the old cycle writing overrides
        unsafe { ngx_shmtx_lock(&mut (*sp).mutex) };
        let fresh = root.is_null();
        if fresh {
            root = unsafe { ngx_slab_calloc_locked(sp, size_of::<Root>()) } as *mut Root;
            if root.is_null() {
                unsafe { ngx_shmtx_unlock(&mut (*sp).mutex) };
                return ngx::core::Status::NGX_ERROR.into();
            }
            unsafe {
                (*root).magic = MAGIC;
                (*root).secret = random_secret();
                (*sp).data = root as *mut c_void;
            }
        }
        mcf.root = NonNull::new(root);
        // SAFETY: sp and root are the zone's, locked
        let dropped = unsafe { resolve(mcf, sp, &mut *root, log, reused && !fresh) };
        if fresh {
            if let Some(p) = mcf.state_path.clone() {
                state::load_state(mcf, &p, log);
            }
        }
        crate::release::adopt_all(mcf);
        if mcf.apps.iter().any(|a| a.cfg().monitor.is_some()) {
            // SAFETY: sp and root are the zone's, locked
            unsafe { add_replay(sp, &mut *root, log) };
        }
        if dropped {
            unsafe { (*root).generation.fetch_add(1, Ordering::Relaxed) };
        }
        unsafe { ngx_shmtx_unlock(&mut (*sp).mutex) };
        ngx::core::Status::NGX_OK.into()
    })
}

/// 32 random bytes from the kernel for the beacon tokens' key; should that fail, std's
/// randomly keyed hasher (seeded by the OS too) fills them.
fn random_secret() -> [u8; 32] {
    use std::hash::{BuildHasher, Hasher};
    use std::io::Read;
    let mut k = [0u8; 32];
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut k));
    if ok.is_err() {
        for c in k.chunks_mut(8) {
            let h = std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish();
            c.copy_from_slice(&h.to_le_bytes());
        }
    }
    k
}

/// The beacon's replay table, made once (by the first configuration with a `monitor:`).
unsafe fn add_replay(sp: *mut ngx_slab_pool_t, root: &mut Root, log: *mut ngx_log_t) {
    if !root.replay.is_null() {
        return;
    }
    let size = REPLAY_SLOTS * size_of::<ReplaySlot>();
    let p = unsafe { ngx_slab_calloc_locked(sp, size) } as *mut ReplaySlot;
    if p.is_null() {
        ngx_log_error!(
            NGX_LOG_WARN,
            log,
            "frontend_gray: zone \"frontend_gray\" is full: no room for the beacon's replay table \
({}k): JS error reports are not counted; raise frontend_gray_zone",
            size / 1024
        );
        return;
    }
    root.replay = p;
}

/// The rollout / guard record of a deployment record, made on first use.
unsafe fn find_or_add_rel(sp: *mut ngx_slab_pool_t, d: *mut DepRec) -> *mut RelRec {
    let p = unsafe { (*d).release.load(Ordering::Acquire) };
    if !p.is_null() {
        return p;
    }
    let p = unsafe { ngx_slab_calloc_locked(sp, size_of::<RelRec>()) } as *mut RelRec;
    if !p.is_null() {
        unsafe { (*d).release.store(p, Ordering::Release) };
    }
    p
}

/// Copies `s` into the zone.
unsafe fn alloc_str(sp: *mut ngx_slab_pool_t, s: &str) -> Option<ShmStr> {
    let p = unsafe { ngx_slab_calloc_locked(sp, s.len().max(1)) } as *mut u8;
    if p.is_null() {
        return None;
    }
    unsafe { ptr::copy_nonoverlapping(s.as_ptr(), p, s.len()) };
    Some(ShmStr {
        ptr: p,
        len: s.len(),
    })
}

unsafe fn find_or_add_app(
    sp: *mut ngx_slab_pool_t,
    root: &mut Root,
    name: &str,
) -> Option<*mut AppRec> {
    let mut a = root.apps;
    while !a.is_null() {
        if unsafe { (*a).name.as_bytes() } == name.as_bytes() {
            return Some(a);
        }
        a = unsafe { (*a).next };
    }
    let a = unsafe { ngx_slab_calloc_locked(sp, size_of::<AppRec>()) } as *mut AppRec;
    if a.is_null() {
        return None;
    }
    let Some(n) = (unsafe { alloc_str(sp, name) }) else {
        return None; // the record stays unlinked: lost, as the zone is full anyway
    };
    unsafe {
        (*a).name = n;
        (*a).next = root.apps;
    }
    root.apps = a;
    Some(a)
}

unsafe fn find_or_add_dep(
    sp: *mut ngx_slab_pool_t,
    app: *mut AppRec,
    name: &str,
    version: &str,
) -> Option<*mut DepRec> {
    let mut d = unsafe { (*app).deps };
    while !d.is_null() {
        if unsafe {
            (*d).name.as_bytes() == name.as_bytes() && (*d).version.as_bytes() == version.as_bytes()
        } {
            return Some(d);
        }
        d = unsafe { (*d).next };
    }
    let d = unsafe { ngx_slab_calloc_locked(sp, size_of::<DepRec>()) } as *mut DepRec;
    if d.is_null() {
        return None;
    }
    let (n, v) = unsafe { (alloc_str(sp, name)?, alloc_str(sp, version)?) };
    unsafe {
        (*d).name = n;
        (*d).version = v;
        (*d).weight = AtomicU32::new(NO_WEIGHT);
        (*d).next = (*app).deps;
        (*app).deps = d;
    }
    Some(d)
}

/// Finds (or adds) the records of every app and deployment of this configuration; after a
/// reload, drops the overrides that name versions the configuration no longer has. Returns
/// whether any override was dropped.
unsafe fn resolve(
    mcf: &mut MainConf,
    sp: *mut ngx_slab_pool_t,
    root: &mut Root,
    log: *mut ngx_log_t,
    reconcile: bool,
) -> bool {
    let mut full: Option<(String, String)> = None;
    let mut dropped = false;
    for app in &mut mcf.apps {
        let cfg = app.cfgs[0].clone();
        app.rec = unsafe { find_or_add_app(sp, root, &app.name) }.unwrap_or(ptr::null_mut());
        app.deps.clear();
        app.rels.clear();
        app.dep_ids.clear();
        for (i, d) in deployments(&cfg).enumerate() {
            let rec = if app.rec.is_null() {
                None
            } else {
                unsafe { find_or_add_dep(sp, app.rec, &d.name, &d.version) }
            };
            let rel = match rec {
                Some(r) if i > 0 && crate::release::released(d) => unsafe {
                    find_or_add_rel(sp, r)
                },
                _ => ptr::null_mut(),
            };
            let lost = rec.is_none() || (i > 0 && crate::release::released(d) && rel.is_null());
            if lost && full.is_none() {
                full = Some((app.name.clone(), d.name.clone()));
            }
            app.deps.push(rec.unwrap_or(ptr::null_mut()));
            app.rels.push(rel);
            app.dep_ids.push(frontend_gray_core::release::dep_id(
                &app.name, &d.name, &d.version,
            ));
        }
        if reconcile && !app.rec.is_null() {
            dropped |= unsafe { reconcile_app(app, log) };
        }
    }
    if let Some((a, d)) = full {
        let size = mcf.zone_size.unwrap_or(DEFAULT_ZONE_SIZE);
        ngx_log_error!(
            NGX_LOG_WARN,
            log,
            "frontend_gray: zone \"frontend_gray\" ({}k) is full: app \"{}\" deployment \"{}\" \
and the ones after it are not counted and cannot be steered; raise frontend_gray_zone",
            size / 1024,
            a,
            d
        );
    }
    dropped
}

/// After a reload: the pin follows its version (also to a renamed deployment) or is dropped;
/// overrides of deployment records this configuration no longer uses are dropped.
unsafe fn reconcile_app(app: &App, log: *mut ngx_log_t) -> bool {
    let rec = unsafe { &*app.rec };
    let mut dropped = false;
    let pin = rec.pin.load(Ordering::Acquire);
    if !pin.is_null() && !app.deps.contains(&pin) {
        let version = unsafe { (*pin).version.as_str() };
        match app
            .deps
            .iter()
            .find(|&&d| !d.is_null() && unsafe { (*d).version.as_bytes() } == version.as_bytes())
        {
            Some(&d) => rec.pin.store(d, Ordering::Release),
            None => {
                ngx_log_error!(
                    NGX_LOG_NOTICE,
                    log,
                    "frontend_gray: app \"{}\": pin to version \"{}\" dropped: the configuration no longer has that version",
                    app.name,
                    version
                );
                rec.pin.store(ptr::null_mut(), Ordering::Release);
                dropped = true;
            }
        }
    }
    let mut d = rec.deps;
    while !d.is_null() {
        let dr = unsafe { &*d };
        if !app.deps.contains(&d) && dr.has_overrides() {
            ngx_log_error!(
                NGX_LOG_NOTICE,
                log,
                "frontend_gray: app \"{}\": overrides of deployment \"{}\" version \"{}\" dropped: the configuration no longer has that version",
                app.name,
                dr.name.as_str(),
                dr.version.as_str()
            );
            dr.set_overrides(None, None);
            dropped = true;
        }
        d = dr.next;
    }
    update_steered(app);
    dropped
}
