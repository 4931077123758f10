//! Encoding: framing a data segment, and the host's replies 9011, 9012, 9013 and 9014.
//!
//! Replies follow HJ 212-2017 Appendix C: `ST=91`, `Flag=4` (2017, no acknowledgement wanted),
//! and the request's `QN`, `PW` and `MN` copied back so the device can match the reply:
//!
//! ```text
//! ##0088QN=20160801085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&…CRC\r\n
//! ```

use std::fmt::Write as _;

use crate::crc::{self, CrcAlgorithm};
use crate::segment::DataSegment;
use crate::tolerance::{MAX_LENGTH_FIELD, MAX_SEGMENT_LEN};

/// Why a frame or reply could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The data segment is longer than the encoder's limit (1024 by default).
    #[error("data segment of {len} bytes exceeds the limit of {limit}")]
    SegmentTooLong {
        /// Segment length.
        len: usize,
        /// Limit in force.
        limit: usize,
    },
    /// The data segment contains CR or LF, which would break the receiver's framing.
    #[error("data segment contains a line break")]
    LineBreak,
    /// A value copied into a reply contains a delimiter (`;` `,` `=` `&`) or a line break.
    #[error("value of {field} contains a delimiter or line break")]
    InvalidValue {
        /// The field.
        field: &'static str,
    },
}

/// Frames data segments: `##` + length + segment + CRC + CRLF.
///
/// ```
/// use cpaudit_hj212::FrameEncoder;
/// let seg = "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";
/// let wire = FrameEncoder::STANDARD.encode(seg)?;
/// assert!(wire.starts_with(b"##0101QN="));
/// assert!(wire.ends_with(b"&&1C80\r\n"));
/// # Ok::<(), cpaudit_hj212::EncodeError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameEncoder {
    crc: CrcAlgorithm,
    max_segment_len: usize,
}

impl Default for FrameEncoder {
    fn default() -> Self {
        FrameEncoder::STANDARD
    }
}

impl FrameEncoder {
    /// HJ 212 CRC, segments up to 1024 bytes.
    pub const STANDARD: FrameEncoder = FrameEncoder {
        crc: CrcAlgorithm::Hj212,
        max_segment_len: MAX_SEGMENT_LEN,
    };

    /// Uses another CRC, for a device that only accepts the checksum it sends itself.
    #[must_use]
    pub const fn with_crc(self, crc: CrcAlgorithm) -> FrameEncoder {
        FrameEncoder {
            crc,
            max_segment_len: self.max_segment_len,
        }
    }

    /// Raises (or lowers) the segment limit; capped at 9999, the most the length field holds.
    #[must_use]
    pub const fn with_max_segment_len(self, limit: usize) -> FrameEncoder {
        FrameEncoder {
            crc: self.crc,
            max_segment_len: if limit > MAX_LENGTH_FIELD {
                MAX_LENGTH_FIELD
            } else {
                limit
            },
        }
    }

    /// Appends the frame for `segment` to `out`.
    ///
    /// # Errors
    /// [`EncodeError::SegmentTooLong`] or [`EncodeError::LineBreak`]; `out` is then unchanged.
    pub fn encode_into(&self, segment: &str, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let seg = segment.as_bytes();
        if seg.len() > self.max_segment_len {
            return Err(EncodeError::SegmentTooLong {
                len: seg.len(),
                limit: self.max_segment_len,
            });
        }
        if seg.iter().any(|&b| b == b'\r' || b == b'\n') {
            return Err(EncodeError::LineBreak);
        }
        out.reserve(seg.len() + crate::frame::FRAME_OVERHEAD);
        out.extend_from_slice(b"##");
        let len = seg.len();
        out.extend_from_slice(&[
            b'0' + (len / 1000) as u8,
            b'0' + (len / 100 % 10) as u8,
            b'0' + (len / 10 % 10) as u8,
            b'0' + (len % 10) as u8,
        ]);
        out.extend_from_slice(seg);
        out.extend_from_slice(&crc::to_hex(self.crc.compute(seg)));
        out.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// The frame for `segment`.
    ///
    /// # Errors
    /// As [`encode_into`](Self::encode_into).
    pub fn encode(&self, segment: &str) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_into(segment, &mut out)?;
        Ok(out)
    }
}

