use super::*;
use crate::emission_limits::{EmissionLimits, OutletBinding};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(h: u32, m: u32) -> NaiveDateTime {
    day(2026, 12, 3).and_hms_opt(h, m, 0).unwrap()
}

fn rules() -> JudgementRules {
    JudgementRules::from_book(&RuleBook::embedded(), day(2026, 12, 3)).unwrap()
}

fn limits() -> EmissionLimits {
    EmissionLimits::embedded()
}

fn bind(standard: &str, class: &str) -> OutletBinding {
    OutletBinding {
        standard: standard.into(),
        source_class: class.into(),
        special_limits: false,
    }
}

/// A minute packet's data area: (factor, Avg, Flag) triples.
fn cp(items: &[(&str, f64, &str)]) -> String {
    let mut text = String::from("DataTime=20261203080000");
    for (code, avg, flag) in items {
        text.push_str(&format!(";{code}-Avg={avg},{code}-Flag={flag}"));
    }
    text
}

fn record(start: NaiveDateTime, items: &[(&str, f64, &str)]) -> Record {
    Record {
        start,
        readings: readings(&cp(items)),
    }
}

/// An air context: the coal-fired boiler's limits (SO2 200 mg/m³ at 6 % O2 for an existing unit).
fn coal_boiler() -> HourContext {
    let limits = limits();
    let binding = bind("gb13223-2011", "coal_boiler.existing");
    let mut context = HourContext {
        medium: Some(Medium::Air),
        ..HourContext::default()
    };
    for factor in limits.factors_for(&binding, day(2026, 12, 3)) {
        let limit = limits
            .limit_for(&binding, &factor, day(2026, 12, 3), None)
            .unwrap();
        context
            .units
            .insert(factor.clone(), limits.factor(&factor).unwrap().unit);
        context.limits.insert(factor, limit);
    }
    context
}

fn judge(
    context: &HourContext,
    minutes: &[Record],
    interval: u32,
    device_hour: Option<&Record>,
) -> Vec<HourResult> {
    let refs: Vec<&Record> = minutes.iter().collect();
    judge_hour(
        &HourInput {
            hour: at(8, 0),
            minutes: &refs,
            minute_interval: interval,
            device_hour,
        },
        context,
        &rules(),
    )
}

fn factor<'a>(results: &'a [HourResult], code: &str) -> &'a HourResult {
    results.iter().find(|r| r.factor == code).unwrap()
}

/// `count` one-minute packets from 08:00 with SO2 at `so2` and O2 at `o2`, flag N.
fn minutes(count: u32, so2: f64, o2: f64) -> Vec<Record> {
    (0..count)
        .map(|m| record(at(8, m), &[("a21026", so2, "N"), (O2, o2, "N")]))
        .collect()
}

#[test]
fn an_hour_with_44_minutes_of_valid_data_is_invalid_not_an_exceedance_hj212_d2() {
    // 44 one-minute values far above the limit: too few to make a valid hourly mean.
    let results = judge(&coal_boiler(), &minutes(44, 900.0, 6.0), 1, None);
    let so2 = factor(&results, "a21026");
    assert_eq!(so2.status, Status::Invalid);
    assert_eq!(so2.reason, Some(GapReason::Insufficient));
    assert_eq!(so2.valid_minutes, 44);
    assert!(!so2.exceeded);
    assert_eq!(so2.value, None);
    // With a 45th minute the hour is valid and exceeds 200 mg/m³.
    let results = judge(&coal_boiler(), &minutes(45, 900.0, 6.0), 1, None);
    let so2 = factor(&results, "a21026");
    assert_eq!(so2.status, Status::Valid);
    assert_eq!(so2.value, Some(900.0));
    assert!(so2.exceeded);
    assert_eq!(
        so2.limit_id.as_deref(),
        Some("gb13223-2011/coal_boiler.existing/a21026@2014-07-01")
    );
}

