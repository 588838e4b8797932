//! The body filter's side of replay (`replay.rs`): a response compared with its recording
//! buffer by buffer, the recording's page sent while it matches, and the hand-over to the
//! fresh rewriter where it differs.

use ngx::ffi::ngx_chain_t;

use super::{BodyState, Out};

/// `data`, the response's next bytes, compared with the page's recording: when they match,
/// what the recording's page has ready goes into `out` (true); when they differ, the fresh
/// rewriter is fed the matched source, its output set to skip what went out, and the caller
/// streams `data` on (false, as when there is no recording).
pub(super) fn replayed(st: &mut BodyState, out: &mut Out, data: &[u8], ok: &mut bool) -> bool {
    step(st, out, Some(data), ok)
}

/// The response's last buffer came while it matched its recording: the rest of the page
/// goes out (true), or, when the response was shorter, the fresh rewriter takes over
/// (false; the caller ends the response as a streamed one).
pub(super) fn replay_ended(st: &mut BodyState, out: &mut Out, ok: &mut bool) -> bool {
    step(st, out, None, ok)
}

/// [`replayed`] with `Some(data)`, [`replay_ended`] with `None`.
fn step(st: &mut BodyState, out: &mut Out, data: Option<&[u8]>, ok: &mut bool) -> bool {
    let Some(p) = st.proxied.as_mut() else {
        return false;
    };
    let Some(slot) = p.recording() else {
        return false;
    };
    let crate::replay::Slot::Page { rec, .. } = &*slot else {
        return false;
    };
    let matched = match data {
        Some(d) => p.replay.feed(rec, d),
        None => p.replay.complete(rec),
    };
    if matched {
        let e = p.replay.ready(rec, data.is_none());
        *ok &= emit(out, &mut st.free_bare, e, p.head_first()).is_some();
        if data.is_none() {
            p.finish_replayed();
        }
        return true;
    }
    differ(st, out, ok);
    false
}

/// The response differs from its recording from here on: the fresh rewriter is fed the
/// source that matched, and its output skips what went out replayed.
fn differ(st: &mut BodyState, out: &mut Out, ok: &mut bool) {
    let Some(p) = st.proxied.as_mut() else {
        return;
    };
    let (slot, verified, sent) = p.differ();
    out.skip = sent;
    if let crate::replay::Slot::Page { rec, .. } = &*slot {
        let (rewriter, _, mut bufs) = st.split();
        rewriter.write(&rec.source[..verified], &mut |o| {
            *ok &= out.put(&mut bufs, o).is_some()
        });
    }
}

/// Pieces of a recording's page (held until the request ends) and the request's
/// `head_first`, by reference.
fn emit(
    out: &mut Out,
    free_bare: &mut *mut ngx_chain_t,
    e: frontend_gray_core::html::replay::Emit<'_>,
    head_first: &[u8],
) -> Option<()> {
    out.refer(free_bare, e.before)?;
    if e.head {
        out.refer(free_bare, head_first)?;
    }
    out.refer(free_bare, e.after)
}
