//! The demo's audit rounds in every state: after the demo list is published (every round
//! `listed`), a fixed set of rounds is walked through its steps by the same code the pages and
//! the API call (disclosure, start filing, phases, documents, options, draws, score sheets and
//! the organizer's transitions), each step on a plausible day between publication and now.
//!
//! The steps are spaced evenly over the time since publication (at most a month apart); when
//! too few days have passed for a walk (a demo made in the first days of January), that round
//! stops short of its target and a warning is logged.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cpaudit_app::draws::{FreezeInput, RunInput};
use cpaudit_app::options::{OptionInput, StatusInput, ValueInput, ValuesInput};
use cpaudit_app::reviews::SheetInput;
use cpaudit_app::rounds::{ActionInput, DisclosureInput, PhaseInput, StartFilingInput};
use cpaudit_app::{App, Clock, SystemAuthority};
use cpaudit_core::draw::RandomSource;
use cpaudit_core::options::Stage;
use cpaudit_core::round::{DocumentKind, RoundState, Track};
use cpaudit_storage::documents::NewDocument;
use cpaudit_storage::evidence::date_text;
use cpaudit_storage::rounds::RoundRow;
use cpaudit_storage::{Db, InScope, Principal, Role};

/// Where a demo round is walked to, in the order the rounds are picked.
const TARGETS: [(RoundState, Track); 12] = [
    (RoundState::Disclosed, Track::Standard),
    (RoundState::Started, Track::Standard),
    (RoundState::ReportSubmitted, Track::Standard),
    (RoundState::AssessmentScheduled, Track::Standard),
    (RoundState::Rectifying, Track::Standard),
    (RoundState::Assessed, Track::Standard),
    (RoundState::AcceptanceApplied, Track::Standard),
    (RoundState::AcceptanceScheduled, Track::Standard),
    (RoundState::Accepted, Track::Standard),
    (RoundState::Closed, Track::Standard),
    (RoundState::Closed, Track::SmallMicro),
    (RoundState::Cancelled, Track::Standard),
];

/// The walk's days: step `n` happens `n` gaps after publication.
struct Days {
    published_on: NaiveDate,
    gap: i64,
    today: NaiveDate,
}

impl Days {
    fn new(published_on: NaiveDate, today: NaiveDate) -> Self {
        let span = (today - published_on).num_days();
        Self {
            published_on,
            gap: (span / 4).clamp(1, 30),
            today,
        }
    }

    fn day(&self, step: i64) -> Option<NaiveDate> {
        Some(self.published_on + Duration::days(step * self.gap)).filter(|d| *d <= self.today)
    }
}

/// A clock set by the walk: each step is taken on its day, at 10:00 Beijing time.
struct WalkClock(std::sync::Mutex<DateTime<Utc>>);

impl Clock for WalkClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("walk clock")
    }
}

struct Walk {
    app: App,
    clock: Arc<WalkClock>,
    days: Days,
    organizer: Principal,
}

/// Walks a chosen set of the published list's rounds into every state; returns the rounds by
/// state, for the start-up line.
pub async fn walk_demo_rounds(
    db: &Db,
    reference: &cpaudit_core::reference::ReferenceData,
    published_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<BTreeMap<&'static str, Vec<i64>>> {
    let today = cpaudit_storage::evidence::china_date(now);
    let clock = Arc::new(WalkClock(std::sync::Mutex::new(now)));
    let walk = Walk {
        app: App::new(db.clone(), reference.clone(), clock.clone()),
        clock,
        days: Days::new(published_on, today),
        organizer: SystemAuthority::console("demo").principal().clone(),
    };
    let rounds = pick_rounds(db).await?;
    let mut walked = BTreeMap::new();
    for (target, round) in rounds {
        match walk.to(&round, target).await {
            Ok(()) => walked
                .entry(target.as_str())
                .or_insert_with(Vec::new)
                .push(round.id),
            Err(error) => {
                tracing::warn!(round = round.id, %error, "demo round stopped short of its target state")
            }
        }
    }
    walk.set_day(today, now);
    if let Some(round) = order_for_overdue_disclosure(&walk, today).await? {
        walked
            .entry("enforcement")
            .or_insert_with(Vec::new)
            .push(round);
    }
    Ok(walked)
}

