//! Reproduces the verdict of every packet in `tests/data/public-samples.txt` (S01–S30), and
//! parses the Appendix C data segments listed at its end.
//!
//! The file's verdicts are about framing: HJ212-OK means length and Appendix A CRC are right;
//! REJECT means a strict receiver must refuse the packet; DEVIATION means it fails the strict
//! check but matches a known real-world deviation, to be accepted only under that switch.
//! Separately, the data segments of several HJ212-OK packets use 2005-style or malformed headers;
//! the expected segment-level deviations are listed in [`segment_expectation`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cpaudit_hj212::{
    crc, decode_frame, decode_packet, encode_frame, parse_segment, CrcAlgorithm, DataFlag,
    Deviation, Deviations, Flag, FrameError, ItemKind, PacketNumbers, ParseError, Progress,
    ProtocolVersion, Reassembler, Reply, ReplyTarget, StreamDecoder, Suffix, Timestamp, Tolerance,
};

const SAMPLES: &str = include_str!("../data/public-samples.txt");

struct Sample {
    id: String,
    verdict: String,
    /// The packet as sent on the wire, CRLF included.
    wire: Vec<u8>,
}

/// Reads the packets with their sample IDs and verdicts. A block with two packets (`S16/S17`)
/// gives them the two IDs in order.
fn samples() -> Vec<Sample> {
    let mut out = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut verdict = String::new();
    for line in SAMPLES.lines() {
        if let Some(rest) = line.strip_prefix("# S") {
            if rest.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                ids = line[2..].split('/').map(str::to_owned).collect();
                ids.reverse();
                verdict.clear();
            }
        } else if let Some(rest) = line.strip_prefix("# Verdict:") {
            // "Verdict: both HJ212-OK (…)" covers the two packets of a block.
            let mut words = rest.split_whitespace().skip_while(|w| *w == "both");
            verdict = words.next().unwrap().to_owned();
        } else if line.starts_with("##") {
            let id = ids.pop().expect("packet without a sample id");
            let mut wire = line.as_bytes().to_vec();
            wire.extend_from_slice(b"\r\n");
            out.push(Sample {
                id,
                verdict: verdict.clone(),
                wire,
            });
        }
    }
    out
}

/// Frame-level outcome expected under `Tolerance::STRICT`, and the switches a DEVIATION needs.
enum FrameExpectation {
    Ok,
    Reject(FrameError),
    Tolerated(&'static [Deviation]),
}

fn frame_expectation(id: &str) -> FrameExpectation {
    use FrameExpectation::*;
    match id {
        // Wrong CRC under every algorithm (values from the sample file's comments).
        "S05" => Reject(FrameError::CrcMismatch {
            sent: 0x4980,
            computed: 0x3C00,
        }),
        "S14" => Reject(FrameError::CrcMismatch {
            sent: 0x1100,
            computed: 0x2D00,
        }),
        "S30" => Reject(FrameError::CrcMismatch {
            sent: 0x2800,
            computed: 0xD801,
        }),
        // Length field 0428, data segment 431 bytes.
        "S29" => Reject(FrameError::LengthMismatch {
            declared: 428,
            actual: 431,
        }),
        "S10" => Tolerated(&[Deviation::CrcModbusSwapped]),
        "S11" | "S12" => Tolerated(&[Deviation::OversizeSegment, Deviation::CrcModbusSwapped]),
        _ => Ok,
    }
}

/// Segment-level deviations each accepted packet needs (none for a standard header).
fn segment_expectation(id: &str) -> &'static [Deviation] {
    use Deviation::*;
    match id {
        // 2005 style: neither QN nor Flag.
        "S03" | "S04" | "S05" | "S08" | "S09" | "S10" | "S11" | "S15" | "S16" | "S17" | "S18" => {
            &[MissingQn, MissingFlag]
        }
        // QN but no Flag.
        "S12" | "S30" => &[MissingFlag],
        // Flag=0 but no QN.
        "S22" => &[MissingQn],
        // ";,MN=" and "FLAG=0", no QN.
        "S28" => &[MissingQn, HeaderKeyCase, HeaderStraySeparator],
        _ => &[],
    }
}

fn tolerance_of(deviations: &[Deviation]) -> Tolerance {
    deviations
        .iter()
        .fold(Tolerance::STRICT, |t, d| t.allow(*d))
}

fn set_of(deviations: &[Deviation]) -> Deviations {
    deviations.iter().copied().collect()
}

