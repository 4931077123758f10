//! A decoded packet: a verified frame plus its parsed data segment.

use crate::frame::{decode_frame, Frame, FrameError};
use crate::segment::{DataSegment, ParseError};
use crate::tolerance::{Deviations, Tolerance};

/// A frame whose data segment parsed. Derefs to the [`DataSegment`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Framing details (CRC algorithm, raw bytes).
    pub frame: Frame<'a>,
    /// The parsed data segment.
    pub segment: DataSegment<'a>,
}

impl<'a> Packet<'a> {
    /// Parses `frame`'s data segment.
    ///
    /// # Errors
    /// [`ParseError`] from [`Frame::parse`].
    pub fn from_frame(frame: Frame<'a>, tolerance: &Tolerance) -> Result<Packet<'a>, ParseError> {
        Ok(Packet {
            segment: frame.parse(tolerance)?,
            frame,
        })
    }

    /// All deviations accepted for this packet, framing and segment alike: what to count per
    /// device.
    #[must_use]
    pub fn deviations(&self) -> Deviations {
        self.frame.deviations().union(self.segment.deviations())
    }
}

impl<'a> std::ops::Deref for Packet<'a> {
    type Target = DataSegment<'a>;

    fn deref(&self) -> &DataSegment<'a> {
        &self.segment
    }
}

/// Why [`decode_packet`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The frame is invalid.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The frame is valid but its data segment is not.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// Decodes one complete packet held in memory: framing, CRC, and data segment.
///
/// ```
/// use cpaudit_hj212::{decode_packet, Deviation, Tolerance};
/// // Like sample S10: CRC-16/MODBUS printed low byte first, 2005-style header.
/// let wire = b"##0049ST=31;CN=2011;PW=123456;MN=4201003;CP=&&a-Rtd=1&&1E60\r\n";
/// assert!(decode_packet(wire, &Tolerance::STRICT).is_err());
/// let tol = Tolerance::STRICT
///     .allow(Deviation::CrcModbusSwapped)
///     .allow_legacy_2005_header();
/// let packet = decode_packet(wire, &tol)?;
/// assert_eq!(packet.mn(), "4201003");
/// assert!(packet.deviations().contains(Deviation::CrcModbusSwapped));
/// assert!(packet.deviations().contains(Deviation::MissingFlag));
/// # Ok::<(), cpaudit_hj212::DecodeError>(())
/// ```
///
/// # Errors
/// [`DecodeError`] for the first problem found.
pub fn decode_packet<'a>(
    input: &'a [u8],
    tolerance: &Tolerance,
) -> Result<Packet<'a>, DecodeError> {
    let frame = decode_frame(input, tolerance)?;
    Ok(Packet::from_frame(frame, tolerance)?)
}
