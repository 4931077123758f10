//! The data segment: `QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&…&&`
//! (HJ 212-2017 §6.3.2, Table 3).
//!
//! Fields are read **by key**, not by position: real devices reorder them (`ST=32;CN=2051;QN=…`,
//! `PNO` before `PNUM`) and 2005-style devices omit `QN` and `Flag`. The `CP` field comes last and
//! runs to the end of the segment, because its content contains `;`.

use crate::cp::{self, Cp, CpHint, Shape, Timestamp};
use crate::scan::Delimiters;
use crate::tolerance::{Deviation, Deviations, Tolerance};

/// The `Flag=` field: `V5 V4 V3 V2 V1 V0 D A` (HJ 212-2017 Table 3).
///
/// ```
/// use cpaudit_hj212::{Flag, ProtocolVersion};
/// let f = Flag::new(7); // the standard's example: 2017, split, acknowledgement requested
/// assert!(f.ack_requested() && f.has_packet_numbers());
/// assert_eq!(f.version(), ProtocolVersion::Hj212_2017);
/// assert_eq!(Flag::new(9).version(), ProtocolVersion::Hj212_2025);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flag(u8);

impl Flag {
    /// Wraps a raw flag value.
    #[must_use]
    pub const fn new(bits: u8) -> Flag {
        Flag(bits)
    }

    /// The raw value.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Bit A: the sender wants an acknowledgement (for an upload: a 9014 reply).
    #[must_use]
    pub const fn ack_requested(self) -> bool {
        self.0 & 1 != 0
    }

    /// Bit D: the packet is one piece of a split message and carries `PNUM`/`PNO`.
    #[must_use]
    pub const fn has_packet_numbers(self) -> bool {
        self.0 & 2 != 0
    }

    /// Bits V5..V0: the standard version number.
    #[must_use]
    pub const fn version_bits(self) -> u8 {
        self.0 >> 2
    }

    /// The standard named by the version bits.
    #[must_use]
    pub const fn version(self) -> ProtocolVersion {
        match self.version_bits() {
            0 => ProtocolVersion::Hj212_2005,
            1 => ProtocolVersion::Hj212_2017,
            2 => ProtocolVersion::Hj212_2025,
            other => ProtocolVersion::Unassigned(other),
        }
    }
}

/// An edition of HJ 212, as announced by a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// HJ/T 212-2005 (version bits `000000`, or no `Flag` at all).
    Hj212_2005,
    /// HJ 212-2017 (version bits `000001`).
    Hj212_2017,
    /// HJ 212-2025 (version bits `000010`; secondary sources, primary text not yet read).
    Hj212_2025,
    /// Version bits that no edition assigns, kept as sent.
    Unassigned(u8),
}

/// What the version detection saw.
///
/// Detection records, it does not judge: `Flag=9` (2025 bits) appears in packets dated 2020,
/// years before HJ 212-2025 existed, so a version is a claim by the device, to be checked against
/// per-device configuration. Nothing is rejected because of the version alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DetectedVersion {
    /// The version inferred: from the flag's version bits, or 2005 when there is no flag.
    pub version: ProtocolVersion,
    /// The raw `Flag` value, or `None` when the packet had no `Flag` field.
    pub flag: Option<u8>,
}

/// `PNUM` / `PNO`: this packet is piece `pno` of `pnum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PacketNumbers {
    /// Total number of pieces, 1–9999.
    pub pnum: u16,
    /// This piece's number, 1–`pnum`.
    pub pno: u16,
}