fn segment_text(s: &Sample) -> &str {
    std::str::from_utf8(&s.wire[6..s.wire.len() - 6]).unwrap()
}

#[test]
fn file_has_thirty_packets_with_the_documented_verdict_counts() {
    let all = samples();
    assert_eq!(all.len(), 30, "S01–S30 (S16 and S17 share one block)");
    let count = |v: &str| all.iter().filter(|s| s.verdict == v).count();
    assert_eq!(
        (count("HJ212-OK"), count("REJECT"), count("DEVIATION")),
        (23, 4, 3)
    );
    let ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids[0], "S01");
    assert_eq!(ids[15..17], ["S16", "S17"]);
    assert_eq!(ids[29], "S30");
}

#[test]
fn every_frame_verdict_is_reproduced() {
    for s in samples() {
        let id = s.id.as_str();
        let strict = decode_frame(&s.wire, &Tolerance::STRICT);
        match (s.verdict.as_str(), frame_expectation(id)) {
            ("HJ212-OK", FrameExpectation::Ok) => {
                let f = strict.unwrap_or_else(|e| panic!("{id}: {e}"));
                assert!(f.deviations().is_empty(), "{id}");
                assert_eq!(f.crc_algorithm(), CrcAlgorithm::Hj212, "{id}");
                assert_eq!(f.crc(), crc::hj212(f.segment()), "{id}");
            }
            ("REJECT", FrameExpectation::Reject(expected)) => {
                assert_eq!(strict.unwrap_err(), expected, "{id}");
                // No tolerance rescues a wrong CRC or a wrong length.
                assert_eq!(
                    decode_frame(&s.wire, &Tolerance::LENIENT).unwrap_err(),
                    expected,
                    "{id}"
                );
            }
            ("DEVIATION", FrameExpectation::Tolerated(needed)) => {
                assert!(strict.is_err(), "{id} must fail the strict check");
                let f = decode_frame(&s.wire, &tolerance_of(needed))
                    .unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(f.deviations(), set_of(needed), "{id}");
                assert_eq!(f.crc_algorithm(), CrcAlgorithm::ModbusSwapped, "{id}");
                // Each named switch is necessary.
                for d in needed {
                    let without = tolerance_of(needed).deny(*d);
                    assert!(decode_frame(&s.wire, &without).is_err(), "{id} without {d}");
                }
                // Plain (not byte-swapped) MODBUS does not match these packets.
                let other = tolerance_of(needed)
                    .deny(Deviation::CrcModbusSwapped)
                    .allow(Deviation::CrcModbus);
                assert!(
                    matches!(
                        decode_frame(&s.wire, &other),
                        Err(FrameError::CrcMismatch { .. })
                    ),
                    "{id}"
                );
            }
            (verdict, _) => panic!("{id}: file says {verdict}, expectation table disagrees"),
        }
    }
}

#[test]
fn deviation_reasons_match_the_file() {
    // The file gives the MODBUS value each DEVIATION packet was printed from.
    for (id, modbus) in [("S10", 0xECA6), ("S11", 0x6578), ("S12", 0x8106)] {
        let s = samples().into_iter().find(|s| s.id == id).unwrap();
        let seg = &s.wire[6..s.wire.len() - 6];
        assert_eq!(crc::modbus(seg), modbus, "{id}");
        let f = decode_frame(&s.wire, &Tolerance::LENIENT).unwrap();
        assert_eq!(f.crc(), u16::swap_bytes(modbus), "{id}");
    }
    let s12 = samples().into_iter().find(|s| s.id == "S12").unwrap();
    assert_eq!(s12.wire.len() - 12, 1623);
    // A tighter over-size cap rejects S12 even with the switch on.
    let capped = Tolerance::LENIENT.with_oversize_cap(1500);
    assert_eq!(
        decode_frame(&s12.wire, &capped).unwrap_err(),
        FrameError::SegmentTooLong {
            declared: 1623,
            limit: 1500
        }
    );
}

#[test]
fn every_data_segment_parses_with_exactly_its_deviations() {
    for s in samples() {
        let id = s.id.as_str();
        if id == "S29" {
            continue; // length field wrong: there is no delimited data segment to parse
        }
        let text = segment_text(&s);
        let needed = segment_expectation(id);
        let strict = parse_segment(text, &Tolerance::STRICT);
        if needed.is_empty() {
            let seg = strict.unwrap_or_else(|e| panic!("{id}: {e}"));
            assert!(seg.deviations().is_empty(), "{id}");
            continue;
        }
        assert!(strict.is_err(), "{id} must need a tolerance");
        let seg =
            parse_segment(text, &tolerance_of(needed)).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(seg.deviations(), set_of(needed), "{id}");
        for d in needed {
            let without = tolerance_of(needed).deny(*d);
            assert!(parse_segment(text, &without).is_err(), "{id} without {d}");
        }
    }
}

