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

fn blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// The state after byte `b` (not `>`, which ends the tag unless quoted).
fn step(st: TagSt, b: u8) -> TagSt {
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
        *st = step(*st, b);
    }
    None
}
