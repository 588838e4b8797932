//! Placement against a browser's parser: html5ever (a complete HTML tree builder) parses the
//! scanner's output with a marker element at each event, and the markers must sit where the
//! head ends and the body begins and ends in the tree it builds. This is the oracle where
//! lol_html, a tokenizer without a tree builder, cannot be one: omitted `<head>` / `<body>`
//! tags, text in the head, `<template>` contents.

use html5ever::tendril::TendrilSink;
use markup5ever_rcdom::{Handle, NodeData, RcDom};

use super::tests::{scanned, Rng};

const MARKS: [(&str, &str); 4] = [
    ("[HS]", "hs"),
    ("[HE]", "he"),
    ("[BS]", "bs"),
    ("[BE]", "be"),
];

/// One node of the tree, in document order (template contents are not walked: a marker there
/// is lost, as it is inert in a browser).
#[derive(Debug)]
struct Item {
    /// `Some(k)`: the marker of `MARKS[k]`.
    mark: Option<usize>,
    name: String,
    in_head: bool,
    in_body: bool,
}

fn walk(h: &Handle, in_head: bool, in_body: bool, out: &mut Vec<Item>) {
    for c in h.children.borrow().iter() {
        match &c.data {
            NodeData::Element { name, attrs, .. } => {
                let n = name.local.to_string();
                let mark = (n == "meta")
                    .then(|| {
                        let a = attrs.borrow();
                        let v = a.first().map(|a| a.value.to_string()).unwrap_or_default();
                        MARKS.iter().position(|(_, m)| *m == v)
                    })
                    .flatten();
                out.push(Item {
                    mark,
                    name: n.clone(),
                    in_head,
                    in_body,
                });
                walk(c, in_head || n == "head", in_body || n == "body", out);
            }
            NodeData::Text { contents } if !contents.borrow().trim().is_empty() => out.push(Item {
                mark: None,
                name: "#text".into(),
                in_head,
                in_body,
            }),
            _ => {}
        }
    }
}

/// Checks where html5ever puts the four markers of the scanner's output for `page` (cut in
/// chunks of `chunk` bytes). Content after `</body>` goes into the body in a browser too: a
/// page that has some starts it with `<x-tail>`, which `body.last` must precede.
pub(super) fn browser_agrees(page: &str, chunk: usize) -> Result<(), String> {
    let mut out = scanned(page, chunk);
    for (m, name) in MARKS {
        let n = out.matches(m).count();
        if n != 1 {
            return Err(format!("{m} placed {n} times: {out}"));
        }
        // a void element allowed in the head, like the snippets: it changes no mode
        out = out.replace(m, &format!("<meta name={name}>"));
    }
    let dom = html5ever::parse_document(RcDom::default(), Default::default()).one(out.as_str());
    let mut items = Vec::new();
    walk(&dom.document, false, false, &mut items);
    let at = |k: usize| items.iter().position(|i| i.mark == Some(k));
    let fail = |why: &str| Err(format!("{why}:\n{page}\n{out}\n{items:?}"));
    let [Some(hs), Some(he), Some(bs), Some(be)] = [at(0), at(1), at(2), at(3)] else {
        return fail("a marker is not an element of the tree");
    };
    let (Some(head), Some(body)) = (
        items.iter().position(|i| i.name == "head"),
        items.iter().position(|i| i.name == "body"),
    ) else {
        return fail("no head or no body");
    };
    if !(items[hs].in_head && items[he].in_head) {
        return fail("head markers not in the head");
    }
    if items[he + 1..]
        .iter()
        .any(|i| i.in_head && i.mark.is_none())
    {
        return fail("head content after the head's end");
    }
    if !(hs == head + 1 || hs + 1 == he) {
        return fail("head start neither first in the head nor right before its end");
    }
    let first_in_body = bs == body + 1 && items[bs].in_body;
    let right_before =
        bs < body && !items[bs].in_body && items[bs + 1..body].iter().all(|i| i.mark.is_some());
    if !(first_in_body || right_before) {
        return fail("body start not where the body begins");
    }
    if !items[be].in_body {
        return fail("body end not in the body");
    }
    let tail = items.iter().position(|i| i.name == "x-tail");
    if tail.is_some_and(|t| t < be) {
        return fail("body end after the content that follows </body>");
    }
    let upto = tail.unwrap_or(items.len());
    if items[be + 1..upto]
        .iter()
        .any(|i| i.in_body && i.mark.is_none())
    {
        return fail("body content after the body's end");
    }
    Ok(())
}

