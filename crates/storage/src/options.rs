//! Cleaner production options of a round (`options`) and their values (`option_values`), the
//! expected and the verified ones kept apart by stage.
//!
//! The rules are `cpaudit_core::options`: who may do what in which state of the round
//! ([`check_work`]), the status table, the checks on input and the totals. Every change here is
//! one transaction that first takes the audit chain's head (which serializes writers on both
//! databases), then reads the round's state *inside* the transaction and checks the rule
//! against it, so a report submitted a moment earlier locks the expected values for good. Each
//! change appends a step to the round's timeline and an entry to the audit chain.

use chrono::{DateTime, NaiveDate, Utc};
use cpaudit_core::options::{
    check_work, summary, totals, CostClass, Indicator, OptionFigures, OptionStatus, OptionWork,
    Stage, StatusChange, Totals, ValidOption, ValidValue, WorkRefusal,
};
use cpaudit_core::round::{RoundActor, RoundState, Track};
use serde::Serialize;
use serde_json::{json, Value};

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::columns::StoredRow;
use crate::evidence::date_text;
use crate::rounds::{
    append_round_event, audit_round_step, require_open, RoundEventInsert, RoundRow,
};
use crate::{on_pool, on_tx, timestamp, Db, InScope, Principal, Result, StorageError, Tx};

/// An option as stored.
#[derive(Debug, Clone, Serialize)]
pub struct OptionRow {
    pub id: i64,
    pub round_id: i64,
    pub code: String,
    pub name: String,
    pub cost_class: CostClass,
    pub description: String,
    pub investment_10k_yuan: f64,
    pub status: OptionStatus,
    /// Why it was dropped (or a note on the last status change).
    pub status_note: String,
    pub implemented_on: Option<NaiveDate>,
    pub updated_at: String,
    pub updated_by: String,
}

/// The columns of [`OPTION_COLUMNS`] as stored.
#[derive(sqlx::FromRow)]
struct StoredOption {
    id: i64,
    round_id: i64,
    code: String,
    name: String,
    cost_class: String,
    description: String,
    investment_10k_yuan: f64,
    status: String,
    status_note: String,
    implemented_on: Option<String>,
    updated_at: String,
    updated_by: String,
}

impl StoredOption {
    fn decode(self) -> Result<OptionRow> {
        let row = StoredRow::new("options", self.id);
        Ok(OptionRow {
            id: self.id,
            round_id: self.round_id,
            code: self.code,
            name: self.name,
            cost_class: row.read("cost_class", &self.cost_class)?,
            description: self.description,
            investment_10k_yuan: self.investment_10k_yuan,
            status: row.read("status", &self.status)?,
            status_note: self.status_note,
            implemented_on: row.read_optional("implemented_on", self.implemented_on.as_deref())?,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
        })
    }
}

crate::decoded_row!(OptionRow, StoredOption);

/// One value of an option at one stage.
#[derive(Debug, Clone, Serialize)]
pub struct OptionValueRow {
    pub option_id: i64,
    pub stage: Stage,
    /// An indicator key, e.g. so2, pb, energy.
    pub indicator: String,
    pub quantity: f64,
    /// The indicator's unit, e.g. t/a, kg/a, tCO2/a.
    pub unit: String,
    /// How an expected value was estimated; the monitoring report a verified one rests on.
    pub basis: String,
    pub recorded_at: String,
    pub recorded_by: String,
}

/// The columns of an [`OptionValueRow`] as stored. Values have no id of their own: an unknown
/// value names the option's.
#[derive(sqlx::FromRow)]
struct StoredOptionValue {
    option_id: i64,
    stage: String,
    indicator: String,
    quantity: f64,
    unit: String,
    basis: String,
    recorded_at: String,
    recorded_by: String,
}

impl StoredOptionValue {
    fn decode(self) -> Result<OptionValueRow> {
        Ok(OptionValueRow {
            option_id: self.option_id,
            stage: StoredRow::new("option_values", self.option_id).read("stage", &self.stage)?,
            indicator: self.indicator,
            quantity: self.quantity,
            unit: self.unit,
            basis: self.basis,
            recorded_at: self.recorded_at,
            recorded_by: self.recorded_by,
        })
    }
}

crate::decoded_row!(OptionValueRow, StoredOptionValue);

