//! What one simulated data logger (数采仪) sends: HJ 212-2017 minute (2051) and hourly (2061)
//! uploads of a demo device, with values that look like a real outlet's.
//!
//! - Air outlets (flue-gas CEMS, `ST=31`): particulate a34013, SO₂ a21026 and NOx a21002 with
//!   `Avg`/`Min`/`Max`/`Cou` (kg) and `ZsAvg` (converted to the device's reference O₂: 6 % at a
//!   boiler, 10 % elsewhere), O₂ a19001, temperature a01012, velocity a01011, and flow a00000
//!   (velocity × duct area, m³/s, `Cou` in m³).
//! - Water outlets (`ST=32`): flow w00000 (L/s, `Cou` in m³), COD w01018 and NH₃-N w21003 (mg/L,
//!   `Cou` in kg), pH w01001.
//!
//! Each device has its own minute interval (1, 5 or 10 minutes), its own baselines and a daily
//! load curve. Periods are rolled as they start: an *exceedance period* (an hour for air, a day
//! for water, since water is judged on daily means) lifts one pollutant far above any emission
//! limit for the whole period; a *fault period* (an hour) flags every value D or M; air devices
//! also calibrate daily for ten minutes (flag C). The hourly packet is computed from the hour's
//! minute values the way a data logger does (means of valid minutes, flag N when at least 75 %
//! of the minutes are valid for flue gas, any abnormal minute for water).
//!
//! Everything is deterministic: the same device, start and settings give the same packets.

use chrono::{Datelike, Duration, NaiveDateTime, Timelike};
use cpaudit_core::demo::DemoData;
use cpaudit_core::registry::OutletKind;

/// A small, fast, deterministic generator (SplitMix64): the simulator draws a few numbers per
/// value and must not cost the receiver its CPU.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        probability > 0.0 && self.unit() < probability
    }

    /// A multiplicative noise factor around 1 with roughly the given relative spread
    /// (a triangular distribution, cheap and bounded).
    fn noise(&mut self, spread: f64) -> f64 {
        1.0 + spread * (self.unit() + self.unit() - 1.0)
    }
}

/// FNV-1a, to derive a device's own parameters from its MN.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The medium of the outlet a device monitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    /// Flue gas; `boiler` outlets convert to 6 % reference O₂.
    Air {
        boiler: bool,
    },
    Water,
}

/// One demo device as the simulator knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSpec {
    pub mn: String,
    pub medium: Medium,
}

/// The devices of a demo data set, in the order the generator made them.
pub fn demo_devices(data: &DemoData) -> Vec<DeviceSpec> {
    data.enterprises
        .iter()
        .flat_map(|e| &e.outlets)
        .flat_map(|outlet| {
            let medium = match outlet.kind {
                OutletKind::Air => Medium::Air {
                    boiler: outlet.name.contains("锅炉"),
                },
                OutletKind::Water => Medium::Water,
            };
            outlet.devices.iter().map(move |mn| DeviceSpec {
                mn: mn.clone(),
                medium,
            })
        })
        .collect()
}

/// Shares that shape the data (each a probability in [0, 1]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficSettings {
    /// Share of periods (air: hours, water: days) with one pollutant above any limit.
    pub exceedance_share: f64,
    /// Share of hours in which the instrument reports a fault (D) or maintenance (M).
    pub invalid_share: f64,
    /// Mixed into every device's seed.
    pub seed: u64,
}

impl Default for TrafficSettings {
    fn default() -> Self {
        TrafficSettings {
            exceedance_share: 0.02,
            invalid_share: 0.005,
            seed: 0,
        }
    }
}

