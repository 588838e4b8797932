//! The few facts of HTML tree construction that decide placement: the insertion modes up to
//! "in body" (where the head implicitly ends and the body implicitly begins), `<template>`
//! contents (inert: nothing in them counts), and foreign content (`<svg>` / `<math>`, where
//! `<![CDATA[` opens a CDATA section and `<style>` or `<script>` are plain elements), with its
//! HTML integration points (`<foreignObject>`, `<desc>`, `<title>` in SVG, `<mi>` … `<mtext>`
//! in MathML) and the HTML start tags that break out of it. No element stack is kept: a
//! template depth and a small stack of namespace frames, so memory stays bounded.

use super::{After, Event, RawKind};

/// The other start tags that end foreign content (`font` with attributes is left out).
fn breaks_out(n: &[u8]) -> bool {
    let mut b = [0u8; 10];
    if n.len() > b.len() {
        return false;
    }
    for (d, s) in b.iter_mut().zip(n) {
        *d = s.to_ascii_lowercase();
    }
    matches!(
        &b[..n.len()],
        b"b" | b"big"
            | b"blockquote"
            | b"center"
            | b"code"
            | b"dd"
            | b"div"
            | b"dl"
            | b"dt"
            | b"em"
            | b"embed"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"hr"
            | b"i"
            | b"img"
            | b"li"
            | b"listing"
            | b"menu"
            | b"nobr"
            | b"ol"
            | b"pre"
            | b"ruby"
            | b"s"
            | b"small"
            | b"span"
            | b"strong"
            | b"strike"
            | b"sub"
            | b"sup"
            | b"table"
            | b"tt"
            | b"u"
            | b"ul"
            | b"var"
    )
}

/// Tag names that matter to placement or to the tokenizer (anything else is `Other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Name {
    Html,
    Head,
    Body,
    Br,
    P,
    Template,
    Frameset,
    Plaintext,
    Svg,
    Math,
    // in head
    Base,
    Basefont,
    Bgsound,
    Link,
    Meta,
    Title,
    Noscript,
    Noframes,
    Style,
    Script,
    // other raw text / RCDATA
    Textarea,
    Xmp,
    Iframe,
    Noembed,
    // integration points (besides SVG's `title`)
    ForeignObject,
    Desc,
    Mi,
    Mo,
    Mn,
    Ms,
    Mtext,
    /// The other start tags that end foreign content (`div`, `span` …), in foreign content.
    Breakout,
    Other,
}

impl Name {
    /// The name at the start of a tag (already cut at its delimiter), in any letter case;
    /// the names that end foreign content are told apart only in it (`foreign`). Called on
    /// every tag: a match on length and first letter before any comparison.
    pub(super) fn of(n: &[u8], foreign: bool) -> Name {
        let Some(&c) = n.first() else {
            return Name::Other;
        };
        let is = |s: &[u8]| n.eq_ignore_ascii_case(s);
        let name = match (n.len(), c | 0x20) {
            (1, b'p') => Name::P,
            (2, b'b') if is(b"br") => Name::Br,
            (2, b'm') => match n[1] | 0x20 {
                b'i' => Name::Mi,
                b'o' => Name::Mo,
                b'n' => Name::Mn,
                b's' => Name::Ms,
                _ => Name::Other,
            },
            (3, b's') if is(b"svg") => Name::Svg,
            (3, b'x') if is(b"xmp") => Name::Xmp,
            (4, b'h') if is(b"html") => Name::Html,
            (4, b'h') if is(b"head") => Name::Head,
            (4, b'b') if is(b"body") => Name::Body,
            (4, b'b') if is(b"base") => Name::Base,
            (4, b'l') if is(b"link") => Name::Link,
            (4, b'm') if is(b"meta") => Name::Meta,
            (4, b'm') if is(b"math") => Name::Math,
            (4, b'd') if is(b"desc") => Name::Desc,
            (5, b't') if is(b"title") => Name::Title,
            (5, b's') if is(b"style") => Name::Style,
            (5, b'm') if is(b"mtext") => Name::Mtext,
            (6, b's') if is(b"script") => Name::Script,
            (6, b'i') if is(b"iframe") => Name::Iframe,
            (7, b'b') if is(b"bgsound") => Name::Bgsound,
            (7, b'n') if is(b"noembed") => Name::Noembed,
            (8, b't') if is(b"template") => Name::Template,
            (8, b't') if is(b"textarea") => Name::Textarea,
            (8, b'f') if is(b"frameset") => Name::Frameset,
            (8, b'b') if is(b"basefont") => Name::Basefont,
            (8, b'n') if is(b"noscript") => Name::Noscript,
            (8, b'n') if is(b"noframes") => Name::Noframes,
            (9, b'p') if is(b"plaintext") => Name::Plaintext,
            (13, b'f') if is(b"foreignobject") => Name::ForeignObject,
            _ => Name::Other,
        };
        if name == Name::Other && foreign && breaks_out(n) {
            Name::Breakout
        } else {
            name
        }
    }

