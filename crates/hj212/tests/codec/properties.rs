//! Property tests: no input makes the codec panic, the stream decoder's verdicts do not depend on
//! how bytes are split into reads, whatever it accepts really matches its CRC, and encoding then
//! decoding gives back what was encoded.

use std::time::{Duration, Instant};

use cpaudit_hj212::{
    crc, decode_frame, decode_packet, encode_frame, parse_segment, DataSegment, Flag, Frame,
    FrameError, PacketNumbers, ParseError, Reassembler, StreamDecoder, Timestamp, Tolerance,
};
use proptest::prelude::*;

/// What a stream produced, in a form that can be compared across chunkings.
#[derive(Debug, PartialEq, Eq)]
struct Transcript {
    items: Vec<Result<Vec<u8>, FrameError>>,
    skipped: usize,
    at_end: Option<FrameError>,
}

fn run_stream(bytes: &[u8], chunks: &[usize], tolerance: Tolerance) -> Transcript {
    let mut dec = StreamDecoder::new(tolerance);
    let mut t = Transcript {
        items: Vec::new(),
        skipped: 0,
        at_end: None,
    };
    let mut rest = bytes;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = sizes
            .next()
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        dec.decode(chunk, |item| match item {
            Ok(frame) => {
                // Whatever is accepted was checked: the CRC matches under the reported algorithm
                // and the frame is delimited as announced.
                assert_eq!(frame.crc_algorithm().compute(frame.segment()), frame.crc());
                let wire = frame.as_bytes();
                assert!(wire.starts_with(b"##") && wire.ends_with(b"\n"));
                t.items.push(Ok(frame.segment().to_vec()));
            }
            Err(FrameError::Skipped { bytes }) => t.skipped += bytes,
            Err(e) => t.items.push(Err(e)),
        });
        assert!(dec.buffered() <= dec.capacity());
    }
    for e in dec.finish() {
        match e {
            FrameError::Skipped { bytes } => t.skipped += bytes,
            other => t.at_end = Some(other),
        }
    }
    let stats = dec.stats();
    assert_eq!(stats.bytes_in, bytes.len() as u64);
    assert_eq!(stats.bytes_skipped, t.skipped as u64);
    t
}

/// Exercises every accessor of a parsed segment.
fn walk(seg: &DataSegment<'_>) {
    let _ = (seg.qn(), seg.st(), seg.cn(), seg.pw(), seg.mn(), seg.rf());
    let _ = (
        seg.cn_number(),
        seg.version(),
        seg.ack_requested(),
        seg.qn_timestamp(),
    );
    let _ = seg.header_fields().count();
    if let Some(PacketNumbers { pnum, pno }) = seg.packet_numbers() {
        assert!(pno >= 1 && pno <= pnum);
    }
    for group in seg.cp().groups() {
        for item in group.items() {
            let _ = (
                item.kind(),
                item.code(),
                item.suffix(),
                item.data_flag(),
                item.as_f64(),
            );
            assert!(!item.key.is_empty());
        }
    }
    // The items are what a plain split of the data area gives.
    let items: Vec<(&str, &str)> = seg.cp().items().map(|i| (i.key, i.value)).collect();
    let naive: Vec<(&str, &str)> = seg
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
    if let Some(t) = seg.data_time() {
        let _ = Timestamp::parse(t);
    }
}

/// Parsing a frame, which reuses what the frame check found out about the data segment, gives
/// what parsing the segment's text alone gives.
fn parse_agrees(frame: &Frame<'_>, tolerance: &Tolerance) {
    let via_frame = frame.parse(tolerance);
    match std::str::from_utf8(frame.segment()) {
        Ok(text) => assert_eq!(via_frame, parse_segment(text, tolerance)),
        Err(e) => assert_eq!(
            via_frame,
            Err(ParseError::NotUtf8 {
                valid_up_to: e.valid_up_to()
            })
        ),
    }
}

/// Bytes drawn mostly from the protocol's own alphabet, so that random input reaches the deep
/// paths (headers, length fields, CRCs, tails) instead of dying as garbage.
fn protocol_bytes() -> impl Strategy<Value = Vec<u8>> {
    const ALPHABET: &[u8] = b"##0000111222456789ABCDEFabcdef;;==,,&&&-\r\n\r\nQNSTCPMWFlagPNUMO N";
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(ALPHABET),
            1 => any::<u8>(),
        ],
        0..600,
    )
}

/// A byte stream of valid packets, damaged packets and noise, in any order.
fn mixed_stream() -> impl Strategy<Value = Vec<u8>> {
    let part = prop_oneof![
        3 => generated().prop_map(|g| encode_frame(&g.text).unwrap()),
        2 => (generated(), mutation()).prop_map(|(g, m)| {
            let mut wire = encode_frame(&g.text).unwrap();
            apply(&mut wire, &m);
            wire
        }),
        1 => prop::collection::vec(any::<u8>(), 0..40),
        1 => protocol_bytes().prop_map(|mut b| { b.truncate(40); b }),
    ];
    prop::collection::vec(part, 0..6).prop_map(|parts| parts.concat())
}

