//! The `CP=&&…&&` data area (HJ 212-2017 §6.3.3, Table 4).
//!
//! Items are `name=value`; values of one project (one factor) are separated by `,`, different
//! projects by `;`:
//!
//! ```text
//! DataTime=20160801084000;w00000-Cou=10.5,w00000-Avg=17.5,w00000-Flag=N;w01001-Avg=7.5,w01001-Flag=N
//! ```
//!
//! Everything here borrows from the packet: [`Cp::items`] walks the text on demand and yields
//! `&str` slices, so reading a packet allocates nothing. The text was checked once when the
//! segment was parsed, so iteration cannot fail.

use crate::scan::{prefix_xor, Block, Delimiters, BLOCK};
use crate::segment::ParseError;

/// The data area between `CP=&&` and the closing `&&`, already checked for well-formedness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cp<'a> {
    text: &'a str,
    /// Whether `text` is [`Shape::Simple`] (a function of `text`, so the derived traits agree).
    simple: bool,
}

/// One `name=value` item of the data area, with spaces around name and value trimmed.
///
/// The standard's own examples put a space before an item (`; LA-Rtd=50.1` in Table C.25, sample
/// S02), so the trimming is part of normal reading, not a deviation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpItem<'a> {
    /// Item name, e.g. `DataTime`, `w01018-Avg`.
    pub key: &'a str,
    /// Item value as sent, e.g. `20160801084000`, `40.1`, `N`.
    pub value: &'a str,
}

/// One `;`-separated project of the data area: usually all the values of one factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpGroup<'a> {
    text: &'a str,
    /// Whether the data area it comes from is [`Shape::Simple`]; then so is the group.
    simple: bool,
}

// Delimiter search, eight bytes at a time ("SWAR"), for the exact check of the rare data areas
// that are not plain (see `shape`); everything else walks the bit masks of `scan`.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `w` that equals `c`. Bits above the lowest one may be false
/// positives (borrow propagation), so only the lowest set bit is meaningful.
#[inline(always)]
fn byte_mask(w: u64, c: u8) -> u64 {
    let x = w ^ (ONES * u64::from(c));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Index of the first byte at or after `from` for which `mask` reports a match (`is` decides
/// for the last few bytes), or `b.len()`.
#[inline(always)]
fn find_by(b: &[u8], from: usize, mask: impl Fn(u64) -> u64, is: impl Fn(u8) -> bool) -> usize {
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
        let m = mask(w);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| is(c))
        .map_or(b.len(), |p| i + p)
}

/// Index of the first `=`, `;` or `,` at or after `from`, or `b.len()`.
#[inline]
fn find_eq_or_sep(b: &[u8], from: usize) -> usize {
    find_by(
        b,
        from,
        |w| byte_mask(w, b'=') | byte_mask(w, b';') | byte_mask(w, b','),
        |c| matches!(c, b'=' | b';' | b','),
    )
}

/// Index of the first `;` or `,` at or after `from`, or `b.len()`.
#[inline]
fn find_sep(b: &[u8], from: usize) -> usize {
    find_by(
        b,
        from,
        |w| byte_mask(w, b';') | byte_mask(w, b','),
        |c| matches!(c, b';' | b','),
    )
}

/// Whether `b[from..to]` is empty or only ASCII whitespace.
#[inline]
fn blank(b: &[u8], from: usize, to: usize) -> bool {
    from == to || (b[from].is_ascii_whitespace() && b[from..to].trim_ascii().is_empty())
}

/// Checks the structure of the data area: every non-blank item has `=` and a non-empty name, and
/// no `&&` appears inside. `base` is the offset of `text` in the data segment, for error offsets.
pub(crate) fn validate(text: &str, base: usize) -> Result<Shape, ParseError> {
    match shape(text.as_bytes()) {
        Shape::General => validate_exactly(text, base).map(|()| Shape::General),
        plain => Ok(plain),
    }
}

/// What the frame check found out about the data area beside the CRC: where it assumed it to
/// start (after the first `&&`; it ends before the final `&&`) and its [`Shape`]. The segment
/// parser uses it when the data area really starts there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CpHint {
    pub(crate) start: usize,
    pub(crate) shape: Shape,
}

