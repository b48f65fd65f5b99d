//! Line charts as PNG or SVG (by the file's extension), drawn with plotters in pure Rust with a
//! bundled font (DejaVu Sans): learning-rate schedules, training curves and the range test.
//!
//! ```
//! use stepflow::plot::{Chart, Series};
//! let mut chart = Chart::new("exponential decay", "step", "learning rate");
//! chart.series.push(Series::line("lr", (0..100).map(|k| (k as f64, 0.1 * 0.96f64.powf(k as f64 / 10.0))).collect()));
//! let path = std::env::temp_dir().join(format!("stepflow-doc-{}.svg", std::process::id()));
//! chart.save(&path)?;
//! assert!(std::fs::read_to_string(&path).unwrap().contains("learning rate"));
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), stepflow::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::io::write_atomic;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// A solid line.
    Line,
    /// A thin, light line (raw values behind a smoothed one).
    Faint,
    /// Dots.
    Points,
}

/// A named series of `(x, y)` points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub style: Style,
}

impl Series {
    /// A solid line.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series { label: label.into(), points, style: Style::Line }
    }

    /// A thin, light line.
    pub fn faint(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series { label: label.into(), points, style: Style::Faint }
    }

    /// Dots.
    pub fn points(label: impl Into<String>, points: Vec<(f64, f64)>) -> Series {
        Series { label: label.into(), points, style: Style::Points }
    }
}

/// A point marked on top of the series (a circle), named in the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub label: String,
    pub x: f64,
    pub y: f64,
}

/// A shaded area between two curves (a spread, such as the range of several runs), drawn
/// behind the series: `(x, low, high)` points.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub label: String,
    pub points: Vec<(f64, f64, f64)>,
}

/// Where the legend goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Corner {
    #[default]
    UpperRight,
    LowerLeft,
}

/// A line chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Log scale on x (values ≤ 0 are left out).
    pub log_x: bool,
    /// Log scale on y (values ≤ 0 are left out).
    pub log_y: bool,
    /// The y range shown; by default, every point's.
    pub y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
    pub bands: Vec<Band>,
    pub markers: Vec<Marker>,
    /// Where the legend goes.
    pub legend: Corner,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

/// Line colours (a colour-blind-safe palette).
const COLORS: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];

/// Marker colours, apart from the lines'.
const MARKS: [RGBColor; 4] = [RGBColor(200, 0, 0), RGBColor(120, 40, 160), RGBColor(0, 110, 60), RGBColor(40, 40, 40)];

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled font is a valid TrueType file; on failure text is simply not drawn.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Whether values are better shown on a log scale: all positive and spanning over two decades.
///
/// ```
/// assert!(stepflow::plot::spans_decades(&[0.1, 0.05, 1e-4]));
/// assert!(!stepflow::plot::spans_decades(&[0.1, 0.05, 0.01]));
/// ```
pub fn spans_decades(values: &[f64]) -> bool {
    let (lo, hi) = values.iter().fold((f64::INFINITY, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    values.iter().all(|v| *v > 0.0 && v.is_finite()) && hi / lo > 100.0
}

/// A tick label: plain for moderate numbers, scientific otherwise.
fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-3..1e5).contains(&a) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    }
}

/// The label of an axis position: `10^v` on a log axis; near-zero snapped to zero on a linear one.
fn axis_tick(v: f64, log: bool, eps: f64) -> String {
    tick(if log {
        10f64.powf(v)
    } else if v.abs() < eps {
        0.0
    } else {
        v
    })
}

