//! The demo's online monitoring: a few days of HJ 212-2017 minute and hourly data for a handful
//! of demo devices (air and water), written through the receiver's storage functions as the
//! receiver would have stored them, then judged by the evaluation job, so that a fresh
//! `serve --demo` shows charts, exceedances, invalid and missing periods, yearly loads, an
//! unknown MN in quarantine and one candidate piece of evidence awaiting the city.
//!
//! Deterministic: values come from a hash of the seed, the device and the time, never from the
//! clock or a random source; only the dates follow `now`.
//!
//! The devices and what happens to them:
//! - the demo enterprise user's first device (a Lanzhou power plant's stack): SO₂ above its
//!   limit for three hours yesterday (two events), which makes the candidate;
//! - a Lanzhou air device of another enterprise: a fault yesterday (four hours flagged `D`, then
//!   two hours silent), under a byte-swapped MODBUS CRC tolerance;
//! - water devices in Lanzhou and elsewhere, and a Tianshui device: normal operation;
//! - one more air device that stopped sending six hours ago, so it shows offline.

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Timelike, Utc};
use cpaudit_app::SystemAuthority;
use cpaudit_core::demo::{outlet_binding, DemoData};
use cpaudit_core::emission_limits::{Averaging, EmissionLimits, Medium, OutletBinding};
use cpaudit_core::monitoring::{time_key, LoadLimit, KIND_HOUR, KIND_MINUTE};
use cpaudit_core::registry::OutletKind;
use cpaudit_core::rules::RuleBook;
use cpaudit_hj212::{Deviation, Deviations};
use cpaudit_storage::monitoring::{
    DataRow, IngestBatch, QuarantinedData, QuarantinedPacket, StatusUpdate, DEFAULT_QUARANTINE_CAP,
};
use cpaudit_storage::monitoring_judgement::{china_time, EvaluateOptions, EvaluationReport};
use cpaudit_storage::{timestamp, Db};

/// Minutes between two minute packets (`MinInterval`).
const INTERVAL_MINUTES: i64 = 10;
/// Whole days of data before today.
const DAYS: i64 = 3;
/// The MN of the unknown device whose packets wait in quarantine.
pub const UNKNOWN_MN: &str = "010000A89000999907010001";

/// What happens to a demo device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Three exceedance hours yesterday.
    Exceedances,
    /// Four hours flagged as a fault yesterday, then two hours without data.
    Fault,
    Normal,
    /// Stopped sending six hours ago.
    Silent,
}

/// A demo device chosen to send data.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedDevice {
    /// Index into the demo data's enterprises (and `DemoIds::enterprises`).
    pub enterprise: usize,
    pub mn: String,
    pub medium: Medium,
    pub binding: OutletBinding,
    pub scenario: Scenario,
}