/// An option with its values, each stage in its own list.
#[derive(Debug, Clone, Serialize)]
pub struct OptionEntry {
    #[serde(flatten)]
    pub option: OptionRow,
    pub expected: Vec<OptionValueRow>,
    pub verified: Vec<OptionValueRow>,
}

impl OptionEntry {
    fn figures(&self) -> OptionFigures {
        let values = self
            .expected
            .iter()
            .chain(&self.verified)
            .filter_map(|v| Some((v.stage, Indicator::parse(&v.indicator)?, v.quantity)))
            .collect();
        OptionFigures {
            cost_class: self.option.cost_class,
            status: self.option.status,
            investment_10k_yuan: self.option.investment_10k_yuan,
            values,
        }
    }
}

/// A round's options with their values, and the totals of each stage.
#[derive(Debug, Clone, Serialize)]
pub struct OptionSheet {
    pub options: Vec<OptionEntry>,
    pub totals: Totals,
}

const OPTION_COLUMNS: &str = "id, round_id, code, name, cost_class, description, \
     investment_10k_yuan, status, status_note, implemented_on, updated_at, updated_by";

/// Which of a round's actors the caller is, for a round it has read within its scope: the
/// enterprise's users, the engaged consultancy's (a consultancy reads only rounds it is engaged
/// for), the officials of its city, the province, and the review organizer (the city or the
/// province, as fixed on the round).
pub fn round_actors(principal: &Principal, round: &RoundRow) -> Vec<RoundActor> {
    let organized_by_province = round.organizer_code != round.jurisdiction_code;
    match principal.scope().kind() {
        ScopeKind::Enterprise(id) if *id == round.enterprise_id => vec![RoundActor::Enterprise],
        ScopeKind::Consultancy(_) => vec![RoundActor::Consultancy],
        ScopeKind::City(code) if *code == round.organizer_code => {
            vec![RoundActor::City, RoundActor::Organizer]
        }
        ScopeKind::City(code) if *code == round.jurisdiction_code => vec![RoundActor::City],
        ScopeKind::Province if organized_by_province => {
            vec![RoundActor::Province, RoundActor::Organizer]
        }
        ScopeKind::Province => vec![RoundActor::Province],
        _ => Vec::new(),
    }
}

