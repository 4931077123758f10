//! Pages show words, not codes: every page each demo role reads (and the public), in Chinese,
//! holds no raw enum value, no stored timestamp and no unrounded measurement in its text.
//! Text shown as a code on purpose (`<code>` or `class="code"`: credit codes, MNs, hashes),
//! what people wrote (`class="data"`: a disclosure's items) and what they type into forms are
//! not looked at.

use std::collections::BTreeSet;

use regex::Regex;
use scraper::{ElementRef, Html, Node};

use crate::crawl;
use crate::support::TestApp;

/// The demo's people, one of each role (and, as `None`, anyone).
const PEOPLE: &[Option<&str>] = &[
    None,
    Some("province"),
    Some("lanzhou"),
    Some("enterprise"),
    Some("consultancy"),
    Some("expert"),
];

/// Pages that show the rule files' own text (each rule's English description and notes, and
/// values that are lists of ids), which the rule files do not yet word in Chinese.
const RULE_BOOK_PAGES: &str = "/rules";

/// The values the domain stores for its kinds, states and choices, which a page words.
fn stored_values() -> BTreeSet<&'static str> {
    use cpaudit_core::{deadlines, enforcement, experts, listing, options, registry, round};
    let mut values: BTreeSet<&'static str> = BTreeSet::new();
    values.extend(round::RoundState::ALL.map(|v| v.as_str()));
    values.extend(round::ReviewConclusion::ALL.map(|v| v.as_str()));
    values.extend(experts::ExpertStatus::ALL.map(|v| v.as_str()));
    values.extend(experts::ExpertAction::ALL.map(|v| v.as_str()));
    values.extend(experts::TitleLevel::ALL.map(|v| v.as_str()));
    values.extend(registry::SizeClass::ALL.map(|v| v.as_str()));
    values.extend(enforcement::Outcome::ALL.map(|v| v.as_str()));
    values.extend(options::OptionStatus::ALL.map(|v| v.as_str()));
    values.extend(options::CostClass::ALL.map(|v| v.as_str()));
    values.extend(listing::PlanStatus::ALL.map(|v| v.as_str()));
    values.extend(listing::PlanAction::ALL.map(|v| v.as_str()));
    values.extend(deadlines::DeadlineKind::ALL.map(|v| v.as_str()));
    values.extend(deadlines::NoticeKind::ALL.map(|v| v.as_str()));
    // Roles are left out: the demo's usernames are the roles' names, and a timeline names
    // its actors by username.
    // Review kinds, draw stages, enterprise states and booleans as stored.
    values.extend([
        "assessment",
        "acceptance",
        "combined",
        "frozen",
        "drawn",
        "finished",
        "active",
        "closed",
        "true",
        "false",
        "unverified",
    ]);
    values
}

/// The text a person reads on a page: every text node but those inside code, scripts, styles
/// and form fields' typed content.
fn visible_text(html: &Html) -> Vec<String> {
    let mut texts = Vec::new();
    for node in html.root_element().descendants() {
        let Node::Text(text) = node.value() else {
            continue;
        };
        let shown_as_code = node
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|element| {
                let value = element.value();
                ["code", "script", "style", "textarea", "title"].contains(&value.name())
                    || value
                        .classes()
                        .any(|class| class == "code" || class == "data")
            });
        if !shown_as_code && !text.trim().is_empty() {
            texts.push(text.to_string());
        }
    }
    texts
}

/// What a Chinese page's text shows that it should word.
fn codes_in(texts: &[String], stored: &BTreeSet<&str>) -> Vec<String> {
    let timestamp = Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}").unwrap();
    let long_fraction = Regex::new(r"\d+\.\d{4,}").unwrap();
    let identifier = Regex::new(r"\b[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+\b").unwrap();
    let word = Regex::new(r"\b[a-z]+\b").unwrap();
    let mut found = Vec::new();
    for text in texts {
        // Addresses are data (a disclosure's website), not codes.
        let text: String = text
            .split_whitespace()
            .filter(|token| !token.contains("://") && !token.contains('@'))
            .collect::<Vec<_>>()
            .join(" ");
        // What was found, in the words around it.
        let at = |what: &str, m: regex::Match| {
            let around: String = text
                .chars()
                .skip(text[..m.start()].chars().count().saturating_sub(12))
                .take(m.as_str().chars().count() + 24)
                .collect();
            format!("{what} {} in “{around}”", m.as_str())
        };
        found.extend(timestamp.find_iter(&text).map(|m| at("timestamp", m)));
        found.extend(long_fraction.find_iter(&text).map(|m| at("unrounded", m)));
        found.extend(identifier.find_iter(&text).map(|m| at("code", m)));
        found.extend(
            word.find_iter(&text)
                .filter(|m| stored.contains(m.as_str()))
                .map(|m| at("value", m)),
        );
    }
    found
}

#[tokio::test]
async fn chinese_pages_word_every_value_and_show_no_stored_timestamp_or_unrounded_number() {
    let app = TestApp::new().await;
    // The world of the form test's last scene: rounds in every stage, draws, a review, letters,
    // orders, sanctions, notices and a quarantined data logger.
    let mut people: Vec<String> = Vec::new();
    for scene in crate::every_form::scenes::ALL {
        crate::every_form::scenes::set(&app, *scene, &mut people).await;
    }
    let stored = stored_values();
    let mut leaks: BTreeSet<String> = BTreeSet::new();
    let everyone = PEOPLE
        .iter()
        .map(|p| p.map(str::to_string))
        .chain(["round1".to_string()].into_iter().chain(people).map(Some));
    for person in everyone {
        let browser = match &person {
            Some(name) => Some(app.browser(name).await),
            None => None,
        };
        let who = person.as_deref().unwrap_or("anyone");
        for (path, html) in crawl::pages(&app, who, browser.as_ref()).await {
            if path.starts_with(RULE_BOOK_PAGES) {
                continue;
            }
            for found in codes_in(&visible_text(&html), &stored) {
                leaks.insert(format!("{} — {found}", crawl::kind_of(&path)));
            }
        }
    }
    assert!(leaks.is_empty(), "{} leaks: {leaks:#?}", leaks.len());
}
