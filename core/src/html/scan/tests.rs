//! Differential tests: the scanner against lol_html, a complete HTML tokenizer.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{ContentType, Element};
use lol_html::{element, end, end_tag, HtmlRewriter, Settings};

use super::*;

const HS: &str = "[HS]";
const HE: &str = "[HE]";
const BS: &str = "[BS]";
const BE: &str = "[BE]";

/// lol_html placing the four markers: the reference.
fn oracle(page: &str) -> String {
    let out = Rc::new(RefCell::new(Vec::new()));
    let o = out.clone();
    let seen = Rc::new(RefCell::new((false, false)));
    let (s1, s2, s3) = (seen.clone(), seen.clone(), seen.clone());
    let closed = Rc::new(RefCell::new(false));
    let (c1, c2) = (closed.clone(), closed.clone());
    let mut rw = HtmlRewriter::new(
        Settings::new()
            .with_strict(false)
            .append_element_content_handler(element!("head", move |el: &mut Element| {
                if std::mem::replace(&mut s1.borrow_mut().0, true) {
                    return Ok(());
                }
                el.prepend(HS, ContentType::Html);
                el.on_end_tag(end_tag!(|end| {
                    end.before(HE, ContentType::Html);
                    Ok(())
                }))?;
                Ok(())
            }))
            .append_element_content_handler(element!("body", move |el: &mut Element| {
                if std::mem::replace(&mut s2.borrow_mut().1, true) {
                    return Ok(());
                }
                el.prepend(BS, ContentType::Html);
                let c = c1.clone();
                el.on_end_tag(end_tag!(move |end| {
                    *c.borrow_mut() = true;
                    end.before(BE, ContentType::Html);
                    Ok(())
                }))?;
                Ok(())
            }))
            // as in production: no </body> (optional in HTML), the body end is the page end
            .append_document_content_handler(end!(move |end| {
                if s3.borrow().1 && !*c2.borrow() {
                    end.append(BE, ContentType::Html);
                }
                Ok(())
            })),
        move |c: &[u8]| o.borrow_mut().extend_from_slice(c),
    );
    rw.write(page.as_bytes()).unwrap();
    rw.end().unwrap();
    let v = out.borrow().clone();
    String::from_utf8(v).unwrap()
}

pub(super) fn scanned(page: &str, chunk: usize) -> String {
    scanned_with(Scanner::new(), page, chunk)
}

fn scanned_with(mut s: Scanner, page: &str, chunk: usize) -> String {
    let mut out = Vec::new();
    let mut f = |p: Piece| match p {
        Piece::Bytes(b) => out.extend_from_slice(b),
        Piece::At(Event::HeadStart) => out.extend_from_slice(HS.as_bytes()),
        Piece::At(Event::HeadEnd) => out.extend_from_slice(HE.as_bytes()),
        Piece::At(Event::BodyStart) => out.extend_from_slice(BS.as_bytes()),
        Piece::At(Event::BodyEnd) => out.extend_from_slice(BE.as_bytes()),
    };
    for c in page.as_bytes().chunks(chunk.max(1)) {
        s.feed(c, &mut f);
    }
    s.finish(&mut f);
    String::from_utf8(out).unwrap()
}

/// A tiny deterministic generator (xorshift).
pub(super) struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
}

const HEAD_BITS: &[&str] = &[
    "<title>a </head> b</title>",
    "<meta charset=utf-8>",
    "<link rel=x href=\"a>b\">",
    "<script>var a = \"</head>\"; if (a<b) {}</script>",
    "<style>p>a{}</style>",
    "<!-- </head> -->",
    "<noscript><p>x</p></noscript>",
    "<script src='x'></script>",
    "<script><!-- document.write(\"<script>x()</script>\"); var s=\"</head>\" --></script>",
    "<!-- x --!>",
    "<meta name=a content=a=\">",
    " ",
    "\n",
    "<script type=\"application/json\">{\"a\": \"</body>\"}</script>",
    "<base href=/>",
];
const BODY_BITS: &[&str] = &[
    "<div class=\"a\">",
    "</div>",
    "<p>",
    "</p>",
    "text with < and > signs",
    "<!-- </body> -->",
    "<script>document.write('</body>')</script>",
    "<SCRIPT>var x = '</BODY>';</SCRIPT>",
    "<textarea></body></textarea>",
    "<title>x</title>",
    "<a href='x' title=\"</body>\">l</a>",
    "<img src=x alt=a>b>",
    "<input value=>",
    "<br/>",
    "<!---->",
    "<!-->",
    "<?pi?>",
    "<!x>",
    "</bodyx>",
    "<bodyx>",
    "<div data-x='>'>",
    "<xmp></body></xmp>",
    "<iframe></body></iframe>",
    "<style>.a::after{content:'</body>'}</style>",
    "<div a=b\"c>",
    "&lt;body&gt;",
    "<",
    "</ p>",
    // tokenizer cases where a simpler scanner differs from a browser (SPEC §6, last bullet)
    "<svg><![CDATA[ </body> ]]></svg>",
    "<svg><![CDATA[ a > b </body> ]]></svg>",
    "<svg><style/></svg><p>",
    "<svg><style></body></style></svg>",
    "<math><mi><style></body></style></mi></math>",
    "<svg><foreignObject><style></body></style></foreignObject></svg>",
    "<![CDATA[ </body> ]]>",
    "<!-- </body> --!>",
    "<!--!> </body> -->",
    "<script><!-- document.write(\"<script>x()</script>\"); var s=\"</body>\" --></script>",
    "<script><!--<script>--></body></script>",
    "<script><!--</script>",
    "<a title=a=\">x</a>",
    "<a =\"x>\" b=c>y</a>",
    "<div=\"x>",
];