impl Db {
    /// A round's options (in the order entered) with their values and totals. The caller has
    /// read the round within its scope.
    pub async fn option_sheet(&self, round: &InScope<RoundRow>) -> Result<OptionSheet> {
        let text = format!("SELECT {OPTION_COLUMNS} FROM options WHERE round_id = $1 ORDER BY id");
        let options: Vec<OptionRow> = on_pool!(self, |pool| {
            sqlx::query_as(&text).bind(round.id).fetch_all(pool).await?
        });
        let values: Vec<OptionValueRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT v.option_id, v.stage, v.indicator, v.quantity, v.unit, v.basis, \
                 v.recorded_at, v.recorded_by FROM option_values v \
                 JOIN options o ON o.id = v.option_id WHERE o.round_id = $1",
            )
            .bind(round.id)
            .fetch_all(pool)
            .await?
        });
        let options: Vec<OptionEntry> = options
            .into_iter()
            .map(|option| entry(option, &values))
            .collect();
        let figures: Vec<OptionFigures> = options.iter().map(OptionEntry::figures).collect();
        Ok(OptionSheet {
            totals: totals(&figures),
            options,
        })
    }

    /// What the acceptance guard reads: the number of options, and of medium/high-cost options
    /// neither implemented nor dropped.
    pub async fn option_summary(&self, round: &InScope<RoundRow>) -> Result<(usize, usize)> {
        let rows: Vec<(i64, String, String)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT id, cost_class, status FROM options WHERE round_id = $1")
                .bind(round.id)
                .fetch_all(pool)
                .await?
        });
        let options = rows
            .iter()
            .map(|(id, class, status)| {
                let row = StoredRow::new("options", *id);
                Ok((row.read("cost_class", class)?, row.read("status", status)?))
            })
            .collect::<Result<Vec<(CostClass, OptionStatus)>>>()?;
        Ok(summary(&options))
    }

    /// Adds one option with its expected values.
    pub async fn add_option(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        option: &ValidOption,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let (mut tx, mut chain) = self.open_for(OptionWork::Edit, actor, round).await?;
        let id = insert_option(&mut tx, &mut chain, actor, round.id, option, now).await?;
        step(
            &mut tx,
            actor,
            round.id,
            "option_added",
            option_detail(id, option),
            now,
        )
        .await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Adds the options of an import, all of them or (on any error) none.
    pub async fn import_options(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        options: &[ValidOption],
        file_name: &str,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let (mut tx, mut chain) = self.open_for(OptionWork::Edit, actor, round).await?;
        for option in options {
            insert_option(&mut tx, &mut chain, actor, round.id, option, now).await?;
        }
        let codes: Vec<&str> = options.iter().map(|o| o.code.as_str()).collect();
        let detail = json!({"file_name": file_name, "count": options.len(), "codes": codes});
        step(&mut tx, actor, round.id, "options_imported", detail, now).await?;
        chain.commit(tx).await?;
        Ok(options.len())
    }

    /// Replaces an option's fields and its expected values.
    pub async fn update_option(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        option_id: i64,
        option: &ValidOption,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (mut tx, mut chain) = self.open_for(OptionWork::Edit, actor, round).await?;
        let before = option_in_round(&mut tx, round.id, option_id).await?;
        let updated = on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE options SET code = $1, name = $2, cost_class = $3, description = $4, \
                 investment_10k_yuan = $5, updated_at = $6, updated_by = $7 WHERE id = $8",
            )
            .bind(&option.code)
            .bind(&option.name)
            .bind(option.cost_class.as_str())
            .bind(&option.description)
            .bind(option.investment_10k_yuan)
            .bind(timestamp(now))
            .bind(actor.actor())
            .bind(option_id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        });
        unique_code(updated, &option.code)?;
        replace_values(
            &mut tx,
            actor,
            option_id,
            Stage::Expected,
            &option.expected,
            now,
        )
        .await?;
        let detail = option_detail(option_id, option);
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round.id,
            "option.update",
            &detail,
            now,
        )
        .await?;
        let mut event = detail;
        event["before"] = json!({"code": before.code, "name": before.name});
        step(&mut tx, actor, round.id, "option_updated", event, now).await?;
        chain.commit(tx).await?;
        Ok(())
    }

    /// Deletes an option that is still only proposed (a selected one is dropped instead, with
    /// its reason on record).
    pub async fn delete_option(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        option_id: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (mut tx, mut chain) = self.open_for(OptionWork::Edit, actor, round).await?;
        let option = option_in_round(&mut tx, round.id, option_id).await?;
        if option.status != OptionStatus::Proposed {
            return Err(StorageError::conflict(
                "option_not_proposed",
                format!(
                    "方案 {} 当前为“{}”：只能删除尚为“已提出”的方案，其他方案请改为“已放弃”",
                    option.code,
                    option.status.label_zh()
                ),
                format!(
                    "option {} is {}: only a proposed option can be deleted; drop it instead",
                    option.code,
                    option.status.as_str()
                ),
            ));
        }
        for statement in [
            "DELETE FROM option_values WHERE option_id = $1",
            "DELETE FROM options WHERE id = $1",
        ] {
            on_tx!(&mut tx, |conn| {
                sqlx::query(statement)
                    .bind(option_id)
                    .execute(conn)
                    .await
                    .map(|done| done.rows_affected())
            })?;
        }
        let detail = json!({"option": option_id, "code": option.code, "name": option.name});
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round.id,
            "option.delete",
            &detail,
            now,
        )
        .await?;
        step(&mut tx, actor, round.id, "option_deleted", detail, now).await?;
        chain.commit(tx).await?;
        Ok(())
    }

    /// Records a status change checked by `cpaudit_core::options::check_status_change` against
    /// the status the caller saw; refused if the status changed meanwhile.
    pub async fn change_option_status(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        option_id: i64,
        change: &StatusChange,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (mut tx, mut chain) = self
            .open_for(OptionWork::ChangeStatus, actor, round)
            .await?;
        let option = option_in_round(&mut tx, round.id, option_id).await?;
        if option.status != change.from {
            return Err(StorageError::conflict(
                "option_status_changed",
                format!(
                    "方案 {} 的状态已变为“{}”，不再是“{}”，请刷新后重试",
                    option.code,
                    option.status.label_zh(),
                    change.from.label_zh()
                ),
                format!(
                    "option {} is now {}, no longer {}; reload and retry",
                    option.code,
                    option.status.as_str(),
                    change.from.as_str()
                ),
            ));
        }
        let implemented_on = change.implemented_on.map(date_text);
        on_tx!(&mut tx, |conn| {
            sqlx::query(
                "UPDATE options SET status = $1, status_note = $2, implemented_on = $3, \
                 updated_at = $4, updated_by = $5 WHERE id = $6",
            )
            .bind(change.to.as_str())
            .bind(&change.note)
            .bind(&implemented_on)
            .bind(timestamp(now))
            .bind(actor.actor())
            .bind(option_id)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
        let detail = json!({"option": option_id, "code": option.code,
            "from": change.from.as_str(), "to": change.to.as_str(),
            "implemented_on": implemented_on});
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round.id,
            "option.status",
            &detail,
            now,
        )
        .await?;
        append_round_event(
            &mut tx,
            round.id,
            RoundEventInsert {
                action: "option_status",
                from_state: None,
                to_state: None,
                actor,
                reason: &change.note,
                detail,
                attachments: &[],
            },
            now,
        )
        .await?;
        chain.commit(tx).await?;
        Ok(())
    }

    /// Replaces an option's values of one stage. Expected values belong to the report (the
    /// [`OptionWork::Edit`] window); verified ones are entered at acceptance, and only for an
    /// implemented option.
    pub async fn set_option_values(
        &self,
        actor: &Principal,
        round: &InScope<RoundRow>,
        option_id: i64,
        stage: Stage,
        values: &[ValidValue],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let work = match stage {
            Stage::Expected => OptionWork::Edit,
            Stage::Verified => OptionWork::EnterVerified,
        };
        let (mut tx, mut chain) = self.open_for(work, actor, round).await?;
        let option = option_in_round(&mut tx, round.id, option_id).await?;
        if stage == Stage::Verified && option.status != OptionStatus::Implemented {
            return Err(StorageError::conflict(
                "option_not_implemented",
                format!(
                    "方案 {} 当前为“{}”：只有“已实施”的方案才能录入验证值",
                    option.code,
                    option.status.label_zh()
                ),
                format!(
                    "option {} is {}: only an implemented option has verified values",
                    option.code,
                    option.status.as_str()
                ),
            ));
        }
        replace_values(&mut tx, actor, option_id, stage, values, now).await?;
        let detail = json!({"option": option_id, "code": option.code, "stage": stage.as_str(),
            "values": values_json(values)});
        audit_round_step(
            &mut tx,
            &mut chain,
            actor,
            round.id,
            "option.values",
            &detail,
            now,
        )
        .await?;
        step(&mut tx, actor, round.id, "option_values", detail, now).await?;
        chain.commit(tx).await?;
        Ok(())
    }

    /// Begins the transaction of a change, takes the chain's head and checks `work` against the
    /// round as it stands now.
    async fn open_for(
        &self,
        work: OptionWork,
        actor: &Principal,
        round: &InScope<RoundRow>,
    ) -> Result<(Tx, Chain)> {
        require_open(round)?;
        let mut tx = self.begin().await?;
        let chain = Chain::open(&mut tx).await?;
        let (state, track): (String, String) = on_tx!(&mut tx, |conn| {
            sqlx::query_as("SELECT state, track FROM rounds WHERE id = $1")
                .bind(round.id)
                .fetch_optional(conn)
                .await
        })?
        .ok_or(StorageError::NotFound)?;
        let corrupt = |column: &'static str, value: &str| StorageError::Corrupt {
            table: "rounds",
            row_id: round.id,
            column,
            value: value.to_string(),
        };
        let state = RoundState::parse(&state).ok_or_else(|| corrupt("state", &state))?;
        let track = Track::parse(&track).ok_or_else(|| corrupt("track", &track))?;
        check_work(work, state, track, &round_actors(actor, round)).map_err(|refusal| {
            let (code, message) = (refusal.code(), refusal.message());
            match refusal {
                WorkRefusal::NotYours { .. } => StorageError::Refused { code, message },
                WorkRefusal::Locked { .. } => StorageError::Conflict { code, message },
            }
        })?;
        Ok((tx, chain))
    }
}

