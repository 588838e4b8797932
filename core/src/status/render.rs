//! The status page's JSON and Prometheus text, written from snapshots into a caller's buffer
//! (the module passes one in the request pool).

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

use super::{
    status_slot, total_slot, AppSnapshot, CountKind, DeploymentSnapshot, DeploymentStateName,
    ASSET_404, BYTES, CLASSES, JS_ERRORS, NEW_USERS,
};

/// Content-Type of the Prometheus text exposition format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) fn push<A: Allocator>(out: &mut Vec<u8, A>, s: &str) {
    crate::buf::put(out, s.as_bytes());
}

pub(super) fn push_num<A: Allocator>(out: &mut Vec<u8, A>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    crate::buf::put(out, &buf[i..]);
}

/// A JSON string literal; `<` is escaped too, so the text is safe inside HTML.
pub(super) fn push_json_str<A: Allocator>(out: &mut Vec<u8, A>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => crate::buf::put(out, b"\\\""),
            b'\\' => crate::buf::put(out, b"\\\\"),
            b'\n' => crate::buf::put(out, b"\\n"),
            b'\r' => crate::buf::put(out, b"\\r"),
            b'\t' => crate::buf::put(out, b"\\t"),
            b if b < 0x20 || b == b'<' || b == 0x7f => {
                crate::buf::put(out, b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
            b => out.push(b),
        }
    }
    out.push(b'"');
}

/// A Prometheus label value: `\`, `"` and newlines escaped.
pub(super) fn push_label<A: Allocator>(out: &mut Vec<u8, A>, s: &str) {
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => crate::buf::put(out, b"\\\""),
            b'\\' => crate::buf::put(out, b"\\\\"),
            b'\n' => crate::buf::put(out, b"\\n"),
            b => out.push(b),
        }
    }
    out.push(b'"');
}

pub(super) fn key<A: Allocator>(out: &mut Vec<u8, A>, first: &mut bool, k: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    push_json_str(out, k);
    out.push(b':');
}

fn deployment_json<A: Allocator>(out: &mut Vec<u8, A>, d: &DeploymentSnapshot) {
    let c = &d.counts;
    let mut f = true;
    out.push(b'{');
    key(out, &mut f, "version");
    push_json_str(out, d.version);
    key(out, &mut f, "enabled");
    push(out, if d.enabled { "true" } else { "false" });
    key(out, &mut f, "weight");
    push_num(out, d.weight.into());
    key(out, &mut f, "state");
    push_json_str(out, d.state.name());
    for k in CountKind::ALL {
        key(out, &mut f, k.total_key());
        push_num(out, c[total_slot(k)]);
    }
    key(out, &mut f, "status");
    out.push(b'{');
    for (i, k) in CountKind::ALL.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, k.name());
        crate::buf::put(out, b":{");
        for (j, class) in CLASSES.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            push_json_str(out, class);
            out.push(b':');
            push_num(out, c[status_slot(k, j)]);
        }
        out.push(b'}');
    }
    out.push(b'}');
    for (k, i) in [
        ("asset404", ASSET_404),
        ("jsErrors", JS_ERRORS),
        ("newUsers", NEW_USERS),
        ("bytes", BYTES),
    ] {
        key(out, &mut f, k);
        push_num(out, c[i]);
    }
    key(out, &mut f, "rollout");
    super::release::rollout_json(out, d.release.as_ref());
    key(out, &mut f, "guard");
    super::release::guard_json(out, d.release.as_ref());
    out.push(b'}');
}

/// One app's object (also the answer to an accepted PATCH).
pub fn render_app_json<A: Allocator>(out: &mut Vec<u8, A>, app: &AppSnapshot) {
    let mut f = true;
    out.push(b'{');
    key(out, &mut f, "config");
    push_json_str(out, app.config);
    key(out, &mut f, "mode");
    push_json_str(out, app.mode.name());
    key(out, &mut f, "pinned");
    match app.pinned {
        Some(v) => push_json_str(out, v),
        None => push(out, "null"),
    }
    key(out, &mut f, "deployments");
    out.push(b'{');
    for (i, d) in app.deployments.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, d.name);
        out.push(b':');
        deployment_json(out, d);
    }
    crate::buf::put(out, b"}}");
}

/// An error answer: `{"error": "…"}`.
pub fn render_error<A: Allocator>(out: &mut Vec<u8, A>, msg: &str) {
    push(out, "{\"error\":");
    push_json_str(out, msg);
    push(out, "}\n");
}