fn document(r: &mut Rng) -> String {
    let mut d = String::new();
    if r.next().is_multiple_of(2) {
        d.push_str("<!DOCTYPE html>");
    }
    d.push_str(r.pick(&["<html>", "<HTML lang=en>", ""]));
    d.push_str(r.pick(&["<head>", "<HEAD data-x=\"a>b\">", "<head\n>"]));
    for _ in 0..r.next() % 6 {
        d.push_str(r.pick(HEAD_BITS));
    }
    d.push_str(r.pick(&["</head>", "</HEAD >", "</head\n>"]));
    d.push_str(r.pick(&[
        "<body>",
        "<BODY class='x' onload=\"f('>')\">",
        "<body\tid=a>",
        "<body/>",
    ]));
    for _ in 0..r.next() % 12 {
        d.push_str(r.pick(BODY_BITS));
    }
    d.push_str(r.pick(&["</body>", "</BODY>", "</body >"]));
    d.push_str(r.pick(&["</html>", "", "\n"]));
    d
}

#[test]
fn agrees_with_lol_html_on_generated_documents() {
    let mut r = Rng(0x9e3779b97f4a7c15);
    for n in 0..3000 {
        let d = document(&mut r);
        let want = oracle(&d);
        for chunk in [usize::MAX, 1, 2, 3, 7, 13, 64, 77, 150] {
            assert_eq!(
                scanned(&d, chunk),
                want,
                "document {n}, chunks of {chunk}:\n{d}"
            );
        }
    }
}

/// A scanner that wants fewer events stops tokenizing early: same page bytes, the same wanted
/// events at the same places, the others left out.
#[test]
fn unwanted_events_are_left_out_and_nothing_else_changes() {
    let mut r = Rng(0x2545f4914f6cdd1d);
    let marks = [
        (Event::HeadStart, HS),
        (Event::HeadEnd, HE),
        (Event::BodyStart, BS),
        (Event::BodyEnd, BE),
    ];
    for n in 0..1500 {
        let d = document(&mut r);
        let all = scanned(&d, usize::MAX);
        for mask in 1..15u8 {
            let wanted = marks
                .iter()
                .enumerate()
                .filter(|(k, _)| mask & (1 << k) != 0);
            let mut want = all.clone();
            for (k, (_, m)) in marks.iter().enumerate() {
                if mask & (1 << k) == 0 {
                    want = want.replace(m, "");
                }
            }
            for chunk in [usize::MAX, 1, 5, 64] {
                let s = Scanner::wanting(wanted.clone().map(|(_, (e, _))| *e));
                assert_eq!(
                    scanned_with(s, &d, chunk),
                    want,
                    "document {n}, mask {mask:04b}, chunks of {chunk}:\n{d}"
                );
            }
        }
    }
}

#[test]
fn stops_tokenizing_once_no_wanted_event_can_come() {
    let page = b"<html><head><title>x</title></head><body><div>some text after the tags</div>";
    let mut s = Scanner::wanting([Event::HeadStart, Event::BodyStart]);
    s.feed(page, &mut |_| {});
    assert_eq!(s.state, State::PlainText, "after <body>, with no body.last");
    let mut s = Scanner::wanting([Event::HeadEnd]);
    s.feed(
        b"<html><head><title>x</title></head><p>some text after the tags",
        &mut |_| {},
    );
    assert_eq!(
        s.state,
        State::PlainText,
        "after </head>, with only head.last"
    );
    let mut s = Scanner::new();
    s.feed(page, &mut |_| {});
    assert_ne!(
        s.state,
        State::PlainText,
        "all events wanted: </body> may still come"
    );
    // found by the fuzzer: `</head>` omitted, so the head's end fires inside the `<body` tag,
    // whose own event must still come at its `>`
    let s = Scanner::wanting([Event::HeadEnd, Event::BodyStart]);
    assert_eq!(
        scanned_with(s, "<head><title>t</title><body a=\">\">x", usize::MAX),
        "<head><title>t</title>[HE]<body a=\">\">[BS]x"
    );
}

