//! Streaming rewriting of the HTML entry page (SPEC §6): injections at the end of `<head>`,
//! right after `<body …>` and before `</body>`, the global-config script first in `<head>`,
//! and `{version}` replaced everywhere.
//!
//! Tags are found by lol_html's tokenizer, chunk by chunk: the page is never held whole, and
//! the selectors are only `head` and `body`, so the tokenizer skips through everything else.
//! `{version}` is replaced by a byte search on the input stream, before tokenizing; a
//! placeholder split across two chunks is held back (at most 8 bytes) until the next one.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use lol_html::html_content::{ContentType, Element};
use lol_html::{element, end, end_tag, HtmlRewriter, MemorySettings, OutputSink, Settings};

use crate::template::PLACEHOLDER;

/// lol_html may buffer one tag or so; past this it stops rewriting and passes the rest of the
/// page through unchanged (graceful bail-out), so hostile markup cannot grow a worker.
const MAX_PARSER_MEMORY: usize = 1 << 20;

/// What goes into one page. Snippets are HTML, `{version}` already filled in.
#[derive(Debug, Clone, Default)]
pub struct Injections<'a> {
    /// The global-config script, first in `<head>` (may be empty).
    pub head_first: String,
    /// `injection.head`, before `</head>`.
    pub head_last: &'a str,
    /// The localStorage script and `injection.body.first`, right after `<body …>`.
    pub body_first: &'a str,
    /// `injection.body.last`, before `</body>` (at the end of the page when there is none).
    pub body_last: &'a str,
}

impl Injections<'_> {
    fn is_empty(&self) -> bool {
        self.head_first.is_empty()
            && self.head_last.is_empty()
            && self.body_first.is_empty()
            && self.body_last.is_empty()
    }
}

struct Sink(Rc<RefCell<Vec<u8>>>);

impl OutputSink for Sink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        self.0.borrow_mut().extend_from_slice(chunk);
    }
}

/// Replaces `{version}` in a stream of chunks.
#[derive(Debug)]
pub struct VersionReplacer<'v> {
    version: &'v [u8],
    /// Bytes of a possible placeholder at the end of the previous chunk (a prefix of it).
    pending: usize,
}

impl<'v> VersionReplacer<'v> {
    pub fn new(version: &'v str) -> Self {
        VersionReplacer {
            version: version.as_bytes(),
            pending: 0,
        }
    }

    /// Feeds a chunk; `out` receives the replaced stream, in order, in pieces.
    pub fn feed<E>(
        &mut self,
        chunk: &[u8],
        out: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let pat = PLACEHOLDER.as_bytes();
        let mut chunk = chunk;
        if self.pending > 0 {
            let need = &pat[self.pending..];
            let n = need.len().min(chunk.len());
            if chunk[..n] == need[..n] {
                if n == need.len() {
                    out(self.version)?;
                    self.pending = 0;
                    chunk = &chunk[n..];
                } else {
                    self.pending += n;
                    return Ok(());
                }
            } else {
                // not a placeholder after all; only its first byte is '{', so no match can
                // start inside the held bytes
                out(&pat[..self.pending])?;
                self.pending = 0;
            }
        }
        let mut last = 0;
        for m in memchr::memmem::find_iter(chunk, pat) {
            if m > last {
                out(&chunk[last..m])?;
            }
            out(self.version)?;
            last = m + pat.len();
        }
        let tail = &chunk[last..];
        let held = (1..pat.len())
            .rev()
            .find(|&k| tail.ends_with(&pat[..k]))
            .unwrap_or(0);
        if tail.len() > held {
            out(&tail[..tail.len() - held])?;
        }
        self.pending = held;
        Ok(())
    }

    /// The end of the stream: releases held bytes.
    pub fn finish<E>(&mut self, out: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        if self.pending > 0 {
            let p = self.pending;
            self.pending = 0;
            out(&PLACEHOLDER.as_bytes()[..p])?;
        }
        Ok(())
    }
}

/// The rewriter of one entry page. Feed it with [`write`](Self::write), then
/// [`end`](Self::end); after each call, [`take_output`](Self::take_output) hands over what is
/// ready to send (its buffer is reused, so memory stays flat).
pub struct EntryRewriter<'h> {
    rewriter: Option<HtmlRewriter<'static, Sink>>,
    out: Rc<RefCell<Vec<u8>>>,
    replacer: VersionReplacer<'h>,
    /// lol_html failed: the rest of the page passes through unchanged.
    passthrough: bool,
}

/// Rewriting stopped; the rest of the page passes through unchanged.
#[derive(Debug, thiserror::Error)]
#[error("HTML rewriting stopped: {0}")]
pub struct RewriteError(String);