/// Why a data segment was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The segment is not valid UTF-8 (the standard requires UTF-8 for Chinese text).
    #[error("data segment is not UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// A required field is absent.
    #[error("missing field {0}")]
    MissingField(&'static str),
    /// A field appears twice.
    #[error("field {0} appears more than once")]
    DuplicateField(&'static str),
    /// A header key is a known key in the wrong letter case (e.g. `FLAG`) and
    /// [`Deviation::HeaderKeyCase`] is not tolerated.
    #[error("header key at byte {offset} should be spelled {expected}")]
    KeyCase {
        /// Offset of the key in the segment.
        offset: usize,
        /// The standard spelling.
        expected: &'static str,
    },
    /// An empty header field (`;;`) or a field starting with a separator (`;,MN=`), and
    /// [`Deviation::HeaderStraySeparator`] is not tolerated.
    #[error("empty header field at byte {offset}")]
    EmptyField {
        /// Offset of the stray separator.
        offset: usize,
    },
    /// A header key contains a character other than ASCII letters and digits, or is empty.
    #[error("malformed header key at byte {offset}")]
    InvalidKey {
        /// Offset of the offending character.
        offset: usize,
    },
    /// A header field has no `=`.
    #[error("header field at byte {offset} has no '='")]
    FieldWithoutEquals {
        /// Offset of the field.
        offset: usize,
    },
    /// `Flag`, `PNUM` or `PNO` is not a number in range.
    #[error("field {field} has an invalid value")]
    InvalidNumber {
        /// The field.
        field: &'static str,
    },
    /// `PNO` is 0 or greater than `PNUM`, or `PNUM` is 0.
    #[error("packet number {pno} of {pnum} is out of range")]
    PacketNumberOutOfRange {
        /// `PNO`.
        pno: u16,
        /// `PNUM`.
        pnum: u16,
    },
    /// `PNUM`/`PNO` present although the flag's D bit (2005/2017 layout) says the packet is not
    /// split.
    #[error("PNUM/PNO present but the Flag's D bit is 0")]
    UnexpectedPacketNumbers,
    /// `CP=` is not of the form `&&…&&`.
    #[error("CP field at byte {offset} is not enclosed in && … &&")]
    MalformedCp {
        /// Offset of the CP value.
        offset: usize,
    },
    /// A data-area item has no `=`.
    #[error("CP item at byte {offset} has no '='")]
    CpItemWithoutEquals {
        /// Offset of the item.
        offset: usize,
    },
    /// A data-area item has an empty name.
    #[error("CP item at byte {offset} has an empty name")]
    CpEmptyKey {
        /// Offset of the item.
        offset: usize,
    },
    /// `&&` inside the data area: the data area ended early and something follows it.
    #[error("unexpected && inside the data area at byte {offset}")]
    CpNestedDelimiter {
        /// Offset of the `&&`.
        offset: usize,
    },
}

/// A parsed data segment. Every string borrows from the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataSegment<'a> {
    text: &'a str,
    header: &'a str,
    qn: Option<&'a str>,
    st: &'a str,
    cn: &'a str,
    pw: &'a str,
    mn: &'a str,
    flag: Option<Flag>,
    packet_numbers: Option<PacketNumbers>,
    rf: Option<&'a str>,
    unknown_fields: u16,
    cp: Cp<'a>,
    deviations: Deviations,
}

