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

/// Every fixed text of the interface.
#[derive(Debug)]
pub struct Texts {
    pub app_name: &'static str,
    pub app_subtitle: &'static str,
    pub other_language: &'static str,
    pub home: &'static str,
    pub enterprises: &'static str,
    pub parks: &'static str,
    pub consultancies: &'static str,
    pub experts: &'static str,
    pub login: &'static str,
    pub logout: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub filter: &'static str,
    pub reset: &'static str,
    pub all: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub name: &'static str,
    pub credit_code: &'static str,
    pub legal_representative: &'static str,
    pub address: &'static str,
    pub city: &'static str,
    pub industry: &'static str,
    pub key_industry: &'static str,
    pub province_industry: &'static str,
    pub size_class: &'static str,
    pub key_emission_unit: &'static str,
    pub permit_number: &'static str,
    pub status: &'static str,
    pub status_active: &'static str,
    pub status_closed: &'static str,
    pub updated_at: &'static str,
    pub sort_by: &'static str,
    pub descending: &'static str,
    pub results: &'static str,
    pub page: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub new_enterprise: &'static str,
    pub edit: &'static str,
    pub save: &'static str,
    pub cancel: &'static str,
    pub import: &'static str,
    pub export_xlsx: &'static str,
    pub export_csv: &'static str,
    pub outlets: &'static str,
    pub outlet_code: &'static str,
    pub outlet_kind: &'static str,
    pub outlet_name: &'static str,
    pub beijing_time: &'static str,
    pub air: &'static str,
    pub water: &'static str,
    pub devices: &'static str,
    pub history: &'static str,
    pub action: &'static str,
    pub actor: &'static str,
    pub time: &'static str,
    pub changes: &'static str,
    pub none: &'static str,
    pub members: &'static str,
    pub contact: &'static str,
    pub title: &'static str,
    pub employer: &'static str,
    pub specialties: &'static str,
    pub id_number: &'static str,
    pub import_title: &'static str,
    pub import_help: &'static str,
    pub choose_file: &'static str,
    pub preview: &'static str,
    pub row: &'static str,
    pub result: &'static str,
    pub row_new: &'static str,
    pub row_update: &'static str,
    pub row_invalid: &'static str,
    pub import_all: &'static str,
    pub import_valid_only: &'static str,
    pub import_blocked: &'static str,
    pub form_refused: &'static str,
    pub import_done: &'static str,
    pub template_download: &'static str,
    pub signed_in_as: &'static str,
    pub welcome_public: &'static str,
    pub summary_by_city: &'static str,
    pub count: &'static str,
    pub my_enterprise: &'static str,
    pub no_results: &'static str,
    pub error: &'static str,
    pub back_home: &'static str,
    pub version_conflict: &'static str,
    pub form_has_errors: &'static str,
}

pub static ZH: Texts = Texts {
    app_name: "清洁生产审核管理系统",
    app_subtitle: "强制性清洁生产审核全流程网办",
    other_language: "English",
    home: "首页",
    enterprises: "企业名录",
    parks: "工业园区",
    consultancies: "咨询服务机构",
    experts: "专家库",
    login: "登录",
    logout: "退出",
    username: "用户名",
    password: "密码",
    search: "搜索",
    search_hint: "企业名称或统一社会信用代码的任意部分",
    filter: "筛选",
    reset: "重置",
    all: "全部",
    yes: "是",
    no: "否",
    name: "企业名称",
    credit_code: "统一社会信用代码",
    legal_representative: "法定代表人",
    address: "地址",
    city: "所属市州",
    industry: "行业（GB/T 4754-2017）",
    key_industry: "重点行业",
    province_industry: "省级组织评估验收行业",
    size_class: "企业规模",
    key_emission_unit: "重点排污单位",
    permit_number: "排污许可证编号",
    status: "状态",
    status_active: "在产",
    status_closed: "关停",
    updated_at: "更新时间",
    sort_by: "排序",
    descending: "倒序",
    results: "条结果",
    page: "页",
    previous: "上一页",
    next: "下一页",
    new_enterprise: "新增企业",
    edit: "编辑",
    save: "保存",
    cancel: "取消",
    import: "导入",
    export_xlsx: "导出 Excel",
    export_csv: "导出 CSV",
    outlets: "排放口",
    outlet_code: "排放口编号",
    outlet_kind: "类型",
    outlet_name: "排放口名称",
    beijing_time: "北京时间",
    air: "废气",
    water: "废水",
    devices: "监测设备（MN）",
    history: "变更记录",
    action: "操作",
    actor: "操作人",
    time: "时间",
    changes: "变更内容",
    none: "无",
    members: "成员企业数",
    contact: "联系方式",
    title: "职称",
    employer: "工作单位",
    specialties: "专业领域",
    id_number: "身份证号（脱敏）",
    import_title: "导入企业名录",
    import_help: "上传 .xlsx 或 .csv 文件（首行为表头）。系统先逐行校验并预览；有任何错误行时默认不写入，除非明确选择只导入有效行。已登记的统一社会信用代码将更新原记录。",
    choose_file: "选择文件",
    preview: "预览",
    row: "行号",
    result: "结果",
    row_new: "新增",
    row_update: "更新",
    row_invalid: "错误",
    import_all: "全部导入",
    import_valid_only: "只导入有效行",
    import_blocked: "文件中有错误行，未写入任何数据。请修改后重新上传，或明确选择只导入有效行。",
    form_refused: "未保存：请更正以下问题后重新提交。",
    import_done: "导入完成",
    template_download: "表头：企业名称、统一社会信用代码、法定代表人、地址、市州代码、行业代码、企业规模（大/中/小/微）、重点排污单位（是/否）、排污许可证编号、状态",
    signed_in_as: "当前用户",
    welcome_public: "本系统供生态环境主管部门、企业、咨询服务机构和专家办理强制性清洁生产审核业务。公开名单、信息公开与公报将在公众页面发布。",
    summary_by_city: "各市州企业数量",
    count: "数量",
    my_enterprise: "本企业",
    no_results: "没有符合条件的企业",
    error: "错误",
    back_home: "返回首页",
    version_conflict: "该记录已被他人修改，请刷新后重新编辑。",
    form_has_errors: "表单中有错误，请按提示修改。",
};

