//! Line charts drawn on the server as SVG: no script, no web font, nothing fetched.
//!
//! Text inside the drawing is ASCII only (numbers, dates, the unit), laid out at fixed places
//! without measuring it, so that Chinese labels are never mis-measured; titles, legends and
//! explanations are HTML around the drawing. Each slot is one hour or one day.

use std::fmt::Write;

/// Whether a slot's mean is valid, invalid (data arrived but cannot judge), missing, or not
/// judged yet (drawn empty, without a band).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    Valid,
    Invalid,
    Missing,
    Unjudged,
}

/// One hour or one day of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    /// The judged value (valid means only).
    pub value: Option<f64>,
    /// The limit in force for the slot, in the value's unit.
    pub limit: Option<f64>,
    pub exceeded: bool,
    pub state: SlotState,
    /// What a pointer over the slot's mark shows (e.g. "2027-01-14 08:00 312.5 > 200").
    pub title: String,
}

/// A chart of a series against its limit.
#[derive(Debug, Clone)]
pub struct LineChart {
    pub slots: Vec<Slot>,
    /// Labels under the time axis: the slot they start at and the text (ASCII).
    pub ticks: Vec<(usize, String)>,
    /// The unit of the values (ASCII, e.g. "mg/m3").
    pub unit: String,
    /// What the chart shows, for screen readers.
    pub label: String,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 18.0;
const BOTTOM: f64 = 34.0;

const INK: &str = "#1d2733";
const MUTED: &str = "#5b6b7c";
const LINE: &str = "#d7dee6";
const SERIES: &str = "#0f5f4a";
const BAD: &str = "#a8261b";

/// Escapes text for an SVG attribute or element.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A step of 1, 2 or 5 times a power of ten, near `span / 5`.
fn nice_step(span: f64) -> f64 {
    let raw = (span / 5.0).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// A value as an axis label: as many decimals as the step needs.
fn axis_number(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().clamp(0.0, 6.0) as usize
    };
    format!("{value:.decimals$}")
}

fn coordinate(value: f64) -> String {
    format!("{value:.1}")
}

impl LineChart {
    /// The top of the value axis: above the largest value and limit, on a step.
    fn scale(&self) -> (f64, f64) {
        let largest = self
            .slots
            .iter()
            .flat_map(|slot| [slot.value, slot.limit])
            .flatten()
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let largest = if largest > 0.0 { largest * 1.08 } else { 1.0 };
        let step = nice_step(largest);
        let top = (largest / step).ceil() * step;
        (top, step)
    }