#[test]
fn the_45_minutes_are_covered_minutes_whatever_the_devices_interval() {
    // Ten-minute data: five valid values cover 50 minutes (valid), four cover 40 (invalid).
    let ten = |count: u32| -> Vec<Record> {
        (0..count)
            .map(|i| record(at(8, i * 10), &[("a21026", 300.0, "N"), (O2, 6.0, "N")]))
            .collect()
    };
    let five = judge(&coal_boiler(), &ten(5), 10, None);
    assert_eq!(factor(&five, "a21026").status, Status::Valid);
    assert_eq!(factor(&five, "a21026").valid_minutes, 50);
    let four = judge(&coal_boiler(), &ten(4), 10, None);
    assert_eq!(factor(&four, "a21026").status, Status::Invalid);
    assert_eq!(factor(&four, "a21026").valid_minutes, 40);
}

#[test]
fn the_interval_is_read_from_the_gaps_between_minute_packets_and_rounded_down() {
    assert_eq!(minute_interval(&[at(8, 0), at(8, 10), at(8, 20)]), Some(10));
    assert_eq!(minute_interval(&[at(8, 0), at(8, 30), at(8, 37)]), Some(6));
    assert_eq!(minute_interval(&[at(8, 0), at(9, 30)]), Some(30));
    assert_eq!(minute_interval(&[at(8, 0)]), None);
}

#[test]
fn concentrations_are_converted_to_the_reference_o2_by_formula_28() {
    // A coal-fired boiler (reference O2 6 %) measures SO2 150 mg/m³.
    // At 9 % O2: 150 × (21 − 6) / (21 − 9) = 187.5 mg/m³, below 200.
    let at_nine = judge(&coal_boiler(), &minutes(60, 150.0, 9.0), 1, None);
    let so2 = factor(&at_nine, "a21026");
    assert_eq!(so2.mean, Some(150.0));
    assert_eq!(so2.o2, Some(9.0));
    assert_eq!(so2.platform_value, Some(187.5));
    assert!(!so2.exceeded);
    // At 11 % O2 the same measurement is 225 mg/m³: an exceedance.
    let at_eleven = judge(&coal_boiler(), &minutes(60, 150.0, 11.0), 1, None);
    assert_eq!(factor(&at_eleven, "a21026").value, Some(225.0));
    assert!(factor(&at_eleven, "a21026").exceeded);
    assert_eq!(convert_to_reference_o2(150.0, 9.0, 6.0), 187.5);
}

#[test]
fn an_hour_with_o2_near_ambient_is_invalid_rather_than_converted_without_bound() {
    // During shut-down O2 approaches 21 %: 150 × 15 / 0.5 would be 4500 mg/m³.
    let results = judge(&coal_boiler(), &minutes(60, 150.0, 20.5), 1, None);
    let so2 = factor(&results, "a21026");
    assert_eq!(so2.status, Status::Invalid);
    assert_eq!(so2.reason, Some(GapReason::O2NearAmbient));
    assert!(!so2.exceeded);
    // Without a valid O2 hour there is nothing to convert with.
    let no_o2: Vec<Record> = (0..60)
        .map(|m| record(at(8, m), &[("a21026", 150.0, "N"), (O2, 6.0, "D")]))
        .collect();
    let results = judge(&coal_boiler(), &no_o2, 1, None);
    assert_eq!(
        factor(&results, "a21026").reason,
        Some(GapReason::O2Invalid)
    );
}