/// The identity of an upload: what the receiver keys it by, and how the reply finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upload {
    /// 2051 or 2061.
    pub cn: u16,
    /// `DataTime` digits, YYYYMMDDhhmmss.
    pub data_time: u64,
    /// `QN` digits, YYYYMMDDhhmmsszzz; unique per device.
    pub qn: u64,
    /// When the device sends it on its own clock (the end of the interval plus a few seconds).
    pub sent_at: NaiveDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    /// Volume flow; `Cou` is the volume over the interval.
    Flow,
    /// A concentration; `Cou` is the mass over the interval; air pollutants also get `ZsAvg`.
    Pollutant,
    /// O₂, temperature, velocity, pH: `Avg`/`Min`/`Max` only.
    Condition,
}

#[derive(Debug, Clone, Copy)]
struct FactorSpec {
    code: &'static str,
    role: Role,
    /// Device baselines are drawn from this range.
    base: (f64, f64),
    /// Levels during an exceedance period: far above every limit the judgement knows of.
    exceed: (f64, f64),
    /// Relative minute-to-minute spread.
    spread: f64,
    decimals: u32,
    cou_decimals: u32,
}

const fn factor(
    code: &'static str,
    role: Role,
    base: (f64, f64),
    exceed: (f64, f64),
    spread: f64,
    decimals: u32,
    cou_decimals: u32,
) -> FactorSpec {
    FactorSpec {
        code,
        role,
        base,
        exceed,
        spread,
        decimals,
        cou_decimals,
    }
}

const NONE: (f64, f64) = (0.0, 0.0);
const MAX_FACTORS: usize = 7;

// Indices used below: AIR[0] flow, AIR[4] O₂, AIR[6] velocity; WATER[0] flow.
const AIR: [FactorSpec; 7] = [
    factor("a00000", Role::Flow, NONE, NONE, 0.04, 2, 1),
    factor(
        "a34013",
        Role::Pollutant,
        (4.0, 12.0),
        (150.0, 260.0),
        0.10,
        2,
        4,
    ),
    factor(
        "a21026",
        Role::Pollutant,
        (15.0, 60.0),
        (600.0, 1100.0),
        0.08,
        2,
        4,
    ),
    factor(
        "a21002",
        Role::Pollutant,
        (30.0, 80.0),
        (450.0, 700.0),
        0.08,
        2,
        4,
    ),
    factor("a19001", Role::Condition, (7.0, 11.0), NONE, 0.03, 2, 0),
    factor("a01012", Role::Condition, (45.0, 140.0), NONE, 0.01, 1, 0),
    factor("a01011", Role::Condition, (8.0, 16.0), NONE, 0.03, 2, 0),
];

const WATER: [FactorSpec; 4] = [
    factor("w00000", Role::Flow, (5.0, 60.0), NONE, 0.06, 2, 2),
    factor(
        "w01018",
        Role::Pollutant,
        (15.0, 40.0),
        (120.0, 250.0),
        0.08,
        1,
        3,
    ),
    factor(
        "w21003",
        Role::Pollutant,
        (0.3, 3.0),
        (18.0, 35.0),
        0.10,
        2,
        4,
    ),
    factor("w01001", Role::Condition, (6.8, 8.2), NONE, 0.01, 2, 0),
];

/// One interval's values of one factor.
#[derive(Debug, Clone, Copy, Default)]
struct Stat {
    avg: f64,
    min: f64,
    max: f64,
    cou: f64,
    zs: f64,
}

/// A factor's minute values collected over the current hour.
#[derive(Debug, Clone, Copy)]
struct HourAcc {
    valid_sum: f64,
    valid_zs_sum: f64,
    valid: u32,
    all_sum: f64,
    all_zs_sum: f64,
    all: u32,
    min: f64,
    max: f64,
    cou: f64,
}

impl Default for HourAcc {
    fn default() -> Self {
        HourAcc {
            valid_sum: 0.0,
            valid_zs_sum: 0.0,
            valid: 0,
            all_sum: 0.0,
            all_zs_sum: 0.0,
            all: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            cou: 0.0,
        }
    }
}

/// What the current period (air: hour, water: day) holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Period {
    Normal,
    /// Factor index and the level it runs at.
    Exceedance(usize, f64),
}

