//! Streaming frame decoder for a TCP connection.
//!
//! TCP delivers bytes, not packets: one `read` may hold several packets, half a packet, or the
//! tail of one and the head of the next, and a data logger may emit line noise (modem AT
//! responses, a stray `\0`) between packets. [`StreamDecoder`] buffers what it is given, cuts it
//! into frames, and resynchronises on the next `##` after anything it cannot use.
//!
//! Its buffer is bounded: it never holds more than one maximal frame (data-segment limit + 12
//! bytes), so a peer cannot make it grow by sending garbage or absurd length fields.

use crate::frame::{examine, Examined, Frame, FrameError, FRAME_OVERHEAD};
use crate::tolerance::Tolerance;

/// Counters kept by a [`StreamDecoder`] over its lifetime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecoderStats {
    /// Bytes accepted by [`StreamDecoder::feed`].
    pub bytes_in: u64,
    /// Frames returned.
    pub frames: u64,
    /// Errors returned, not counting [`FrameError::Skipped`].
    pub errors: u64,
    /// Bytes discarded while resynchronising (the sum of all `Skipped` reports, plus any
    /// trailing garbage reported by [`StreamDecoder::finish`]).
    pub bytes_skipped: u64,
}

/// Incremental decoder: feed it byte chunks, take frames or typed errors out.
///
/// Frames borrow the decoder's buffer, so take them one at a time with
/// [`next_frame`](Self::next_frame) (a lending iterator) or let [`decode`](Self::decode) call
/// you back for each.
///
/// ```
/// use cpaudit_hj212::{FrameError, StreamDecoder, Tolerance};
/// let packet: &[u8] = b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n";
/// let mut wire = b"AT+OK\r\n".to_vec();            // noise before the packet
/// wire.extend_from_slice(packet);
/// wire.extend_from_slice(packet);                   // two packets coalesced
///
/// let mut decoder = StreamDecoder::new(Tolerance::STRICT);
/// let (mut frames, mut skipped) = (0, 0);
/// for chunk in wire.chunks(50) {                   // packets split across reads
///     decoder.decode(chunk, |item| match item {
///         Ok(frame) => { assert_eq!(frame.crc(), 0x1C80); frames += 1 }
///         Err(FrameError::Skipped { bytes }) => skipped += bytes,
///         Err(other) => panic!("{other}"),
///     });
/// }
/// assert_eq!((frames, skipped), (2, 7));
/// ```
#[derive(Debug, Clone)]
pub struct StreamDecoder {
    buf: Vec<u8>,
    /// Bytes before `start` are consumed; they are dropped lazily on the next `feed`.
    start: usize,
    capacity: usize,
    tolerance: Tolerance,
    /// Garbage passed over but not yet reported (reported when the next `##` is found).
    pending_skip: usize,
    /// How far past `start` a premature line feed has been looked for (see `examine`).
    lf_scanned: usize,
    stats: DecoderStats,
}

/// Position of the `##` that starts the next candidate frame. In a run of `#`, the last two count,
/// so `###0101…` still finds the packet.
fn find_header(buf: &[u8]) -> Option<usize> {
    let mut i = buf.windows(2).position(|w| w == b"##")?;
    while buf.get(i + 2) == Some(&b'#') {
        i += 1;
    }
    Some(i)
}

impl StreamDecoder {
    /// A decoder for one connection under `tolerance` (usually the per-device setting; before
    /// the device is known, the union of the tolerances of all devices allowed on the port).
    #[must_use]
    pub fn new(tolerance: Tolerance) -> StreamDecoder {
        StreamDecoder {
            buf: Vec::new(),
            start: 0,
            capacity: tolerance.segment_limit() + FRAME_OVERHEAD,
            tolerance,
            pending_skip: 0,
            lf_scanned: 0,
            stats: DecoderStats::default(),
        }
    }

    /// The tolerance in force.
    #[must_use]
    pub fn tolerance(&self) -> &Tolerance {
        &self.tolerance
    }

    /// Replaces the tolerance, e.g. once the first packet has identified the device. The
    /// buffer bound follows; bytes already buffered are kept.
    pub fn set_tolerance(&mut self, tolerance: Tolerance) {
        self.tolerance = tolerance;
        self.capacity = (tolerance.segment_limit() + FRAME_OVERHEAD).max(self.buffered());
    }

