//! Framing: `##` + 4-digit length + data segment + 4 hex CRC + CRLF (HJ 212-2017 §6.3.1, Table 2).
//!
//! This module checks one frame held in memory ([`decode_frame`]); [`StreamDecoder`](crate::StreamDecoder)
//! applies the same check to a TCP byte stream. Both share [`examine`], so a packet gets the same
//! verdict whichever way it arrives.

use crate::cp::{CpHint, ShapeCheck};
use crate::crc::{self, CrcAlgorithm};
use crate::scan::{Block, BLOCK};
use crate::segment::{parse_segment_hinted, DataSegment, ParseError};
use crate::tolerance::{Deviation, Deviations, Tolerance};

/// Bytes of a frame that are not data segment: `##`, length, CRC, CRLF.
pub const FRAME_OVERHEAD: usize = 12;

/// Offset of the data segment in a frame (`##` + 4 length digits).
pub(crate) const HEADER_LEN: usize = 6;

/// A frame whose length, tail and CRC have been verified. Borrows the bytes it was decoded from.
///
/// The data segment is still raw bytes here; [`Frame::parse`] reads its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    wire: &'a [u8],
    seg_len: u16,
    crc_sent: u16,
    algorithm: CrcAlgorithm,
    crc_lowercase: bool,
    /// Whether the data segment is all ASCII (found by the frame check).
    ascii: bool,
    /// The data area as the frame check saw it.
    cp: Option<CpHint>,
    deviations: Deviations,
}

impl<'a> Frame<'a> {
    pub(crate) fn from_meta(wire: &'a [u8], meta: &FrameMeta) -> Frame<'a> {
        Frame {
            wire,
            seg_len: meta.seg_len,
            crc_sent: meta.crc_sent,
            algorithm: meta.algorithm,
            crc_lowercase: meta.crc_lowercase,
            ascii: meta.ascii,
            cp: meta.cp,
            deviations: meta.deviations,
        }
    }

    /// The data segment: the bytes between the length field and the CRC field.
    #[must_use]
    pub fn segment(&self) -> &'a [u8] {
        &self.wire[HEADER_LEN..HEADER_LEN + usize::from(self.seg_len)]
    }

    /// The whole frame as received, `##` to the final `\n` (for logging rejected or odd packets).
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.wire
    }

    /// The CRC value found in the packet.
    #[must_use]
    pub fn crc(&self) -> u16 {
        self.crc_sent
    }

    /// Which algorithm the CRC matched: [`CrcAlgorithm::Hj212`] unless a CRC deviation was tolerated.
    #[must_use]
    pub fn crc_algorithm(&self) -> CrcAlgorithm {
        self.algorithm
    }

    /// Whether the CRC was printed with lower-case hex letters (`1dc0`). Informational: the
    /// comparison is case-insensitive and this is not a [`Deviation`].
    #[must_use]
    pub fn crc_lowercase(&self) -> bool {
        self.crc_lowercase
    }

    /// Framing-level deviations accepted for this frame (CRC algorithm, over-size, bare LF).
    #[must_use]
    pub fn deviations(&self) -> Deviations {
        self.deviations
    }

    /// Parses the data segment under `tolerance`.
    ///
    /// # Errors
    /// [`ParseError`] if the segment is not UTF-8 or not a well-formed HJ 212 data segment.
    pub fn parse(&self, tolerance: &Tolerance) -> Result<DataSegment<'a>, ParseError> {
        let segment = self.segment();
        let text = if self.ascii {
            // SAFETY: the frame check found every byte of this segment to be ASCII (see
            // `examine`; `Frame` is only built from its result), and ASCII is valid UTF-8.
            #[allow(unsafe_code)]
            unsafe {
                std::str::from_utf8_unchecked(segment)
            }
        } else {
            std::str::from_utf8(segment).map_err(|e| ParseError::NotUtf8 {
                valid_up_to: e.valid_up_to(),
            })?
        };
        parse_segment_hinted(text, tolerance, self.cp)
    }
}