#[test]
fn accepted_packets_report_frame_and_segment_deviations_together() {
    for s in samples() {
        let id = s.id.as_str();
        let result = decode_packet(&s.wire, &Tolerance::LENIENT);
        match frame_expectation(id) {
            FrameExpectation::Reject(_) => assert!(result.is_err(), "{id}"),
            FrameExpectation::Ok => {
                let p = result.unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(p.deviations(), set_of(segment_expectation(id)), "{id}");
            }
            FrameExpectation::Tolerated(frame) => {
                let p = result.unwrap_or_else(|e| panic!("{id}: {e}"));
                let expected = set_of(frame).union(set_of(segment_expectation(id)));
                assert_eq!(p.deviations(), expected, "{id}");
            }
        }
    }
}

fn packet(id: &str) -> Sample {
    samples().into_iter().find(|s| s.id == id).unwrap()
}

#[test]
fn sample_contents() {
    let lenient = Tolerance::LENIENT;

    // S01: the Appendix A example.
    let s01 = packet("S01");
    let p = decode_packet(&s01.wire, &Tolerance::STRICT).unwrap();
    assert_eq!(p.frame.crc(), 0x1C80);
    assert_eq!(p.cn(), "1062");
    assert_eq!(p.cp().get("RtdInterval"), Some("30"));
    assert_eq!(
        Reply::for_packet(&p),
        None,
        "1062 is a host request, not an upload"
    );

    // S02: space before the factor code.
    let p02 = packet("S02");
    let p = decode_packet(&p02.wire, &Tolerance::STRICT).unwrap();
    assert_eq!(p.cp().get("LA-Rtd"), Some("50.1"));
    assert_eq!(p.frame.crc(), 0x1E00);

    // S03: 2005 codes, 17-digit DataTime, read as HJ/T 212-2005 with no flag.
    let s03 = packet("S03");
    let p = decode_packet(&s03.wire, &lenient).unwrap();
    assert_eq!(p.version().version, ProtocolVersion::Hj212_2005);
    assert_eq!(p.version().flag, None);
    assert!(!p.ack_requested());
    assert_eq!(
        Timestamp::parse(p.data_time().unwrap()).unwrap().millis,
        Some(0)
    );
    assert_eq!(p.cp().get("011-Flag"), Some("N"));

    // Lower-case CRCs are HJ212-OK and only reported as such.
    for id in ["S04", "S13", "S27"] {
        let s = packet(id);
        let f = decode_frame(&s.wire, &Tolerance::STRICT).unwrap();
        assert!(f.crc_lowercase(), "{id}");
        assert!(f.deviations().is_empty(), "{id}");
    }
    assert!(!decode_frame(&s01.wire, &Tolerance::STRICT)
        .unwrap()
        .crc_lowercase());

    // S06: ambient-air minute data, Flag=4.
    let s06 = packet("S06");
    let p = decode_packet(&s06.wire, &Tolerance::STRICT).unwrap();
    assert_eq!(p.flag(), Some(Flag::new(4)));
    assert_eq!(p.version().version, ProtocolVersion::Hj212_2017);
    assert_eq!(p.cp().groups().count(), 12);
    assert_eq!(Reply::for_packet(&p), None);

    // S08, S09: vendor codes and ST=101 are kept.
    let s08 = packet("S08");
    let p = decode_packet(&s08.wire, &lenient).unwrap();
    assert_eq!(p.cp().get("a99948-Rtd"), Some("452.341"));
    let s09 = packet("S09");
    assert_eq!(decode_packet(&s09.wire, &lenient).unwrap().st(), "101");

    // S19: upload with Flag=5 gets a 9014 with its own QN.
    let s19 = packet("S19");
    let p = decode_packet(&s19.wire, &Tolerance::STRICT).unwrap();
    assert_eq!(Reply::for_packet(&p), Some(Reply::DataAck));
    let reply = Reply::DataAck
        .encode(&ReplyTarget::from(&p.segment))
        .unwrap();
    let r = decode_packet(&reply, &Tolerance::STRICT).unwrap();
    assert_eq!((r.qn(), r.st(), r.cn()), (p.qn(), "91", "9014"));
    assert_eq!(
        (r.pw(), r.mn(), r.flag()),
        (p.pw(), p.mn(), Some(Flag::new(4)))
    );
    assert!(r.cp().is_empty());

    // S20: "Flag=N" without a factor code is kept as an orphan item.
    let s20 = packet("S20");
    let p = decode_packet(&s20.wire, &Tolerance::STRICT).unwrap();
    let orphan = p.cp().items().find(|i| i.key == "Flag").unwrap();
    assert_eq!(orphan.kind(), ItemKind::Orphan(Suffix::Flag));

    // S21: every factor flagged D.
    let s21 = packet("S21");
    let p = decode_packet(&s21.wire, &Tolerance::STRICT).unwrap();
    let flags: Vec<_> = p.cp().items().filter_map(|i| i.data_flag()).collect();
    assert_eq!(flags.len(), 13);
    assert!(flags.iter().all(|f| *f == DataFlag::Fault));

    // S24, S27: Flag=9 is recorded as the 2025 bits, not rejected.
    for id in ["S24", "S27"] {
        let s = packet(id);
        let p = decode_packet(&s.wire, &Tolerance::STRICT).unwrap();
        assert_eq!(p.version().version, ProtocolVersion::Hj212_2025, "{id}");
        assert_eq!(p.version().flag, Some(9), "{id}");
        assert!(p.ack_requested(), "{id}");
    }

    // S25: empty CP. S26: 9014 with vendor content.
    let s25 = packet("S25");
    assert!(decode_packet(&s25.wire, &Tolerance::STRICT)
        .unwrap()
        .cp()
        .is_empty());
    let s26 = packet("S26");
    let p = decode_packet(&s26.wire, &Tolerance::STRICT).unwrap();
    assert_eq!(p.cp().get("QnRtn"), Some("1"));

    // S28: the malformed header, read under its tolerances.
    let s28 = packet("S28");
    let p = decode_packet(&s28.wire, &lenient).unwrap();
    assert_eq!((p.mn(), p.flag()), ("88888881234567", Some(Flag::new(0))));
    assert_eq!(
        decode_packet(&s28.wire, &Tolerance::STRICT).unwrap_err(),
        ParseError::EmptyField { offset: 24 }.into()
    );

    // S30 (rejected on CRC): its segment still shows PNO before PNUM being read by key.
    let s30 = packet("S30");
    let seg = parse_segment(segment_text(&s30), &lenient).unwrap();
    assert_eq!(
        seg.packet_numbers(),
        Some(PacketNumbers { pnum: 2, pno: 2 })
    );
}