#[test]
fn a_limit_without_reference_o2_judges_the_measured_concentration() {
    let limits = limits();
    let binding = bind("gb16297-1996", "general.new");
    let mut context = HourContext {
        medium: Some(Medium::Air),
        ..HourContext::default()
    };
    context.limits.insert(
        "a34013".into(),
        limits
            .limit_for(&binding, "a34013", day(2026, 12, 3), None)
            .unwrap(),
    );
    let data: Vec<Record> = (0..60)
        .map(|m| record(at(8, m), &[("a34013", 130.0, "N"), (O2, 20.0, "N")]))
        .collect();
    let results = judge(&context, &data, 1, None);
    let dust = factor(&results, "a34013");
    assert_eq!((dust.value, dust.o2), (Some(130.0), None));
    assert!(dust.exceeded, "130 > 120 mg/m³ (GB 16297-1996 Table 2)");
}

#[test]
fn data_flagged_other_than_n_is_never_an_exceedance_and_over_range_is_kept_apart() {
    // Calibration (C) for the whole hour at a value far above the limit.
    let calibrating: Vec<Record> = (0..60)
        .map(|m| record(at(8, m), &[("a21026", 999.0, "C"), (O2, 6.0, "N")]))
        .collect();
    let results = judge(&coal_boiler(), &calibrating, 1, None);
    let so2 = factor(&results, "a21026");
    assert_eq!(
        (so2.status, so2.reason),
        (Status::Invalid, Some(GapReason::Flagged))
    );
    assert_eq!(so2.flags, "C:60");
    assert!(!so2.exceeded);
    // T (above the instrument's range) is invalid data of its own kind by default …
    let over: Vec<Record> = (0..60)
        .map(|m| record(at(8, m), &[("a21026", 2500.0, "T"), (O2, 6.0, "N")]))
        .collect();
    let results = judge(&coal_boiler(), &over, 1, None);
    assert_eq!(
        factor(&results, "a21026").reason,
        Some(GapReason::OverRange)
    );
    // … and counts as valid data where the rule book says so.
    let mut lenient = rules();
    lenient.over_range_is_valid = true;
    let refs: Vec<&Record> = over.iter().collect();
    let results = judge_hour(
        &HourInput {
            hour: at(8, 0),
            minutes: &refs,
            minute_interval: 1,
            device_hour: None,
        },
        &coal_boiler(),
        &lenient,
    );
    assert!(factor(&results, "a21026").exceeded);
    // A value with no flag at all is not valid data either.
    let unflagged: Vec<Record> = (0..60)
        .map(|m| Record {
            start: at(8, m),
            readings: readings("a21026-Avg=300;a19001-Avg=6,a19001-Flag=N"),
        })
        .collect();
    let results = judge(&coal_boiler(), &unflagged, 1, None);
    assert_eq!(factor(&results, "a21026").reason, Some(GapReason::Flagged));
}

#[test]
fn the_recomputed_value_judges_when_minute_data_exist_and_the_devices_own_hour_otherwise() {
    // The device reports a compliant hour (ZsAvg 150) while its minute data say 300.
    let device_hour = Record {
        start: at(8, 0),
        readings: readings(
            "a21026-Avg=120,a21026-ZsAvg=150,a21026-Flag=N;a19001-Avg=6,a19001-Flag=N",
        ),
    };
    let results = judge(
        &coal_boiler(),
        &minutes(60, 300.0, 6.0),
        1,
        Some(&device_hour),
    );
    let so2 = factor(&results, "a21026");
    assert_eq!(so2.basis, Basis::Recomputed);
    assert_eq!(
        (so2.device_zs_avg, so2.device_value),
        (Some(150.0), Some(150.0))
    );
    assert_eq!(so2.value, Some(300.0));
    assert!(so2.exceeded);
    // Without minute data the device's ZsAvg, as sent, judges.
    let results = judge(&coal_boiler(), &[], 1, Some(&device_hour));
    let so2 = factor(&results, "a21026");
    assert_eq!(so2.basis, Basis::Device);
    assert_eq!(so2.value, Some(150.0));
    assert!(!so2.exceeded);
    // Without ZsAvg, the device's Avg is converted with its own hourly O2.
    let plain = Record {
        start: at(8, 0),
        readings: readings("a21026-Avg=180,a21026-Flag=N;a19001-Avg=9,a19001-Flag=N"),
    };
    let results = judge(&coal_boiler(), &[], 1, Some(&plain));
    assert_eq!(factor(&results, "a21026").value, Some(225.0));
}