impl<'a> DataSegment<'a> {
    /// The whole segment text.
    #[must_use]
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// `QN`, the request code (a 17-digit timestamp); absent in 2005-style uploads.
    #[must_use]
    pub fn qn(&self) -> Option<&'a str> {
        self.qn
    }

    /// `ST`, the system code, as sent (non-standard values such as `101` are kept).
    #[must_use]
    pub fn st(&self) -> &'a str {
        self.st
    }

    /// `CN`, the command code.
    #[must_use]
    pub fn cn(&self) -> &'a str {
        self.cn
    }

    /// `CN` as a number, when it is one.
    #[must_use]
    pub fn cn_number(&self) -> Option<u16> {
        parse_uint(self.cn, 4)
    }

    /// `PW`, the access password.
    #[must_use]
    pub fn pw(&self) -> &'a str {
        self.pw
    }

    /// `MN`, the device identifier.
    #[must_use]
    pub fn mn(&self) -> &'a str {
        self.mn
    }

    /// The `Flag` field, if present.
    #[must_use]
    pub fn flag(&self) -> Option<Flag> {
        self.flag
    }

    /// Whether the sender asked for an acknowledgement (flag bit A). No flag means no.
    #[must_use]
    pub fn ack_requested(&self) -> bool {
        self.flag.is_some_and(Flag::ack_requested)
    }

    /// The version the packet announces, and what that was based on.
    #[must_use]
    pub fn version(&self) -> DetectedVersion {
        DetectedVersion {
            version: self.flag.map_or(ProtocolVersion::Hj212_2005, Flag::version),
            flag: self.flag.map(Flag::bits),
        }
    }

    /// `PNUM`/`PNO` when the packet is one piece of a split message.
    #[must_use]
    pub fn packet_numbers(&self) -> Option<PacketNumbers> {
        self.packet_numbers
    }

    /// `RF`, the HJ 212-2025 back-fill marker, if present.
    #[must_use]
    pub fn rf(&self) -> Option<&'a str> {
        self.rf
    }

    /// Number of header fields with keys this parser does not know (kept; see
    /// [`header_fields`](Self::header_fields)).
    #[must_use]
    pub fn unknown_field_count(&self) -> usize {
        usize::from(self.unknown_fields)
    }

    /// All header fields before `CP` as `(key, value)`, in order, including unknown ones.
    pub fn header_fields(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.header
            .split([';', ','])
            .filter_map(|field| field.split_once('='))
    }

    /// The data area.
    #[must_use]
    pub fn cp(&self) -> Cp<'a> {
        self.cp
    }

    /// `DataTime` from the data area, as sent.
    #[must_use]
    pub fn data_time(&self) -> Option<&'a str> {
        self.cp.data_time()
    }

    /// `QN` read as a timestamp.
    #[must_use]
    pub fn qn_timestamp(&self) -> Option<Timestamp> {
        self.qn.and_then(Timestamp::parse)
    }

    /// Segment-level deviations accepted while parsing (missing `QN`/`Flag`, key case, stray
    /// separators).
    #[must_use]
    pub fn deviations(&self) -> Deviations {
        self.deviations
    }
}

/// Parses up to `max_digits` ASCII digits.
fn parse_uint(s: &str, max_digits: usize) -> Option<u16> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u16, |n, d| {
        n.checked_mul(10)?.checked_add(u16::from(d - b'0'))
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Qn,
    St,
    Cn,
    Pw,
    Mn,
    Flag,
    Pnum,
    Pno,
    Rf,
    Cp,
}

impl Key {
    /// `Key::Cp as usize`: the keys before it have values in the header.
    const CP_INDEX: usize = Key::Cp as usize;

    const ALL: [Key; 10] = [
        Key::Qn,
        Key::St,
        Key::Cn,
        Key::Pw,
        Key::Mn,
        Key::Flag,
        Key::Pnum,
        Key::Pno,
        Key::Rf,
        Key::Cp,
    ];

    /// The standard spelling.
    const fn name(self) -> &'static str {
        match self {
            Key::Qn => "QN",
            Key::St => "ST",
            Key::Cn => "CN",
            Key::Pw => "PW",
            Key::Mn => "MN",
            Key::Flag => "Flag",
            Key::Pnum => "PNUM",
            Key::Pno => "PNO",
            Key::Rf => "RF",
            Key::Cp => "CP",
        }
    }

    /// The known key spelled exactly `name`.
    #[inline]
    fn exact(name: &[u8]) -> Option<Key> {
        Some(match name {
            b"QN" => Key::Qn,
            b"ST" => Key::St,
            b"CN" => Key::Cn,
            b"PW" => Key::Pw,
            b"MN" => Key::Mn,
            b"Flag" => Key::Flag,
            b"PNUM" => Key::Pnum,
            b"PNO" => Key::Pno,
            b"RF" => Key::Rf,
            b"CP" => Key::Cp,
            _ => return None,
        })
    }

    /// The known key `name` denotes when letter case is ignored.
    fn lookup_ignoring_case(name: &[u8]) -> Option<Key> {
        Key::ALL
            .into_iter()
            .find(|k| k.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

/// Parses a data segment under `tolerance`.
///
/// ```
/// use cpaudit_hj212::{parse_segment, ProtocolVersion, Tolerance};
/// let seg = parse_segment(
///     "QN=20160801085000001;ST=32;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=5;\
///      CP=&&DataTime=20160801084000;w01018-Avg=40.1,w01018-Flag=N&&",
///     &Tolerance::STRICT,
/// )?;
/// assert_eq!(seg.cn(), "2051");
/// assert!(seg.ack_requested());
/// assert_eq!(seg.version().version, ProtocolVersion::Hj212_2017);
/// assert_eq!(seg.data_time(), Some("20160801084000"));
/// assert_eq!(seg.cp().get("w01018-Avg"), Some("40.1"));
/// # Ok::<(), cpaudit_hj212::ParseError>(())
/// ```
///
/// # Errors
/// [`ParseError`] for the first problem found.
pub fn parse_segment<'a>(
    text: &'a str,
    tolerance: &Tolerance,
) -> Result<DataSegment<'a>, ParseError> {
    parse_segment_hinted(text, tolerance, None)
}

