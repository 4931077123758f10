//! Deterministic demo data: enterprises with outlets and monitoring devices, parks,
//! consultancies and experts, generated from the reference data and a seed.
//!
//! The same reference data, seed and count always give the same data on every platform
//! (ChaCha8 is portable; `rand` keeps its sampling algorithms within a release series), so demos,
//! screenshots and benchmarks are reproducible. Nothing is specific to Gansu: places come from the jurisdictions file and
//! industries from the industries file; only GB/T 4754 (a national standard) decides the trade
//! words of enterprise names.
//!
//! The generator is linear in the enterprise count: uniqueness is kept with hash sets, so
//! 100,000 enterprises (the national benchmark scale) take a fraction of a second in release
//! builds.

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::credit_code::{check_char, CreditCode, ALPHABET};
use crate::reference::{District, ReferenceData};
use crate::registry::{
    EnterpriseStatus, Industry, Jurisdiction, OutletKind, SizeClass, ValidEnterprise,
};

/// A generated data set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DemoData {
    /// `enterprises[0]` is in the first city of the reference data (the capital: 兰州市 620100
    /// for Gansu) and active, so that a demo enterprise login can rely on it.
    pub enterprises: Vec<DemoEnterprise>,
    pub parks: Vec<DemoPark>,
    pub consultancies: Vec<DemoConsultancy>,
    pub experts: Vec<DemoExpert>,
}

/// An enterprise with its discharge outlets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoEnterprise {
    pub enterprise: ValidEnterprise,
    pub outlets: Vec<DemoOutlet>,
}

/// A discharge outlet (排放口) as a discharge permit lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoOutlet {
    pub kind: OutletKind,
    /// Permit practice (HJ 608): "DA001", "DA002", … for air, "DW001", … for water.
    pub code: String,
    /// e.g. "1号锅炉烟囱", "废水总排放口".
    pub name: String,
    /// HJ 212-2017 device numbers (MN, 24 upper-case hex digits), unique over the whole data set.
    /// Empty for an outlet without online monitoring.
    pub devices: Vec<String>,
}

/// An industrial park (工业园区) whose members can be audited as a whole (seed §三(四)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoPark {
    pub name: String,
    pub jurisdiction_code: String,
    /// Indices into [`DemoData::enterprises`], ascending; all in the park's city. No enterprise
    /// belongs to two parks.
    pub members: Vec<usize>,
}

/// A consultancy (咨询服务机构) that enterprises engage for their audits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoConsultancy {
    pub name: String,
    pub credit_code: CreditCode,
    pub jurisdiction_code: String,
    /// Contact person and a masked telephone number, e.g. "张伟 139****2048".
    pub contact: String,
    /// Exactly one consultancy of a data set is sanctioned, so the refusal path can be shown.
    pub sanctioned: bool,
}

/// A member of the expert pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoExpert {
    pub name: String,
    /// 高级工程师, 正高级工程师, 教授, …
    pub title: String,
    /// Some experts work for a demo enterprise or consultancy, so conflict exclusion can be shown.
    pub employer: String,
    /// Key industry ids.
    pub specialties: Vec<String>,
    pub jurisdiction_code: String,
    /// Identity card number with the birth date masked, e.g. "620102********1234".
    pub id_number_masked: String,
}

/// Number of consultancies generated.
pub const CONSULTANCY_COUNT: usize = 8;
/// Number of experts generated.
pub const EXPERT_COUNT: usize = 40;

/// Generates a demo data set of `enterprise_count` enterprises.
///
/// When `enterprise_count` is at least the number of cities and of industry classes (300 is
/// plenty for Gansu), every city and every industry class has an enterprise. Reference data
/// without cities or industries yields an empty data set.
pub fn generate(reference: &ReferenceData, seed: u64, enterprise_count: usize) -> DemoData {
    let places = places(reference);
    let industries: Vec<&Industry> = reference.industries.iter().collect();
    if places.is_empty() || industries.is_empty() {
        return DemoData::default();
    }
    let mut generator = Generator {
        rng: ChaCha8Rng::seed_from_u64(seed),
        province_name: reference
            .province()
            .map(|p| p.name_zh.clone())
            .unwrap_or_default(),
        places,
        names: HashSet::new(),
        credit_codes: HashSet::new(),
        next_serial: 0,
    };
    // Device serials start at a seed-dependent offset so that data sets of different seeds are
    // very unlikely to share MNs; a 32-bit offset plus any realistic count stays far below the
    // 36-bit serial field.
    generator.next_serial = u64::from(generator.rng.gen::<u32>());

    let enterprises = generator.enterprises(&industries, enterprise_count);
    let parks = generator.parks(&enterprises);
    let consultancies = generator.consultancies();
    let experts = generator.experts(reference, &enterprises, &consultancies);
    DemoData {
        enterprises,
        parks,
        consultancies,
        experts,
    }
}

/// A city-level unit with what the generator needs to place an enterprise in it.
struct Place<'a> {
    city: &'a Jurisdiction,
    short_name: &'a str,
    division_code: String,
    districts: &'a [District],
}

fn places(reference: &ReferenceData) -> Vec<Place<'_>> {
    // Data built by hand may lack details; fall back to codes that are still valid credit-code
    // characters (digits) so that generated codes stay valid.
    let province_code = reference
        .province()
        .map(|p| p.code.as_str())
        .filter(|code| is_division_code(code))
        .unwrap_or("000000");
    reference
        .cities()
        .map(|city| match reference.detail(&city.code) {
            Some(detail) => Place {
                city,
                short_name: &detail.short_name_zh,
                division_code: detail.division_code.clone(),
                districts: &detail.districts,
            },
            None => Place {
                city,
                short_name: &city.name_zh,
                division_code: if is_division_code(&city.code) {
                    city.code.clone()
                } else {
                    province_code.to_string()
                },
                districts: &[],
            },
        })
        .collect()
}

fn is_division_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

struct Generator<'a> {
    rng: ChaCha8Rng,
    province_name: String,
    places: Vec<Place<'a>>,
    /// 64-bit hashes of the enterprise and consultancy names given out so far. Hashes instead
    /// of the names save 100,000 string copies; two different names with the same hash only
    /// cost a needless retry, never a duplicate.
    names: HashSet<u64>,
    /// Credit codes given out so far (enterprises and consultancies), packed 7 bits a character.
    credit_codes: HashSet<u128>,
    /// Serial number of the next monitoring device.
    next_serial: u64,
}