fn entry(option: OptionRow, values: &[OptionValueRow]) -> OptionEntry {
    let of_stage = |stage: Stage| -> Vec<OptionValueRow> {
        let mut found: Vec<OptionValueRow> = values
            .iter()
            .filter(|v| v.option_id == option.id && v.stage == stage)
            .cloned()
            .collect();
        // In the order of the indicators, as tables show them.
        found.sort_by_key(|v| Indicator::parse(&v.indicator));
        found
    };
    OptionEntry {
        expected: of_stage(Stage::Expected),
        verified: of_stage(Stage::Verified),
        option,
    }
}

/// The option, if it belongs to the round.
async fn option_in_round(tx: &mut Tx, round_id: i64, option_id: i64) -> Result<OptionRow> {
    let text = format!("SELECT {OPTION_COLUMNS} FROM options WHERE id = $1 AND round_id = $2");
    on_tx!(tx, |conn| {
        sqlx::query_as(&text)
            .bind(option_id)
            .bind(round_id)
            .fetch_optional(conn)
            .await
    })?
    .ok_or(StorageError::NotFound)
}

/// A code taken by another option of the round is a duplicate, whichever database says so.
fn unique_code<T>(result: std::result::Result<T, sqlx::Error>, code: &str) -> Result<T> {
    result.map_err(|error| {
        if StorageError::is_unique_violation(&error) {
            StorageError::Duplicate {
                field: "code",
                value: code.to_string(),
            }
        } else {
            error.into()
        }
    })
}