/// How the items of a data area can be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Anything valid; items are found by looking at each delimiter.
    General,
    /// Valid: `=` and separators strictly alternate, starting with `=` (see [`shape`]).
    Plain,
    /// Plain, and without any byte ≤ `0x20`: nothing to trim either.
    Simple,
}

/// A sufficient condition for a valid data area, checked 64 bytes at a time with bit arithmetic:
/// the `=` and the separators strictly alternate, starting with `=`; no `=` directly follows a
/// separator, the start or a byte ≤ `0x20` (so every name is non-blank); no `&`; and the text
/// does not end in a piece without `=`. Nearly every real data area is plain; the others are
/// [`Shape::General`] and get [`validate_exactly`], which also finds the error.
pub(crate) fn shape(b: &[u8]) -> Shape {
    let mut check = ShapeCheck::new(0, b.len());
    let mut blocks = b.chunks_exact(BLOCK);
    let mut at = 0;
    for block in &mut blocks {
        check.feed(Block::of(block.try_into().expect("64 bytes")), at);
        at += BLOCK;
    }
    if at < b.len() {
        check.feed(Block::tail(b, at), at);
    }
    check.finish()
}

/// The check of [`shape`] for the data area `start..end` of a longer text, fed block by block:
/// the frame check runs it beside the CRC, so that reading the segment need not look at the
/// data area again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShapeCheck {
    start: usize,
    end: usize,
    /// All ones while an odd number of structural bytes has been seen.
    odd: u64,
    /// Bit 0: whether the byte before the next block was a separator or ≤ 0x20.
    before: u64,
    bad: u64,
    low: u64,
    /// Just past the last separator seen (`start` if none).
    last_sep_end: usize,
}

impl ShapeCheck {
    /// A check of the data area `start..end`.
    pub(crate) fn new(start: usize, end: usize) -> ShapeCheck {
        ShapeCheck {
            start,
            end,
            odd: 0,
            before: 0,
            bad: 0,
            low: 0,
            last_sep_end: start,
        }
    }

    /// Feeds the classes of the 64 bytes at offset `at` of the text (blocks in order, each
    /// once; bytes outside the data area are ignored).
    #[inline(always)]
    pub(crate) fn feed(&mut self, c: Block, at: usize) {
        if at + BLOCK <= self.start || at >= self.end {
            return;
        }
        let below_end = match self.end - at {
            n if n >= BLOCK => u64::MAX,
            n => (1u64 << n) - 1,
        };
        // The data area starts in this block: nothing before it counts, and its first byte
        // counts as following a separator (an '=' there is an empty name).
        let (from_start, first) = match self.start.checked_sub(at) {
            Some(k) if k > 0 => (u64::MAX << k, 1u64 << k),
            Some(_) => (u64::MAX, 1),
            None => (u64::MAX, self.before),
        };
        let keep = from_start & below_end;
        let (eq, sep, amp, low) = (c.eq & keep, c.sep & keep, c.amp & keep, c.low & keep);
        let parity = prefix_xor(eq | sep) ^ self.odd;
        // An '=' must be the first structural byte of its piece, a separator the second.
        self.bad |= (eq & !parity) | (sep & parity) | amp;
        self.bad |= eq & (((sep | low) << 1) | first);
        self.before = (sep | low) >> 63;
        self.low |= low;
        self.odd = 0u64.wrapping_sub(parity >> 63);
        if sep != 0 {
            self.last_sep_end = at + (63 - sep.leading_zeros() as usize) + 1;
        }
    }

    /// Where the data area starts.
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    /// The verdict once every block of the data area has been fed.
    pub(crate) fn finish(&self) -> Shape {
        // After the last separator there must be an '=' (odd count), or nothing at all.
        if self.bad != 0 || (self.odd == 0 && self.last_sep_end != self.end) {
            Shape::General
        } else if self.low != 0 {
            Shape::Plain
        } else {
            Shape::Simple
        }
    }
}

