//! Throughput of the entry-page rewriter alone:
//!   cargo run --release --example rewrite_speed -p frontend-gray-core [none] [PAGE_FILE]
//! (a generated 300 KB page unless a file is given; `none`: no injections, only `{version}`;
//! `nolast`: no `body.last`, so tokenizing stops after `<body>`; `ssr`: a server-rendered page
//! dense with tags (a tag every ~15 bytes), a JSON state script and 30 scripts at the end;
//! `N=` pages, 300 by default — a small N for callgrind)
use frontend_gray_core::html::{EntryRewriter, Injections};
use std::time::Instant;

fn main() {
    let row = "<div class=\"row\"><span class=\"cell\">item</span><span class=\"cell\">value</span></div>\n";
    let mut page = String::from("<!DOCTYPE html><html><head><meta charset=utf-8><title>x</title>");
    for i in 0..30 {
        page.push_str(&format!(
            "<script src=\"/app1/static/js/chunk-{i}.js\" defer></script>\n"
        ));
    }
    page.push_str("</head><body><div id=root></div>");
    while page.len() < 300 * 1024 {
        page.push_str(row);
    }
    page.push_str("</body></html>");
    let mode = std::env::args().nth(1).unwrap_or_default();
    if mode == "ssr" {
        page = ssr_page();
    }
    if let Some(file) = std::env::args().nth(2) {
        page = std::fs::read_to_string(file).expect("a page");
    }
    let n = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let t = Instant::now();
    let mut total = 0;
    for _ in 0..n {
        let inj = if mode == "none" {
            Injections::default()
        } else {
            Injections {
                head_first: b"",
                head_last: "<script>h</script>",
                body_first: "<div></div>",
                body_last: if mode == "nolast" {
                    ""
                } else {
                    "<script>l</script>"
                },
            }
        };
        let mut rw = EntryRewriter::new("gray", inj);
        let mut sink = |o: &[u8]| total += o.len();
        for c in page.as_bytes().chunks(32 * 1024) {
            rw.write(c, &mut sink);
        }
        rw.end(&mut sink);
    }
    let dt = t.elapsed().as_secs_f64() / n as f64;
    println!(
        "{} bytes: {:.1} us per page, {:.0} MB/s ({total})",
        page.len(),
        dt * 1e6,
        page.len() as f64 / dt / 1e6
    );
}

/// A server-rendered page: cards dense with tags, then a JSON state blob and the scripts.
fn ssr_page() -> String {
    let mut page = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shop</title>\
         <link rel=\"stylesheet\" href=\"/app1/static/css/main.css\"></head><body><div id=\"root\">",
    );
    let mut i = 0;
    while page.len() < 250 * 1024 {
        page.push_str(&format!(
            "<div class=\"card\"><h3>Title {i}</h3><p>Some text here</p><a href=\"/item/{i}\">more</a></div>"
        ));
        i += 1;
    }
    page.push_str("</div><script id=\"__STATE__\" type=\"application/json\">{\"items\":[");
    let mut j = 0;
    while page.len() < 295 * 1024 {
        page.push_str(&format!(
            "{{\"id\":{j},\"title\":\"Title {j}\",\"url\":\"/item/{j}\",\"price\":{j}.99}},"
        ));
        j += 1;
    }
    page.push_str("{}]}</script>\n");
    for k in 0..30 {
        page.push_str(&format!(
            "<script src=\"/app1/static/js/chunk-{k}.js\" defer></script>\n"
        ));
    }
    page.push_str("</body></html>");
    page
}