impl<'a> Generator<'a> {
    fn enterprises(&mut self, industries: &[&Industry], count: usize) -> Vec<DemoEnterprise> {
        // The first `cover` enterprises walk through every city and every industry class, so a
        // few hundred enterprises cover them all; the rest are drawn at random. Industries are
        // walked in a shuffled order so that the pairing of city and class varies with the seed,
        // except that the first enterprise keeps the file's first class.
        let mut industry_order: Vec<usize> = (0..industries.len()).collect();
        industry_order[1..].shuffle(&mut self.rng);
        let cover = self.places.len().max(industries.len());
        let mut enterprises = Vec::with_capacity(count);
        for index in 0..count {
            let (place, industry) = if index < cover {
                (
                    index % self.places.len(),
                    industries[industry_order[index % industries.len()]],
                )
            } else {
                (
                    self.random_place(),
                    industries[self.rng.gen_range(0..industries.len())],
                )
            };
            enterprises.push(self.enterprise(index, place, industry));
        }
        enterprises
    }

    /// A city index, the capital (first city) weighted as a quarter of all enterprises.
    fn random_place(&mut self) -> usize {
        if self.rng.gen_bool(0.25) {
            0
        } else {
            self.rng.gen_range(0..self.places.len())
        }
    }

    fn enterprise(&mut self, index: usize, place: usize, industry: &Industry) -> DemoEnterprise {
        let province_organised = industry.province_industry.is_some();
        let size_weights: [(SizeClass, u32); 4] = if province_organised {
            [
                (SizeClass::Large, 25),
                (SizeClass::Medium, 35),
                (SizeClass::Small, 30),
                (SizeClass::Micro, 10),
            ]
        } else {
            [
                (SizeClass::Large, 5),
                (SizeClass::Medium, 20),
                (SizeClass::Small, 45),
                (SizeClass::Micro, 30),
            ]
        };
        // The first enterprise is the demo login's: a large key emission unit shows the most.
        let first = index == 0;
        let size_class = if first {
            SizeClass::Large
        } else {
            self.weighted(&size_weights)
        };
        let key_probability = match (province_organised, industry.key_industry.is_some()) {
            (true, _) => 0.8,
            (false, true) => 0.35,
            (false, false) => 0.15,
        };
        let key_emission_unit = first || self.rng.gen_bool(key_probability);
        let status = if !first && self.rng.gen_bool(0.03) {
            EnterpriseStatus::Closed
        } else {
            EnterpriseStatus::Active
        };
        let name = self.company_name(place, trade_words(&industry.code), &ENTERPRISE_SUFFIXES);
        let (district_name, division_code) = self.district(place);
        let credit_code = self.credit_code(&division_code);
        let permit_probability = if key_emission_unit { 0.97 } else { 0.75 };
        let permit_number =
            (first || self.rng.gen_bool(permit_probability)).then(|| format!("{credit_code}001P"));
        let address = self.address(place, district_name);
        let legal_representative = self.person_name();
        let outlets = self.outlets(industry, key_emission_unit);
        DemoEnterprise {
            enterprise: ValidEnterprise {
                name,
                credit_code,
                legal_representative,
                address,
                jurisdiction_code: self.places[place].city.code.clone(),
                industry_code: industry.code.clone(),
                size_class,
                key_emission_unit,
                permit_number,
                status,
            },
            outlets,
        }
    }