#[test]
fn an_hour_without_any_packet_is_missing_data_for_every_limited_factor() {
    let results = judge(&coal_boiler(), &[], 1, None);
    let so2 = factor(&results, "a21026");
    assert_eq!(
        (so2.status, so2.reason),
        (Status::Missing, Some(GapReason::NoData))
    );
    // Data for other factors only: this one is absent.
    let other: Vec<Record> = (0..60)
        .map(|m| record(at(8, m), &[(O2, 6.0, "N")]))
        .collect();
    let results = judge(&coal_boiler(), &other, 1, None);
    assert_eq!(factor(&results, "a21026").reason, Some(GapReason::Absent));
}

/// A water context: GB 8978-1996 grade 1 (COD 100 mg/L, daily mean) plus the first-category
/// metals.
fn water(class: &str) -> HourContext {
    let limits = limits();
    let binding = bind("gb8978-1996", class);
    let mut context = HourContext {
        medium: Some(Medium::Water),
        ..HourContext::default()
    };
    for factor in limits.factors_for(&binding, day(2026, 12, 3)) {
        let limit = limits
            .limit_for(&binding, &factor, day(2026, 12, 3), None)
            .unwrap();
        context
            .units
            .insert(factor.clone(), limits.factor(&factor).unwrap().unit);
        context.limits.insert(factor, limit);
    }
    context
}

/// A ten-minute water packet: COD concentration and the flow's cumulative volume (m³).
fn water_minute(start: NaiveDateTime, cod: f64, flow_m3: Option<f64>) -> Record {
    let flow = flow_m3
        .map(|m3| format!(";w00000-Cou={m3},w00000-Flag=N"))
        .unwrap_or_default();
    let cou = flow_m3.map(|m3| cod * m3 * 1e-3).unwrap_or_default();
    Record {
        start,
        readings: readings(&format!(
            "w01018-Avg={cod},w01018-Cou={cou},w01018-Flag=N{flow}"
        )),
    }
}

fn water_hour(context: &HourContext, hour: u32, data: &[Record]) -> Vec<HourResult> {
    let refs: Vec<&Record> = data.iter().collect();
    judge_hour(
        &HourInput {
            hour: at(hour, 0),
            minutes: &refs,
            minute_interval: 10,
            device_hour: None,
        },
        context,
        &rules(),
    )
}

#[test]
fn a_water_day_is_flow_weighted_c_equals_sum_g_over_sum_d() {
    // 08:00, 100 m³ at 50 mg/L; 09:00, 300 m³ at 150 mg/L.
    // Flow-weighted: (50 × 100 + 150 × 300) / 400 = 125 mg/L, above GB 8978 grade 1's 100.
    // The arithmetic mean of the two hours would be 100: not above the limit.
    let context = water("grade_1");
    let first = water_hour(&context, 8, &[water_minute(at(8, 0), 50.0, Some(100.0))]);
    let second = water_hour(&context, 9, &[water_minute(at(9, 0), 150.0, Some(300.0))]);
    let hours: Vec<HourResult> = first
        .into_iter()
        .chain(second)
        .filter(|h| h.factor == "w01018")
        .collect();
    assert!(hours
        .iter()
        .all(|h| h.status == Status::Valid && !h.exceeded));
    let limit = context.limits.get("w01018");
    let result = judge_day(
        Some(Medium::Water),
        "w01018",
        day(2026, 12, 3),
        &hours,
        None,
        limit,
        &rules(),
    );
    assert_eq!(result.weighting, Some(Weighting::Flow));
    assert_eq!(result.value, Some(125.0));
    assert!(result.mean_exceeded && result.exceeded);
    // The day's COD load is ΣG: 5 kg + 45 kg.
    assert_eq!(result.load_kg, Some(50.0));
}