    /// The drawing, as an `<svg>` element to put into a page as it is.
    pub fn svg(&self) -> String {
        let n = self.slots.len().max(1) as f64;
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let slot_w = plot_w / n;
        let (top, step) = self.scale();
        let x_left = |i: usize| LEFT + i as f64 * slot_w;
        let x_mid = |i: usize| LEFT + (i as f64 + 0.5) * slot_w;
        let y = |v: f64| TOP + plot_h - (v.clamp(0.0, top) / top) * plot_h;
        let mut out = String::with_capacity(4096 + self.slots.len() * 24);
        let _ = write!(
            out,
            "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
             width=\"100%\" role=\"img\" aria-label=\"{}\" font-family=\"sans-serif\" font-size=\"11\">",
            esc(&self.label)
        );
        // Invalid and missing periods behind everything else.
        let mut i = 0;
        while i < self.slots.len() {
            let state = self.slots[i].state;
            let mut j = i;
            while j < self.slots.len() && self.slots[j].state == state {
                j += 1;
            }
            let (class, fill) = match state {
                SlotState::Valid | SlotState::Unjudged => ("", ""),
                SlotState::Invalid => ("invalid", "#f6d3cf"),
                SlotState::Missing => ("missing", "#e6ebf0"),
            };
            if !class.is_empty() {
                let _ = write!(
                    out,
                    "<rect class=\"{class}\" x=\"{}\" y=\"{TOP}\" width=\"{}\" height=\"{plot_h}\" fill=\"{fill}\"/>",
                    coordinate(x_left(i)),
                    coordinate((j - i) as f64 * slot_w),
                );
            }
            i = j;
        }
        // The value axis: grid lines and numbers.
        let mut k = 0.0;
        while k <= top + step / 2.0 {
            let at = coordinate(y(k));
            let _ = write!(
                out,
                "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{at}\" y2=\"{at}\" stroke=\"{LINE}\"/>\
                 <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{MUTED}\">{}</text>",
                WIDTH - RIGHT,
                LEFT - 6.0,
                coordinate(y(k) + 4.0),
                axis_number(k, step)
            );
            k += step;
        }
        let _ = write!(
            out,
            "<text x=\"4\" y=\"{}\" fill=\"{MUTED}\">{}</text>",
            TOP - 6.0,
            esc(&self.unit)
        );
        // The time axis.
        for (slot, text) in &self.ticks {
            let at = coordinate(x_left(*slot));
            let _ = write!(
                out,
                "<line x1=\"{at}\" x2=\"{at}\" y1=\"{TOP}\" y2=\"{}\" stroke=\"{LINE}\"/>\
                 <text x=\"{at}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text>",
                TOP + plot_h + 4.0,
                HEIGHT - BOTTOM + 18.0,
                esc(text)
            );
        }
        let _ = write!(
            out,
            "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"none\" stroke=\"{MUTED}\"/>"
        );
        // The limit: a dashed step line, broken where no limit applies.
        let mut path = String::new();
        let mut previous: Option<f64> = None;
        for (i, slot) in self.slots.iter().enumerate() {
            match slot.limit {
                Some(limit) => {
                    let command = if previous.is_some() { 'L' } else { 'M' };
                    let _ = write!(
                        path,
                        "{command}{} {}L{} {}",
                        coordinate(x_left(i)),
                        coordinate(y(limit)),
                        coordinate(x_left(i + 1)),
                        coordinate(y(limit))
                    );
                    previous = Some(limit);
                }
                None => previous = None,
            }
        }
        if !path.is_empty() {
            let _ = write!(
                out,
                "<path class=\"limit\" d=\"{path}\" fill=\"none\" stroke=\"{BAD}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>"
            );
        }
        // The values: one line per run of valid slots.
        let mut i = 0;
        while i < self.slots.len() {
            if self.slots[i].value.is_none() {
                i += 1;
                continue;
            }
            let mut points = Vec::new();
            while let Some(value) = self.slots.get(i).and_then(|slot| slot.value) {
                points.push(format!("{},{}", coordinate(x_mid(i)), coordinate(y(value))));
                i += 1;
            }
            if let [only] = points.as_slice() {
                let (cx, cy) = only.split_once(',').unwrap_or_default();
                let _ = write!(
                    out,
                    "<circle class=\"value\" cx=\"{cx}\" cy=\"{cy}\" r=\"2\" fill=\"{SERIES}\"/>"
                );
            } else {
                let _ = write!(
                    out,
                    "<polyline class=\"series\" points=\"{}\" fill=\"none\" stroke=\"{SERIES}\" stroke-width=\"1.5\"/>",
                    points.join(" ")
                );
            }
        }
        // Exceedances marked, with what they were.
        for (i, slot) in self.slots.iter().enumerate() {
            if let (true, Some(value)) = (slot.exceeded, slot.value) {
                let _ = write!(
                    out,
                    "<circle class=\"exceedance\" cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{BAD}\" stroke=\"#fff\"><title>{}</title></circle>",
                    coordinate(x_mid(i)),
                    coordinate(y(value)),
                    esc(&slot.title)
                );
            }
        }
        let _ = write!(
            out,
            "<desc fill=\"{INK}\">{}</desc></svg>",
            esc(&self.label)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(value: Option<f64>, limit: Option<f64>, state: SlotState) -> Slot {
        Slot {
            value,
            limit,
            exceeded: value.zip(limit).is_some_and(|(v, l)| v > l),
            state,
            title: "t".into(),
        }
    }

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(100.0), 20.0);
        assert_eq!(nice_step(230.0), 50.0);
        assert_eq!(nice_step(0.7), 0.2);
        assert_eq!(axis_number(0.4, 0.2), "0.4");
        assert_eq!(axis_number(40.0, 20.0), "40");
    }

    #[test]
    fn the_drawing_has_the_limit_the_values_the_exceedances_and_the_gaps() {
        let chart = LineChart {
            slots: vec![
                slot(Some(100.0), Some(200.0), SlotState::Valid),
                slot(Some(300.0), Some(200.0), SlotState::Valid),
                slot(None, Some(200.0), SlotState::Invalid),
                slot(None, None, SlotState::Missing),
                slot(Some(150.0), Some(200.0), SlotState::Valid),
            ],
            ticks: vec![(0, "01-14".into())],
            unit: "mg/m3".into(),
            label: "SO2 <hourly>".into(),
        };
        let svg = chart.svg();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"limit\"").count(), 1);
        assert_eq!(svg.matches("class=\"series\"").count(), 1);
        assert_eq!(svg.matches("class=\"value\"").count(), 1, "a lone point");
        assert_eq!(svg.matches("class=\"exceedance\"").count(), 1);
        assert_eq!(svg.matches("class=\"invalid\"").count(), 1);
        assert_eq!(svg.matches("class=\"missing\"").count(), 1);
        assert!(svg.contains("SO2 &lt;hourly&gt;"), "labels are escaped");
        // The value axis reaches above the largest value.
        assert!(svg.contains(">320<") || svg.contains(">350<") || svg.contains(">400<"));
    }

    #[test]
    fn an_empty_chart_is_still_a_drawing() {
        let chart = LineChart {
            slots: Vec::new(),
            ticks: Vec::new(),
            unit: String::new(),
            label: String::new(),
        };
        let svg = chart.svg();
        assert!(svg.contains("<svg") && !svg.contains("class=\"limit\""));
    }
}