#[test]
fn s16_and_s17_reassemble_into_one_message() {
    let tol = Tolerance::STRICT.allow_legacy_2005_header();
    let mut r = Reassembler::new(Duration::from_secs(60));
    let t0 = Instant::now();
    let s16 = packet("S16");
    let s17 = packet("S17");
    let p16 = decode_packet(&s16.wire, &tol).unwrap();
    let p17 = decode_packet(&s17.wire, &tol).unwrap();
    assert_eq!(
        r.push(&p16, t0),
        Ok(Progress::Pending {
            received: 1,
            total: 2
        })
    );
    let Ok(Progress::Complete(msg)) = r.push(&p17, t0 + Duration::from_secs(1)) else {
        panic!("S16+S17 should complete")
    };
    assert_eq!(msg.key().mn, "DM000001");
    assert_eq!(msg.key().time, "20191225155200");
    let codes: Vec<&str> = msg
        .factor_items()
        .filter(|i| i.suffix() == Some(Suffix::Rtd))
        .filter_map(|i| i.code())
        .collect();
    assert_eq!(
        codes,
        ["w01001", "w01006", "w01010", "w01014", "w21003", "w21011", "w01019", "w01003"]
    );
    assert!(msg.duplicate_factor_keys().is_empty());
}

/// The Appendix C data segments at the end of the file, with elided items (`…`) removed.
fn appendix_c_segments() -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut label = String::new();
    let tail = SAMPLES.split("Parse-only data segments").nth(1).unwrap();
    for line in tail.lines() {
        let body = line.trim_start_matches('#').trim_start();
        if let Some(rest) = body.strip_prefix("C.") {
            label = format!("C.{}", rest.split_whitespace().next().unwrap());
        }
        if let Some(at) = line.find("QN=") {
            let seg = line[at..]
                .trim_end()
                .replace(";…&&", "&&")
                .replace(",…&&", "&&");
            out.entry(label.clone()).or_default().push(seg);
        }
    }
    out
}

