//! Expert panel draws: the organizer freezes and publishes the pool before any random source
//! exists, then runs the draw once the announced sources are published (RFC 3797). The
//! organizer follows the jurisdiction rule (Gansu plan §三(五)).

use chrono::{FixedOffset, NaiveDate};
use cpaudit_core::draw::{
    draw, Absence, Declaration, DrawError, DrawInputs, Employment, ExpertFacts, PanelRules, Party,
    PoolEntry, RandomSource, ReviewKind, ReviewRef,
};
use cpaudit_core::evidence::{name_of, parse_name};
use cpaudit_core::registry::Message;
use cpaudit_storage::draws::{AssignmentRow, DrawRow, DrawStage, PartyRow, PoolSnapshot};
use cpaudit_storage::enterprises::EnterpriseRow;
use cpaudit_storage::evidence::parse_date;
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::{InScope, Principal, StorageError};
use serde::{Deserialize, Serialize};

use crate::{App, Error, Result};

/// What is frozen and published before any random source exists.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FrozenInputs {
    review: ReviewRef,
    rules: PanelRules,
    pool_frozen_at: chrono::DateTime<FixedOffset>,
    pool: Vec<PoolEntry>,
    experts: Vec<ExpertFacts>,
}

fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

fn draw_error(error: DrawError) -> Error {
    let message = error.message();
    Error::bad_field("draw", "draw_refused", &message.zh, &message.en)
}

/// Frozen inputs that cannot be written are a failure of the system.
fn inputs_error(error: serde_json::Error) -> Error {
    Error::Internal(format!("draw inputs: {error}"))
}

/// Frozen inputs that do not read back as the draw's inputs are stored data this build cannot
/// read.
fn frozen_inputs(row: &DrawRow) -> Result<FrozenInputs> {
    serde_json::from_value(row.inputs.0.clone()).map_err(|error| {
        Error::Storage(StorageError::Corrupt {
            table: "draws",
            row_id: row.id,
            column: "inputs_json",
            value: error.to_string(),
        })
    })
}

/// The pool a draw froze, as it was published before the draw.
pub fn frozen_pool(row: &DrawRow) -> Result<Vec<PoolEntry>> {
    Ok(frozen_inputs(row)?.pool)
}

/// The review organizer for an enterprise (the province for key emission units in the
/// province-organized industries, else the enterprise's city: rule `jurisdiction.organizer`),
/// the enterprise's key industry and the consultancy it engaged.
async fn organizer_of(
    app: &App,
    enterprise: &InScope<EnterpriseRow>,
    on: NaiveDate,
) -> Result<(String, String, Option<i64>)> {
    let (province_industries, _) = app.rules().list_at("industries.province_organized", on)?;
    let province_organizes = enterprise.key_emission_unit
        && enterprise
            .province_industry_id
            .as_ref()
            .is_some_and(|id| province_industries.contains(id));
    let organizer = if province_organizes {
        app.reference()
            .province()
            .map_or(String::new(), |p| p.code.clone())
    } else {
        enterprise.jurisdiction_code.clone()
    };
    Ok((
        organizer,
        enterprise.key_industry_id.clone().unwrap_or_default(),
        app.db().engaged_consultancy(enterprise).await?,
    ))
}

fn party(row: &PartyRow) -> Option<Party> {
    match (row.enterprise_id, row.consultancy_id) {
        (Some(id), None) => Some(Party::Enterprise(id)),
        (None, Some(id)) => Some(Party::Consultancy(id)),
        _ => None,
    }
}

