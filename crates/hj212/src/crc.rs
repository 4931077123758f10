//! Checksums: the HJ 212 "ANSI CRC16" of Appendix A, and CRC-16/MODBUS.
//!
//! # The Appendix A algorithm
//!
//! HJ 212-2017 Appendix A (unchanged in 2005 and, as reported, in 2025) defines:
//!
//! ```text
//! reg = 0xFFFF
//! for each byte b:
//!     reg = (reg >> 8) ^ b          // NOT reg ^= b: the byte meets the HIGH byte
//!     repeat 8 times:
//!         lsb = reg & 1; reg >>= 1; if lsb { reg ^= 0xA001 }
//! result = reg, printed as 4 hex digits, high byte first
//! ```
//!
//! It looks like CRC-16/MODBUS but is not: MODBUS XORs the byte into the *low* byte and keeps the
//! whole register, whereas `(reg >> 8) ^ b` throws the low byte away at every step. Two facts follow
//! and are what this module's fast path is built on:
//!
//! 1. Eight shift/reduce steps on a value `v < 256` are exactly the classic reflected-`0xA001` table
//!    entry `T[v]`, so one step is `reg = T[(reg >> 8) ^ b]`.
//! 2. Only the high byte of `reg` survives into the next step, so the running state is really an
//!    8-bit value `h` with `h' = H[h ^ b]`, `H[x] = T[x] >> 8`. `H` is linear over GF(2), which allows
//!    "slicing": eight input bytes are folded into `h` with eight *independent* lookups into 256-byte
//!    tables instead of a chain of eight dependent ones. Only the last byte needs the full 16-bit
//!    `T`, because the result is the full register after it.
//!
//! The tables are computed at compile time from the bit-serial definition; the tests cross-check
//! the fast path against a literal transcription of the standard's C code.
//!
//! # CRC-16/MODBUS
//!
//! Some data loggers (and at least one public "HJ 212" simulator) send CRC-16/MODBUS instead, often
//! printed low byte first. [`modbus`] exists so that a receiver can recognise those packets under a
//! per-device [`Tolerance`](crate::Tolerance) switch; it is not used on the strict path.

/// The classic reflected CRC-16 table for polynomial `0xA001`: `T[v]` is eight shift/reduce steps
/// applied to `v`.
const fn reflected_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut reg = i as u16;
        let mut bit = 0;
        while bit < 8 {
            let lsb = reg & 1;
            reg >>= 1;
            if lsb != 0 {
                reg ^= 0xA001;
            }
            bit += 1;
        }
        table[i] = reg;
        i += 1;
    }
    table
}

static T16: [u16; 256] = reflected_table();

/// `SLICE[k][x]` is the high-byte transition `H` applied `k + 1` times to `x`.
const fn slicing_tables() -> [[u8; 256]; 8] {
    let t = reflected_table();
    let mut tables = [[0u8; 256]; 8];
    let mut x = 0;
    while x < 256 {
        tables[0][x] = (t[x] >> 8) as u8;
        x += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut x = 0;
        while x < 256 {
            tables[k][x] = tables[0][tables[k - 1][x] as usize];
            x += 1;
        }
        k += 1;
    }
    tables
}

static SLICE: [[u8; 256]; 8] = slicing_tables();

/// HJ 212 CRC (Appendix A) of `data`, the bytes of a data segment.
///
/// The CRC covers the data segment only: not `##`, the length field, the CRC itself or CRLF.
/// The empty input yields the initial register, `0xFFFF`.
///
/// ```
/// use cpaudit_hj212::crc;
/// assert_eq!(crc::hj212(b"123456789"), 0x2F80);
/// let segment = b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";
/// assert_eq!(crc::hj212(segment), 0x1C80);
/// ```
#[must_use]
pub fn hj212(data: &[u8]) -> u16 {
    hj212_visiting(data, |_, _| {})
}

