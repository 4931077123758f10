//! The rule book: legal parameters as versioned data with typed citations.
//!
//! (Being written. The shared types below are fixed; the loader and checker follow.)

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How sure we are of a rule's source, as labelled in the domain reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// The wording was read in the cited source (reference label [V], and [G] for the Gansu
    /// plan, which is authoritative for this system wherever it speaks).
    Verified,
    /// A secondary source states the content; the exact wording or article was not seen ([P]).
    PartlyVerified,
    /// Background knowledge or an unofficial source ([U]). Shown as "unverified" everywhere.
    Unverified,
    /// The practice of a local authority, used as a default where the law is silent.
    LocalPractice,
    /// A design decision of this system ([D]); not law, never cited as law.
    Design,
}

impl Confidence {
    /// True when the UI and API must mark a value as not confirmed against an official text.
    pub fn needs_verification(self) -> bool {
        matches!(self, Self::Unverified | Self::PartlyVerified)
    }
}

/// One typed citation: which document (an id of the documents table), which article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleCitation {
    /// Id of a document in the documents table, e.g. "measures-2016".
    pub document: String,
    /// Article, paragraph or section, e.g. "第十一条" or "三(一)".
    pub article: String,
    pub confidence: Confidence,
    /// Wording quoted from the source, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Why the value is what it is, or what remains to verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a computed result records about one rule it used: enough to show the citation and to
/// reproduce the computation with the same rule version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    /// Parameter id, e.g. "deadline.disclose".
    pub id: String,
    /// Version of the rule book the value came from.
    pub book_version: String,
    /// The first day of the value period that was in force.
    pub effective_from: NaiveDate,
    /// The value in force, as text for display (e.g. "1 month").
    pub value: String,
    pub citations: Vec<RuleCitation>,
}

impl RuleRef {
    /// True when no citation settles the value: every one is partly verified or unverified
    /// (a verified secondary citation beside an unverified one settles it).
    pub fn needs_verification(&self) -> bool {
        self.citations
            .iter()
            .all(|citation| citation.confidence.needs_verification())
    }
}
