//! The enterprise registry: scoped search, detail, create, edit and import.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cpaudit_core::audit::AuditEntry;
use cpaudit_core::registry::{
    EnterpriseDraft, EnterpriseStatus, OutletKind, SizeClass, ValidEnterprise,
};
use cpaudit_core::search::{
    grams_are_exact, index_grams, name_grams, normalize_query, search_text,
};
use serde::Serialize;

use crate::audit::Chain;
use crate::columns::StoredRow;
use crate::sql::{bind_args, scope_condition, Arg, Sql};
use crate::{
    on_pool, on_tx, timestamp, Backend, Db, InScope, Principal, Result, Scope, StorageError, Tx,
};

/// How a list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Name,
    CreditCode,
    City,
    Industry,
    Updated,
}

impl SortKey {
    pub const ALL: [SortKey; 5] = [
        SortKey::Name,
        SortKey::CreditCode,
        SortKey::City,
        SortKey::Industry,
        SortKey::Updated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::CreditCode => "credit_code",
            SortKey::City => "city",
            SortKey::Industry => "industry",
            SortKey::Updated => "updated",
        }
    }

    pub fn parse(text: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|key| key.as_str() == text)
    }

    /// The ORDER BY expression; `id` breaks ties so pages never overlap.
    fn order_by(self, descending: bool) -> String {
        let direction = if descending { "DESC" } else { "ASC" };
        let column = match self {
            SortKey::Name => "e.name",
            SortKey::CreditCode => "e.credit_code",
            SortKey::City => "e.jurisdiction_code",
            SortKey::Industry => "e.industry_code",
            SortKey::Updated => "e.updated_at",
        };
        format!("{column} {direction}, e.id {direction}")
    }
}

pub const MAX_PER_PAGE: u32 = 200;
/// The most rows one export writes; a larger selection must be narrowed by filters.
pub const MAX_EXPORT_ROWS: i64 = 200_000;

/// Filters, sorting and paging of the enterprise list (the page and the API share it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnterpriseFilter {
    /// Any part of the name or the credit code.
    pub q: Option<String>,
    pub city: Option<String>,
    pub industry: Option<String>,
    pub key_industry: Option<String>,
    pub size: Option<SizeClass>,
    pub key_emission_unit: Option<bool>,
    pub status: Option<EnterpriseStatus>,
    pub sort: SortKey,
    pub descending: bool,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl Default for EnterpriseFilter {
    fn default() -> Self {
        EnterpriseFilter {
            q: None,
            city: None,
            industry: None,
            key_industry: None,
            size: None,
            key_emission_unit: None,
            status: None,
            sort: SortKey::Name,
            descending: false,
            page: 1,
            per_page: 50,
        }
    }
}

/// One enterprise with the names of what it refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnterpriseRow {
    pub id: i64,
    pub credit_code: String,
    pub name: String,
    pub legal_representative: String,
    pub address: String,
    pub jurisdiction_code: String,
    pub jurisdiction_name_zh: String,
    pub jurisdiction_name_en: String,
    pub industry_code: String,
    pub industry_name_zh: String,
    pub industry_name_en: String,
    pub key_industry_id: Option<String>,
    pub key_industry_name_zh: Option<String>,
    pub key_industry_name_en: Option<String>,
    pub province_industry_id: Option<String>,
    pub size_class: SizeClass,
    pub key_emission_unit: bool,
    pub permit_number: Option<String>,
    pub status: EnterpriseStatus,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl EnterpriseRow {
    /// The row as editable text: what a form shows and an edit starts from.
    pub fn draft(&self) -> EnterpriseDraft {
        EnterpriseDraft {
            name: self.name.clone(),
            credit_code: self.credit_code.clone(),
            legal_representative: self.legal_representative.clone(),
            address: self.address.clone(),
            jurisdiction_code: self.jurisdiction_code.clone(),
            industry_code: self.industry_code.clone(),
            size_class: self.size_class.as_str().to_string(),
            key_emission_unit: self.key_emission_unit,
            permit_number: self.permit_number.clone().unwrap_or_default(),
            status: self.status.as_str().to_string(),
        }
    }
}

