//! Byte classification, 64 bytes at a time: bit masks of the delimiters in a block.
//!
//! The data area is short keys and values between delimiters (an item is about 18 bytes), so a
//! parser that searches for the next delimiter item by item spends its time starting and
//! stopping searches and mispredicting where they end. Instead, [`Block::of`] turns 64
//! bytes into bit masks (bit *i* set when byte *i* is a delimiter) with a handful of vector
//! instructions; callers then walk the set bits, or check the whole block with bit arithmetic.
//!
//! On x86-64 this uses SSE2, which every x86-64 processor has; elsewhere a portable loop computes
//! the same masks. The two are checked against each other by the tests.

/// Size of a block in bytes (one bit per byte in a `u64`).
pub(crate) const BLOCK: usize = 64;

/// The classes of the bytes of one block. Bits past the end of the input are 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Block {
    /// `=`.
    pub(crate) eq: u64,
    /// `;` or `,`.
    pub(crate) sep: u64,
    /// `&`.
    pub(crate) amp: u64,
    /// Bytes up to `0x20`: ASCII whitespace, control characters and NUL (a superset of what
    /// `u8::is_ascii_whitespace` accepts).
    pub(crate) low: u64,
    /// `\n` (also in `low`).
    pub(crate) lf: u64,
    /// Bytes from `0x80`: not ASCII.
    pub(crate) high: u64,
}

impl Block {
    /// Classifies the 64 bytes of `b`.
    #[inline(always)]
    pub(crate) fn of(b: &[u8; BLOCK]) -> Block {
        imp::classify(b)
    }

    /// Classifies the last bytes of `b` (at most 64), from offset `from`.
    #[inline]
    pub(crate) fn tail(b: &[u8], from: usize) -> Block {
        let rest = &b[from..];
        debug_assert!(rest.len() <= BLOCK);
        let mut padded = [b'_'; BLOCK];
        padded[..rest.len()].copy_from_slice(rest);
        imp::classify(&padded)
    }

    /// Only the structural bytes of the data area, `=`, `;` and `,`, of the `min(64, len -
    /// from)` bytes of `b` from `from`.
    #[inline(always)]
    pub(crate) fn structural(b: &[u8], from: usize) -> u64 {
        let rest = &b[from..];
        if let Some(block) = rest.first_chunk::<BLOCK>() {
            return imp::structural(block);
        }
        if rest.is_empty() {
            return 0;
        }
        if let Some(start) = b.len().checked_sub(BLOCK) {
            // Re-read the last whole block and drop the bytes before `from`.
            let last = b[start..].first_chunk::<BLOCK>().expect("64 bytes");
            return imp::structural(last) >> (from - start);
        }
        let mut padded = [b'_'; BLOCK];
        padded[..rest.len()].copy_from_slice(rest);
        imp::structural(&padded)
    }
}

/// A cursor over the positions of `=`, `;` and `,` in a byte string, in order.
#[derive(Clone, Debug)]
pub(crate) struct Delimiters {
    /// Offset of the block that `bits` describes.
    block: usize,
    /// The delimiters of that block not yet visited.
    bits: u64,
    /// The delimiters of the block after it (0 past the end), classified one block ahead so
    /// that moving on does not wait for the classification.
    ahead: u64,
}

impl Delimiters {
    /// A cursor at the start of `b`.
    #[inline]
    pub(crate) fn new(b: &[u8]) -> Delimiters {
        Delimiters {
            block: 0,
            bits: Block::structural(b, 0),
            ahead: if b.len() > BLOCK {
                Block::structural(b, BLOCK)
            } else {
                0
            },
        }
    }

    /// Position of the next delimiter in `b` (the bytes given to [`new`](Self::new)), or `None`
    /// at the end.
    #[inline(always)]
    pub(crate) fn next(&mut self, b: &[u8]) -> Option<usize> {
        while self.bits == 0 {
            if self.block + BLOCK >= b.len() {
                return None;
            }
            self.block += BLOCK;
            self.bits = self.ahead;
            self.ahead = if self.block + BLOCK < b.len() {
                Block::structural(b, self.block + BLOCK)
            } else {
                0
            };
        }
        let at = self.block + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(at)
    }

