//! Reading and writing nginx's header lists (`ngx_list_t` of `ngx_table_elt_t`).
//!
//! Written against the list itself rather than the version-specific shortcut fields of
//! `headers_in` / `headers_out` (`cookies` became `cookie` in 1.23, …), so one source builds
//! against every nginx version.

use core::ptr;
use core::slice;

use frontend_gray_core::cookies::find_cookie;
use frontend_gray_core::RequestHeaders;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use frontend_gray_core::conditions::find_query_arg;
use ngx::ffi::{
    ngx_cached_time, ngx_http_get_indexed_variable, ngx_http_request_t, ngx_list_push, ngx_list_t,
    ngx_str_t, ngx_table_elt_t, ngx_uint_t, sockaddr_in, sockaddr_in6, AF_INET, AF_INET6,
};

/// Iterates the elements of an nginx list of headers, as raw pointers.
fn raw_iter(list: *const ngx_list_t) -> impl Iterator<Item = *mut ngx_table_elt_t> {
    // SAFETY: list points at a live list
    let mut part = unsafe { &(*list).part as *const ngx::ffi::ngx_list_part_t };
    let mut i = 0usize;
    core::iter::from_fn(move || {
        // SAFETY: nginx keeps list parts valid for the request's lifetime; nelts elements
        // of type ngx_table_elt_t in each part.
        unsafe {
            loop {
                if part.is_null() {
                    return None;
                }
                if i < (*part).nelts {
                    let e = ((*part).elts as *mut ngx_table_elt_t).add(i);
                    i += 1;
                    return Some(e);
                }
                part = (*part).next;
                i = 0;
            }
        }
    })
}

/// Iterates the elements of an nginx list of headers.
pub fn iter(list: &ngx_list_t) -> impl Iterator<Item = &ngx_table_elt_t> {
    // SAFETY: elements live as long as the list
    raw_iter(list).map(|e| unsafe { &*e })
}

fn iter_mut(list: &mut ngx_list_t) -> impl Iterator<Item = &mut ngx_table_elt_t> {
    // SAFETY: the list is borrowed mutably; elements are distinct
    raw_iter(list).map(|e| unsafe { &mut *e })
}

/// Whether a request header is called `lc` (in lower case), by the lower-case copy of its name
/// that nginx's parsers keep beside it (a module may have added one without).
fn is_named(h: &ngx_table_elt_t, lc: &[u8]) -> bool {
    if h.key.len != lc.len() {
        return false;
    }
    if h.lowcase_key.is_null() {
        return bytes(&h.key).eq_ignore_ascii_case(lc);
    }
    // SAFETY: nginx's parsers (and `set_request_header`) store `key.len` bytes there
    unsafe { slice::from_raw_parts(h.lowcase_key, h.key.len) == lc }
}

pub fn bytes(s: &ngx_str_t) -> &[u8] {
    if s.len == 0 || s.data.is_null() {
        &[]
    } else {
        // SAFETY: nginx strings point at len readable bytes
        unsafe { slice::from_raw_parts(s.data, s.len) }
    }
}

/// The request, as the decision sees it: headers, query arguments, client address, the
/// variables of `variable` conditions, the time.
pub struct NgxHeaders<'a> {
    pub list: &'a ngx_list_t,
    /// The request (for its arguments, address and variables); null: headers only.
    pub r: *mut ngx_http_request_t,
    /// nginx's variable index of each slot of `GrayConfig::variables`.
    pub vars: &'a [usize],
}

impl<'a> NgxHeaders<'a> {
    pub fn new(r: &'a ngx_http_request_t, vars: &'a [usize]) -> Self {
        NgxHeaders {
            list: &r.headers_in.headers,
            r: r as *const _ as *mut _,
            vars,
        }
    }
}

impl RequestHeaders for NgxHeaders<'_> {
    fn query_arg(&self, name: &str) -> Option<&[u8]> {
        // SAFETY: r is null or the live request this adapter was made for
        let r = unsafe { self.r.as_ref()? };
        find_query_arg(bytes(&r.args), name.as_bytes())
    }

    fn client_addr(&self) -> Option<IpAddr> {
        // SAFETY: as above; a request always has its connection, whose sockaddr nginx's
        // realip module may have replaced with the real client's
        unsafe {
            let sa = (*self.r.as_ref()?.connection).sockaddr;
            if sa.is_null() {
                return None;
            }
            match u32::from((*sa).sa_family) {
                AF_INET => {
                    let sin = &*(sa as *const sockaddr_in);
                    Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        sin.sin_addr.s_addr,
                    ))))
                }
                AF_INET6 => {
                    let sin6 = &*(sa as *const sockaddr_in6);
                    let v6 = Ipv6Addr::from(sin6.sin6_addr.__in6_u.__u6_addr8);
                    Some(IpAddr::V6(v6))
                }
                _ => None,
            }
        }
    }

    fn variable(&self, slot: usize) -> Option<&[u8]> {
        let index = *self.vars.get(slot)?;
        if self.r.is_null() {
            return None;
        }
        // SAFETY: a live request; nginx evaluates (and caches) the variable in request memory
        let v = unsafe { ngx_http_get_indexed_variable(self.r, index).as_ref()? };
        if v.not_found() != 0 || v.valid() == 0 || v.data.is_null() {
            return None;
        }
        // SAFETY: nginx variable values point at len bytes of request memory
        Some(unsafe { slice::from_raw_parts(v.data, v.len() as usize) })
    }

    fn now(&self) -> u64 {
        // SAFETY: nginx's cached time is always set in a worker
        unsafe { ngx_cached_time.as_ref().map_or(0, |t| t.sec.max(0) as u64) }
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        iter(self.list)
            .find(|h| bytes(&h.key).eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| bytes(&h.value))
    }

    fn cookie(&self, name: &str) -> Option<&[u8]> {
        // by the hash and the lower-case name nginx's parsers give every request header
        const COOKIE: ngx_uint_t = hash_key(b"cookie");
        iter(self.list)
            .filter(|h| h.hash == COOKIE && is_named(h, b"cookie"))
            .find_map(|h| find_cookie(bytes(&h.value), name.as_bytes()))
    }
}