#[test]
fn without_flow_data_the_water_mean_is_arithmetic_and_marked() {
    let context = water("grade_1");
    let first = water_hour(&context, 8, &[water_minute(at(8, 0), 50.0, None)]);
    let second = water_hour(&context, 9, &[water_minute(at(9, 0), 150.0, None)]);
    let hours: Vec<HourResult> = first
        .into_iter()
        .chain(second)
        .filter(|h| h.factor == "w01018")
        .collect();
    let result = judge_day(
        Some(Medium::Water),
        "w01018",
        day(2026, 12, 3),
        &hours,
        None,
        context.limits.get("w01018"),
        &rules(),
    );
    assert_eq!(result.weighting, Some(Weighting::Arithmetic));
    assert_eq!(result.value, Some(100.0));
    assert!(!result.exceeded, "100 mg/L is not above 100 mg/L");
}

#[test]
fn units_are_normalized_before_comparison_ug_per_l_against_mg_per_l() {
    // Total lead arrives in µg/L (HJ 212 Table B.1); GB 8978's limit is 1.0 mg/L.
    let context = water("first_category");
    let data = [Record {
        start: at(8, 0),
        readings: readings("w20120-Avg=1200,w20120-Flag=N"),
    }];
    let results = water_hour(&context, 8, &data);
    let lead = factor(&results, "w20120");
    assert_eq!(lead.unit, "mg/L");
    assert_eq!(lead.mean, Some(1.2));
    // A device configured to send mg/L is not scaled.
    let mut mg = context.clone();
    mg.units.insert("w20120".into(), ConcentrationUnit::MgPerL);
    let data = [Record {
        start: at(8, 0),
        readings: readings("w20120-Avg=0.00011,w20120-Flag=N"),
    }];
    assert_eq!(
        factor(&water_hour(&mg, 8, &data), "w20120").mean,
        Some(0.00011)
    );
}

#[test]
fn an_air_day_needs_20_valid_hours_and_is_an_exceedance_day_with_one_exceedance_hour() {
    let context = coal_boiler();
    let limit = context.limits.get("a21026").cloned();
    let hour = |h: u32, value: f64, exceeded: bool, status: Status| HourResult {
        factor: "a21026".into(),
        hour: at(h, 0),
        status,
        reason: None,
        detail: String::new(),
        basis: Basis::Recomputed,
        valid_count: 60,
        valid_minutes: 60,
        flags: "N:60".into(),
        mean: Some(value),
        o2: Some(6.0),
        platform_value: Some(value),
        device_avg: None,
        device_zs_avg: None,
        device_flag: None,
        device_value: None,
        value: (status == Status::Valid).then_some(value),
        unit: "mg/m3".into(),
        weight_sum: None,
        weighted_sum: None,
        load_kg: Some(1.0),
        limit_value: Some(200.0),
        limit_id: None,
        exceeded,
    };
    let mut hours: Vec<HourResult> = (0..19)
        .map(|h| hour(h, 100.0, false, Status::Valid))
        .collect();
    hours.push(hour(19, 400.0, true, Status::Valid));
    let day_result = judge_day(
        Some(Medium::Air),
        "a21026",
        day(2026, 12, 3),
        &hours,
        None,
        limit.as_ref(),
        &rules(),
    );
    assert_eq!(day_result.status, Status::Valid);
    assert_eq!(day_result.weighting, Some(Weighting::Hourly));
    assert_eq!(day_result.value, Some(115.0));
    assert_eq!(day_result.exceedance_hours, 1);
    assert!(day_result.exceeded && !day_result.mean_exceeded);
    assert_eq!(day_result.load_kg, Some(20.0));
    // 19 valid hours: the daily mean is invalid, the exceedance hour still makes the day.
    hours.remove(0);
    let short = judge_day(
        Some(Medium::Air),
        "a21026",
        day(2026, 12, 3),
        &hours,
        None,
        limit.as_ref(),
        &rules(),
    );
    assert_eq!(
        (short.status, short.reason),
        (Status::Invalid, Some(GapReason::Insufficient))
    );
    assert!(short.exceeded);
}

