//! The inside of a tag, from its name to its `>`, as the HTML tokenizer reads it: a quote opens
//! a value only right after an attribute's `=` (`title=a=">` is the unquoted value `a="`, and
//! its `>` ends the tag), and `/>` marks a self-closing tag except inside an unquoted value.

/// Tokenizer states inside a tag. After a quoted value the tokenizer behaves as before an
/// attribute name, so that state is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TagSt {
    Name,
    BeforeAttr,
    AttrName,
    AfterAttrName,
    BeforeValue,
    DoubleQuoted,
    SingleQuoted,
    Unquoted,
    /// After a `/` that makes the tag self-closing if `>` follows.
    Slash,
}

const fn blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// The state after byte `b` (not `>`, which ends the tag unless quoted).
const fn step(st: TagSt, b: u8) -> TagSt {
    match (st, b) {
        (TagSt::DoubleQuoted, b'"') | (TagSt::SingleQuoted, b'\'') => TagSt::BeforeAttr,
        (TagSt::DoubleQuoted | TagSt::SingleQuoted, _) => st,
        (TagSt::BeforeValue, b'"') => TagSt::DoubleQuoted,
        (TagSt::BeforeValue, b'\'') => TagSt::SingleQuoted,
        (TagSt::BeforeValue | TagSt::AfterAttrName, b) if blank(b) => st,
        (TagSt::BeforeValue, _) => TagSt::Unquoted,
        (TagSt::Unquoted, b) if blank(b) => TagSt::BeforeAttr,
        (TagSt::Unquoted, _) => TagSt::Unquoted,
        (_, b'/') => TagSt::Slash,
        (TagSt::AttrName, b) if blank(b) => TagSt::AfterAttrName,
        (_, b) if blank(b) => TagSt::BeforeAttr,
        (TagSt::Name, _) => TagSt::Name,
        (TagSt::AttrName | TagSt::AfterAttrName, b'=') => TagSt::BeforeValue,
        // before a name, `=` starts an attribute named "="
        _ => TagSt::AttrName,
    }
}

/// Byte classes inside a tag: 0 for the bytes that no state tells apart, else the index of a
/// representative in [`CLASS_BYTES`].
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut k = 1;
    while k < CLASS_BYTES.len() {
        t[CLASS_BYTES[k] as usize] = k as u8;
        k += 1;
    }
    t[b'\t' as usize] = 1;
    t[b'\n' as usize] = 1;
    t[b'\r' as usize] = 1;
    t[0x0c] = 1;
    t
};

const CLASS_BYTES: [u8; 6] = [b'a', b' ', b'/', b'=', b'"', b'\''];

const STATES: [TagSt; 9] = [
    TagSt::Name,
    TagSt::BeforeAttr,
    TagSt::AttrName,
    TagSt::AfterAttrName,
    TagSt::BeforeValue,
    TagSt::DoubleQuoted,
    TagSt::SingleQuoted,
    TagSt::Unquoted,
    TagSt::Slash,
];

/// [`step`] as a table (two loads per byte instead of a chain of tests).
static NEXT: [[TagSt; 6]; 9] = {
    let mut t = [[TagSt::Name; 6]; 9];
    let mut s = 0;
    while s < STATES.len() {
        let mut c = 0;
        while c < CLASS_BYTES.len() {
            t[STATES[s] as usize][c] = step(STATES[s], CLASS_BYTES[c]);
            c += 1;
        }
        s += 1;
    }
    t
};

/// Scans `d[i..]` from state `st` to the tag's `>`: `Some((position after it, self-closing))`,
/// or `None` when `d` ends first (`st` is then where the tag stands).
pub(super) fn scan(st: &mut TagSt, d: &[u8], mut i: usize) -> Option<(usize, bool)> {
    while i < d.len() {
        if let TagSt::DoubleQuoted | TagSt::SingleQuoted = *st {
            let q = if *st == TagSt::DoubleQuoted {
                b'"'
            } else {
                b'\''
            };
            let k = memchr::memchr(q, &d[i..])?;
            i += k + 1;
            *st = TagSt::BeforeAttr;
            continue;
        }
        let b = d[i];
        i += 1;
        if b == b'>' {
            return Some((i, *st == TagSt::Slash));
        }
        *st = NEXT[*st as usize][CLASS[b as usize] as usize];
    }
    None
}

