//! Codec for HJ 212, the Chinese standard for transmitting pollution-source online-monitoring
//! data (污染物在线监控（监测）系统数据传输标准): HJ/T 212-2005, HJ 212-2017 and the framing of
//! HJ 212-2025.
//!
//! A packet on the wire looks like this (HJ 212-2017 Appendix A):
//!
//! ```text
//! ##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n
//! ^^                                                                                                             header
//!   ^^^^                                                                                                         data-segment length, decimal
//!       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^       data segment
//!                                                                                                          ^^^^  CRC of the data segment, hex
//! ```
//!
//! # Layers
//!
//! | Layer | Entry points |
//! |---|---|
//! | TCP byte stream → frames | [`StreamDecoder`] (bounded buffer, resynchronises on `##`) |
//! | one frame in memory | [`decode_frame`], [`Frame`] |
//! | CRC (Appendix A) and CRC-16/MODBUS | [`crc`] |
//! | data segment → fields | [`parse_segment`], [`DataSegment`], [`Cp`], [`CpItem`] |
//! | both at once | [`decode_packet`], [`Packet`] |
//! | split messages (`PNUM`/`PNO`) | [`Reassembler`] |
//! | replies 9011–9014, framing | [`Reply`], [`FrameEncoder`] |
//!
//! Reading allocates nothing per field: every string in a [`DataSegment`] borrows from the
//! received bytes, and the data area is walked on demand. The library does no I/O and reads no
//! clock; time is passed in where it matters (reassembly timeouts).
//!
//! # Cost
//!
//! Reading a packet costs little more than the CRC every receiver must compute. The frame check
//! classifies the data segment 64 bytes at a time inside the CRC loop (SSE2 on x86-64, a
//! portable loop elsewhere): line feeds, non-ASCII bytes, and whether the data area has the
//! simple `name=value` shape nearly every real one has. The CRC's table lookups leave the vector
//! units idle, so this is almost free, and the parser then neither validates the data area again
//! nor re-checks UTF-8. Fields and items are found by walking bit masks of the delimiters.
//! `cargo bench -p cpaudit-hj212` prints parse + verify throughput against a bare CRC pass.
//!
//! `unsafe` is denied except for the SSE2 intrinsics, the `&str` of a segment found to be all
//! ASCII, and item slicing at delimiter positions; property tests and the fuzz target compare
//! each fast path with a plain one.
//!
//! # Strict by default, tolerant per device
//!
//! Every entry point takes a [`Tolerance`]. [`Tolerance::STRICT`] accepts what the standard
//! prescribes. Real devices deviate in known ways; enable a switch for a device that needs it,
//! and each packet accepted under a switch reports the [`Deviation`] so it can be counted:
//!
//! | [`Deviation`] | What the device does | Public sample |
//! |---|---|---|
//! | `CrcModbusSwapped` | CRC-16/MODBUS printed low byte first | S10, S11, S12 |
//! | `CrcModbus` | CRC-16/MODBUS, high byte first | (a public simulator) |
//! | `OversizeSegment` | data segment over 1024 bytes, up to a cap ≤ 9999 | S11, S12 |
//! | `MissingQn`, `MissingFlag` | 2005-style header without `QN`/`Flag` | S03, S04, S08 … |
//! | `HeaderKeyCase` | `FLAG=` instead of `Flag=` | S28 |
//! | `HeaderStraySeparator` | `;,MN=`, `;;`, `,` between header fields | S28, Table C.48 |
//! | `BareLfTail` | packet ends in `\n` without `\r` | |
//!
//! Not deviations, accepted always: lower-case hex in the CRC (`1dc0`; reported by
//! [`Frame::crc_lowercase`]), spaces around data-area items (the standard's own examples have
//! them), header fields in any order, unknown system, command and factor codes (kept as sent).
//! The version announced by `Flag` is recorded ([`DataSegment::version`]), never a reason to
//! reject.
//!
//! # Example: a receiver loop
//!
//! ```
//! use cpaudit_hj212::{Packet, Reply, ReplyTarget, StreamDecoder, Tolerance};
//!
//! let tolerance = Tolerance::STRICT.allow_legacy_2005_header();
//! let mut decoder = StreamDecoder::new(tolerance);
//! let mut replies: Vec<Vec<u8>> = Vec::new();
//!
//! // What one `read` on the socket returned:
//! let chunk = b"##0127QN=20200623122504356;ST=31;CN=2081;PW=123456;MN=88888880000001;Flag=5;CP=&&DataTime=20200623122504;RestartTime=20200623122342&&1100\r\n";
//! decoder.decode(chunk, |item| {
//!     let frame = match item {
//!         Ok(frame) => frame,
//!         Err(e) => return eprintln!("rejected: {e}"),
//!     };
//!     match Packet::from_frame(frame, &tolerance) {
//!         Ok(packet) => {
//!             for _deviation in packet.deviations().iter() {
//!                 // count `deviation` for packet.mn()
//!             }
//!             if let Some(reply) = Reply::for_packet(&packet) {
//!                 replies.push(reply.encode(&ReplyTarget::from(&packet.segment)).unwrap());
//!             }
//!         }
//!         Err(e) => eprintln!("bad data segment: {e}"),
//!     }
//! });
//! assert_eq!(replies.len(), 1); // Flag=5 asks for a 9014 data reply
//! assert!(replies[0].starts_with(b"##0077QN=20200623122504356;ST=91;CN=9014;"));
//! ```
//!
//! # Reading the data area
//!
//! ```
//! use cpaudit_hj212::{parse_segment, DataFlag, ItemKind, Suffix, Tolerance};
//!
//! let seg = parse_segment(
//!     "QN=20160801085000001;ST=32;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=4;\
//!      CP=&&DataTime=20160801084000;w01018-Avg=40.1,w01018-Flag=N;w21003-Avg=1.2,w21003-Flag=D&&",
//!     &Tolerance::STRICT,
//! )?;
//! let mut valid_means = Vec::new();
//! for group in seg.cp().groups() {
//!     let mut avg = None;
//!     let mut flag = None;
//!     for item in group.items() {
//!         match item.kind() {
//!             ItemKind::Factor { code, suffix: Suffix::Avg } => avg = Some((code, item.as_f64())),
//!             ItemKind::Factor { suffix: Suffix::Flag, .. } => flag = item.data_flag(),
//!             _ => {}
//!         }
//!     }
//!     if let (Some((code, Some(v))), Some(DataFlag::Normal)) = (avg, flag) {
//!         valid_means.push((code, v));
//!     }
//! }
//! assert_eq!(valid_means, [("w01018", 40.1)]); // w21003 is flagged D (instrument fault)
//! # Ok::<(), cpaudit_hj212::ParseError>(())
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod cp;
pub mod crc;
mod encode;
mod frame;
mod packet;
mod reassembly;
mod scan;
mod segment;
mod stream;
mod tolerance;

pub use cp::{Cp, CpGroup, CpItem, DataFlag, ItemKind, Items, Suffix, Timestamp};
pub use crc::CrcAlgorithm;
pub use encode::{
    encode_frame, EncodeError, ExeRtn, FrameEncoder, QnRtn, Reply, ReplyOptions, ReplyTarget,
};
pub use frame::{decode_frame, Frame, FrameError, FRAME_OVERHEAD};
pub use packet::{decode_packet, DecodeError, Packet};
pub use reassembly::{Message, MessageKey, Piece, Progress, Reassembler, ReassemblyError};
pub use segment::{
    parse_segment, DataSegment, DetectedVersion, Flag, PacketNumbers, ParseError, ProtocolVersion,
};
pub use stream::{DecoderStats, StreamDecoder};
pub use tolerance::{Deviation, Deviations, Tolerance, MAX_LENGTH_FIELD, MAX_SEGMENT_LEN};

/// The examples in the README, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
