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
    fn a_query_never_spans_name_and_code() {
        let text = search_text("公司A", "91620100");
        assert!(!text.contains("a9"));
    }
}
