//! A streaming HTML tokenizer for exactly what entry-page injection needs: where the head
//! begins and ends and where the body begins and ends, as a browser's parser places them.
//!
//! # Where the events are
//!
//! - [`Event::HeadStart`]: right after the `>` of the first `<head …>` tag, when that tag
//!   opens the head. When the head is implied (no `<head>` tag, or one that comes after head
//!   content such as `<meta>` and is ignored), it fires right before [`Event::HeadEnd`].
//! - [`Event::HeadEnd`]: where the head ends: before `</head>`, or before the first thing that
//!   cannot be in the head — a start tag other than `base basefont bgsound link meta title
//!   noscript noframes style script template html head` (so `<body>` too), the end tags
//!   `</body> </html> </br>`, or text other than blanks (space, tab, CR, LF, FF: it fires
//!   before the first other byte). Comments, doctypes, blanks and other end tags do not end
//!   the head. At the end of the page it fires there if it has not fired.
//! - [`Event::BodyStart`]: right after the `>` of `<body …>` when that tag opens the body;
//!   else where the body is implied: before the first thing that cannot be in the head or in
//!   the "after head" gap (as above, except that `noscript` after the head begins the body and
//!   `</head>` there is ignored). With `<frameset>` there is no body and no body events. At the
//!   end of the page it fires there if it has not fired.
//! - [`Event::BodyEnd`]: before the first `</body>` that closes the body, else at the end of
//!   the page.
//!
//! Nothing counts inside `<template>` (its contents are inert: a `<body>` or `</head>` there
//! is ignored and its text does not end the head), inside comments (`<!-- … -->`, `--!>` also
//! ends one, `<!-->` is a whole one), bogus comments and doctypes, script data (including its
//! escaped and double-escaped states), raw text (`style`, `xmp`, `iframe`, `noembed`,
//! `noframes`, `noscript`), RCDATA (`title`, `textarea`), `<plaintext>`, CDATA sections of
//! foreign content, or tags (quoted and unquoted attribute values as the HTML tokenizer reads
//! them: `title=a=">` ends at that `>`). In `<svg>` / `<math>` (outside their HTML
//! integration points) `<style>`, `<script>`, `<title>` are ordinary elements, not raw text,
//! and a `</body>` inside an integration point (`<foreignObject>` …) is ignored, as a browser
//! ignores it there. An event due at the end of the page fires only if the page ends outside
//! any of those (appended text would land inside an unclosed script or comment).
//!
//! The model is the part of the HTML tree builder that decides these places, with no element
//! stack (see `tree`): it does not follow table scoping (a `</body>` inside an open `<table>`
//! still counts), character references that decode to blanks (`&#32;` ends the head), or the
//! CDATA sections directly inside an integration point. lol_html (a complete tokenizer) and
//! html5ever (a complete tree builder) are the oracles of the differential tests.
//!
//! Everything else is skipped with `memchr` from one `<` to the next, so a page costs little
//! more than a copy. In the body, the tags that change nothing (most of a server-rendered
//! page) are skipped whole by `skip_inert`, their `>` searched eight bytes at a time.
//! Chunks may split anywhere: a `<` too close to the end of a chunk to classify is held
//! back (at most [`LOOKAHEAD`] bytes) and examined with the next chunk.

mod fast;
mod simd;
mod tag;
mod text;
mod tree;

pub(super) use simd::find;

use tag::TagSt;
use text::{is_delim, Esc, Step};
use tree::{Name, Phase, Push, Tree};

/// Bytes after a `<` needed to classify it: `/foreignObject` plus one delimiter.
const LOOKAHEAD: usize = 15;

/// Bytes of a new chunk joined to held-back ones (more than [`LOOKAHEAD`], so that a held `<`
/// is settled in one step).
const JOIN: usize = 64;

/// Most bytes ever held back: a `<` and fewer than [`LOOKAHEAD`] after it (a `</name` of raw
/// text, the end of a comment, a CDATA section or an escaped script, and a split byte-order
/// mark are shorter).
const HOLD: usize = LOOKAHEAD;