/// [`parse_segment`], taking the shape of the data area from `hint` (what the frame check
/// found) when the data area starts where the hint says.
pub(crate) fn parse_segment_hinted<'a>(
    text: &'a str,
    tolerance: &Tolerance,
    hint: Option<CpHint>,
) -> Result<DataSegment<'a>, ParseError> {
    let bytes = text.as_bytes();
    let stray_ok = tolerance.allows(Deviation::HeaderStraySeparator);
    let case_ok = tolerance.allows(Deviation::HeaderKeyCase);
    let mut deviations = Deviations::EMPTY;

    // The value of each known key but `CP`, indexed by `Key as usize`.
    let mut values: [Option<&'a str>; Key::CP_INDEX] = [None; Key::CP_INDEX];
    let mut unknown_fields: u16 = 0;

    // Fields are found through the positions of '=', ';' and ',' (see `scan`), so the parse
    // touches the bytes of a field only to recognise its key.
    let mut delimiters = Delimiters::new(bytes);
    let mut pos = 0;
    let (header_end, cp_value) = loop {
        let Some(&first) = bytes.get(pos) else {
            return Err(ParseError::MissingField("CP"));
        };
        if first == b';' || first == b',' {
            if !stray_ok {
                return Err(ParseError::EmptyField { offset: pos });
            }
            deviations.insert(Deviation::HeaderStraySeparator);
            pos += 1;
            continue;
        }
        let key_start = pos;
        let stop = delimiters
            .next_from(bytes, key_start)
            .unwrap_or(bytes.len());
        let name = &bytes[key_start..stop];
        let exact = if bytes.get(stop) == Some(&b'=') {
            Key::exact(name)
        } else {
            None
        };
        let key = match exact {
            Some(key) => Some(key),
            None => {
                // Not a key spelled as the standard does: check it byte by byte.
                if let Some(at) = name.iter().position(|b| !b.is_ascii_alphanumeric()) {
                    return Err(ParseError::InvalidKey {
                        offset: key_start + at,
                    });
                }
                if bytes.get(stop) != Some(&b'=') {
                    return Err(ParseError::FieldWithoutEquals { offset: key_start });
                }
                if name.is_empty() {
                    return Err(ParseError::InvalidKey { offset: stop });
                }
                match Key::lookup_ignoring_case(name) {
                    Some(key) if case_ok => {
                        deviations.insert(Deviation::HeaderKeyCase);
                        Some(key)
                    }
                    Some(key) => {
                        return Err(ParseError::KeyCase {
                            offset: key_start,
                            expected: key.name(),
                        })
                    }
                    None => None,
                }
            }
        };
        pos = stop + 1;
        if key == Some(Key::Cp) {
            break (key_start, &text[pos..]);
        }
        // The value runs to the next ';' (or ',' when stray separators are tolerated).
        let end = loop {
            match delimiters.next(bytes) {
                Some(at) if bytes[at] == b';' || (stray_ok && bytes[at] == b',') => break at,
                Some(_) => continue,
                None => break bytes.len(),
            }
        };
        let value = &text[pos..end];
        pos = end;
        if pos < bytes.len() {
            if bytes[pos] == b',' {
                deviations.insert(Deviation::HeaderStraySeparator);
            }
            pos += 1;
        }
        match key {
            // The loop leaves at `CP` before reaching here, so the index is in range.
            Some(key) => {
                if values[key as usize].replace(value).is_some() {
                    return Err(ParseError::DuplicateField(key.name()));
                }
            }
            None => unknown_fields = unknown_fields.saturating_add(1),
        }
    };

    let cp_offset = text.len() - cp_value.len();
    let inner = cp_value
        .strip_prefix("&&")
        .and_then(|v| v.strip_suffix("&&"))
        .ok_or(ParseError::MalformedCp { offset: cp_offset })?;
    let shape = match hint {
        Some(hint) if hint.start == cp_offset + 2 && hint.shape != Shape::General => hint.shape,
        _ => cp::validate(inner, cp_offset + 2)?,
    };
    let cp = Cp::new(inner, shape);

    let [qn, st, cn, pw, mn, flag, pnum, pno, rf] = values;
    let require = |v: Option<&'a str>, name| v.ok_or(ParseError::MissingField(name));
    let (st, cn, pw, mn) = (
        require(st, "ST")?,
        require(cn, "CN")?,
        require(pw, "PW")?,
        require(mn, "MN")?,
    );
    if qn.is_none() {
        if !tolerance.allows(Deviation::MissingQn) {
            return Err(ParseError::MissingField("QN"));
        }
        deviations.insert(Deviation::MissingQn);
    }
    let flag = match flag {
        Some(v) => Some(Flag::new(
            parse_uint(v, 3)
                .and_then(|n| u8::try_from(n).ok())
                .ok_or(ParseError::InvalidNumber { field: "Flag" })?,
        )),
        None if tolerance.allows(Deviation::MissingFlag) => {
            deviations.insert(Deviation::MissingFlag);
            None
        }
        None => return Err(ParseError::MissingField("Flag")),
    };
    let packet_numbers = packet_numbers(flag, pnum, pno)?;

    Ok(DataSegment {
        text,
        header: &text[..header_end],
        qn,
        st,
        cn,
        pw,
        mn,
        flag,
        packet_numbers,
        rf,
        unknown_fields,
        cp,
        deviations,
    })
}

