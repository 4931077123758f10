//! Strictness: the deviations real devices show, and per-device switches to accept them.
//!
//! The codec is strict by default: it accepts what HJ 212-2017 prescribes and what the public
//! sample set marks HJ212-OK, nothing more. Field devices deviate in a handful of well-known ways
//! (see the crate docs); a receiver that must take their data enables a [`Tolerance`] switch *for
//! that device*, and every packet accepted under a switch carries the [`Deviation`] in its decode
//! result, so the caller can count it per device and per kind instead of silently normalising it.

use std::fmt;

/// One known way in which a real device departs from HJ 212-2017.
///
/// A deviation is only ever reported for a packet that was accepted; a packet that departs from the
/// standard in a way that is not tolerated is rejected with an error instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Deviation {
    /// CRC field holds CRC-16/MODBUS, high byte first.
    CrcModbus,
    /// CRC field holds CRC-16/MODBUS, low byte first (byte-swapped), as in samples S10–S12.
    CrcModbusSwapped,
    /// Data segment longer than the 1024 characters the standard allows (S11, S12).
    OversizeSegment,
    /// Packet ends in a bare `\n` instead of `\r\n`.
    BareLfTail,
    /// No `QN=` field, as in 2005-style uploads (S03, S08, S15 …).
    MissingQn,
    /// No `Flag=` field, as in 2005-style uploads; the packet is then read as HJ/T 212-2005.
    MissingFlag,
    /// A header key in the wrong letter case, e.g. `FLAG=` (S28).
    HeaderKeyCase,
    /// Stray separators in the header: an empty field (`;;`, `;,MN=` in S28) or a comma used
    /// instead of a semicolon (HJ 212-2017 Table C.48 erratum).
    HeaderStraySeparator,
}

impl Deviation {
    /// Every deviation kind, in a stable order.
    pub const ALL: [Deviation; 8] = [
        Deviation::CrcModbus,
        Deviation::CrcModbusSwapped,
        Deviation::OversizeSegment,
        Deviation::BareLfTail,
        Deviation::MissingQn,
        Deviation::MissingFlag,
        Deviation::HeaderKeyCase,
        Deviation::HeaderStraySeparator,
    ];

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// A stable snake-case name, suitable as a metric label.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Deviation::CrcModbus => "crc_modbus",
            Deviation::CrcModbusSwapped => "crc_modbus_swapped",
            Deviation::OversizeSegment => "oversize_segment",
            Deviation::BareLfTail => "bare_lf_tail",
            Deviation::MissingQn => "missing_qn",
            Deviation::MissingFlag => "missing_flag",
            Deviation::HeaderKeyCase => "header_key_case",
            Deviation::HeaderStraySeparator => "header_stray_separator",
        }
    }
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A small set of [`Deviation`]s (a bit set: `Copy`, no allocation).
///
/// ```
/// use cpaudit_hj212::{Deviation, Deviations};
/// let mut set = Deviations::EMPTY;
/// set.insert(Deviation::CrcModbusSwapped);
/// assert!(set.contains(Deviation::CrcModbusSwapped));
/// assert_eq!(set.iter().collect::<Vec<_>>(), [Deviation::CrcModbusSwapped]);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Deviations(u16);

impl Deviations {
    /// The empty set.
    pub const EMPTY: Deviations = Deviations(0);

    /// Every known deviation.
    pub const ALL: Deviations = {
        let mut bits = 0;
        let mut i = 0;
        while i < Deviation::ALL.len() {
            bits |= Deviation::ALL[i].bit();
            i += 1;
        }
        Deviations(bits)
    };

    /// The set holding exactly `d`.
    #[must_use]
    pub const fn only(d: Deviation) -> Deviations {
        Deviations(d.bit())
    }

    /// Whether `d` is in the set.
    #[must_use]
    pub const fn contains(self, d: Deviation) -> bool {
        self.0 & d.bit() != 0
    }

    /// Adds `d`.
    pub fn insert(&mut self, d: Deviation) {
        self.0 |= d.bit();
    }

    /// The set with `d` added.
    #[must_use]
    pub const fn with(self, d: Deviation) -> Deviations {
        Deviations(self.0 | d.bit())
    }

    /// The set with `d` removed.
    #[must_use]
    pub const fn without(self, d: Deviation) -> Deviations {
        Deviations(self.0 & !d.bit())
    }

    /// Union of two sets.
    #[must_use]
    pub const fn union(self, other: Deviations) -> Deviations {
        Deviations(self.0 | other.0)
    }

