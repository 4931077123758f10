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
        "/// Every fixed text of the interface, one field per key of `catalog.toml`.\n\
         #[derive(Debug)]\npub struct Texts {\n",
    );
    for key in catalog.keys() {
        writeln!(code, "    pub {key}: &'static str,").unwrap();
    }
    code.push_str("}\n");
    for (name, pick) in [("ZH", 0), ("EN", 1)] {
        writeln!(code, "pub static {name}: Texts = Texts {{").unwrap();
        for (key, entry) in &catalog {
            let text = if pick == 0 { &entry.zh } else { &entry.en };
            writeln!(code, "    {key}: {text:?},").unwrap();
        }
        code.push_str("};\n");
    }
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("catalog.rs");
    std::fs::write(out, code).expect("the generated catalog is written");
}
