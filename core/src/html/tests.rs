use super::*;

fn inj() -> Injections<'static> {
    Injections {
        head_first: b"<script>GC</script>",
        head_last: "<meta name=h>",
        body_first: "<i>first</i>",
        body_last: "<i>last</i>",
    }
}

fn run_chunks(page: &[u8], chunks: &[usize], inj: Injections<'static>) -> String {
    let mut rw = EntryRewriter::new("v1.2", inj);
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| out.extend_from_slice(b);
    let mut rest = page;
    for &n in chunks {
        let n = n.min(rest.len());
        rw.write(&rest[..n], &mut sink);
        rest = &rest[n..];
    }
    rw.write(rest, &mut sink);
    rw.end(&mut sink);
    String::from_utf8(out).unwrap()
}

fn run(page: &str) -> String {
    run_chunks(page.as_bytes(), &[], inj())
}

#[test]
fn places_injections() {
    let page = "<!DOCTYPE html><html><head><title>t</title></head><body class=\"a\"><p>hi</p></body></html>";
    assert_eq!(
        run(page),
        "<!DOCTYPE html><html><head><script>GC</script><title>t</title><meta name=h></head><body class=\"a\"><i>first</i><p>hi</p><i>last</i></body></html>"
    );
}

#[test]
fn attributes_and_upper_case() {
    let page = "<HTML><HEAD lang=en><TITLE>t</TITLE></HEAD><BODY onload='x()' data-x=\"</body>\"><P>hi</BODY></HTML>";
    assert_eq!(
        run(page),
        "<HTML><HEAD lang=en><script>GC</script><TITLE>t</TITLE><meta name=h></HEAD><BODY onload='x()' data-x=\"</body>\"><i>first</i><P>hi<i>last</i></BODY></HTML>"
    );
}

#[test]
fn body_end_inside_script_or_comment_is_not_a_tag() {
    let page = "<html><head></head><body><script>var s = \"</body>\"; // </head></script><!-- </body> --><p>x</p></body></html>";
    assert_eq!(
        run(page),
        "<html><head><script>GC</script><meta name=h></head><body><i>first</i><script>var s = \"</body>\"; // </head></script><!-- </body> --><p>x</p><i>last</i></body></html>"
    );
}

#[test]
fn missing_body_end_tag_puts_last_at_the_end() {
    assert_eq!(
        run("<body><p>x"),
        "<script>GC</script><meta name=h><body><i>first</i><p>x<i>last</i>"
    );
    // no body tag: the body begins at the first body content, as in a browser
    assert_eq!(
        run("<p>x</p>"),
        "<script>GC</script><meta name=h><i>first</i><p>x</p><i>last</i>"
    );
}

#[test]
fn only_the_first_head_and_body() {
    assert_eq!(
        run("<head></head><head></head><body></body><body></body>"),
        "<head><script>GC</script><meta name=h></head><head></head><body><i>first</i><i>last</i></body><body></body>"
    );
}

#[test]
fn version_replaced_in_text_attributes_and_scripts() {
    let page = "<head><link href=\"/{version}/a.css\"></head><body>v={version}<script>var v='{version}';</script>{versio}{{version}}</body>";
    assert_eq!(
        run_chunks(page.as_bytes(), &[], Injections::default()),
        "<head><link href=\"/v1.2/a.css\"></head><body>v=v1.2<script>var v='v1.2';</script>{versio}{v1.2}</body>"
    );
}

#[test]
fn output_does_not_depend_on_chunk_boundaries() {
    let page = "<!doctype html><HTML><head><title>{version}</title></head>\n<body data-v=\"{version}\">{version}<script>\"</body>{version}\"</script>{ver{version}<!-- {version} --></body></html>{vers";
    let whole = run(page);
    assert!(whole.contains("<title>v1.2</title>"), "{whole}");
    assert!(whole.ends_with("{vers"), "{whole}");
    // every single split point, and every chunk size
    for i in 0..=page.len() {
        assert_eq!(
            run_chunks(page.as_bytes(), &[i], inj()),
            whole,
            "split at {i}"
        );
    }
    for size in 1..12 {
        let chunks = vec![size; page.len() / size + 1];
        assert_eq!(
            run_chunks(page.as_bytes(), &chunks, inj()),
            whole,
            "chunks of {size}"
        );
    }
}