    /// Maximum number of bytes the decoder buffers.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes buffered and not yet consumed.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Lifetime counters.
    #[must_use]
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Appends as much of `data` as fits in the buffer and returns how many bytes were taken.
    ///
    /// Whenever [`next_frame`](Self::next_frame) has returned `None`, at least one byte fits, so
    /// alternating `feed` and draining `next_frame` always makes progress.
    pub fn feed(&mut self, data: &[u8]) -> usize {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let n = (self.capacity - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        self.stats.bytes_in += n as u64;
        n
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.lf_scanned = 0;
    }

    fn skip(&mut self, n: usize) {
        self.consume(n);
        self.pending_skip += n;
        self.stats.bytes_skipped += n as u64;
    }

    /// The next frame or error from the buffered bytes, or `None` when more input is needed.
    ///
    /// Errors do not end the stream: keep calling. Garbage is reported once per run, as
    /// [`FrameError::Skipped`], when the next `##` is found.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, FrameError>> {
        loop {
            let avail = &self.buf[self.start..];
            match find_header(avail) {
                // Wait for a third byte: `##` followed by `#` is not yet a header.
                Some(0) if avail.len() < 3 => return None,
                Some(0) => {}
                Some(i) => {
                    self.skip(i);
                    continue;
                }
                None => {
                    // Keep a trailing '#': it may be the first half of the next header.
                    let keep = usize::from(avail.last() == Some(&b'#'));
                    let drop = avail.len() - keep;
                    self.skip(drop);
                    return None;
                }
            }
            if self.pending_skip > 0 {
                let bytes = std::mem::take(&mut self.pending_skip);
                return Some(Err(FrameError::Skipped { bytes }));
            }
            let more_possible = avail.len() < self.capacity;
            return match examine(avail, &self.tolerance, more_possible, &mut self.lf_scanned) {
                Examined::Incomplete => None,
                Examined::Error { error, consume } => {
                    self.consume(consume);
                    self.stats.errors += 1;
                    Some(Err(error))
                }
                Examined::Frame(meta) => {
                    let at = self.start;
                    self.consume(meta.total);
                    self.stats.frames += 1;
                    Some(Ok(Frame::from_meta(&self.buf[at..at + meta.total], &meta)))
                }
            };
        }
    }