/// The enforcement case: the first listed round (not round 1) whose disclosure is overdue gets
/// its city's order to publish (促进法 Art. 36), to be corrected within a month.
async fn order_for_overdue_disclosure(walk: &Walk, today: NaiveDate) -> Result<Option<i64>> {
    let operator = SystemAuthority::console("demo").principal().clone();
    let overdue = walk
        .app
        .db()
        .list_rounds(
            operator.scope(),
            &cpaudit_storage::rounds::RoundFilter {
                state: Some(RoundState::Listed),
                overdue_on: Some(today),
                limit: 10,
                ..Default::default()
            },
        )
        .await?;
    let Some(row) = overdue.into_iter().find(|row| row.round.id != 1) else {
        return Ok(None);
    };
    let city = SystemAuthority::console("demo").acting_for_city(&row.round.jurisdiction_code);
    let input = cpaudit_app::enforcement::EnforcementInput {
        kind: "order_to_correct".into(),
        basis: "penalty.law_36".into(),
        reason: "列入名单后逾期未公布企业相关信息（演示）".into(),
        document_number: "演示责改〔2026〕1号".into(),
        correct_by: cpaudit_storage::evidence::date_text(today + chrono::Duration::days(30)),
        ..Default::default()
    };
    cpaudit_app::enforcement::decide(&walk.app, &city, row.round.id, &input)
        .await
        .map_err(|error| anyhow::anyhow!("demo enforcement: {error:?}"))?;
    Ok(Some(row.round.id))
}

/// One round per target: round 1 stays listed (tests and the demo city user start there);
/// the others are taken in id order, the small/micro target from the small/micro track.
async fn pick_rounds(db: &Db) -> Result<Vec<(RoundState, InScope<RoundRow>)>> {
    let scope = SystemAuthority::console("demo").principal().clone();
    let mut rounds = Vec::new();
    let mut id = 2;
    while let Some(round) = db.get_round(scope.scope(), id).await? {
        rounds.push(round);
        id += 1;
    }
    let mut picked = Vec::new();
    for (target, track) in TARGETS {
        // Only enterprises of a key industry, since a panel needs a member of that industry.
        if let Some(index) = rounds
            .iter()
            .position(|r| r.track == track && r.key_industry_id.is_some())
        {
            picked.push((target, rounds.remove(index)));
        }
    }
    Ok(picked)
}