const BOM: &[u8] = b"\xef\xbb\xbf";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    /// Inside a tag, looking for its `>`; `then` is the state after the tag (raw text for
    /// `<style>` …), `event` fires at its `>`, `push` is applied there unless self-closing.
    Tag {
        st: TagSt,
        then: After,
        event: Option<Event>,
        push: Option<Push>,
    },
    /// Inside `<!-- … -->`.
    Comment,
    /// Inside `<![CDATA[ … ]]>` (foreign content only).
    Cdata,
    /// Inside `<! … >` or `<? … >`.
    Bogus,
    /// Inside a raw-text or RCDATA element, until `</name`.
    Raw(RawKind),
    /// Script data.
    Script(Esc),
    /// `<plaintext>`: the rest of the page is text.
    PlainText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    Data,
    Raw(RawKind),
    Script,
    PlainText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    Style,
    Textarea,
    Title,
    Xmp,
    Iframe,
    Noembed,
    Noframes,
    Noscript,
}

impl RawKind {
    fn name(self) -> &'static [u8] {
        match self {
            RawKind::Style => b"style",
            RawKind::Textarea => b"textarea",
            RawKind::Title => b"title",
            RawKind::Xmp => b"xmp",
            RawKind::Iframe => b"iframe",
            RawKind::Noembed => b"noembed",
            RawKind::Noframes => b"noframes",
            RawKind::Noscript => b"noscript",
        }
    }
}

/// What the scanner hands on: page bytes, in order, and the injection points between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Bytes(&'a [u8]),
    At(Event),
}

/// A place in the page where something may be injected (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Where the head begins: after `<head …>`, or just before `HeadEnd` when it is implied.
    HeadStart,
    /// Where the head ends.
    HeadEnd,
    /// Where the body begins.
    BodyStart,
    /// Before the `</body>` that closes the body, or at the end of the page.
    BodyEnd,
}

impl Event {
    pub const ALL: [Event; 4] = [
        Event::HeadStart,
        Event::HeadEnd,
        Event::BodyStart,
        Event::BodyEnd,
    ];

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The scanner. Feed chunks with [`feed`](Self::feed) and finish with
/// [`finish`](Self::finish); `f` receives the page and the injection points, in order.
#[derive(Debug)]
pub struct Scanner {
    state: State,
    tree: Tree,
    /// Nothing scanned yet (a byte-order mark may come).
    at_start: bool,
    /// Bytes held back from the previous chunk (`carry[..held]`).
    carry: [u8; HOLD],
    held: usize,
    /// The events the caller wants (bits of [`Event::bit`]): once none of them can come any
    /// more, the rest of the page passes through untokenized.
    wanted: u8,
    /// An event fired since the last look at whether any wanted one can still come.
    fired: bool,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner {
            state: State::Data,
            tree: Tree::default(),
            at_start: true,
            carry: [0; HOLD],
            held: 0,
            wanted: 0b1111,
            fired: false,
        }
    }
}

/// The first byte of `s` that is not blank.
fn non_blank(s: &[u8]) -> Option<usize> {
    s.iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'))
}

/// Length of the tag name at the start of `s` (ASCII letters and digits after a letter).
fn name_len(s: &[u8]) -> usize {
    s.iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(s.len())
}

/// The name at the start of `s` when a delimiter (or the end) follows it, and its length.
/// `all`: every name matters (else, in the body, only those of raw text, `template`, `svg`,
/// `math` and `body`: the others are not told apart, which is most of the work on a page).
#[inline]
fn tag_name(s: &[u8], foreign: bool, all: bool) -> (Name, usize) {
    let n = name_len(s);
    let maybe = all
        || matches!(
            s[0] | 0x20,
            b's' | b't' | b'x' | b'i' | b'n' | b'p' | b'm' | b'b'
        );
    let name = if maybe && s.get(n).is_none_or(|&b| is_delim(b)) {
        Name::of(&s[..n], foreign)
    } else {
        Name::Other
    };
    (name, n)
}

impl Scanner {
    pub fn new() -> Self {
        Self::default()
    }

    /// A scanner that reports only `wanted` events and stops tokenizing once none of them can
    /// come any more (a page without `body.last`, say, is not tokenized after the body begins).
    pub fn wanting(wanted: impl IntoIterator<Item = Event>) -> Self {
        Scanner {
            wanted: wanted.into_iter().fold(0, |m, e| m | e.bit()),
            ..Self::default()
        }
    }