/// Why bytes were not accepted as a frame.
///
/// In a stream, every error also says how the decoder resynchronised: errors found after the
/// tail was located (`BadCrcField`, `CrcMismatch`, `BareLfTail`, `LengthMismatch`) drop exactly
/// that packet; the others drop the `##` (or the header) and skip to the next `##`, reporting the
/// bytes passed over as [`FrameError::Skipped`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Bytes that were not part of any frame were discarded while looking for `##`.
    #[error("skipped {bytes} bytes that were not part of a packet")]
    Skipped {
        /// Number of bytes discarded.
        bytes: usize,
    },
    /// The input does not begin with `##` (one-shot decoding only).
    #[error("input does not start with the packet header `##`")]
    MissingHeader,
    /// The 4 characters after `##` are not decimal digits.
    #[error("length field `{}` is not 4 decimal digits", found.escape_ascii())]
    BadLengthField {
        /// The 4 bytes found.
        found: [u8; 4],
    },
    /// The length field exceeds the accepted limit: 1024, or the over-size cap when
    /// [`Deviation::OversizeSegment`] is tolerated.
    #[error("data segment length {declared} exceeds the limit of {limit}")]
    SegmentTooLong {
        /// Length announced by the header.
        declared: usize,
        /// Limit in force.
        limit: usize,
    },
    /// The packet's tail is not where the length field says; the real data segment (up to the
    /// first line feed) has `actual` bytes.
    #[error("length field says {declared} but the data segment has {actual} bytes")]
    LengthMismatch {
        /// Length announced by the header.
        declared: usize,
        /// Length implied by the position of the packet's line feed.
        actual: usize,
    },
    /// No CRLF at the position given by the length field, and no line feed that could end this
    /// packet before the next `##`.
    #[error("no packet tail after the {declared}-byte data segment announced by the header")]
    MissingTail {
        /// Length announced by the header.
        declared: usize,
    },
    /// The packet ends in a bare `\n` and [`Deviation::BareLfTail`] is not tolerated.
    #[error("packet ends in a bare line feed instead of CRLF")]
    BareLfTail,
    /// The 4 characters of the CRC field are not hex digits.
    #[error("CRC field `{}` is not 4 hex digits", found.escape_ascii())]
    BadCrcField {
        /// The 4 bytes found.
        found: [u8; 4],
    },
    /// The CRC field does not match the data segment under any accepted algorithm.
    #[error(
        "CRC mismatch: packet says {sent:04X}, HJ 212 CRC of the data segment is {computed:04X}"
    )]
    CrcMismatch {
        /// Value in the packet.
        sent: u16,
        /// HJ 212 CRC computed over the data segment.
        computed: u16,
    },
    /// The input ends before the frame does (one-shot decoding, or end of stream).
    #[error("input ends after {available} bytes, inside a packet")]
    Truncated {
        /// Bytes available from the start of the frame.
        available: usize,
    },
    /// Bytes follow the frame's tail (one-shot decoding only).
    #[error("{extra} bytes follow the packet tail")]
    TrailingBytes {
        /// Number of extra bytes.
        extra: usize,
    },
}

/// What [`examine`] found at the start of a buffer that begins with `##`.
#[derive(Debug)]
pub(crate) enum Examined {
    /// More bytes are needed to decide.
    Incomplete,
    /// A valid frame of `meta.total` bytes.
    Frame(FrameMeta),
    /// Not a valid frame; drop `consume` bytes before looking again.
    Error { error: FrameError, consume: usize },
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameMeta {
    pub(crate) total: usize,
    seg_len: u16,
    crc_sent: u16,
    algorithm: CrcAlgorithm,
    crc_lowercase: bool,
    ascii: bool,
    cp: Option<CpHint>,
    deviations: Deviations,
}

/// What the frame check learns about a data segment in its pass over the bytes, beside the
/// CRC: whether there is a line feed, whether it is all ASCII, and the shape of the data area.
struct SegmentScan<'s> {
    segment: &'s [u8],
    lf: bool,
    high: bool,
    cp: CpScan,
}

enum CpScan {
    /// No `&` seen yet.
    Searching,
    /// Checking the data area that follows the first `&&`.
    Checking(ShapeCheck),
    /// The first `&` is not a `&&` that leaves room for the closing one: leave it to the parser.
    Unknown,
}

