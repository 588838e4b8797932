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