    fn weighted<T: Copy>(&mut self, choices: &[(T, u32)]) -> T {
        let total: u32 = choices.iter().map(|(_, weight)| weight).sum();
        let mut roll = self.rng.gen_range(0..total.max(1));
        for (choice, weight) in choices {
            if roll < *weight {
                return *choice;
            }
            roll -= weight;
        }
        choices[choices.len() - 1].0
    }

    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.rng.gen_range(0..items.len())]
    }

    /// A company name not given out before: city short name + 字号 + trade word + legal form.
    /// Two-character 字号 are tried first, as most real names have them; after a few
    /// collisions a three-character one, whose space (~200,000 per city and trade) cannot run
    /// out at any realistic count.
    fn company_name(&mut self, place: usize, trades: &[&str], suffixes: &[&str]) -> String {
        let mut attempt = 0u32;
        loop {
            let length = if attempt < 8 { 2 } else { 3 };
            let mut name = String::from(self.places[place].short_name);
            self.push_distinct_chars(&mut name, &TRADE_NAME_CHARS, length);
            attempt += 1;
            let trade = self.pick(trades);
            if trade.chars().next().is_some_and(|c| name.ends_with(c)) {
                continue;
            }
            name.push_str(trade);
            name.push_str(self.pick(suffixes));
            let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(&name);
            if self.names.insert(hash) {
                return name;
            }
        }
    }

    /// A district of the place and the division code its enterprises register under.
    fn district(&mut self, place: usize) -> (Option<&'a str>, String) {
        let districts: &'a [District] = self.places[place].districts;
        if districts.is_empty() {
            return (None, self.places[place].division_code.clone());
        }
        let district = &districts[self.rng.gen_range(0..districts.len())];
        (
            Some(district.name_zh.as_str()),
            district.division_code.clone(),
        )
    }

    /// A new credit code: "91" (enterprise registered with market regulation) + division code +
    /// nine random characters + the check character.
    ///
    /// The nine characters look like real ones: either a pre-2015 organisation code (eight
    /// digits and its GB 11714 check character) or a code issued since, which starts with "MA".
    fn credit_code(&mut self, division_code: &str) -> CreditCode {
        let alphabet = ALPHABET.as_bytes();
        loop {
            let mut text = String::with_capacity(18);
            text.push_str("91");
            text.push_str(division_code);
            if self.rng.gen_bool(0.5) {
                text.push_str("MA");
                for _ in 0..7 {
                    text.push(alphabet[self.rng.gen_range(0..alphabet.len())] as char);
                }
            } else {
                let digits: [u32; 8] = std::array::from_fn(|_| self.rng.gen_range(0..10));
                for digit in digits {
                    text.push(char::from(b'0' + digit as u8));
                }
                text.push(organization_code_check(&digits));
            }
            let Some(check) = check_char(&text) else {
                // Only reachable with a malformed division code; fall back to a valid one.
                return self.credit_code("000000");
            };
            text.push(check);
            // 18 ASCII characters of 7 bits fit in 126 bits.
            let packed = text
                .bytes()
                .fold(0u128, |packed, byte| (packed << 7) | u128::from(byte));
            if self.credit_codes.contains(&packed) {
                continue;
            }
            if let Ok(code) = CreditCode::parse(&text) {
                self.credit_codes.insert(packed);
                return code;
            }
        }
    }

    fn address(&mut self, place: usize, district: Option<&str>) -> String {
        let road = self.pick(&ROADS);
        let number = self.rng.gen_range(1..=999);
        let place = &self.places[place];
        format!(
            "{}{}{}{road}{number}号",
            self.province_name,
            place.city.name_zh,
            district.unwrap_or("")
        )
    }

    fn person_name(&mut self) -> String {
        // The lower of two draws favours the common surnames at the head of the list.
        let first = self.rng.gen_range(0..SURNAMES.len());
        let second = self.rng.gen_range(0..SURNAMES.len());
        let mut name = String::from(SURNAMES[first.min(second)]);
        let given_length = if self.rng.gen_bool(0.3) { 1 } else { 2 };
        self.push_distinct_chars(&mut name, &GIVEN_NAME_CHARS, given_length);
        name
    }

    /// Appends `count` characters drawn from `pool`, never repeating the character before
    /// ("白银银通", "隆隆" read as typing errors in a name). `pool` holds at least two entries.
    fn push_distinct_chars(&mut self, text: &mut String, pool: &[&str], count: usize) {
        for _ in 0..count {
            let mut next = self.pick(pool);
            while text.ends_with(next) {
                next = self.pick(pool);
            }
            text.push_str(next);
        }
    }

    fn outlets(&mut self, industry: &Industry, key_emission_unit: bool) -> Vec<DemoOutlet> {
        let count = self.weighted(&[(1usize, 50), (2, 35), (3, 15)]);
        let first_kind = if discharges_mainly_water(&industry.code) {
            OutletKind::Water
        } else {
            OutletKind::Air
        };
        // Key emission units must monitor online, so their outlets nearly always have devices.
        let device_weights: [(usize, u32); 4] = if key_emission_unit {
            [(0, 5), (1, 55), (2, 32), (3, 8)]
        } else {
            [(0, 35), (1, 45), (2, 18), (3, 2)]
        };
        let boiler = industry.code.starts_with("44");
        let (mut air, mut water) = (0, 0);
        let mut outlets = Vec::with_capacity(count);
        for position in 0..count {
            let kind = if position == 0 || self.rng.gen_bool(0.5) {
                first_kind
            } else {
                match first_kind {
                    OutletKind::Air => OutletKind::Water,
                    OutletKind::Water => OutletKind::Air,
                }
            };
            let (code, name) = match kind {
                OutletKind::Air => {
                    air += 1;
                    let name = if boiler || self.rng.gen_bool(0.3) {
                        format!("{air}号锅炉烟囱")
                    } else {
                        format!("{air}号工艺废气排气筒")
                    };
                    (format!("DA{air:03}"), name)
                }
                OutletKind::Water => {
                    water += 1;
                    let name = if water == 1 {
                        "废水总排放口".to_string()
                    } else {
                        format!("{water}号车间废水排放口")
                    };
                    (format!("DW{water:03}"), name)
                }
            };
            let device_count = self.weighted(&device_weights);
            let devices = (0..device_count)
                .map(|_| self.device_number(kind))
                .collect();
            outlets.push(DemoOutlet {
                kind,
                code,
                name,
                devices,
            });
        }
        outlets
    }

    /// An HJ 212-2017 MN: the EPC-96 layout of the standard (header 8 bits, manufacturer 28,
    /// object class 24, serial 36) written as 24 hex digits. Serials are never reused, which
    /// makes every MN of a data set unique without a lookup.
    fn device_number(&mut self, kind: OutletKind) -> String {
        const HEADER: u32 = 0x01;
        // Invented manufacturer numbers and object classes (flue gas CEMS, water analysers).
        const MANUFACTURERS: [u32; 6] = [
            0x0000A89, 0x00103C2, 0x0021F57, 0x0034E10, 0x0040B6D, 0x0057A93,
        ];
        const AIR_CLASSES: [u32; 3] = [0x00016F, 0x000171, 0x000180];
        const WATER_CLASSES: [u32; 3] = [0x000210, 0x000211, 0x000214];
        let manufacturer = MANUFACTURERS[self.rng.gen_range(0..MANUFACTURERS.len())];
        let classes = match kind {
            OutletKind::Air => &AIR_CLASSES,
            OutletKind::Water => &WATER_CLASSES,
        };
        let class = classes[self.rng.gen_range(0..classes.len())];
        let serial = self.next_serial & 0xF_FFFF_FFFF;
        self.next_serial += 1;
        format!("{HEADER:02X}{manufacturer:07X}{class:06X}{serial:09X}")
    }

    fn parks(&mut self, enterprises: &[DemoEnterprise]) -> Vec<DemoPark> {
        let count = self.rng.gen_range(3..=5).min(self.places.len());
        let chosen = rand::seq::index::sample(&mut self.rng, self.places.len(), count).into_vec();
        let mut parks = Vec::with_capacity(count);
        for (position, place) in chosen.into_iter().enumerate() {
            let code = &self.places[place].city.code;
            let residents: Vec<usize> = enterprises
                .iter()
                .enumerate()
                .filter(|(_, e)| &e.enterprise.jurisdiction_code == code)
                .map(|(index, _)| index)
                .collect();
            // About two in five of the city's enterprises, at most 60: a park, not a city.
            let wanted = (residents.len() * 2 / 5).clamp(residents.len().min(1), 60);
            let mut members: Vec<usize> =
                rand::seq::index::sample(&mut self.rng, residents.len(), wanted)
                    .into_iter()
                    .map(|i| residents[i])
                    .collect();
            members.sort_unstable();
            parks.push(DemoPark {
                name: format!(
                    "{}{}",
                    self.places[place].short_name,
                    PARK_KINDS[position % PARK_KINDS.len()]
                ),
                jurisdiction_code: code.clone(),
                members,
            });
        }
        parks
    }

    fn consultancies(&mut self) -> Vec<DemoConsultancy> {
        let sanctioned = self.rng.gen_range(0..CONSULTANCY_COUNT);
        (0..CONSULTANCY_COUNT)
            .map(|index| {
                // Half sit in the capital, where most consultancies are.
                let place = if index % 2 == 0 {
                    0
                } else {
                    self.random_place()
                };
                let name = self.company_name(place, &CONSULTANCY_TRADES, &CONSULTANCY_SUFFIXES);
                let (_, division_code) = self.district(place);
                let credit_code = self.credit_code(&division_code);
                let contact = format!(
                    "{} {}****{:04}",
                    self.person_name(),
                    self.pick(&MOBILE_PREFIXES),
                    self.rng.gen_range(0..10_000)
                );
                DemoConsultancy {
                    name,
                    credit_code,
                    jurisdiction_code: self.places[place].city.code.clone(),
                    contact,
                    sanctioned: index == sanctioned,
                }
            })
            .collect()
    }

    fn experts(
        &mut self,
        reference: &ReferenceData,
        enterprises: &[DemoEnterprise],
        consultancies: &[DemoConsultancy],
    ) -> Vec<DemoExpert> {
        let key_ids: Vec<&str> = reference
            .key_industries
            .iter()
            .map(|k| k.id.as_str())
            .collect();
        let capital_code = self.places[0].city.code.clone();
        let capital_short = self.places[0].short_name.to_string();
        let institutions: Vec<String> = INSTITUTIONS
            .iter()
            .map(|pattern| {
                pattern
                    .replace("{province}", &self.province_name)
                    .replace("{capital}", &capital_short)
            })
            .collect();
        let mut names = HashSet::new();
        let mut experts = Vec::with_capacity(EXPERT_COUNT);
        for index in 0..EXPERT_COUNT {
            let name = loop {
                let name = self.person_name();
                if names.insert(name.clone()) {
                    break name;
                }
            };
            let title = self.weighted(&TITLES).to_string();
            // Some experts work for a demo enterprise or consultancy, which the panel draw
            // must exclude from reviewing that enterprise.
            let roll = self.rng.gen_range(0..10);
            let (employer, jurisdiction_code) = if roll < 2 && !enterprises.is_empty() {
                let e = &enterprises[self.rng.gen_range(0..enterprises.len())].enterprise;
                (e.name.clone(), e.jurisdiction_code.clone())
            } else if roll < 4 && !consultancies.is_empty() {
                let c = &consultancies[self.rng.gen_range(0..consultancies.len())];
                (c.name.clone(), c.jurisdiction_code.clone())
            } else {
                let institution = institutions[self.rng.gen_range(0..institutions.len())].clone();
                (institution, capital_code.clone())
            };
            // Every key industry has at least one expert: the i-th expert covers the i-th.
            let mut specialties = Vec::new();
            if !key_ids.is_empty() {
                specialties.push(key_ids[index % key_ids.len()].to_string());
                for _ in 0..self.rng.gen_range(0..=2) {
                    let extra = key_ids[self.rng.gen_range(0..key_ids.len())];
                    if !specialties.iter().any(|s| s == extra) {
                        specialties.push(extra.to_string());
                    }
                }
            }
            let id_number_masked = self.masked_id_number(&jurisdiction_code);
            experts.push(DemoExpert {
                name,
                title,
                employer,
                specialties,
                jurisdiction_code,
                id_number_masked,
            });
        }
        experts
    }

    /// An identity card number as lists publish it: the 6-digit division code of the place of
    /// registration, the 8-digit birth date masked, then 3 digits and the check character.
    fn masked_id_number(&mut self, jurisdiction_code: &str) -> String {
        let place = self
            .places
            .iter()
            .position(|p| p.city.code == jurisdiction_code)
            .unwrap_or(0);
        let (_, division_code) = self.district(place);
        let sequence = self.rng.gen_range(0..1000);
        let check = b"0123456789X"[self.rng.gen_range(0..11)] as char;
        format!("{division_code}********{sequence:03}{check}")
    }
}