impl Chart {
    /// An empty 960×600 chart.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Chart {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log_x: false,
            log_y: false,
            y_range: None,
            series: Vec::new(),
            bands: Vec::new(),
            markers: Vec::new(),
            legend: Corner::UpperRight,
            size: (960, 600),
        }
    }

    /// Draws the chart to `path`, a `.png` or `.svg` file, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let fail = |m: String| Error::format(path.display().to_string(), m);
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => {
                let mut text = String::new();
                self.draw(SVGBackend::with_string(&mut text, self.size).into_drawing_area()).map_err(fail)?;
                write_atomic(path, text.as_bytes())
            }
            Some("png") => {
                // plotters encodes the PNG itself; it goes to a temporary file that is renamed.
                let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let tmp = dir.join(format!(".stepflow-chart-{}.png", std::process::id()));
                let drawn = self.draw(BitMapBackend::new(&tmp, self.size).into_drawing_area()).map_err(fail);
                let moved = drawn.and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
                if moved.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                moved
            }
            _ => Err(fail("the chart's file name must end in .png or .svg".into())),
        }
    }

    /// The points of every series and marker in plot coordinates (log10 on log axes).
    fn transform(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let axis = |v: f64, log: bool| match log {
            true if v > 0.0 => Some(v.log10()),
            true => None,
            false => Some(v),
        };
        let p = (axis(x, self.log_x)?, axis(y, self.log_y)?);
        (p.0.is_finite() && p.1.is_finite()).then_some(p)
    }

    fn ranges(&self) -> ((f64, f64), (f64, f64)) {
        let bands = self.bands.iter().flat_map(|b| b.points.iter()).flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]);
        let pts = (self.series.iter().flat_map(|s| s.points.iter().copied()))
            .chain(bands)
            .filter_map(|(x, y)| self.transform(x, y));
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for (x, y) in pts {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if let Some((lo, hi)) =
            self.y_range.and_then(|(a, b)| Some((self.transform(1.0, a)?.1, self.transform(1.0, b)?.1)))
        {
            (y0, y1) = (lo, hi);
        }
        let widen = |a: f64, b: f64| {
            if !a.is_finite() || !b.is_finite() {
                (0.0, 1.0)
            } else if a == b {
                (a - 0.5, b + 0.5)
            } else {
                let pad = (b - a) * 0.03;
                (a - pad, b + pad)
            }
        };
        (widen(x0, x1), widen(y0, y1))
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> std::result::Result<(), String> {
        register_font();
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let ((x0, x1), (y0, y1)) = self.ranges();
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 26))
            .margin(18)
            .x_label_area_size(52)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        let (log_x, log_y) = (self.log_x, self.log_y);
        // Label positions are computed in floating point: snap near-zeros to zero.
        let (ex, ey) = ((x1 - x0) * 1e-9, (y1 - y0) * 1e-9);
        let fx = move |v: &f64| axis_tick(*v, log_x, ex);
        let fy = move |v: &f64| axis_tick(*v, log_y, ey);
        // On a log axis, one label per decade when the axis spans several.
        let labels =
            |log: bool, lo: f64, hi: f64| if log && hi - lo >= 2.0 { (hi - lo).ceil() as usize + 1 } else { 10 };
        chart
            .configure_mesh()
            .x_labels(labels(log_x, x0, x1))
            .y_labels(labels(log_y, y0, y1))
            .x_desc(if log_x { format!("{} (log scale)", self.x_label) } else { self.x_label.clone() })
            .y_desc(if log_y { format!("{} (log scale)", self.y_label) } else { self.y_label.clone() })
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(err)?;
        for b in &self.bands {
            let upper = b.points.iter().filter_map(|&(x, _, hi)| self.transform(x, hi));
            let lower = b.points.iter().rev().filter_map(|&(x, lo, _)| self.transform(x, lo));
            let outline: Vec<(f64, f64)> = upper.chain(lower).collect();
            let grey = RGBColor(120, 120, 160);
            chart
                .draw_series(std::iter::once(Polygon::new(outline, grey.mix(0.25).filled())))
                .map_err(err)?
                .label(&b.label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 22, y + 5)], grey.mix(0.25).filled()));
        }
        for (i, s) in self.series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let pts: Vec<(f64, f64)> = s.points.iter().filter_map(|&(x, y)| self.transform(x, y)).collect();
            let legend = match s.style {
                Style::Line => chart.draw_series(LineSeries::new(pts, color.stroke_width(2))).map_err(err)?,
                Style::Faint => {
                    chart.draw_series(LineSeries::new(pts, color.mix(0.35).stroke_width(1))).map_err(err)?
                }
                Style::Points => {
                    chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, color.filled()))).map_err(err)?
                }
            };
            legend
                .label(&s.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(2)));
        }
        // Marks are named in the legend, not beside the curve, so that near ones stay legible.
        for (i, m) in self.markers.iter().enumerate() {
            let Some(p) = self.transform(m.x, m.y) else { continue };
            let color = MARKS[i % MARKS.len()];
            chart
                .draw_series(std::iter::once(Circle::new(p, 7, color.stroke_width(3))))
                .map_err(err)?
                .label(&m.label)
                .legend(move |(x, y)| Circle::new((x + 11, y), 5, color.stroke_width(2)));
        }
        if self.series.len() + self.bands.len() > 1 || !self.markers.is_empty() {
            chart
                .configure_series_labels()
                .position(match self.legend {
                    Corner::UpperRight => SeriesLabelPosition::UpperRight,
                    Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
                })
                .label_font(("sans-serif", 15))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(180, 180, 180))
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)
    }
}
