//! The trend chart's geometry (SPEC R-REC-1: "chart with the reference band plus the same data
//! as a table"): where each value, the reference band, the axes and their labels go in an SVG
//! drawn on the server (no script). Pure arithmetic, tested here; the page draws what this
//! computes (`pages.rs`, `TrendChart`).
//!
//! The chart is a `viewBox` of fixed units scaled to the page's width (`width="100%"`), so it
//! reads on a phone as on a desktop. Rules:
//! - every value is on the chart: the vertical scale covers all values and the reference
//!   band, so a value far outside the range is drawn (the band narrows), never clipped;
//! - one value, or values all alike, still get a scale of some height (no division by zero),
//!   the value in the middle;
//! - time runs left to right in proportion: a gap of three years takes the room of three
//!   years, so a reader sees how far apart the measurements were.

use super::model::{number_text, Flag, ReferenceRange, Trend};

/// The chart's box in `viewBox` units.
pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 300.0;
/// Room for the vertical axis' labels, on the left.
pub const LEFT: f64 = 64.0;
pub const RIGHT: f64 = 20.0;
pub const TOP: f64 = 16.0;
/// Room for the time axis' labels and its title.
pub const BOTTOM: f64 = 56.0;

/// A point of a series, placed.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotPoint {
    pub x: f64,
    pub y: f64,
    pub flag: Flag,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlotSeries {
    pub name: String,
    pub points: Vec<PlotPoint>,
    /// The line through the points (`x,y x,y …`), oldest first.
    pub line: String,
    /// The reference band (top y, bottom y) when the series has a numeric range.
    pub band: Option<(f64, f64)>,
}

/// A label on an axis: where (x or y) and what it says.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    pub series: Vec<PlotSeries>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    /// The vertical scale's bounds (values).
    pub low: f64,
    pub high: f64,
}

/// The plot area's bounds in `viewBox` units: (left, top, right, bottom).
pub fn area() -> (f64, f64, f64, f64) {
    (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)
}

/// A "nice" step near `raw` (1, 2 or 5 times a power of ten), for axis ticks people read.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let f = raw / power;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// The vertical scale: bounds that hold every value and every band bound, rounded out to nice
/// steps, and the ticks between them. Never of zero height.
pub fn value_scale(values: &[f64], bounds: &[f64]) -> (f64, f64, f64) {
    let all: Vec<f64> = values.iter().chain(bounds).copied().filter(|v| v.is_finite()).collect();
    let (mut lo, mut hi) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi): (f64, f64), &v| (lo.min(v), hi.max(v)));
    if all.is_empty() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        // One value, or all alike: some room around it, so it sits mid-chart.
        let pad = (hi.abs() * 0.1).max(1.0);
        lo -= pad;
        hi += pad;
    }
    let step = nice_step((hi - lo) / 4.0);
    let lo = (lo / step).floor() * step;
    let hi = (hi / step).ceil() * step;
    (lo, hi, step)
}

/// Where `ms` goes on the time axis between `first` and `last` (the middle when they are one).
pub fn x_of(ms: i64, first: i64, last: i64) -> f64 {
    let (left, _, right, _) = area();
    if last <= first {
        return (left + right) / 2.0;
    }
    left + (ms - first) as f64 / (last - first) as f64 * (right - left)
}

/// Where `value` goes on the vertical axis of a scale `lo..hi` (higher values up).
pub fn y_of(value: f64, lo: f64, hi: f64) -> f64 {
    let (_, top, _, bottom) = area();
    bottom - (value - lo) / (hi - lo) * (bottom - top)
}

