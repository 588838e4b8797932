//! Where the tokenizer's text-like states end: comments, CDATA sections and script data with
//! its escaped / double-escaped states (`<script><!-- document.write("<script>…</script>")`
//! does not end at the inner `</script>`).

use std::sync::LazyLock;

use memchr::memmem::Finder;

/// Built once (building one per call cost 4 % of an entry request).
static CDATA_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"]]>"));

/// What a scan of a text-like state found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// The state ends; go on from here.
    End(usize),
    /// More input is needed from here on (hold these bytes back).
    Hold(usize),
    /// All of it is inside the state.
    More,
}

/// The comment that started before `d[from..]` ends at the first `-->` or `--!>` whose dashes
/// lie in `d[from..]` (the scanner starts `from` after `<!--`). Two or three bytes at the end
/// may begin such an ending: held back unless `last`.
pub(super) fn comment(d: &[u8], from: usize, last: bool) -> Step {
    let mut at = from;
    while let Some(k) = memchr::memchr(b'>', &d[at..]) {
        let q = at + k;
        let s = &d[from..q];
        if s.ends_with(b"--") || s.ends_with(b"--!") {
            return Step::End(q + 1);
        }
        at = q + 1;
    }
    hold_tail(d, from, 3, last)
}

/// A CDATA section of foreign content ends at `]]>`.
pub(super) fn cdata(d: &[u8], from: usize, last: bool) -> Step {
    match CDATA_END.find(&d[from..]) {
        Some(k) => Step::End(from + k + 3),
        None => hold_tail(d, from, 2, last),
    }
}

fn hold_tail(d: &[u8], from: usize, n: usize, last: bool) -> Step {
    if last {
        Step::More
    } else {
        Step::Hold(d.len().saturating_sub(n).max(from))
    }
}

/// Script data sub-states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Esc {
    /// Plain script data: ends at `</script`; `<!--` escapes.
    No,
    /// After `<!--`: still ends at `</script`; `<script` double-escapes, `-->` unescapes.
    Escaped,
    /// After `<!--` … `<script`: `</script` goes back to escaped, `-->` unescapes.
    Double,
}

pub(super) fn is_delim(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>')
}

/// `d[p..]` is `<script` or `</script` (`close`) followed by a delimiter: `Some(true)`;
/// `None` when `d` ends too early to tell.
fn script_tag(d: &[u8], p: usize, close: bool, last: bool) -> Option<bool> {
    let name = p + 1 + close as usize;
    let s = &d[p..];
    let need = name - p + 7;
    if s.len() < need {
        if last {
            return Some(false);
        }
        // a mismatch already seen settles it
        let have = &d[name.min(d.len())..];
        let prefix = close && s.get(1).is_some_and(|&b| b != b'/');
        let differs = have
            .iter()
            .zip(b"script")
            .any(|(a, b)| a.to_ascii_lowercase() != *b);
        return if prefix || differs { Some(false) } else { None };
    }
    Some(
        (!close || s[1] == b'/')
            && d[name..name + 6].eq_ignore_ascii_case(b"script")
            && is_delim(d[name + 6]),
    )
}

/// Scans script data `d[from..]` in sub-state `esc`: `End(p)` when `</script` ending the
/// script is at `p`.
pub(super) fn script(esc: &mut Esc, d: &[u8], from: usize, last: bool) -> Step {
    let mut at = from;
    // the start of the escaped region: dashes before it cannot end an escape
    let mut region = from;
    loop {
        let hit = if *esc == Esc::No {
            memchr::memchr(b'<', &d[at..])
        } else {
            memchr::memchr2(b'<', b'>', &d[at..])
        };
        let Some(k) = hit else {
            return match *esc {
                Esc::No => Step::More,
                _ => hold_tail(d, region, 2, last),
            };
        };
        let p = at + k;
        if d[p] == b'>' {
            if d[region..p].ends_with(b"--") {
                *esc = Esc::No;
            }
            at = p + 1;
            continue;
        }
        // a `<`
        let Some(&next) = d.get(p + 1) else {
            return if last { Step::More } else { Step::Hold(p) };
        };
        match (*esc, next) {
            (Esc::No, b'!') => {
                if d.len() < p + 4 && !last {
                    return Step::Hold(p);
                }
                if d[p..].starts_with(b"<!--") {
                    *esc = Esc::Escaped;
                    region = p + 2; // `<!-->` unescapes at once
                    at = p + 2;
                    continue;
                }
            }
            (Esc::No | Esc::Escaped, b'/') => match script_tag(d, p, true, last) {
                Some(true) => return Step::End(p),
                Some(false) => {}
                None => return Step::Hold(p),
            },
            (Esc::Escaped, _) => match script_tag(d, p, false, last) {
                Some(true) => {
                    *esc = Esc::Double;
                    region = p + 7;
                    at = p + 7;
                    continue;
                }
                Some(false) => {}
                None => return Step::Hold(p),
            },
            (Esc::Double, b'/') => match script_tag(d, p, true, last) {
                Some(true) => {
                    *esc = Esc::Escaped;
                    region = p + 8;
                    at = p + 8;
                    continue;
                }
                Some(false) => {}
                None => return Step::Hold(p),
            },
            _ => {}
        }
        at = p + 1;
    }
}

/// Raw text or RCDATA from `d[from..]` ends at `</name` and a delimiter: `End` at its `<`.
pub(super) fn raw(name: &[u8], d: &[u8], from: usize, last: bool) -> Step {
    let mut from = from;
    while let Some(k) = end_tag_open(&d[from..]) {
        let p = from + k;
        let rest = &d[p + 2..];
        if rest.len() < name.len() + 1 && !last {
            return Step::Hold(p);
        }
        if rest.len() >= name.len()
            && rest[..name.len()].eq_ignore_ascii_case(name)
            && rest.get(name.len()).is_none_or(|&b| is_delim(b))
        {
            return Step::End(p);
        }
        from = p + 2;
    }
    // a `<` in the last byte may start `</` next chunk
    if !last && d.last() == Some(&b'<') && d.len() > from {
        Step::Hold(d.len() - 1)
    } else {
        Step::More
    }
}

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
