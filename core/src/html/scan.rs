//! A streaming HTML tokenizer for exactly what entry-page injection needs: where the first
//! `<head …>` and `<body …>` start tags end, and where their end tags begin.
//!
//! It follows the HTML tokenizer for the constructs that decide whether a `<` starts a tag:
//! tags with quoted attribute values (a `>` inside quotes does not end a tag), comments
//! (`<!-- … -->`, also `<!-->`), bogus comments / doctypes (`<! … >`, `<? … >`), and the
//! raw-text / RCDATA elements whose content is not markup (`script`, `style`, `textarea`,
//! `title`, `xmp`, `iframe`, `noembed`, `noframes`, `noscript`, and `plaintext`, which never
//! ends). Everything else is skipped with `memchr` from one `<` to the next, so a page costs
//! little more than a copy. lol_html, a full tokenizer, is the oracle of the differential tests.
//!
//! Chunks may split anywhere: a `<` too close to the end of a chunk to classify is held back
//! (at most [`LOOKAHEAD`] bytes) and examined with the next chunk.

/// Bytes after a `<` needed to classify it: `</noframes` plus one delimiter.
const LOOKAHEAD: usize = 12;

/// Bytes of a new chunk joined to held-back ones (more than [`LOOKAHEAD`], so that a held `<`
/// is settled in one step).
const JOIN: usize = 64;

/// Most bytes ever held back: a `<` and fewer than [`LOOKAHEAD`] after it (`</` and less than a
/// raw-text element name and a delimiter, or the last two bytes of a comment, are shorter).
const HOLD: usize = LOOKAHEAD;

use std::sync::LazyLock;

use memchr::memmem::Finder;

/// Searchers built once (building one per call cost 4 % of an entry request).
static COMMENT_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"-->"));

/// The first `</` in `s`: `<` is rare in script and style text, so a `memchr` for it beats a
/// two-byte `memmem` there.
fn end_tag_open(s: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = memchr::memchr(b'<', &s[from..]) {
        let p = from + k;
        match s.get(p + 1) {
            Some(b'/') => return Some(p),
            Some(_) => from = p + 1,
            None => return None,
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    /// Inside a tag, looking for its `>`; `quote` is the open quote (0: none), `last` the last
    /// non-blank byte seen (a quote opens a value only after `=`); `then` is the state after
    /// the tag (raw text for `<script>` …).
    Tag {
        quote: u8,
        last: u8,
        then: After,
        event: Option<Event>,
    },
    /// Inside `<!-- … -->`.
    Comment,
    /// Inside `<! … >` or `<? … >`.
    Bogus,
    /// Inside a raw-text element, until `</name`.
    Raw(RawKind),
    /// `<plaintext>`: the rest of the page is text.
    PlainText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    Data,
    Raw(RawKind),
    PlainText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawKind {
    Script,
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
            RawKind::Script => b"script",
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

    fn from_name(n: &[u8]) -> Option<RawKind> {
        const ALL: [RawKind; 9] = [
            RawKind::Script,
            RawKind::Style,
            RawKind::Textarea,
            RawKind::Title,
            RawKind::Xmp,
            RawKind::Iframe,
            RawKind::Noembed,
            RawKind::Noframes,
            RawKind::Noscript,
        ];
        ALL.into_iter().find(|k| n.eq_ignore_ascii_case(k.name()))
    }
}

/// What the scanner hands on: page bytes, in order, and the injection points between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Bytes(&'a [u8]),
    At(Event),
}

/// A place in the page where something may be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Right after the `>` of the first `<head …>`.
    HeadStart,
    /// Right before the `</head` of that head (or before `<body` when `</head>` is omitted).
    HeadEnd,
    /// Right after the `>` of the first `<body …>`.
    BodyStart,
    /// Right before the first `</body` after it.
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

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    #[default]
    Before,
    Open,
    Closed,
}

/// The scanner. Feed chunks with [`feed`](Self::feed) and finish with
/// [`finish`](Self::finish); `f` receives the page and the injection points, in order.
#[derive(Debug)]
pub struct Scanner {
    state: State,
    head: Phase,
    body: Phase,
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
            head: Phase::Before,
            body: Phase::Before,
            carry: [0; HOLD],
            held: 0,
            wanted: 0b1111,
            fired: false,
        }
    }
}

