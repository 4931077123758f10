//! Who files which documents of an audit round, and whose consultancy work a filing is.
//!
//! The audit team (the enterprise, or the consultancy it engaged for the round) files the
//! report, the evidence, the monitoring reports and the rest; the authorities file the signed
//! review opinion and other material of their own. A filing that is the work of a consultancy
//! under a sanction is not accepted; [`consultancy_behind`] says which consultancy that is.
//! (Seed §四(四): "在未满足规定的要求前，各级生态环境部门不得再受理其清洁生产相关业务".)

use std::collections::BTreeSet;

use crate::registry::Message;
use crate::round::{DocumentKind, RoundActor};

/// Kinds the authorities file: the review opinion they issue (the system writes one when a
/// review is decided; a signed scan may follow) and material of their own.
pub fn filed_by_authorities(kind: DocumentKind) -> bool {
    matches!(kind, DocumentKind::ReviewOpinion | DocumentKind::Other)
}

/// Kinds the audit team writes. Monitoring reports come from monitoring bodies and review
/// opinions from the panel, so neither is the engaged consultancy's work.
pub fn prepared_by_audit_team(kind: DocumentKind) -> bool {
    matches!(
        kind,
        DocumentKind::AuditReport
            | DocumentKind::TechnicalEvidence
            | DocumentKind::AcceptanceReport
            | DocumentKind::Rectification
            | DocumentKind::WorkPlan
    )
}

fn is_audit_team(actor: RoundActor) -> bool {
    matches!(actor, RoundActor::Enterprise | RoundActor::Consultancy)
}

/// Whether a caller acting as `actors` on a round may file a document of `kind`; the refusal,
/// in both languages, otherwise. The audit team files every kind but the review opinion; the
/// authorities (city, province, review organizer) file the review opinion and other material.
pub fn may_upload(actors: &BTreeSet<RoundActor>, kind: DocumentKind) -> Result<(), Message> {
    let audit_team = actors.iter().any(|actor| is_audit_team(*actor));
    let authority = actors.iter().any(|actor| !is_audit_team(*actor));
    if (audit_team && kind != DocumentKind::ReviewOpinion)
        || (authority && filed_by_authorities(kind))
    {
        return Ok(());
    }
    Err(if audit_team {
        Message::new(
            "技术审查意见由组织评估验收的生态环境部门出具并上传，企业和咨询服务机构不能上传。",
            "The technical review opinion is issued and filed by the authority that organizes the \
             review, not by the enterprise or its consultancy.",
        )
    } else if authority {
        Message::new(
            format!(
                "《{}》由企业或其委托的咨询服务机构报送；生态环境部门只上传技术审查意见和其他材料。",
                kind.label_zh()
            ),
            format!(
                "The {} is filed by the enterprise or the consultancy it engaged; the authorities \
                 file review opinions and other material only.",
                kind.label_en().to_lowercase()
            ),
        )
    } else {
        Message::new(
            "只有企业、其委托的咨询服务机构和生态环境部门可以上传本轮审核的材料。",
            "Only the enterprise, the consultancy it engaged and the authorities file documents \
             of this round.",
        )
    })
}

/// The consultancy whose work a filing is, if any: the uploader's own when a consultancy's user
/// uploads; the consultancy engaged for the round when the enterprise files what the audit team
/// writes (it was prepared by that consultancy, so uploading it under the enterprise's name
/// does not make it acceptable).
pub fn consultancy_behind(
    uploader_consultancy: Option<i64>,
    engaged_consultancy: Option<i64>,
    kind: DocumentKind,
) -> Option<i64> {
    uploader_consultancy.or(engaged_consultancy.filter(|_| prepared_by_audit_team(kind)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actors(list: &[RoundActor]) -> BTreeSet<RoundActor> {
        list.iter().copied().collect()
    }

    #[test]
    fn the_audit_team_files_everything_but_the_review_opinion() {
        for actor in [RoundActor::Enterprise, RoundActor::Consultancy] {
            for kind in DocumentKind::ALL {
                let allowed = may_upload(&actors(&[actor]), kind);
                assert_eq!(
                    allowed.is_ok(),
                    kind != DocumentKind::ReviewOpinion,
                    "{actor:?} {kind:?}"
                );
            }
        }
        let refusal = may_upload(
            &actors(&[RoundActor::Enterprise]),
            DocumentKind::ReviewOpinion,
        )
        .unwrap_err();
        assert!(refusal.zh.contains("组织评估验收的生态环境部门"));
    }

    #[test]
    fn the_authorities_file_review_opinions_and_other_material_only() {
        for actor in [
            RoundActor::City,
            RoundActor::Province,
            RoundActor::Organizer,
        ] {
            for kind in DocumentKind::ALL {
                assert_eq!(
                    may_upload(&actors(&[actor]), kind).is_ok(),
                    filed_by_authorities(kind),
                    "{actor:?} {kind:?}"
                );
            }
        }
        let refusal =
            may_upload(&actors(&[RoundActor::City]), DocumentKind::AuditReport).unwrap_err();
        assert!(refusal.zh.starts_with("《清洁生产审核报告》由企业"));
        assert!(refusal
            .en
            .contains("The audit report is filed by the enterprise"));
    }

    #[test]
    fn a_caller_with_no_part_in_the_round_files_nothing() {
        for kind in DocumentKind::ALL {
            assert!(may_upload(&BTreeSet::new(), kind).is_err());
        }
    }

    #[test]
    fn the_consultancy_behind_a_filing() {
        // A consultancy's user files its own work, whatever the kind.
        assert_eq!(
            consultancy_behind(Some(7), Some(9), DocumentKind::MonitoringAfter),
            Some(7)
        );
        // The enterprise files the engaged consultancy's report...
        assert_eq!(
            consultancy_behind(None, Some(9), DocumentKind::AuditReport),
            Some(9)
        );
        // ...but a monitoring body's report or its own other material is no consultancy's.
        assert_eq!(
            consultancy_behind(None, Some(9), DocumentKind::MonitoringBefore),
            None
        );
        assert_eq!(consultancy_behind(None, Some(9), DocumentKind::Other), None);
        // A self-audit has no consultancy behind it.
        assert_eq!(
            consultancy_behind(None, None, DocumentKind::AuditReport),
            None
        );
    }
}