/// The check character of an eight-digit organisation code (GB 11714): 11 - (Σ digit × weight
/// mod 11), where 10 is written X and 11 is written 0.
fn organization_code_check(digits: &[u32; 8]) -> char {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        value => char::from(b'0' + value as u8),
    }
}

/// The emission standard and source class a demo outlet is judged by (ids of
/// `rules/emission_limits.toml`), chosen from the enterprise's GB/T 4754 class and the outlet:
/// power and heat boilers by GB 13223-2011 (existing coal-fired unit; industrial boilers belong
/// under GB 13271-2014, which the limits file does not hold yet, so boiler stacks of other
/// industries take the same class); the first stack of a cement works (3011) is its kiln under
/// GB 4915-2013 and the others are its other equipment; the first stack of an ironworks (3110) is
/// its sinter machine head under GB 28662-2012 and the others sinter tail; any other stack is
/// judged by GB 16297-1996 (new source). A sewage treatment plant (4620) by GB 18918-2002 grade
/// 1A; workshop outlets of plating and non-ferrous smelting by GB 8978-1996's first-category
/// pollutants; any other water outlet by GB 8978-1996 grade 1. No demo region applies special
/// limits.
pub fn outlet_binding(
    industry_code: &str,
    outlet: &DemoOutlet,
) -> crate::emission_limits::OutletBinding {
    let first = outlet.code.ends_with("001");
    let (standard, class) = match outlet.kind {
        OutletKind::Air => {
            if outlet.name.contains("锅炉") || industry_code.starts_with("44") {
                ("gb13223-2011", "coal_boiler.existing")
            } else if industry_code == "3011" {
                (
                    "gb4915-2013",
                    if first {
                        "kiln.existing"
                    } else {
                        "other.existing"
                    },
                )
            } else if industry_code == "3110" {
                (
                    "gb28662-2012",
                    if first {
                        "sinter_head.existing"
                    } else {
                        "sinter_tail.existing"
                    },
                )
            } else {
                ("gb16297-1996", "general.new")
            }
        }
        OutletKind::Water => {
            let metals = industry_code == "3360" || industry_code.starts_with("32");
            if industry_code == "4620" {
                ("gb18918-2002", "grade_1a")
            } else if metals && !first {
                ("gb8978-1996", "first_category")
            } else {
                ("gb8978-1996", "grade_1")
            }
        }
    };
    crate::emission_limits::OutletBinding {
        standard: standard.to_string(),
        source_class: class.to_string(),
        special_limits: false,
    }
}

/// Industries whose main discharge is waste water, so their first outlet is a water outlet.
fn discharges_mainly_water(code: &str) -> bool {
    const WATER_DIVISIONS: [&str; 6] = ["13", "15", "17", "22", "27", "46"];
    WATER_DIVISIONS
        .iter()
        .any(|division| code.starts_with(division))
        || code == "3360"
}