#[test]
fn known_documents() {
    for d in [
        "<html><head></head><body></body></html>",
        "<head><script>if (a <b) x = '</head>'</script></head><body>t</body>",
        "<head><title><body></title></head><body><p>x</p></body>",
        "<head></head><body><!-- <!-- --> </body>",
        "<head></head><body><!--> </body>",
    ] {
        assert_eq!(scanned(d, usize::MAX), oracle(d), "{d}");
    }
    // where the scanner does better than a tag-by-tag rewriter: an omitted </head>
    assert_eq!(
        scanned("<head><title>t</title><body>x", 3),
        "<head>[HS]<title>t</title>[HE]<body>[BS]x[BE]"
    );
    // lol_html appends at the end of the page inside an unclosed `<plaintext>` (or script,
    // comment …), where a browser would read the snippet as text: nothing goes there
    assert_eq!(
        scanned("<head></head><body><plaintext></body>", 1),
        "<head>[HS][HE]</head><body>[BS]<plaintext></body>"
    );
    assert_eq!(
        scanned("<head></head><body><script>x", 1),
        "<head>[HS][HE]</head><body>[BS]<script>x"
    );
}

#[test]
fn pieces_borrow_from_the_chunk_after_held_bytes() {
    // the first chunk ends in a `<` that cannot be classified yet; the second is long
    let first = b"<html><head><title>t</title></head><body><p>x</p><";
    let second = [
        b"div class=a>".as_slice(),
        &b"y".repeat(4000),
        b"</div></body>",
    ]
    .concat();
    let mut s = Scanner::new();
    let mut copied = 0;
    let mut out = Vec::new();
    s.feed(first, &mut |p| {
        if let Piece::Bytes(b) = p {
            out.extend_from_slice(b)
        }
    });
    let range = second.as_ptr_range();
    s.feed(&second, &mut |p| {
        if let Piece::Bytes(b) = p {
            if !range.contains(&b.as_ptr()) {
                copied += b.len();
            }
            out.extend_from_slice(b)
        }
    });
    s.finish(&mut |p| {
        if let Piece::Bytes(b) = p {
            out.extend_from_slice(b)
        }
    });
    assert_eq!(out, [first.as_slice(), &second].concat());
    // only the held `<` and the bytes joined to it are copies, not the 4 KB after them
    assert!(copied <= HOLD + JOIN, "{copied} bytes copied");
}

/// The fast path over inert body tags: a dense body split in two at every position, and in
/// chunks of every small size, against lol_html.
#[test]
fn dense_body_split_anywhere() {
    let body = concat!(
        "<div class=\"card\"><h3>T 1</h3><p>text</p><a href=\"/i/1\">m</a></div>",
        "<DIV CLASS='a>b'><A TITLE=\"</body>\" data-x='\"'>x</A></DIV>",
        "<img src=x alt=a=\">\"><br/><span a b=c d = \"e>\" f='>' g=h/>s</span>",
        "<a =\"x>\" b=c>y</a><div=\"x>\"><p x=\"'\">q</P>",
        "<script>var s = '</body>';</script><!-- </body> --><style>a>b{}</style>",
        "<textarea></body></textarea><Title></BODY></Title><div>",
        "<svg><a href=\"</body>\"/></svg><em>e</em>",
        "</dIv ></h3 x=\">\"></spanx><bodyx></body >"
    );
    let page = format!("<html><head><title>t</title></head><body>{body}</html>");
    let want = oracle(&page);
    for chunk in 1..40 {
        assert_eq!(scanned(&page, chunk), want, "chunks of {chunk}");
    }
    // inside `<template>` the scanner ignores `</body>`, where lol_html does not: against
    // the scanner fed byte by byte (which never takes the fast path: too little lookahead)
    let tpl = format!("<body><p>a</p><template><b></body></b></template>{body}");
    let one = scanned(&tpl, 1);
    assert!(one.contains("</template>"), "{one}");
    for chunk in [usize::MAX, 16, 17, 33, 100] {
        assert_eq!(scanned(&tpl, chunk), one, "template, chunks of {chunk}");
    }
    for at in 0..page.len() {
        let mut out = Vec::new();
        let mut s = Scanner::new();
        let mut f = |p: Piece| match p {
            Piece::Bytes(b) => out.extend_from_slice(b),
            Piece::At(e) => out.extend_from_slice(
                [HS, HE, BS, BE][Event::ALL.iter().position(|&x| x == e).unwrap()].as_bytes(),
            ),
        };
        s.feed(&page.as_bytes()[..at], &mut f);
        s.feed(&page.as_bytes()[at..], &mut f);
        s.finish(&mut f);
        assert_eq!(String::from_utf8(out).unwrap(), want, "split at {at}");
    }
}