/// One simulated data logger.
#[derive(Debug, Clone)]
pub struct Logger {
    mn: String,
    medium: Medium,
    factors: &'static [FactorSpec],
    interval: u32,
    rng: Rng,
    /// Per-factor baselines.
    base: Vec<f64>,
    /// Duct cross-section for air, m².
    area: f64,
    reference_o2: f64,
    calibration_hour: u32,
    /// Seconds after the end of an interval the device sends its upload.
    send_delay: i64,
    settings: TrafficSettings,
    next_minute: NaiveDateTime,
    /// An hourly packet due before the next minute packet.
    hour_due: Option<NaiveDateTime>,
    acc: [HourAcc; MAX_FACTORS],
    hour_flags: (u32, u32, Option<char>),
    period: Period,
    period_key: i64,
    fault_key: i64,
    fault: Option<char>,
    seq: u64,
}

impl Logger {
    /// A logger whose first minute packet covers the interval starting at `start` (rounded down
    /// to the device's interval).
    pub fn new(spec: &DeviceSpec, start: NaiveDateTime, settings: TrafficSettings) -> Logger {
        let seed = hash(&spec.mn) ^ settings.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = Rng::new(seed);
        let (factors, intervals): (&'static [FactorSpec], [(u32, u64); 3]) = match spec.medium {
            Medium::Air { .. } => (&AIR, [(1, 70), (5, 20), (10, 10)]),
            Medium::Water => (&WATER, [(1, 20), (5, 30), (10, 50)]),
        };
        let mut roll = rng.below(100);
        let mut interval = intervals[0].0;
        for (minutes, weight) in intervals {
            if roll < weight {
                interval = minutes;
                break;
            }
            roll -= weight;
        }
        let base = factors
            .iter()
            .map(|f| rng.range(f.base.0, f.base.1))
            .collect();
        let area = rng.range(2.0, 8.0);
        let calibration_hour = rng.below(24) as u32;
        let send_delay = 2 + rng.below(25) as i64;
        let minute_of_day = start.hour() * 60 + start.minute();
        let aligned = start.with_nanosecond(0).unwrap_or(start)
            - Duration::minutes(i64::from(minute_of_day % interval))
            - Duration::seconds(i64::from(start.second()));
        Logger {
            mn: spec.mn.clone(),
            medium: spec.medium,
            factors,
            interval,
            rng,
            base,
            area,
            reference_o2: match spec.medium {
                Medium::Air { boiler: true } => 6.0,
                _ => 10.0,
            },
            calibration_hour,
            send_delay,
            settings,
            next_minute: aligned,
            hour_due: None,
            acc: [HourAcc::default(); MAX_FACTORS],
            hour_flags: (0, 0, None),
            period: Period::Normal,
            period_key: i64::MIN,
            fault_key: i64::MIN,
            fault: None,
            seq: 0,
        }
    }

    pub fn mn(&self) -> &str {
        &self.mn
    }

    pub fn medium(&self) -> Medium {
        self.medium
    }

    /// Minutes per minute packet.
    pub fn interval(&self) -> u32 {
        self.interval
    }

    /// When the device will send its next upload, on its own clock.
    pub fn next_send_time(&self) -> NaiveDateTime {
        match self.hour_due {
            Some(hour) => hour + Duration::hours(1) + Duration::seconds(self.send_delay + 10),
            None => {
                self.next_minute
                    + Duration::minutes(i64::from(self.interval))
                    + Duration::seconds(self.send_delay)
            }
        }
    }