    /// No wanted event can come any more.
    fn exhausted(&self) -> bool {
        let t = &self.tree;
        let possible = [
            (Event::HeadStart, t.head_start_possible()),
            (Event::HeadEnd, t.head != Phase::Closed),
            (Event::BodyStart, t.body == Phase::Before),
            (Event::BodyEnd, t.body != Phase::Closed),
        ];
        !possible
            .iter()
            .any(|&(e, p)| p && self.wanted & e.bit() != 0)
    }

    fn fire(&mut self, e: Event, f: &mut impl FnMut(Piece)) {
        self.fired = true;
        if self.wanted & e.bit() != 0 {
            f(Piece::At(e));
        }
    }

    /// Fires the events of `mask`, in order.
    fn fire_all(&mut self, mask: u8, f: &mut impl FnMut(Piece)) {
        for e in Event::ALL {
            if mask & e.bit() != 0 {
                self.fire(e, f);
            }
        }
    }

    /// Pieces of page bytes borrow from `chunk`, except around a held-back `<`: that is joined
    /// with the next few bytes only (`JOIN`), so the rest of the chunk still comes out as
    /// slices of it (which a caller may send without copying). Nothing is allocated.
    pub fn feed(&mut self, mut chunk: &[u8], f: &mut impl FnMut(Piece)) {
        while self.held > 0 && !chunk.is_empty() {
            // bytes held back from the previous chunk: examine them with the next ones
            let take = chunk.len().min(JOIN);
            let mut joined = [0u8; HOLD + JOIN];
            let n = self.held + take;
            joined[..self.held].copy_from_slice(&self.carry[..self.held]);
            joined[self.held..n].copy_from_slice(&chunk[..take]);
            self.held = 0;
            let used = self.scan(&joined[..n], false, f);
            let left = n - used;
            if left <= take {
                // what is held again lies in the chunk: scan it from there
                chunk = &chunk[take - left..];
            } else {
                self.hold(&joined[used..n], f);
                chunk = &chunk[take..];
            }
        }
        if !chunk.is_empty() {
            let used = self.scan(chunk, false, f);
            self.hold(&chunk[used..], f);
        }
    }

    fn hold(&mut self, rest: &[u8], f: &mut impl FnMut(Piece)) {
        debug_assert!(rest.len() <= HOLD, "held {} bytes", rest.len());
        // never more than HOLD by construction; should that ever fail, pass the excess on
        // rather than lose it
        let (out, keep) = rest.split_at(rest.len().saturating_sub(HOLD));
        if !out.is_empty() {
            f(Piece::Bytes(out));
        }
        self.carry[..keep.len()].copy_from_slice(keep);
        self.held = keep.len();
    }

    /// The end of the page: held-back bytes are released, and what has not fired fires here
    /// when the page ends in the data state (`</body>` is optional in HTML, and so is all of
    /// the body: a browser's parser opens it at the end of the input).
    pub fn finish(&mut self, f: &mut impl FnMut(Piece)) {
        let rest = self.carry;
        let n = std::mem::take(&mut self.held);
        let used = self.scan(&rest[..n], true, f);
        debug_assert_eq!(used, n);
        if self.state == State::Data {
            let m = self.tree.eof();
            self.fire_all(m, f);
        }
    }