#[test]
fn appendix_c_segments_round_trip_through_the_codec() {
    let segs = appendix_c_segments();
    assert_eq!(
        segs.keys().map(String::as_str).collect::<Vec<_>>(),
        ["C.14", "C.16", "C.4", "C.50"]
    );
    assert_eq!(segs.values().map(Vec::len).sum::<usize>(), 7);
    for seg in segs.values().flatten() {
        let wire = encode_frame(seg).unwrap();
        let p = decode_packet(&wire, &Tolerance::STRICT).unwrap_or_else(|e| panic!("{seg}: {e}"));
        assert_eq!(p.as_str(), seg);
        assert!(p.deviations().is_empty());
    }

    // C.14: the "01018-Rtd" erratum is kept as sent; the host's 9014 equals the printed one.
    let upload = parse_segment(&segs["C.14"][0], &Tolerance::STRICT).unwrap();
    assert_eq!(upload.cp().get("01018-Rtd"), Some("2.2"));
    assert_eq!(upload.cp().get("w01018-EFlag"), Some("A01"));
    let reply = Reply::for_packet(&upload).unwrap();
    let wire = reply.encode(&ReplyTarget::from(&upload)).unwrap();
    assert_eq!(&wire[6..wire.len() - 6], segs["C.14"][1].as_bytes());

    // C.4: a 1013 notification is answered with 9013; the standard prints "CP=&& &&".
    let notification = parse_segment(&segs["C.4"][0], &Tolerance::STRICT).unwrap();
    assert_eq!(notification.cp().get("PolId"), Some("w01018"));
    assert_eq!(
        Reply::for_packet(&notification),
        Some(Reply::NotificationAck)
    );
    let printed = parse_segment(&segs["C.4"][1], &Tolerance::STRICT).unwrap();
    assert!(printed.cp().is_empty());
    let wire = Reply::NotificationAck
        .encode(&ReplyTarget::from(&notification))
        .unwrap();
    let ours = decode_packet(&wire, &Tolerance::STRICT).unwrap();
    assert_eq!(
        ours.header_fields().collect::<Vec<_>>(),
        printed.header_fields().collect::<Vec<_>>()
    );

    // C.16: minute data, 3 factors with Cou/Min/Avg/Max/Flag.
    let minute = parse_segment(&segs["C.16"][0], &Tolerance::STRICT).unwrap();
    assert_eq!(minute.cp().groups().count(), 4);
    assert_eq!(minute.cp().get("w01018-Avg"), Some("40.1"));

    // C.50: two pieces with their own QNs, Flag=7, reassembled on DataTime.
    let mut r = Reassembler::new(Duration::from_secs(30));
    let t = Instant::now();
    let pieces: Vec<_> = segs["C.50"]
        .iter()
        .map(|s| parse_segment(s, &Tolerance::STRICT).unwrap())
        .collect();
    assert_ne!(pieces[0].qn(), pieces[1].qn());
    assert!(pieces
        .iter()
        .all(|p| Reply::for_packet(p) == Some(Reply::DataAck)));
    r.push(&pieces[0], t).unwrap();
    let Ok(Progress::Complete(msg)) = r.push(&pieces[1], t) else {
        panic!("C.50 should complete")
    };
    assert_eq!(msg.pieces()[1].qn(), Some("20160801085857535"));
    assert_eq!(msg.factor_items().count(), 2);
}

#[test]
fn streamed_samples_get_the_same_verdicts_as_one_shot_decoding() {
    for tolerance in [Tolerance::STRICT, Tolerance::LENIENT] {
        let all = samples();
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        for (i, s) in all.iter().enumerate() {
            if i % 3 == 0 {
                wire.extend_from_slice(b"\0AT+CSQ\r\n"); // line noise between packets
            }
            wire.extend_from_slice(&s.wire);
            expected.push(decode_frame(&s.wire, &tolerance).map(|f| f.segment().len()));
        }
        for chunk in [1, 7, 64, 1460, wire.len()] {
            let mut dec = StreamDecoder::new(tolerance);
            let mut got = Vec::new();
            for c in wire.chunks(chunk) {
                dec.decode(c, |item| match item {
                    Err(FrameError::Skipped { .. }) => {}
                    other => got.push(other.map(|f| f.segment().len())),
                });
            }
            assert_eq!(dec.finish().next(), None);
            assert_eq!(got, expected, "chunk {chunk}");
        }
    }
}