/// The trade word (行业用语) of an enterprise name for a GB/T 4754 class: the class itself where
/// it has a telling word, else its division.
fn trade_words(code: &str) -> &'static [&'static str] {
    match code {
        "4411" | "4412" => &["热电", "发电", "电力"],
        "4430" => &["热力", "供热"],
        "2521" => &["焦化", "煤化工"],
        "2522" => &["煤化工", "化工"],
        "2530" => &["核燃料", "核技术"],
        "2621" | "2622" => &["化肥", "化工"],
        "2631" => &["农药", "化工"],
        "2641" => &["涂料", "化工"],
        "3011" => &["水泥", "建材"],
        "3041" => &["玻璃", "建材"],
        "3089" => &["耐火材料"],
        "3091" => &["炭素", "碳素"],
        "3140" => &["铁合金", "冶金"],
        "3218" => &["硅业", "冶金"],
        "3252" => &["铝业", "铝材"],
        "3311" => &["钢结构", "金属结构"],
        "3360" => &["表面处理", "电镀"],
        "1340" => &["糖业"],
        "1391" => &["淀粉", "薯业"],
        "1331" => &["油脂", "粮油"],
        "1511" => &["酒精", "生物科技"],
        "1515" => &["葡萄酒业", "酒业"],
        "2231" | "2926" => &["包装", "包装材料"],
        "2319" => &["印务", "包装印刷"],
        "7724" => &["环保科技", "危废处置"],
        "4620" => &["水务", "污水处理"],
        _ => match code.get(..2).unwrap_or("") {
            "06" => &["煤业", "矿业"],
            "07" => &["石油", "油气"],
            "08" => &["矿业", "铁矿"],
            "09" => &["矿业", "有色矿业"],
            "13" => &["食品", "农产品"],
            "17" => &["纺织", "印染"],
            "21" => &["家具", "木业"],
            "22" => &["纸业", "造纸"],
            "25" => &["石化", "炼化"],
            "26" => &["化工", "化学"],
            "27" => &["药业", "制药"],
            "30" => &["建材", "新型建材"],
            "31" => &["钢铁", "冶金"],
            "32" => &["有色金属", "冶炼"],
            "33" => &["金属制品"],
            "35" => &["装备制造", "机械"],
            "36" => &["汽车部件", "专用车"],
            "42" => &["再生资源", "资源利用"],
            "44" => &["能源", "电力"],
            "77" => &["环保", "环境工程"],
            _ => &["实业", "工业"],
        },
    }
}

const ENTERPRISE_SUFFIXES: [&str; 6] = [
    "有限公司",
    "有限公司",
    "有限公司",
    "有限责任公司",
    "有限责任公司",
    "股份有限公司",
];

const CONSULTANCY_TRADES: [&str; 5] = [
    "环境科技",
    "环保咨询",
    "节能环保技术",
    "清洁生产技术",
    "环境工程咨询",
];
const CONSULTANCY_SUFFIXES: [&str; 2] = ["有限公司", "有限责任公司"];

const PARK_KINDS: [&str; 5] = [
    "经济技术开发区",
    "高新技术产业开发区",
    "化工园区",
    "循环经济产业园",
    "工业园区",
];

/// Characters common in 字号 (trade names).
const TRADE_NAME_CHARS: [&str; 60] = [
    "恒", "鑫", "华", "泰", "瑞", "祥", "隆", "盛", "宏", "昌", "源", "达", "金", "天", "新", "兴",
    "丰", "通", "宇", "晟", "汇", "远", "安", "正", "信", "和", "德", "嘉", "铭", "锦", "诚", "益",
    "博", "荣", "凯", "腾", "钰", "润", "富", "中", "永", "建", "国", "海", "鼎", "利", "银", "祁",
    "陇", "河", "方", "元", "亨", "东", "西", "北", "峰", "佳", "圣", "创",
];

/// Common surnames, most common first (the draw favours the head of the list).
const SURNAMES: [&str; 80] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "马", "黄", "周", "吴", "徐", "孙", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "牛",
];

const GIVEN_NAME_CHARS: [&str; 72] = [
    "建", "国", "志", "明", "伟", "军", "平", "华", "强", "红", "芳", "丽", "霞", "斌", "勇", "涛",
    "鹏", "海", "文", "玉", "兰", "英", "春", "福", "德", "成", "林", "宏", "俊", "晓", "雪", "云",
    "刚", "辉", "峰", "磊", "静", "敏", "燕", "娟", "东", "亮", "杰", "婷", "琳", "欣", "宁", "瑞",
    "嘉", "泽", "睿", "浩", "宇", "轩", "梅", "秀", "珍", "慧", "新", "忠", "学", "永", "生", "荣",
    "彦", "振", "乾", "珊", "艳", "萍", "莉", "卫",
];

const ROADS: [&str; 24] = [
    "人民路",
    "解放路",
    "建设路",
    "工业路",
    "新华路",
    "滨河路",
    "长城路",
    "迎宾路",
    "北环路",
    "南环路",
    "东岗路",
    "西站路",
    "团结路",
    "友谊路",
    "黄河路",
    "祁连路",
    "创业大道",
    "开发区大道",
    "经一路",
    "经三路",
    "纬二路",
    "纬五路",
    "科技路",
    "园区路",
];

const MOBILE_PREFIXES: [&str; 6] = ["138", "139", "135", "177", "181", "189"];

const TITLES: [(&str, u32); 7] = [
    ("高级工程师", 40),
    ("正高级工程师", 15),
    ("教授级高级工程师", 8),
    ("教授", 12),
    ("副教授", 10),
    ("研究员", 8),
    ("副研究员", 7),
];

