//! An enterprise's change history in words: what was done, which field changed, and each
//! stored value (a boolean, a size class, a status, a list of reasons) as the page's language
//! says it. A value the history does not know is shown as stored.

use cpaudit_core::determination::Reason;
use cpaudit_core::registry::SizeClass;

use crate::i18n::Lang;

/// What an audit-trail action did.
pub fn action_words(action: &str, lang: Lang) -> String {
    let (zh, en) = match action {
        "enterprise.create" => ("登记企业", "registered"),
        "enterprise.update" => ("修改企业信息", "changed"),
        "library.add" => ("纳入名单管理库", "added to the library"),
        "library.change" => ("变更名单管理库记录", "library entry changed"),
        "library.remove" => ("移出名单管理库", "removed from the library"),
        "evidence.add" => ("录入证据", "evidence entered"),
        "evidence.confirmed" => ("确认证据", "evidence confirmed"),
        "evidence.dismissed" => ("驳回或撤回证据", "evidence dismissed or withdrawn"),
        "engagement.start" => ("委托咨询服务机构", "consultancy engaged"),
        "letter.issue" => ("发出书面通知", "written notice issued"),
        "letter.deliver" => ("记录通知送达", "delivery recorded"),
        "outlet.standard" => ("设定排放口执行标准", "outlet standard set"),
        "device.settings" => ("修改设备接收设置", "device settings changed"),
        "device.factor_unit" => ("修改监测因子单位", "factor unit changed"),
        other => return other.to_string(),
    };
    lang.pick(zh, en).to_string()
}

/// A changed field's name.
pub fn field_words(field: &str, lang: Lang) -> String {
    let (zh, en) = match field {
        "name" => ("企业名称", "Name"),
        "credit_code" => ("统一社会信用代码", "Credit code"),
        "legal_representative" => ("法定代表人", "Legal representative"),
        "address" => ("地址", "Address"),
        "jurisdiction_code" => ("市州", "City"),
        "industry_code" => ("行业", "Industry"),
        "size_class" => ("企业规模", "Size"),
        "key_emission_unit" => ("重点排污单位", "Key emission unit"),
        "permit_number" => ("排污许可证编号", "Permit number"),
        "status" => ("状态", "Status"),
        "library_version" => ("名单管理库记录号", "Library record"),
        "reasons" => ("原因", "Reasons"),
        "due_year" => ("应审核年度", "Due year"),
        "evidence_ids" => ("依据的证据编号", "Evidence"),
        "note" => ("理由", "Reason"),
        "reason" => ("理由", "Reason"),
        "valid_from" => ("生效日期", "Valid from"),
        "consultancy_id" => ("咨询服务机构编号", "Consultancy"),
        "since" => ("委托日期", "Since"),
        "list_id" => ("名单编号", "List"),
        "number" => ("文号", "Number"),
        "issued_on" => ("发文日期", "Issued on"),
        "delivered_on" => ("送达日期", "Delivered on"),
        "method" => ("送达方式", "Method"),
        "letter" => ("书面通知编号", "Written notice"),
        other => return other.to_string(),
    };
    lang.pick(zh, en).to_string()
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