/// The columns of [`ROW_SELECT`] as they come from the database; the size class and the status
/// are decoded when the row is read.
#[derive(sqlx::FromRow)]
struct StoredEnterprise {
    id: i64,
    credit_code: String,
    name: String,
    legal_representative: String,
    address: String,
    jurisdiction_code: String,
    jurisdiction_name_zh: String,
    jurisdiction_name_en: String,
    industry_code: String,
    industry_name_zh: String,
    industry_name_en: String,
    key_industry_id: Option<String>,
    key_industry_name_zh: Option<String>,
    key_industry_name_en: Option<String>,
    province_industry_id: Option<String>,
    size_class: String,
    key_emission_unit: bool,
    permit_number: Option<String>,
    status: String,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl StoredEnterprise {
    fn decode(self) -> Result<EnterpriseRow> {
        let row = StoredRow::new("enterprises", self.id);
        Ok(EnterpriseRow {
            size_class: row.read("size_class", &self.size_class)?,
            status: row.read("status", &self.status)?,
            id: self.id,
            credit_code: self.credit_code,
            name: self.name,
            legal_representative: self.legal_representative,
            address: self.address,
            jurisdiction_code: self.jurisdiction_code,
            jurisdiction_name_zh: self.jurisdiction_name_zh,
            jurisdiction_name_en: self.jurisdiction_name_en,
            industry_code: self.industry_code,
            industry_name_zh: self.industry_name_zh,
            industry_name_en: self.industry_name_en,
            key_industry_id: self.key_industry_id,
            key_industry_name_zh: self.key_industry_name_zh,
            key_industry_name_en: self.key_industry_name_en,
            province_industry_id: self.province_industry_id,
            key_emission_unit: self.key_emission_unit,
            permit_number: self.permit_number,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

crate::decoded_row!(EnterpriseRow, StoredEnterprise);

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    pub fn page_count(&self) -> u32 {
        let per_page = i64::from(self.per_page.max(1));
        u32::try_from((self.total + per_page - 1) / per_page).unwrap_or(u32::MAX)
    }
}

/// An outlet as stored; its kind is decoded with its devices into an [`Outlet`].
#[derive(sqlx::FromRow)]
struct StoredOutlet {
    id: i64,
    kind: String,
    code: String,
    name: String,
}

impl StoredOutlet {
    fn decode(self, devices: Vec<String>) -> Result<Outlet> {
        Ok(Outlet {
            kind: StoredRow::new("outlets", self.id).read("kind", &self.kind)?,
            id: self.id,
            code: self.code,
            name: self.name,
            devices,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Outlet {
    pub id: i64,
    pub kind: OutletKind,
    pub code: String,
    pub name: String,
    /// HJ 212 MNs of the devices at this outlet.
    pub devices: Vec<String>,
}

/// Everything the enterprise page shows.
#[derive(Debug, Clone, Serialize)]
pub struct EnterpriseDetail {
    pub enterprise: EnterpriseRow,
    pub outlets: Vec<Outlet>,
    pub parks: Vec<String>,
    pub consultancies: Vec<String>,
    pub history: Vec<AuditEntry>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ImportOutcome {
    pub created: usize,
    pub updated: usize,
}

const ROW_SELECT: &str = "SELECT e.id, e.credit_code, e.name, e.legal_representative, e.address, \
     e.jurisdiction_code, j.name_zh AS jurisdiction_name_zh, j.name_en AS jurisdiction_name_en, \
     e.industry_code, i.name_zh AS industry_name_zh, i.name_en AS industry_name_en, \
     i.key_industry_id, k.name_zh AS key_industry_name_zh, k.name_en AS key_industry_name_en, \
     i.province_industry_id, e.size_class, e.key_emission_unit, e.permit_number, e.status, \
     e.version, e.created_at, e.updated_at \
     FROM enterprises e \
     JOIN jurisdictions j ON j.code = e.jurisdiction_code \
     JOIN industries i ON i.code = e.industry_code \
     LEFT JOIN key_industries k ON k.id = i.key_industry_id";

/// The WHERE clause for a scope and a filter. Every enterprise read goes through here.
fn where_clause(
    sql: &mut Sql,
    backend: Backend,
    scope: &Scope,
    filter: &EnterpriseFilter,
) -> String {
    let mut conditions = vec![scope_condition(sql, scope)];
    if let Some(query) = filter.q.as_deref().and_then(normalize_query) {
        if let Some(grams) = index_grams(&query) {
            let lookups: Vec<String> = grams
                .into_iter()
                .map(|gram| {
                    let gram = sql.arg(Arg::Text(gram));
                    format!("SELECT enterprise_id FROM enterprise_name_grams WHERE gram = {gram}")
                })
                .collect();
            conditions.push(format!("e.id IN ({})", lookups.join(" INTERSECT ")));
            if grams_are_exact(&query) {
                return finish_where(sql, conditions, filter);
            }
        }
        conditions.push(match backend {
            // instr is a plain substring test: exact for one- and two-character queries.
            Backend::Sqlite => format!("instr(e.search_text, {}) > 0", sql.arg(Arg::Text(query))),
            // From three characters on, LIKE with escaped wildcards is the same test and
            // pg_trgm's index serves it; shorter queries have no trigram, and the index would
            // match every row, so they use strpos and the city or name index instead.
            Backend::Postgres if query.chars().count() >= 3 => {
                let pattern = format!("%{}%", escape_like(&query));
                format!("e.search_text LIKE {}", sql.arg(Arg::Text(pattern)))
            }
            Backend::Postgres => {
                format!("strpos(e.search_text, {}) > 0", sql.arg(Arg::Text(query)))
            }
        });
    }
    finish_where(sql, conditions, filter)
}

/// Adds the filters other than the name search and joins the conditions.
fn finish_where(sql: &mut Sql, mut conditions: Vec<String>, filter: &EnterpriseFilter) -> String {
    if let Some(city) = &filter.city {
        conditions.push(format!(
            "e.jurisdiction_code = {}",
            sql.arg(Arg::Text(city.clone()))
        ));
    }
    if let Some(industry) = &filter.industry {
        conditions.push(format!(
            "e.industry_code = {}",
            sql.arg(Arg::Text(industry.clone()))
        ));
    }
    if let Some(key) = &filter.key_industry {
        conditions.push(format!(
            "i.key_industry_id = {}",
            sql.arg(Arg::Text(key.clone()))
        ));
    }
    if let Some(size) = filter.size {
        let size = sql.arg(Arg::Text(size.as_str().into()));
        conditions.push(format!("e.size_class = {size}"));
    }
    if let Some(flag) = filter.key_emission_unit {
        conditions.push(format!(
            "e.key_emission_unit = {}",
            sql.arg(Arg::Bool(flag))
        ));
    }
    if let Some(status) = filter.status {
        let status = sql.arg(Arg::Text(status.as_str().into()));
        conditions.push(format!("e.status = {status}"));
    }
    format!(" WHERE {}", conditions.join(" AND "))
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The JSON recorded in the audit trail for an enterprise's state.
fn audit_json(enterprise: &ValidEnterprise) -> serde_json::Value {
    serde_json::to_value(EnterpriseDraft::from(enterprise)).unwrap_or(serde_json::Value::Null)
}

impl Db {
    /// One page of the enterprises the scope may see, with the total count.
    pub async fn search_enterprises(
        &self,
        scope: &Scope,
        filter: &EnterpriseFilter,
    ) -> Result<Page<EnterpriseRow>> {
        let per_page = filter.per_page.clamp(1, MAX_PER_PAGE);
        let page = filter.page.max(1);
        let mut sql = Sql::default();
        let conditions = where_clause(&mut sql, self.backend(), scope, filter);
        // The join is needed only to filter by key industry; without it the count reads the
        // covering indexes alone.
        let join = if filter.key_industry.is_some() {
            " JOIN industries i ON i.code = e.industry_code"
        } else {
            ""
        };
        let count_sql = format!("SELECT COUNT(*) FROM enterprises e{join}{conditions}");
        let list_sql = format!(
            "{ROW_SELECT}{conditions} ORDER BY {} LIMIT {per_page} OFFSET {}",
            filter.sort.order_by(filter.descending),
            i64::from(page - 1) * i64::from(per_page)
        );
        let (total, items) = on_pool!(self, |pool| {
            let total: i64 = bind_args!(sqlx::query_scalar(&count_sql), &sql.args)
                .fetch_one(pool)
                .await?;
            let items: Vec<EnterpriseRow> = bind_args!(sqlx::query_as(&list_sql), &sql.args)
                .fetch_all(pool)
                .await?;
            (total, items)
        });
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    /// Every enterprise matching the filter (paging ignored), for export; at most
    /// [`MAX_EXPORT_ROWS`].
    pub async fn export_enterprises(
        &self,
        scope: &Scope,
        filter: &EnterpriseFilter,
    ) -> Result<Vec<EnterpriseRow>> {
        let mut sql = Sql::default();
        let conditions = where_clause(&mut sql, self.backend(), scope, filter);
        let list_sql = format!(
            "{ROW_SELECT}{conditions} ORDER BY {} LIMIT {MAX_EXPORT_ROWS}",
            filter.sort.order_by(filter.descending)
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&list_sql), &sql.args)
                .fetch_all(pool)
                .await?
        }))
    }

    /// One enterprise if the scope may see it.
    pub async fn get_enterprise(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Option<InScope<EnterpriseRow>>> {
        let mut sql = Sql::default();
        let mut conditions = where_clause(
            &mut sql,
            self.backend(),
            scope,
            &EnterpriseFilter::default(),
        );
        conditions.push_str(&format!(" AND e.id = {}", sql.arg(Arg::Int(id))));
        let text = format!("{ROW_SELECT}{conditions}");
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_optional(pool)
                .await?
        })
        .map(InScope::granted))
    }

    /// The enterprise page: the record, outlets with devices, parks, consultancies, history.
    pub async fn enterprise_detail(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<Option<EnterpriseDetail>> {
        let Some(enterprise) = self.get_enterprise(scope, id).await? else {
            return Ok(None);
        };
        let (outlets, devices, parks, consultancies) = on_pool!(self, |pool| {
            let outlets: Vec<StoredOutlet> = sqlx::query_as(
                "SELECT id, kind, code, name FROM outlets WHERE enterprise_id = $1 ORDER BY code",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let devices: Vec<(i64, String)> = sqlx::query_as(
                "SELECT d.outlet_id, d.mn FROM devices d JOIN outlets o ON o.id = d.outlet_id \
                 WHERE o.enterprise_id = $1 ORDER BY d.mn",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let parks: Vec<String> = sqlx::query_scalar(
                "SELECT p.name FROM parks p JOIN park_members m ON m.park_id = p.id \
                 WHERE m.enterprise_id = $1 ORDER BY p.name",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            let consultancies: Vec<String> = sqlx::query_scalar(
                "SELECT c.name FROM consultancies c JOIN engagements g ON g.consultancy_id = c.id \
                 WHERE g.enterprise_id = $1 ORDER BY c.name",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            (outlets, devices, parks, consultancies)
        });
        let mut by_outlet: HashMap<i64, Vec<String>> = HashMap::new();
        for (outlet_id, mn) in devices {
            by_outlet.entry(outlet_id).or_default().push(mn);
        }
        let outlets = outlets
            .into_iter()
            .map(|o| {
                let devices = by_outlet.remove(&o.id).unwrap_or_default();
                o.decode(devices)
            })
            .collect::<Result<_>>()?;
        let history = self.entity_history("enterprise", &id.to_string()).await?;
        Ok(Some(EnterpriseDetail {
            enterprise: enterprise.into_inner(),
            outlets,
            parks,
            consultancies,
            history,
        }))
    }

    /// The consultancy an enterprise in the scope engaged (the first by name, as the
    /// enterprise's detail lists them), or `None` when it engaged none; "not found" outside the
    /// scope. The caller needs no reach into the consultancies' directory.
    pub async fn engaged_consultancy(
        &self,
        enterprise: &InScope<EnterpriseRow>,
    ) -> Result<Option<i64>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT c.id FROM consultancies c JOIN engagements g ON g.consultancy_id = c.id \
                 WHERE g.enterprise_id = $1 ORDER BY c.name, c.id LIMIT 1",
            )
            .bind(enterprise.id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Registers an enterprise (audited). The caller must manage the enterprise's city.
    pub async fn create_enterprise(
        &self,
        actor: &Principal,
        enterprise: &ValidEnterprise,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let mut grams = NameGrams::new();
        let id = insert_enterprise(&mut tx, &mut chain, &mut grams, actor, enterprise, now).await?;
        grams.flush(&mut tx).await?;
        chain.commit(tx).await?;
        Ok(id)
    }

    /// Changes an enterprise (audited with before and after). `expected_version`, when given,
    /// must match the stored version, so two officials editing at once cannot overwrite each
    /// other unknowingly.
    pub async fn update_enterprise(
        &self,
        actor: &Principal,
        current: &InScope<EnterpriseRow>,
        expected_version: Option<i64>,
        enterprise: &ValidEnterprise,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        update_in_tx(
            &mut tx,
            &mut chain,
            actor,
            current,
            expected_version,
            enterprise,
            now,
        )
        .await?;
        chain.commit(tx).await?;
        Ok(())
    }

    /// Credit codes already registered, with the enterprise's id and city, for an import preview.
    pub async fn registered_credit_codes(
        &self,
        codes: &[String],
    ) -> Result<HashMap<String, (i64, String)>> {
        let mut found = HashMap::new();
        for chunk in codes.chunks(500) {
            let mut sql = Sql::default();
            let placeholders: Vec<String> = chunk
                .iter()
                .map(|c| sql.arg(Arg::Text(c.clone())))
                .collect();
            let text = format!(
                "SELECT credit_code, id, jurisdiction_code FROM enterprises WHERE credit_code IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<(String, i64, String)> = on_pool!(self, |pool| {
                bind_args!(sqlx::query_as(&text), &sql.args)
                    .fetch_all(pool)
                    .await?
            });
            found.extend(rows.into_iter().map(|(code, id, city)| (code, (id, city))));
        }
        Ok(found)
    }

    /// Imports validated rows in one transaction: a new credit code is created, a known one in
    /// the caller's jurisdiction is updated. Any refusal rolls back the whole import.
    pub async fn import_enterprises(
        &self,
        actor: &Principal,
        rows: &[ValidEnterprise],
        now: DateTime<Utc>,
    ) -> Result<ImportOutcome> {
        let codes: Vec<String> = rows
            .iter()
            .map(|r| r.credit_code.as_str().to_string())
            .collect();
        let existing = self.registered_credit_codes(&codes).await?;
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let mut grams = NameGrams::new();
        let mut outcome = ImportOutcome::default();
        for row in rows {
            match existing.get(row.credit_code.as_str()) {
                Some((id, _)) => {
                    let current =
                        fetch_in_tx(&mut tx, actor.scope(), *id)
                            .await?
                            .ok_or_else(|| {
                                StorageError::refused(
                                    "registered_elsewhere",
                                    format!(
                                        "{} 已在其他行政区划登记，不在您的管辖范围内",
                                        row.credit_code
                                    ),
                                    format!(
                                        "{} is registered in another jurisdiction",
                                        row.credit_code
                                    ),
                                )
                            })?;
                    update_in_tx(&mut tx, &mut chain, actor, &current, None, row, now).await?;
                    outcome.updated += 1;
                }
                None => {
                    insert_enterprise(&mut tx, &mut chain, &mut grams, actor, row, now).await?;
                    outcome.created += 1;
                }
            }
        }
        grams.flush(&mut tx).await?;
        chain.commit(tx).await?;
        if rows.len() >= 1_000 {
            // A bulk load changes the data's shape; keep the planner's statistics current.
            self.analyze().await?;
        }
        Ok(outcome)
    }
}

async fn fetch_in_tx(tx: &mut Tx, scope: &Scope, id: i64) -> Result<Option<EnterpriseRow>> {
    let mut sql = Sql::default();
    let mut conditions = where_clause(&mut sql, tx.backend(), scope, &EnterpriseFilter::default());
    conditions.push_str(&format!(" AND e.id = {}", sql.arg(Arg::Int(id))));
    let text = format!("{ROW_SELECT}{conditions}");
    Ok(on_tx!(tx, |conn| {
        bind_args!(sqlx::query_as(&text), &sql.args)
            .fetch_optional(conn)
            .await?
    }))
}

pub(crate) async fn insert_enterprise(
    tx: &mut Tx,
    chain: &mut Chain,
    grams: &mut NameGrams,
    actor: &Principal,
    enterprise: &ValidEnterprise,
    now: DateTime<Utc>,
) -> Result<i64> {
    if !actor.scope().may_manage_city(&enterprise.jurisdiction_code) {
        return Err(StorageError::refused(
            "outside_jurisdiction",
            format!(
                "在 {} 登记企业超出您的管辖范围",
                enterprise.jurisdiction_code
            ),
            format!(
                "registering enterprises in {} is not within your jurisdiction",
                enterprise.jurisdiction_code
            ),
        ));
    }
    let at = timestamp(now);
    let inserted = on_tx!(tx, |conn| {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO enterprises (credit_code, name, legal_representative, address, \
             jurisdiction_code, industry_code, size_class, key_emission_unit, permit_number, status, \
             search_text, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12) RETURNING id",
        )
        .bind(enterprise.credit_code.as_str())
        .bind(&enterprise.name)
        .bind(&enterprise.legal_representative)
        .bind(&enterprise.address)
        .bind(&enterprise.jurisdiction_code)
        .bind(&enterprise.industry_code)
        .bind(enterprise.size_class.as_str())
        .bind(enterprise.key_emission_unit)
        .bind(&enterprise.permit_number)
        .bind(enterprise.status.as_str())
        .bind(search_text(&enterprise.name, enterprise.credit_code.as_str()))
        .bind(&at)
        .fetch_one(conn)
        .await
    });
    let id = match inserted {
        Ok(id) => id,
        Err(error) if StorageError::is_unique_violation(&error) => {
            return Err(StorageError::Duplicate {
                field: "credit_code",
                value: enterprise.credit_code.as_str().to_string(),
            })
        }
        Err(error) => return Err(error.into()),
    };
    grams.add(tx, id, &enterprise.name).await?;
    let after = audit_json(enterprise);
    chain
        .append(
            tx,
            actor,
            "enterprise.create",
            ("enterprise", &id.to_string()),
            None,
            Some(&after),
            now,
        )
        .await?;
    Ok(id)
}

async fn update_in_tx(
    tx: &mut Tx,
    chain: &mut Chain,
    actor: &Principal,
    current: &EnterpriseRow,
    expected_version: Option<i64>,
    enterprise: &ValidEnterprise,
    now: DateTime<Utc>,
) -> Result<()> {
    if !actor.scope().may_manage_city(&current.jurisdiction_code)
        || !actor.scope().may_manage_city(&enterprise.jurisdiction_code)
    {
        return Err(StorageError::refused(
            "outside_jurisdiction",
            "修改该企业超出您的管辖范围",
            "changing this enterprise is not within your jurisdiction",
        ));
    }
    if let Some(expected) = expected_version {
        if expected != current.version {
            return Err(StorageError::VersionConflict {
                current: current.version,
            });
        }
    }
    let before = stored_json(current);
    let after = audit_json(enterprise);
    if before == after {
        // Nothing changes: no write, no version bump, no audit entry.
        return Ok(());
    }
    let updated = on_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE enterprises SET credit_code = $1, name = $2, legal_representative = $3, \
             address = $4, jurisdiction_code = $5, industry_code = $6, size_class = $7, \
             key_emission_unit = $8, permit_number = $9, status = $10, search_text = $11, \
             version = version + 1, updated_at = $12 WHERE id = $13 AND version = $14",
        )
        .bind(enterprise.credit_code.as_str())
        .bind(&enterprise.name)
        .bind(&enterprise.legal_representative)
        .bind(&enterprise.address)
        .bind(&enterprise.jurisdiction_code)
        .bind(&enterprise.industry_code)
        .bind(enterprise.size_class.as_str())
        .bind(enterprise.key_emission_unit)
        .bind(&enterprise.permit_number)
        .bind(enterprise.status.as_str())
        .bind(search_text(
            &enterprise.name,
            enterprise.credit_code.as_str(),
        ))
        .bind(timestamp(now))
        .bind(current.id)
        .bind(current.version)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    });
    match updated {
        Ok(0) => {
            return Err(StorageError::VersionConflict {
                current: current.version + 1,
            })
        }
        Ok(_) => {}
        Err(error) if StorageError::is_unique_violation(&error) => {
            return Err(StorageError::Duplicate {
                field: "credit_code",
                value: enterprise.credit_code.as_str().to_string(),
            })
        }
        Err(error) => return Err(error.into()),
    }
    if current.name != enterprise.name {
        delete_name_grams(tx, current.id, &current.name).await?;
        let mut grams = NameGrams::new();
        grams.add(tx, current.id, &enterprise.name).await?;
        grams.flush(tx).await?;
    }
    chain
        .append(
            tx,
            actor,
            "enterprise.update",
            ("enterprise", &current.id.to_string()),
            Some(&before),
            Some(&after),
            now,
        )
        .await
}

/// Name grams waiting to be written: they travel as one JSON array of `[gram, id]` pairs per
/// statement, so the statement text never changes (it stays prepared) and an import of 10,000
/// enterprises writes its quarter-million grams in a few hundred statements.
pub(crate) struct NameGrams {
    pending: Vec<(String, i64)>,
}

/// Grams per insert statement.
const GRAMS_PER_INSERT: usize = 4_000;

impl NameGrams {
    pub(crate) fn new() -> NameGrams {
        NameGrams {
            pending: Vec::new(),
        }
    }

    pub(crate) async fn add(&mut self, tx: &mut Tx, id: i64, name: &str) -> Result<()> {
        self.pending
            .extend(name_grams(name).into_iter().map(|gram| (gram, id)));
        if self.pending.len() >= GRAMS_PER_INSERT {
            self.flush(tx).await?;
        }
        Ok(())
    }

    /// Writes what is pending; callers flush before they commit.
    pub(crate) async fn flush(&mut self, tx: &mut Tx) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pairs = serde_json::to_string(&std::mem::take(&mut self.pending))
            .unwrap_or_else(|_| "[]".into());
        let text = match tx.backend() {
            Backend::Sqlite => {
                "INSERT INTO enterprise_name_grams (gram, enterprise_id) \
                 SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each($1)"
            }
            Backend::Postgres => {
                "INSERT INTO enterprise_name_grams (gram, enterprise_id) \
                 SELECT value->>0, (value->>1)::bigint FROM json_array_elements($1::json)"
            }
        };
        on_tx!(tx, |conn| {
            sqlx::query(text)
                .bind(&pairs)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(())
    }
}

/// Removes the grams of an enterprise's old name (by primary key: no second index needed).
async fn delete_name_grams(tx: &mut Tx, id: i64, old_name: &str) -> Result<()> {
    let grams = serde_json::to_string(&name_grams(old_name)).unwrap_or_else(|_| "[]".into());
    let text = match tx.backend() {
        Backend::Sqlite => {
            "DELETE FROM enterprise_name_grams WHERE enterprise_id = $1 \
             AND gram IN (SELECT value FROM json_each($2))"
        }
        Backend::Postgres => {
            "DELETE FROM enterprise_name_grams WHERE enterprise_id = $1 \
             AND gram IN (SELECT json_array_elements_text($2::json))"
        }
    };
    on_tx!(tx, |conn| {
        sqlx::query(text)
            .bind(id)
            .bind(&grams)
            .execute(conn)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(())
}

/// The audit JSON of a stored row, in the same shape as [`audit_json`].
fn stored_json(current: &EnterpriseRow) -> serde_json::Value {
    serde_json::to_value(current.draft()).unwrap_or(serde_json::Value::Null)
}

impl Db {
    /// Keeps an uploaded import until its owner confirms it after the preview.
    pub async fn stage_import(
        &self,
        owner: &Principal,
        file_name: &str,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let user_id = owner.user_id.ok_or_else(|| {
            StorageError::refused(
                "import_needs_user",
                "只有用户账号可以暂存导入文件",
                "imports are staged for users",
            )
        })?;
        let id = crate::auth::random_token();
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO pending_imports (id, user_id, file_name, payload, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(user_id)
            .bind(file_name)
            .bind(payload)
            .bind(timestamp(now))
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(id)
    }

    /// Removes and returns a staged import (file name, payload) if it belongs to the caller.
    pub async fn take_staged_import(
        &self,
        owner: &Principal,
        id: &str,
    ) -> Result<Option<(String, String)>> {
        let Some(user_id) = owner.user_id else {
            return Ok(None);
        };
        let mut tx = self.begin().await?;
        let found: Option<(String, String)> = on_tx!(&mut tx, |conn| {
            sqlx::query_as(
                "DELETE FROM pending_imports WHERE id = $1 AND user_id = $2 \
                 RETURNING file_name, payload",
            )
            .bind(id)
            .bind(user_id)
            .fetch_optional(conn)
            .await
        })?;
        tx.commit().await?;
        Ok(found)
    }
}

/// Enterprises per city within a scope, for the officials' start page.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CityCount {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub enterprises: i64,
    pub key_emission_units: i64,
}

impl Db {
    pub async fn enterprise_counts_by_city(&self, scope: &Scope) -> Result<Vec<CityCount>> {
        let mut sql = Sql::default();
        let conditions = where_clause(
            &mut sql,
            self.backend(),
            scope,
            &EnterpriseFilter::default(),
        );
        let text = format!(
            "SELECT j.code, j.name_zh, j.name_en, COUNT(*) AS enterprises, \
             SUM(CASE WHEN e.key_emission_unit THEN 1 ELSE 0 END) AS key_emission_units \
             FROM enterprises e JOIN jurisdictions j ON j.code = e.jurisdiction_code \
             JOIN industries i ON i.code = e.industry_code{conditions} \
             GROUP BY j.code, j.name_zh, j.name_en ORDER BY j.code"
        );
        Ok(on_pool!(self, |pool| {
            bind_args!(sqlx::query_as(&text), &sql.args)
                .fetch_all(pool)
                .await?
        }))
    }
}
