//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
//!
//! The code has 18 characters from a 31-character alphabet (the digits and the capital letters
//! without I, O, Z, S and V, which are too easily mistaken for 1, 0, 2, 5 and U). The 18th
//! character is a check character over the first 17, so that a mistyped character or two swapped
//! characters are caught at the form, not months later when a letter comes back undelivered.
//!
//! [`CreditCode`] can only be built by [`CreditCode::parse`], so any value of the type is known to
//! be well formed ("parse, don't validate").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::registry::{FieldError, Message};

/// The 31 characters of the code, in the order of their numeric values (0–30).
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weight of each of the first 17 positions: 3^(i) modulo 31, as tabled in GB 32100-2015.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Number of characters of a code.
pub const LENGTH: usize = 18;

/// A valid 统一社会信用代码, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

/// Why a text is not a valid credit code. Positions are 1-based and count characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("credit code is empty")]
    Empty,
    #[error("credit code must be 18 characters, found {length}")]
    WrongLength { length: usize },
    #[error("credit code has an illegal character {character:?} at position {position}")]
    IllegalCharacter { position: usize, character: char },
    #[error("credit code check digit is wrong: position 18 should be {expected}, found {found}")]
    WrongCheckDigit { expected: char, found: char },
}

/// Numeric value + 1 of each ASCII character; 0 for characters outside the alphabet. A table
/// rather than a search, because bulk imports and the demo generator check millions of
/// characters.
const VALUES: [u8; 128] = {
    let mut table = [0u8; 128];
    let bytes = ALPHABET.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        table[bytes[index] as usize] = index as u8 + 1;
        index += 1;
    }
    table
};

/// Numeric value of a code character; `None` outside the alphabet (including lower case).
fn value_of(character: char) -> Option<u32> {
    let entry = *VALUES.get(usize::try_from(u32::from(character)).ok()?)?;
    entry.checked_sub(1).map(u32::from)
}

/// The character whose numeric value is `value` (`value` < 31).
fn char_of(value: u32) -> char {
    // `value` is always reduced modulo 31 by the callers, so the index exists.
    ALPHABET.as_bytes()[value as usize % ALPHABET.len()] as char
}

/// The check character for the values of the first 17 characters: 31 - (Σ value × weight mod 31),
/// where a result of 31 is written as 0.
fn check_for(values: &[u32]) -> char {
    let sum: u32 = values
        .iter()
        .zip(WEIGHTS)
        .map(|(value, weight)| value * weight)
        .sum();
    char_of((31 - sum % 31) % 31)
}

/// The check character (position 18) for the first 17 characters of a code.
///
/// Returns `None` unless `first17` is exactly 17 characters of the code alphabet. ASCII lower
/// case is accepted like [`CreditCode::parse`] accepts it. Used to build valid demo codes.
pub fn check_char(first17: &str) -> Option<char> {
    let mut values = [0u32; 17];
    let mut count = 0usize;
    for character in first17.chars() {
        *values.get_mut(count)? = value_of(character.to_ascii_uppercase())?;
        count += 1;
    }
    (count == values.len()).then(|| check_for(&values))
}