    /// Whether the set is empty (a fully standard packet).
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of deviations in the set.
    #[must_use]
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The deviations in the set, in [`Deviation::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Deviation> {
        Deviation::ALL
            .into_iter()
            .filter(move |d| self.contains(*d))
    }
}

impl fmt::Debug for Deviations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Deviation> for Deviations {
    fn from_iter<I: IntoIterator<Item = Deviation>>(iter: I) -> Self {
        iter.into_iter().fold(Deviations::EMPTY, Deviations::with)
    }
}

impl From<Deviation> for Deviations {
    fn from(d: Deviation) -> Self {
        Deviations::only(d)
    }
}

/// The highest value the 4-digit length field can express; the absolute cap on a data segment.
pub const MAX_LENGTH_FIELD: usize = 9999;

/// The data-segment limit of HJ 212-2017 Table 2 (`0 ≤ n ≤ 1024`).
pub const MAX_SEGMENT_LEN: usize = 1024;

/// Per-device strictness: which [`Deviation`]s to accept, and how long an over-size data segment
/// may be when [`Deviation::OversizeSegment`] is accepted.
///
/// [`Tolerance::STRICT`] (also the [`Default`]) accepts none.
///
/// ```
/// use cpaudit_hj212::{Deviation, Tolerance};
/// // A data logger that prints CRC-16/MODBUS low byte first and does not split long messages:
/// let tol = Tolerance::STRICT
///     .allow(Deviation::CrcModbusSwapped)
///     .allow(Deviation::OversizeSegment)
///     .with_oversize_cap(2048);
/// assert!(tol.allows(Deviation::CrcModbusSwapped));
/// assert!(!tol.allows(Deviation::CrcModbus));
/// assert_eq!(tol.segment_limit(), 2048);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tolerance {
    allowed: Deviations,
    oversize_cap: u16,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance::STRICT
    }
}

impl Tolerance {
    /// Accept only standard packets.
    pub const STRICT: Tolerance = Tolerance {
        allowed: Deviations::EMPTY,
        oversize_cap: MAX_LENGTH_FIELD as u16,
    };

    /// Accept every known deviation (still reporting each one). Meant for diagnostics and for
    /// counting what a device does, not as a production default.
    pub const LENIENT: Tolerance = Tolerance {
        allowed: Deviations::ALL,
        oversize_cap: MAX_LENGTH_FIELD as u16,
    };

    /// Also accept `d`.
    #[must_use]
    pub const fn allow(self, d: Deviation) -> Tolerance {
        Tolerance {
            allowed: self.allowed.with(d),
            oversize_cap: self.oversize_cap,
        }
    }

    /// No longer accept `d`.
    #[must_use]
    pub const fn deny(self, d: Deviation) -> Tolerance {
        Tolerance {
            allowed: self.allowed.without(d),
            oversize_cap: self.oversize_cap,
        }
    }

    /// Also accept 2005-style headers without `QN=` and/or `Flag=`.
    #[must_use]
    pub const fn allow_legacy_2005_header(self) -> Tolerance {
        self.allow(Deviation::MissingQn)
            .allow(Deviation::MissingFlag)
    }

    /// Sets the largest data segment accepted under [`Deviation::OversizeSegment`], clamped to
    /// `1024..=9999`. The default is 9999, all the length field can express. Lower it to bound
    /// per-connection memory (the streaming decoder's buffer is sized from it).
    #[must_use]
    pub const fn with_oversize_cap(self, cap: usize) -> Tolerance {
        let cap = if cap < MAX_SEGMENT_LEN {
            MAX_SEGMENT_LEN
        } else if cap > MAX_LENGTH_FIELD {
            MAX_LENGTH_FIELD
        } else {
            cap
        };
        Tolerance {
            allowed: self.allowed,
            oversize_cap: cap as u16,
        }
    }

    /// Whether `d` is accepted.
    #[must_use]
    pub const fn allows(&self, d: Deviation) -> bool {
        self.allowed.contains(d)
    }

    /// The set of accepted deviations.
    #[must_use]
    pub const fn allowed(&self) -> Deviations {
        self.allowed
    }

    /// The longest data segment accepted: 1024, or the over-size cap when
    /// [`Deviation::OversizeSegment`] is accepted.
    #[must_use]
    pub const fn segment_limit(&self) -> usize {
        if self.allows(Deviation::OversizeSegment) {
            self.oversize_cap as usize
        } else {
            MAX_SEGMENT_LEN
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let s: Deviations = [Deviation::MissingQn, Deviation::MissingFlag]
            .into_iter()
            .collect();
        assert_eq!(s.len(), 2);
        assert!(!s.is_empty());
        assert!(s.contains(Deviation::MissingFlag));
        assert!(!s.contains(Deviation::CrcModbus));
        assert_eq!(s.without(Deviation::MissingQn).len(), 1);
        assert_eq!(Deviations::ALL.len(), Deviation::ALL.len());
        assert_eq!(format!("{s:?}"), "{MissingQn, MissingFlag}");
        let names: Vec<_> = Deviation::ALL.iter().map(|d| d.to_string()).collect();
        let mut dedup = names.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), names.len());
    }

    #[test]
    fn tolerance_builders() {
        assert_eq!(Tolerance::default(), Tolerance::STRICT);
        assert_eq!(Tolerance::STRICT.segment_limit(), 1024);
        let t = Tolerance::STRICT.allow(Deviation::OversizeSegment);
        assert_eq!(t.segment_limit(), 9999);
        assert_eq!(t.with_oversize_cap(10).segment_limit(), 1024);
        assert_eq!(t.with_oversize_cap(100_000).segment_limit(), 9999);
        assert!(!t
            .deny(Deviation::OversizeSegment)
            .allows(Deviation::OversizeSegment));
        let legacy = Tolerance::STRICT.allow_legacy_2005_header();
        assert!(legacy.allows(Deviation::MissingQn) && legacy.allows(Deviation::MissingFlag));
        assert_eq!(Tolerance::LENIENT.allowed(), Deviations::ALL);
    }
}