/// Picks the devices: the demo enterprise user's first device (enterprise 0), then a Lanzhou
/// air device, a Lanzhou water device, a Tianshui device, a water device of another city and an
/// air device of another city, each of another enterprise.
pub fn plan(data: &DemoData) -> Vec<PlannedDevice> {
    let mut devices: Vec<(usize, &str, &str, Medium, OutletBinding)> = Vec::new();
    for (index, e) in data.enterprises.iter().enumerate() {
        for outlet in &e.outlets {
            let medium = match outlet.kind {
                OutletKind::Air => Medium::Air,
                OutletKind::Water => Medium::Water,
            };
            let binding = outlet_binding(&e.enterprise.industry_code, outlet);
            for mn in &outlet.devices {
                devices.push((
                    index,
                    e.enterprise.jurisdiction_code.as_str(),
                    mn.as_str(),
                    medium,
                    binding.clone(),
                ));
            }
        }
    }
    let mut chosen: Vec<PlannedDevice> = Vec::new();
    let mut pick = |wanted: &dyn Fn(usize, &str, Medium, &OutletBinding) -> bool,
                    scenario: Scenario|
     -> bool {
        let found = devices.iter().find(|(index, city, mn, medium, binding)| {
            wanted(*index, city, *medium, binding)
                && !chosen
                    .iter()
                    .any(|c| c.mn == *mn || (c.enterprise == *index && *index != 0))
        });
        let Some((index, _, mn, medium, binding)) = found else {
            return false;
        };
        chosen.push(PlannedDevice {
            enterprise: *index,
            mn: mn.to_string(),
            medium: *medium,
            binding: binding.clone(),
            scenario,
        });
        true
    };
    let limits_cod = |binding: &OutletBinding| {
        binding.standard == "gb8978-1996" && binding.source_class.starts_with("grade")
            || binding.standard == "gb18918-2002"
    };
    let _ = pick(&|index, _, _, _| index == 0, Scenario::Exceedances);
    let _ = pick(
        &|index, city, medium, _| index != 0 && city == "620100" && medium == Medium::Air,
        Scenario::Fault,
    );
    let _ = pick(
        &|index, city, medium, binding| {
            index != 0 && city == "620100" && medium == Medium::Water && limits_cod(binding)
        },
        Scenario::Normal,
    );
    // A Tianshui device, preferably of a facility standard (GB 16297 lists every pollutant of
    // general industry, most of which one stack does not emit).
    let _ = pick(
        &|index, city, _, binding| {
            index != 0 && city == "620500" && binding.standard != "gb16297-1996"
        },
        Scenario::Normal,
    ) || pick(
        &|index, city, _, _| index != 0 && city == "620500",
        Scenario::Normal,
    );
    let _ = pick(
        &|index, city, medium, binding| {
            index != 0
                && city != "620100"
                && city != "620500"
                && medium == Medium::Water
                && limits_cod(binding)
        },
        Scenario::Normal,
    );
    let _ = pick(
        &|index, city, medium, binding| {
            index != 0
                && city != "620100"
                && city != "620500"
                && medium == Medium::Air
                && binding.standard != "gb16297-1996"
        },
        Scenario::Silent,
    );
    chosen
}

/// A number in [0, 1) from a hash of its inputs (SplitMix64).
fn unit(seed: u64, parts: &[u64]) -> f64 {
    let mut x = seed;
    for part in parts {
        x ^= part.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x = z ^ (z >> 31);
    }
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// One pollutant a device measures: its typical level and the limit it is judged by.
#[derive(Debug, Clone)]
struct Pollutant {
    code: String,
    /// Typical measured concentration, in the limit's unit.
    base: f64,
    limit: f64,
}

/// One packet as the receiver stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoPacket {
    pub kind: i64,
    pub start: NaiveDateTime,
    /// China time the packet arrived.
    pub received: NaiveDateTime,
    /// The data area as sent (`DataTime=…;…`).
    pub cp: String,
}

/// One minute of one device, before it is written out.
#[derive(Debug, Clone, Default)]
struct Minute {
    flag: &'static str,
    o2: f64,
    flow: f64,
    /// Flow over the interval, m³.
    volume: f64,
    ph: f64,
    values: Vec<f64>,
}

/// When a packet for data starting at `start` arrives: at the end of its interval.
fn sent_at(start: NaiveDateTime, minutes: i64) -> NaiveDateTime {
    start + Duration::minutes(minutes)
}