#[test]
fn replacer_edge_cases() {
    fn rep(chunks: &[&str]) -> String {
        let mut r = VersionReplacer::new("V");
        let mut out = Vec::new();
        let mut f = |p: &[u8]| -> Result<(), ()> {
            out.extend_from_slice(p);
            Ok(())
        };
        for c in chunks {
            r.feed(c.as_bytes(), &mut f).unwrap();
        }
        r.finish(&mut f).unwrap();
        String::from_utf8(out).unwrap()
    }
    assert_eq!(rep(&["{", "version}"]), "V");
    assert_eq!(rep(&["{v", "e", "r", "sion", "}"]), "V");
    assert_eq!(rep(&["{", "{version}"]), "{V");
    assert_eq!(rep(&["{ver", "{version}"]), "{verV");
    assert_eq!(rep(&["{versio"]), "{versio");
    assert_eq!(rep(&["a{versio", "n"]), "a{version");
    assert_eq!(rep(&["", "{version}", ""]), "V");
    assert_eq!(rep(&["{version}{version}"]), "VV");
}

#[test]
fn no_injections_still_replaces_version() {
    assert_eq!(
        run_chunks(b"<body>{version}</body>", &[3], Injections::default()),
        "<body>v1.2</body>"
    );
}

#[test]
fn memory_stays_flat_on_big_pages() {
    // a version as long as `{version}`: what comes out is what went in, plus the snippets
    let mut rw = EntryRewriter::new("v12345678", inj());
    let (mut total_in, mut total_out) = (0usize, 0usize);
    let mut max_lag = 0isize;
    let mut max_piece = 0;
    let mut write = |rw: &mut EntryRewriter, chunk: &[u8]| {
        total_in += chunk.len();
        rw.write(chunk, &mut |o: &[u8]| {
            total_out += o.len();
            max_piece = max_piece.max(o.len());
        });
        // what went in and has not come out by the end of this write(): a rewriter that
        // buffered the page (or all but a piece of it) would lag by the page
        max_lag = max_lag.max(total_in as isize - total_out as isize);
    };
    write(&mut rw, b"<html><head></head><body>");
    let chunk = "<div class=\"row\"><span>{version} text</span></div>\n".repeat(200);
    for k in 0..2000 {
        // chunks cut at every kind of place, not only between rows
        let cut = k * 7 % chunk.len();
        write(&mut rw, &chunk.as_bytes()[..cut]);
        write(&mut rw, &chunk.as_bytes()[cut..]);
    }
    write(&mut rw, b"</body></html>");
    rw.end(&mut |o: &[u8]| total_out += o.len());
    assert!(total_out > 15_000_000);
    assert!(
        max_piece <= chunk.len(),
        "output is handed on as it comes, never accumulated: {max_piece}"
    );
    // held back at most: the bytes of a split tag or placeholder
    assert!(
        max_lag <= 16,
        "output lags behind the input by {max_lag} bytes"
    );
}

#[test]
fn hostile_markup_never_fails() {
    let long_attr = format!("<body><div a=\"{}\">", "x".repeat(3 << 20));
    for page in [
        "<",
        "<<<<>>>",
        "<body <body>>",
        "</body></head>",
        "\u{0}\u{feff}<bo\u{0}dy>",
        long_attr.as_str(),
        "<script>",
        "<!--",
        "<head><body>",
    ] {
        let mut rw = EntryRewriter::new("v", inj());
        let mut sink = |_: &[u8]| ();
        rw.write(page.as_bytes(), &mut sink);
        rw.write(b"\xff\xfe<body>tail</body>", &mut sink);
        rw.end(&mut sink);
    }
}

#[test]
fn js_strings_cannot_close_the_script() {
    assert_eq!(js_string("a\"</script>"), "\"a\\\"\\u003c/script>\"");
}
