//! The audit trail's hash chain: every entry's hash covers its content and the previous hash,
//! so editing or deleting an entry breaks every hash after it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash that the first entry chains to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry as stored. `before` and `after` are JSON text, hashed exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    /// UTC time, RFC 3339 with microseconds, as stored.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry's content chained to `prev_hash`.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    before: Option<&str>,
    after: Option<&str>,
    prev_hash: &str,
) -> String {
    // A JSON array is an unambiguous encoding: no field can bleed into the next.
    let canonical = serde_json::json!([
        seq,
        at,
        actor,
        action,
        entity_type,
        entity_id,
        before,
        after,
        prev_hash
    ])
    .to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

impl AuditEntry {
    pub fn computed_hash(&self) -> String {
        entry_hash(
            self.seq,
            &self.at,
            &self.actor,
            &self.action,
            &self.entity_type,
            &self.entity_id,
            self.before.as_deref(),
            self.after.as_deref(),
            &self.prev_hash,
        )
    }
}

/// The outcome of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainVerdict {
    Intact { entries: u64, head: String },
    Broken { seq: i64, reason: String },
}

/// Walks entries in sequence order, checking numbering, links and hashes.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_prev: String,
    expected_seq: i64,
    count: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_prev: GENESIS_HASH.to_string(),
            expected_seq: 1,
            count: 0,
        }
    }
}

impl ChainVerifier {
    /// Checks the next entry; returns the reason when it breaks the chain.
    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), String> {
        if entry.seq != self.expected_seq {
            return Err(format!(
                "expected entry {} but found entry {} (an entry is missing)",
                self.expected_seq, entry.seq
            ));
        }
        if entry.prev_hash != self.expected_prev {
            return Err("its previous-hash link does not match the entry before it".into());
        }
        if entry.computed_hash() != entry.hash {
            return Err("its content does not match its hash (the entry was altered)".into());
        }
        self.expected_prev = entry.hash.clone();
        self.expected_seq += 1;
        self.count += 1;
        Ok(())
    }

    /// The verdict after all entries, checked against an expected head when one is given
    /// (which detects removed trailing entries).
    pub fn finish(self, expect_head: Option<&str>) -> ChainVerdict {
        match expect_head {
            Some(head) if !head.eq_ignore_ascii_case(&self.expected_prev) => ChainVerdict::Broken {
                seq: self.expected_seq,
                reason: format!(
                    "the chain ends at {} after {} entries, not at the expected head {head} \
                     (entries were removed from the end)",
                    self.expected_prev, self.count
                ),
            },
            _ => ChainVerdict::Intact {
                entries: self.count,
                head: self.expected_prev,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, prev: &str) -> AuditEntry {
        let mut entry = AuditEntry {
            seq,
            at: "2027-01-15T00:00:00.000000Z".into(),
            actor: "user:1".into(),
            action: "enterprise.create".into(),
            entity_type: "enterprise".into(),
            entity_id: seq.to_string(),
            before: None,
            after: Some(r#"{"name":"甲"}"#.into()),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        entry
    }

    #[test]
    fn an_intact_chain_verifies_and_an_altered_entry_does_not() {
        let first = entry(1, GENESIS_HASH);
        let mut second = entry(2, &first.hash);
        let mut verifier = ChainVerifier::default();
        verifier.check(&first).unwrap();
        verifier.check(&second).unwrap();
        assert!(matches!(
            verifier.finish(Some(&second.hash)),
            ChainVerdict::Intact { entries: 2, .. }
        ));

        second.after = Some(r#"{"name":"乙"}"#.into());
        let mut verifier = ChainVerifier::default();
        verifier.check(&first).unwrap();
        assert!(verifier.check(&second).is_err());
    }

    #[test]
    fn a_removed_last_entry_is_caught_only_with_the_expected_head() {
        let first = entry(1, GENESIS_HASH);
        let second = entry(2, &first.hash);
        let mut verifier = ChainVerifier::default();
        verifier.check(&first).unwrap();
        assert!(matches!(
            verifier.finish(Some(&second.hash)),
            ChainVerdict::Broken { .. }
        ));
    }
}