fn pdf(title: &str, round_id: i64) -> Vec<u8> {
    format!("%PDF-1.4\n% cpaudit demo: {title}, round {round_id}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
        .into_bytes()
}

fn action(name: &str) -> ActionInput {
    ActionInput {
        action: name.into(),
        reason: String::new(),
        attachments: Vec::new(),
        meeting_on: String::new(),
        place: String::new(),
        opinion_number: String::new(),
    }
}

impl Walk {
    fn set_day(&self, day: NaiveDate, fallback: DateTime<Utc>) {
        let at = chrono::FixedOffset::east_opt(8 * 3600)
            .and_then(|beijing| {
                beijing
                    .from_local_datetime(&day.and_hms_opt(10, 0, 0)?)
                    .single()
            })
            .map_or(fallback, |t| t.with_timezone(&Utc));
        *self.clock.0.lock().expect("walk clock") = at;
    }

    /// Moves the clock to the walk's step `n`; refused when that day is still to come.
    fn on_step(&self, step: i64) -> Result<()> {
        let day = self
            .days
            .day(step)
            .ok_or_else(|| anyhow!("step {step} would fall after today"))?;
        self.set_day(day, Utc::now());
        Ok(())
    }

    fn today(&self) -> String {
        date_text(self.app.today())
    }

    async fn round(&self, id: i64) -> Result<InScope<RoundRow>> {
        self.app
            .db()
            .get_round(self.organizer.scope(), id)
            .await?
            .ok_or_else(|| anyhow!("round {id} vanished"))
    }

    /// The organizer's steps are the organizer's: the province, or the round's city.
    fn organizer_of(&self, round: &RoundRow) -> Principal {
        if round.organizer_code.ends_with("0000") {
            self.organizer.clone()
        } else {
            SystemAuthority::console("demo").acting_for_city(&round.organizer_code)
        }
    }

    async fn act(&self, who: &Principal, round_id: i64, input: &ActionInput) -> Result<()> {
        let organizer;
        let who = if std::ptr::eq(who, &self.organizer) {
            organizer = self.organizer_of(&*self.round(round_id).await?);
            &organizer
        } else {
            who
        };
        cpaudit_app::rounds::take_action(&self.app, who, round_id, input)
            .await
            .map(|_| ())
            .map_err(|error| anyhow!("{error:?}"))
    }

    async fn to(&self, round: &InScope<RoundRow>, target: RoundState) -> Result<()> {
        let filer =
            SystemAuthority::console("demo").acting_for(Role::Enterprise, round.enterprise_id);
        if target == RoundState::Cancelled {
            self.on_step(1)?;
            let mut cancel = action("cancel");
            cancel.reason = "企业已关停注销，不再具备开展清洁生产审核的条件（演示）".into();
            return self.act(&self.organizer, round.id, &cancel).await;
        }
        self.on_step(1)?;
        self.disclose(&filer, round).await?;
        if target == RoundState::Disclosed {
            return Ok(());
        }
        self.start(&filer, round.id).await?;
        self.phases(&filer, round.id, 1..=3).await?;
        self.document(&filer, round.id, DocumentKind::WorkPlan, "审核工作计划")
            .await?;
        if target == RoundState::Started {
            return Ok(());
        }
        self.report(&filer, round).await?;
        if target == RoundState::ReportSubmitted {
            return Ok(());
        }
        self.review(round.id, 2).await?;
        if target == RoundState::AssessmentScheduled {
            return Ok(());
        }
        if round.track == Track::SmallMicro {
            self.decide(round.id, "decide_qualified", 0.9).await?;
            return self.close(&filer, round.id, 6).await;
        }
        if target == RoundState::Rectifying {
            return self.decide(round.id, "decide_rectify", 0.72).await;
        }
        self.decide(round.id, "decide_pass", 0.88).await?;
        if target == RoundState::Assessed {
            return Ok(());
        }
        self.apply_acceptance(&filer, round.id).await?;
        if target == RoundState::AcceptanceApplied {
            return Ok(());
        }
        self.review(round.id, 3).await?;
        if target == RoundState::AcceptanceScheduled {
            return Ok(());
        }
        self.verify_options(round.id).await?;
        self.decide(round.id, "decide_qualified", 0.9).await?;
        if target == RoundState::Accepted {
            return Ok(());
        }
        self.close(&filer, round.id, 7).await
    }

    async fn disclose(&self, filer: &Principal, round: &InScope<RoundRow>) -> Result<()> {
        let reasons = &round.reasons.0;
        let (items, _) =
            cpaudit_core::disclosure::required_items(self.app.rules(), reasons, self.app.today())
                .map_err(|error| anyhow!("{error:?}"))?;
        let input = DisclosureInput {
            items: items
                .iter()
                .map(|item| {
                    (
                        item.key().to_string(),
                        format!("见企业官网公开文本（演示）：{}", item.key()),
                    )
                })
                .collect(),
            channel: "企业官网".into(),
            channel_detail: format!(
                "https://example.com/demo/{}/disclosure",
                round.enterprise_id
            ),
            secrets: BTreeMap::new(),
        };
        cpaudit_app::rounds::save_disclosure(&self.app, filer, round.id, &input)
            .await
            .map_err(|error| anyhow!("{error:?}"))?;
        self.act(filer, round.id, &action("disclose")).await
    }

    async fn start(&self, filer: &Principal, round_id: i64) -> Result<()> {
        let input = StartFilingInput {
            mode: "self".into(),
            consultancy_id: None,
            team:
                "张明，副总经理，组长\n李华，环保科科长，物料平衡\n王强，设备科工程师，能量和水平衡"
                    .into(),
            work_plan:
                "一月审核准备和预审核；二月审核；三月方案的产生、筛选和确定；其后实施方案（演示）"
                    .into(),
            art15_instruments: "企业化验室水质、废气检测设备；电能、水计量器具三级配备（演示）"
                .into(),
            art15_staff: "生产、设备、环保技术人员各二名，均熟悉工艺规程和污染防治要求（演示）"
                .into(),
        };
        cpaudit_app::rounds::save_start(&self.app, filer, round_id, &input)
            .await
            .map_err(|error| anyhow!("{error:?}"))?;
        self.act(filer, round_id, &action("file_start")).await
    }

    async fn phases(
        &self,
        filer: &Principal,
        round_id: i64,
        numbers: std::ops::RangeInclusive<i64>,
    ) -> Result<()> {
        for phase in numbers {
            let input = PhaseInput {
                phase,
                started_on: self.today(),
                completed_on: self.today(),
                summary: format!("第{phase}阶段工作已完成（演示）"),
                attachments: Vec::new(),
            };
            cpaudit_app::rounds::record_phase(&self.app, filer, round_id, &input)
                .await
                .map_err(|error| anyhow!("{error:?}"))?;
        }
        Ok(())
    }

    async fn document(
        &self,
        filer: &Principal,
        round_id: i64,
        kind: DocumentKind,
        title: &str,
    ) -> Result<()> {
        let bytes = pdf(title, round_id);
        let file_name = format!("{title}.pdf");
        let round = self.round(round_id).await?;
        self.app
            .db()
            .upload_document(
                filer,
                &round,
                &NewDocument {
                    kind,
                    file_name: &file_name,
                    content_type: "application/pdf",
                    content: &bytes,
                    note: "",
                },
                None,
                self.app.now(),
            )
            .await
            .map(|_| ())
            .map_err(|error| anyhow!("{error:?}"))
    }

    /// Phases 1–5, the report and its evidence, two options with expected values, submitted.
    async fn report(&self, filer: &Principal, round: &InScope<RoundRow>) -> Result<()> {
        self.phases(filer, round.id, 4..=5).await?;
        self.document(
            filer,
            round.id,
            DocumentKind::AuditReport,
            "清洁生产审核报告",
        )
        .await?;
        self.document(
            filer,
            round.id,
            DocumentKind::TechnicalEvidence,
            "技术佐证材料",
        )
        .await?;
        let options = [
            ("F-01", "空压机余热回收", "no_low", "3.5", "energy", "42"),
            (
                "F-02",
                "脱硝系统提标改造",
                "medium_high",
                "180",
                "nox",
                "12.6",
            ),
        ];
        let current = self.round(round.id).await?;
        for (code, name, cost_class, investment, indicator, quantity) in options {
            let input = OptionInput {
                code: code.into(),
                name: name.into(),
                cost_class: cost_class.into(),
                description: format!("{name}（演示）"),
                investment_10k_yuan: investment.into(),
                expected: vec![ValueInput {
                    indicator: indicator.into(),
                    quantity: quantity.into(),
                    unit: String::new(),
                    basis: "按审核期间实测数据估算（演示）".into(),
                }],
            };
            cpaudit_app::options::create(&self.app, filer, &current, input)
                .await
                .map_err(|error| anyhow!("{error:?}"))?;
        }
        self.act(filer, round.id, &action("submit_report")).await
    }

    /// Freezes a draw on step `step`, runs it the next day with sources of that day, seats the
    /// panel and schedules the review for that day; the panel scores nothing yet.
    async fn review(&self, round_id: i64, step: i64) -> Result<()> {
        self.on_step(step)?;
        let freeze_day = self.app.today();
        let run_day = freeze_day + Duration::days(1);
        let draw_id = cpaudit_app::draws::freeze(
            &self.app,
            &self.organizer,
            &FreezeInput {
                kind: None,
                round_id: None,
                enterprise_id: None,
                audit_round_id: Some(round_id),
                review_on: date_text(run_day),
            },
        )
        .await
        .map_err(|error| anyhow!("{error:?}"))?;
        if self.days.today < run_day {
            return Err(anyhow!("the draw would run after today"));
        }
        self.set_day(run_day, Utc::now());
        let sources: Vec<RandomSource> = serde_json::from_value(serde_json::json!([
            {"name": "中国福利彩票双色球开奖号码（红球）", "drawn_on": date_text(run_day),
             "values": ["3", "8", "15", "21", "27", "32"]},
            {"name": "深圳证券交易所成份指数收盘点位", "drawn_on": date_text(run_day),
             "values": [format!("{}.{:02}", 10_000 + round_id * 7, round_id % 100)]}
        ]))?;
        cpaudit_app::draws::run(&self.app, &self.organizer, draw_id, &RunInput { sources })
            .await
            .map_err(|error| anyhow!("{error:?}"))?;
        let draw = cpaudit_app::draws::draw_in_scope(&self.app, draw_id)
            .await
            .map_err(|error| anyhow!("{error:?}"))?;
        let accept = cpaudit_app::draws::Answer {
            accept: true,
            no_conflict: true,
            reason: String::new(),
        };
        for seat in self.app.db().assignments(&draw).await? {
            if seat.role == cpaudit_storage::draws::SeatRole::Panel {
                let expert =
                    SystemAuthority::console("demo").acting_for(Role::Expert, seat.expert_id);
                cpaudit_app::draws::respond(&self.app, &expert, draw_id, &accept)
                    .await
                    .map_err(|error| anyhow!("{error:?}"))?;
            }
        }
        let mut schedule = action("schedule_review");
        schedule.meeting_on = date_text(run_day);
        schedule.place = "甘肃省生态环境厅第三会议室（演示）".into();
        self.act(&self.organizer, round_id, &schedule).await
    }

    /// Every seated expert scores `share` of each item's points; the organizer decides.
    async fn decide(&self, round_id: i64, decision: &str, share: f64) -> Result<()> {
        let round = self.round(round_id).await?;
        let review = self
            .app
            .db()
            .latest_review(&round)
            .await?
            .ok_or_else(|| anyhow!("no review scheduled"))?;
        let form = cpaudit_app::reviews::form_of(&review).map_err(|error| anyhow!("{error:?}"))?;
        for seat in self.app.db().review_panel(&review).await? {
            let expert = SystemAuthority::console("demo").acting_for(Role::Expert, seat.expert_id);
            let sheet = SheetInput {
                items: form
                    .items
                    .iter()
                    .map(|item| (item.id.clone(), (f64::from(item.max) * share).round()))
                    .collect(),
                vetoes: Vec::new(),
                opinion: "材料齐全，数据基本可信（演示）".into(),
            };
            cpaudit_app::reviews::submit(&self.app, &expert, review.id, sheet)
                .await
                .map_err(|error| anyhow!("{error:?}"))?;
        }
        let mut decide = action(decision);
        decide.reason = if decision == "decide_rectify" {
            "中/高费方案的可行性分析不充分，须补充后重新报送（演示）".into()
        } else {
            "专家组评审通过（演示）".into()
        };
        self.act(&self.organizer, round_id, &decide).await
    }

    /// Both options implemented, monitoring before and after and the acceptance report on file.
    async fn apply_acceptance(&self, filer: &Principal, round_id: i64) -> Result<()> {
        self.on_step(3)?;
        let round = self.round(round_id).await?;
        let sheet = self.app.db().option_sheet(&round).await?;
        for entry in &sheet.options {
            for status in ["selected", "implemented"] {
                let input = StatusInput {
                    status: status.into(),
                    reason: String::new(),
                    implemented_on: self.today(),
                };
                let round = self.round(round_id).await?;
                cpaudit_app::options::change_status(
                    &self.app,
                    filer,
                    &round,
                    entry.option.id,
                    input,
                )
                .await
                .map_err(|error| anyhow!("{error:?}"))?;
            }
        }
        self.phases(filer, round_id, 6..=6).await?;
        for (kind, title) in [
            (DocumentKind::MonitoringBefore, "实施前监测报告"),
            (DocumentKind::MonitoringAfter, "实施后监测报告"),
            (DocumentKind::AcceptanceReport, "清洁生产审核验收报告"),
        ] {
            self.document(filer, round_id, kind, title).await?;
        }
        self.act(filer, round_id, &action("apply_acceptance")).await
    }

    /// The officials enter the verified values at acceptance.
    async fn verify_options(&self, round_id: i64) -> Result<()> {
        let round = self.round(round_id).await?;
        let sheet = self.app.db().option_sheet(&round).await?;
        for entry in &sheet.options {
            let values = ValuesInput {
                values: entry
                    .expected
                    .iter()
                    .map(|value| ValueInput {
                        indicator: value.indicator.clone(),
                        quantity: format!("{}", value.quantity * 0.9),
                        unit: String::new(),
                        basis: String::new(),
                    })
                    .collect(),
                basis: "实施后监测报告（演示）".into(),
            };
            cpaudit_app::options::set_values(
                &self.app,
                &self.organizer_of(&round),
                &round,
                entry.option.id,
                Stage::Verified,
                values,
            )
            .await
            .map_err(|error| anyhow!("{error:?}"))?;
        }
        Ok(())
    }

    /// The phases from `first` to 7 dated, the organizer closes the round.
    async fn close(&self, filer: &Principal, round_id: i64, first: i64) -> Result<()> {
        self.on_step(4)?;
        self.phases(filer, round_id, first..=7).await?;
        self.act(&self.organizer, round_id, &action("close")).await
    }
}
