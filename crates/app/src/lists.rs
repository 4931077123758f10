//! Published lists: the province publishes the main batch from the approved plans or a
//! supplementary batch of 双超 enterprises, corrects a list by a new version, and the cities
//! issue the written notifications and record their delivery.

use chrono::{Datelike, NaiveDate};
use cpaudit_core::determination::Outcome;
use cpaudit_core::listing::clocks_from_publication;
use cpaudit_core::registry::Message;
use cpaudit_storage::auth::ScopeKind;
use cpaudit_storage::lists::{NewList, NewListEntry};
use cpaudit_storage::Principal;

use crate::cycle::{self, Determined};
use crate::input::{date_or, list_year, required_reason};
use crate::{App, Error, Result};

/// A list to publish: the main batch from the approved plans, or (with `supplementary`) the
/// 双超 enterprises found during the year.
#[derive(Debug, Clone, Default)]
pub struct PublishInput {
    pub year: i32,
    pub title: String,
    pub document_number: String,
    /// YYYY-MM-DD; default today. The clocks start the day after (民法典 Art. 201).
    pub published_on: Option<String>,
    pub supplementary: Vec<i64>,
}

/// Publishes a list (the province only); publication starts each listed enterprise's clocks.
/// Answers the list's id.
pub async fn publish(app: &App, principal: &Principal, input: &PublishInput) -> Result<i64> {
    if !matches!(principal.scope().kind(), ScopeKind::Province) {
        return Err(Error::Forbidden(Message::new(
            "名单由省级公布",
            "lists are published by the province",
        )));
    }
    let year = list_year(input.year)?;
    for (field, value) in [
        ("title", &input.title),
        ("document_number", &input.document_number),
    ] {
        if value.trim().is_empty() {
            return Err(Error::bad_field(
                field,
                "required",
                &format!("{field} 为必填项"),
                &format!("{field} is required"),
            ));
        }
    }
    let published_on = publication_day(app, year, input.published_on.as_deref())?;
    let entries = if input.supplementary.is_empty() {
        main_batch(app, principal, year, published_on).await?
    } else {
        supplementary_batch(app, principal, year, published_on, &input.supplementary).await?
    };
    Ok(app
        .db()
        .publish_list(
            principal,
            &NewList {
                list_year: year,
                supplementary: !input.supplementary.is_empty(),
                title: input.title.clone(),
                document_number: input.document_number.clone(),
                published_on,
                entries,
                round_policy: cycle::round_policy(app, published_on)?,
            },
            app.now(),
        )
        .await?)
}

/// Not after today, and in the list year or the year before.
fn publication_day(app: &App, year: i32, text: Option<&str>) -> Result<NaiveDate> {
    let today = app.today();
    let published_on = date_or("published_on", text, today)?;
    if published_on > today || published_on.year() < year - 1 || published_on.year() > year {
        return Err(Error::bad_field(
            "published_on",
            "out_of_range",
            "公布日期不能晚于今天，且应在名单年度或其前一年内",
            "published_on cannot be after today and must fall in the list year or the year before",
        ));
    }
    Ok(published_on)
}

async fn main_batch(
    app: &App,
    principal: &Principal,
    year: i32,
    published_on: NaiveDate,
) -> Result<Vec<NewListEntry>> {
    let approved = app.db().approved_plan_entries(principal, year).await?;
    if approved.is_empty() {
        return Err(Error::bad_field(
            "year",
            "nothing_approved",
            "该年度没有已核定的市州名单，不能公布",
            "no city plan of that year is approved yet",
        ));
    }
    let clocks = clocks_from_publication(published_on, app.rules(), app.calendar())?;
    Ok(approved
        .into_iter()
        .flat_map(|(_, entries)| entries)
        .map(|e| NewListEntry {
            enterprise_id: e.enterprise_id,
            reasons: e.reasons.0,
            toxic_categories: e.toxic_categories.0,
            due_year: e.due_year.and_then(|y| i32::try_from(y).ok()),
            clocks: clocks.clone(),
        })
        .collect())
}