/// Checks the data area item by item, reporting the first error.
fn validate_exactly(text: &str, base: usize) -> Result<(), ParseError> {
    let b = text.as_bytes();
    // `contains` is a word-at-a-time search; almost no data area has any '&' at all.
    if b.contains(&b'&') {
        if let Some(p) = b.windows(2).position(|w| w == b"&&") {
            return Err(ParseError::CpNestedDelimiter { offset: base + p });
        }
    }
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let stop = find_eq_or_sep(b, start);
        let key_blank = blank(b, start, stop);
        if stop < b.len() && b[stop] == b'=' {
            if key_blank {
                return Err(ParseError::CpEmptyKey {
                    offset: base + start,
                });
            }
            i = find_sep(b, stop + 1) + 1;
        } else if key_blank {
            // Blank items (`&& &&`, a trailing `;`) carry nothing and are skipped.
            i = stop + 1;
        } else {
            return Err(ParseError::CpItemWithoutEquals {
                offset: base + start,
            });
        }
    }
    Ok(())
}

/// `text[from..to]` without surrounding ASCII whitespace.
#[inline]
fn trimmed(text: &str, from: usize, to: usize) -> &str {
    let s = &text[from..to];
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(f), Some(l)) if f.is_ascii_whitespace() || l.is_ascii_whitespace() => s.trim_ascii(),
        _ => s,
    }
}

impl<'a> Cp<'a> {
    /// Wraps text that [`validate`] accepted, with the shape it found.
    pub(crate) fn new(text: &'a str, shape: Shape) -> Cp<'a> {
        Cp {
            text,
            simple: shape == Shape::Simple,
        }
    }

    /// Wraps text that [`validate`] accepted earlier.
    pub(crate) fn from_validated(text: &'a str) -> Cp<'a> {
        Cp::new(text, shape(text.as_bytes()))
    }

    /// Parses the inner text of a data area (without the `&&` delimiters), e.g. to read a data
    /// area kept from an earlier packet.
    ///
    /// # Errors
    /// [`ParseError`] if an item lacks `=` or a name, or `&&` appears inside.
    pub fn parse(text: &'a str) -> Result<Cp<'a>, ParseError> {
        let shape = validate(text, 0)?;
        Ok(Cp::new(text, shape))
    }

    /// The inner text, without the `&&` delimiters.
    #[must_use]
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// Whether the data area holds no item (`CP=&&&&`, `CP=&& &&`).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items().next().is_none()
    }

    /// All items in order, across `;` and `,` separators.
    #[must_use]
    pub fn items(&self) -> Items<'a> {
        Items::new(self.text, self.simple)
    }

    /// The `;`-separated projects in order (blank ones skipped).
    pub fn groups(&self) -> impl Iterator<Item = CpGroup<'a>> + 'a {
        let simple = self.simple;
        self.text
            .split(';')
            .filter(|g| !g.trim_ascii().is_empty())
            .map(move |text| CpGroup { text, simple })
    }

    /// Value of the first item named `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.items().find(|i| i.key == key).map(|i| i.value)
    }

    /// The `DataTime` value as sent (14 digits, or 17 with milliseconds on some devices).
    #[must_use]
    pub fn data_time(&self) -> Option<&'a str> {
        self.get("DataTime")
    }
}

impl<'a> CpGroup<'a> {
    /// The group's text.
    #[must_use]
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The group's `,`-separated items.
    #[must_use]
    pub fn items(&self) -> Items<'a> {
        Items::new(self.text, self.simple)
    }
}

/// Iterator over the items of a [`Cp`] or [`CpGroup`].
///
/// It walks a bit mask of the delimiters, 64 bytes at a time, rather than searching for each
/// delimiter separately.
#[derive(Clone, Debug)]
pub struct Items<'a> {
    text: &'a str,
    /// Start of the next piece.
    pos: usize,
    delimiters: Delimiters,
    /// The text is [`Shape::Simple`]: delimiters alternate `=`, separator, and nothing needs
    /// trimming.
    simple: bool,
}

