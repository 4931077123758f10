//! Interface languages. Chinese is the default; English is chosen by a switch that is
//! remembered in a cookie. Texts are a struct, so a missing translation does not compile.

use axum::http::HeaderMap;

pub const LANG_COOKIE: &str = "cpaudit_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// The language a generated file (export, template, letter) is written in.
    pub fn document_language(self) -> cpaudit_app::registry::DocumentLanguage {
        match self {
            Lang::Zh => cpaudit_app::registry::DocumentLanguage::Zh,
            Lang::En => cpaudit_app::registry::DocumentLanguage::En,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The remembered choice, else Chinese. (Accept-Language is not consulted for pages: the
    /// officials' browsers are often English-language installs.)
    pub fn from_cookies(headers: &HeaderMap) -> Lang {
        crate::auth::cookie(headers, LANG_COOKIE)
            .and_then(|value| Lang::parse(&value))
            .unwrap_or_default()
    }

    /// For API messages: the first language the client prefers that we have, else Chinese.
    pub fn from_accept_language(headers: &HeaderMap) -> Lang {
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|first| {
                if first.trim().to_ascii_lowercase().starts_with("en") {
                    Lang::En
                } else {
                    Lang::Zh
                }
            })
            .unwrap_or_default()
    }

    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

// `Texts` (a field per key of `catalog.toml`) and its two instances `ZH` and `EN`, written by
// the build from the catalog.
include!(concat!(env!("OUT_DIR"), "/catalog.rs"));

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every file of the crate that may name a text: templates and sources.
    fn sources(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs" || e == "html") {
                found.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }

    #[test]
    fn every_key_of_the_catalog_is_used() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalog = std::fs::read_to_string(root.join("catalog.toml")).unwrap();
        let keys: Vec<&str> = catalog
            .lines()
            .filter_map(|line| line.strip_prefix('[')?.strip_suffix(']'))
            .collect();
        let mut texts = Vec::new();
        sources(&root.join("src"), &mut texts);
        sources(&root.join("templates"), &mut texts);
        let uses = |key: &str| {
            let named = format!(".{key}");
            texts.iter().any(|text| {
                text.match_indices(&named).any(|(at, _)| {
                    !text[at + named.len()..]
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                })
            })
        };
        let unused: Vec<&&str> = keys.iter().filter(|key| !uses(key)).collect();
        assert!(unused.is_empty(), "catalog keys nothing uses: {unused:?}");
    }
}