    /// Appends the next upload, framed, to `out`, and says what it is.
    pub fn next_packet(&mut self, out: &mut Vec<u8>) -> Upload {
        let sent_at = self.next_send_time();
        // The frame is written in place: `##`, a length to fill in, the segment, its CRC.
        let frame_start = out.len();
        out.extend_from_slice(b"##0000");
        let segment_start = out.len();
        let (cn, data_time) = match self.hour_due.take() {
            Some(hour) => {
                self.write_hour(hour, sent_at, out);
                (2061, hour)
            }
            None => {
                let t = self.next_minute;
                self.write_minute(t, sent_at, out);
                self.next_minute = t + Duration::minutes(i64::from(self.interval));
                if self.next_minute.minute() == 0 {
                    self.hour_due = Some(self.next_minute - Duration::hours(1));
                }
                (2051, t)
            }
        };
        let qn = digits(sent_at) * 1000 + self.seq % 1000;
        self.seq += 1;
        // Segments stay far below the 1024-byte limit (and 9999, the length field's).
        let len = (out.len() - segment_start) as u64;
        let mut length = Vec::with_capacity(4);
        push_padded(&mut length, len, 4);
        out[frame_start + 2..segment_start].copy_from_slice(&length);
        let crc = cpaudit_hj212::crc::hj212(&out[segment_start..]);
        out.extend_from_slice(&cpaudit_hj212::crc::to_hex(crc));
        out.extend_from_slice(b"\r\n");
        Upload {
            cn,
            data_time: digits(data_time),
            qn,
            sent_at,
        }
    }