/// Employers of experts who work neither for an enterprise nor a consultancy.
const INSTITUTIONS: [&str; 8] = [
    "{capital}大学",
    "{capital}理工大学",
    "{capital}交通大学",
    "{province}环境科学研究院",
    "{province}冶金研究院",
    "{province}化工研究院",
    "{province}轻工研究所",
    "{province}节能监察中心",
];

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::registry::EnterpriseDraft;

    fn gansu() -> ReferenceData {
        ReferenceData::gansu()
    }

    #[test]
    fn same_seed_gives_identical_data() {
        let reference = gansu();
        assert_eq!(generate(&reference, 42, 300), generate(&reference, 42, 300));
    }

    #[test]
    fn different_seeds_give_different_data() {
        let reference = gansu();
        let a = generate(&reference, 1, 300);
        let b = generate(&reference, 2, 300);
        assert_ne!(a, b);
        assert_ne!(
            a.enterprises[0].enterprise.name,
            b.enterprises[0].enterprise.name
        );
    }

    #[test]
    fn three_hundred_enterprises_cover_every_city_and_industry() {
        let reference = gansu();
        let data = generate(&reference, 7, 300);
        assert_eq!(data.enterprises.len(), 300);
        let cities: HashSet<&str> = data
            .enterprises
            .iter()
            .map(|e| e.enterprise.jurisdiction_code.as_str())
            .collect();
        assert_eq!(cities.len(), 16);
        assert!(reference.cities().all(|c| cities.contains(c.code.as_str())));
        let industries: HashSet<&str> = data
            .enterprises
            .iter()
            .map(|e| e.enterprise.industry_code.as_str())
            .collect();
        assert!(reference
            .industries
            .iter()
            .all(|i| industries.contains(i.code.as_str())));
    }

    #[test]
    fn first_enterprise_is_an_active_lanzhou_enterprise() {
        let reference = gansu();
        for seed in 0..20 {
            let data = generate(&reference, seed, 50);
            let first = &data.enterprises[0].enterprise;
            assert_eq!(first.jurisdiction_code, "620100");
            assert_eq!(first.status, EnterpriseStatus::Active);
            assert_eq!(first.size_class, SizeClass::Large);
            assert!(first.key_emission_unit && first.permit_number.is_some());
            assert!(first.name.starts_with("兰州"), "{}", first.name);
        }
    }

    #[test]
    fn credit_codes_are_valid_unique_and_registered_in_the_city() {
        let reference = gansu();
        let data = generate(&reference, 11, 2000);
        let mut seen = HashSet::new();
        for e in &data.enterprises {
            let code = &e.enterprise.credit_code;
            assert_eq!(CreditCode::parse(code.as_str()).as_ref(), Ok(code));
            assert!(code.as_str().starts_with("91"));
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            let detail = reference.detail(&e.enterprise.jurisdiction_code).unwrap();
            let division = code.division_code();
            assert!(
                detail.division_code == division
                    || detail.districts.iter().any(|d| d.division_code == division),
                "{code} is not registered in {}",
                e.enterprise.jurisdiction_code
            );
            if let Some(permit) = &e.enterprise.permit_number {
                assert_eq!(permit, &format!("{code}001P"));
            }
        }
        for c in &data.consultancies {
            assert!(
                seen.insert(c.credit_code.as_str()),
                "duplicate {}",
                c.credit_code
            );
        }
    }

    #[test]
    fn organisation_code_check_matches_published_codes() {
        // Characters 9–17 of 华为 914403001922038216 and 腾讯 91440300708461136T.
        assert_eq!(organization_code_check(&[1, 9, 2, 2, 0, 3, 8, 2]), '1');
        assert_eq!(organization_code_check(&[7, 0, 8, 4, 6, 1, 1, 3]), '6');
    }

    #[test]
    fn credit_code_bodies_look_like_real_ones() {
        let reference = gansu();
        let data = generate(&reference, 21, 500);
        let (mut modern, mut legacy) = (0, 0);
        for e in &data.enterprises {
            let body = &e.enterprise.credit_code.as_str()[8..17];
            if body.starts_with("MA") {
                modern += 1;
            } else {
                let digits: Vec<u32> = body[..8].chars().map(|c| c.to_digit(10).unwrap()).collect();
                let digits: [u32; 8] = digits.try_into().unwrap();
                assert_eq!(
                    body.chars().last(),
                    Some(organization_code_check(&digits)),
                    "{body}"
                );
                legacy += 1;
            }
        }
        assert!(
            modern > 100 && legacy > 100,
            "{modern} modern, {legacy} legacy"
        );
    }

    #[test]
    fn every_enterprise_passes_validation() {
        let reference = gansu();
        let data = generate(&reference, 3, 500);
        for e in &data.enterprises {
            let draft = EnterpriseDraft::from(&e.enterprise);
            assert_eq!(draft.validate(&reference).as_ref(), Ok(&e.enterprise));
        }
    }

    #[test]
    fn names_are_unique_and_addresses_complete() {
        let reference = gansu();
        let data = generate(&reference, 5, 3000);
        let mut names = HashSet::new();
        for e in &data.enterprises {
            let e = &e.enterprise;
            assert!(names.insert(e.name.as_str()), "duplicate {}", e.name);
            assert!(e.name.ends_with("公司"));
            assert!(e.address.starts_with("甘肃省"), "{}", e.address);
            assert!(e.address.ends_with('号'), "{}", e.address);
            let city = reference.city(&e.jurisdiction_code).unwrap();
            assert!(e.address.contains(&city.name_zh));
            let length = e.legal_representative.chars().count();
            assert!((2..=3).contains(&length), "{}", e.legal_representative);
            let chars: Vec<char> = e.name.chars().collect();
            assert!(chars.windows(2).all(|w| w[0] != w[1]), "{}", e.name);
        }
        for c in &data.consultancies {
            assert!(names.insert(c.name.as_str()), "duplicate {}", c.name);
        }
    }

    #[test]
    fn mix_of_sizes_statuses_and_flags() {
        let reference = gansu();
        let data = generate(&reference, 9, 1000);
        let mut sizes: HashMap<SizeClass, usize> = HashMap::new();
        for e in &data.enterprises {
            *sizes.entry(e.enterprise.size_class).or_default() += 1;
        }
        assert_eq!(sizes.len(), 4, "{sizes:?}");
        assert!(sizes[&SizeClass::Small] + sizes[&SizeClass::Micro] > 300);
        let closed = data
            .enterprises
            .iter()
            .filter(|e| e.enterprise.status == EnterpriseStatus::Closed)
            .count();
        assert!((10..=60).contains(&closed), "{closed} closed");
        let key_in_province_industries = data
            .enterprises
            .iter()
            .filter(|e| {
                e.enterprise.key_emission_unit
                    && reference
                        .industry(&e.enterprise.industry_code)
                        .is_some_and(|i| i.province_industry.is_some())
            })
            .count();
        assert!(key_in_province_industries > 50);
        let permits = data
            .enterprises
            .iter()
            .filter(|e| e.enterprise.permit_number.is_some())
            .count();
        assert!(permits > 700, "{permits} permits");
        assert!(data
            .enterprises
            .iter()
            .any(|e| !e.enterprise.key_emission_unit));
    }

    #[test]
    fn every_demo_outlet_is_bound_to_a_standard_and_class_of_the_limits_file() {
        let limits = crate::emission_limits::EmissionLimits::embedded();
        let data = generate(&ReferenceData::gansu(), 7, 300);
        let mut standards = std::collections::BTreeSet::new();
        for e in &data.enterprises {
            for outlet in &e.outlets {
                let binding = outlet_binding(&e.enterprise.industry_code, outlet);
                let medium = match outlet.kind {
                    OutletKind::Air => crate::emission_limits::Medium::Air,
                    OutletKind::Water => crate::emission_limits::Medium::Water,
                };
                assert!(limits.check(&binding, medium).is_ok(), "{binding:?}");
                standards.insert(binding.standard);
            }
        }
        assert_eq!(
            standards.len(),
            6,
            "the demo uses every standard: {standards:?}"
        );
    }

    #[test]
    fn outlets_and_devices_follow_permit_practice() {
        let reference = gansu();
        let data = generate(&reference, 13, 2000);
        let mut mns = HashSet::new();
        let mut outlet_count = 0;
        let mut with_one_or_two = 0;
        for e in &data.enterprises {
            assert!((1..=3).contains(&e.outlets.len()));
            let mut codes = HashSet::new();
            for outlet in &e.outlets {
                outlet_count += 1;
                assert!(codes.insert(outlet.code.as_str()), "{}", outlet.code);
                let prefix = match outlet.kind {
                    OutletKind::Air => "DA",
                    OutletKind::Water => "DW",
                };
                assert!(outlet.code.starts_with(prefix) && outlet.code.len() == 5);
                assert!(!outlet.name.is_empty());
                if (1..=2).contains(&outlet.devices.len()) {
                    with_one_or_two += 1;
                }
                for mn in &outlet.devices {
                    assert_eq!(mn.len(), 24, "{mn}");
                    assert!(mn
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
                    assert!(mns.insert(mn.clone()), "duplicate MN {mn}");
                }
            }
        }
        assert!(
            with_one_or_two * 2 > outlet_count,
            "most outlets have 1–2 devices"
        );
        // MNs of two data sets do not collide either.
        let other = generate(&reference, 14, 2000);
        let shared = other
            .enterprises
            .iter()
            .flat_map(|e| &e.outlets)
            .flat_map(|o| &o.devices)
            .filter(|mn| mns.contains(*mn))
            .count();
        assert_eq!(shared, 0);
    }

    #[test]
    fn parks_consultancies_and_experts() {
        let reference = gansu();
        let data = generate(&reference, 17, 300);
        assert!((3..=5).contains(&data.parks.len()));
        let mut in_a_park = HashSet::new();
        for park in &data.parks {
            assert!(reference.city(&park.jurisdiction_code).is_some());
            assert!(!park.members.is_empty(), "{}", park.name);
            assert!(park.members.windows(2).all(|w| w[0] < w[1]));
            for &member in &park.members {
                let e = &data.enterprises[member].enterprise;
                assert_eq!(e.jurisdiction_code, park.jurisdiction_code);
                assert!(in_a_park.insert(member), "enterprise {member} in two parks");
            }
        }

        assert_eq!(data.consultancies.len(), CONSULTANCY_COUNT);
        assert_eq!(
            data.consultancies.iter().filter(|c| c.sanctioned).count(),
            1
        );
        for c in &data.consultancies {
            assert!(reference.city(&c.jurisdiction_code).is_some());
            assert!(c.contact.contains("****"));
        }

        assert_eq!(data.experts.len(), EXPERT_COUNT);
        let mut covered = HashSet::new();
        let mut names = HashSet::new();
        for expert in &data.experts {
            assert!(names.insert(expert.name.as_str()));
            assert!(!expert.specialties.is_empty() && expert.specialties.len() <= 3);
            for s in &expert.specialties {
                assert!(reference.key_industry(s).is_some(), "{s}");
                covered.insert(s.as_str());
            }
            assert!(reference.city(&expert.jurisdiction_code).is_some());
            let id = &expert.id_number_masked;
            assert_eq!(id.len(), 18, "{id}");
            assert!(id[..6].bytes().all(|b| b.is_ascii_digit()) && &id[6..14] == "********");
            assert!(!expert.employer.is_empty() && !expert.title.is_empty());
        }
        assert_eq!(covered.len(), reference.key_industries.len());
    }

    #[test]
    fn small_counts_and_empty_reference_data() {
        let reference = gansu();
        let data = generate(&reference, 1, 0);
        assert!(data.enterprises.is_empty());
        assert!(data.parks.iter().all(|p| p.members.is_empty()));
        assert_eq!(data.experts.len(), EXPERT_COUNT);
        let data = generate(&reference, 1, 1);
        assert_eq!(data.enterprises.len(), 1);

        let mut empty = reference.clone();
        empty.industries.clear();
        assert_eq!(generate(&empty, 1, 10), DemoData::default());
    }

    #[test]
    fn works_for_another_province() {
        let jurisdictions = r#"
version = "test"
effective_from = 2024-01-01
[[jurisdiction]]
code = "640000"
name_zh = "宁夏回族自治区"
name_en = "Ningxia"
level = "province"
[[jurisdiction]]
code = "640100"
name_zh = "银川市"
short_name_zh = "银川"
name_en = "Yinchuan"
level = "city"
parent = "640000"
districts = [{ name_zh = "兴庆区", division_code = "640104" }]
"#;
        let industries = r#"
version = "test"
effective_from = 2024-01-01
[[industry]]
code = "2614"
name_zh = "有机化学原料制造"
name_en = "Organic chemicals"
"#;
        let reference = ReferenceData::from_toml(jurisdictions, industries).unwrap();
        let data = generate(&reference, 1, 100);
        for e in &data.enterprises {
            assert!(e.enterprise.name.starts_with("银川"));
            assert!(e
                .enterprise
                .address
                .starts_with("宁夏回族自治区银川市兴庆区"));
            assert_eq!(e.enterprise.credit_code.division_code(), "640104");
        }
        assert!(data.experts.iter().all(|e| e.specialties.is_empty()));
    }

    /// The national benchmark scale. Run in release mode:
    /// `cargo test --release -p cpaudit-core national_scale -- --ignored --nocapture`
    #[test]
    #[ignore = "slow in debug builds; run in release mode"]
    fn national_scale_is_fast_and_unique() {
        let reference = gansu();
        let started = std::time::Instant::now();
        let data = generate(&reference, 2024, 100_000);
        let elapsed = started.elapsed();
        let devices: usize = data
            .enterprises
            .iter()
            .flat_map(|e| &e.outlets)
            .map(|o| o.devices.len())
            .sum();
        let monitored = data
            .enterprises
            .iter()
            .flat_map(|e| &e.outlets)
            .filter(|o| !o.devices.is_empty())
            .count();
        println!(
            "100,000 enterprises, {monitored} monitored outlets, {devices} devices in {elapsed:?}"
        );
        let names: HashSet<&str> = data
            .enterprises
            .iter()
            .map(|e| e.enterprise.name.as_str())
            .collect();
        assert_eq!(names.len(), 100_000);
        assert!(elapsed.as_secs_f64() < 2.0, "{elapsed:?}");
    }
}

