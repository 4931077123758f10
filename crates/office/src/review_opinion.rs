//! The technical review opinion (清洁生产审核评估/验收技术审查意见) the organizer issues when a
//! review is decided.
//!
//! [`ReviewOpinion`] is plain data — names, dates, scores as numbers, labels as text — so this
//! crate needs no domain types. Its [`paragraphs`](ReviewOpinion::paragraphs),
//! [`table`](ReviewOpinion::table) and [`closing`](ReviewOpinion::closing) are what both the
//! .docx ([`write_review_opinion`]) and the printable page show, so the two cannot differ.

use chrono::NaiveDate;

use crate::docx::{chinese_date, write_docx, DocumentTable, OfficialDocument};
use crate::OfficeError;

/// One expert of the panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelMember {
    /// The expert's name.
    pub name: String,
    /// Professional title (职称), e.g. 高级工程师; empty when not on record.
    pub title: String,
}

/// One item of the scoring form with the panel's mean score.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemScore {
    /// The item's name.
    pub name: String,
    /// Its full points.
    pub max: u32,
    /// The panel's mean over the sheets that count.
    pub mean: f64,
}

/// Everything the opinion states.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewOpinion {
    /// The organizing authority: head, signature.
    pub organizer: String,
    /// The opinion's number (文号), e.g. 甘清审意〔2027〕12号.
    pub opinion_number: String,
    /// The enterprise under review, also the addressee.
    pub enterprise: String,
    /// Its unified social credit code.
    pub credit_code: String,
    /// The round under review, e.g. "2027年度强制性清洁生产审核".
    pub round: String,
    /// 评估, 验收 or 评估验收.
    pub review_kind: String,
    /// The day of the review meeting.
    pub meeting_on: NaiveDate,
    /// Where it met.
    pub place: String,
    /// The seated experts.
    pub panel: Vec<PanelMember>,
    /// The scoring form's name and version.
    pub form: String,
    /// Per item, the panel's mean.
    pub items: Vec<ItemScore>,
    /// The panel's score.
    pub total: f64,
    /// The texts of the veto items that stand.
    pub vetoes: Vec<String>,
    /// The conclusion as the opinion words it, e.g. 通过, 整改后重新报送, 合格.
    pub conclusion: String,
    /// The organizer's reasons.
    pub reasons: String,
    /// The day of the decision, the opinion's date.
    pub decided_on: NaiveDate,
}

impl ReviewOpinion {
    /// 关于某公司清洁生产审核评估的技术审查意见.
    pub fn title(&self) -> String {
        format!(
            "关于{}清洁生产审核{}的技术审查意见",
            self.enterprise, self.review_kind
        )
    }

    /// The body before the score table.
    pub fn paragraphs(&self) -> Vec<String> {
        let vetoes = if self.vetoes.is_empty() {
            "二、否定项。专家组未认定否定项。".to_string()
        } else {
            format!(
                "二、否定项。专家组认定以下否定项成立：{}。",
                self.vetoes.join("；")
            )
        };
        vec![
            format!(
                "{}，{}在{}组织召开{}（统一社会信用代码 {}）{}清洁生产审核{}会。会议成立了由{}名技术专家组成的专家组。专家组听取了企业的汇报，审阅了有关材料，经认真讨论，形成技术审查意见如下：",
                chinese_date(self.meeting_on),
                self.organizer,
                self.place,
                self.enterprise,
                self.credit_code,
                self.round,
                self.review_kind,
                self.panel.len()
            ),
            format!(
                "一、评分情况。专家组按《{}》逐项评分，综合得分 {:.1} 分，各项平均得分见下表。",
                self.form, self.total
            ),
            vetoes,
            format!("三、审查结论：{}。", self.conclusion),
            format!("四、理由：{}", self.reasons.trim()),
        ]
    }

    /// 评分项 / 满分 / 平均得分, with the total as the last row.
    pub fn table(&self) -> DocumentTable {
        let mut rows: Vec<Vec<String>> = self
            .items
            .iter()
            .map(|item| {
                vec![
                    item.name.clone(),
                    item.max.to_string(),
                    format!("{:.1}", item.mean),
                ]
            })
            .collect();
        rows.push(vec![
            "综合得分".into(),
            self.items
                .iter()
                .map(|item| item.max)
                .sum::<u32>()
                .to_string(),
            format!("{:.1}", self.total),
        ]);
        DocumentTable {
            headers: vec!["评分项".into(), "满分".into(), "平均得分".into()],
            rows,
        }
    }