/// The end of a tag whose self-closing flag does not matter, its name ending before `d[j]`:
/// the position after its `>`, or `None` when `d` ends first. The same places as [`scan`]
/// from [`TagSt::Name`], but only quotes need the state machine (a quote opens a value only
/// right after an `=`), so the stretches between them are searched eight bytes at a time.
pub(super) fn end(d: &[u8], mut j: usize) -> Option<usize> {
    if d.get(j) == Some(&b'>') {
        return Some(j + 1); // `<p>`, `</div>`
    }
    let mut st = TagSt::Name;
    loop {
        let k = find3(d, j, b'>', b'"', b'\'')?;
        let b = d[k];
        if b == b'>' {
            return Some(k + 1);
        }
        for &c in &d[j..k] {
            st = NEXT[st as usize][CLASS[c as usize] as usize];
        }
        if st == TagSt::BeforeValue {
            j = find1(d, k + 1, b)? + 1;
            st = TagSt::BeforeAttr;
        } else {
            st = NEXT[st as usize][CLASS[b as usize] as usize];
            j = k + 1;
        }
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The bytes of `w` equal to `b` have their high bit set (and maybe some bytes above the
/// first such one: the lowest set bit is exact).
#[inline]
fn eq_mask(w: u64, b: u8) -> u64 {
    let x = w ^ (LO * b as u64);
    x.wrapping_sub(LO) & !x & HI
}

/// The first of `a`, `b`, `c` in `d[i..]`, eight bytes at a time.
#[inline]
pub(super) fn find3(d: &[u8], mut i: usize, a: u8, b: u8, c: u8) -> Option<usize> {
    while let Some(w) = d.get(i..i + 8) {
        let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
        let m = eq_mask(w, a) | eq_mask(w, b) | eq_mask(w, c);
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    d[i..]
        .iter()
        .position(|&x| x == a || x == b || x == c)
        .map(|k| i + k)
}

/// The first `b` in `d[i..]`: the first 32 bytes eight at a time (the text between two tags
/// of a dense page is short, where a `memchr` call costs more), the rest with `memchr`.
#[inline]
pub(super) fn find1(d: &[u8], mut i: usize, b: u8) -> Option<usize> {
    let near = d.len().min(i + 32);
    while let Some(w) = d.get(i..i + 8).filter(|_| i + 8 <= near) {
        let m = eq_mask(u64::from_le_bytes(w.try_into().unwrap_or_default()), b);
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    memchr::memchr(b, &d[i..]).map(|k| i + k)
}

#[cfg(test)]
#[test]
fn the_table_is_the_state_machine() {
    for s in STATES {
        for b in 0..=255u8 {
            if b != b'>' {
                assert_eq!(
                    NEXT[s as usize][CLASS[b as usize] as usize],
                    step(s, b),
                    "{s:?} {b}"
                );
            }
        }
    }
}

#[cfg(test)]
#[test]
fn end_is_scan_without_the_self_closing_flag() {
    let bytes = [
        b'a', b' ', b'\t', b'/', b'=', b'"', b'\'', b'>', b'x', b'\n',
    ];
    let mut r = 0x9e37_79b9_7f4a_7c15u64;
    for n in 0..200_000 {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        let len = (r % 24) as usize;
        let mut s = r;
        let d: Vec<u8> = (0..len)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                bytes[(s >> 33) as usize % bytes.len()]
            })
            .collect();
        let mut st = TagSt::Name;
        let want = scan(&mut st, &d, 0).map(|(j, _)| j);
        assert_eq!(end(&d, 0), want, "{n}: {:?}", String::from_utf8_lossy(&d));
    }
}

#[cfg(test)]
#[test]
fn finds_the_first_byte() {
    let d = b"0123456789abcdef<0123456789abcdef0123456789>'\"<".repeat(3);
    for i in 0..d.len() {
        let want = |set: &[u8]| d[i..].iter().position(|b| set.contains(b)).map(|k| i + k);
        assert_eq!(find1(&d, i, b'<'), want(b"<"));
        assert_eq!(find3(&d, i, b'>', b'"', b'\''), want(b">\"'"));
        // bytes with the high bit set, and one below the wanted one (borrows)
        let e: Vec<u8> = d[i..]
            .iter()
            .map(|&b| if b == b'0' { 0xbc } else { b - 1 })
            .collect();
        assert_eq!(find1(&e, 0, b'<'), e.iter().position(|&b| b == b'<'));
    }
}