fn tolerance() -> impl Strategy<Value = Tolerance> {
    prop_oneof![Just(Tolerance::STRICT), Just(Tolerance::LENIENT)]
}

/// A generated, standard-conforming data segment and the facts it was built from.
#[derive(Debug, Clone)]
struct Generated {
    text: String,
    qn: String,
    mn: String,
    flag: u8,
    numbers: Option<(u16, u16)>,
    items: Vec<(String, String)>,
}

fn item() -> impl Strategy<Value = (String, String)> {
    let suffix = prop::sample::select(vec![
        "Rtd",
        "Min",
        "Avg",
        "Max",
        "Cou",
        "ZsRtd",
        "ZsAvg",
        "Flag",
        "EFlag",
        "SampleTime",
    ]);
    (
        "[aw][0-9]{5}",
        suffix,
        "-?[0-9]{1,6}(\\.[0-9]{1,4})?",
        "[NFMSDCTB]",
    )
        .prop_map(|(code, suffix, number, flag)| {
            let value = if suffix == "Flag" { flag } else { number };
            (format!("{code}-{suffix}"), value)
        })
}

fn generated() -> impl Strategy<Value = Generated> {
    (
        "[0-9]{17}",
        "[0-9A-F]{24}",
        any::<bool>(),
        prop::option::of((1u16..=20).prop_flat_map(|n| (Just(n), 1..=n))),
        prop::collection::vec(item(), 0..30),
    )
        .prop_map(|(qn, mn, ack, numbers, items)| {
            let flag = 4 | u8::from(ack) | if numbers.is_some() { 2 } else { 0 };
            let mut text = format!("QN={qn};ST=32;CN=2051;PW=123456;MN={mn};Flag={flag};");
            if let Some((pnum, pno)) = numbers {
                text.push_str(&format!("PNUM={pnum};PNO={pno};"));
            }
            text.push_str("CP=&&DataTime=20240123101000");
            for (i, (k, v)) in items.iter().enumerate() {
                text.push(if i % 3 == 0 { ';' } else { ',' });
                text.push_str(&format!("{k}={v}"));
            }
            text.push_str("&&");
            Generated {
                text,
                qn,
                mn,
                flag,
                numbers,
                items,
            }
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Duplicate,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Truncate),
        Just(Mutation::Duplicate),
    ]
}