impl CreditCode {
    /// Parses a credit code as a person types it: surrounding whitespace is ignored and ASCII
    /// lower case is upper-cased. Full-width characters (e.g. "９") are refused, not converted,
    /// so that what is stored is exactly what the registration certificate shows.
    pub fn parse(text: &str) -> Result<Self, CreditCodeError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        let length = text.chars().count();
        if length != LENGTH {
            return Err(CreditCodeError::WrongLength { length });
        }
        let mut code = String::with_capacity(LENGTH);
        let mut values = [0u32; LENGTH];
        for (index, character) in text.chars().enumerate() {
            let upper = character.to_ascii_uppercase();
            let Some(value) = value_of(upper) else {
                return Err(CreditCodeError::IllegalCharacter {
                    position: index + 1,
                    character,
                });
            };
            values[index] = value;
            code.push(upper);
        }
        let expected = check_for(&values[..LENGTH - 1]);
        let found = char_of(values[LENGTH - 1]);
        if expected != found {
            return Err(CreditCodeError::WrongCheckDigit { expected, found });
        }
        Ok(Self(code))
    }

    /// The code, 18 upper-case ASCII characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Characters 3–8: the administrative division code (GB/T 2260) of the registering office.
    pub fn division_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl CreditCodeError {
    /// The error as a form field error, in both interface languages.
    pub fn to_field_error(&self, field: &str) -> FieldError {
        let (code, message) = match self {
            Self::Empty => (
                "required",
                Message::new("统一社会信用代码不能为空", "credit code is required"),
            ),
            Self::WrongLength { length } => (
                "wrong_length",
                Message::new(
                    format!("统一社会信用代码应为18位，实际为{length}位"),
                    format!("credit code must be 18 characters, found {length}"),
                ),
            ),
            Self::IllegalCharacter {
                position,
                character,
            } => {
                let (hint_zh, hint_en) = if is_full_width(*character) {
                    (
                        "（全角字符，请改用半角）",
                        " (a full-width character: use half-width)",
                    )
                } else {
                    ("", "")
                };
                (
                    "illegal_character",
                    Message::new(
                        format!(
                            "统一社会信用代码第{position}位含非法字符“{character}”{hint_zh}：\
                             只允许数字和除 I、O、Z、S、V 以外的大写字母"
                        ),
                        format!(
                            "credit code has an illegal character '{character}' at position \
                             {position}{hint_en}: only digits and capital letters other than \
                             I, O, Z, S and V are allowed"
                        ),
                    ),
                )
            }
            Self::WrongCheckDigit { expected, found } => (
                "invalid_check_digit",
                Message::new(
                    format!("统一社会信用代码校验位错误：第18位应为{expected}，实际为{found}"),
                    format!(
                        "credit code check digit is wrong: position 18 should be {expected}, \
                         found {found}"
                    ),
                ),
            ),
        };
        FieldError::new(field, code, message)
    }
}

/// Full-width forms of ASCII (U+FF01–U+FF5E), which Chinese input methods produce easily.
fn is_full_width(character: char) -> bool {
    ('\u{FF01}'..='\u{FF5E}').contains(&character)
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<&str> for CreditCode {
    type Error = CreditCodeError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::parse(text)
    }
}

impl From<CreditCode> for String {
    fn from(code: CreditCode) -> Self {
        code.0
    }
}