/// Evidence, past rounds and a park pilot for a generated data set, dated relative to `today`,
/// so that a demo (and the benchmark at national scale) has enterprises under every outcome:
/// 双超 from last year's supervisory monitoring, 双有 with categories and hazardous waste,
/// earlier rounds that make 双有 enterprises due in different years, candidates from online
/// monitoring awaiting a city's decision, dismissed evidence, and a park whose pilot passed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DemoFacts {
    pub evidence: Vec<DemoEvidence>,
    pub past_rounds: Vec<DemoPastRound>,
    /// Index into [`DemoData::parks`] and the day its whole-park pilot passed evaluation.
    pub pilot: Option<(usize, chrono::NaiveDate)>,
}

/// One piece of demo evidence against `enterprise` (an index into [`DemoData::enterprises`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoEvidence {
    pub enterprise: usize,
    pub evidence: crate::evidence::ValidEvidence,
    pub status: crate::determination::EvidenceStatus,
}

/// An audit round of an earlier year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoPastRound {
    pub enterprise: usize,
    pub list_year: i32,
    pub reasons: std::collections::BTreeSet<crate::determination::Reason>,
    pub accepted_on: Option<chrono::NaiveDate>,
}

/// Generates the facts for `data`; the same data, seed and `today` give the same facts.
pub fn generate_facts(data: &DemoData, seed: u64, today: chrono::NaiveDate) -> DemoFacts {
    use chrono::Datelike;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x00E1_D3C3);
    let year = today.year();
    let mut facts = DemoFacts::default();
    for (index, demo) in data.enterprises.iter().enumerate() {
        if demo.enterprise.status != EnterpriseStatus::Active {
            continue;
        }
        let roll: f64 = rng.gen();
        if roll < 0.08 {
            facts.evidence.push(exceedance(&mut rng, index, year - 1));
        }
        if (0.05..0.35).contains(&roll) {
            facts.evidence.push(toxic(&mut rng, index, year));
            if rng.gen_bool(0.5) {
                let list_year = year - rng.gen_range(1..=6);
                facts.past_rounds.push(DemoPastRound {
                    enterprise: index,
                    list_year,
                    reasons: [crate::determination::Reason::DoubleToxic].into(),
                    accepted_on: chrono::NaiveDate::from_ymd_opt(list_year + 1, 6, 30),
                });
            }
        }
        if (0.35..0.38).contains(&roll) {
            let mut candidate = exceedance(&mut rng, index, year - 1);
            candidate.evidence.source = crate::determination::EvidenceSource::OnlineMonitoring;
            candidate.status = crate::determination::EvidenceStatus::Candidate;
            facts.evidence.push(candidate);
        }
        if (0.38..0.39).contains(&roll) {
            let mut dismissed = toxic(&mut rng, index, year);
            dismissed.status = crate::determination::EvidenceStatus::Dismissed;
            facts.evidence.push(dismissed);
        }
    }
    facts.pilot = (!data.parks.is_empty())
        .then(|| chrono::NaiveDate::from_ymd_opt(year - 2, 11, 20).map(|day| (0, day)))
        .flatten();
    facts
}