/// Rounds for the SVG text (two decimals are finer than a pixel).
fn r(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The band of a range on the scale: a one-sided range ("≤ 200") runs to the chart's edge.
fn band(range: &ReferenceRange, lo: f64, hi: f64) -> Option<(f64, f64)> {
    let low = range.low.as_ref().map(|a| a.value).filter(|v| v.is_finite());
    let high = range.high.as_ref().map(|a| a.value).filter(|v| v.is_finite());
    if low.is_none() && high.is_none() {
        return None;
    }
    Some((r(y_of(high.unwrap_or(hi), lo, hi)), r(y_of(low.unwrap_or(lo), lo, hi))))
}

/// Places a trend: every series on one time axis and one vertical scale.
pub fn plot(trend: &Trend) -> Plot {
    let values: Vec<f64> = trend.series.iter().flat_map(|s| s.points.iter().map(|p| p.value)).collect();
    let bounds: Vec<f64> =
        trend.series.iter().filter_map(|s| s.range.as_ref()).flat_map(|r| [r.low.as_ref(), r.high.as_ref()]).flatten().map(|a| a.value).collect();
    let (lo, hi, step) = value_scale(&values, &bounds);
    let times: Vec<i64> = trend.series.iter().flat_map(|s| s.points.iter().map(|p| p.at.ms)).collect();
    let first = times.iter().copied().min().unwrap_or(0);
    let last = times.iter().copied().max().unwrap_or(0);
    let series = trend
        .series
        .iter()
        .map(|s| {
            let points: Vec<PlotPoint> =
                s.points.iter().map(|p| PlotPoint { x: r(x_of(p.at.ms, first, last)), y: r(y_of(p.value, lo, hi)), flag: p.flag }).collect();
            let line = points.iter().map(|p| format!("{},{}", p.x, p.y)).collect::<Vec<_>>().join(" ");
            PlotSeries { name: s.name.clone(), points, line, band: s.range.as_ref().and_then(|rg| band(rg, lo, hi)) }
        })
        .collect();
    // Labels with as many decimals as the step has (0.5 → one), so no float noise shows.
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let count = ((hi - lo) / step).round() as usize;
    let y_ticks = (0..=count.min(12))
        .map(|i| {
            let v = lo + i as f64 * step;
            let label = format!("{v:.decimals$}");
            // "-0" reads oddly on an axis.
            Tick { at: r(y_of(v, lo, hi)), label: if label.trim_start_matches(['-', '0', '.']).is_empty() { "0".into() } else { label } }
        })
        .collect();
    // The first and the last day measured, and one between when there is room for it.
    let mut x_ticks = Vec::new();
    let all_points: Vec<&super::model::TrendPoint> = trend.series.iter().flat_map(|s| s.points.iter()).collect();
    let label_of = |ms: i64| all_points.iter().find(|p| p.at.ms == ms).map(|p| short_date(&p.at)).unwrap_or_default();
    x_ticks.push(Tick { at: r(x_of(first, first, last)), label: label_of(first) });
    if last > first {
        x_ticks.push(Tick { at: r(x_of(last, first, last)), label: label_of(last) });
    }
    Plot { series, y_ticks, x_ticks, low: lo, high: hi }
}

/// `Nov 2026`: short enough for an axis label on a phone.
pub fn short_date(w: &super::model::When) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let m = MONTHS.get((w.day.month as usize).wrapping_sub(1)).copied().unwrap_or("");
    format!("{m} {}", w.day.year)
}