async fn insert_option(
    tx: &mut Tx,
    chain: &mut Chain,
    actor: &Principal,
    round_id: i64,
    option: &ValidOption,
    now: DateTime<Utc>,
) -> Result<i64> {
    let inserted = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO options (round_id, code, name, cost_class, description, \
             investment_10k_yuan, status, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7, $8) RETURNING id",
        )
        .bind(round_id)
        .bind(&option.code)
        .bind(&option.name)
        .bind(option.cost_class.as_str())
        .bind(&option.description)
        .bind(option.investment_10k_yuan)
        .bind(timestamp(now))
        .bind(actor.actor())
        .fetch_one(conn)
        .await
    });
    let id: i64 = unique_code(inserted, &option.code)?;
    replace_values(tx, actor, id, Stage::Expected, &option.expected, now).await?;
    audit_round_step(
        tx,
        chain,
        actor,
        round_id,
        "option.add",
        &option_detail(id, option),
        now,
    )
    .await?;
    Ok(id)
}

async fn replace_values(
    tx: &mut Tx,
    actor: &Principal,
    option_id: i64,
    stage: Stage,
    values: &[ValidValue],
    now: DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, |conn| {
        sqlx::query("DELETE FROM option_values WHERE option_id = $1 AND stage = $2")
            .bind(option_id)
            .bind(stage.as_str())
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
    })?;
    for value in values {
        on_tx!(tx, |conn| {
            sqlx::query(
                "INSERT INTO option_values (option_id, stage, indicator, quantity, unit, basis, \
                 recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(option_id)
            .bind(stage.as_str())
            .bind(value.indicator.key())
            .bind(value.quantity)
            .bind(value.indicator.unit().symbol())
            .bind(&value.basis)
            .bind(timestamp(now))
            .bind(actor.actor())
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

fn values_json(values: &[ValidValue]) -> Value {
    values
        .iter()
        .map(|v| {
            json!({"indicator": v.indicator.key(), "quantity": v.quantity,
                "unit": v.indicator.unit().symbol(), "basis": v.basis})
        })
        .collect()
}

fn option_detail(id: i64, option: &ValidOption) -> Value {
    json!({"option": id, "code": option.code, "name": option.name,
        "cost_class": option.cost_class.as_str(), "investment_10k_yuan": option.investment_10k_yuan,
        "expected": values_json(&option.expected)})
}

/// A timeline step that is no transition and needs no reason.
async fn step(
    tx: &mut Tx,
    actor: &Principal,
    round_id: i64,
    action: &str,
    detail: Value,
    now: DateTime<Utc>,
) -> Result<()> {
    append_round_event(
        tx,
        round_id,
        RoundEventInsert {
            action,
            from_state: None,
            to_state: None,
            actor,
            reason: "",
            detail,
            attachments: &[],
        },
        now,
    )
    .await
}