/// The pool entries and the facts the conflict rules read, from the registry as it stands.
fn pool_and_facts(snapshot: &PoolSnapshot) -> (Vec<PoolEntry>, Vec<ExpertFacts>) {
    let mut pool = Vec::new();
    let mut facts = Vec::new();
    for expert in &snapshot.experts {
        let Some(pool_number) = expert.pool_number.and_then(|n| u32::try_from(n).ok()) else {
            continue;
        };
        pool.push(PoolEntry {
            pool_number,
            expert_id: expert.id,
            specialties: expert.specialties.clone(),
            name: expert.name.clone(),
        });
        let of = |rows: &[PartyRow]| -> Vec<PartyRow> {
            rows.iter()
                .filter(|r| r.expert_id == expert.id)
                .cloned()
                .collect()
        };
        facts.push(ExpertFacts {
            expert_id: expert.id,
            status: expert.status,
            employments: of(&snapshot.employments)
                .iter()
                .filter_map(|r| {
                    Some(Employment {
                        party: party(r)?,
                        from: r.starts_on?,
                        until: r.ends_on,
                    })
                })
                .collect(),
            declarations: of(&snapshot.declarations)
                .iter()
                .filter_map(|r| {
                    Some(Declaration {
                        party: party(r)?,
                        note: r.note.clone().unwrap_or_default(),
                    })
                })
                .collect(),
            reviews: snapshot
                .reviews
                .iter()
                .filter(|(id, _)| *id == expert.id)
                .map(|(_, day)| *day)
                .collect(),
            absences: if expert.available {
                Vec::new()
            } else {
                vec![Absence {
                    from: NaiveDate::MIN,
                    until: NaiveDate::MAX,
                    note: "不可参加评审（专家库登记）".into(),
                }]
            },
        });
    }
    (pool, facts)
}

/// A draw to freeze: the review it is for. With `audit_round_id` the draw is linked to that
/// stored round: the kind and the enterprise then come from the round, and must match it when
/// they are given as well. Without it, `kind`, `round_id` and `enterprise_id` are required.
#[derive(Debug, Clone, Default)]
pub struct FreezeInput {
    /// assessment | acceptance | combined
    pub kind: Option<String>,
    /// The round's reference as the organizer numbers it (default: `audit_round_id`).
    pub round_id: Option<i64>,
    pub enterprise_id: Option<i64>,
    /// The stored audit round (its id) the draw is for.
    pub audit_round_id: Option<i64>,
    /// The day of the review (YYYY-MM-DD).
    pub review_on: String,
}

/// The review a draw is frozen for: its kind, reference, enterprise and linked round.
struct DrawTarget {
    kind: ReviewKind,
    round_ref: i64,
    enterprise: InScope<EnterpriseRow>,
    audit_round: Option<InScope<RoundRow>>,
}

fn required_field<T>(value: Option<T>, field: &str) -> Result<T> {
    value.ok_or_else(|| {
        Error::bad_field(
            field,
            "required",
            &format!("{field} 为必填项（未给出 audit_round_id 时）"),
            &format!("{field} is required when audit_round_id is not given"),
        )
    })
}

fn parse_kind(text: &str) -> Result<ReviewKind> {
    parse_name(text).ok_or_else(|| {
        Error::bad_field(
            "kind",
            "invalid_kind",
            "评审类型应为 assessment、acceptance 或 combined",
            "kind must be assessment, acceptance or combined",
        )
    })
}

fn mismatch(field: &str, zh: &str, en: &str) -> Error {
    Error::bad_field(field, "round_mismatch", zh, en)
}

/// Who the draw is for: from the stored round when one is named, else as given.
async fn draw_target(app: &App, principal: &Principal, input: &FreezeInput) -> Result<DrawTarget> {
    let given_kind = input.kind.as_deref().map(parse_kind).transpose()?;
    let Some(audit_round_id) = input.audit_round_id else {
        let kind = required_field(given_kind, "kind")?;
        let round_ref = required_field(input.round_id, "round_id")?;
        let enterprise_id = required_field(input.enterprise_id, "enterprise_id")?;
        return Ok(DrawTarget {
            kind,
            round_ref,
            enterprise: crate::registry::enterprise_in_scope(app, principal.scope(), enterprise_id)
                .await?,
            audit_round: None,
        });
    };
    let round = app
        .db()
        .get_round(principal.scope(), audit_round_id)
        .await?
        .ok_or(Error::NotFound)?;
    let kind = cpaudit_core::round::review_kind(round.state, round.track)
        .map(|kind| parse_kind(kind.as_str()))
        .transpose()?
        .ok_or_else(|| {
            mismatch(
                "audit_round_id",
                &format!("该审核轮次处于“{}”，不在评审环节", round.state.label_zh()),
                &format!(
                    "the round is {}, not awaiting a review",
                    round.state.label_en()
                ),
            )
        })?;
    if given_kind.is_some_and(|given| given != kind) {
        return Err(mismatch(
            "kind",
            &format!("该审核轮次的评审类型为 {}", name_of(&kind)),
            &format!("the round's review is {}", name_of(&kind)),
        ));
    }
    if input
        .enterprise_id
        .is_some_and(|id| id != round.enterprise_id)
    {
        return Err(mismatch(
            "enterprise_id",
            "企业与该审核轮次的企业不一致",
            "the enterprise is not the round's",
        ));
    }
    Ok(DrawTarget {
        kind,
        round_ref: input.round_id.unwrap_or(audit_round_id),
        enterprise: crate::registry::enterprise_in_scope(
            app,
            principal.scope(),
            round.enterprise_id,
        )
        .await?,
        audit_round: Some(round),
    })
}

