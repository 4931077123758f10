//! The registry: jurisdictions, industries, enterprises and what hangs off them.

use serde::{Deserialize, Serialize};

/// Level of a jurisdiction: the province, or one of its city-level units (市州, 新区, 矿区).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JurisdictionLevel {
    Province,
    City,
}

/// A jurisdiction as shipped in the reference data (`rules/<province>/jurisdictions.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jurisdiction {
    /// Administrative division code (GB/T 2260), e.g. "620000" for 甘肃省, "620100" for 兰州市.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub level: JurisdictionLevel,
    /// Code of the parent jurisdiction; `None` for the province.
    pub parent: Option<String>,
}

/// One of the key industries of the provincial plan (seed §三(三): 14 in Gansu).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyIndustry {
    /// Stable short id, e.g. "energy", "metallurgy".
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// Other names used by other documents (e.g. 有色金属 for 有色).
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// An industry class of GB/T 4754-2017 relevant to the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Industry {
    /// GB/T 4754-2017 code (2-digit division, 3-digit group or 4-digit class), e.g. "4411".
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The key industry (`KeyIndustry::id`) this class belongs to, if any.
    pub key_industry: Option<String>,
    /// The province-organized industry (seed §三(五)) this class belongs to, if any:
    /// one of 火电, 钢铁, 有色金属采选及冶炼, 石油, 化工, 危废 (ids in the reference data).
    pub province_industry: Option<String>,
}

/// Enterprise size class (GB/T 统计上大中小微型企业划分办法).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeClass {
    Large,
    Medium,
    Small,
    Micro,
}

impl SizeClass {
    pub const ALL: [SizeClass; 4] = [Self::Large, Self::Medium, Self::Small, Self::Micro];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Large => "large",
            Self::Medium => "medium",
            Self::Small => "small",
            Self::Micro => "micro",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Large => "大型",
            Self::Medium => "中型",
            Self::Small => "小型",
            Self::Micro => "微型",
        }
    }

    /// Accepts the stored id, the Chinese name, or its one-character short form (大/中/小/微).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL.into_iter().find(|size| {
            size.as_str().eq_ignore_ascii_case(text)
                || size.name_zh() == text
                || size.name_zh().starts_with(text) && text.chars().count() == 1
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnterpriseStatus {
    Active,
    Closed,
}

impl EnterpriseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "active" | "在产" | "正常" => Some(Self::Active),
            "closed" | "关停" | "关闭" => Some(Self::Closed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutletKind {
    Air,
    Water,
}

impl OutletKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Air => "air",
            Self::Water => "water",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "air" | "废气" => Some(Self::Air),
            "water" | "废水" => Some(Self::Water),
            _ => None,
        }
    }
}

/// A message in both interface languages; the web layer picks one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub zh: String,
    pub en: String,
}

impl Message {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// A validation failure tied to one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as the form and the API spell it, e.g. "credit_code".
    pub field: String,
    /// A stable machine code, e.g. "invalid_check_digit".
    pub code: &'static str,
    pub message: Message,
}

impl FieldError {
    pub fn new(field: &str, code: &'static str, message: Message) -> Self {
        Self {
            field: field.to_string(),
            code,
            message,
        }
    }
}

/// Which codes exist, so that validation can refuse unknown ones without I/O.
pub trait Catalog {
    fn has_city(&self, code: &str) -> bool;
    fn has_industry(&self, code: &str) -> bool;
}

/// Enterprise fields as they arrive from a form, the API or an import row: all text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseDraft {
    pub name: String,
    pub credit_code: String,
    pub legal_representative: String,
    pub address: String,
    pub jurisdiction_code: String,
    pub industry_code: String,
    pub size_class: String,
    pub key_emission_unit: bool,
    pub permit_number: String,
    pub status: String,
}

/// An enterprise whose every field has been checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidEnterprise {
    pub name: String,
    pub credit_code: crate::CreditCode,
    pub legal_representative: String,
    pub address: String,
    pub jurisdiction_code: String,
    pub industry_code: String,
    pub size_class: SizeClass,
    pub key_emission_unit: bool,
    pub permit_number: Option<String>,
    pub status: EnterpriseStatus,
}

/// Longest accepted text per field, in characters (not bytes: Chinese text is 3 bytes a character).
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_PERSON_CHARS: usize = 50;
pub const MAX_ADDRESS_CHARS: usize = 300;
pub const MAX_PERMIT_CHARS: usize = 40;