/// HJ 212 CRC of `data`, calling `visit` with every whole 64-byte block of all but the last
/// byte, and the block's offset, as the loop passes it.
///
/// The table lookups of the CRC leave most of the processor's vector units idle, so work done
/// on the same bytes inside this loop (the frame check classifies them) costs little extra.
/// [`hj212`] is this loop with nothing to visit.
#[inline(always)]
pub(crate) fn hj212_visiting(data: &[u8], mut visit: impl FnMut(&[u8; 64], usize)) -> u16 {
    let Some((&last, body)) = data.split_last() else {
        return 0xFFFF;
    };
    let mut h: u8 = 0xFF;
    let mut blocks = body.chunks_exact(64);
    for (i, block) in (&mut blocks).enumerate() {
        let block: &[u8; 64] = block.try_into().expect("chunks_exact(64)");
        visit(block, i * 64);
        for c in block.chunks_exact(8) {
            h = step8(h, c.try_into().expect("chunks_exact(8)"));
        }
    }
    let mut chunks = blocks.remainder().chunks_exact(8);
    for c in &mut chunks {
        h = step8(h, c.try_into().expect("chunks_exact(8)"));
    }
    for &b in chunks.remainder() {
        h = SLICE[0][usize::from(h ^ b)];
    }
    T16[usize::from(h ^ last)]
}

/// Folds eight bytes into the high-byte state: eight independent lookups, of which only the
/// first depends on the running state.
#[inline(always)]
fn step8(h: u8, c: [u8; 8]) -> u8 {
    SLICE[7][usize::from(h ^ c[0])]
        ^ SLICE[6][usize::from(c[1])]
        ^ SLICE[5][usize::from(c[2])]
        ^ SLICE[4][usize::from(c[3])]
        ^ SLICE[3][usize::from(c[4])]
        ^ SLICE[2][usize::from(c[5])]
        ^ SLICE[1][usize::from(c[6])]
        ^ SLICE[0][usize::from(c[7])]
}

/// CRC-16/MODBUS (init `0xFFFF`, reflected polynomial `0xA001`, no final XOR) of `data`.
///
/// Not the HJ 212 algorithm; provided to recognise devices that send it (see the module docs).
///
/// ```
/// assert_eq!(cpaudit_hj212::crc::modbus(b"123456789"), 0x4B37);
/// ```
#[must_use]
pub fn modbus(data: &[u8]) -> u16 {
    data.iter().fold(0xFFFF_u16, |reg, &b| {
        (reg >> 8) ^ T16[usize::from((reg as u8) ^ b)]
    })
}

/// Which checksum a received CRC field matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CrcAlgorithm {
    /// HJ 212 Appendix A, high byte printed first: the standard.
    Hj212,
    /// CRC-16/MODBUS printed high byte first (a deviation).
    Modbus,
    /// CRC-16/MODBUS printed low byte first (a deviation seen in real receive logs).
    ModbusSwapped,
}

impl CrcAlgorithm {
    /// The 16-bit value that this algorithm puts in the CRC field for `data`.
    #[must_use]
    pub fn compute(self, data: &[u8]) -> u16 {
        match self {
            CrcAlgorithm::Hj212 => hj212(data),
            CrcAlgorithm::Modbus => modbus(data),
            CrcAlgorithm::ModbusSwapped => modbus(data).swap_bytes(),
        }
    }
}

/// Formats a CRC value as the four upper-case hex digits of the wire format.
///
/// ```
/// assert_eq!(&cpaudit_hj212::crc::to_hex(0x1C80), b"1C80");
/// ```
#[must_use]
pub fn to_hex(value: u16) -> [u8; 4] {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    [
        DIGITS[usize::from(value >> 12)],
        DIGITS[usize::from((value >> 8) & 0xF)],
        DIGITS[usize::from((value >> 4) & 0xF)],
        DIGITS[usize::from(value & 0xF)],
    ]
}