/// Freezes and publishes the pool for a review (the review's organizer, which the store
/// checks); answers the draw's id. The random sources are used only once published after
/// this day.
pub async fn freeze(app: &App, principal: &Principal, input: &FreezeInput) -> Result<i64> {
    let target = draw_target(app, principal, input).await?;
    let review_on = parse_date(input.review_on.trim()).ok_or_else(|| {
        Error::bad_field(
            "review_on",
            "invalid_date",
            "评审日期应为 YYYY-MM-DD 格式的有效日期",
            "review_on must be a valid date written YYYY-MM-DD",
        )
    })?;
    let today = app.today();
    let (organizer, industry, consultancy_id) =
        organizer_of(app, &target.enterprise, today).await?;
    let rules = PanelRules::from_book(app.rules(), today).map_err(draw_error)?;
    let (pool, experts) = pool_and_facts(&app.db().pool_snapshot().await?);
    let frozen = FrozenInputs {
        review: ReviewRef {
            round_id: target.round_ref,
            kind: target.kind,
            enterprise_id: target.enterprise.id,
            enterprise_industry: industry,
            consultancy_id,
            organizer: organizer.clone(),
            review_on,
        },
        rules,
        pool_frozen_at: app.now().with_timezone(&china_offset()),
        pool,
        experts,
    };
    let json = serde_json::to_string(&frozen).map_err(inputs_error)?;
    Ok(app
        .db()
        .freeze_draw(
            principal,
            target.kind,
            &target.round_ref.to_string(),
            (&target.enterprise, target.audit_round.as_ref()),
            &organizer,
            &json,
            app.now(),
        )
        .await?)
}

/// The random sources, as published after the freeze.
#[derive(Debug, Clone, Default)]
pub struct RunInput {
    pub sources: Vec<RandomSource>,
}

/// The most random sources a draw names.
pub const MAX_SOURCES: usize = 10;