impl<'h> EntryRewriter<'h> {
    pub fn new(version: &'h str, inj: Injections<'static>) -> Self {
        let out = Rc::new(RefCell::new(Vec::with_capacity(16 * 1024)));
        let rewriter = (!inj.is_empty()).then(|| build(inj, Sink(out.clone())));
        EntryRewriter {
            rewriter,
            out,
            replacer: VersionReplacer::new(version),
            passthrough: false,
        }
    }

    pub fn write(&mut self, chunk: &[u8]) -> Result<(), RewriteError> {
        let (rw, out, passthrough) = (&mut self.rewriter, &self.out, self.passthrough);
        let mut sink = |piece: &[u8]| -> Result<(), lol_html::errors::RewritingError> {
            match rw {
                Some(rw) if !passthrough => rw.write(piece),
                _ => {
                    out.borrow_mut().extend_from_slice(piece);
                    Ok(())
                }
            }
        };
        let r = self.replacer.feed(chunk, &mut sink);
        self.fail_on(r)
    }

    pub fn end(&mut self) -> Result<(), RewriteError> {
        let (rw, out, passthrough) = (&mut self.rewriter, &self.out, self.passthrough);
        let mut sink = |piece: &[u8]| -> Result<(), lol_html::errors::RewritingError> {
            match rw {
                Some(rw) if !passthrough => rw.write(piece),
                _ => {
                    out.borrow_mut().extend_from_slice(piece);
                    Ok(())
                }
            }
        };
        let r = self.replacer.finish(&mut sink);
        self.fail_on(r)?;
        if let Some(rw) = self.rewriter.take() {
            if !self.passthrough {
                return rw.end().map_err(|e| RewriteError(e.to_string()));
            }
        }
        Ok(())
    }

    fn fail_on(
        &mut self,
        r: Result<(), lol_html::errors::RewritingError>,
    ) -> Result<(), RewriteError> {
        r.map_err(|e| {
            self.passthrough = true;
            RewriteError(e.to_string())
        })
    }

    /// The output produced so far and not yet taken; `f` must copy it.
    pub fn take_output<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let mut out = self.out.borrow_mut();
        let r = f(&out);
        out.clear();
        r
    }
}

fn build(inj: Injections<'static>, sink: Sink) -> HtmlRewriter<'static, Sink> {
    let head_done = Rc::new(Cell::new(false));
    let body_done = Rc::new(Cell::new(false));
    let body_last_done = Rc::new(Cell::new(inj.body_last.is_empty()));
    let Injections {
        head_first,
        head_last,
        body_first,
        body_last,
    } = inj;

    let (bd, bld) = (body_done.clone(), body_last_done.clone());
    let settings = Settings::new()
        .with_strict(false)
        .with_memory_settings(
            MemorySettings::new()
                .with_max_allowed_memory_usage(MAX_PARSER_MEMORY)
                .with_graceful_bail_out_on_memory_limit_exceeded(true),
        )
        .with_graceful_bail_out_on_content_handler_error(true)
        .append_element_content_handler(element!("head", move |el: &mut Element| {
            if head_done.replace(true) {
                return Ok(());
            }
            if !head_first.is_empty() {
                el.prepend(&head_first, ContentType::Html);
            }
            if !head_last.is_empty() {
                el.on_end_tag(end_tag!(move |end| {
                    end.before(head_last, ContentType::Html);
                    Ok(())
                }))?;
            }
            Ok(())
        }))
        .append_element_content_handler(element!("body", move |el: &mut Element| {
            if bd.replace(true) {
                return Ok(());
            }
            if !body_first.is_empty() {
                el.prepend(body_first, ContentType::Html);
            }
            if !body_last.is_empty() {
                let done = bld.clone();
                el.on_end_tag(end_tag!(move |end| {
                    done.set(true);
                    end.before(body_last, ContentType::Html);
                    Ok(())
                }))?;
            }
            Ok(())
        }))
        .append_document_content_handler(end!(move |end| {
            // no </body> (it is optional in HTML): body.last goes at the very end
            if body_done.get() && !body_last_done.get() {
                end.append(body_last, ContentType::Html);
            }
            Ok(())
        }));
    HtmlRewriter::new(settings, sink)
}

/// Escapes `s` for a JavaScript string literal inside an HTML `<script>` (JSON, with `<`
/// escaped so that `</script>` cannot end the script).
pub fn js_string(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap_or_else(|_| "\"\"".into())
        .replace('<', "\\u003c")
}

#[cfg(test)]
mod tests;