    /// Scans `d`, emitting what is settled; returns how many bytes were consumed (the rest is
    /// held back: it needs more lookahead, unless `last`).
    #[allow(unused_assignments)] // `emitted` after the last emit_to! before a return
    fn scan(&mut self, d: &[u8], last: bool, f: &mut impl FnMut(Piece)) -> usize {
        let mut i = 0; // scanned up to here
        let mut emitted = 0; // emitted up to here
        macro_rules! emit_to {
            ($pos:expr) => {
                if $pos > emitted {
                    f(Piece::Bytes(&d[emitted..$pos]));
                    emitted = $pos;
                }
            };
        }
        if self.at_start && !d.is_empty() {
            // a byte-order mark is not text
            if d.starts_with(BOM) {
                i = BOM.len();
            } else if BOM.starts_with(d) && !last {
                return 0;
            }
            self.at_start = false;
        }
        while i < d.len() {
            // (not while a start tag whose event fires at its `>` is still open)
            if self.fired && !matches!(self.state, State::Tag { event: Some(_), .. }) {
                self.fired = false;
                if self.exhausted() {
                    self.state = State::PlainText; // nothing left to find: pass the rest on
                }
            }
            match self.state {
                State::Data => {
                    if !self.tree.all_names() {
                        // in the body: skip the tags that change nothing at once
                        i = fast::skip_inert(d, i);
                    }
                    let next = memchr::memchr(b'<', &d[i..]);
                    let p = next.map_or(d.len(), |k| i + k);
                    if self.tree.text_matters() {
                        if let Some(t) = non_blank(&d[i..p]) {
                            // text: the head ends and the body begins before it
                            emit_to!(i + t);
                            let m = self.tree.body_content();
                            self.fire_all(m, f);
                        }
                    }
                    if next.is_none() {
                        break;
                    }
                    let rest = &d[p + 1..];
                    if rest.len() < LOOKAHEAD && !last {
                        emit_to!(p);
                        return p; // hold back from the `<`
                    }
                    i = self.markup(d, p, &mut emitted, f);
                }
                State::Tag {
                    mut st,
                    then,
                    event,
                    push,
                } => match tag::scan(&mut st, d, i) {
                    Some((j, self_closing)) => {
                        i = j;
                        if let Some(e) = event {
                            emit_to!(j);
                            self.fire(e, f);
                        }
                        if let (Some(p), false) = (push, self_closing) {
                            self.tree.push(p);
                        }
                        self.state = match then {
                            After::Data => State::Data,
                            After::Raw(k) => State::Raw(k),
                            After::Script => State::Script(Esc::No),
                            After::PlainText => State::PlainText,
                        };
                    }
                    None => {
                        i = d.len();
                        self.state = State::Tag {
                            st,
                            then,
                            event,
                            push,
                        };
                    }
                },
                State::Comment | State::Cdata => {
                    let step = if self.state == State::Comment {
                        text::comment(d, i, last)
                    } else {
                        text::cdata(d, i, last)
                    };
                    match step {
                        Step::End(j) => {
                            i = j;
                            self.state = State::Data;
                        }
                        Step::More => i = d.len(),
                        Step::Hold(j) => {
                            emit_to!(j);
                            return j;
                        }
                    }
                }
                State::Bogus => match memchr::memchr(b'>', &d[i..]) {
                    Some(k) => {
                        i += k + 1;
                        self.state = State::Data;
                    }
                    None => i = d.len(),
                },
                State::Script(mut esc) => {
                    let step = text::script(&mut esc, d, i, last);
                    self.state = State::Script(esc);
                    match step {
                        Step::End(p) => {
                            self.state = end_tag_rest();
                            i = p + b"</script".len();
                        }
                        Step::More => i = d.len(),
                        Step::Hold(j) => {
                            emit_to!(j);
                            return j;
                        }
                    }
                }
                State::Raw(kind) => match text::raw(kind.name(), d, i, last) {
                    Step::End(p) => {
                        self.state = end_tag_rest();
                        i = p + 2 + kind.name().len();
                    }
                    Step::More => i = d.len(),
                    Step::Hold(j) => {
                        emit_to!(j);
                        return j;
                    }
                },
                State::PlainText => i = d.len(),
            }
        }
        emit_to!(d.len());
        d.len()
    }