    /// The next two delimiters when both are in the current block (the common case of an item
    /// `name=value;`), without moving otherwise.
    #[inline(always)]
    pub(crate) fn next_pair(&mut self) -> Option<(usize, usize)> {
        let first = self.bits;
        let rest = first & first.wrapping_sub(1);
        if rest == 0 {
            return None;
        }
        self.bits = rest & (rest - 1);
        Some((
            self.block + first.trailing_zeros() as usize,
            self.block + rest.trailing_zeros() as usize,
        ))
    }

    /// Position of the next delimiter at or after `pos`, skipping earlier ones.
    #[inline]
    pub(crate) fn next_from(&mut self, b: &[u8], pos: usize) -> Option<usize> {
        loop {
            let at = self.next(b)?;
            if at >= pos {
                return Some(at);
            }
        }
    }
}

/// Bit *i* of the result is the XOR of bits 0..=*i* of `x`: set where an odd number of bits
/// of `x` have been seen.
#[inline]
pub(crate) fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The portable classification; the reference the SSE2 version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
mod portable {
    use super::{Block, BLOCK};

    pub(super) fn classify(b: &[u8; BLOCK]) -> Block {
        let mut out = Block::default();
        for (i, &c) in b.iter().enumerate() {
            let bit = 1u64 << i;
            match c {
                b'=' => out.eq |= bit,
                b';' | b',' => out.sep |= bit,
                b'&' => out.amp |= bit,
                b'\n' => {
                    out.low |= bit;
                    out.lf |= bit;
                }
                0..=0x20 => out.low |= bit,
                0x80.. => out.high |= bit,
                _ => {}
            }
        }
        out
    }

    pub(super) fn structural(b: &[u8; BLOCK]) -> u64 {
        let c = classify(b);
        c.eq | c.sep
    }
}

