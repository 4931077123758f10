//! Substring search over enterprise names and credit codes.
//!
//! Both databases search one precomputed column, `search_text`, with a plain substring test
//! (SQLite `instr`, PostgreSQL `strpos`), so a one-character Chinese query finds exactly what a
//! substring filter finds: word- and trigram-based full-text indexes miss queries shorter than
//! their token. Case folding happens here, in Rust, once, so both databases see the same text.

/// Separates the name from the credit code so that a query never matches across the boundary.
const SEPARATOR: char = '\u{1F}';

/// The text stored in `search_text` for an enterprise.
pub fn search_text(name: &str, credit_code: &str) -> String {
    let mut text = fold(name);
    text.push(SEPARATOR);
    text.push_str(&fold(credit_code));
    text
}

/// The query as it is compared with `search_text`; `None` when nothing searchable remains.
pub fn normalize_query(query: &str) -> Option<String> {
    let folded: String = fold(query.trim())
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    (!folded.is_empty()).then_some(folded)
}

/// The reference semantics of the search: what a plain substring filter over the rows says.
pub fn matches(name: &str, credit_code: &str, query: &str) -> bool {
    match normalize_query(query) {
        None => true,
        Some(query) => fold(name).contains(&query) || fold(credit_code).contains(&query),
    }
}

/// The pieces of a name kept in the gram index: every character and every pair of adjacent
/// characters of the folded name, without repeats.
pub fn name_grams(name: &str) -> Vec<String> {
    let chars: Vec<char> = fold(name).chars().filter(|c| !c.is_control()).collect();
    let mut grams: Vec<String> = chars.iter().map(|c| c.to_string()).collect();
    grams.extend(chars.windows(2).map(|pair| pair.iter().collect()));
    grams.sort();
    grams.dedup();
    grams
}

/// The index grams that every name containing `query` (a normalized query) must contain, or
/// `None` when the index cannot answer: a query of letters and digits only may also match a
/// credit code, which the gram index does not cover, so such a query scans instead.
/// A one- or two-character query is answered by its gram exactly; a longer one by the
/// intersection of a few of its pairs, to be confirmed by a substring test.
pub fn index_grams(query: &str) -> Option<Vec<String>> {
    if query.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let chars: Vec<char> = query.chars().collect();
    if chars.len() <= 2 {
        return Some(vec![query.to_string()]);
    }
    let pairs: Vec<String> = chars.windows(2).map(|pair| pair.iter().collect()).collect();
    // The first, a middle and the last pair narrow the candidates well enough.
    let mut picked = vec![
        pairs[0].clone(),
        pairs[pairs.len() / 2].clone(),
        pairs[pairs.len() - 1].clone(),
    ];
    picked.sort();
    picked.dedup();
    Some(picked)
}

/// Whether the grams answer the query exactly, with no substring test needed.
pub fn grams_are_exact(query: &str) -> bool {
    query.chars().count() <= 2
}

fn fold(text: &str) -> String {
    text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chinese_character_matches_inside_a_name() {
        assert!(matches("兰州石化有限公司", "91620100MA00000000", "石"));
        assert!(!matches("兰州石化有限公司", "91620100MA00000000", "铁"));
    }

    #[test]
    fn credit_code_matches_case_insensitively() {
        assert!(matches("某公司", "91620100MA74Q1234X", "ma74q"));
    }

    #[test]
    fn every_substring_of_up_to_two_characters_is_a_gram() {
        let grams = name_grams("兰州石化ABC");
        for piece in ["兰", "兰州", "化a", "bc", "c"] {
            assert!(grams.contains(&piece.to_string()), "{piece}");
        }
    }

    #[test]
    fn code_like_queries_are_not_answered_by_the_gram_index() {
        assert_eq!(index_grams("9162"), None);
        assert_eq!(index_grams("兰"), Some(vec!["兰".to_string()]));
        assert_eq!(
            index_grams("兰州石化"),
            Some(vec!["兰州".into(), "州石".into(), "石化".into()])
        );
    }

    #[test]
    fn a_query_never_spans_name_and_code() {
        let text = search_text("公司A", "91620100");
        assert!(!text.contains("a9"));
    }
}
