//! Byte buffers in an allocator of the caller's (nginx's request pool, mostly).

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

/// Appends `s` to `out` in one copy. (`allocator_api2`'s `extend_from_slice` pushes byte by
/// byte: ~10 instructions a byte on the request path.)
#[inline]
#[allow(unsafe_code)]
pub fn put<A: Allocator>(out: &mut Vec<u8, A>, s: &[u8]) {
    out.reserve(s.len());
    let len = out.len();
    // SAFETY: `reserve` made room for `s.len()` more bytes past `len`; `s` cannot overlap
    // `out`'s spare capacity (it is borrowed shared while `out` is borrowed unique); the
    // bytes are initialised before the length covers them
    unsafe {
        core::ptr::copy_nonoverlapping(s.as_ptr(), out.as_mut_ptr().add(len), s.len());
        out.set_len(len + s.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_across_growth() {
        let mut v = Vec::new();
        let mut want = std::vec::Vec::new();
        for i in 0..200usize {
            let s: std::vec::Vec<u8> = (0..i % 37).map(|j| (i + j) as u8).collect();
            put(&mut v, &s);
            want.extend_from_slice(&s);
            assert_eq!(&v[..], &want[..]);
        }
        put(&mut v, b"");
        assert_eq!(v.len(), want.len());
    }
}