#[test]
fn consecutive_exceedance_hours_make_one_event() {
    let found = runs(&[at(8, 0), at(9, 0), at(10, 0), at(13, 0), at(9, 0)]);
    assert_eq!(
        found,
        [
            Run {
                first: at(8, 0),
                last: at(10, 0),
                hours: 3
            },
            Run {
                first: at(13, 0),
                last: at(13, 0),
                hours: 1
            },
        ]
    );
}

#[test]
fn exceedances_make_a_candidate_per_the_rule_book_and_the_evidence_validates() {
    let rules = rules();
    assert_eq!(rules.candidate_period, CandidatePeriod::CalendarMonth);
    assert!(rules
        .refs
        .iter()
        .any(|r| r.id == "monitoring.candidate.min_exceedance_hours"
            && r.citations[0].confidence == crate::rules::Confidence::LocalPractice));
    let period = rules.candidate_period.containing(day(2026, 12, 3));
    assert_eq!(period.key, "2026-12");
    assert_eq!(period.end, day(2027, 1, 1));
    let mut tally = ExceedanceTally {
        factor: "a21026".into(),
        period,
        entries: Vec::new(),
    };
    assert!(!tally.makes_candidate(&rules));
    assert!(concentration_evidence(&tally, "二氧化硫").is_none());
    let entry = |hour: u32, value: f64| TallyEntry {
        at: at(hour, 0),
        averaging: Averaging::Hour,
        outlet: "DA001".into(),
        device: "MN1".into(),
        value,
        limit: 200.0,
        unit: "mg/m3".into(),
        standard: "GB 13223-2011".into(),
        limit_id: "gb13223-2011/coal_boiler.existing/a21026@2014-07-01".into(),
    };
    tally.entries.push(entry(8, 260.0));
    tally.entries.push(entry(9, 310.5));
    assert!(tally.makes_candidate(&rules));
    let draft = concentration_evidence(&tally, "二氧化硫").unwrap();
    let valid = draft.validate(day(2027, 1, 15)).unwrap();
    assert_eq!(valid.amount, 310.5);
    assert_eq!(valid.limit, Some(200.0));
    assert_eq!(valid.observed_on, day(2026, 12, 3));
    assert_eq!(valid.standard, "GB 13223-2011");
    assert!(
        valid.document_ref.contains("2026-12"),
        "{}",
        valid.document_ref
    );
    let load = total_load_evidence(
        "a21026",
        "二氧化硫",
        2026,
        12.5,
        10.0,
        "排污许可证 X",
        day(2026, 12, 31),
    );
    assert!(load.validate(day(2027, 1, 15)).is_ok());
}

#[test]
fn readings_keep_every_factor_and_time_keys_round_trip() {
    let found = readings("DataTime=20261203080000;a21026-Avg=12.5,a21026-ZsAvg=14,a21026-Cou=0.3,a21026-Flag=N;ua19004-Rtd=3;Flag=N");
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].zs_avg, Some(14.0));
    assert_eq!(found[0].cou, Some(0.3));
    assert_eq!(found[1].code, "ua19004");
    assert_eq!(time_key(at(8, 40)), 20_261_203_084_000);
    assert_eq!(parse_time_key(20_261_203_084_000), Some(at(8, 40)));
    assert_eq!(
        parse_day_key(day_key(day(2026, 12, 3))),
        Some(day(2026, 12, 3))
    );
    assert_eq!(hour_of(at(8, 40)), at(8, 0));
    assert_eq!(parse_time_key(20_261_303_084_000), None);
}