fn is_delim(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>')
}

fn last_non_blank(s: &[u8]) -> Option<u8> {
    s.iter()
        .rev()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'))
}

/// Length of the tag name at the start of `s` (ASCII letters and digits after a letter).
fn name_len(s: &[u8]) -> usize {
    s.iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(s.len())
}

impl Scanner {
    pub fn new() -> Self {
        Self::default()
    }

    /// A scanner that reports only `wanted` events and stops tokenizing once none of them can
    /// come any more (a page without `body.last`, say, is not tokenized after `<body>`).
    pub fn wanting(wanted: impl IntoIterator<Item = Event>) -> Self {
        Scanner {
            wanted: wanted.into_iter().fold(0, |m, e| m | e.bit()),
            ..Self::default()
        }
    }

    /// No wanted event can come any more.
    fn exhausted(&self) -> bool {
        let head_before = self.head == Phase::Before && self.body == Phase::Before;
        let possible = [
            (Event::HeadStart, head_before),
            (Event::HeadEnd, head_before || self.head == Phase::Open),
            (Event::BodyStart, self.body == Phase::Before),
            (Event::BodyEnd, self.body != Phase::Closed),
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

    /// Pieces of page bytes borrow from `chunk`, except around a held-back `<`: that is joined
    /// with the next few bytes only ([`JOIN`]), so the rest of the chunk still comes out as
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

    /// The end of the page: held-back bytes are released, and `BodyEnd` fires at the very end
    /// when the body was opened but never closed (`</body>` is optional in HTML).
    pub fn finish(&mut self, f: &mut impl FnMut(Piece)) {
        let rest = self.carry;
        let n = std::mem::take(&mut self.held);
        let used = self.scan(&rest[..n], true, f);
        debug_assert_eq!(used, n);
        if self.body == Phase::Open {
            self.body = Phase::Closed;
            self.fire(Event::BodyEnd, f);
        }
    }

    /// Scans `d`, emitting what is settled; returns how many bytes were consumed (the rest is a
    /// `<` that needs more lookahead, unless `last`).
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
                    let Some(k) = memchr::memchr(b'<', &d[i..]) else {
                        break;
                    };
                    let p = i + k;
                    let rest = &d[p + 1..];
                    if rest.len() < LOOKAHEAD && !last {
                        emit_to!(p);
                        return p; // hold back from the `<`
                    }
                    match rest.first() {
                        Some(b'!') if rest.starts_with(b"!--") => {
                            self.state = State::Comment;
                            i = p + 2; // from the first dash: `<!-->` and `<!--->` close at once
                        }
                        Some(b'!') | Some(b'?') => {
                            self.state = State::Bogus;
                            i = p + 2;
                        }
                        Some(b'/') => {
                            let n = name_len(&rest[1..]);
                            if n == 0 || !rest[1].is_ascii_alphabetic() {
                                // `</>` is dropped, `</ …` a bogus comment: no tag either way
                                self.state = State::Bogus;
                                i = p + 2;
                                continue;
                            }
                            let name = &rest[1..1 + n];
                            let delim = rest.get(1 + n).is_none_or(|&b| is_delim(b));
                            if delim
                                && self.head == Phase::Open
                                && name.eq_ignore_ascii_case(b"head")
                            {
                                emit_to!(p);
                                self.head = Phase::Closed;
                                self.fire(Event::HeadEnd, f);
                            } else if delim
                                && self.body == Phase::Open
                                && name.eq_ignore_ascii_case(b"body")
                            {
                                emit_to!(p);
                                self.body = Phase::Closed;
                                self.fire(Event::BodyEnd, f);
                            }
                            self.state = State::Tag {
                                quote: 0,
                                last: 0,
                                then: After::Data,
                                event: None,
                            };
                            i = p + 2 + n;
                        }
                        Some(c) if c.is_ascii_alphabetic() => {
                            let n = name_len(rest);
                            let name = &rest[..n];
                            let delim = rest.get(n).is_none_or(|&b| is_delim(b));
                            let mut event = None;
                            let mut then = After::Data;
                            if delim
                                && self.head == Phase::Before
                                && self.body == Phase::Before
                                && name.eq_ignore_ascii_case(b"head")
                            {
                                self.head = Phase::Open;
                                event = Some(Event::HeadStart);
                            } else if delim
                                && self.body == Phase::Before
                                && name.eq_ignore_ascii_case(b"body")
                            {
                                if self.head == Phase::Open {
                                    // `</head>` omitted: the head ends where the body begins
                                    emit_to!(p);
                                    self.head = Phase::Closed;
                                    self.fire(Event::HeadEnd, f);
                                }
                                self.body = Phase::Open;
                                event = Some(Event::BodyStart);
                            } else if delim
                                && matches!(c | 0x20, b's' | b't' | b'x' | b'i' | b'n' | b'p')
                            {
                                if let Some(k) = RawKind::from_name(name) {
                                    then = After::Raw(k);
                                } else if name.eq_ignore_ascii_case(b"plaintext") {
                                    then = After::PlainText;
                                }
                            }
                            self.state = State::Tag {
                                quote: 0,
                                last: 0,
                                then,
                                event,
                            };
                            i = p + 1 + n;
                        }
                        _ => i = p + 1, // a lone `<` is text
                    }
                }
                State::Tag {
                    mut quote,
                    mut last,
                    then,
                    event,
                } => {
                    let mut j = i;
                    let mut closed = false;
                    while j < d.len() {
                        if quote != 0 {
                            match memchr::memchr(quote, &d[j..]) {
                                Some(k) => {
                                    j += k + 1;
                                    quote = 0;
                                    last = b'"';
                                    continue;
                                }
                                None => {
                                    j = d.len();
                                    break;
                                }
                            }
                        }
                        let Some(k) = memchr::memchr3(b'>', b'"', b'\'', &d[j..]) else {
                            last = last_non_blank(&d[j..]).unwrap_or(last);
                            j = d.len();
                            break;
                        };
                        let q = j + k;
                        let before = last_non_blank(&d[j..q]).unwrap_or(last);
                        j = q + 1;
                        if d[q] == b'>' {
                            closed = true;
                            break;
                        }
                        if before == b'=' {
                            quote = d[q];
                        } else {
                            last = d[q];
                        }
                    }
                    i = j;
                    if closed {
                        if let Some(e) = event {
                            emit_to!(j);
                            self.fire(e, f);
                        }
                        self.state = match then {
                            After::Data => State::Data,
                            After::Raw(k) => State::Raw(k),
                            After::PlainText => State::PlainText,
                        };
                    } else {
                        self.state = State::Tag {
                            quote,
                            last,
                            then,
                            event,
                        };
                    }
                }
                State::Comment => match COMMENT_END.find(&d[i..]) {
                    Some(k) => {
                        i += k + 3;
                        self.state = State::Data;
                    }
                    None if last => i = d.len(),
                    None => {
                        // hold the last two bytes: `--` may continue into `>` next chunk
                        let upto = d.len().saturating_sub(2).max(i);
                        emit_to!(upto);
                        return upto;
                    }
                },
                State::Bogus => match memchr::memchr(b'>', &d[i..]) {
                    Some(k) => {
                        i += k + 1;
                        self.state = State::Data;
                    }
                    None => i = d.len(),
                },
                State::Raw(kind) => {
                    let name = kind.name();
                    let mut found = None;
                    let mut from = i;
                    while let Some(k) = end_tag_open(&d[from..]) {
                        let p = from + k;
                        let rest = &d[p + 2..];
                        if rest.len() < name.len() + 1 && !last {
                            emit_to!(p);
                            return p;
                        }
                        if rest.len() >= name.len()
                            && rest[..name.len()].eq_ignore_ascii_case(name)
                            && rest.get(name.len()).is_none_or(|&b| is_delim(b))
                        {
                            found = Some(p);
                            break;
                        }
                        from = p + 2;
                    }
                    match found {
                        Some(p) => {
                            self.state = State::Tag {
                                quote: 0,
                                last: 0,
                                then: After::Data,
                                event: None,
                            };
                            i = p + 2 + name.len();
                        }
                        None => {
                            // a `<` in the last byte may start `</` next chunk
                            if !last && d.last() == Some(&b'<') {
                                let p = d.len() - 1;
                                emit_to!(p);
                                return p;
                            }
                            i = d.len();
                        }
                    }
                }
                State::PlainText => i = d.len(),
            }
        }
        emit_to!(d.len());
        d.len()
    }
}

#[cfg(test)]
mod tests;