impl EnterpriseDraft {
    /// Checks every field and reports all problems at once, so a form can mark each field.
    pub fn validate(&self, catalog: &dyn Catalog) -> Result<ValidEnterprise, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = required_text(
            &mut errors,
            "name",
            "企业名称",
            "Name",
            &self.name,
            MAX_NAME_CHARS,
        );
        let legal_representative = required_text(
            &mut errors,
            "legal_representative",
            "法定代表人",
            "Legal representative",
            &self.legal_representative,
            MAX_PERSON_CHARS,
        );
        let address = required_text(
            &mut errors,
            "address",
            "地址",
            "Address",
            &self.address,
            MAX_ADDRESS_CHARS,
        );
        let credit_code = match crate::CreditCode::parse(&self.credit_code) {
            Ok(code) => Some(code),
            Err(error) => {
                errors.push(error.to_field_error("credit_code"));
                None
            }
        };
        let jurisdiction_code = self.jurisdiction_code.trim().to_string();
        if jurisdiction_code.is_empty() {
            errors.push(missing("jurisdiction_code", "所属市州", "Jurisdiction"));
        } else if !catalog.has_city(&jurisdiction_code) {
            errors.push(FieldError::new(
                "jurisdiction_code",
                "unknown_jurisdiction",
                Message::new(
                    format!("未知的市州代码“{jurisdiction_code}”"),
                    format!("unknown jurisdiction code \"{jurisdiction_code}\""),
                ),
            ));
        }
        let industry_code = self.industry_code.trim().to_string();
        if industry_code.is_empty() {
            errors.push(missing("industry_code", "行业代码", "Industry"));
        } else if !catalog.has_industry(&industry_code) {
            errors.push(FieldError::new(
                "industry_code",
                "unknown_industry",
                Message::new(
                    format!("未知的行业代码“{industry_code}”（GB/T 4754-2017）"),
                    format!("unknown industry code \"{industry_code}\" (GB/T 4754-2017)"),
                ),
            ));
        }
        let size_class = parse_choice(
            &mut errors,
            "size_class",
            ("企业规模", "Size class"),
            &self.size_class,
            SizeClass::parse,
            "大/中/小/微",
        );
        let status = if self.status.trim().is_empty() {
            Some(EnterpriseStatus::Active)
        } else {
            parse_choice(
                &mut errors,
                "status",
                ("状态", "Status"),
                &self.status,
                EnterpriseStatus::parse,
                "active/closed",
            )
        };
        let permit_number = validate_permit(&mut errors, &self.permit_number);
        match (credit_code, size_class, status) {
            (Some(credit_code), Some(size_class), Some(status)) if errors.is_empty() => {
                Ok(ValidEnterprise {
                    name,
                    credit_code,
                    legal_representative,
                    address,
                    jurisdiction_code,
                    industry_code,
                    size_class,
                    key_emission_unit: self.key_emission_unit,
                    permit_number,
                    status,
                })
            }
            _ => Err(errors),
        }
    }
}

impl From<&ValidEnterprise> for EnterpriseDraft {
    fn from(valid: &ValidEnterprise) -> Self {
        Self {
            name: valid.name.clone(),
            credit_code: valid.credit_code.as_str().to_string(),
            legal_representative: valid.legal_representative.clone(),
            address: valid.address.clone(),
            jurisdiction_code: valid.jurisdiction_code.clone(),
            industry_code: valid.industry_code.clone(),
            size_class: valid.size_class.as_str().to_string(),
            key_emission_unit: valid.key_emission_unit,
            permit_number: valid.permit_number.clone().unwrap_or_default(),
            status: valid.status.as_str().to_string(),
        }
    }
}

fn missing(field: &str, label_zh: &str, label_en: &str) -> FieldError {
    FieldError::new(
        field,
        "required",
        Message::new(
            format!("{label_zh}不能为空"),
            format!("{label_en} is required"),
        ),
    )
}

fn required_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    label_zh: &str,
    label_en: &str,
    value: &str,
    max_chars: usize,
) -> String {
    let value = value.trim();
    let length = value.chars().count();
    if value.is_empty() {
        errors.push(missing(field, label_zh, label_en));
    } else if length > max_chars {
        errors.push(too_long(field, label_zh, label_en, length, max_chars));
    } else if value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "control_character",
            Message::new(
                format!("{label_zh}含有不可见的控制字符"),
                format!("{label_en} contains a control character"),
            ),
        ));
    }
    value.to_string()
}

fn too_long(field: &str, label_zh: &str, label_en: &str, length: usize, max: usize) -> FieldError {
    FieldError::new(
        field,
        "too_long",
        Message::new(
            format!("{label_zh}过长：{length} 个字符，最多 {max} 个"),
            format!("{label_en} is too long: {length} characters, at most {max}"),
        ),
    )
}

fn parse_choice<T>(
    errors: &mut Vec<FieldError>,
    field: &str,
    (label_zh, label_en): (&str, &str),
    value: &str,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
) -> Option<T> {
    if value.trim().is_empty() {
        errors.push(missing(field, label_zh, label_en));
        return None;
    }
    let parsed = parse(value);
    if parsed.is_none() {
        errors.push(FieldError::new(
            field,
            "invalid_choice",
            Message::new(
                format!("{label_zh}“{}”无效，应为 {allowed}", value.trim()),
                format!("{label_en} \"{}\" is not one of {allowed}", value.trim()),
            ),
        ));
    }
    parsed
}

/// 排污许可证编号 is optional; when present it is letters and digits (the national format is the
/// credit code followed by a sequence number and a letter, but older local numbers exist).
fn validate_permit(errors: &mut Vec<FieldError>, value: &str) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let length = value.chars().count();
    if length > MAX_PERMIT_CHARS {
        errors.push(too_long(
            "permit_number",
            "排污许可证编号",
            "Permit number",
            length,
            MAX_PERMIT_CHARS,
        ));
    } else if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        errors.push(FieldError::new(
            "permit_number",
            "illegal_character",
            Message::new(
                "排污许可证编号只能包含字母、数字和连字符",
                "Permit number may contain only letters, digits and hyphens",
            ),
        ));
    }
    Some(value.to_uppercase())
}