/// Head content, some of which ends the head in a browser (text, `<div>`), some of which looks
/// as if it did and does not (a `</head>` or `<body>` in a template, a comment, a script).
const HEAD_BITS: &[&str] = &[
    "<meta charset=utf-8>",
    "<title>a </head> <body> b</title>",
    "<link rel=x href=\"a>b\">",
    "<base href=/>",
    "<script>var a = \"</head>\"; if (a<b) {}</script>",
    "<script><!-- document.write(\"<script>x()</script>\"); var s=\"</head>\" --></script>",
    "<script><!--<script></script>--></head></script>",
    "<style>p>a{}</style>",
    "<!-- </head> -->",
    "<!-- x --!>",
    "<!-->",
    "<noscript><p>x</p></noscript>",
    "<noframes></head></noframes>",
    "<template><body><p>x</p></body></template>",
    "<template></head>text<div>t</div><template><body></template></template>",
    "<template><svg><![CDATA[</template>]]></svg></template>",
    " ",
    "\n",
    "</p>",
    "</div>",
    "</template>",
    "<meta name=a content=\">\">",
];

/// Body content (the first of it ends the head when `</head>` and `<body>` are left out).
const BODY_BITS: &[&str] = &[
    "text",
    "<div id=app>",
    "</div>",
    "<p>x</p>",
    "<!-- </body> -->",
    "<!-- <body> --!>",
    "<script>document.write('</body>')</script>",
    "<script><!-- document.write(\"<script>x()</script>\"); var s=\"</body>\"</script>",
    "<svg><![CDATA[ </body> ]]></svg>",
    "<svg><![CDATA[ a > b </body> ]]></svg>",
    "<svg><style/></svg>",
    "<svg><style>a</style></svg>",
    "<svg><title>t</title><desc>d</desc></svg>",
    "<math><mi><style></body></style></mi></math>",
    "<svg><foreignObject><style></body></style></foreignObject></svg>",
    "<svg><foreignObject></body></foreignObject></svg>",
    "<svg><title></body></title></svg>",
    "<svg/><p>x</p>",
    "<svg><p>breaks out</svg>",
    "<a title=a=\">x</a>",
    "<a =\"x>\" b=c>y</a>",
    "<template></body><p>x</p></template>",
    "<noscript><p>x</p></noscript>",
    "<textarea></body></textarea>",
    "<img src=x alt=a>b>",
    "&amp;",
    "a < b",
    "<br/>",
];

/// Content that begins the body wherever it comes.
const FIRST_BODY_BITS: &[&str] = &[
    "text",
    "<div id=app>",
    "<p>x</p>",
    "<svg><![CDATA[ </body> ]]></svg>",
    "<a title=a=\">x</a>",
    "&amp;",
    "<img src=x alt=a>b>",
    "a < b",
];