    /// Feeds a whole chunk, calling `on_item` for every frame or error it completes.
    pub fn decode<F>(&mut self, mut chunk: &[u8], mut on_item: F)
    where
        F: FnMut(Result<Frame<'_>, FrameError>),
    {
        loop {
            let taken = self.feed(chunk);
            chunk = &chunk[taken..];
            while let Some(item) = self.next_frame() {
                on_item(item);
            }
            if chunk.is_empty() {
                return;
            }
            if taken == 0 && self.buffered() >= self.capacity {
                // Unreachable by construction (a full buffer always decides); never spin.
                debug_assert!(false, "full buffer made no progress");
                self.skip(1);
            }
        }
    }

    /// Ends the stream (peer closed the connection): reports what is left and empties the
    /// buffer. Yields at most two errors, in stream order: [`FrameError::Skipped`] for garbage not
    /// yet reported, then [`FrameError::Truncated`] for a partial packet.
    pub fn finish(&mut self) -> impl Iterator<Item = FrameError> {
        let left = self.buffered();
        let partial = self.buf[self.start..].starts_with(b"##");
        let mut skipped = std::mem::take(&mut self.pending_skip);
        let mut truncated = None;
        if partial {
            self.stats.errors += 1;
            truncated = Some(FrameError::Truncated { available: left });
        } else {
            skipped += left;
            self.stats.bytes_skipped += left as u64;
        }
        self.buf.clear();
        self.start = 0;
        self.lf_scanned = 0;
        let skipped = (skipped > 0).then_some(FrameError::Skipped { bytes: skipped });
        [skipped, truncated].into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tolerance::Deviation;

    const S01: &[u8] = b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n";

    fn collect(
        dec: &mut StreamDecoder,
        wire: &[u8],
        chunk: usize,
    ) -> Vec<Result<usize, FrameError>> {
        let mut out = Vec::new();
        for c in wire.chunks(chunk.max(1)) {
            dec.decode(c, |item| out.push(item.map(|f| f.segment().len())));
        }
        out.extend(dec.finish().map(Err));
        out
    }

    #[test]
    fn every_split_point_gives_the_same_result() {
        let mut wire = b"xx#".to_vec();
        wire.extend_from_slice(S01);
        wire.extend_from_slice(b"#");
        wire.extend_from_slice(S01);
        wire.extend_from_slice(S01);
        for chunk in 1..=wire.len() {
            let mut dec = StreamDecoder::new(Tolerance::STRICT);
            let got = collect(&mut dec, &wire, chunk);
            assert_eq!(
                got,
                vec![
                    Err(FrameError::Skipped { bytes: 3 }),
                    Ok(101),
                    Err(FrameError::Skipped { bytes: 1 }),
                    Ok(101),
                    Ok(101)
                ],
                "chunk {chunk}"
            );
            let st = dec.stats();
            assert_eq!((st.frames, st.errors, st.bytes_skipped), (3, 0, 4));
            assert_eq!(st.bytes_in, wire.len() as u64);
        }
    }

    #[test]
    fn resynchronises_after_errors() {
        let mut bad_crc = S01.to_vec();
        let n = bad_crc.len();
        bad_crc[n - 3] = b'1';
        let mut wire = Vec::new();
        wire.extend_from_slice(b"##12x4");
        wire.extend_from_slice(&bad_crc);
        wire.extend_from_slice(b"##9999garbage");
        wire.extend_from_slice(S01);
        let mut dec = StreamDecoder::new(Tolerance::STRICT);
        let got = collect(&mut dec, &wire, 7);
        assert_eq!(
            got,
            vec![
                Err(FrameError::BadLengthField { found: *b"12x4" }),
                Err(FrameError::Skipped { bytes: 4 }),
                Err(FrameError::CrcMismatch {
                    sent: 0x1C81,
                    computed: 0x1C80
                }),
                Err(FrameError::SegmentTooLong {
                    declared: 9999,
                    limit: 1024
                }),
                Err(FrameError::Skipped { bytes: 7 }),
                Ok(101),
            ]
        );
    }

    #[test]
    fn short_length_field_is_reported_without_waiting_for_more_data() {
        // Declares 200 bytes but the packet ends after 101: the line feed gives it away.
        let mut wire = S01.to_vec();
        wire[3] = b'2';
        wire[5] = b'0';
        let mut dec = StreamDecoder::new(Tolerance::STRICT);
        let mut got = Vec::new();
        dec.decode(&wire, |i| got.push(i.map(|f| f.segment().len())));
        assert_eq!(
            got,
            vec![Err(FrameError::LengthMismatch {
                declared: 200,
                actual: 101
            })]
        );
        assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn buffer_stays_bounded_under_garbage() {
        let mut dec = StreamDecoder::new(Tolerance::STRICT);
        let junk = vec![b'#'; 10_000];
        let mut errors = 0;
        dec.decode(&junk, |i| {
            assert!(i.is_err());
            errors += 1;
        });
        assert!(dec.buffered() <= dec.capacity());
        assert_eq!(dec.capacity(), 1024 + 12);
        let lenient = StreamDecoder::new(
            Tolerance::STRICT
                .allow(Deviation::OversizeSegment)
                .with_oversize_cap(2000),
        );
        assert_eq!(lenient.capacity(), 2012);
    }

    #[test]
    fn finish_reports_leftovers() {
        let mut dec = StreamDecoder::new(Tolerance::STRICT);
        assert_eq!(dec.finish().next(), None);
        dec.feed(&S01[..50]);
        assert!(dec.next_frame().is_none());
        assert_eq!(
            dec.finish().collect::<Vec<_>>(),
            [FrameError::Truncated { available: 50 }]
        );
        dec.feed(b"noise");
        assert!(dec.next_frame().is_none());
        assert_eq!(
            dec.finish().collect::<Vec<_>>(),
            [FrameError::Skipped { bytes: 5 }]
        );
        // Garbage, then a header cut off right after "##": both are reported.
        dec.feed(b"xyz##");
        assert!(dec.next_frame().is_none());
        assert_eq!(
            dec.finish().collect::<Vec<_>>(),
            [
                FrameError::Skipped { bytes: 3 },
                FrameError::Truncated { available: 2 }
            ]
        );
        assert_eq!(dec.buffered(), 0);
        assert_eq!(dec.stats().bytes_skipped, 8);

        // Found by the property test: "###" fed byte by byte. The first '#' is garbage, the
        // rest a cut-off header; the garbage must be reported, not only counted.
        let mut dec = StreamDecoder::new(Tolerance::STRICT);
        for b in b"###" {
            dec.decode(std::slice::from_ref(b), |_| panic!("nothing complete yet"));
        }
        assert_eq!(
            dec.finish().collect::<Vec<_>>(),
            [
                FrameError::Skipped { bytes: 1 },
                FrameError::Truncated { available: 2 }
            ]
        );
        assert_eq!(dec.stats().bytes_skipped, 1);
    }
}
