use super::*;

const PAGES: &[&str] = &[
    "<!doctype html><html><head><title>t</title></head><body><h1>{version}</h1></body></html>",
    "<html><head></head><body></body></html>",
    "<title>no head tag</title><p>text",
    "<p>no head at all</p>",
    "",
    "plain text {version} only",
    "<html><body class=x>only a body</body></html>",
    "<head><script>var s = '<head></head><body>';</script></head><body>x</body>",
    "<!-- <head> --><html><head data-x='<body>'><meta charset=utf-8></head><body>",
    "<html><HEAD><TITLE>T</TITLE></HEAD><BODY onload=\"f('</body>')\">b</BODY></HTML>",
    "<head><style>head{}</style><noscript><p>n</p></noscript></head><body><svg><style/></svg></body>",
    "<html><head><title>{vers</title></head><body>{version}{version}</body>",
    "<html><head></head><body><template><head></head></template></body></html><!-- end -->",
];

fn inj(head_first: &'static [u8]) -> Injections<'static> {
    Injections {
        head_first,
        head_last: "<meta name=h content={version}>",
        body_first: "<i>first</i>",
        body_last: "<i>last</i>",
    }
}

fn streamed(page: &[u8], chunk: usize, inj: Injections<'static>) -> Vec<u8> {
    let mut rw = EntryRewriter::new("v1.2", inj);
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| out.extend_from_slice(b);
    for c in page.chunks(chunk.max(1)) {
        rw.write(c, &mut sink);
    }
    rw.end(&mut sink);
    out
}

fn assembled(r: &Rendered, head_first: &[u8]) -> Vec<u8> {
    let (a, b) = r.parts();
    [a, if r.split.is_some() { head_first } else { b"" }, b].concat()
}

#[test]
fn a_cached_page_is_the_streamed_page() {
    let heads: [&'static [u8]; 3] = [
        b"<script>var GC={u:1}</script>",
        b"",
        b"<script>r()</script>",
    ];
    // and every page with some noise around, so that the places move
    let mut pages: Vec<String> = PAGES.iter().map(|p| p.to_string()).collect();
    for p in PAGES {
        pages.push(format!("{}<div a=\"{{version}}\">x</div>", p));
        pages.push(format!("<!doctype html>\n{p}"));
    }
    for p in &pages {
        let r = render("v1.2", &inj(b"ignored"), p.as_bytes());
        for h in heads {
            let want = streamed(p.as_bytes(), p.len().max(1), inj(h));
            assert_eq!(
                String::from_utf8_lossy(&assembled(&r, h)),
                String::from_utf8_lossy(&want),
                "page {p:?} head_first {:?}",
                String::from_utf8_lossy(h)
            );
            for chunk in [1, 3, 7] {
                assert_eq!(
                    assembled(&r, h),
                    streamed(p.as_bytes(), chunk, inj(h)),
                    "{p:?} {chunk}"
                );
            }
        }
    }
}

#[test]
fn the_mark_is_found_by_address_not_content() {
    // a NUL byte in the page is not the mark
    let page = "<html><head>\0</head><body>\0</body></html>";
    let r = render("v", &inj(b""), page.as_bytes());
    assert_eq!(r.split, Some("<html><head>".len()));
    assert_eq!(r.bytes.iter().filter(|&&b| b == 0).count(), 2);
}

fn key(ino: u64, generation: u64) -> Key {
    Key {
        dev: 1,
        ino,
        size: 10,
        mtime_sec: 5,
        mtime_nsec: 0,
        range: (0, 10),
        version: 0x1000,
        config: 0x2000,
        generation,
    }
}

fn page(n: usize) -> Rc<Rendered> {
    Rc::new(Rendered {
        bytes: vec![b'x'; n],
        split: None,
    })
}

#[test]
fn least_recently_used_pages_go_first_within_the_budget() {
    let mut c: RenderCache<Rendered> = RenderCache::new(400);
    assert!(c.fits(100) && !c.fits(101));
    c.insert(key(1, 1), page(100), 100);
    c.insert(key(2, 1), page(100), 100);
    c.insert(key(3, 1), page(100), 100);
    c.insert(key(4, 1), page(100), 100);
    assert_eq!((c.len(), c.held()), (4, 400));
    assert!(c.get(&key(1, 1)).is_some()); // 1 is now the most recent
    c.insert(key(5, 1), page(100), 100); // 2 goes
    assert!(c.get(&key(2, 1)).is_none());
    assert!(c.get(&key(1, 1)).is_some() && c.get(&key(5, 1)).is_some());
    assert_eq!((c.len(), c.held()), (4, 400));
    // too large: not kept, nothing evicted
    c.insert(key(6, 1), page(101), 101);
    assert_eq!((c.len(), c.held()), (4, 400));
    // the same key again replaces it
    c.insert(key(5, 1), page(50), 50);
    assert_eq!((c.len(), c.held()), (4, 350));
    assert_eq!(c.get(&key(5, 1)).unwrap().bytes.len(), 50);
    // any field of the key tells pages apart
    let mut k = key(1, 1);
    k.mtime_nsec = 1;
    assert!(c.get(&k).is_none());
    k = key(1, 1);
    k.size = 11;
    assert!(c.get(&k).is_none());
    // a new configuration generation drops the rest
    c.retain_generation(2);
    assert_eq!((c.len(), c.held()), (0, 0));
    assert!(c.hits >= 4 && c.misses >= 3);
}