fn document(r: &mut Rng) -> String {
    let mut d = String::new();
    if r.next() & 1 == 0 {
        d.push_str("<!DOCTYPE html>");
    }
    d.push_str(r.pick(&["<html>", "<HTML lang=en>", "", "", "\n"]));
    d.push_str(r.pick(&["<head>", "<HEAD data-x=\"a>b\">", "", ""]));
    for _ in 0..r.next() % 6 {
        d.push_str(r.pick(HEAD_BITS));
    }
    let head_end = r.pick(&["</head>", "", "", "\n"]);
    d.push_str(head_end);
    let body = r.pick(&["<body>", "<BODY class='x' onload=\"f('>')\">", "", ""]);
    d.push_str(body);
    if body.is_empty() {
        // without `<body>`, the body must begin with body content: the checks above cannot
        // tell an empty implied body (its markers land in the head) or a script that goes
        // into the head after `</head>` from a misplaced marker
        d.push_str(r.pick(FIRST_BODY_BITS));
    }
    for _ in 0..r.next() % 8 {
        d.push_str(r.pick(BODY_BITS));
    }
    if r.next() & 1 == 0 {
        d.push_str(r.pick(&["</body>", "</BODY >"]));
        d.push_str("<x-tail></x-tail>");
    }
    d.push_str(r.pick(&["</html>", "", "\n"]));
    d
}

#[test]
fn placement_agrees_with_html5ever_on_generated_documents() {
    let mut r = Rng(0x853c49e6748fea9b);
    for n in 0..3000 {
        let d = document(&mut r);
        if let Err(e) = browser_agrees(&d, usize::MAX) {
            panic!("document {n}: {e}");
        }
        let whole = scanned(&d, usize::MAX);
        for chunk in [1, 5, 64] {
            assert_eq!(scanned(&d, chunk), whole, "document {n}, chunks of {chunk}");
        }
    }
}

/// Issue cases, with the exact output: every one agrees with html5ever too.
#[test]
fn omitted_tags_and_tokenizer_edges() {
    for (page, want) in [
        // minified: no <head>, no </head>
        (
            "<!DOCTYPE html><html><title>x</title><body><p>x</p></body></html>",
            "<!DOCTYPE html><html><title>x</title>[HS][HE]<body>[BS]<p>x</p>[BE]</body></html>",
        ),
        // minified: no html, head or body tag at all
        (
            "<!doctype html><meta charset=utf-8><title>x</title><div id=app></div>",
            "<!doctype html><meta charset=utf-8><title>x</title>[HS][HE][BS]<div id=app></div>[BE]",
        ),
        // blanks and comments do not end the head; text does
        (
            "<meta charset=utf-8>\n<!-- c -->\n  hello",
            "<meta charset=utf-8>\n<!-- c -->\n  [HS][HE][BS]hello[BE]",
        ),
        // `</body>` inside CDATA of foreign content is text
        (
            "<head></head><body><svg><![CDATA[ a > b </body> ]]></svg></body>",
            "<head>[HS][HE]</head><body>[BS]<svg><![CDATA[ a > b </body> ]]></svg>[BE]</body>",
        ),
        // an inert template in the head
        (
            "<head><template><body><p>x</p></body></head></template></head><body>y</body>",
            "<head>[HS]<template><body><p>x</p></body></head></template>[HE]</head><body>[BS]y[BE]</body>",
        ),
        // `--!>` ends a comment
        (
            "<head></head><!-- x --!><body>y</body>",
            "<head>[HS][HE]</head><!-- x --!><body>[BS]y[BE]</body>",
        ),
        // a double-escaped script
        (
            "<head><script><!-- document.write(\"<script>x()</script>\"); var s=\"</head>\" --></script></head><body></body>",
            "<head>[HS]<script><!-- document.write(\"<script>x()</script>\"); var s=\"</head>\" --></script>[HE]</head><body>[BS][BE]</body>",
        ),
        // `<style/>` in SVG is an element, not raw text
        (
            "<body><svg><style/></svg><p>x</p></body>",
            "[HS][HE]<body>[BS]<svg><style/></svg><p>x</p>[BE]</body>",
        ),
        // an unquoted value with a quote in it
        (
            "<head></head><body><a title=a=\">x</a></body>",
            "<head>[HS][HE]</head><body>[BS]<a title=a=\">x</a>[BE]</body>",
        ),
    ] {
        for chunk in [usize::MAX, 1, 3] {
            assert_eq!(scanned(page, chunk), want, "chunks of {chunk}");
            browser_agrees(page, chunk).unwrap();
        }
    }
}