/// The whole status document: `{"generation": N, "apps": {APP: {…}}}`.
pub fn render_json<A: Allocator>(out: &mut Vec<u8, A>, generation: u64, apps: &[AppSnapshot]) {
    push(out, "{\"generation\":");
    push_num(out, generation);
    push(out, ",\"apps\":{");
    for (i, a) in apps.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_json_str(out, a.name);
        out.push(b':');
        render_app_json(out, a);
    }
    push(out, "}}\n");
}

pub(super) fn family<A: Allocator>(out: &mut Vec<u8, A>, name: &str, kind: &str, help: &str) {
    push(out, "# HELP ");
    push(out, name);
    out.push(b' ');
    push(out, help);
    push(out, "\n# TYPE ");
    push(out, name);
    out.push(b' ');
    push(out, kind);
    out.push(b'\n');
}

pub(super) fn labels<A: Allocator>(
    out: &mut Vec<u8, A>,
    metric: &str,
    app: &AppSnapshot,
    d: &DeploymentSnapshot,
) {
    push(out, metric);
    push(out, "{app=");
    push_label(out, app.name);
    push(out, ",deployment=");
    push_label(out, d.name);
    push(out, ",version=");
    push_label(out, d.version);
}

fn each<A: Allocator>(
    out: &mut Vec<u8, A>,
    apps: &[AppSnapshot],
    mut f: impl FnMut(&mut Vec<u8, A>, &AppSnapshot, &DeploymentSnapshot),
) {
    for a in apps {
        for d in a.deployments {
            f(out, a, d);
        }
    }
}

/// The Prometheus text exposition of every app (SPEC §9's metric names).
pub fn render_prometheus<A: Allocator>(out: &mut Vec<u8, A>, apps: &[AppSnapshot]) {
    family(
        out,
        "frontend_gray_requests_total",
        "counter",
        "Requests the module acted on, by kind and status class of the response.",
    );
    each(out, apps, |out, a, d| {
        for k in CountKind::ALL {
            for (j, class) in CLASSES.iter().enumerate() {
                labels(out, "frontend_gray_requests_total", a, d);
                push(out, ",kind=\"");
                push(out, k.name());
                push(out, "\",status=\"");
                push(out, class);
                push(out, "\"} ");
                push_num(out, d.counts[status_slot(k, j)]);
                out.push(b'\n');
            }
        }
    });
    for (name, help, slot) in [
        (
            "frontend_gray_asset_404_total",
            "Asset requests answered 404 (a broken deploy).",
            ASSET_404,
        ),
        (
            "frontend_gray_js_errors_total",
            "JavaScript errors reported by entry pages of the version.",
            JS_ERRORS,
        ),
        (
            "frontend_gray_new_users_total",
            "Bucketing uids minted and handed out.",
            NEW_USERS,
        ),
        (
            "frontend_gray_sent_bytes_total",
            "Bytes sent to clients, headers included.",
            BYTES,
        ),
    ] {
        family(out, name, "counter", help);
        each(out, apps, |out, a, d| {
            labels(out, name, a, d);
            push(out, "} ");
            push_num(out, d.counts[slot]);
            out.push(b'\n');
        });
    }
    family(
        out,
        "frontend_gray_weight",
        "gauge",
        "Effective weight of the deployment in percent.",
    );
    each(out, apps, |out, a, d| {
        labels(out, "frontend_gray_weight", a, d);
        push(out, "} ");
        push_num(out, d.weight.into());
        out.push(b'\n');
    });
    family(
        out,
        "frontend_gray_pinned",
        "gauge",
        "1 for the version all traffic of the app is pinned to, 0 for the others.",
    );
    for a in apps {
        for (i, d) in a.deployments.iter().enumerate() {
            // one sample per version (two deployments may serve the same one)
            if a.deployments[..i].iter().any(|e| e.version == d.version) {
                continue;
            }
            push(out, "frontend_gray_pinned{app=");
            push_label(out, a.name);
            push(out, ",version=");
            push_label(out, d.version);
            push(out, "} ");
            push(
                out,
                if a.pinned == Some(d.version) {
                    "1"
                } else {
                    "0"
                },
            );
            out.push(b'\n');
        }
    }
    family(
        out,
        "frontend_gray_state",
        "gauge",
        "1 for the deployment's current state, 0 for the others.",
    );
    each(out, apps, |out, a, d| {
        for s in DeploymentStateName::ALL {
            labels(out, "frontend_gray_state", a, d);
            push(out, ",state=\"");
            push(out, s.name());
            push(out, "\"} ");
            push(out, if d.state == s { "1" } else { "0" });
            out.push(b'\n');
        }
    });
    super::release::prometheus(out, apps);
}