/// Frames `segment` with the standard encoder ([`FrameEncoder::STANDARD`]).
///
/// # Errors
/// As [`FrameEncoder::encode_into`].
pub fn encode_frame(segment: &str) -> Result<Vec<u8>, EncodeError> {
    FrameEncoder::STANDARD.encode(segment)
}

/// `QnRtn`, the answer in a 9011 request reply (HJ 212-2017 Table 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QnRtn {
    /// 1: ready to execute.
    Ready,
    /// 2: request rejected.
    Rejected,
    /// 3: PW error.
    PasswordError,
    /// 4: MN error.
    MnError,
    /// 5: ST error.
    StError,
    /// 6: Flag error.
    FlagError,
    /// 7: QN error.
    QnError,
    /// 8: CN error.
    CnError,
    /// 9: CRC error.
    CrcError,
    /// 100: unknown error.
    UnknownError,
}

impl QnRtn {
    /// The numeric code.
    #[must_use]
    pub const fn code(self) -> u16 {
        match self {
            QnRtn::Ready => 1,
            QnRtn::Rejected => 2,
            QnRtn::PasswordError => 3,
            QnRtn::MnError => 4,
            QnRtn::StError => 5,
            QnRtn::FlagError => 6,
            QnRtn::QnError => 7,
            QnRtn::CnError => 8,
            QnRtn::CrcError => 9,
            QnRtn::UnknownError => 100,
        }
    }

    /// The variant for a numeric code.
    #[must_use]
    pub const fn from_code(code: u16) -> Option<QnRtn> {
        Some(match code {
            1 => QnRtn::Ready,
            2 => QnRtn::Rejected,
            3 => QnRtn::PasswordError,
            4 => QnRtn::MnError,
            5 => QnRtn::StError,
            6 => QnRtn::FlagError,
            7 => QnRtn::QnError,
            8 => QnRtn::CnError,
            9 => QnRtn::CrcError,
            100 => QnRtn::UnknownError,
            _ => return None,
        })
    }
}

/// `ExeRtn`, the outcome in a 9012 execution result (HJ 212-2017 Table 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExeRtn {
    /// 1: executed successfully.
    Success,
    /// 2: failed, reason unknown.
    Failed,
    /// 3: request-condition error.
    ConditionError,
    /// 4: communication timeout.
    Timeout,
    /// 5: system busy.
    Busy,
    /// 6: system fault.
    SystemFault,
    /// 100: no data.
    NoData,
}

impl ExeRtn {
    /// The numeric code.
    #[must_use]
    pub const fn code(self) -> u16 {
        match self {
            ExeRtn::Success => 1,
            ExeRtn::Failed => 2,
            ExeRtn::ConditionError => 3,
            ExeRtn::Timeout => 4,
            ExeRtn::Busy => 5,
            ExeRtn::SystemFault => 6,
            ExeRtn::NoData => 100,
        }
    }

    /// The variant for a numeric code.
    #[must_use]
    pub const fn from_code(code: u16) -> Option<ExeRtn> {
        Some(match code {
            1 => ExeRtn::Success,
            2 => ExeRtn::Failed,
            3 => ExeRtn::ConditionError,
            4 => ExeRtn::Timeout,
            5 => ExeRtn::Busy,
            6 => ExeRtn::SystemFault,
            100 => ExeRtn::NoData,
            _ => return None,
        })
    }
}

/// Whom a reply answers: the `QN`, `PW` and `MN` copied from the packet being answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReplyTarget<'a> {
    /// The request's `QN`; a 2005-style packet without one gets a reply without one.
    pub qn: Option<&'a str>,
    /// The request's `PW`.
    pub pw: &'a str,
    /// The request's `MN`.
    pub mn: &'a str,
}

impl<'a> From<&DataSegment<'a>> for ReplyTarget<'a> {
    fn from(seg: &DataSegment<'a>) -> Self {
        ReplyTarget {
            qn: seg.qn(),
            pw: seg.pw(),
            mn: seg.mn(),
        }
    }
}

/// A reply the host (or a device) sends (HJ 212-2017 §6.5, Table 9, Appendix C).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// 9014 data reply: acknowledges an upload sent with flag bit A = 1. `CP=&&&&`.
    DataAck,
    /// 9013 notification reply: acknowledges a notification (e.g. 1013 time-calibration
    /// request). `CP=&&&&`.
    NotificationAck,
    /// 9011 request reply: `CP=&&QnRtn=n&&`.
    RequestAck(QnRtn),
    /// 9012 execution result: `CP=&&ExeRtn=n&&`.
    ExecutionResult(ExeRtn),
}