/// Parses the four hex digits of a CRC field, in either letter case.
///
/// Returns the value and whether any digit was a lower-case letter. Letter case is not a
/// deviation: the sample set's verdicts compare case-insensitively (`1dc0`, `cc01` and `71c0` are
/// HJ212-OK), but the caller may want to know.
///
/// ```
/// use cpaudit_hj212::crc::parse_hex;
/// assert_eq!(parse_hex(*b"1dc0"), Some((0x1DC0, true)));
/// assert_eq!(parse_hex(*b"1C80"), Some((0x1C80, false)));
/// assert_eq!(parse_hex(*b"1G80"), None);
/// ```
#[must_use]
pub fn parse_hex(field: [u8; 4]) -> Option<(u16, bool)> {
    let mut value = 0u16;
    let mut lower = false;
    for b in field {
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'A'..=b'F' => b - b'A' + 10,
            b'a'..=b'f' => {
                lower = true;
                b - b'a' + 10
            }
            _ => return None,
        };
        value = (value << 4) | u16::from(nibble);
    }
    Some((value, lower))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Literal transcription of the standard's `CRC16_Checkout`, used as the oracle.
    fn appendix_a(data: &[u8]) -> u16 {
        let mut reg: u32 = 0xFFFF;
        for &b in data {
            reg = (reg >> 8) ^ u32::from(b);
            for _ in 0..8 {
                let check = reg & 1;
                reg >>= 1;
                if check == 1 {
                    reg ^= 0xA001;
                }
            }
        }
        reg as u16
    }

    /// Bit-serial CRC-16/MODBUS oracle.
    fn modbus_bitwise(data: &[u8]) -> u16 {
        let mut reg: u16 = 0xFFFF;
        for &b in data {
            reg ^= u16::from(b);
            for _ in 0..8 {
                let lsb = reg & 1;
                reg >>= 1;
                if lsb == 1 {
                    reg ^= 0xA001;
                }
            }
        }
        reg
    }

    #[test]
    fn check_values() {
        assert_eq!(hj212(b"123456789"), 0x2F80);
        assert_eq!(modbus(b"123456789"), 0x4B37);
        let s01 = b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";
        assert_eq!(hj212(s01), 0x1C80);
        assert_eq!(modbus(s01), 0x0759);
        let s02 = b"QN=20160801085857223;ST=23;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20160801085857; LA-Rtd=50.1&&";
        assert_eq!(hj212(s02), 0x1E00);
        assert_eq!(modbus(s02), 0x25FB);
    }

    #[test]
    fn fast_path_matches_oracle_for_every_length_up_to_64() {
        // Covers empty input, the remainder loop, and every chunk/remainder split.
        let data: Vec<u8> = (0u32..64).map(|i| (i * 37 + 11) as u8).collect();
        for len in 0..=data.len() {
            assert_eq!(hj212(&data[..len]), appendix_a(&data[..len]), "len {len}");
            assert_eq!(
                modbus(&data[..len]),
                modbus_bitwise(&data[..len]),
                "len {len}"
            );
        }
        assert_eq!(hj212(&[]), 0xFFFF);
    }

    proptest::proptest! {
        #[test]
        fn sliced_crc_equals_the_standard_text(data in proptest::collection::vec(proptest::num::u8::ANY, 0..2048)) {
            proptest::prop_assert_eq!(hj212(&data), appendix_a(&data));
            proptest::prop_assert_eq!(modbus(&data), modbus_bitwise(&data));
        }
    }

    #[test]
    fn hex_round_trip() {
        for v in [0u16, 0x1C80, 0xFFFF, 0x0A0B, 0xABCD] {
            assert_eq!(parse_hex(to_hex(v)), Some((v, false)));
        }
        assert_eq!(parse_hex(*b"abcd"), Some((0xABCD, true)));
        assert_eq!(parse_hex(*b" 1C8"), None);
    }

    #[test]
    fn algorithm_compute() {
        let d = b"123456789";
        assert_eq!(CrcAlgorithm::Hj212.compute(d), 0x2F80);
        assert_eq!(CrcAlgorithm::Modbus.compute(d), 0x4B37);
        assert_eq!(CrcAlgorithm::ModbusSwapped.compute(d), 0x374B);
    }
}