/// An nginx string over `s`, which must outlive its use (configuration or pool memory).
pub fn ngx_str(s: &[u8]) -> ngx_str_t {
    ngx_str_t {
        len: s.len(),
        data: s.as_ptr() as *mut u8,
    }
}

/// `ngx_hash_key`, at compile time: the hash nginx's parser gives a request header of
/// lower-case name `lc` (proxy and the other upstream modules look headers up by it).
pub const fn hash_key(lc: &[u8]) -> ngx_uint_t {
    let mut h: ngx_uint_t = 0;
    let mut i = 0;
    while i < lc.len() {
        h = h.wrapping_mul(31).wrapping_add(lc[i] as ngx_uint_t);
        i += 1;
    }
    h
}

/// A request header's name as nginx's parser keeps it: as sent, lower-case, and the hash of
/// that (all three static, the hash computed at compile time).
#[derive(Clone, Copy)]
pub struct RequestHeader {
    pub key: &'static [u8],
    pub lc: &'static [u8],
    pub hash: ngx_uint_t,
}

impl RequestHeader {
    pub const fn new(key: &'static [u8], lc: &'static [u8]) -> Self {
        RequestHeader {
            key,
            lc,
            hash: hash_key(lc),
        }
    }
}

/// Appends a response header to a list (`hash` 1: present). `key` and `value` must outlive
/// the request.
pub fn push(list: &mut ngx_list_t, key: &'static [u8], value: ngx_str_t) -> Option<()> {
    push_elt(list, key, value)?.hash = 1;
    Some(())
}

/// Appends request header `name`, with its lower-case key and hash as nginx's parser sets them.
fn push_request(list: &mut ngx_list_t, name: RequestHeader, value: ngx_str_t) -> Option<()> {
    let h = push_elt(list, name.key, value)?;
    h.lowcase_key = name.lc.as_ptr() as *mut u8;
    h.hash = name.hash;
    Some(())
}

/// A new element of `list` holding `key` and `value`, its other fields zero.
fn push_elt<'l>(
    list: &'l mut ngx_list_t,
    key: &'static [u8],
    value: ngx_str_t,
) -> Option<&'l mut ngx_table_elt_t> {
    // SAFETY: list is a live header list of ngx_table_elt_t
    unsafe {
        let h = ngx_list_push(list) as *mut ngx_table_elt_t;
        if h.is_null() {
            return None;
        }
        // zero first: the element has a `next` field on nginx >= 1.23 only
        ptr::write_bytes(h, 0, 1);
        (*h).key = ngx_str(key);
        (*h).value = value;
        Some(&mut *h)
    }
}

/// Sets request header `name` to `value`, replacing every value the client sent.
pub fn set_request_header(
    list: &mut ngx_list_t,
    name: RequestHeader,
    value: ngx_str_t,
) -> Option<()> {
    let mut found = false;
    for h in iter_mut(list) {
        if bytes(&h.key).eq_ignore_ascii_case(name.lc) {
            h.value = value;
            found = true;
        }
    }
    if found {
        Some(())
    } else {
        push_request(list, name, value)
    }
}

/// Hides every response header called `name` (hash 0: the header filter skips it).
pub fn hide_response_header(list: &mut ngx_list_t, name: &[u8]) {
    for h in iter_mut(list) {
        if h.hash != 0 && bytes(&h.key).eq_ignore_ascii_case(name) {
            h.hash = 0;
        }
    }
}

/// Keeps the request headers of lower-case names `hidden[k].0` from reaching the upstream
/// while nginx itself still sees their values through the `headers_in` shortcut pointers (the
/// gzip filter reads `headers_in.accept_encoding`, so the rewritten page is still compressed
/// for the client). One pass over the list, whatever the number of names.
///
/// Removing a list element would leave the other `headers_in` pointers pointing at wrong
/// elements, and upstream modules (proxy, fastcgi, …) copy every element of the list. So each
/// element is renamed to `hidden[k].1`: the upstream sees `X-Frontend-Gray-<Name>` instead,
/// which no server interprets, and `$http_<name>` becomes empty.
pub fn hide_from_upstream(list: &mut ngx_list_t, hidden: &[(&[u8], RequestHeader)]) {
    for h in iter_mut(list) {
        let key = bytes(&h.key);
        let Some(&(_, to)) = hidden.iter().find(|(lc, _)| key.eq_ignore_ascii_case(lc)) else {
            continue;
        };
        h.key = ngx_str(to.key);
        h.lowcase_key = to.lc.as_ptr() as *mut u8;
        h.hash = to.hash;
    }
}