/// The packets of one device from `first` to `now` (China time), in time order.
pub fn packets(
    device: &PlannedDevice,
    number: u64,
    limits: &EmissionLimits,
    seed: u64,
    first: NaiveDateTime,
    now: NaiveDateTime,
) -> Vec<DemoPacket> {
    let today = now.date();
    let yesterday = today - Duration::days(1);
    let pick_limit = |code: &str| {
        limits
            .limit_for(&device.binding, code, today, None)
            .filter(|limit| match device.medium {
                Medium::Air => limit.averaging == Averaging::Hour,
                Medium::Water => true,
            })
    };
    // Every pollutant the outlet's standard limits (hourly limits for air), so that the
    // judgement finds each of them in the data.
    let limited: Vec<_> = limits
        .factors_for(&device.binding, today)
        .into_iter()
        .filter_map(|code| pick_limit(&code))
        .collect();
    let reference_o2 = limited.iter().find_map(|limit| limit.reference_o2);
    let pollutants: Vec<Pollutant> = limited
        .iter()
        .enumerate()
        .map(|(i, limit)| Pollutant {
            code: limit.factor.clone(),
            base: limit.value * (0.3 + 0.25 * unit(seed, &[number, 1, i as u64])),
            limit: limit.value,
        })
        .collect();
    let exceeding = pollutants
        .iter()
        .position(|p| p.code == "a21026")
        .unwrap_or(0);
    let o2_base = 6.8 + 1.5 * unit(seed, &[number, 2]);
    let flow_base = match device.medium {
        Medium::Air => 45.0 + 60.0 * unit(seed, &[number, 3]),
        Medium::Water => 15.0 + 40.0 * unit(seed, &[number, 3]),
    };
    let phase = std::f64::consts::TAU * unit(seed, &[number, 4]);
    let stop = match device.scenario {
        Scenario::Silent => now - Duration::hours(6),
        _ => now,
    };
    let interval = Duration::minutes(INTERVAL_MINUTES);
    let mut out = Vec::new();
    let mut hour_minutes: Vec<Minute> = Vec::new();
    let mut at = first;
    while at + interval <= stop {
        let hour = at.hour();
        let in_fault = device.scenario == Scenario::Fault && at.date() == yesterday;
        let silent = in_fault && (6..8).contains(&hour);
        let flagged = in_fault && (2..6).contains(&hour);
        let slot = u64::try_from(time_key(at)).unwrap_or_default();
        let daily = ((f64::from(hour) + f64::from(at.minute()) / 60.0) / 24.0
            * std::f64::consts::TAU
            + phase)
            .sin();
        let noise = |k: u64| 2.0 * unit(seed, &[number, slot, k]) - 1.0;
        let o2 = o2_base + 0.4 * daily + 0.2 * noise(90);
        let flow = flow_base * (1.0 + 0.1 * daily + 0.03 * noise(91));
        let volume = match device.medium {
            // m³/s over the interval.
            Medium::Air => flow * 60.0 * INTERVAL_MINUTES as f64,
            // L/s over the interval, in m³.
            Medium::Water => flow * 60.0 * INTERVAL_MINUTES as f64 / 1000.0,
        };
        let exceed_hour = device.scenario == Scenario::Exceedances
            && at.date() == yesterday
            && [14, 15, 20].contains(&hour);
        let values = pollutants
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if exceed_hour && i == exceeding {
                    // The converted value 20–35 % above the limit.
                    let target = p.limit * (1.2 + 0.15 * unit(seed, &[number, slot, 95]));
                    match reference_o2 {
                        Some(reference) => target * (21.0 - o2) / (21.0 - reference),
                        None => target,
                    }
                } else {
                    p.base * (1.0 + 0.15 * daily + 0.06 * noise(i as u64))
                }
            })
            .collect();
        let minute = Minute {
            flag: if flagged { "D" } else { "N" },
            o2,
            flow,
            volume,
            ph: 7.2 + 0.2 * daily + 0.1 * noise(92),
            values,
        };
        if !silent {
            out.push(DemoPacket {
                kind: KIND_MINUTE,
                start: at,
                received: sent_at(at, INTERVAL_MINUTES),
                cp: minute_cp(device.medium, at, &pollutants, &minute, reference_o2),
            });
            hour_minutes.push(minute);
        }
        at += interval;
        if at.minute() == 0 {
            let start = at - Duration::hours(1);
            if !hour_minutes.is_empty() {
                out.push(DemoPacket {
                    kind: KIND_HOUR,
                    start,
                    received: sent_at(start, 60),
                    cp: hour_cp(
                        device.medium,
                        start,
                        &pollutants,
                        &hour_minutes,
                        reference_o2,
                    ),
                });
            }
            hour_minutes.clear();
        }
    }
    out
}

fn converted(value: f64, o2: f64, reference: Option<f64>) -> Option<f64> {
    reference.map(|reference| value * (21.0 - reference) / (21.0 - o2.min(20.0)))
}

fn minute_cp(
    medium: Medium,
    at: NaiveDateTime,
    pollutants: &[Pollutant],
    minute: &Minute,
    reference_o2: Option<f64>,
) -> String {
    let flag = minute.flag;
    let mut parts = vec![format!("DataTime={}", time_key(at))];
    match medium {
        Medium::Air => {
            parts.push(format!(
                "a00000-Avg={:.2},a00000-Cou={:.1},a00000-Flag={flag}",
                minute.flow, minute.volume
            ));
            parts.push(format!("a19001-Avg={:.2},a19001-Flag={flag}", minute.o2));
        }
        Medium::Water => {
            parts.push(format!(
                "w00000-Avg={:.2},w00000-Cou={:.3},w00000-Flag={flag}",
                minute.flow, minute.volume
            ));
            parts.push(format!("w01001-Avg={:.2},w01001-Flag={flag}", minute.ph));
        }
    }
    for (p, value) in pollutants.iter().zip(&minute.values) {
        // Air: mg/m³ × m³ → kg; water: mg/L × m³ → kg.
        let kg = match medium {
            Medium::Air => value * minute.volume / 1e6,
            Medium::Water => value * minute.volume / 1e3,
        };
        let zs = converted(*value, minute.o2, reference_o2)
            .map(|zs| format!(",{}-ZsAvg={zs:.2}", p.code))
            .unwrap_or_default();
        parts.push(format!(
            "{code}-Avg={value:.2}{zs},{code}-Cou={kg:.4},{code}-Flag={flag}",
            code = p.code
        ));
    }
    parts.join(";")
}