    /// The tokenizer state after this start tag in HTML content.
    fn raw(self) -> After {
        let k = match self {
            Name::Script => return After::Script,
            Name::Style => RawKind::Style,
            Name::Textarea => RawKind::Textarea,
            Name::Title => RawKind::Title,
            Name::Xmp => RawKind::Xmp,
            Name::Iframe => RawKind::Iframe,
            Name::Noembed => RawKind::Noembed,
            Name::Noframes => RawKind::Noframes,
            // scripting is enabled in a browser
            Name::Noscript => RawKind::Noscript,
            Name::Plaintext => return After::PlainText,
            _ => return After::Data,
        };
        After::Raw(k)
    }

    /// Neither raw text nor `plaintext` follows this start tag in HTML content.
    pub(super) fn is_plain(self) -> bool {
        self.raw() == After::Data
    }

    /// A start tag that pops foreign content (`font` with attributes is left out).
    fn breaks_out(self) -> bool {
        matches!(
            self,
            Name::Breakout | Name::Body | Name::Br | Name::Head | Name::Meta | Name::P
        )
    }

    /// Start tags that stay in the head ("in head"; `noscript` only before the head ends).
    fn in_head(self, head_open: bool) -> bool {
        matches!(
            self,
            Name::Base
                | Name::Basefont
                | Name::Bgsound
                | Name::Link
                | Name::Meta
                | Name::Title
                | Name::Noframes
                | Name::Style
                | Name::Script
                | Name::Template
        ) || (head_open && self == Name::Noscript)
    }

    fn integration_point(self, svg: bool) -> bool {
        if svg {
            matches!(self, Name::ForeignObject | Name::Desc | Name::Title)
        } else {
            matches!(
                self,
                Name::Mi | Name::Mo | Name::Mn | Name::Ms | Name::Mtext
            )
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    #[default]
    Before,
    Open,
    Closed,
}

/// What a start tag's `>` does to the namespace frames (unless the tag is self-closing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Push {
    /// `<svg>` (true) or `<math>` in HTML content: foreign content begins.
    Foreign(bool),
    /// `<svg>` or `<math>` inside foreign content.
    Nest,
    /// An HTML integration point: HTML content until its end tag.
    Island(Name),
}

/// What the scanner does about a start tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Plan {
    /// Events to fire before its `<` (bits of [`Event::bit`], in [`Event::ALL`] order).
    pub before: u8,
    /// The event at its `>`.
    pub at_close: Option<Event>,
    pub then: After,
    pub push: Option<Push>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    /// `None`: foreign content; `Some(name)`: an integration point.
    island: Option<Name>,
    /// SVG (else MathML) content.
    svg: bool,
    /// `<svg>` / `<math>` nested in this foreign content (1 for the outermost).
    depth: u16,
    /// The template depth it was opened at (a `</template>` pops it).
    tpl: u16,
}

const FRAMES: usize = 8;

/// The placement model of one page.
#[derive(Debug, Clone)]
pub(super) struct Tree {
    pub head: Phase,
    /// `<head>` was a tag (else the head is implied, and `HeadStart` fires with `HeadEnd`).
    head_tag: bool,
    pub body: Phase,
    /// Open `<template>` elements: their contents are inert.
    template: u16,
    frames: [Frame; FRAMES],
    nframes: usize,
    /// Frames past [`FRAMES`], counted only.
    lost: u16,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            head: Phase::Before,
            head_tag: false,
            body: Phase::Before,
            template: 0,
            frames: [Frame {
                island: None,
                svg: true,
                depth: 0,
                tpl: 0,
            }; FRAMES],
            nframes: 0,
            lost: 0,
        }
    }
}

impl Tree {
    /// In foreign content (CDATA sections, no raw text, self-closing tags honoured).
    pub(super) fn foreign(&self) -> bool {
        self.nframes > 0 && self.frames[self.nframes - 1].island.is_none()
    }

    /// Every tag name matters: before the body, and in foreign content or an integration
    /// point (whose end tags are told apart).
    pub(super) fn all_names(&self) -> bool {
        self.body == Phase::Before || self.nframes > 0 || self.lost > 0
    }

    /// Non-blank text would end the head / begin the body.
    pub(super) fn text_matters(&self) -> bool {
        self.body == Phase::Before && self.template == 0
    }

    /// `HeadStart` can still fire.
    pub(super) fn head_start_possible(&self) -> bool {
        self.head == Phase::Before || (self.head == Phase::Open && !self.head_tag)
    }

    fn close_head(&mut self) -> u8 {
        let m = match self.head {
            Phase::Closed => 0,
            Phase::Open if self.head_tag => Event::HeadEnd.bit(),
            _ => Event::HeadStart.bit() | Event::HeadEnd.bit(),
        };
        self.head = Phase::Closed;
        m
    }

    /// Something that belongs in the body: the head ends and the body begins before it.
    pub(super) fn body_content(&mut self) -> u8 {
        let m = self.close_head() | Event::BodyStart.bit();
        self.body = Phase::Open;
        m
    }

