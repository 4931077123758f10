//! The dependency rules of `docs/ARCHITECTURE.md`, read from the sources: the binary reaches
//! the web crate from one file only, web never acts as the system, the application layer knows
//! no HTTP and no language, core stays pure and storage depends on nothing above it. A rule
//! broken anywhere fails with every offending file and line at once.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, relative to the repository root, sorted.
fn rust_files(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir)
            .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&root().join(dir), &mut found);
    found.sort();
    found
        .into_iter()
        .map(|path| {
            path.strip_prefix(root())
                .expect("under the root")
                .to_path_buf()
        })
        .collect()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(root().join(path))
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// Whether `needle` occurs in `line` as a whole word (not inside a longer identifier).
fn has_word(line: &str, needle: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    line.match_indices(needle).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + needle.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// One line per occurrence of a forbidden text in the files.
fn mentions(
    files: &[PathBuf],
    needles: &[&str],
    whole_word: bool,
    rule: &str,
    violations: &mut Vec<String>,
) {
    for path in files {
        for (number, line) in read(path).lines().enumerate() {
            for needle in needles {
                let found = if whole_word {
                    has_word(line, needle)
                } else {
                    line.contains(needle)
                };
                if found {
                    violations.push(format!(
                        "{}:{}: mentions `{needle}` ({rule})",
                        path.display(),
                        number + 1
                    ));
                }
            }
        }
    }
}

/// The crate names a manifest depends on, in any of its dependency tables.
fn dependencies(manifest: &str) -> Vec<String> {
    let text = read(Path::new(manifest));
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|error| panic!("parsing {manifest}: {error}"));
    ["dependencies", "dev-dependencies", "build-dependencies"]
        .iter()
        .filter_map(|section| table.get(*section).and_then(toml::Value::as_table))
        .flat_map(|deps| {
            deps.iter().map(|(name, spec)| {
                // A renamed dependency names its crate in `package`.
                spec.get("package")
                    .and_then(toml::Value::as_str)
                    .unwrap_or(name)
                    .to_string()
            })
        })
        .collect()
}

fn forbidden_dependencies(
    manifest: &str,
    forbidden: &[&str],
    rule: &str,
    violations: &mut Vec<String>,
) {
    for name in dependencies(manifest) {
        if forbidden.contains(&name.as_str()) {
            violations.push(format!("{manifest}: depends on {name} ({rule})"));
        }
    }
}

