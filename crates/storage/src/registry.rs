//! Reference data (jurisdictions, industries), the records around enterprises (outlets,
//! devices, parks, consultancies, experts), and loading the demo data set.

use chrono::{DateTime, Utc};
use cpaudit_core::demo::DemoData;
use cpaudit_core::reference::ReferenceData;
use serde::Serialize;

use crate::audit::Chain;
use crate::auth::ScopeKind;
use crate::enterprises::{insert_enterprise, NameGrams};
use crate::{on_pool, on_tx, timestamp, Db, Principal, Result, Scope, StorageError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct JurisdictionRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub level: String,
    pub parent_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct IndustryRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub key_industry_id: Option<String>,
    pub key_industry_name_zh: Option<String>,
    pub key_industry_name_en: Option<String>,
    pub province_industry_id: Option<String>,
    pub province_industry_name_zh: Option<String>,
    pub province_industry_name_en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct KeyIndustryRow {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ParkRow {
    pub id: i64,
    pub name: String,
    pub jurisdiction_code: String,
    pub members: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConsultancyRow {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    pub jurisdiction_code: String,
    pub contact: String,
}

/// What the demo loader created, for the start-up banner and for binding demo users.
#[derive(Debug, Clone, Default)]
pub struct DemoIds {
    pub enterprises: Vec<i64>,
    pub consultancies: Vec<i64>,
    pub experts: Vec<i64>,
}

impl Db {
    /// Writes the reference data (insert or update by code), so a new rule-file version takes
    /// effect at start. Not audited: it is configuration shipped with the binary, versioned in
    /// the repository.
    pub async fn load_reference(&self, reference: &ReferenceData) -> Result<()> {
        let mut tx = self.begin().await?;
        // Parents first: the province before its cities.
        let mut jurisdictions: Vec<_> = reference.jurisdictions.iter().collect();
        jurisdictions.sort_by_key(|j| j.parent.is_some());
        for j in jurisdictions {
            let level = match j.level {
                cpaudit_core::registry::JurisdictionLevel::Province => "province",
                cpaudit_core::registry::JurisdictionLevel::City => "city",
            };
            on_tx!(&mut tx, |conn| {
                sqlx::query(
                    "INSERT INTO jurisdictions (code, name_zh, name_en, level, parent_code) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET \
                     name_zh = excluded.name_zh, name_en = excluded.name_en, \
                     level = excluded.level, parent_code = excluded.parent_code",
                )
                .bind(&j.code)
                .bind(&j.name_zh)
                .bind(&j.name_en)
                .bind(level)
                .bind(&j.parent)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
            })?;
        }
        for k in &reference.key_industries {
            let aliases = serde_json::to_string(&k.aliases).unwrap_or_else(|_| "[]".into());
            upsert_named(
                &mut tx,
                "key_industries",
                &k.id,
                &k.name_zh,
                &k.name_en,
                Some(&aliases),
            )
            .await?;
        }
        for p in &reference.province_industries {
            upsert_named(
                &mut tx,
                "province_industries",
                &p.id,
                &p.name_zh,
                &p.name_en,
                None,
            )
            .await?;
        }
        for i in &reference.industries {
            on_tx!(&mut tx, |conn| {
                sqlx::query(
                    "INSERT INTO industries (code, name_zh, name_en, key_industry_id, \
                     province_industry_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE \
                     SET name_zh = excluded.name_zh, name_en = excluded.name_en, \
                     key_industry_id = excluded.key_industry_id, \
                     province_industry_id = excluded.province_industry_id",
                )
                .bind(&i.code)
                .bind(&i.name_zh)
                .bind(&i.name_en)
                .bind(&i.key_industry)
                .bind(&i.province_industry)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
            })?;
        }
        tx.commit().await
    }

    /// The province and its city-level units (public reference data).
    pub async fn list_jurisdictions(&self) -> Result<Vec<JurisdictionRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT code, name_zh, name_en, level, parent_code FROM jurisdictions ORDER BY code",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// Industry classes with their key industry and province-organized industry (public).
    pub async fn list_industries(&self) -> Result<Vec<IndustryRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT i.code, i.name_zh, i.name_en, i.key_industry_id, \
                 k.name_zh AS key_industry_name_zh, k.name_en AS key_industry_name_en, \
                 i.province_industry_id, p.name_zh AS province_industry_name_zh, \
                 p.name_en AS province_industry_name_en FROM industries i \
                 LEFT JOIN key_industries k ON k.id = i.key_industry_id \
                 LEFT JOIN province_industries p ON p.id = i.province_industry_id ORDER BY i.code",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// The key industries (public).
    pub async fn list_key_industries(&self) -> Result<Vec<KeyIndustryRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as("SELECT id, name_zh, name_en FROM key_industries ORDER BY id")
                .fetch_all(pool)
                .await?
        }))
    }

    /// Parks within the scope (province: all; city: its own).
    pub async fn list_parks(&self, scope: &Scope) -> Result<Vec<ParkRow>> {
        let city = registry_city(scope)?;
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT p.id, p.name, p.jurisdiction_code, COUNT(m.enterprise_id) AS members \
                 FROM parks p LEFT JOIN park_members m ON m.park_id = p.id \
                 WHERE ($1 IS NULL OR p.jurisdiction_code = $1) \
                 GROUP BY p.id, p.name, p.jurisdiction_code ORDER BY p.name",
            )
            .bind(&city)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Consultancies (province and cities see all: they are engaged across cities).
    pub async fn list_consultancies(&self, scope: &Scope) -> Result<Vec<ConsultancyRow>> {
        registry_city(scope)?;
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, name, credit_code, jurisdiction_code, contact FROM consultancies \
                 ORDER BY name",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// The directory of consultancies, by name: what each makes public to be engaged (name,
    /// credit code, city, contact), so that an enterprise can choose one; the read needs no
    /// scope, as [`Db::consultancy`].
    pub async fn consultancy_directory(&self) -> Result<Vec<ConsultancyRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, name, credit_code, jurisdiction_code, contact FROM consultancies \
                 ORDER BY name, id",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// One consultancy of the directory by id. What it returns (name, credit code, city,
    /// contact) is what a consultancy makes public to be engaged, so the read needs no scope;
    /// the callers decide who may act on it.
    pub async fn consultancy(&self, id: i64) -> Result<Option<ConsultancyRow>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, name, credit_code, jurisdiction_code, contact FROM consultancies \
                 WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Whether the database holds no enterprises yet (the demo loads only into an empty one).
    pub async fn is_empty(&self) -> Result<bool> {
        let count: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM enterprises")
                .fetch_one(pool)
                .await
        })?;
        Ok(count == 0)
    }

    /// Loads a generated data set in one transaction, audited as the console operator's work.
    pub async fn load_demo(
        &self,
        actor: &Principal,
        data: &DemoData,
        now: DateTime<Utc>,
    ) -> Result<DemoIds> {
        let mut tx = self.begin().await?;
        let mut chain = Chain::open(&mut tx).await?;
        let mut grams = NameGrams::new();
        let mut ids = DemoIds::default();
        let at = timestamp(now);
        for demo in &data.enterprises {
            let id = insert_enterprise(
                &mut tx,
                &mut chain,
                &mut grams,
                actor,
                &demo.enterprise,
                now,
            )
            .await?;
            for outlet in &demo.outlets {
                insert_outlet(&mut tx, id, &demo.enterprise.industry_code, outlet, &at).await?;
            }
            ids.enterprises.push(id);
        }
        for park in &data.parks {
            let park_id: i64 = on_tx!(&mut tx, |conn| {
                sqlx::query_scalar(
                    "INSERT INTO parks (name, jurisdiction_code) VALUES ($1, $2) RETURNING id",
                )
                .bind(&park.name)
                .bind(&park.jurisdiction_code)
                .fetch_one(conn)
                .await
            })?;
            for member in &park.members {
                let enterprise_id = ids.enterprises[*member];
                on_tx!(&mut tx, |conn| {
                    sqlx::query("INSERT INTO park_members (park_id, enterprise_id) VALUES ($1, $2)")
                        .bind(park_id)
                        .bind(enterprise_id)
                        .execute(conn)
                        .await
                        .map(|done| done.rows_affected())
                })?;
            }
        }
        for consultancy in &data.consultancies {
            let id: i64 = on_tx!(&mut tx, |conn| {
                sqlx::query_scalar(
                    "INSERT INTO consultancies (name, credit_code, jurisdiction_code, contact) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(&consultancy.name)
                .bind(consultancy.credit_code.as_str())
                .bind(&consultancy.jurisdiction_code)
                .bind(&consultancy.contact)
                .fetch_one(conn)
                .await
            })?;
            ids.consultancies.push(id);
        }
        for expert in &data.experts {
            let specialties = serde_json::to_string(&expert.specialties).unwrap_or_default();
            let id: i64 = on_tx!(&mut tx, |conn| {
                sqlx::query_scalar(
                    "INSERT INTO experts (name, title, employer, specialties, jurisdiction_code, \
                     id_number_masked, pool_number) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&expert.name)
                .bind(&expert.title)
                .bind(&expert.employer)
                .bind(&specialties)
                .bind(&expert.jurisdiction_code)
                .bind(&expert.id_number_masked)
                // Pool numbers in order of admission: what published draws show until the
                // review is finished.
                .bind(i64::try_from(ids.experts.len() + 1).unwrap_or(i64::MAX))
                .fetch_one(conn)
                .await
            })?;
            ids.experts.push(id);
            insert_demo_employment(&mut tx, data, &ids, id, &expert.employer, &at).await?;
        }
        // Consultancy c is engaged by enterprises c, c + n, c + 2n, … (six each), so that every
        // consultancy has clients and the set stays the same for a given seed.
        let n = ids.consultancies.len().max(1);
        for (index, enterprise_id) in ids.enterprises.iter().enumerate().take(6 * n) {
            on_tx!(&mut tx, |conn| {
                sqlx::query(
                    "INSERT INTO engagements (consultancy_id, enterprise_id, since) \
                     VALUES ($1, $2, $3)",
                )
                .bind(ids.consultancies[index % n])
                .bind(*enterprise_id)
                .bind(&at)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
            })?;
        }
        grams.flush(&mut tx).await?;
        chain.commit(tx).await?;
        self.analyze().await?;
        Ok(ids)
    }
}

async fn upsert_named(
    tx: &mut Tx,
    table: &str,
    id: &str,
    name_zh: &str,
    name_en: &str,
    aliases: Option<&str>,
) -> Result<()> {
    let (columns, values, update) = match aliases {
        Some(_) => (", aliases", ", $4", ", aliases = excluded.aliases"),
        None => ("", "", ""),
    };
    let sql = format!(
        "INSERT INTO {table} (id, name_zh, name_en{columns}) VALUES ($1, $2, $3{values}) \
         ON CONFLICT (id) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en{update}"
    );
    on_tx!(tx, |conn| {
        let mut query = sqlx::query(&sql).bind(id).bind(name_zh).bind(name_en);
        if let Some(aliases) = aliases {
            query = query.bind(aliases);
        }
        query.execute(conn).await.map(|done| done.rows_affected())
    })?;
    Ok(())
}

async fn insert_outlet(
    tx: &mut Tx,
    enterprise_id: i64,
    industry_code: &str,
    outlet: &cpaudit_core::demo::DemoOutlet,
    at: &str,
) -> Result<()> {
    let outlet_id: i64 = on_tx!(tx, |conn| {
        sqlx::query_scalar(
            "INSERT INTO outlets (enterprise_id, kind, code, name) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(enterprise_id)
        .bind(outlet.kind.as_str())
        .bind(&outlet.code)
        .bind(&outlet.name)
        .fetch_one(conn)
        .await
    })?;
    // The standard the demo outlet is judged by (online monitoring).
    let binding = cpaudit_core::demo::outlet_binding(industry_code, outlet);
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO outlet_standards (outlet_id, standard, source_class, special_limits, \
             set_by, set_at) VALUES ($1, $2, $3, $4, 'console:demo', $5)",
        )
        .bind(outlet_id)
        .bind(&binding.standard)
        .bind(&binding.source_class)
        .bind(binding.special_limits)
        .bind(at)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    for mn in &outlet.devices {
        on_tx!(tx, |conn| {
            sqlx::query("INSERT INTO devices (outlet_id, mn, created_at) VALUES ($1, $2, $3)")
                .bind(outlet_id)
                .bind(mn)
                .bind(at)
                .execute(conn)
                .await
                .map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

/// The city a registry listing is limited to: `None` for the province, the city's code for a
/// city user; other roles do not list registry records.
fn registry_city(scope: &Scope) -> Result<Option<String>> {
    match scope.kind() {
        ScopeKind::Province => Ok(None),
        ScopeKind::City(code) => Ok(Some(code.clone())),
        _ => Err(StorageError::refused(
            "officials_only",
            "登记名录仅限生态环境主管部门查看",
            "registry lists are for officials",
        )),
    }
}

/// An expert whose employer is a demo enterprise or consultancy works there now (since five
/// years), so the conflict rules have something to exclude in a demo draw.
async fn insert_demo_employment(
    tx: &mut Tx,
    data: &DemoData,
    ids: &DemoIds,
    expert_id: i64,
    employer: &str,
    at: &str,
) -> Result<()> {
    let enterprise = data
        .enterprises
        .iter()
        .position(|e| e.enterprise.name == employer)
        .and_then(|index| ids.enterprises.get(index).copied());
    let consultancy = data
        .consultancies
        .iter()
        .position(|c| c.name == employer)
        .and_then(|index| ids.consultancies.get(index).copied());
    if enterprise.is_none() && consultancy.is_none() {
        return Ok(());
    }
    let since = chrono::DateTime::parse_from_rfc3339(at)
        .map(|at| at.date_naive() - chrono::Duration::days(5 * 365))
        .map(|day| day.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    on_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO expert_employment (expert_id, enterprise_id, consultancy_id, starts_on) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(expert_id)
        .bind(enterprise)
        .bind(consultancy)
        .bind(&since)
        .execute(conn)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(())
}