async fn supplementary_batch(
    app: &App,
    principal: &Principal,
    year: i32,
    published_on: NaiveDate,
    ids: &[i64],
) -> Result<Vec<NewListEntry>> {
    let listed = app.db().listed_in_year(year).await?;
    let mut chosen = Vec::new();
    for id in ids {
        let item = cycle::determine_one(app, principal, *id, year, app.today()).await?;
        let d = &item.determination;
        let double_exceedance = d.reasons.iter().any(|r| r.is_double_exceedance());
        if listed.contains(id) || d.outcome != Outcome::MustAudit || !double_exceedance {
            return Err(Error::bad_field(
                "supplementary",
                "not_eligible",
                &format!("企业 {id} 不是本年度尚未列入名单的双超企业"),
                &format!("enterprise {id} is not a 双超 enterprise missing from this year's lists"),
            ));
        }
        chosen.push(item);
    }
    let refs: Vec<&Determined> = chosen.iter().collect();
    cycle::list_entries(app, &refs, published_on)
}

/// Corrects a published list by a new version naming the old one, with a reason (the list
/// itself stays frozen). Answers the new version's id.
pub async fn correct(
    app: &App,
    principal: &Principal,
    list_id: i64,
    remove: &[i64],
    reason: &str,
) -> Result<i64> {
    required_reason("reason", reason)?;
    Ok(app
        .db()
        .correct_list(principal, list_id, remove, reason, app.now())
        .await?)
}

/// Issues the caller's city's written notifications for a list, one per enterprise, numbered
/// from `number_prefix`, dated between the publication and today. Answers how many.
pub async fn issue_letters(
    app: &App,
    principal: &Principal,
    list_id: i64,
    number_prefix: &str,
    issued_on: Option<&str>,
) -> Result<usize> {
    if number_prefix.trim().is_empty() {
        return Err(Error::bad_field(
            "number_prefix",
            "required",
            "请填写发文字号前缀",
            "the document number prefix is required",
        ));
    }
    let today = app.today();
    let issued_on = date_or("issued_on", issued_on, today)?;
    let list = app
        .db()
        .published_list(list_id)
        .await?
        .ok_or(Error::NotFound)?;
    let published_on = list.published_on;
    if issued_on > today || issued_on < published_on {
        return Err(Error::bad_field(
            "issued_on",
            "out_of_range",
            "发文日期应在名单公布日期与今天之间",
            "issued_on must fall between the list's publication date and today",
        ));
    }
    Ok(app
        .db()
        .issue_letters(
            principal,
            list_id,
            number_prefix.trim(),
            issued_on,
            app.now(),
        )
        .await?)
}

/// How a letter reached its enterprise.
#[derive(Debug, Clone, Default)]
pub struct DeliveryInput {
    /// YYYY-MM-DD, not after today; default today.
    pub delivered_on: String,
    /// Required (by hand, by post, electronically…).
    pub method: String,
    pub note: String,
}

/// Records the delivery of a letter (the issuing city).
pub async fn record_delivery(
    app: &App,
    principal: &Principal,
    letter_id: i64,
    input: &DeliveryInput,
) -> Result<()> {
    let today = app.today();
    let delivered_on = date_or("delivered_on", Some(&input.delivered_on), today)?;
    if delivered_on > today {
        return Err(Error::bad_field(
            "delivered_on",
            "in_future",
            "送达日期不能晚于今天",
            "delivered_on cannot be after today",
        ));
    }
    if input.method.trim().is_empty() {
        return Err(Error::bad_field(
            "method",
            "required",
            "请填写送达方式",
            "the delivery method is required",
        ));
    }
    app.db()
        .record_delivery(
            principal,
            letter_id,
            delivered_on,
            &input.method,
            &input.note,
            app.now(),
        )
        .await?;
    Ok(())
}
