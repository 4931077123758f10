//! Writes `i18n::Texts` from `catalog.toml`: a struct with a field per key and its Chinese and
//! English instances. A key without both languages, with another language, or not written as
//! a Rust identifier stops the build.

use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    zh: String,
    en: String,
}

fn main() {
    println!("cargo::rerun-if-changed=catalog.toml");
    let text = std::fs::read_to_string("catalog.toml").expect("catalog.toml is readable");
    let catalog: BTreeMap<String, Entry> = match toml::from_str(&text) {
        Ok(catalog) => catalog,
        Err(error) => panic!("catalog.toml: {error}"),
    };
    for (key, entry) in &catalog {
        let identifier = key.starts_with(|c: char| c.is_ascii_lowercase())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        assert!(
            identifier,
            "catalog.toml: the key `{key}` is not a snake_case name"
        );
        assert!(
            !entry.zh.trim().is_empty() && !entry.en.trim().is_empty(),
            "catalog.toml: `{key}` needs both zh and en"
        );
    }
    let mut code = String::from(
        "/// Every fixed text of the interface, one field per key of `catalog.toml`; a text with\n\
         /// `{placeholders}` is a method taking them.\n\
         #[derive(Debug)]\npub struct Texts {\n    lang: Lang,\n",
    );
    let placeholders: BTreeMap<&String, Vec<String>> = catalog
        .iter()
        .map(|(key, entry)| {
            let zh = names(&entry.zh);
            let en = names(&entry.en);
            assert!(
                zh == en,
                "catalog.toml: `{key}` names {zh:?} in zh but {en:?} in en"
            );
            (key, zh)
        })
        .collect();
    for key in catalog.keys().filter(|key| placeholders[key].is_empty()) {
        writeln!(code, "    pub {key}: &'static str,").unwrap();
    }
    code.push_str("}\n");
    for (name, pick) in [("ZH", 0), ("EN", 1)] {
        let lang = if pick == 0 { "Zh" } else { "En" };
        writeln!(
            code,
            "pub static {name}: Texts = Texts {{\n    lang: Lang::{lang},"
        )
        .unwrap();
        for (key, entry) in catalog
            .iter()
            .filter(|(key, _)| placeholders[key].is_empty())
        {
            let text = if pick == 0 { &entry.zh } else { &entry.en };
            writeln!(code, "    {key}: {text:?},").unwrap();
        }
        code.push_str("};\n");
    }
    code.push_str("impl Texts {\n");
    for (key, entry) in catalog
        .iter()
        .filter(|(key, _)| !placeholders[key].is_empty())
    {
        let parameters: Vec<String> = placeholders[key]
            .iter()
            .map(|name| format!("{name}: impl std::fmt::Display"))
            .collect();
        writeln!(
            code,
            "    pub fn {key}(&self, {}) -> String {{\n        match self.lang {{\n            \
             Lang::Zh => format!({:?}),\n            Lang::En => format!({:?}),\n        }}\n    }}",
            parameters.join(", "),
            entry.zh,
            entry.en
        )
        .unwrap();
    }
    code.push_str("}\n");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("catalog.rs");
    std::fs::write(out, code).expect("the generated catalog is written");
}

/// The `{name}` placeholders of a text, sorted.
fn names(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect();
    for name in &found {
        let identifier = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        assert!(
            identifier,
            "catalog.toml: the placeholder `{{{name}}}` is not a snake_case name"
        );
    }
    found.sort();
    found.dedup();
    found
}