fn hour_cp(
    medium: Medium,
    start: NaiveDateTime,
    pollutants: &[Pollutant],
    minutes: &[Minute],
    reference_o2: Option<f64>,
) -> String {
    let n = minutes.len() as f64;
    let mean = |f: &dyn Fn(&Minute) -> f64| minutes.iter().map(f).sum::<f64>() / n;
    let flag = if minutes.iter().all(|m| m.flag == "N") {
        "N"
    } else {
        minutes
            .iter()
            .map(|m| m.flag)
            .find(|f| *f != "N")
            .unwrap_or("N")
    };
    let volume: f64 = minutes.iter().map(|m| m.volume).sum();
    let o2 = mean(&|m| m.o2);
    let mut parts = vec![format!("DataTime={}", time_key(start))];
    match medium {
        Medium::Air => {
            parts.push(format!(
                "a00000-Avg={:.2},a00000-Cou={volume:.1},a00000-Flag={flag}",
                mean(&|m| m.flow)
            ));
            parts.push(format!("a19001-Avg={o2:.2},a19001-Flag={flag}"));
        }
        Medium::Water => {
            parts.push(format!(
                "w00000-Avg={:.2},w00000-Cou={volume:.3},w00000-Flag={flag}",
                mean(&|m| m.flow)
            ));
            parts.push(format!(
                "w01001-Avg={:.2},w01001-Flag={flag}",
                mean(&|m| m.ph)
            ));
        }
    }
    for (i, p) in pollutants.iter().enumerate() {
        let values: Vec<f64> = minutes.iter().map(|m| m.values[i]).collect();
        let avg = values.iter().sum::<f64>() / n;
        let min = values.iter().copied().fold(f64::MAX, f64::min);
        let max = values.iter().copied().fold(f64::MIN, f64::max);
        let kg: f64 = minutes
            .iter()
            .map(|m| match medium {
                Medium::Air => m.values[i] * m.volume / 1e6,
                Medium::Water => m.values[i] * m.volume / 1e3,
            })
            .sum();
        let zs = converted(avg, o2, reference_o2)
            .map(|zs| format!(",{}-ZsAvg={zs:.2}", p.code))
            .unwrap_or_default();
        parts.push(format!(
            "{code}-Avg={avg:.2}{zs},{code}-Min={min:.2},{code}-Max={max:.2},{code}-Cou={kg:.4},{code}-Flag={flag}",
            code = p.code
        ));
    }
    parts.join(";")
}

/// A China time as the database stores instants (UTC, RFC 3339).
fn stored_instant(china: NaiveDateTime) -> String {
    timestamp((china - Duration::hours(8)).and_utc())
}

/// A QN: the sending time to the millisecond.
fn qn(china: NaiveDateTime) -> String {
    format!("{}000", time_key(china))
}

/// What the demo's monitoring wrote.
#[derive(Debug, Clone)]
pub struct DemoMonitoring {
    pub devices: usize,
    pub packets: usize,
    pub report: EvaluationReport,
    /// Time spent generating and storing the packets, and judging them.
    pub store_time: std::time::Duration,
    pub judge_time: std::time::Duration,
}