impl<'a> Items<'a> {
    #[inline]
    fn new(text: &'a str, simple: bool) -> Items<'a> {
        Items {
            text,
            pos: 0,
            delimiters: Delimiters::new(text.as_bytes()),
            simple,
        }
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = CpItem<'a>;

    #[inline]
    fn next(&mut self) -> Option<CpItem<'a>> {
        let b = self.text.as_bytes();
        if self.simple {
            // The next delimiter is an '=', the one after it the separator ending the value.
            let (stop, end) = match self.delimiters.next_pair() {
                Some(pair) => pair,
                None => {
                    let stop = self.delimiters.next(b)?;
                    (stop, self.delimiters.next(b).unwrap_or(b.len()))
                }
            };
            debug_assert!(self.pos <= stop && stop < end && end <= b.len());
            debug_assert!(b[stop] == b'=' && b.get(end).is_none_or(|&c| c == b';' || c == b','));
            // SAFETY: `stop` is the position of an '=' and `end` that of the next ';' or ','
            // (or the end of the text), and `pos` is 0 or just past the ';' or ',' that ended
            // the previous item, so `pos <= stop < end <= len`. Bytes next to an ASCII byte are
            // character boundaries, so both ranges are. Only the bounds checks are skipped:
            // this is the inner loop of reading a packet.
            #[allow(unsafe_code)]
            let item = unsafe {
                CpItem {
                    key: self.text.get_unchecked(self.pos..stop),
                    value: self.text.get_unchecked(stop + 1..end),
                }
            };
            self.pos = end + 1;
            return Some(item);
        }
        loop {
            let Some(stop) = self.delimiters.next(b) else {
                // Validation guarantees that a last piece without '=' is blank.
                self.pos = b.len();
                return None;
            };
            if b[stop] != b'=' {
                // Validation guarantees that a piece without '=' is blank: skip it.
                self.pos = stop + 1;
                continue;
            }
            // The value runs to the next separator; a later '=' belongs to it.
            let end = loop {
                match self.delimiters.next(b) {
                    Some(at) if b[at] == b'=' => continue,
                    Some(at) => break at,
                    None => break b.len(),
                }
            };
            let item = CpItem {
                key: trimmed(self.text, self.pos, stop),
                value: trimmed(self.text, stop + 1, end),
            };
            self.pos = end + 1;
            return Some(item);
        }
    }
}

impl std::iter::FusedIterator for Items<'_> {}

/// The part of an item name after `xxxxxx-` (HJ 212-2017 Table 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Suffix<'a> {
    /// `-Rtd`: real-time value.
    Rtd,
    /// `-Min`: minimum over the interval.
    Min,
    /// `-Avg`: mean over the interval.
    Avg,
    /// `-Max`: maximum over the interval.
    Max,
    /// `-Cou`: cumulative amount over the interval.
    Cou,
    /// `-ZsRtd`: real-time value converted to the reference O₂ condition (折算).
    ZsRtd,
    /// `-ZsMin`: converted minimum.
    ZsMin,
    /// `-ZsAvg`: converted mean.
    ZsAvg,
    /// `-ZsMax`: converted maximum.
    ZsMax,
    /// `-Flag`: data flag (see [`DataFlag`]).
    Flag,
    /// `-EFlag`: instrument-defined extended flag.
    EFlag,
    /// `-SampleTime`: sampling time.
    SampleTime,
    /// `-Data`: noise value for the period.
    Data,
    /// `-DayData`: daytime noise value.
    DayData,
    /// `-NightData`: night-time noise value.
    NightData,
    /// `-SN`: instrument ID.
    Sn,
    /// `-Info`: site information.
    Info,
    /// `-RS`: treatment-facility running state (`SBxxx-RS`).
    Rs,
    /// `-RT`: treatment-facility running hours (`SBxxx-RT`).
    Rt,
    /// Anything else, kept as sent (e.g. `ValidNum`, `TotalNum` in sample S30).
    Other(&'a str),
}

impl<'a> Suffix<'a> {
    /// Reads a suffix name. Names are case-sensitive (§6.3.3.2.1).
    #[must_use]
    pub fn parse(name: &'a str) -> Suffix<'a> {
        match name {
            "Rtd" => Suffix::Rtd,
            "Min" => Suffix::Min,
            "Avg" => Suffix::Avg,
            "Max" => Suffix::Max,
            "Cou" => Suffix::Cou,
            "ZsRtd" => Suffix::ZsRtd,
            "ZsMin" => Suffix::ZsMin,
            "ZsAvg" => Suffix::ZsAvg,
            "ZsMax" => Suffix::ZsMax,
            "Flag" => Suffix::Flag,
            "EFlag" => Suffix::EFlag,
            "SampleTime" => Suffix::SampleTime,
            "Data" => Suffix::Data,
            "DayData" => Suffix::DayData,
            "NightData" => Suffix::NightData,
            "SN" => Suffix::Sn,
            "Info" => Suffix::Info,
            "RS" => Suffix::Rs,
            "RT" => Suffix::Rt,
            other => Suffix::Other(other),
        }
    }

    /// Whether this is a standard suffix (not [`Suffix::Other`]).
    #[must_use]
    pub fn is_standard(&self) -> bool {
        !matches!(self, Suffix::Other(_))
    }
}

/// What an item name denotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind<'a> {
    /// A per-factor value `code-Suffix`, e.g. `w01018-Avg`. The code is kept as sent: 2017
    /// codes (`w01018`), 2005 codes (`011`, `B01`) and vendor codes (`a99948`, `ua19004`) alike.
    Factor {
        /// Factor code.
        code: &'a str,
        /// What the value is.
        suffix: Suffix<'a>,
    },
    /// A plain field such as `DataTime`, `RtdInterval`, `QnRtn`.
    Field(&'a str),
    /// A factor suffix without its factor code, e.g. `Flag=N` in sample S20: malformed but kept.
    Orphan(Suffix<'a>),
    /// A name with a `-` but an empty code or suffix (`-Rtd`, `w01018-`).
    Malformed,
}

impl<'a> CpItem<'a> {
    /// Classifies the item name.
    ///
    /// ```
    /// use cpaudit_hj212::{CpItem, ItemKind, Suffix};
    /// let item = CpItem { key: "a21026-ZsAvg", value: "12.3" };
    /// assert_eq!(item.kind(), ItemKind::Factor { code: "a21026", suffix: Suffix::ZsAvg });
    /// let orphan = CpItem { key: "Flag", value: "N" };
    /// assert_eq!(orphan.kind(), ItemKind::Orphan(Suffix::Flag));
    /// ```
    #[must_use]
    pub fn kind(&self) -> ItemKind<'a> {
        match self.key.split_once('-') {
            Some((code, suffix)) if !code.is_empty() && !suffix.is_empty() => ItemKind::Factor {
                code,
                suffix: Suffix::parse(suffix),
            },
            Some(_) => ItemKind::Malformed,
            None => match Suffix::parse(self.key) {
                Suffix::Other(name) => ItemKind::Field(name),
                suffix => ItemKind::Orphan(suffix),
            },
        }
    }

    /// The factor code, for a `code-Suffix` item.
    #[must_use]
    pub fn code(&self) -> Option<&'a str> {
        match self.kind() {
            ItemKind::Factor { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The suffix, for a `code-Suffix` item or an orphan suffix.
    #[must_use]
    pub fn suffix(&self) -> Option<Suffix<'a>> {
        match self.kind() {
            ItemKind::Factor { suffix, .. } | ItemKind::Orphan(suffix) => Some(suffix),
            _ => None,
        }
    }

    /// The data flag, for a `-Flag` item (including an orphan `Flag=`).
    #[must_use]
    pub fn data_flag(&self) -> Option<DataFlag<'a>> {
        (self.suffix() == Some(Suffix::Flag)).then(|| DataFlag::parse(self.value))
    }

    /// The value as a number, if it is one (`N14.2` style: sign, digits, optional decimals).
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        let v = self.value;
        let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
        let well_formed = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && digits.bytes().filter(|&b| b == b'.').count() <= 1
            && digits != ".";
        if well_formed {
            v.parse().ok()
        } else {
            None
        }
    }
}

/// A data flag, the value of an `xxxxxx-Flag` item (HJ 212-2017 §6.6.4, Table 8).
///
/// The letters are read by the 2017 table. One letter changed meaning: in HJ/T 212-2005, `F`
/// meant the *emission source* stopped (排放源停运); in 2017 it means the *instrument* stopped.
/// Interpret [`DataFlag::Stopped`] with the packet's [`ProtocolVersion`](crate::ProtocolVersion).
/// Only [`DataFlag::Normal`] data is valid for exceedance judgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataFlag<'a> {
    /// `N`: instrument working normally.
    Normal,
    /// `F`: instrument stopped (2017) / emission source stopped (2005).
    Stopped,
    /// `M`: produced during maintenance.
    Maintenance,
    /// `S`: manually entered setting value.
    ManualSetting,
    /// `D`: instrument fault.
    Fault,
    /// `C`: instrument calibrating.
    Calibration,
    /// `T`: above the measurement upper limit.
    OverRange,
    /// `B`: communication between instrument and data logger abnormal.
    CommunicationFault,
    /// `P`: power failure (HJ/T 212-2005 only).
    PowerFailure,
    /// Any other value, kept as sent (e.g. ambient-station digits, HJ 75 codes such as `Md`).
    Other(&'a str),
}

impl<'a> DataFlag<'a> {
    /// Reads a flag value (case-sensitive, as sent).
    #[must_use]
    pub fn parse(value: &'a str) -> DataFlag<'a> {
        match value {
            "N" => DataFlag::Normal,
            "F" => DataFlag::Stopped,
            "M" => DataFlag::Maintenance,
            "S" => DataFlag::ManualSetting,
            "D" => DataFlag::Fault,
            "C" => DataFlag::Calibration,
            "T" => DataFlag::OverRange,
            "B" => DataFlag::CommunicationFault,
            "P" => DataFlag::PowerFailure,
            other => DataFlag::Other(other),
        }
    }

    /// The flag as written in a packet.
    #[must_use]
    pub fn as_str(&self) -> &'a str {
        match self {
            DataFlag::Normal => "N",
            DataFlag::Stopped => "F",
            DataFlag::Maintenance => "M",
            DataFlag::ManualSetting => "S",
            DataFlag::Fault => "D",
            DataFlag::Calibration => "C",
            DataFlag::OverRange => "T",
            DataFlag::CommunicationFault => "B",
            DataFlag::PowerFailure => "P",
            DataFlag::Other(s) => s,
        }
    }