impl<'s> SegmentScan<'s> {
    fn new(segment: &'s [u8]) -> SegmentScan<'s> {
        SegmentScan {
            segment,
            lf: false,
            high: false,
            cp: CpScan::Searching,
        }
    }

    #[inline(always)]
    fn feed(&mut self, block: Block, at: usize) {
        self.lf |= block.lf != 0;
        self.high |= block.high != 0;
        match &mut self.cp {
            CpScan::Checking(check) => check.feed(block, at),
            CpScan::Searching if block.amp != 0 => {
                let amp = at + block.amp.trailing_zeros() as usize;
                let (start, end) = (amp + 2, self.segment.len().saturating_sub(2));
                self.cp = if self.segment.get(amp + 1) == Some(&b'&') && start <= end {
                    let mut check = ShapeCheck::new(start, end);
                    check.feed(block, at);
                    CpScan::Checking(check)
                } else {
                    CpScan::Unknown
                };
            }
            CpScan::Searching | CpScan::Unknown => {}
        }
    }

    /// The CRC of the segment, computed while feeding every block to the scan.
    fn crc(&mut self) -> u16 {
        let segment = self.segment;
        let crc = crc::hj212_visiting(segment, |block, at| self.feed(Block::of(block), at));
        // The CRC loop visits whole blocks of all but the last byte; classify the rest.
        let rest = segment.len().saturating_sub(1) / BLOCK * BLOCK;
        if rest < segment.len() {
            self.feed(Block::tail(segment, rest), rest);
        }
        crc
    }

    fn cp(&self) -> Option<CpHint> {
        match &self.cp {
            CpScan::Checking(check) => Some(CpHint {
                start: check.start(),
                shape: check.finish(),
            }),
            CpScan::Searching | CpScan::Unknown => None,
        }
    }
}

/// Position of the first `\n` in `buf[from..to]`.
fn find_lf(buf: &[u8], from: usize, to: usize) -> Option<usize> {
    let to = to.min(buf.len());
    if from >= to {
        return None;
    }
    let hay = &buf[from..to];
    // `contains` on bytes is a word-at-a-time search; the common answer is "none".
    if !hay.contains(&b'\n') {
        return None;
    }
    hay.iter().position(|&b| b == b'\n').map(|p| p + from)
}

/// Whether `##` occurs inside `buf[from..to]`.
fn contains_header(buf: &[u8], from: usize, to: usize) -> bool {
    to > from + 1 && buf[from..to].windows(2).any(|w| w == b"##")
}

/// Verdict for a line feed at `lf` that is not where the header said the tail would be.
fn misplaced_tail(buf: &[u8], declared: usize, lf: usize) -> Examined {
    let cr = usize::from(buf[lf - 1] == b'\r');
    match lf.checked_sub(HEADER_LEN + 4 + cr) {
        Some(actual) if !contains_header(buf, HEADER_LEN, lf) => Examined::Error {
            error: FrameError::LengthMismatch { declared, actual },
            consume: lf + 1,
        },
        _ => Examined::Error {
            error: FrameError::MissingTail { declared },
            consume: 2,
        },
    }
}

/// Checks the frame at the start of `buf`, which begins with `##`.
///
/// `lf_scanned` remembers how far an earlier call looked for a line feed in the same frame, so
/// that feeding a frame in many small pieces stays linear. `more_possible` says whether more
/// bytes can still arrive behind `buf` (false for one-shot decoding and for a full stream buffer).
pub(crate) fn examine(
    buf: &[u8],
    tolerance: &Tolerance,
    more_possible: bool,
    lf_scanned: &mut usize,
) -> Examined {
    debug_assert!(buf.starts_with(b"##"));
    if buf.len() < HEADER_LEN {
        return Examined::Incomplete;
    }
    let digits = [buf[2], buf[3], buf[4], buf[5]];
    if !digits.iter().all(u8::is_ascii_digit) {
        return Examined::Error {
            error: FrameError::BadLengthField { found: digits },
            consume: 2,
        };
    }
    let declared = digits
        .iter()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
    let limit = tolerance.segment_limit();
    if declared > limit {
        return Examined::Error {
            error: FrameError::SegmentTooLong { declared, limit },
            consume: HEADER_LEN,
        };
    }
    let mut deviations = Deviations::EMPTY;
    if declared > crate::tolerance::MAX_SEGMENT_LEN {
        deviations.insert(Deviation::OversizeSegment);
    }
    let crc_at = HEADER_LEN + declared;
    let tail_at = crc_at + 4;

    // A line feed ends a packet, so one before the tail position proves the length field wrong.
    // Checking this whether or not the frame is complete makes the verdict independent of how
    // the bytes were split into reads, and reports a short packet without waiting for the next.
    if buf.len() <= tail_at {
        if let Some(lf) = find_lf(buf, (*lf_scanned).max(HEADER_LEN), buf.len()) {
            return misplaced_tail(buf, declared, lf);
        }
        *lf_scanned = buf.len();
        return Examined::Incomplete;
    }
    // Complete: one pass computes the CRC and looks for a line feed in the segment.
    let segment = &buf[HEADER_LEN..crc_at];
    let mut scan = SegmentScan::new(segment);
    let computed = scan.crc();
    let segment_has_lf = scan.lf;
    if segment_has_lf || buf[crc_at..tail_at].contains(&b'\n') {
        if let Some(lf) = find_lf(buf, HEADER_LEN, tail_at) {
            return misplaced_tail(buf, declared, lf);
        }
    }
    *lf_scanned = tail_at;
    let total = match buf[tail_at] {
        b'\r' => match buf.get(tail_at + 1) {
            None => return Examined::Incomplete,
            Some(b'\n') => tail_at + 2,
            Some(_) => return tail_not_found(buf, declared, more_possible, lf_scanned),
        },
        // CRLF one byte early: the "CRC field" holds the '\r', so the length field is wrong.
        b'\n' if buf[tail_at - 1] == b'\r' => return misplaced_tail(buf, declared, tail_at),
        b'\n' => {
            if !tolerance.allows(Deviation::BareLfTail) {
                return Examined::Error {
                    error: FrameError::BareLfTail,
                    consume: tail_at + 1,
                };
            }
            deviations.insert(Deviation::BareLfTail);
            tail_at + 1
        }
        _ => return tail_not_found(buf, declared, more_possible, lf_scanned),
    };

    let field = [
        buf[crc_at],
        buf[crc_at + 1],
        buf[crc_at + 2],
        buf[crc_at + 3],
    ];
    let Some((crc_sent, crc_lowercase)) = crc::parse_hex(field) else {
        return Examined::Error {
            error: FrameError::BadCrcField { found: field },
            consume: total,
        };
    };
    let algorithm = if computed == crc_sent {
        CrcAlgorithm::Hj212
    } else {
        match matching_deviant_crc(segment, crc_sent, tolerance) {
            Some((algorithm, deviation)) => {
                deviations.insert(deviation);
                algorithm
            }
            None => {
                return Examined::Error {
                    error: FrameError::CrcMismatch {
                        sent: crc_sent,
                        computed,
                    },
                    consume: total,
                }
            }
        }
    };
    Examined::Frame(FrameMeta {
        total,
        seg_len: declared as u16,
        crc_sent,
        algorithm,
        crc_lowercase,
        ascii: !scan.high,
        cp: scan.cp(),
        deviations,
    })
}

/// The tail is not where the header said: find the packet's real end, if there is one.
///
/// The real line feed may still be on its way (the length field understates the segment). While
/// more bytes can come and no next `##` has started, wait for it; otherwise give up on this
/// header and resynchronise.
fn tail_not_found(
    buf: &[u8],
    declared: usize,
    more_possible: bool,
    lf_scanned: &mut usize,
) -> Examined {
    let from = (*lf_scanned).max(HEADER_LEN);
    if let Some(lf) = find_lf(buf, from, buf.len()) {
        return misplaced_tail(buf, declared, lf);
    }
    if more_possible && !contains_header(buf, (from - 1).max(HEADER_LEN), buf.len()) {
        *lf_scanned = buf.len();
        return Examined::Incomplete;
    }
    Examined::Error {
        error: FrameError::MissingTail { declared },
        consume: 2,
    }
}

/// Checks the tolerated non-standard CRC algorithms, cheapest-to-explain first.
fn matching_deviant_crc(
    segment: &[u8],
    sent: u16,
    tolerance: &Tolerance,
) -> Option<(CrcAlgorithm, Deviation)> {
    let plain = tolerance.allows(Deviation::CrcModbus);
    let swapped = tolerance.allows(Deviation::CrcModbusSwapped);
    if !plain && !swapped {
        return None;
    }
    let m = crc::modbus(segment);
    if plain && m == sent {
        Some((CrcAlgorithm::Modbus, Deviation::CrcModbus))
    } else if swapped && m.swap_bytes() == sent {
        Some((CrcAlgorithm::ModbusSwapped, Deviation::CrcModbusSwapped))
    } else {
        None
    }
}

/// Decodes exactly one frame held in memory (`##` … CRLF, nothing before or after).
///
/// ```
/// use cpaudit_hj212::{decode_frame, Tolerance};
/// let wire = b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n";
/// let frame = decode_frame(wire, &Tolerance::STRICT)?;
/// assert_eq!(frame.segment().len(), 101);
/// assert_eq!(frame.crc(), 0x1C80);
/// assert!(frame.deviations().is_empty());
/// # Ok::<(), cpaudit_hj212::FrameError>(())
/// ```
///
/// # Errors
/// [`FrameError`] describing the first problem found.
pub fn decode_frame<'a>(input: &'a [u8], tolerance: &Tolerance) -> Result<Frame<'a>, FrameError> {
    if !input.starts_with(b"##") {
        return Err(if input.len() < 2 && b"##".starts_with(input) {
            FrameError::Truncated {
                available: input.len(),
            }
        } else {
            FrameError::MissingHeader
        });
    }
    let mut scanned = 0;
    match examine(input, tolerance, false, &mut scanned) {
        Examined::Incomplete => Err(FrameError::Truncated {
            available: input.len(),
        }),
        Examined::Error { error, .. } => Err(error),
        Examined::Frame(meta) if meta.total < input.len() => Err(FrameError::TrailingBytes {
            extra: input.len() - meta.total,
        }),
        Examined::Frame(meta) => Ok(Frame::from_meta(input, &meta)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_shape_found_beside_the_crc_is_the_data_areas(
            header in "[A-Z]{1,3}=[0-9]{0,70};CP=",
            inner in "([a-c]{0,9}=[a-c0-9.=]{0,9}[;,]{0,2}| |&){0,60}",
        ) {
            let segment = format!("{header}&&{inner}&&");
            let mut scan = SegmentScan::new(segment.as_bytes());
            scan.crc();
            let hint = scan.cp().expect("the segment has a data area");
            prop_assert_eq!(hint.start, header.len() + 2);
            prop_assert_eq!(hint.shape, crate::cp::shape(inner.as_bytes()));
        }

        #[test]
        fn the_scan_beside_the_crc_agrees_with_separate_checks(
            segment in prop::collection::vec(
                prop::sample::select(b"aZ09=;,&& \n\r\x80\xe4".to_vec()),
                0..400,
            ),
        ) {
            let mut scan = SegmentScan::new(&segment);
            prop_assert_eq!(scan.crc(), crc::hj212(&segment));
            prop_assert_eq!(scan.lf, segment.contains(&b'\n'));
            prop_assert_eq!(!scan.high, segment.is_ascii());
            let first_amp = segment.iter().position(|&b| b == b'&');
            match scan.cp() {
                Some(hint) => {
                    let amp = first_amp.expect("a hint needs an '&'");
                    prop_assert_eq!(&segment[amp..amp + 2], b"&&");
                    prop_assert_eq!(hint.start, amp + 2);
                    let inner = &segment[hint.start..segment.len() - 2];
                    prop_assert_eq!(hint.shape, crate::cp::shape(inner));
                }
                None => {
                    let no_room = first_amp.is_none_or(|amp| {
                        segment.get(amp + 1) != Some(&b'&') || amp + 4 > segment.len()
                    });
                    prop_assert!(no_room);
                }
            }
        }
    }

    const S01: &[u8] = b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n";

    #[test]
    fn accepts_s01() {
        let f = decode_frame(S01, &Tolerance::STRICT).unwrap();
        assert_eq!(f.as_bytes(), S01);
        assert_eq!(f.crc_algorithm(), CrcAlgorithm::Hj212);
        assert!(!f.crc_lowercase());
    }

    #[test]
    fn truncation_and_trailing_bytes() {
        for cut in 0..S01.len() {
            let err = decode_frame(&S01[..cut], &Tolerance::STRICT).unwrap_err();
            assert_eq!(err, FrameError::Truncated { available: cut }, "cut {cut}");
        }
        let mut long = S01.to_vec();
        long.extend_from_slice(b"xy");
        assert_eq!(
            decode_frame(&long, &Tolerance::STRICT),
            Err(FrameError::TrailingBytes { extra: 2 })
        );
        assert_eq!(
            decode_frame(b"x##0101", &Tolerance::STRICT),
            Err(FrameError::MissingHeader)
        );
    }

    #[test]
    fn header_errors() {
        assert_eq!(
            decode_frame(b"##01a1QN", &Tolerance::STRICT),
            Err(FrameError::BadLengthField { found: *b"01a1" })
        );
        assert_eq!(
            decode_frame(b"##1025", &Tolerance::STRICT),
            Err(FrameError::SegmentTooLong {
                declared: 1025,
                limit: 1024
            })
        );
        let tol = Tolerance::STRICT
            .allow(Deviation::OversizeSegment)
            .with_oversize_cap(2000);
        assert_eq!(
            decode_frame(b"##2001", &tol),
            Err(FrameError::SegmentTooLong {
                declared: 2001,
                limit: 2000
            })
        );
    }

    #[test]
    fn tail_errors() {
        let mut bare = S01[..S01.len() - 2].to_vec();
        bare.push(b'\n');
        assert_eq!(
            decode_frame(&bare, &Tolerance::STRICT),
            Err(FrameError::BareLfTail)
        );
        let f = decode_frame(&bare, &Tolerance::STRICT.allow(Deviation::BareLfTail)).unwrap();
        assert_eq!(f.deviations(), Deviations::only(Deviation::BareLfTail));

        let mut no_lf = S01.to_vec();
        let n = no_lf.len();
        no_lf[n - 1] = b'x';
        assert_eq!(
            decode_frame(&no_lf, &Tolerance::STRICT),
            Err(FrameError::MissingTail { declared: 101 })
        );

        // Declared 100, actual 101: the tail is one byte later than announced.
        let mut short = S01.to_vec();
        short[5] = b'0';
        assert_eq!(
            decode_frame(&short, &Tolerance::STRICT),
            Err(FrameError::LengthMismatch {
                declared: 100,
                actual: 101
            })
        );
        // Declared 102: the line feed comes before the announced tail.
        let mut long = S01.to_vec();
        long[5] = b'2';
        assert_eq!(
            decode_frame(&long, &Tolerance::STRICT),
            Err(FrameError::LengthMismatch {
                declared: 102,
                actual: 101
            })
        );
    }

    #[test]
    fn crc_errors() {
        let mut bad = S01.to_vec();
        let at = bad.len() - 6;
        bad[at..at + 4].copy_from_slice(b"1C8G");
        assert_eq!(
            decode_frame(&bad, &Tolerance::STRICT),
            Err(FrameError::BadCrcField { found: *b"1C8G" })
        );
        bad[at..at + 4].copy_from_slice(b"1C81");
        assert_eq!(
            decode_frame(&bad, &Tolerance::STRICT),
            Err(FrameError::CrcMismatch {
                sent: 0x1C81,
                computed: 0x1C80
            })
        );
        // S01 with its MODBUS CRC (0759), high byte first, and swapped.
        bad[at..at + 4].copy_from_slice(b"0759");
        assert!(decode_frame(&bad, &Tolerance::STRICT).is_err());
        assert!(decode_frame(&bad, &Tolerance::STRICT.allow(Deviation::CrcModbusSwapped)).is_err());
        let f = decode_frame(&bad, &Tolerance::STRICT.allow(Deviation::CrcModbus)).unwrap();
        assert_eq!(f.crc_algorithm(), CrcAlgorithm::Modbus);
        assert_eq!(f.deviations(), Deviations::only(Deviation::CrcModbus));
        bad[at..at + 4].copy_from_slice(b"5907");
        let f = decode_frame(&bad, &Tolerance::STRICT.allow(Deviation::CrcModbusSwapped)).unwrap();
        assert_eq!(f.crc_algorithm(), CrcAlgorithm::ModbusSwapped);
        assert!(decode_frame(&bad, &Tolerance::STRICT.allow(Deviation::CrcModbus)).is_err());
    }

    #[test]
    fn error_messages_are_readable() {
        let e = FrameError::BadLengthField { found: *b"0\r1x" };
        assert_eq!(
            e.to_string(),
            "length field `0\\r1x` is not 4 decimal digits"
        );
        let e = FrameError::CrcMismatch {
            sent: 0x4980,
            computed: 0x3C00,
        };
        assert_eq!(
            e.to_string(),
            "CRC mismatch: packet says 4980, HJ 212 CRC of the data segment is 3C00"
        );
    }
}
