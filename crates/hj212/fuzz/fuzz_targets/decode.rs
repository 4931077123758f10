//! Fuzz target: frame decoding, segment parsing and the stream decoder on arbitrary bytes.
//!
//! How to run it is in the crate's README ("Fuzzing").
//!
//! The first input byte selects the tolerance (bit 0) and the read size used to feed the stream
//! decoder (bits 1–7); the rest is the byte stream. Besides "no panic", the target checks that
//! accepted frames really match their CRC, that parsing a frame (which reuses what the frame
//! check found) gives what parsing its text alone gives, that the items of a data area are
//! those of a plain split, and that the stream decoder's verdicts do not depend on how the bytes
//! were split into reads.

#![no_main]

use cpaudit_hj212::{
    decode_frame, decode_packet, parse_segment, DataSegment, FrameError, ParseError, StreamDecoder,
    Tolerance,
};
use libfuzzer_sys::fuzz_target;

/// Everything a stream produced, comparable across read sizes.
#[derive(Debug, PartialEq, Eq)]
struct Transcript {
    items: Vec<Result<Vec<u8>, FrameError>>,
    skipped: usize,
    at_end: Vec<FrameError>,
}

fn stream(bytes: &[u8], read_size: usize, tolerance: Tolerance) -> Transcript {
    let mut decoder = StreamDecoder::new(tolerance);
    let mut t = Transcript {
        items: Vec::new(),
        skipped: 0,
        at_end: Vec::new(),
    };
    for chunk in bytes.chunks(read_size.max(1)) {
        decoder.decode(chunk, |item| match item {
            Ok(frame) => {
                assert_eq!(frame.crc_algorithm().compute(frame.segment()), frame.crc());
                t.items.push(Ok(frame.segment().to_vec()));
            }
            Err(FrameError::Skipped { bytes }) => t.skipped += bytes,
            Err(e) => t.items.push(Err(e)),
        });
        assert!(decoder.buffered() <= decoder.capacity());
    }
    for e in decoder.finish() {
        match e {
            FrameError::Skipped { bytes } => t.skipped += bytes,
            other => t.at_end.push(other),
        }
    }
    t
}

fn walk(segment: &DataSegment<'_>) {
    let _ = (
        segment.version(),
        segment.packet_numbers(),
        segment.qn_timestamp(),
    );
    let _ = segment.header_fields().count();
    for group in segment.cp().groups() {
        for item in group.items() {
            let _ = (item.kind(), item.data_flag(), item.as_f64());
        }
    }
    let items: Vec<(&str, &str)> = segment.cp().items().map(|i| (i.key, i.value)).collect();
    let naive: Vec<(&str, &str)> = segment
        .cp()
        .as_str()
        .split([';', ','])
        .filter(|piece| !piece.trim_ascii().is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').expect("a validated item has '='");
            (k.trim_ascii(), v.trim_ascii())
        })
        .collect();
    assert_eq!(items, naive);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let tolerance = if selector & 1 == 0 {
        Tolerance::STRICT
    } else {
        Tolerance::LENIENT
    };
    let read_size = usize::from(selector >> 1) + 1;

    if let Ok(frame) = decode_frame(bytes, &tolerance) {
        assert_eq!(frame.as_bytes().len(), bytes.len());
        assert_eq!(frame.crc_algorithm().compute(frame.segment()), frame.crc());
        let via_frame = frame.parse(&tolerance);
        match std::str::from_utf8(frame.segment()) {
            Ok(text) => assert_eq!(via_frame, parse_segment(text, &tolerance)),
            Err(e) => assert_eq!(
                via_frame,
                Err(ParseError::NotUtf8 {
                    valid_up_to: e.valid_up_to()
                })
            ),
        }
    }
    if let Ok(packet) = decode_packet(bytes, &tolerance) {
        walk(&packet);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(segment) = parse_segment(text, &tolerance) {
            walk(&segment);
        }
    }

    let split = stream(bytes, read_size, tolerance);
    let whole = stream(bytes, bytes.len(), tolerance);
    assert_eq!(split, whole);
});