fn apply(wire: &mut Vec<u8>, m: &Mutation) {
    let len = wire.len().max(1);
    match *m {
        Mutation::Flip(i, b) if !wire.is_empty() => wire[i % len] ^= b | 1,
        Mutation::Insert(i, b) => wire.insert(i % (wire.len() + 1), b),
        Mutation::Delete(i) if !wire.is_empty() => {
            wire.remove(i % len);
        }
        Mutation::Truncate(i) => wire.truncate(i % len),
        Mutation::Duplicate => {
            let copy = wire.clone();
            wire.extend_from_slice(&copy);
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn stream_is_total_and_independent_of_chunking(
        bytes in prop_oneof![
            protocol_bytes(),
            prop::collection::vec(any::<u8>(), 0..600),
            mixed_stream(),
        ],
        chunks in prop::collection::vec(1usize..80, 1..8),
        tolerance in tolerance(),
    ) {
        let whole = run_stream(&bytes, &[bytes.len().max(1)], tolerance);
        let split = run_stream(&bytes, &chunks, tolerance);
        prop_assert_eq!(&split, &whole);
        let bytewise = run_stream(&bytes, &[1], tolerance);
        prop_assert_eq!(&bytewise, &whole);
    }

    #[test]
    fn one_shot_decoding_is_total(bytes in protocol_bytes(), tolerance in tolerance()) {
        if let Ok(frame) = decode_frame(&bytes, &tolerance) {
            prop_assert_eq!(frame.as_bytes().len(), bytes.len());
            prop_assert_eq!(frame.crc_algorithm().compute(frame.segment()), frame.crc());
            parse_agrees(&frame, &tolerance);
        }
        if let Ok(packet) = decode_packet(&bytes, &tolerance) {
            walk(&packet);
        }
    }

    #[test]
    fn segment_parser_is_total(
        text in prop_oneof![
            ".{0,300}",
            "(QN|ST|CN|PW|MN|Flag|FLAG|PNUM|PNO|CP|RF|[A-Za-z]{1,4})=[0-9A-Za-z&;,= -]{0,12}(;|,|;;)?".prop_map(|s| s.repeat(4)),
        ],
        tolerance in tolerance(),
    ) {
        if let Ok(seg) = parse_segment(&text, &tolerance) {
            walk(&seg);
            prop_assert!(seg.deviations().iter().all(|d| tolerance.allows(d)));
        }
    }

    #[test]
    fn mutated_packets_never_panic_and_never_pass_a_wrong_crc(
        g in generated(),
        mutations in prop::collection::vec(mutation(), 1..4),
        tolerance in tolerance(),
        chunks in prop::collection::vec(1usize..64, 1..4),
    ) {
        let mut wire = encode_frame(&g.text).unwrap();
        for m in &mutations {
            apply(&mut wire, m);
        }
        if let Ok(frame) = decode_frame(&wire, &tolerance) {
            parse_agrees(&frame, &tolerance);
        }
        if let Ok(packet) = decode_packet(&wire, &tolerance) {
            walk(&packet);
            let seg = packet.frame.segment();
            let ok = crc::hj212(seg) == packet.frame.crc()
                || (tolerance.allows(cpaudit_hj212::Deviation::CrcModbus) && crc::modbus(seg) == packet.frame.crc())
                || (tolerance.allows(cpaudit_hj212::Deviation::CrcModbusSwapped)
                    && crc::modbus(seg).swap_bytes() == packet.frame.crc());
            prop_assert!(ok);
        }
        let whole = run_stream(&wire, &[wire.len().max(1)], tolerance);
        prop_assert_eq!(run_stream(&wire, &chunks, tolerance), whole);
    }

    #[test]
    fn any_data_area_reads_the_same_through_a_frame(
        header in "QN=[0-9]{17};ST=32;CN=2011;PW=1;MN=[A-Z0-9]{1,24};Flag=4;",
        inner in "([a-c]{0,9}-?[A-Z]?[a-z]{0,3}=[a-z0-9.=&]{0,9}[;,]{0,2}| |&|=|;){0,80}",
        tolerance in tolerance(),
    ) {
        let wire = encode_frame(&format!("{header}CP=&&{inner}&&")).unwrap();
        let frame = decode_frame(&wire, &tolerance).unwrap();
        parse_agrees(&frame, &tolerance);
        if let Ok(seg) = frame.parse(&tolerance) {
            walk(&seg);
        }
    }

    #[test]
    fn encode_then_decode_round_trips(g in generated()) {
        let wire = encode_frame(&g.text).unwrap();
        parse_agrees(&decode_frame(&wire, &Tolerance::STRICT).unwrap(), &Tolerance::STRICT);
        let p = decode_packet(&wire, &Tolerance::STRICT).unwrap();
        walk(&p);
        prop_assert_eq!(p.as_str(), g.text.as_str());
        prop_assert_eq!(p.qn(), Some(g.qn.as_str()));
        prop_assert_eq!(p.mn(), g.mn.as_str());
        prop_assert_eq!(p.flag(), Some(Flag::new(g.flag)));
        prop_assert_eq!(
            p.packet_numbers(),
            g.numbers.map(|(pnum, pno)| PacketNumbers { pnum, pno })
        );
        prop_assert!(p.deviations().is_empty());
        let items: Vec<(String, String)> = p
            .cp()
            .items()
            .skip(1) // DataTime
            .map(|i| (i.key.to_owned(), i.value.to_owned()))
            .collect();
        prop_assert_eq!(items, g.items.clone());
        // The same bytes through the stream decoder, one byte at a time.
        let t = run_stream(&wire, &[1], Tolerance::STRICT);
        prop_assert_eq!(t.items, vec![Ok(g.text.clone().into_bytes())]);
    }

    #[test]
    fn reassembly_accepts_any_piece_order(
        pnum in 1u16..8,
        order in any::<u64>(),
    ) {
        let mut pnos: Vec<u16> = (1..=pnum).collect();
        // Deterministic shuffle from the drawn seed.
        let mut s = order | 1;
        for i in (1..pnos.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            pnos.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let mut r = Reassembler::new(Duration::from_secs(10));
        let t = Instant::now();
        let mut done = None;
        for pno in &pnos {
            let text = format!(
                "QN=2024012310100000{pno};ST=32;CN=2051;PW=1;MN=M;Flag=6;PNUM={pnum};PNO={pno};CP=&&DataTime=20240123101000;f{pno}-Avg=1&&"
            );
            let seg = parse_segment(&text, &Tolerance::STRICT).unwrap();
            if let cpaudit_hj212::Progress::Complete(m) = r.push(&seg, t).unwrap() {
                done = Some(m);
            }
        }
        let m = done.expect("all pieces pushed");
        prop_assert!(m.is_complete());
        let got: Vec<u16> = m.pieces().iter().map(|p| p.pno()).collect();
        prop_assert_eq!(got, (1..=pnum).collect::<Vec<_>>());
        prop_assert_eq!(r.pending(), 0);
    }
}
