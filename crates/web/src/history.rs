//! An enterprise's change history in words: what was done, which field changed, and each
//! stored value (a boolean, a size class, a status, a list of reasons) as the page's language
//! says it. A value the history does not know is shown as stored.

use cpaudit_core::determination::Reason;
use cpaudit_core::registry::SizeClass;

use crate::i18n::Lang;

/// What an audit-trail action did.
pub fn action_words(action: &str, lang: Lang) -> String {
    let t = lang.texts();
    let words = match action {
        "enterprise.create" => t.history_action_enterprise_create,
        "enterprise.update" => t.history_action_enterprise_update,
        "library.add" => t.history_action_library_add,
        "library.change" => t.history_action_library_change,
        "library.remove" => t.history_action_library_remove,
        "evidence.add" => t.history_action_evidence_add,
        "evidence.confirmed" => t.history_action_evidence_confirmed,
        "evidence.dismissed" => t.history_action_evidence_dismissed,
        "engagement.start" => t.history_action_engagement_start,
        "letter.issue" => t.history_action_letter_issue,
        "letter.deliver" => t.history_action_letter_deliver,
        "outlet.standard" => t.history_action_outlet_standard,
        "device.settings" => t.history_action_device_settings,
        "device.factor_unit" => t.history_action_device_factor_unit,
        other => return other.to_string(),
    };
    words.to_string()
}

/// A changed field's name.
pub fn field_words(field: &str, lang: Lang) -> String {
    let t = lang.texts();
    let words = match field {
        "name" => t.history_field_name,
        "credit_code" => t.history_field_credit_code,
        "legal_representative" => t.history_field_legal_representative,
        "address" => t.history_field_address,
        "jurisdiction_code" => t.history_field_jurisdiction_code,
        "industry_code" => t.history_field_industry_code,
        "size_class" => t.history_field_size_class,
        "key_emission_unit" => t.history_field_key_emission_unit,
        "permit_number" => t.history_field_permit_number,
        "status" => t.history_field_status,
        "library_version" => t.history_field_library_version,
        "reasons" => t.history_field_reasons,
        "due_year" => t.history_field_due_year,
        "evidence_ids" => t.history_field_evidence_ids,
        "note" => t.history_field_note,
        "reason" => t.history_field_reason,
        "valid_from" => t.history_field_valid_from,
        "consultancy_id" => t.history_field_consultancy_id,
        "since" => t.history_field_since,
        "list_id" => t.history_field_list_id,
        "number" => t.history_field_number,
        "issued_on" => t.history_field_issued_on,
        "delivered_on" => t.history_field_delivered_on,
        "method" => t.history_field_method,
        "letter" => t.history_field_letter,
        other => return other.to_string(),
    };
    words.to_string()
}

/// A stored value of `field` in words.
pub fn value_words(field: &str, value: &str, lang: Lang) -> String {
    match (field, value) {
        (_, "true") => lang.texts().yes_2.to_string(),
        (_, "false") => lang.texts().no_2.to_string(),
        ("size_class", size) => SizeClass::parse(size)
            .map(|size| lang.pick(size.name_zh(), size.as_str()).to_string())
            .unwrap_or_else(|| size.to_string()),
        ("status", "active") => lang.texts().active.to_string(),
        ("status", "closed") => lang.texts().closed.to_string(),
        ("status", "candidate") => lang.texts().candidate_2.to_string(),
        ("status", "confirmed") => lang.texts().confirmed.to_string(),
        ("status", "dismissed") => lang.texts().dismissed.to_string(),
        ("reasons", reasons) => reasons
            .split(',')
            .filter(|r| !r.trim().is_empty())
            .map(|r| {
                Reason::parse(r.trim())
                    .map(|reason| lang.pick(reason.label_zh(), reason.label_en()).to_string())
                    .unwrap_or_else(|| r.to_string())
            })
            .collect::<Vec<_>>()
            .join(lang.texts().text_2),
        (_, other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_read_as_words() {
        assert_eq!(action_words("library.add", Lang::Zh), "纳入名单管理库");
        assert_eq!(field_words("due_year", Lang::Zh), "应审核年度");
        assert_eq!(value_words("key_emission_unit", "true", Lang::Zh), "是");
        assert_eq!(value_words("size_class", "small", Lang::Zh), "小型");
        assert_eq!(
            value_words("reasons", "exceed_concentration,double_toxic", Lang::Zh),
            "双超-超标、双有"
        );
    }
}