/// Writes the demo's monitoring data into a database that holds the demo data set `data` and
/// no monitoring data yet, and evaluates it as of `now`.
pub async fn load_demo_monitoring(
    db: &Db,
    data: &DemoData,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<DemoMonitoring> {
    let authority = SystemAuthority::console("demo");
    let operator = authority.principal();
    let limits = EmissionLimits::embedded();
    let book = RuleBook::embedded();
    let started = std::time::Instant::now();
    let china_now = china_time(now);
    let first = (china_now.date() - Duration::days(DAYS))
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists");
    let planned = plan(data);
    let mut batch = IngestBatch::default();
    let mut fault_device = None;
    let mut exceeding_enterprise = None;
    for (number, device) in planned.iter().enumerate() {
        let device_id = db
            .device_id_by_mn(operator.scope(), &device.mn)
            .await?
            .with_context(|| format!("demo device {} is not registered", device.mn))?;
        if device.scenario == Scenario::Exceedances {
            let view = db
                .monitoring_device(operator.scope(), device_id, now, Duration::hours(2))
                .await?
                .context("the demo device is visible to the console")?;
            exceeding_enterprise = Some((view.enterprise_id, device));
        }
        let packets = packets(device, number as u64, &limits, seed, first, china_now);
        let Some(last) = packets.iter().max_by_key(|p| p.received) else {
            continue;
        };
        let tolerant = device.scenario == Scenario::Fault;
        if tolerant {
            fault_device = Some(device_id);
        }
        batch.statuses.push(StatusUpdate {
            device_id,
            seen_at: stored_instant(last.received),
            last_data_time: packets.iter().map(|p| time_key(p.start)).max(),
            protocol_version: "2017 Flag=5".into(),
            peer: format!(
                "10.62.{}.{}:{}",
                10 + number,
                20 + 7 * number,
                40_000 + number
            ),
            packets: packets.len() as i64,
            deviations: if tolerant { packets.len() as i64 } else { 0 },
            rejected: 0,
            last_rejection: None,
        });
        batch.rows.extend(packets.into_iter().map(|packet| DataRow {
            device_id,
            kind: packet.kind,
            data_time: time_key(packet.start),
            qn: qn(packet.received),
            received_at: stored_instant(packet.received),
            cp: packet.cp,
            split: false,
        }));
    }
    // An unknown data logger: three minute packets in the last hour, kept in quarantine.
    let quarantined_from = china_now - Duration::minutes(50);
    for k in 0..3 {
        let start = quarantined_from - Duration::minutes(i64::from(quarantined_from.minute() % 10))
            + Duration::minutes(10 * k);
        let received = sent_at(start, INTERVAL_MINUTES);
        let cp = format!(
            "DataTime={};a21026-Avg={:.2},a21026-Flag=N;a21002-Avg={:.2},a21002-Flag=N",
            time_key(start),
            80.0 + 10.0 * unit(seed, &[77, k as u64]),
            60.0 + 10.0 * unit(seed, &[78, k as u64])
        );
        let segment = format!(
            "QN={};ST=22;CN=2051;PW=123456;MN={UNKNOWN_MN};Flag=5;CP=&&{cp}&&",
            qn(received)
        );
        let frame = cpaudit_hj212::encode_frame(&segment).context("framing a demo packet")?;
        batch.quarantined.push(QuarantinedPacket {
            mn: UNKNOWN_MN.into(),
            received_at: stored_instant(received),
            peer: "10.62.99.7:41235".into(),
            packet: String::from_utf8(frame).context("a demo packet is ASCII")?,
            data: Some(QuarantinedData {
                kind: KIND_MINUTE,
                data_time: time_key(start),
                qn: qn(received),
                cp,
                split: false,
            }),
        });
    }
    let packets = batch.rows.len();
    db.store_monitoring_batch(&batch, DEFAULT_QUARANTINE_CAP)
        .await
        .context("storing the demo monitoring data")?;
    if let Some(device_id) = fault_device {
        db.set_device_settings(
            operator,
            device_id,
            Deviations::only(Deviation::CrcModbusSwapped),
            true,
            now,
        )
        .await
        .context("the demo device's tolerance")?;
    }
    // The permit's yearly limits of the enterprise with exceedances, whole and for its stack.
    if let Some((enterprise_id, device)) = exceeding_enterprise {
        let enterprise = db
            .get_enterprise(operator.scope(), enterprise_id)
            .await?
            .context("the demo enterprise with exceedances")?;
        let permit_ref = data.enterprises[device.enterprise]
            .enterprise
            .permit_number
            .clone()
            .unwrap_or_else(|| "演示排污许可证".into());
        let year = china_now.year();
        let tonnes = match device.medium {
            Medium::Air => [("a21026", 420.0), ("a21002", 380.0), ("a34013", 90.0)],
            Medium::Water => [("w01018", 150.0), ("w21003", 20.0), ("w21011", 3.0)],
        };
        for (factor, limit_tonnes) in tonnes {
            db.set_permit_load_limit(
                operator,
                &enterprise,
                None,
                &LoadLimit {
                    factor: factor.into(),
                    year,
                    limit_tonnes,
                    permit_ref: permit_ref.clone(),
                },
                now,
            )
            .await
            .context("the demo permit's load limit")?;
        }
    }
    let store_time = started.elapsed();
    let started = std::time::Instant::now();
    let report = db
        .evaluate_monitoring(&limits, &book, now, &EvaluateOptions::default())
        .await
        .context("evaluating the demo monitoring data")?;
    Ok(DemoMonitoring {
        devices: planned.len(),
        packets,
        report,
        store_time,
        judge_time: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpaudit_core::reference::ReferenceData;

    fn data() -> DemoData {
        cpaudit_core::demo::generate(&ReferenceData::gansu(), crate::setup::DEMO_SEED, 320)
    }

    #[test]
    fn the_plan_has_every_scenario_in_air_and_water_and_two_cities() {
        let planned = plan(&data());
        assert!(planned.len() >= 5, "{planned:?}");
        assert_eq!(planned[0].enterprise, 0);
        assert_eq!(planned[0].scenario, Scenario::Exceedances);
        for scenario in [Scenario::Fault, Scenario::Normal, Scenario::Silent] {
            assert!(
                planned.iter().any(|d| d.scenario == scenario),
                "{scenario:?}"
            );
        }
        assert!(planned.iter().any(|d| d.medium == Medium::Water));
        let mut mns: Vec<&str> = planned.iter().map(|d| d.mn.as_str()).collect();
        mns.sort_unstable();
        mns.dedup();
        assert_eq!(mns.len(), planned.len());
        assert!(!mns.contains(&UNKNOWN_MN));
    }

    #[test]
    fn packets_are_deterministic_and_the_exceedance_hours_are_above_the_limit() {
        let data = data();
        let planned = plan(&data);
        let limits = EmissionLimits::embedded();
        let now = chrono::NaiveDate::from_ymd_opt(2027, 1, 15)
            .unwrap()
            .and_hms_opt(9, 3, 0)
            .unwrap();
        let first = now.date().and_hms_opt(0, 0, 0).unwrap() - Duration::days(DAYS);
        let device = &planned[0];
        let a = packets(device, 0, &limits, 7, first, now);
        assert_eq!(a, packets(device, 0, &limits, 7, first, now));
        assert_ne!(a, packets(device, 0, &limits, 8, first, now));
        let minutes = a.iter().filter(|p| p.kind == KIND_MINUTE).count();
        // Three days and nine hours of ten-minute data, the last sent by 09:00.
        assert_eq!(minutes, (3 * 24 + 9) * 6);
        assert_eq!(a.iter().filter(|p| p.kind == KIND_HOUR).count(), 3 * 24 + 9);
        let exceeding = a
            .iter()
            .find(|p| {
                p.kind == KIND_HOUR && p.start == first + Duration::days(2) + Duration::hours(14)
            })
            .unwrap();
        let zs: f64 = exceeding
            .cp
            .split([';', ','])
            .find_map(|item| item.strip_prefix("a21026-ZsAvg="))
            .unwrap()
            .parse()
            .unwrap();
        let limit = limits
            .limit_for(&device.binding, "a21026", now.date(), None)
            .unwrap();
        assert!(zs > limit.value * 1.15, "{zs} against {}", limit.value);
        // The fault device flags four hours and is silent for two.
        let fault = planned
            .iter()
            .position(|d| d.scenario == Scenario::Fault)
            .unwrap();
        let b = packets(&planned[fault], fault as u64, &limits, 7, first, now);
        let yesterday = now.date() - Duration::days(1);
        let on = |hour: u32| {
            b.iter()
                .filter(|p| {
                    p.kind == KIND_MINUTE && p.start.date() == yesterday && p.start.hour() == hour
                })
                .collect::<Vec<_>>()
        };
        assert!(on(3).iter().all(|p| p.cp.contains("-Flag=D")));
        assert!(on(6).is_empty() && on(7).is_empty());
        assert!(on(8).iter().all(|p| !p.cp.contains("-Flag=D")));
    }
}