    fn st(&self) -> &'static str {
        match self.medium {
            Medium::Air { .. } => "31",
            Medium::Water => "32",
        }
    }

    fn header(&self, out: &mut Vec<u8>, cn: u16, sent_at: NaiveDateTime, data_time: NaiveDateTime) {
        out.extend_from_slice(b"QN=");
        push_time(out, sent_at);
        push_padded(out, self.seq % 1000, 3);
        out.extend_from_slice(b";ST=");
        out.extend_from_slice(self.st().as_bytes());
        out.extend_from_slice(b";CN=");
        push_uint(out, u64::from(cn));
        out.extend_from_slice(b";PW=123456;MN=");
        out.extend_from_slice(self.mn.as_bytes());
        out.extend_from_slice(b";Flag=5;CP=&&DataTime=");
        push_time(out, data_time);
    }

    /// Rolls the period that `t` falls in, if it is a new one.
    fn roll_periods(&mut self, t: NaiveDateTime) {
        let hour_key = t.and_utc().timestamp().div_euclid(3600);
        let key = match self.medium {
            Medium::Air { .. } => hour_key,
            Medium::Water => hour_key.div_euclid(24),
        };
        if key != self.period_key {
            self.period_key = key;
            self.period = if self.rng.chance(self.settings.exceedance_share) {
                let pollutants: Vec<usize> = (0..self.factors.len())
                    .filter(|&i| self.factors[i].role == Role::Pollutant)
                    .collect();
                let which = pollutants[self.rng.below(pollutants.len() as u64) as usize];
                let (low, high) = self.factors[which].exceed;
                Period::Exceedance(which, self.rng.range(low, high))
            } else {
                Period::Normal
            };
        }
        if hour_key != self.fault_key {
            self.fault_key = hour_key;
            self.fault = self.rng.chance(self.settings.invalid_share).then(|| {
                if self.rng.chance(0.5) {
                    'D'
                } else {
                    'M'
                }
            });
        }
    }

    fn minute_flag(&self, t: NaiveDateTime) -> char {
        if let Some(flag) = self.fault {
            return flag;
        }
        let calibrating = matches!(self.medium, Medium::Air { .. })
            && t.hour() == self.calibration_hour
            && t.minute() < 10;
        if calibrating {
            'C'
        } else {
            'N'
        }
    }

    fn minute_values(&mut self, t: NaiveDateTime) -> [Stat; MAX_FACTORS] {
        // A daily load curve: low at night, high in the afternoon.
        let hour = f64::from(t.hour()) + f64::from(t.minute()) / 60.0;
        let load = 0.9 + 0.1 * ((hour - 8.0) / 24.0 * std::f64::consts::TAU).sin();
        let seconds = f64::from(self.interval) * 60.0;
        let mut stats = [Stat::default(); MAX_FACTORS];
        match self.medium {
            Medium::Air { .. } => {
                let velocity = self.base[6] * load * self.rng.noise(AIR[6].spread);
                let flow = velocity * self.area;
                let o2 = (self.base[4] * self.rng.noise(AIR[4].spread)).clamp(3.0, 19.0);
                for (i, spec) in AIR.iter().enumerate() {
                    let avg = match (i, self.period) {
                        (0, _) => flow,
                        (4, _) => o2,
                        (6, _) => velocity,
                        (5, _) => self.base[5] * self.rng.noise(spec.spread),
                        (i, Period::Exceedance(which, level)) if i == which => {
                            level * self.rng.noise(0.05)
                        }
                        _ => self.base[i] * load * self.rng.noise(spec.spread),
                    };
                    stats[i] = self.spread_stat(avg, spec.spread);
                    match spec.role {
                        Role::Flow => stats[i].cou = flow * seconds,
                        Role::Pollutant => {
                            stats[i].cou = avg * flow * seconds * 1e-6;
                            stats[i].zs = avg * (21.0 - self.reference_o2) / (21.0 - o2);
                        }
                        Role::Condition => {}
                    }
                }
            }
            Medium::Water => {
                let flow = self.base[0] * load * self.rng.noise(WATER[0].spread);
                for (i, spec) in WATER.iter().enumerate() {
                    let avg = match (i, self.period) {
                        (0, _) => flow,
                        (i, Period::Exceedance(which, level)) if i == which => {
                            level * self.rng.noise(0.05)
                        }
                        (3, _) => self.base[3] + 0.1 * (self.rng.unit() - 0.5),
                        _ => self.base[i] * self.rng.noise(spec.spread),
                    };
                    stats[i] = self.spread_stat(avg, spec.spread);
                    match spec.role {
                        // L/s over the interval, in m³.
                        Role::Flow => stats[i].cou = flow * seconds / 1000.0,
                        // mg/L × L = mg, in kg.
                        Role::Pollutant => stats[i].cou = avg * flow * seconds * 1e-6,
                        Role::Condition => {}
                    }
                }
            }
        }
        stats
    }

    fn spread_stat(&mut self, avg: f64, spread: f64) -> Stat {
        Stat {
            avg,
            min: avg * (1.0 - spread * self.rng.unit()),
            max: avg * (1.0 + spread * self.rng.unit()),
            cou: 0.0,
            zs: 0.0,
        }
    }

    fn write_minute(&mut self, t: NaiveDateTime, sent_at: NaiveDateTime, out: &mut Vec<u8>) {
        self.roll_periods(t);
        let flag = self.minute_flag(t);
        let stats = self.minute_values(t);
        self.header(out, 2051, sent_at, t);
        let zs = matches!(self.medium, Medium::Air { .. });
        for (i, (spec, stat)) in self.factors.iter().zip(&stats).enumerate() {
            write_group(out, spec, stat, flag, zs);
            let acc = &mut self.acc[i];
            acc.all += 1;
            acc.all_sum += stat.avg;
            acc.all_zs_sum += stat.zs;
            if flag == 'N' {
                acc.valid += 1;
                acc.valid_sum += stat.avg;
                acc.valid_zs_sum += stat.zs;
            }
            acc.min = acc.min.min(stat.min);
            acc.max = acc.max.max(stat.max);
            acc.cou += stat.cou;
        }
        out.extend_from_slice(b"&&");
        let (normal, total, abnormal) = &mut self.hour_flags;
        *total += 1;
        if flag == 'N' {
            *normal += 1;
        } else {
            *abnormal = Some(flag);
        }
    }

    fn write_hour(&mut self, hour: NaiveDateTime, sent_at: NaiveDateTime, out: &mut Vec<u8>) {
        let (normal, total, abnormal) = std::mem::take(&mut self.hour_flags);
        // Flue gas: valid when at least 75 % of the minutes are; water: one abnormal minute
        // makes the hour abnormal (HJ 212-2017 notes to C.16 and C.17).
        let flag = match self.medium {
            Medium::Air { .. } if normal * 4 >= total * 3 => 'N',
            Medium::Air { .. } => abnormal.filter(|&f| f != 'C').unwrap_or('D'),
            Medium::Water => abnormal.unwrap_or('N'),
        };
        self.header(out, 2061, sent_at, hour);
        let zs = matches!(self.medium, Medium::Air { .. });
        let accs = std::mem::take(&mut self.acc);
        for (spec, acc) in self.factors.iter().zip(&accs) {
            let (sum, zs_sum, n) = if acc.valid > 0 {
                (acc.valid_sum, acc.valid_zs_sum, acc.valid)
            } else {
                (acc.all_sum, acc.all_zs_sum, acc.all.max(1))
            };
            let stat = Stat {
                avg: sum / f64::from(n),
                min: if acc.all > 0 { acc.min } else { 0.0 },
                max: if acc.all > 0 { acc.max } else { 0.0 },
                cou: acc.cou,
                zs: zs_sum / f64::from(n),
            };
            write_group(out, spec, &stat, flag, zs);
        }
        out.extend_from_slice(b"&&");
    }
}