    /// The panel by name and title, after the table.
    pub fn closing(&self) -> Vec<String> {
        let members: Vec<String> = self
            .panel
            .iter()
            .map(|member| {
                if member.title.trim().is_empty() {
                    member.name.clone()
                } else {
                    format!("{}（{}）", member.name, member.title)
                }
            })
            .collect();
        vec![format!("专家组成员：{}", members.join("、"))]
    }

    /// The opinion as an official document addressed to the enterprise.
    pub fn official_document(&self) -> OfficialDocument {
        OfficialDocument {
            issuer: self.organizer.clone(),
            number: self.opinion_number.clone(),
            title: self.title(),
            addressee: self.enterprise.clone(),
            paragraphs: self.paragraphs(),
            table: Some(self.table()),
            closing: self.closing(),
            signature: self.organizer.clone(),
            date: self.decided_on,
            copy_to: None,
        }
    }
}

/// Writes the opinion as a Word .docx file.
pub fn write_review_opinion(opinion: &ReviewOpinion) -> Result<Vec<u8>, OfficeError> {
    write_docx(&opinion.official_document())
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use super::*;

    fn opinion() -> ReviewOpinion {
        ReviewOpinion {
            organizer: "兰州市生态环境局".into(),
            opinion_number: "兰环清审意〔2027〕1号".into(),
            enterprise: "甘肃某某化工有限公司".into(),
            credit_code: "91620100MA00000001".into(),
            round: "2027年度强制性清洁生产审核".into(),
            review_kind: "评估".into(),
            meeting_on: NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
            place: "兰州市生态环境局三楼会议室".into(),
            panel: vec![
                PanelMember {
                    name: "张三".into(),
                    title: "高级工程师".into(),
                },
                PanelMember {
                    name: "李四".into(),
                    title: String::new(),
                },
            ],
            form: "清洁生产审核评估专家评分表（assessment-2016.1）".into(),
            items: vec![
                ItemScore {
                    name: "审核过程真实、方法合理".into(),
                    max: 60,
                    mean: 50.0,
                },
                ItemScore {
                    name: "审核报告规范、客观".into(),
                    max: 40,
                    mean: 35.0,
                },
            ],
            total: 85.0,
            vetoes: Vec::new(),
            conclusion: "整改后重新报送".into(),
            reasons: "目标偏低，须补充中/高费方案的可行性分析。".into(),
            decided_on: NaiveDate::from_ymd_opt(2027, 3, 5).unwrap(),
        }
    }

    #[test]
    fn the_opinion_states_the_score_the_conclusion_the_reasons_and_the_panel() {
        let opinion = opinion();
        let text = opinion.paragraphs().join("\n");
        assert!(text.contains("2027年3月1日，兰州市生态环境局在兰州市生态环境局三楼会议室"));
        assert!(text.contains("由2名技术专家组成"));
        assert!(text.contains("综合得分 85.0 分"));
        assert!(text.contains("专家组未认定否定项"));
        assert!(text.contains("三、审查结论：整改后重新报送。"));
        assert!(text.contains("目标偏低"));
        assert_eq!(
            opinion.closing(),
            vec!["专家组成员：张三（高级工程师）、李四"]
        );
        let table = opinion.table();
        assert_eq!(
            table.rows.last().unwrap(),
            &vec!["综合得分".to_string(), "100".into(), "85.0".into()]
        );
        assert_eq!(
            opinion.title(),
            "关于甘肃某某化工有限公司清洁生产审核评估的技术审查意见"
        );
    }

    #[test]
    fn standing_vetoes_are_named() {
        let mut opinion = opinion();
        opinion.vetoes = vec!["数据弄虚作假".into()];
        assert!(opinion.paragraphs()[2].contains("以下否定项成立：数据弄虚作假"));
    }

    #[test]
    fn the_docx_carries_the_conclusion() {
        let bytes = write_review_opinion(&opinion()).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        archive
            .by_name("word/document.xml")
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        assert!(xml.contains("三、审查结论：整改后重新报送。"));
        assert!(xml.contains("兰环清审意〔2027〕1号"));
    }
}