#[test]
fn layers_depend_one_way() {
    let mut violations = Vec::new();

    let binary: Vec<PathBuf> = rust_files("src")
        .into_iter()
        .filter(|path| path != Path::new("src/serve.rs"))
        .collect();
    mentions(
        &binary,
        &["cpaudit_web"],
        false,
        "only src/serve.rs builds the web application; commands call cpaudit_app",
        &mut violations,
    );

    mentions(
        &rust_files("crates/web/src"),
        &["console_operator", "console_acting_for", "SystemAuthority"],
        false,
        "a request acts as its signed-in user, never as the console",
        &mut violations,
    );

    let app = rust_files("crates/app/src");
    mentions(
        &app,
        &["Lang"],
        true,
        "use cases return both languages' words; presentation picks one",
        &mut violations,
    );
    mentions(
        &app,
        &["axum"],
        false,
        "the application layer knows no HTTP",
        &mut violations,
    );
    forbidden_dependencies(
        "crates/app/Cargo.toml",
        &["axum", "askama", "utoipa", "tower", "cpaudit-web"],
        "the application layer knows no HTTP, templates or API schema",
        &mut violations,
    );
    forbidden_dependencies(
        "crates/core/Cargo.toml",
        &["sqlx", "tokio", "axum"],
        "core is pure: no I/O, no runtime",
        &mut violations,
    );
    forbidden_dependencies(
        "crates/storage/Cargo.toml",
        &["cpaudit-web", "cpaudit-app"],
        "storage depends on nothing above it",
        &mut violations,
    );
    // The API's shapes are the web crate's views; a storage row is never a wire type.
    forbidden_dependencies(
        "crates/storage/Cargo.toml",
        &["utoipa", "axum"],
        "storage rows are not the API's wire types",
        &mut violations,
    );

    assert!(
        violations.is_empty(),
        "{} architecture rule violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// The checks above pass vacuously if they read nothing; these show they see what they look for.
#[test]
fn the_checks_see_what_they_look_for() {
    let web = dependencies("crates/web/Cargo.toml");
    assert!(web.iter().any(|name| name == "axum"), "{web:?}");
    assert!(web.iter().any(|name| name == "cpaudit-app"), "{web:?}");
    assert!(rust_files("src").contains(&PathBuf::from("src/serve.rs")));

    assert!(has_word("use crate::i18n::Lang;", "Lang"));
    assert!(has_word("fn pick(lang: Lang) {}", "Lang"));
    assert!(!has_word("DocumentLanguage::Zh", "Lang"));
    assert!(!has_word("Language", "Lang"));
    assert!(!has_word("MyLang", "Lang"));
}

/// The parameters of every public function in `source` as (function, parameter, type).
fn public_parameters(source: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for (at, _) in source.match_indices("pub ") {
        let rest = &source[at..];
        let Some(fn_at) = rest.find("fn ").filter(|&i| {
            let head = &rest[4..i];
            head.trim().is_empty() || head.trim() == "async"
        }) else {
            continue;
        };
        let after = &rest[fn_at + 3..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(open) = after.find('(') else {
            continue;
        };
        let mut depth = 0;
        let mut params = String::new();
        for c in after[open..].chars() {
            match c {
                '(' | '<' => depth += 1,
                ')' | '>' => depth -= 1,
                _ => {}
            }
            params.push(c);
            if depth == 0 {
                break;
            }
        }
        let inner = &params[1..params.len().saturating_sub(1)];
        let mut depth = 0;
        let mut current = String::new();
        for c in inner.chars().chain([',']) {
            match c {
                '(' | '<' | '[' => depth += 1,
                ')' | '>' | ']' => depth -= 1,
                _ => {}
            }
            if c == ',' && depth == 0 {
                if let Some((param, ty)) = current.split_once(':') {
                    found.push((
                        name.clone(),
                        param.trim().to_string(),
                        ty.trim().to_string(),
                    ));
                }
                current.clear();
            } else {
                current.push(c);
            }
        }
    }
    found
}

/// Reads of public information, open to every caller: a draw, a published disclosure.
const PUBLIC_READS: &[&str] = &["get_draw", "published_disclosure", "public_disclosures"];

/// Public storage functions that take the bare id of a record outside the four parents:
/// experts, consultancies and sanctions belong to no round or enterprise and check the actor
/// themselves.
const OWN_ID_READS: &[&str] = &[
    "sanction",
    "lift_sanction",
    "consultancy",
    "consultancy_document_content",
    "expert",
    "expert_events",
    "act_on_expert",
    "expert_employment",
    "expert_declarations",
];

/// A child of a round, draw, review or enterprise is reached through the parent's `InScope`
/// capability, which only a scoped read builds: no public storage function takes such a
/// parent's bare id (a scoped list may filter by one), and a bare `id` is taken only by a
/// scoped read (`scope: &Scope`) or a read of public information.
#[test]
fn no_public_storage_function_takes_a_bare_parent_id() {
    let parents = ["round_id", "draw_id", "review_id", "enterprise_id"];
    let mut violations = Vec::new();
    for file in rust_files("crates/storage/src") {
        let parameters = public_parameters(&read(&file));
        for (function, param, ty) in &parameters {
            if ty != "i64" && ty != "Option<i64>" {
                continue;
            }
            let scoped = parameters
                .iter()
                .any(|(f, p, t)| f == function && p == "scope" && t == "&Scope");
            if PUBLIC_READS.contains(&function.as_str()) {
                continue;
            }
            // A scoped list read may narrow itself to one parent: that reaches no child.
            let filter = scoped && ty == "Option<i64>";
            let bare_parent = parents.contains(&param.as_str()) && !filter;
            let bare_own = param == "id" && !scoped && !OWN_ID_READS.contains(&function.as_str());
            if bare_parent || bare_own {
                violations.push(format!("{}: {function}({param}: {ty})", file.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "take the parent's InScope capability instead of its id:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_bare_id_check_reads_signatures() {
    let source = "pub async fn get_round(&self, scope: &Scope, id: i64) -> R {}\n\
        pub fn clocks(&self, list_id: i64, enterprise: &InScope<EnterpriseRow>) {}\n\
        pub(crate) fn hidden(round_id: i64) {}\n\
        pub async fn bad(&self, pair: (i64, Option<i64>), round_id: Option<i64>) {}";
    let found = public_parameters(source);
    let has =
        |f: &str, p: &str, t: &str| found.iter().any(|x| x == &(f.into(), p.into(), t.into()));
    assert!(has("get_round", "scope", "&Scope"), "{found:?}");
    assert!(has("get_round", "id", "i64"), "{found:?}");
    assert!(
        has("clocks", "enterprise", "&InScope<EnterpriseRow>"),
        "{found:?}"
    );
    assert!(has("bad", "round_id", "Option<i64>"), "{found:?}");
    assert!(!found.iter().any(|(f, _, _)| f == "hidden"), "{found:?}");
}