/// Checks `PNUM`/`PNO` against each other and against the flag's D bit.
///
/// The D bit is enforced only for the layouts the 2005/2017 texts define. For other version
/// bits (2025, whose split-bit position is not confirmed, or unassigned ones) the presence of
/// `PNUM`/`PNO` decides, so that no packet is rejected on the strength of its version alone.
fn packet_numbers(
    flag: Option<Flag>,
    pnum: Option<&str>,
    pno: Option<&str>,
) -> Result<Option<PacketNumbers>, ParseError> {
    let d_bit_defined = flag.map(|f| {
        (
            matches!(
                f.version(),
                ProtocolVersion::Hj212_2005 | ProtocolVersion::Hj212_2017
            ),
            f.has_packet_numbers(),
        )
    });
    let numbers = match (pnum, pno) {
        (None, None) => None,
        (Some(_), None) => return Err(ParseError::MissingField("PNO")),
        (None, Some(_)) => return Err(ParseError::MissingField("PNUM")),
        (Some(n), Some(p)) => {
            let pnum = parse_uint(n, 4).ok_or(ParseError::InvalidNumber { field: "PNUM" })?;
            let pno = parse_uint(p, 4).ok_or(ParseError::InvalidNumber { field: "PNO" })?;
            if pnum == 0 || pno == 0 || pno > pnum {
                return Err(ParseError::PacketNumberOutOfRange { pno, pnum });
            }
            Some(PacketNumbers { pnum, pno })
        }
    };
    match (d_bit_defined, numbers) {
        (Some((true, true)), None) => Err(ParseError::MissingField("PNUM")),
        (Some((true, false)), Some(_)) => Err(ParseError::UnexpectedPacketNumbers),
        _ => Ok(numbers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C16: &str = "QN=20160801085000001;ST=32;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20160801084000;w00000-Cou=10.5,w00000-Min=16.4,w00000-Avg=17.5,w00000-Max=20.1,w00000-Flag=N;w01001-Min=7.1,w01001-Avg=7.5,w01001-Max=7.8,w01001-Flag=N&&";

    #[test]
    fn parses_c16() {
        let s = parse_segment(C16, &Tolerance::STRICT).unwrap();
        assert_eq!(s.qn(), Some("20160801085000001"));
        assert_eq!((s.st(), s.cn(), s.pw()), ("32", "2051", "123456"));
        assert_eq!(s.mn(), "010000A8900016F000169DC0");
        assert_eq!(s.cn_number(), Some(2051));
        assert_eq!(s.flag(), Some(Flag::new(5)));
        assert!(s.ack_requested());
        assert_eq!(s.packet_numbers(), None);
        assert_eq!(s.cp().items().count(), 10);
        assert!(s.deviations().is_empty());
        assert_eq!(s.header_fields().count(), 6);
        assert_eq!(s.qn_timestamp().unwrap().millis, Some(1));
        assert_eq!(s.as_str(), C16);
    }

    #[test]
    fn field_order_does_not_matter() {
        let s = parse_segment(
            "ST=32;CN=2051;QN=20160801085000001;MN=X;PW=1;Flag=7;PNO=1;PNUM=2;CP=&&&&",
            &Tolerance::STRICT,
        )
        .unwrap();
        assert_eq!(s.packet_numbers(), Some(PacketNumbers { pnum: 2, pno: 1 }));
        assert!(s.cp().is_empty());
    }

    #[test]
    fn strict_errors() {
        let strict = Tolerance::STRICT;
        let cases: &[(&str, ParseError)] = &[
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;Flag=4",
                ParseError::MissingField("CP"),
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;Flag=4;CP=&&&&",
                ParseError::MissingField("MN"),
            ),
            (
                "ST=32;CN=2011;PW=1;MN=X;Flag=4;CP=&&&&",
                ParseError::MissingField("QN"),
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;CP=&&&&",
                ParseError::MissingField("Flag"),
            ),
            (
                "QN=1;QN=2;ST=32;CN=2011;PW=1;MN=X;Flag=4;CP=&&&&",
                ParseError::DuplicateField("QN"),
            ),
            (
                "QN=1;ST=32;;CN=2011;PW=1;MN=X;Flag=4;CP=&&&&",
                ParseError::EmptyField { offset: 11 },
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;FLAG=4;CP=&&&&",
                ParseError::KeyCase {
                    offset: 29,
                    expected: "Flag",
                },
            ),
            ("QN=1;S T=32;CP=&&&&", ParseError::InvalidKey { offset: 6 }),
            (
                "QN=1;ST;CP=&&&&",
                ParseError::FieldWithoutEquals { offset: 5 },
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;Flag=256;CP=&&&&",
                ParseError::InvalidNumber { field: "Flag" },
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;Flag=x;CP=&&&&",
                ParseError::InvalidNumber { field: "Flag" },
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;Flag=6;CP=&&&&",
                ParseError::MissingField("PNUM"),
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;Flag=4;PNUM=2;PNO=1;CP=&&&&",
                ParseError::UnexpectedPacketNumbers,
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;Flag=6;PNUM=2;CP=&&&&",
                ParseError::MissingField("PNO"),
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;Flag=6;PNUM=2;PNO=3;CP=&&&&",
                ParseError::PacketNumberOutOfRange { pno: 3, pnum: 2 },
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;Flag=6;PNUM=10000;PNO=3;CP=&&&&",
                ParseError::InvalidNumber { field: "PNUM" },
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;Flag=4;CP=&&a=1",
                ParseError::MalformedCp { offset: 39 },
            ),
            (
                "QN=1;ST=32;CN=2011;PW=1;MN=X;Flag=4;CP=&&a=1;b&&",
                ParseError::CpItemWithoutEquals { offset: 45 },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_segment(text, &strict).as_ref(),
                Err(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn tolerated_deviations_are_recorded() {
        let text =
            "ST=32;CN=2011;PW=123456;,MN=88888881234567;FLAG=0;CP=&&DataTime=20180306120000&&";
        let tol = Tolerance::STRICT
            .allow_legacy_2005_header()
            .allow(Deviation::HeaderKeyCase)
            .allow(Deviation::HeaderStraySeparator);
        let s = parse_segment(text, &tol).unwrap();
        assert_eq!(s.mn(), "88888881234567");
        assert_eq!(s.flag(), Some(Flag::new(0)));
        assert_eq!(
            s.deviations(),
            [
                Deviation::MissingQn,
                Deviation::HeaderKeyCase,
                Deviation::HeaderStraySeparator
            ]
            .into_iter()
            .collect()
        );
        // Table C.48's comma instead of a semicolon.
        let s = parse_segment(
            "QN=20160801085857534,ST=32;CN=2061;PW=1;MN=X;Flag=4;CP=&&&&",
            &Tolerance::STRICT.allow(Deviation::HeaderStraySeparator),
        )
        .unwrap();
        assert_eq!((s.qn(), s.st()), (Some("20160801085857534"), "32"));
    }

    #[test]
    fn version_detection_records_and_never_rejects() {
        for flag in 0..=255u16 {
            let split = flag & 2 != 0;
            let text = if split {
                format!("QN=1;ST=91;CN=9014;PW=1;MN=X;Flag={flag};PNUM=1;PNO=1;CP=&&&&")
            } else {
                format!("QN=1;ST=91;CN=9014;PW=1;MN=X;Flag={flag};CP=&&&&")
            };
            let s = parse_segment(&text, &Tolerance::STRICT).unwrap();
            let v = s.version();
            assert_eq!(v.flag, Some(flag as u8));
            let expected = match flag >> 2 {
                0 => ProtocolVersion::Hj212_2005,
                1 => ProtocolVersion::Hj212_2017,
                2 => ProtocolVersion::Hj212_2025,
                n => ProtocolVersion::Unassigned(n as u8),
            };
            assert_eq!(v.version, expected);
        }
        // 2025 (and unassigned) layouts: PNUM/PNO decide, whatever bit 1 says.
        let s = parse_segment(
            "QN=1;ST=21;CN=2061;PW=1;MN=X;Flag=9;PNUM=2;PNO=2;CP=&&&&",
            &Tolerance::STRICT,
        )
        .unwrap();
        assert_eq!(s.packet_numbers(), Some(PacketNumbers { pnum: 2, pno: 2 }));
        let s = parse_segment(
            "ST=21;CN=2061;PW=1;MN=X;CP=&&&&",
            &Tolerance::STRICT.allow_legacy_2005_header(),
        )
        .unwrap();
        assert_eq!(
            s.version(),
            DetectedVersion {
                version: ProtocolVersion::Hj212_2005,
                flag: None
            }
        );
        assert!(!s.ack_requested());
    }

    #[test]
    fn unknown_fields_are_kept() {
        let s = parse_segment(
            "QN=1;ST=21;CN=2011;PW=1;MN=X;Flag=8;RF=1;Vendor=abc;CP=&&&&",
            &Tolerance::STRICT,
        )
        .unwrap();
        assert_eq!(s.rf(), Some("1"));
        assert_eq!(s.unknown_field_count(), 1);
        assert!(s.header_fields().any(|kv| kv == ("Vendor", "abc")));
    }

    /// The known header fields, the number of unknown ones and the deviations.
    type Header = (Vec<(&'static str, String)>, u16, Deviations);

    /// The header as a byte-by-byte loop reads it (the parser's first version), or the first
    /// error.
    fn header_oracle(text: &str, tolerance: &Tolerance) -> Result<Header, ParseError> {
        let bytes = text.as_bytes();
        let stray_ok = tolerance.allows(Deviation::HeaderStraySeparator);
        let mut deviations = Deviations::EMPTY;
        let mut fields = Vec::new();
        let mut unknown = 0;
        let mut pos = 0;
        loop {
            let Some(&first) = bytes.get(pos) else {
                return Err(ParseError::MissingField("CP"));
            };
            if first == b';' || first == b',' {
                if !stray_ok {
                    return Err(ParseError::EmptyField { offset: pos });
                }
                deviations.insert(Deviation::HeaderStraySeparator);
                pos += 1;
                continue;
            }
            let key_start = pos;
            while pos < bytes.len() && bytes[pos].is_ascii_alphanumeric() {
                pos += 1;
            }
            match bytes.get(pos) {
                Some(b'=') if pos > key_start => {}
                None | Some(b';' | b',') if pos > key_start => {
                    return Err(ParseError::FieldWithoutEquals { offset: key_start })
                }
                _ => return Err(ParseError::InvalidKey { offset: pos }),
            }
            let name = &text[key_start..pos];
            pos += 1;
            let key = Key::ALL.into_iter().find(|k| k.name() == name).or_else(|| {
                Key::ALL
                    .into_iter()
                    .find(|k| k.name().eq_ignore_ascii_case(name))
            });
            if let Some(key) = key {
                if key.name() != name {
                    if !tolerance.allows(Deviation::HeaderKeyCase) {
                        return Err(ParseError::KeyCase {
                            offset: key_start,
                            expected: key.name(),
                        });
                    }
                    deviations.insert(Deviation::HeaderKeyCase);
                }
                if key == Key::Cp {
                    return Ok((fields, unknown, deviations));
                }
            }
            let value_start = pos;
            while pos < bytes.len() && !(bytes[pos] == b';' || (stray_ok && bytes[pos] == b',')) {
                pos += 1;
            }
            let value = text[value_start..pos].to_owned();
            if pos < bytes.len() {
                if bytes[pos] == b',' {
                    deviations.insert(Deviation::HeaderStraySeparator);
                }
                pos += 1;
            }
            match key {
                Some(key) if fields.iter().any(|(k, _)| *k == key.name()) => {
                    return Err(ParseError::DuplicateField(key.name()))
                }
                Some(key) => fields.push((key.name(), value)),
                None => unknown += 1,
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_header_reads_as_a_byte_loop_reads_it(
            text in "((QN|ST|CN|PW|MN|Flag|FLAG|flag|PNUM|PNO|RF|Q-N|[A-Za-z0-9]{0,4}|\\PC)(=[0-9A-Za-z,;=]{0,12})?[;,]{0,2}){0,8}(CP=&&a=1&&)?",
            lenient in proptest::bool::ANY,
        ) {
            let tolerance = if lenient { Tolerance::LENIENT } else { Tolerance::STRICT };
            let parsed = parse_segment(&text, &tolerance);
            match header_oracle(&text, &tolerance) {
                Err(e) => proptest::prop_assert_eq!(parsed.map(|_| ()), Err(e)),
                Ok((fields, unknown, deviations)) => {
                    if let Ok(seg) = parsed {
                        let get = |name| {
                            fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
                        };
                        proptest::prop_assert_eq!(seg.qn(), get("QN"));
                        proptest::prop_assert_eq!(Some(seg.st()), get("ST"));
                        proptest::prop_assert_eq!(Some(seg.mn()), get("MN"));
                        proptest::prop_assert_eq!(seg.rf(), get("RF"));
                        proptest::prop_assert_eq!(seg.unknown_field_count(), usize::from(unknown));
                        proptest::prop_assert!(seg.deviations().union(deviations) == seg.deviations());
                    }
                }
            }
        }
    }
}