/// Options for [`Reply::encode_with`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReplyOptions {
    /// The reply's `Flag`; 4 (2017, no acknowledgement) by default. Some 2005 devices expect 0.
    pub flag: u8,
    /// How to frame the reply.
    pub encoder: FrameEncoder,
}

impl Default for ReplyOptions {
    fn default() -> Self {
        ReplyOptions {
            flag: 4,
            encoder: FrameEncoder::STANDARD,
        }
    }
}

fn check_value(value: &str, field: &'static str) -> Result<(), EncodeError> {
    if value
        .bytes()
        .any(|b| matches!(b, b';' | b',' | b'=' | b'&' | b'\r' | b'\n'))
    {
        return Err(EncodeError::InvalidValue { field });
    }
    Ok(())
}

impl Reply {
    /// The reply's command code.
    #[must_use]
    pub const fn cn(self) -> &'static str {
        match self {
            Reply::DataAck => "9014",
            Reply::NotificationAck => "9013",
            Reply::RequestAck(_) => "9011",
            Reply::ExecutionResult(_) => "9012",
        }
    }

    /// The acknowledgement a host owes for a packet received from a device, if any.
    ///
    /// Only a packet with flag bit A = 1 is acknowledged (no flag, as in 2005-style uploads,
    /// means no). A 1013 time-calibration request gets 9013; uploads (CN 2000–3999) get 9014,
    /// each split piece separately with its own `QN`. Anything else is not for the host to
    /// acknowledge this way.
    ///
    /// ```
    /// use cpaudit_hj212::{parse_segment, Reply, Tolerance};
    /// let seg = parse_segment(
    ///     "QN=20200623122504356;ST=31;CN=2081;PW=123456;MN=88888880000001;Flag=5;CP=&&RestartTime=20200623122342&&",
    ///     &Tolerance::STRICT,
    /// )?;
    /// assert_eq!(Reply::for_packet(&seg), Some(Reply::DataAck));
    /// # Ok::<(), cpaudit_hj212::ParseError>(())
    /// ```
    #[must_use]
    pub fn for_packet(seg: &DataSegment<'_>) -> Option<Reply> {
        if !seg.ack_requested() {
            return None;
        }
        match seg.cn_number()? {
            1013 => Some(Reply::NotificationAck),
            2000..=3999 => Some(Reply::DataAck),
            _ => None,
        }
    }

    /// Appends the reply's data segment (no framing) to `out`.
    ///
    /// # Errors
    /// [`EncodeError::InvalidValue`] if a copied value contains a delimiter.
    pub fn write_segment(
        &self,
        to: &ReplyTarget<'_>,
        flag: u8,
        out: &mut String,
    ) -> Result<(), EncodeError> {
        if let Some(qn) = to.qn {
            check_value(qn, "QN")?;
        }
        check_value(to.pw, "PW")?;
        check_value(to.mn, "MN")?;
        // Writing into a String cannot fail.
        if let Some(qn) = to.qn {
            let _ = write!(out, "QN={qn};");
        }
        let _ = write!(
            out,
            "ST=91;CN={};PW={};MN={};Flag={flag};CP=&&",
            self.cn(),
            to.pw,
            to.mn
        );
        match self {
            Reply::DataAck | Reply::NotificationAck => {}
            Reply::RequestAck(r) => {
                let _ = write!(out, "QnRtn={}", r.code());
            }
            Reply::ExecutionResult(r) => {
                let _ = write!(out, "ExeRtn={}", r.code());
            }
        }
        out.push_str("&&");
        Ok(())
    }

    /// The framed reply with default options (`Flag=4`, HJ 212 CRC).
    ///
    /// ```
    /// use cpaudit_hj212::{Reply, ReplyTarget};
    /// let to = ReplyTarget { qn: Some("20160801085857223"), pw: "123456", mn: "010000A8900016F000169DC0" };
    /// let wire = Reply::DataAck.encode(&to)?;
    /// assert_eq!(
    ///     &wire[6..wire.len() - 6],
    ///     b"QN=20160801085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&"
    /// );
    /// # Ok::<(), cpaudit_hj212::EncodeError>(())
    /// ```
    ///
    /// # Errors
    /// As [`write_segment`](Self::write_segment).
    pub fn encode(&self, to: &ReplyTarget<'_>) -> Result<Vec<u8>, EncodeError> {
        self.encode_with(to, &ReplyOptions::default())
    }

    /// The framed reply with explicit options.
    ///
    /// # Errors
    /// As [`write_segment`](Self::write_segment) and [`FrameEncoder::encode_into`].
    pub fn encode_with(
        &self,
        to: &ReplyTarget<'_>,
        options: &ReplyOptions,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut seg = String::with_capacity(96);
        self.write_segment(to, options.flag, &mut seg)?;
        options.encoder.encode(&seg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::decode_frame;
    use crate::tolerance::Tolerance;

    const TARGET: ReplyTarget<'static> = ReplyTarget {
        qn: Some("20160801085857223"),
        pw: "123456",
        mn: "010000A8900016F000169DC0",
    };

    fn segment_of(wire: &[u8]) -> String {
        let f = decode_frame(wire, &Tolerance::STRICT).unwrap();
        String::from_utf8(f.segment().to_vec()).unwrap()
    }

    #[test]
    fn replies_match_appendix_c() {
        let cases = [
            (Reply::DataAck, "QN=20160801085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&"),
            (Reply::NotificationAck, "QN=20160801085857223;ST=91;CN=9013;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&"),
            (Reply::RequestAck(QnRtn::Ready), "QN=20160801085857223;ST=91;CN=9011;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&QnRtn=1&&"),
            (Reply::ExecutionResult(ExeRtn::Success), "QN=20160801085857223;ST=91;CN=9012;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&ExeRtn=1&&"),
            (Reply::ExecutionResult(ExeRtn::NoData), "QN=20160801085857223;ST=91;CN=9012;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&ExeRtn=100&&"),
        ];
        for (reply, expected) in cases {
            let wire = reply.encode(&TARGET).unwrap();
            assert_eq!(segment_of(&wire), expected);
            assert_eq!(&wire[2..6], format!("{:04}", expected.len()).as_bytes());
        }
    }

    #[test]
    fn reply_options_and_legacy_targets() {
        let to = ReplyTarget {
            qn: None,
            pw: "123456",
            mn: "LD130133000015",
        };
        let opts = ReplyOptions {
            flag: 0,
            encoder: FrameEncoder::STANDARD.with_crc(CrcAlgorithm::ModbusSwapped),
        };
        let wire = Reply::DataAck.encode_with(&to, &opts).unwrap();
        let tol = Tolerance::STRICT.allow(crate::Deviation::CrcModbusSwapped);
        let f = decode_frame(&wire, &tol).unwrap();
        assert_eq!(f.crc_algorithm(), CrcAlgorithm::ModbusSwapped);
        assert_eq!(
            f.segment(),
            b"ST=91;CN=9014;PW=123456;MN=LD130133000015;Flag=0;CP=&&&&"
        );
        let bad = ReplyTarget { mn: "A;B", ..to };
        assert_eq!(
            Reply::DataAck.encode(&bad),
            Err(EncodeError::InvalidValue { field: "MN" })
        );
    }

    #[test]
    fn frame_encoder_limits() {
        let long = "x".repeat(1025);
        assert_eq!(
            encode_frame(&long),
            Err(EncodeError::SegmentTooLong {
                len: 1025,
                limit: 1024
            })
        );
        let wire = FrameEncoder::STANDARD
            .with_max_segment_len(20_000)
            .encode(&long)
            .unwrap();
        assert!(wire.starts_with(b"##1025x"));
        assert_eq!(encode_frame("a\nb"), Err(EncodeError::LineBreak));
        assert_eq!(encode_frame("").unwrap(), b"##0000FFFF\r\n");
        let mut out = b"keep".to_vec();
        assert!(FrameEncoder::STANDARD.encode_into(&long, &mut out).is_err());
        assert_eq!(out, b"keep");
    }

    #[test]
    fn codes_round_trip() {
        for c in 0..200 {
            if let Some(q) = QnRtn::from_code(c) {
                assert_eq!(q.code(), c);
            }
            if let Some(e) = ExeRtn::from_code(c) {
                assert_eq!(e.code(), c);
            }
        }
        assert_eq!(QnRtn::from_code(10), None);
        assert_eq!(ExeRtn::from_code(7), None);
    }
}