#[cfg(not(target_arch = "x86_64"))]
use portable as imp;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod imp {
    //! SSE2 is part of the x86-64 baseline, so these intrinsics are always available; the only
    //! `unsafe` operations are the intrinsic calls and 16-byte loads from a 64-byte array.

    use super::{Block, BLOCK};
    use core::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    #[inline(always)]
    fn lanes(b: &[u8; BLOCK]) -> [__m128i; 4] {
        // SAFETY: each load reads 16 bytes at offset 0, 16, 32 or 48 of a 64-byte array, and
        // `_mm_loadu_si128` has no alignment requirement. SSE2 is always enabled on x86-64.
        unsafe {
            let p = b.as_ptr().cast::<__m128i>();
            [
                _mm_loadu_si128(p),
                _mm_loadu_si128(p.add(1)),
                _mm_loadu_si128(p.add(2)),
                _mm_loadu_si128(p.add(3)),
            ]
        }
    }

    /// Bits of the bytes equal to `c`, from the four lanes.
    #[inline(always)]
    fn eq_mask(v: &[__m128i; 4], c: u8) -> u64 {
        // SAFETY: SSE2 is always enabled on x86-64; these intrinsics only compute on registers.
        unsafe {
            let c = _mm_set1_epi8(c as i8);
            let m = |x| _mm_movemask_epi8(_mm_cmpeq_epi8(x, c)) as u16 as u64;
            m(v[0]) | m(v[1]) << 16 | m(v[2]) << 32 | m(v[3]) << 48
        }
    }

    #[inline(always)]
    pub(super) fn classify(b: &[u8; BLOCK]) -> Block {
        let v = lanes(b);
        // SAFETY: as in `eq_mask`.
        unsafe {
            let (semi, comma) = (_mm_set1_epi8(b';' as i8), _mm_set1_epi8(b',' as i8));
            let sep = |x| {
                let hit = _mm_or_si128(_mm_cmpeq_epi8(x, semi), _mm_cmpeq_epi8(x, comma));
                _mm_movemask_epi8(hit) as u16 as u64
            };
            let limit = _mm_set1_epi8(0x20);
            // x <= 0x20 (unsigned) exactly when min(x, 0x20) == x.
            let low = |x| _mm_cmpeq_epi8(_mm_min_epu8(x, limit), x);
            let amp = _mm_set1_epi8(b'&' as i8);
            // '&', low and non-ASCII bytes are rare: find out whether there are any at all
            // first. (A non-ASCII byte has its top bit set, which is what movemask reads.)
            let rare = |x| _mm_or_si128(_mm_or_si128(low(x), _mm_cmpeq_epi8(x, amp)), x);
            let any_rare = _mm_or_si128(
                _mm_or_si128(rare(v[0]), rare(v[1])),
                _mm_or_si128(rare(v[2]), rare(v[3])),
            );
            let mut block = Block {
                eq: eq_mask(&v, b'='),
                sep: sep(v[0]) | sep(v[1]) << 16 | sep(v[2]) << 32 | sep(v[3]) << 48,
                ..Block::default()
            };
            if _mm_movemask_epi8(any_rare) != 0 {
                let low = |x| _mm_movemask_epi8(low(x)) as u16 as u64;
                let high = |x| _mm_movemask_epi8(x) as u16 as u64;
                block.amp = eq_mask(&v, b'&');
                block.lf = eq_mask(&v, b'\n');
                block.low = low(v[0]) | low(v[1]) << 16 | low(v[2]) << 32 | low(v[3]) << 48;
                block.high = high(v[0]) | high(v[1]) << 16 | high(v[2]) << 32 | high(v[3]) << 48;
            }
            block
        }
    }

    #[inline(always)]
    pub(super) fn structural(b: &[u8; BLOCK]) -> u64 {
        let v = lanes(b);
        // SAFETY: as in `eq_mask`.
        unsafe {
            let (eq, semi, comma) = (
                _mm_set1_epi8(b'=' as i8),
                _mm_set1_epi8(b';' as i8),
                _mm_set1_epi8(b',' as i8),
            );
            let m = |x| {
                let hit = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(x, eq), _mm_cmpeq_epi8(x, semi)),
                    _mm_cmpeq_epi8(x, comma),
                );
                _mm_movemask_epi8(hit) as u16 as u64
            };
            m(v[0]) | m(v[1]) << 16 | m(v[2]) << 32 | m(v[3]) << 48
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(b: &[u8], from: usize) -> Block {
        let mut out = Block::default();
        for (i, &c) in b[from..].iter().take(BLOCK).enumerate() {
            let bit = 1u64 << i;
            match c {
                b'=' => out.eq |= bit,
                b';' | b',' => out.sep |= bit,
                b'&' => out.amp |= bit,
                b'\n' => {
                    out.low |= bit;
                    out.lf |= bit;
                }
                0..=0x20 => out.low |= bit,
                0x80.. => out.high |= bit,
                _ => {}
            }
        }
        out
    }

    proptest! {
        #[test]
        fn classification_matches_a_byte_loop(
            bytes in prop::collection::vec(
                prop::sample::select(b"a=;,& \t\x00\x1f\x20\x21\x7f\x80\xff#".to_vec()),
                0..200,
            ),
            from in 0usize..200,
        ) {
            let from = from.min(bytes.len());
            let expected = naive(&bytes, from);
            if bytes.len() - from < BLOCK {
                prop_assert_eq!(Block::tail(&bytes, from), expected);
            }
            prop_assert_eq!(Block::structural(&bytes, from), expected.eq | expected.sep);
            if let Some(block) = bytes[from..].first_chunk::<BLOCK>() {
                prop_assert_eq!(portable::classify(block), expected);
                prop_assert_eq!(Block::of(block), expected);
            }
        }

        #[test]
        fn delimiters_are_visited_in_order(
            bytes in prop::collection::vec(prop::sample::select(b"a=;,".to_vec()), 0..300),
            from in 0usize..300,
        ) {
            let expected: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != b'a').collect();
            let mut d = Delimiters::new(&bytes);
            let mut got = Vec::new();
            while let Some(at) = d.next(&bytes) {
                got.push(at);
            }
            prop_assert_eq!(&got, &expected);
            let mut d = Delimiters::new(&bytes);
            let mut pairs = Vec::new();
            loop {
                if let Some((a, b)) = d.next_pair() {
                    pairs.extend([a, b]);
                } else if let Some(a) = d.next(&bytes) {
                    pairs.push(a);
                } else {
                    break;
                }
            }
            prop_assert_eq!(&pairs, &expected);
            let mut d = Delimiters::new(&bytes);
            prop_assert_eq!(d.next_from(&bytes, from), expected.iter().copied().find(|&i| i >= from));
        }

        #[test]
        fn prefix_xor_is_a_running_parity(x in any::<u64>()) {
            let px = prefix_xor(x);
            for i in 0..64 {
                let parity = (x & (u64::MAX >> (63 - i))).count_ones() & 1;
                prop_assert_eq!((px >> i) & 1, u64::from(parity));
            }
        }
    }
}