    /// Whether the flag is `N`.
    #[must_use]
    pub fn is_normal(&self) -> bool {
        *self == DataFlag::Normal
    }
}

/// A timestamp as used by `QN`, `DataTime` and friends: `YYYYMMDDhhmmss`, optionally followed by
/// `zzz` milliseconds (QN always; `DataTime` on some devices, sample S03).
///
/// Calendar-checked (month lengths, leap years) but zone-less, as in the standard.
///
/// ```
/// use cpaudit_hj212::Timestamp;
/// let t = Timestamp::parse("20160801084000").unwrap();
/// assert_eq!((t.year, t.month, t.day, t.hour, t.minute), (2016, 8, 1, 8, 40));
/// assert_eq!(t.to_string(), "20160801084000");
/// assert!(Timestamp::parse("20160230000000").is_none());
/// assert_eq!(Timestamp::parse("20160824003817000").unwrap().millis, Some(0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    /// Year, e.g. 2016.
    pub year: u16,
    /// Month 1–12.
    pub month: u8,
    /// Day 1–31.
    pub day: u8,
    /// Hour 0–23.
    pub hour: u8,
    /// Minute 0–59.
    pub minute: u8,
    /// Second 0–59.
    pub second: u8,
    /// Milliseconds 0–999 when 17 digits were sent.
    pub millis: Option<u16>,
}