const POLLUTANTS: [(&str, f64, &str, &str); 4] = [
    ("化学需氧量", 100.0, "mg/L", "GB 8978-1996"),
    ("氨氮", 15.0, "mg/L", "GB 8978-1996"),
    ("二氧化硫", 200.0, "mg/m3", "GB 13223-2011"),
    ("颗粒物", 30.0, "mg/m3", "GB 13223-2011"),
];

fn exceedance(rng: &mut ChaCha8Rng, enterprise: usize, year: i32) -> DemoEvidence {
    use crate::determination::{EvidenceKind, EvidenceSource, EvidenceStatus};
    let (pollutant, limit, unit, standard) = POLLUTANTS[rng.gen_range(0..POLLUTANTS.len())];
    let amount = (limit * rng.gen_range(1.1..2.5) * 10.0).round() / 10.0;
    let observed_on = demo_day(rng, year);
    DemoEvidence {
        enterprise,
        evidence: crate::evidence::ValidEvidence {
            kind: EvidenceKind::ConcentrationExceedance,
            observed_on,
            source: EvidenceSource::SupervisoryMonitoring,
            document_ref: format!("监督性监测报告〔{year}〕{}号", rng.gen_range(1..400)),
            substance: pollutant.into(),
            amount,
            limit: Some(limit),
            unit: unit.into(),
            standard: standard.into(),
            toxic_category: None,
            hw_code: String::new(),
            summary: format!("{pollutant} {amount} {unit} > {limit} {unit} ({standard})"),
        },
        status: EvidenceStatus::Confirmed,
    }
}

fn toxic(rng: &mut ChaCha8Rng, enterprise: usize, year: i32) -> DemoEvidence {
    use crate::determination::{EvidenceKind, EvidenceSource, EvidenceStatus};
    use chrono::Datelike;
    let years_ago = rng.gen_range(1..=3);
    let observed_on = demo_day(rng, year - years_ago);
    let tonnes = f64::from(rng.gen_range(5..500)) / 10.0;
    let (kind, substance, category, hw_code) = match rng.gen_range(0..3) {
        0 => (EvidenceKind::HazardousWaste, "废矿物油", 1, "HW08"),
        1 => (EvidenceKind::ToxicRawMaterial, "氰化钠", 2, ""),
        _ => (EvidenceKind::HeavyMetal, "Pb", 3, ""),
    };
    DemoEvidence {
        enterprise,
        evidence: crate::evidence::ValidEvidence {
            kind,
            observed_on,
            source: EvidenceSource::DischargePermit,
            document_ref: format!("排污许可执行报告（{}年度）", observed_on.year()),
            substance: substance.into(),
            amount: tonnes,
            limit: None,
            unit: "t".into(),
            standard: String::new(),
            toxic_category: Some(category),
            hw_code: hw_code.into(),
            summary: format!("{hw_code} {substance} {tonnes} t（第{category}类）")
                .trim()
                .to_string(),
        },
        status: EvidenceStatus::Confirmed,
    }
}

/// A day of `year` from March to November (monitoring campaigns avoid the new-year weeks).
fn demo_day(rng: &mut ChaCha8Rng, year: i32) -> chrono::NaiveDate {
    let month = rng.gen_range(3..=11);
    let day = rng.gen_range(1..=28);
    chrono::NaiveDate::from_ymd_opt(year, month, day).unwrap_or(chrono::NaiveDate::MIN)
}