    /// The markup at `d[p] == b'<'` in the data state, with its lookahead in `d` (or the end
    /// of the page): updates the state and the model, fires what comes before it, and returns
    /// where scanning goes on.
    fn markup<F: FnMut(Piece)>(
        &mut self,
        d: &[u8],
        p: usize,
        emitted: &mut usize,
        f: &mut F,
    ) -> usize {
        let rest = &d[p + 1..];
        // events that come before the `<`: the bytes up to it go first
        let fire_before = |s: &mut Self, m: u8, emitted: &mut usize, f: &mut F| {
            if m != 0 {
                if p > *emitted {
                    f(Piece::Bytes(&d[*emitted..p]));
                    *emitted = p;
                }
                s.fire_all(m, f);
            }
        };
        match rest.first() {
            Some(b'!') if rest.starts_with(b"!--") => {
                if rest.starts_with(b"!-->") {
                    p + 5
                } else if rest.starts_with(b"!--->") {
                    p + 6
                } else {
                    self.state = State::Comment;
                    p + 4
                }
            }
            Some(b'!') if self.tree.foreign() && rest.starts_with(b"![CDATA[") => {
                self.state = State::Cdata;
                p + 9
            }
            Some(b'!') | Some(b'?') => {
                self.state = State::Bogus;
                p + 2
            }
            Some(b'/') => match rest.get(1) {
                Some(b'>') => p + 3, // `</>` is dropped
                Some(c) if c.is_ascii_alphabetic() => {
                    let (name, n) =
                        tag_name(&rest[1..], self.tree.foreign(), self.tree.all_names());
                    let m = self.tree.end_tag(name);
                    fire_before(self, m, emitted, f);
                    self.state = end_tag_rest();
                    p + 2 + n
                }
                _ => {
                    // `</ …` is a bogus comment
                    self.state = State::Bogus;
                    p + 2
                }
            },
            Some(c) if c.is_ascii_alphabetic() => {
                let (name, n) = tag_name(rest, self.tree.foreign(), self.tree.all_names());
                let plan = self.tree.start_tag(name);
                fire_before(self, plan.before, emitted, f);
                self.state = State::Tag {
                    st: TagSt::Name,
                    then: plan.then,
                    event: plan.at_close,
                    push: plan.push,
                };
                p + 1 + n
            }
            _ => {
                // a lone `<` is text
                if self.tree.text_matters() {
                    let m = self.tree.body_content();
                    fire_before(self, m, emitted, f);
                }
                p + 1
            }
        }
    }
}

/// In the data state of the body outside foreign content (where text does not matter and
/// only the names of raw text, `template`, `svg`, `math`, `plaintext` and `body` do), skips
/// from `d[i..]` over text and over whole start and end tags that change neither the model
/// nor the tokenizer state: returns the first `<` that needs a closer look (anything else, a
/// tag whose name or `>` lies past the end of `d`, or one too close to the end for
/// [`LOOKAHEAD`]), or `d.len()`. What it skips is what [`Scanner::scan`] would have gone
/// through with no effect, so stopping anywhere is safe. Byte by byte: `fast::skip_inert`
/// does the same a window of 64 bytes at a time and leaves the last ones to this.
#[inline]
fn skip_inert_bytewise(d: &[u8], mut i: usize) -> usize {
    loop {
        let p = match d.get(i) {
            Some(b'<') => i, // tags back to back
            Some(_) => match tag::find1(d, i, b'<') {
                Some(p) => p,
                None => break,
            },
            None => break,
        };
        if d.len() - (p + 1) < LOOKAHEAD {
            return p;
        }
        let (close, at) = match d[p + 1] {
            b'/' => (true, p + 2),
            _ => (false, p + 1),
        };
        let c = d[at];
        if !c.is_ascii_alphabetic() {
            return p;
        }
        // the names that matter begin with one of these letters (the others need no look
        // at the name: its bytes keep the tag machine in its name state)
        let n = if close {
            matches!(c | 0x20, b'b' | b't')
        } else {
            matches!(c | 0x20, b's' | b't' | b'x' | b'i' | b'n' | b'p' | b'm')
        };
        let n = if n {
            let (name, n) = tag_name(&d[at..], false, false);
            let inert = if close {
                !matches!(name, Name::Body | Name::Template)
            } else {
                !matches!(name, Name::Template | Name::Svg | Name::Math) && name.is_plain()
            };
            if !inert {
                return p;
            }
            n
        } else {
            0
        };
        match tag::end(d, at + n) {
            Some(j) => i = j,
            None => return p,
        }
    }
    d.len()
}

/// The rest of an end tag (its name already read).
fn end_tag_rest() -> State {
    State::Tag {
        st: TagSt::Name,
        then: After::Data,
        event: None,
        push: None,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod parser_tests;