impl Timestamp {
    /// Parses 14 or 17 ASCII digits; `None` for anything else or an impossible date.
    #[must_use]
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if !(b.len() == 14 || b.len() == 17) || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let num = |from: usize, to: usize| {
            b[from..to]
                .iter()
                .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
        };
        let (year, month, day) = (num(0, 4), num(4, 6) as u8, num(6, 8) as u8);
        let (hour, minute, second) = (num(8, 10) as u8, num(10, 12) as u8, num(12, 14) as u8);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let month_len = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if day == 0 || day > month_len || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let millis = (b.len() == 17).then(|| num(14, 17));
        Some(Timestamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millis,
        })
    }
}

impl std::fmt::Display for Timestamp {
    /// Writes the 14-digit form (17 when milliseconds are present).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if let Some(ms) = self.millis {
            write!(f, "{ms:03}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn word_search_matches_a_byte_loop(
            bytes in prop::collection::vec(prop::sample::select(b"ab=;,& \x80\x01\xff".to_vec()), 0..40),
            from in 0usize..40,
        ) {
            let from = from.min(bytes.len());
            let naive = |set: &[u8]| {
                bytes[from..].iter().position(|c| set.contains(c)).map_or(bytes.len(), |p| from + p)
            };
            prop_assert_eq!(find_eq_or_sep(&bytes, from), naive(b"=;,"));
            prop_assert_eq!(find_sep(&bytes, from), naive(b";,"));
        }