/// The chart's one-line summary (its `desc`, and the sentence above it): how many values,
/// over what time, the latest with its flag in words, and the range.
pub fn summary(trend: &Trend) -> String {
    let mut parts = Vec::new();
    for s in &trend.series {
        let (Some(first), Some(latest)) = (s.points.first(), s.points.last()) else { continue };
        let unit = s.unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
        let mut text = if s.points.len() == 1 {
            format!("{}: one value, {}{unit} on {}", s.name, number_text(latest.value), latest.at.text)
        } else {
            format!(
                "{}: {} values from {} to {}; latest {}{unit}",
                s.name,
                s.points.len(),
                first.at.day.long(),
                latest.at.day.long(),
                number_text(latest.value)
            )
        };
        if let Some(w) = latest.flag.words() {
            text.push_str(&format!(" ({})", w.to_lowercase()));
        }
        if let Some(range) = s.range.as_ref().map(|r| r.text()).filter(|t| !t.is_empty()) {
            text.push_str(&format!(", expected range {range}"));
        }
        parts.push(text);
    }
    if parts.is_empty() {
        "No values to draw.".into()
    } else {
        format!("{}.", parts.join(". "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::CalendarDate;
    use crate::record::model::{Amount, ItemId, Precision, ResultKind, Series, TestKey, TrendPoint, When};

    fn day(y: i32, m: u32, d: u32) -> When {
        let day = CalendarDate::new(y, m, d).unwrap();
        When { ms: day.start_ms(), day, precision: Precision::Day, text: day.long() }
    }

    fn trend(points: &[(When, f64)], range: Option<(Option<f64>, Option<f64>)>) -> Trend {
        let range =
            range.map(|(l, h)| ReferenceRange { low: l.map(|v| Amount::plain(v, Some("%"))), high: h.map(|v| Amount::plain(v, Some("%"))), text: None });
        Trend {
            key: TestKey("http://loinc.org|4548-4".into()),
            name: "Hemoglobin A1c".into(),
            kind: ResultKind::Laboratory,
            series: vec![Series {
                name: "Hemoglobin A1c".into(),
                unit: Some("%".into()),
                points: points
                    .iter()
                    .map(|(at, v)| TrendPoint { at: at.clone(), value: *v, flag: Flag::None, result: ItemId::parse(&"0".repeat(32)).unwrap() })
                    .collect(),
                range,
            }],
        }
    }

    fn inside(p: &PlotPoint) -> bool {
        let (l, t, r, b) = area();
        p.x >= l && p.x <= r && p.y >= t && p.y <= b && p.x.is_finite() && p.y.is_finite()
    }

    #[test]
    fn one_value_sits_in_the_middle_of_a_scale_of_some_height() {
        let p = plot(&trend(&[(day(2026, 11, 23), 8.6)], None));
        assert!(p.high > p.low, "a scale of some height: {} to {}", p.low, p.high);
        let point = &p.series[0].points[0];
        assert!(inside(point));
        let (l, _, r, _) = area();
        assert_eq!(point.x, ((l + r) / 2.0 * 100.0).round() / 100.0, "a single date is drawn mid-axis");
        assert!(p.low <= 8.6 && 8.6 <= p.high);
        assert_eq!(p.x_ticks.len(), 1, "one date, one label");
    }

    #[test]
    fn flat_values_get_a_scale_and_a_level_line() {
        let p = plot(&trend(&[(day(2024, 1, 1), 5.0), (day(2025, 1, 1), 5.0), (day(2026, 1, 1), 5.0)], None));
        assert!(p.high > p.low);
        let ys: Vec<f64> = p.series[0].points.iter().map(|p| p.y).collect();
        assert!(ys.iter().all(|y| *y == ys[0] && y.is_finite()), "{ys:?}");
        assert!(p.series[0].points.iter().all(inside));
        // Zero is a value too: flat at zero still has a scale.
        let z = plot(&trend(&[(day(2024, 1, 1), 0.0), (day(2025, 1, 1), 0.0)], None));
        assert!(z.high > z.low && z.series[0].points.iter().all(inside));
    }

    #[test]
    fn time_is_in_proportion_so_gaps_show_as_room() {
        // Two values a month apart, then one three years later.
        let p = plot(&trend(&[(day(2023, 1, 1), 6.0), (day(2023, 2, 1), 6.5), (day(2026, 2, 1), 7.0)], Some((Some(4.0), Some(5.6)))));
        let xs: Vec<f64> = p.series[0].points.iter().map(|p| p.x).collect();
        let (l, _, r, _) = area();
        assert_eq!((xs[0], xs[2]), (l, r), "first and last at the ends");
        let first_gap = xs[1] - xs[0];
        let second_gap = xs[2] - xs[1];
        assert!(second_gap > 30.0 * first_gap, "three years take far more room than a month: {xs:?}");
        assert_eq!(p.x_ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(), ["Jan 2023", "Feb 2026"]);
        // The line joins the points in time order.
        assert_eq!(p.series[0].line.split(' ').count(), 3);
    }

    #[test]
    fn values_far_outside_the_range_are_drawn_not_clipped_and_the_band_is_kept() {
        // A glucose of 640 against 70–99, and one of 20.
        let p = plot(&trend(&[(day(2026, 1, 1), 640.0), (day(2026, 2, 1), 85.0), (day(2026, 3, 1), 20.0)], Some((Some(70.0), Some(99.0)))));
        assert!(p.series[0].points.iter().all(inside), "{:?}", p.series[0].points);
        assert!(p.low <= 20.0 && p.high >= 640.0);
        let (top, bottom) = p.series[0].band.unwrap();
        let (_, t, _, b) = area();
        assert!(t <= top && top < bottom && bottom <= b, "band {top}..{bottom} inside {t}..{b}");
        // The high value is above the band, the low one below it (SVG y grows downwards).
        let pts = &p.series[0].points;
        assert!(pts[0].y < top && pts[2].y > bottom && pts[1].y > top && pts[1].y < bottom);
    }

    #[test]
    fn a_one_sided_range_runs_to_the_edge_and_the_band_is_on_the_scale_even_when_values_are_not() {
        // Values all well inside "≤ 200": the band's bound is still on the scale.
        let p = plot(&trend(&[(day(2026, 1, 1), 150.0), (day(2026, 6, 1), 160.0)], Some((None, Some(200.0)))));
        assert!(p.high >= 200.0);
        let (top, bottom) = p.series[0].band.unwrap();
        let (_, _, _, b) = area();
        assert_eq!(bottom, b, "no low bound: the band reaches the bottom");
        assert!(top < bottom);
    }

    #[test]
    fn ticks_are_nice_numbers_covering_the_scale() {
        assert_eq!(nice_step(0.37), 0.5);
        assert_eq!(nice_step(1.2), 2.0);
        assert_eq!(nice_step(30.0), 50.0);
        assert_eq!(nice_step(0.0), 1.0);
        let p = plot(&trend(&[(day(2026, 1, 1), 4.1), (day(2026, 6, 1), 8.6)], Some((Some(4.0), Some(5.6)))));
        let labels: Vec<&str> = p.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["4", "6", "8", "10"], "4.0 to 8.6 in steps of 2");
        // Steps of a tenth: one decimal, no float noise (0.1 + 0.2).
        let small = plot(&trend(&[(day(2026, 1, 1), 0.1), (day(2026, 6, 1), 0.5)], None));
        let labels: Vec<&str> = small.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0.1", "0.2", "0.3", "0.4", "0.5"]);
    }

    #[test]
    fn the_summary_says_the_latest_value_with_its_flag_in_words() {
        let mut t = trend(&[(day(2025, 5, 1), 7.9), (day(2026, 11, 23), 8.6)], Some((Some(4.0), Some(5.6))));
        t.series[0].points[1].flag = Flag::High;
        let s = summary(&t);
        assert!(s.contains("2 values") && s.contains("latest 8.6 %") && s.contains("(high)") && s.contains("4–5.6 %"), "{s}");
    }
}