/// Random sources as a page enters them, one per line: "name | YYYY-MM-DD | values…", the
/// values separated by spaces or commas. Every line that does not read is an error at `field`.
pub fn sources_from_lines(field: &str, text: &str) -> Result<Vec<RandomSource>> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if lines.is_empty() || lines.len() > MAX_SOURCES {
        return Err(Error::bad_field(
            field,
            "sources_count",
            &format!("请填写 1 至 {MAX_SOURCES} 个已公布的随机源，每行一个"),
            &format!("give 1 to {MAX_SOURCES} published random sources, one per line"),
        ));
    }
    let mut errors = Vec::new();
    let mut sources = Vec::with_capacity(lines.len());
    for (number, line) in lines.iter().enumerate() {
        match source_line(line) {
            Some(source) => sources.push(source),
            None => errors.push(cpaudit_core::registry::FieldError::new(
                field,
                "invalid_source",
                Message::new(
                    format!(
                        "第 {} 行应为“随机源名称 | 开奖日期 YYYY-MM-DD | 数值 数值 …”",
                        number + 1
                    ),
                    format!(
                        "line {} must read \"source name | YYYY-MM-DD | value value …\"",
                        number + 1
                    ),
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(Error::Validation(errors))
    }
}

fn source_line(line: &str) -> Option<RandomSource> {
    let mut parts = line.split(['|', '｜']).map(str::trim);
    let name = parts.next().filter(|name| !name.is_empty())?;
    let drawn_on = parse_date(parts.next()?)?;
    let values: Vec<String> = parts
        .next()?
        .split([' ', ',', '，', '、'])
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_string)
        .collect();
    if values.is_empty() || parts.next().is_some() {
        return None;
    }
    Some(RandomSource {
        name: name.to_string(),
        drawn_on,
        values,
    })
}

/// Runs a frozen draw with the published random sources (RFC 3797): excludes conflicts, ranks
/// the eligible pool and stores the record with the panel and alternates. A draw runs once.
pub async fn run(app: &App, principal: &Principal, id: i64, input: &RunInput) -> Result<()> {
    let row = app.db().get_draw(id).await?.ok_or(Error::NotFound)?;
    if row.stage != DrawStage::Frozen {
        return Err(Error::conflict(
            "already_drawn",
            None,
            Message::new(
                "该次抽取已经完成，不能重复抽取",
                "this draw has been run already; a draw runs once",
            ),
        ));
    }
    let frozen = frozen_inputs(&row)?;
    let record = draw(&DrawInputs {
        review: frozen.review,
        rules: frozen.rules,
        pool_frozen_at: frozen.pool_frozen_at,
        pool: frozen.pool,
        experts: frozen.experts,
        sources: input.sources.clone(),
    })
    .map_err(draw_error)?;
    let expert_of = |number: &u32| {
        record
            .pool
            .iter()
            .find(|p| p.pool_number == *number)
            .map(|p| p.expert_id)
    };
    let ranked: Vec<(i64, &str)> = record
        .panel
        .iter()
        .filter_map(|n| expert_of(n).map(|id| (id, "panel")))
        .chain(
            record
                .alternates
                .iter()
                .filter_map(|n| expert_of(n).map(|id| (id, "alternate"))),
        )
        .collect();
    let json = serde_json::to_string(&record).map_err(inputs_error)?;
    app.db()
        .record_draw(
            principal,
            &row,
            &json,
            &record.outcome_hash,
            &ranked,
            app.now(),
        )
        .await?;
    Ok(())
}

/// A draw: public information, so every caller's read of it is in scope.
pub async fn draw_in_scope(app: &App, id: i64) -> Result<InScope<DrawRow>> {
    app.db().get_draw(id).await?.ok_or(Error::NotFound)
}

/// An expert's answer to a seat.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub accept: bool,
    /// The expert confirms having no conflict of interest (required to accept).
    pub no_conflict: bool,
    /// Why the expert declines (required to decline).
    pub reason: String,
}

/// The drawn expert accepts (confirming no conflict) or declines with a reason; a declined
/// panel seat goes to the best-ranked alternate still waiting.
pub async fn respond(
    app: &App,
    principal: &Principal,
    id: i64,
    answer: &Answer,
) -> Result<AssignmentRow> {
    if answer.accept && !answer.no_conflict {
        return Err(Error::bad_field(
            "no_conflict",
            "confirmation_required",
            "接受评审任务须确认与被评审企业及其咨询机构不存在利益冲突",
            "accepting requires confirming that there is no conflict of interest",
        ));
    }
    if !answer.accept && answer.reason.trim().is_empty() {
        return Err(Error::bad_field(
            "reason",
            "required",
            "谢绝评审任务须说明理由",
            "declining requires a reason",
        ));
    }
    let draw = draw_in_scope(app, id).await?;
    Ok(app
        .db()
        .respond_to_assignment(
            principal,
            &draw,
            answer.accept,
            answer.no_conflict,
            &answer.reason,
            app.now(),
        )
        .await?)
}

/// The organizer marks the review finished: the panel's names become public.
pub async fn finish(app: &App, principal: &Principal, id: i64) -> Result<()> {
    let draw = draw_in_scope(app, id).await?;
    Ok(app.db().finish_draw(principal, &draw, app.now()).await?)
}

#[cfg(test)]
mod source_line_tests {
    use super::*;

    #[test]
    fn a_source_line_reads_name_day_and_values_and_a_bad_one_names_its_line() {
        let sources = sources_from_lines(
            "sources",
            "中国福利彩票双色球第2027011期 | 2027-01-26 | 03 07 12,19 25 31\n",
        )
        .unwrap();
        assert_eq!(sources[0].values, vec!["03", "07", "12", "19", "25", "31"]);
        assert_eq!(sources[0].drawn_on.to_string(), "2027-01-26");
        let Err(Error::Validation(errors)) =
            sources_from_lines("sources", "好的 | 2027-01-26 | 1\n坏的 | 明天 | 1")
        else {
            panic!("accepted");
        };
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.zh.starts_with("第 2 行"));
        assert!(sources_from_lines("sources", " \n").is_err());
    }
}