        #[test]
        fn items_match_a_naive_split(text in "[a-c =;,]{0,200}") {
            if let Ok(cp) = Cp::parse(&text) {
                let naive: Vec<(&str, &str)> = text
                    .split([';', ','])
                    .filter(|piece| !piece.trim_ascii().is_empty())
                    .map(|piece| {
                        let (k, v) = piece.split_once('=').expect("validated");
                        (k.trim_ascii(), v.trim_ascii())
                    })
                    .collect();
                let fast: Vec<(&str, &str)> = cp.items().map(|i| (i.key, i.value)).collect();
                prop_assert_eq!(fast, naive);
            }
        }
    }

    proptest! {
        #[test]
        fn the_plain_fast_path_accepts_only_valid_data_areas(
            text in "([a-c]{0,3}=[a-c=]{0,3}[;,]{0,2}|[ &=;,]){0,60}",
        ) {
            if shape(text.as_bytes()) != Shape::General {
                prop_assert_eq!(validate_exactly(&text, 0), Ok(()));
            }
        }
    }

    #[test]
    fn plain_data_areas() {
        for plain in [
            "",
            "a=1",
            "a=1;",
            "DataTime=20160801084000;w00000-Cou=10.5,w00000-Flag=N; LA-Rtd=50.1",
        ] {
            assert_ne!(shape(plain.as_bytes()), Shape::General, "{plain}");
        }
        // Valid but not plain: decided by the exact check.
        for other in [";a=1", "a=1;;b=2", "a=b=c", "a =1", "a=1; ", " ", "a=x&y"] {
            assert_eq!(shape(other.as_bytes()), Shape::General, "{other}");
            assert_eq!(Cp::parse(other).map(|_| ()), Ok(()), "{other}");
        }
        // Invalid: never plain.
        for bad in ["=1", "a=1;=2", "a=1;b", "a", "a=1&&b=2", "a=1, =2"] {
            assert_eq!(shape(bad.as_bytes()), Shape::General, "{bad}");
            assert!(Cp::parse(bad).is_err(), "{bad}");
        }
        // Across block boundaries.
        let long: String = (0..40).map(|i| format!("w{i:05}-Avg={i}.5,")).collect();
        assert_eq!(shape(long.as_bytes()), Shape::Simple);
        assert_eq!(Cp::parse(&long).unwrap().items().count(), 40);
        let broken = format!("{long}x,{long}");
        assert_eq!(shape(broken.as_bytes()), Shape::General);
        assert!(Cp::parse(&broken).is_err());
    }

    #[test]
    fn items_and_groups() {
        let cp = Cp::parse("DataTime=20160801084000;w00000-Cou=10.5,w00000-Flag=N; LA-Rtd=50.1 ;")
            .unwrap();
        let items: Vec<_> = cp.items().map(|i| (i.key, i.value)).collect();
        assert_eq!(
            items,
            [
                ("DataTime", "20160801084000"),
                ("w00000-Cou", "10.5"),
                ("w00000-Flag", "N"),
                ("LA-Rtd", "50.1"),
            ]
        );
        let groups: Vec<_> = cp.groups().map(|g| g.items().count()).collect();
        assert_eq!(groups, [1, 2, 1]);
        assert_eq!(cp.data_time(), Some("20160801084000"));
        assert_eq!(cp.get("LA-Rtd"), Some("50.1"));
        assert!(!cp.is_empty());
        assert!(Cp::parse(" ").unwrap().is_empty());
        assert!(Cp::parse("").unwrap().is_empty());
    }

    #[test]
    fn validation_errors() {
        assert_eq!(
            Cp::parse("a=1;bad;c=2"),
            Err(ParseError::CpItemWithoutEquals { offset: 4 })
        );
        assert_eq!(
            Cp::parse("a=1, =2"),
            Err(ParseError::CpEmptyKey { offset: 4 })
        );
        assert_eq!(
            Cp::parse("a=1&&b=2"),
            Err(ParseError::CpNestedDelimiter { offset: 3 })
        );
        // A single '&' in a value and '=' inside a value are kept.
        let cp = Cp::parse("UTP=a&b;X=y=z").unwrap();
        assert_eq!(cp.get("UTP"), Some("a&b"));
        assert_eq!(cp.get("X"), Some("y=z"));
    }

    #[test]
    fn item_kinds() {
        let k = |key| CpItem { key, value: "" }.kind();
        assert_eq!(k("DataTime"), ItemKind::Field("DataTime"));
        assert_eq!(
            k("B01-Rtd"),
            ItemKind::Factor {
                code: "B01",
                suffix: Suffix::Rtd
            }
        );
        assert_eq!(
            k("a01006-ValidNum"),
            ItemKind::Factor {
                code: "a01006",
                suffix: Suffix::Other("ValidNum")
            }
        );
        assert_eq!(
            k("SB1-RS"),
            ItemKind::Factor {
                code: "SB1",
                suffix: Suffix::Rs
            }
        );
        assert_eq!(k("Flag"), ItemKind::Orphan(Suffix::Flag));
        assert_eq!(k("-Rtd"), ItemKind::Malformed);
        assert_eq!(k("w01018-"), ItemKind::Malformed);
        let flag = CpItem {
            key: "w01018-Flag",
            value: "D",
        };
        assert_eq!(flag.data_flag(), Some(DataFlag::Fault));
        assert_eq!(flag.code(), Some("w01018"));
        assert_eq!(
            CpItem {
                key: "w01018-Avg",
                value: "N"
            }
            .data_flag(),
            None
        );
        assert!(Suffix::parse("ZsAvg").is_standard());
        assert!(!Suffix::parse("zsavg").is_standard());
    }

    #[test]
    fn numbers() {
        let n = |value| CpItem { key: "x", value }.as_f64();
        assert_eq!(n("40.1"), Some(40.1));
        assert_eq!(n("-0.4643"), Some(-0.4643));
        assert_eq!(n("156720160.000"), Some(156_720_160.0));
        assert_eq!(n("12"), Some(12.0));
        for bad in ["", ".", "-", "1.2.3", "NaN", "inf", "1e5", "N"] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    #[test]
    fn data_flags() {
        for (s, f) in [
            ("N", DataFlag::Normal),
            ("F", DataFlag::Stopped),
            ("M", DataFlag::Maintenance),
            ("S", DataFlag::ManualSetting),
            ("D", DataFlag::Fault),
            ("C", DataFlag::Calibration),
            ("T", DataFlag::OverRange),
            ("B", DataFlag::CommunicationFault),
            ("P", DataFlag::PowerFailure),
            ("Md", DataFlag::Other("Md")),
        ] {
            assert_eq!(DataFlag::parse(s), f);
            assert_eq!(f.as_str(), s);
        }
        assert!(DataFlag::Normal.is_normal());
        assert!(!DataFlag::parse("n").is_normal());
    }

    #[test]
    fn timestamps() {
        assert!(Timestamp::parse("20200229120000").is_some());
        assert!(Timestamp::parse("21000229120000").is_none());
        assert!(Timestamp::parse("20000229120000").is_some());
        assert!(Timestamp::parse("20201301000000").is_none());
        assert!(Timestamp::parse("20201231240000").is_none());
        assert!(Timestamp::parse("2020123123000").is_none());
        assert!(Timestamp::parse("2020123123000a").is_none());
        let qn = Timestamp::parse("20160801085857223").unwrap();
        assert_eq!(qn.millis, Some(223));
        assert_eq!(qn.to_string(), "20160801085857223");
        assert!(Timestamp::parse("20160801085857").unwrap() < qn);
    }
}