fn write_group(out: &mut Vec<u8>, spec: &FactorSpec, stat: &Stat, flag: char, zs: bool) {
    out.push(b';');
    let item = |out: &mut Vec<u8>, suffix: &[u8]| {
        out.extend_from_slice(spec.code.as_bytes());
        out.push(b'-');
        out.extend_from_slice(suffix);
        out.push(b'=');
    };
    if spec.role != Role::Condition {
        item(out, b"Cou");
        push_fixed(out, stat.cou, spec.cou_decimals);
        out.push(b',');
    }
    item(out, b"Min");
    push_fixed(out, stat.min, spec.decimals);
    out.push(b',');
    item(out, b"Avg");
    push_fixed(out, stat.avg, spec.decimals);
    out.push(b',');
    item(out, b"Max");
    push_fixed(out, stat.max, spec.decimals);
    out.push(b',');
    if zs && spec.role == Role::Pollutant {
        item(out, b"ZsAvg");
        push_fixed(out, stat.zs, spec.decimals);
        out.push(b',');
    }
    item(out, b"Flag");
    // Flags are ASCII letters.
    out.push(flag as u8);
}

/// YYYYMMDDhhmmss as an integer.
pub fn digits(t: NaiveDateTime) -> u64 {
    let date = u64::from(t.year().unsigned_abs()) * 10_000
        + u64::from(t.month()) * 100
        + u64::from(t.day());
    let time = u64::from(t.hour()) * 10_000 + u64::from(t.minute()) * 100 + u64::from(t.second());
    date * 1_000_000 + time
}

fn push_time(out: &mut Vec<u8>, t: NaiveDateTime) {
    push_padded(out, digits(t), 14);
}