    pub(super) fn start_tag(&mut self, name: Name) -> Plan {
        let mut plan = Plan {
            before: 0,
            at_close: None,
            then: After::Data,
            push: None,
        };
        if self.foreign() {
            let svg = self.frames[self.nframes - 1].svg;
            match name {
                n if n.breaks_out() => self.pop(), // and on as HTML
                Name::Svg | Name::Math => {
                    plan.push = Some(Push::Nest);
                    return plan;
                }
                n if n.integration_point(svg) => {
                    plan.push = Some(Push::Island(n));
                    return plan;
                }
                _ => return plan,
            }
        }
        if self.text_matters() {
            match name {
                Name::Html => {}
                Name::Head if self.head == Phase::Before => {
                    self.head = Phase::Open;
                    self.head_tag = true;
                    plan.at_close = Some(Event::HeadStart);
                }
                Name::Head => {} // ignored
                Name::Body => {
                    plan.before = self.close_head();
                    self.body = Phase::Open;
                    plan.at_close = Some(Event::BodyStart);
                }
                Name::Frameset => {
                    // no body at all
                    plan.before = self.close_head();
                    self.body = Phase::Closed;
                }
                n if n.in_head(self.head != Phase::Closed) => {
                    if self.head == Phase::Before {
                        self.head = Phase::Open; // implied
                    }
                }
                _ => plan.before = self.body_content(),
            }
        }
        match name {
            Name::Template => self.template = self.template.saturating_add(1),
            Name::Svg => plan.push = Some(Push::Foreign(true)),
            Name::Math => plan.push = Some(Push::Foreign(false)),
            n => plan.then = n.raw(),
        }
        plan
    }

    /// A start tag's `>`, not self-closing.
    pub(super) fn push(&mut self, p: Push) {
        let f = match p {
            Push::Nest => {
                if self.lost == 0 && self.nframes > 0 {
                    let top = &mut self.frames[self.nframes - 1];
                    top.depth = top.depth.saturating_add(1);
                }
                return;
            }
            Push::Foreign(svg) => Frame {
                island: None,
                svg,
                depth: 1,
                tpl: self.template,
            },
            Push::Island(n) => Frame {
                island: Some(n),
                svg: true,
                depth: 1,
                tpl: self.template,
            },
        };
        if self.nframes < FRAMES && self.lost == 0 {
            self.frames[self.nframes] = f;
            self.nframes += 1;
        } else {
            self.lost = self.lost.saturating_add(1);
        }
    }

    fn pop(&mut self) {
        if self.lost > 0 {
            self.lost -= 1;
        } else if self.nframes > 0 {
            self.nframes -= 1;
        }
    }

    fn island_open(&self) -> bool {
        self.frames[..self.nframes]
            .iter()
            .any(|f| f.island.is_some())
    }

    /// An end tag: the events to fire before its `<`.
    pub(super) fn end_tag(&mut self, name: Name) -> u8 {
        if self.foreign() {
            match name {
                Name::Svg | Name::Math => {
                    if self.lost == 0 {
                        let top = &mut self.frames[self.nframes - 1];
                        top.depth -= 1;
                        if top.depth > 0 {
                            return 0;
                        }
                    }
                    self.pop();
                    return 0;
                }
                Name::P | Name::Br => self.pop(), // and on as HTML
                Name::Body | Name::Template => {} // reach the HTML element below
                n => {
                    // the end of an integration point further down pops everything above it
                    if let Some(k) = self.frames[..self.nframes]
                        .iter()
                        .rposition(|f| f.island == Some(n))
                    {
                        self.nframes = k;
                        self.lost = 0;
                    }
                    return 0;
                }
            }
        }
        match name {
            Name::Template => {
                if self.template > 0 {
                    while self.nframes > 0 && self.frames[self.nframes - 1].tpl == self.template {
                        self.nframes -= 1;
                    }
                    self.lost = 0;
                    self.template -= 1;
                }
                return 0;
            }
            _ if self.template > 0 => return 0,
            n if self.nframes > 0 && self.frames[self.nframes - 1].island == Some(n) => {
                self.pop();
                return 0;
            }
            _ => {}
        }
        match (self.body, name) {
            (Phase::Before, Name::Head) => self.close_head(),
            (Phase::Before, Name::Body) => self.body_content() | self.close_body(),
            (Phase::Before, Name::Html | Name::Br) => self.body_content(),
            // an integration point is a scope boundary: `</body>` is ignored inside one
            (Phase::Open, Name::Body) if !self.island_open() => self.close_body(),
            _ => 0,
        }
    }

    fn close_body(&mut self) -> u8 {
        self.body = Phase::Closed;
        Event::BodyEnd.bit()
    }

    /// The end of the page, in the data state: what has not been placed yet goes here, as a
    /// browser's parser closes the head and opens the body at the end of the input.
    pub(super) fn eof(&mut self) -> u8 {
        if self.template > 0 {
            return 0;
        }
        let mut m = 0;
        if self.body == Phase::Before {
            m |= self.body_content();
        }
        if self.body == Phase::Open {
            m |= self.close_body();
        }
        m
    }
}