/// Serialized as the plain 18-character string.
impl Serialize for CreditCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Deserializing validates, so a stored or received value can never bypass the check digit.
impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes printed on public registration records of well-known companies.
    const PUBLISHED: [&str; 6] = [
        "914403001922038216", // 华为技术有限公司
        "91440300708461136T", // 深圳市腾讯计算机系统有限公司
        "91110108551385082Q", // 小米科技有限责任公司
        "91110000802100433B", // 北京百度网讯科技有限公司
        "91330100716105852F", // 阿里巴巴（中国）网络技术有限公司
        "91310000132260250X", // 上海汽车集团股份有限公司
    ];

    #[test]
    fn published_codes_are_valid() {
        for text in PUBLISHED {
            let code = CreditCode::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(code.as_str(), text);
            assert_eq!(code.to_string(), text);
            assert_eq!(check_char(&text[..17]), text.chars().last());
        }
    }

    #[test]
    fn check_char_is_zero_when_the_remainder_is_zero() {
        // A weighted sum ≡ 0 (mod 31) gives 31 - 0 = 31, which is written as 0.
        let zero = (0..10_000u32)
            .map(|n| format!("91620100MA{n:07}"))
            .find(|first17| check_char(first17) == Some('0'))
            .expect("some prefix has check character 0");
        let sum: u32 = zero
            .chars()
            .zip(WEIGHTS)
            .map(|(c, w)| value_of(c).unwrap() * w)
            .sum();
        assert_eq!(sum % 31, 0);
        assert!(CreditCode::parse(&format!("{zero}0")).is_ok());
    }

    #[test]
    fn input_is_trimmed_and_lower_case_is_accepted() {
        let code = CreditCode::parse("  91440300708461136t\n").unwrap();
        assert_eq!(code.as_str(), "91440300708461136T");
        let code = CreditCode::parse("91110108551385082q").unwrap();
        assert_eq!(code.as_str(), "91110108551385082Q");
    }

    #[test]
    fn empty_and_blank_are_empty() {
        assert_eq!(CreditCode::parse(""), Err(CreditCodeError::Empty));
        assert_eq!(CreditCode::parse(" \t "), Err(CreditCodeError::Empty));
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(
            CreditCode::parse("91440300708461136"),
            Err(CreditCodeError::WrongLength { length: 17 })
        );
        assert_eq!(
            CreditCode::parse("91440300708461136TT"),
            Err(CreditCodeError::WrongLength { length: 19 })
        );
        // Nine Chinese characters are 27 bytes but 9 characters.
        assert_eq!(
            CreditCode::parse("统一社会信用代码错"),
            Err(CreditCodeError::WrongLength { length: 9 })
        );
    }

    #[test]
    fn letters_i_o_z_s_v_are_illegal() {
        for letter in ['I', 'O', 'Z', 'S', 'V', 'i', 'o', 'z', 's', 'v'] {
            let text = format!("9144030070846113{letter}T");
            assert_eq!(
                CreditCode::parse(&text),
                Err(CreditCodeError::IllegalCharacter {
                    position: 17,
                    character: letter
                }),
                "{text}"
            );
        }
        assert!(!ALPHABET.contains(['I', 'O', 'Z', 'S', 'V']));
        assert_eq!(ALPHABET.len(), 31);
        for (index, character) in ALPHABET.chars().enumerate() {
            assert_eq!(value_of(character), Some(index as u32));
        }
        let outside = (0u8..128)
            .filter(|b| value_of(char::from(*b)).is_none())
            .count();
        assert_eq!(outside, 128 - 31);
        assert_eq!(value_of('９'), None);
    }

    #[test]
    fn full_width_and_punctuation_are_illegal() {
        assert_eq!(
            CreditCode::parse("９1440300708461136T"),
            Err(CreditCodeError::IllegalCharacter {
                position: 1,
                character: '９'
            })
        );
        assert_eq!(
            CreditCode::parse("91440300-708461136"),
            Err(CreditCodeError::IllegalCharacter {
                position: 9,
                character: '-'
            })
        );
    }

    #[test]
    fn a_wrong_check_digit_names_both_characters() {
        assert_eq!(
            CreditCode::parse("914403001922038217"),
            Err(CreditCodeError::WrongCheckDigit {
                expected: '6',
                found: '7'
            })
        );
        // Two swapped characters are caught too.
        assert!(matches!(
            CreditCode::parse("914403001922083216"),
            Err(CreditCodeError::WrongCheckDigit { .. })
        ));
    }

    #[test]
    fn check_char_refuses_bad_input() {
        assert_eq!(check_char("9144030019220382"), None);
        assert_eq!(check_char("914403001922038216"), None);
        assert_eq!(check_char("9144030019220382I"), None);
        assert_eq!(check_char("91440300192203821"), Some('6'));
    }

    #[test]
    fn field_errors_carry_stable_codes_and_both_languages() {
        let cases = [
            (CreditCode::parse(""), "required"),
            (CreditCode::parse("123"), "wrong_length"),
            (CreditCode::parse("91440300708461136I"), "illegal_character"),
            (
                CreditCode::parse("914403001922038217"),
                "invalid_check_digit",
            ),
        ];
        for (result, code) in cases {
            let error = result.unwrap_err().to_field_error("credit_code");
            assert_eq!(error.field, "credit_code");
            assert_eq!(error.code, code);
            assert!(!error.message.zh.is_empty() && !error.message.en.is_empty());
        }
        let error = CreditCode::parse("914403001922038217")
            .unwrap_err()
            .to_field_error("credit_code");
        assert_eq!(
            error.message.zh,
            "统一社会信用代码校验位错误：第18位应为6，实际为7"
        );
        assert_eq!(
            error.message.en,
            "credit code check digit is wrong: position 18 should be 6, found 7"
        );
        let error = CreditCode::parse("９1440300708461136T")
            .unwrap_err()
            .to_field_error("credit_code");
        assert!(error.message.zh.contains("全角"));
    }

    #[test]
    fn serde_round_trip_validates() {
        let code = CreditCode::parse("91110000802100433B").unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, "\"91110000802100433B\"");
        let back: CreditCode = serde_json::from_str(&json).unwrap();
        assert_eq!(back, code);
        assert!(serde_json::from_str::<CreditCode>("\"91110000802100433C\"").is_err());
    }

    #[test]
    fn division_code_is_characters_3_to_8() {
        let code = CreditCode::parse("91440300708461136T").unwrap();
        assert_eq!(code.division_code(), "440300");
    }
}