fn push_uint(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_padded(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

/// `value` with exactly `decimals` decimals, without going through float formatting.
fn push_fixed(out: &mut Vec<u8>, value: f64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    let scaled = (value * scale as f64).round();
    if scaled < 0.0 {
        out.push(b'-');
    }
    let scaled = scaled.abs() as u64;
    push_uint(out, scaled / scale);
    if decimals > 0 {
        out.push(b'.');
        push_padded(out, scaled % scale, decimals as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpaudit_hj212::{decode_packet, ItemKind, Tolerance};

    fn start() -> NaiveDateTime {
        "2026-12-01T00:00:00".parse().unwrap()
    }

    fn spec(medium: Medium, mn: &str) -> DeviceSpec {
        DeviceSpec {
            mn: mn.to_string(),
            medium,
        }
    }

    /// (code, suffix) → value of every factor item of a packet.
    fn values(wire: &[u8]) -> Vec<(String, String, f64)> {
        let packet = decode_packet(wire, &Tolerance::STRICT).unwrap();
        let mut found = Vec::new();
        for group in packet.cp().groups() {
            for item in group.items() {
                if let ItemKind::Factor { code, suffix } = item.kind() {
                    if let Some(v) = item.as_f64() {
                        found.push((code.to_string(), format!("{suffix:?}"), v));
                    }
                }
            }
        }
        found
    }

    #[test]
    fn numbers_are_written_with_fixed_decimals() {
        let mut s = Vec::new();
        for (value, decimals) in [(12.345, 2), (0.004, 2), (-1.5, 1), (7.0, 0), (0.00012, 4)] {
            push_fixed(&mut s, value, decimals);
            s.push(b' ');
        }
        assert_eq!(s, b"12.35 0.00 -1.5 7 0.0001 ");
        assert_eq!(
            digits("2027-01-15T09:05:07".parse().unwrap()),
            20270115090507
        );
    }

    #[test]
    fn packets_are_valid_2017_uploads_of_realistic_size() {
        for (medium, st, mn) in [
            (
                Medium::Air { boiler: true },
                "31",
                "010000A8900016F000000001",
            ),
            (Medium::Water, "32", "010000A89000210000000002"),
        ] {
            let mut logger = Logger::new(&spec(medium, mn), start(), TrafficSettings::default());
            let mut qns = std::collections::HashSet::new();
            for _ in 0..200 {
                let mut wire = Vec::new();
                let upload = logger.next_packet(&mut wire);
                let packet = decode_packet(&wire, &Tolerance::STRICT).unwrap();
                assert_eq!(packet.st(), st);
                assert_eq!(packet.mn(), mn);
                assert_eq!(packet.cn(), upload.cn.to_string());
                assert!(packet.ack_requested(), "Flag=5 asks for a 9014 reply");
                assert_eq!(packet.qn().unwrap(), format!("{:017}", upload.qn));
                assert_eq!(
                    packet.data_time().unwrap(),
                    format!("{:014}", upload.data_time)
                );
                assert!(qns.insert(upload.qn), "QN unique per device");
                let len = wire.len();
                match medium {
                    Medium::Air { .. } => assert!((600..=900).contains(&len), "{len}"),
                    Medium::Water => assert!((300..=600).contains(&len), "{len}"),
                }
            }
        }
    }

    #[test]
    fn data_time_advances_by_the_interval_with_an_hourly_packet_after_each_hour() {
        let device = spec(Medium::Air { boiler: false }, "010000A8900016F000000003");
        let mut logger = Logger::new(&device, start(), TrafficSettings::default());
        let interval = logger.interval();
        let per_hour = 60 / interval as usize;
        let mut uploads = Vec::new();
        for _ in 0..3 * (per_hour + 1) {
            uploads.push(logger.next_packet(&mut Vec::new()));
        }
        let minutes: Vec<u64> = uploads[..per_hour].iter().map(|u| u.data_time).collect();
        assert!(uploads[..per_hour].iter().all(|u| u.cn == 2051));
        assert_eq!(minutes[0], 20261201000000);
        assert_eq!(minutes[1], 20261201000000 + u64::from(interval) * 100);
        assert_eq!(uploads[per_hour].cn, 2061);
        assert_eq!(uploads[per_hour].data_time, 20261201000000);
        assert_eq!(uploads[per_hour + 1].data_time, 20261201010000);
        assert_eq!(uploads[2 * per_hour + 1].cn, 2061);
        assert_eq!(uploads[2 * per_hour + 1].data_time, 20261201010000);
        // Each upload is sent after the interval it covers, in order.
        assert!(uploads.windows(2).all(|w| w[0].sent_at < w[1].sent_at));
        assert!(uploads.iter().all(|u| u.sent_at > start()));
    }

    #[test]
    fn the_hourly_packet_is_the_mean_of_the_minutes() {
        let settings = TrafficSettings {
            invalid_share: 0.0,
            ..TrafficSettings::default()
        };
        let device = spec(Medium::Water, "010000A89000210000000004");
        let mut logger = Logger::new(&device, start(), settings);
        let per_hour = 60 / logger.interval() as usize;
        let mut cod = Vec::new();
        let mut flow_cou = 0.0;
        for _ in 0..per_hour {
            let mut wire = Vec::new();
            logger.next_packet(&mut wire);
            for (code, suffix, v) in values(&wire) {
                match (code.as_str(), suffix.as_str()) {
                    ("w01018", "Avg") => cod.push(v),
                    ("w00000", "Cou") => flow_cou += v,
                    _ => {}
                }
            }
        }
        let mut wire = Vec::new();
        assert_eq!(logger.next_packet(&mut wire).cn, 2061);
        let hour = values(&wire);
        let get = |code: &str, suffix: &str| {
            hour.iter()
                .find(|(c, s, _)| c == code && s == suffix)
                .unwrap()
                .2
        };
        let mean = cod.iter().sum::<f64>() / cod.len() as f64;
        assert!((get("w01018", "Avg") - mean).abs() < 0.1 + 1e-9);
        assert!((get("w00000", "Cou") - flow_cou).abs() < 0.01 * per_hour as f64);
    }

    #[test]
    fn exceedance_periods_lift_a_pollutant_far_above_the_limits() {
        let settings = TrafficSettings {
            exceedance_share: 0.5,
            invalid_share: 0.0,
            seed: 7,
        };
        let device = spec(Medium::Air { boiler: true }, "010000A8900016F000000005");
        let mut logger = Logger::new(&device, start(), settings);
        let (mut high, mut normal) = (0, 0);
        for _ in 0..2000 {
            let mut wire = Vec::new();
            if logger.next_packet(&mut wire).cn != 2061 {
                continue;
            }
            let hour = values(&wire);
            let so2 = hour.iter().find(|(c, s, _)| c == "a21026" && s == "Avg");
            let pm = hour.iter().find(|(c, s, _)| c == "a34013" && s == "Avg");
            if so2.unwrap().2 > 550.0 || pm.unwrap().2 > 120.0 {
                high += 1;
            } else {
                normal += 1;
            }
        }
        assert!(high > 0 && normal > 0, "{high} high, {normal} normal hours");

        let quiet = TrafficSettings {
            exceedance_share: 0.0,
            ..settings
        };
        let mut logger = Logger::new(&device, start(), quiet);
        for _ in 0..500 {
            let mut wire = Vec::new();
            logger.next_packet(&mut wire);
            for (code, suffix, v) in values(&wire) {
                if code == "a21026" && suffix == "Avg" {
                    assert!(v < 100.0, "{v}");
                }
            }
        }
    }

    #[test]
    fn the_same_device_and_start_give_the_same_packets() {
        let device = spec(Medium::Water, "010000A89000210000000006");
        let run = || {
            let mut logger = Logger::new(&device, start(), TrafficSettings::default());
            let mut wire = Vec::new();
            for _ in 0..50 {
                logger.next_packet(&mut wire);
            }
            wire
        };
        assert_eq!(run(), run());
    }
}

#[cfg(test)]
mod speed {
    use super::*;

    /// `cargo test --release --lib generation_speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn generation_speed() {
        let devices = [
            DeviceSpec {
                mn: "010000A8900016F000000001".into(),
                medium: Medium::Air { boiler: true },
            },
            DeviceSpec {
                mn: "010000A89000210000000002".into(),
                medium: Medium::Water,
            },
        ];
        for d in &devices {
            let mut logger = Logger::new(
                d,
                "2027-01-01T00:00:00".parse().unwrap(),
                TrafficSettings::default(),
            );
            let mut wire = Vec::new();
            logger.next_packet(&mut wire);
            println!("{}", String::from_utf8_lossy(&wire));
            let started = std::time::Instant::now();
            let mut bytes = 0;
            for _ in 0..200_000 {
                wire.clear();
                logger.next_packet(&mut wire);
                bytes += wire.len();
            }
            let s = started.elapsed().as_secs_f64();
            println!(
                "{:.0} packets/s, {:.0} bytes avg",
                200_000.0 / s,
                bytes as f64 / 200_000.0
            );
        }
    }
}
