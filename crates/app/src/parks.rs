//! Whole-park audit pilots (工业园区整体清洁生产审核试点): the park's city or the province
//! starts or updates the pilot (targets, measures, the centralized wastewater treatment), and
//! the province assesses it; a pass makes every member count as audited for the cycle.

use chrono::NaiveDate;
use cpaudit_storage::evidence::parse_date;
use cpaudit_storage::park_audits::ParkAuditDraft;
use cpaudit_storage::Principal;
use serde::Serialize;

use crate::{App, Error, Result};

/// One target of a pilot, kept as entered.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ParkTarget {
    /// e.g. 单位工业增加值用水量, COD 排放量.
    pub indicator: String,
    pub baseline: f64,
    pub target: f64,
    pub unit: String,
}

/// A pilot as entered.
#[derive(Debug, Clone, Default)]
pub struct PilotInput {
    pub title: String,
    /// YYYY-MM-DD, not after today.
    pub started_on: String,
    pub targets: Vec<ParkTarget>,
    pub measures: String,
    /// 集中式污水处理设施建设与运行情况.
    pub wastewater_status: String,
    /// Whether the centralized treatment discharges stably within its standard.
    pub wastewater_compliant: bool,
}

/// Starts or updates the park's pilot (the park's city or the province; the store checks);
/// the first fault is refused naming its field.
pub async fn save(
    app: &App,
    principal: &Principal,
    park_id: i64,
    input: &PilotInput,
) -> Result<()> {
    let draft = draft(input, app.today())?;
    app.db()
        .save_park_audit(principal, park_id, &draft, app.now())
        .await?;
    Ok(())
}

fn required(field: &str, text: &str, zh: &str, en: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::bad_field(field, "required", zh, en));
    }
    Ok(())
}

fn draft(input: &PilotInput, today: NaiveDate) -> Result<ParkAuditDraft> {
    required("title", &input.title, "请填写试点名称", "title is required")?;
    let started_on = parse_date(input.started_on.trim())
        .filter(|day| *day <= today)
        .ok_or_else(|| {
            Error::bad_field(
                "started_on",
                "invalid_date",
                "开始日期应为不晚于今天的有效日期（YYYY-MM-DD）",
                "started_on must be a valid date (YYYY-MM-DD) not after today",
            )
        })?;
    if input.targets.is_empty() {
        return Err(Error::bad_field(
            "targets",
            "required",
            "试点须设定至少一项清洁生产目标",
            "a pilot sets at least one target",
        ));
    }
    for (index, target) in input.targets.iter().enumerate() {
        let field = format!("targets[{index}]");
        required(
            &field,
            &target.indicator,
            "目标须写明指标名称",
            "a target names its indicator",
        )?;
        required(
            &field,
            &target.unit,
            "目标须写明计量单位",
            "a target gives its unit",
        )?;
        if !target.baseline.is_finite() || !target.target.is_finite() {
            return Err(Error::bad_field(
                &field,
                "invalid_number",
                "基准值和目标值应为数字",
                "baseline and target must be numbers",
            ));
        }
    }
    required(
        "wastewater_status",
        &input.wastewater_status,
        "请填写园区集中式污水处理情况",
        "describe the park's centralized wastewater treatment",
    )?;
    Ok(ParkAuditDraft {
        title: input.title.clone(),
        started_on,
        targets: serde_json::to_value(&input.targets).unwrap_or_default(),
        measures: input.measures.clone(),
        wastewater_status: input.wastewater_status.clone(),
        wastewater_compliant: input.wastewater_compliant,
    })
}

/// The province's assessment of the pilot under way.
#[derive(Debug, Clone, Default)]
pub struct AssessmentInput {
    /// passed | failed
    pub result: String,
    /// YYYY-MM-DD, not after today; default today.
    pub assessed_on: String,
    pub note: String,
}

/// Records the province's assessment; a pass makes the members count as audited.
pub async fn assess(
    app: &App,
    principal: &Principal,
    park_id: i64,
    input: &AssessmentInput,
) -> Result<()> {
    let passed = match input.result.trim() {
        "passed" => true,
        "failed" => false,
        _ => {
            return Err(Error::bad_field(
                "result",
                "invalid_result",
                "评估结果应为 passed（通过）或 failed（未通过）",
                "result must be passed or failed",
            ))
        }
    };
    required(
        "note",
        &input.note,
        "请填写评估意见",
        "the assessment needs a note",
    )?;
    let today = app.today();
    let assessed_on = if input.assessed_on.trim().is_empty() {
        today
    } else {
        parse_date(input.assessed_on.trim())
            .filter(|day| *day <= today)
            .ok_or_else(|| {
                Error::bad_field(
                    "assessed_on",
                    "invalid_date",
                    "评估日期应为不晚于今天的有效日期",
                    "assessed_on must be a valid date not after today",
                )
            })?
    };
    app.db()
        .assess_park_audit(
            principal,
            park_id,
            passed,
            assessed_on,
            &input.note,
            app.now(),
        )
        .await?;
    Ok(())
}