pub static EN: Texts = Texts {
    app_name: "Cleaner Production Audit System",
    app_subtitle: "Mandatory cleaner production audits, online end to end",
    other_language: "中文",
    home: "Home",
    enterprises: "Enterprises",
    parks: "Industrial parks",
    consultancies: "Consultancies",
    experts: "Expert pool",
    login: "Log in",
    logout: "Log out",
    username: "Username",
    password: "Password",
    search: "Search",
    search_hint: "Any part of the name or the credit code",
    filter: "Filter",
    reset: "Reset",
    all: "All",
    yes: "Yes",
    no: "No",
    name: "Name",
    credit_code: "Unified social credit code",
    legal_representative: "Legal representative",
    address: "Address",
    city: "City",
    industry: "Industry (GB/T 4754-2017)",
    key_industry: "Key industry",
    province_industry: "Province-organized industry",
    size_class: "Size",
    key_emission_unit: "Key emission unit",
    permit_number: "Discharge permit no.",
    status: "Status",
    status_active: "Active",
    status_closed: "Closed",
    updated_at: "Updated",
    sort_by: "Sort by",
    descending: "Descending",
    results: "results",
    page: "Page",
    previous: "Previous",
    next: "Next",
    new_enterprise: "New enterprise",
    edit: "Edit",
    save: "Save",
    cancel: "Cancel",
    import: "Import",
    export_xlsx: "Export Excel",
    export_csv: "Export CSV",
    outlets: "Outlets",
    outlet_code: "Outlet code",
    outlet_kind: "Kind",
    outlet_name: "Outlet name",
    beijing_time: "China Standard Time",
    air: "Air",
    water: "Water",
    devices: "Monitoring devices (MN)",
    history: "Change history",
    action: "Action",
    actor: "By",
    time: "Time",
    changes: "Changes",
    none: "None",
    members: "Member enterprises",
    contact: "Contact",
    title: "Title",
    employer: "Employer",
    specialties: "Specialties",
    id_number: "ID number (masked)",
    import_title: "Import enterprises",
    import_help: "Upload an .xlsx or .csv file (first row: headers). Every row is checked and previewed first; if any row is invalid nothing is written unless you explicitly choose to import only the valid rows. Known credit codes update the existing record.",
    choose_file: "Choose file",
    preview: "Preview",
    row: "Line",
    result: "Result",
    row_new: "New",
    row_update: "Update",
    row_invalid: "Error",
    import_all: "Import all",
    import_valid_only: "Import only the valid rows",
    import_blocked: "The file has invalid rows; nothing was written. Fix them and upload again, or explicitly choose to import only the valid rows.",
    form_refused: "Not saved: correct the problems below and submit again.",
    import_done: "Import finished",
    template_download: "Headers: name, credit_code, legal_representative, address, jurisdiction_code, industry_code, size_class (large/medium/small/micro), key_emission_unit (yes/no), permit_number, status",
    signed_in_as: "Signed in as",
    welcome_public: "This system serves environmental authorities, enterprises, consultancies and experts in running mandatory cleaner production audits. Published lists, disclosures and bulletins appear on the public pages.",
    summary_by_city: "Enterprises by city",
    count: "Count",
    my_enterprise: "My enterprise",
    no_results: "No enterprise matches",
    error: "Error",
    back_home: "Back to home",
    version_conflict: "Someone else changed this record; reload it and edit again.",
    form_has_errors: "The form has errors; please correct the marked fields.",
};
