//! The User-Agent corpus (tests/data/user-agents.tsv) against `conditions::ua::classify` and
//! against the naive reference of the same table (tests/data/ua_reference.rs); and the rule
//! that the classifier never allocates.
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use frontend_gray_core::conditions::ua::{classify, Browser, Os, TOKENS};

#[path = "data/ua_reference.rs"]
mod reference;

/// Counts this thread's allocations (tests run on several threads at once).
struct Counting;
thread_local! { static ALLOCS: Cell<u64> = const { Cell::new(0) }; }
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

struct Case {
    line: usize,
    os: Option<Os>,
    browser: Option<Browser>,
    ua: Vec<u8>,
}

/// `\xNN` escapes, so the corpus can hold non-UTF-8 and NUL bytes.
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() {
            out.push(u8::from_str_radix(&s[i + 2..i + 4], 16).expect("bad \\x escape"));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn corpus() -> Vec<Case> {
    let text = include_str!("data/user-agents.tsv");
    let mut cases = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut f = line.splitn(3, '\t');
        let (os, br, ua) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap_or(""));
        let os = (os != "-").then(|| Os::from_name(os).expect("bad os word"));
        let browser = (br != "-").then(|| Browser::from_name(br).expect("bad browser word"));
        cases.push(Case {
            line: n + 1,
            os,
            browser,
            ua: unescape(ua),
        });
    }
    cases
}

#[test]
fn conditions_ua_corpus() {
    let cases = corpus();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let got = classify(&c.ua);
        if got != (c.os, c.browser) {
            failures.push(format!(
                "line {}: expected {:?}, got {:?}: {}",
                c.line,
                (c.os, c.browser),
                got,
                String::from_utf8_lossy(&c.ua)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn conditions_ua_reference_agrees_on_corpus() {
    for c in corpus() {
        assert_eq!(
            reference::reference_classify(&c.ua),
            (c.os, c.browser),
            "reference, line {}",
            c.line
        );
    }
}

/// Every result of the table appears in the corpus at least once.
#[test]
fn conditions_ua_corpus_covers_every_name() {
    let cases = corpus();
    for o in Os::ALL {
        assert!(cases.iter().any(|c| c.os == Some(o)), "{o:?}");
    }
    for b in Browser::ALL {
        assert!(cases.iter().any(|c| c.browser == Some(b)), "{b:?}");
    }
}

/// Small deterministic generator (no rand dependency).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random splices of tokens, corpus pieces and noise: the classifier and the reference agree.
#[test]
fn conditions_ua_agrees_with_reference_on_token_soup() {
    let cases = corpus();
    let noise: &[&[u8]] = &[b" ", b"; ", b"(", b")", b"/1.0", b"\xff", b"x", b"\0"];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let mut ua = Vec::new();
        for _ in 0..rng.below(8) {
            match rng.below(3) {
                0 => ua.extend_from_slice(TOKENS[rng.below(TOKENS.len())].as_bytes()),
                1 => {
                    let c = &cases[rng.below(cases.len())].ua;
                    let a = rng.below(c.len() + 1);
                    let b = a + rng.below(c.len() - a + 1);
                    ua.extend_from_slice(&c[a..b]);
                }
                _ => ua.extend_from_slice(noise[rng.below(noise.len())]),
            }
        }
        assert_eq!(
            classify(&ua),
            reference::reference_classify(&ua),
            "{}",
            String::from_utf8_lossy(&ua)
        );
    }
}

/// A byte that is in no token cannot change a result: replace all of them.
#[test]
fn conditions_ua_only_token_bytes_matter() {
    let alphabet: Vec<u8> = TOKENS.iter().flat_map(|t| t.bytes()).collect();
    for c in corpus() {
        let masked: Vec<u8> =
            c.ua.iter()
                .map(|b| if alphabet.contains(b) { *b } else { b'\x01' })
                .collect();
        assert_eq!(classify(&masked), classify(&c.ua), "line {}", c.line);
    }
}

#[test]
fn conditions_ua_classify_does_not_allocate() {
    let cases = corpus();
    classify(b"warm up the searchers");
    let before = ALLOCS.with(|c| c.get());
    let mut n = 0;
    for c in &cases {
        n += classify(&c.ua).0.is_some() as usize;
    }
    classify(&vec![b'A'; 100_000][..]); // the vec is allocated before the count below
    let after = ALLOCS.with(|c| c.get());
    assert!(n > 0);
    assert_eq!(after - before, 1, "classify allocated"); // the one vec above
}

/// `cargo test --release -p frontend-gray-core --test ua_corpus -- --ignored --nocapture`
#[test]
#[ignore]
fn conditions_ua_speed() {
    let cases = corpus();
    let rounds = 20_000;
    let cpu = || -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let (t, c0) = (std::time::Instant::now(), cpu());
    let mut n = 0usize;
    for _ in 0..rounds {
        for c in &cases {
            n += classify(std::hint::black_box(&c.ua)).1.is_some() as usize;
        }
    }
    let calls = (rounds * cases.len()) as f64;
    let per = t.elapsed().as_nanos() as f64 / calls;
    let per_cpu = (cpu() - c0) as f64 / calls;
    println!(
        "classify: {per_cpu:.0} ns of CPU per User-Agent ({per:.0} ns wall; mean over the {} \
         corpus lines, {n})",
        cases.len()
    );
}
