//! Drawing a [`Chart`] with plotters, to PNG (bitmap backend, encoded with
//! the `png` crate) or SVG. Both go through one drawing function, so the
//! two files show the same thing.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::chart::{Chart, Corner, MARKERS_UP_TO, tick};
use crate::error::ReportError;
use crate::font::{self, FAMILY};

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 900;
/// Height of every chart, in pixels.
pub const HEIGHT: u32 = 520;

/// Lines of up to this many points are drawn 2 pixels wide, longer ones 1.
const THICK_UP_TO: usize = 200;

/// The background colour.
pub const BACKGROUND: RGBColor = WHITE;

/// Line colours (Tableau 10), reused in turn past ten lines.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of palette entry `i`.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The chart as PNG bytes ([`WIDTH`] × [`HEIGHT`], RGB).
pub fn png_bytes(chart: &Chart) -> Result<Vec<u8>, String> {
    font::ensure()?;
    let mut rgb = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, &root)?;
    }
    crate::encode::png(&rgb, WIDTH, HEIGHT)
}

/// The chart as an SVG document.
pub fn svg_string(chart: &Chart) -> Result<String, String> {
    font::ensure()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, &root)?;
    }
    Ok(svg)
}

/// Writes the chart to `path` as PNG.
pub fn png(chart: &Chart, path: &Path) -> Result<(), ReportError> {
    let bytes = png_bytes(chart).map_err(|message| ReportError::Draw {
        path: path.to_path_buf(),
        message,
    })?;
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))
}

/// Writes the chart to `path` as SVG.
pub fn svg(chart: &Chart, path: &Path) -> Result<(), ReportError> {
    let text = svg_string(chart).map_err(|message| ReportError::Draw {
        path: path.to_path_buf(),
        message,
    })?;
    std::fs::write(path, text).map_err(|e| ReportError::io(path, e))
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Bands, stage marks, lines (with markers when sparse) and the legend.
fn draw<DB: DrawingBackend>(chart: &Chart, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
    root.fill(&BACKGROUND).map_err(err)?;
    let (x0, x1) = chart.x_range();
    let (y0, y1) = chart.y_range();
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, (FAMILY, 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    let x_fmt = |x: &f64| tick(*x);
    let y_fmt = |y: &f64| tick(*y);
    // Steps are whole numbers: no more ticks than steps on a short axis.
    let x_ticks = ((x1 - x0).ceil() as usize).clamp(2, 10);
    c.configure_mesh()
        .x_labels(x_ticks)
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .label_style((FAMILY, 13))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(err)?;
    // Bands under the lines.
    for line in &chart.lines {
        let fill = color(line.color).mix(0.18).filled();
        for band in line.bands.iter().filter(|b| b.len() > 1) {
            let outline: Vec<(f64, f64)> = band
                .iter()
                .map(|b| (b.0, b.2))
                .chain(band.iter().rev().map(|b| (b.0, b.1)))
                .collect();
            c.draw_series(std::iter::once(Polygon::new(outline, fill)))
                .map_err(err)?;
        }
    }
    let grey = RGBColor(110, 110, 110);
    for m in &chart.marks {
        if m.line {
            c.draw_series(DashedLineSeries::new(
                [(m.x, y0), (m.x, y1)],
                6,
                4,
                grey.stroke_width(1),
            ))
            .map_err(err)?;
        }
        // The stage's name just right of its line, at the top.
        let font = (FAMILY, 13).into_font().color(&grey);
        let label = EmptyElement::at((m.x, y1)) + Text::new(m.label.clone(), (4, 2), font);
        c.draw_series(std::iter::once(label)).map_err(err)?;
    }
    for line in &chart.lines {
        let rgb = color(line.color);
        let markers = line.points() <= MARKERS_UP_TO;
        // plotters joins wide lines with mitres, which spike far out at the
        // sharp turns of a dense, noisy series: those get hairlines.
        let width = if line.points() > THICK_UP_TO { 1 } else { 2 };
        for (i, seg) in line.segments.iter().enumerate() {
            let drawn = c
                .draw_series(LineSeries::new(
                    seg.iter().copied(),
                    rgb.stroke_width(width),
                ))
                .map_err(err)?;
            // One legend entry per line, not per segment.
            if i == 0 {
                drawn.label(line.label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], rgb.stroke_width(2))
                });
            }
            if markers {
                c.draw_series(seg.iter().map(|p| Circle::new(*p, 3, rgb.filled())))
                    .map_err(err)?;
            }
        }
    }
    if chart.lines.iter().any(|l| !l.segments.is_empty()) {
        c.configure_series_labels()
            .position(match chart.emptiest_corner() {
                Corner::UpperRight => SeriesLabelPosition::UpperRight,
                Corner::LowerRight => SeriesLabelPosition::LowerRight,
                Corner::UpperLeft => SeriesLabelPosition::UpperLeft,
                Corner::LowerLeft => SeriesLabelPosition::LowerLeft,
            })
            .background_style(BACKGROUND.mix(0.85))
            .border_style(RGBColor(170, 170, 170))
            .label_font((FAMILY, 13))
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// The text of every `<text>` element of an SVG that plotters wrote, trimmed
/// (for tests: which labels a chart shows).
pub fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{Line, Mark};

    fn chart() -> Chart {
        Chart {
            title: "reward".into(),
            x_label: "step".into(),
            y_label: "reward".into(),
            lines: vec![
                Line {
                    label: "run-a".into(),
                    color: 0,
                    segments: vec![vec![(1.0, 0.1), (2.0, 0.4), (3.0, 0.3)]],
                    bands: vec![vec![(1.0, 0.0, 0.2), (2.0, 0.3, 0.5), (3.0, 0.2, 0.4)]],
                },
                Line {
                    label: "run-b".into(),
                    color: 1,
                    segments: vec![vec![(1.0, 0.2), (2.0, 0.2)], vec![(3.0, 0.6)]],
                    bands: Vec::new(),
                },
            ],
            marks: vec![
                Mark {
                    x: 0.0,
                    label: "warmup".into(),
                    line: false,
                },
                Mark {
                    x: 2.0,
                    label: "rl".into(),
                    line: true,
                },
            ],
        }
    }

    #[test]
    fn png_decodes_to_the_chart_size_with_drawn_pixels() {
        let bytes = png_bytes(&chart()).unwrap_or_else(|e| panic!("{e}"));
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{e}"));
        let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
        let info = reader
            .next_frame(&mut buf)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let pixels = &buf[..info.buffer_size()];
        let is = |px: &[u8], c: RGBColor| px == [c.0, c.1, c.2];
        let drawn = pixels.chunks(3).filter(|px| !is(px, BACKGROUND)).count();
        assert!(drawn > 2_000, "{drawn} pixels drawn");
        // Both lines' colours are there.
        for c in [color(0), color(1)] {
            assert!(pixels.chunks(3).any(|px| is(px, c)), "{c:?}");
        }
    }

    #[test]
    fn svg_has_every_legend_label_and_stage() {
        let svg = svg_string(&chart()).unwrap_or_else(|e| panic!("{e}"));
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        let texts = svg_texts(&svg);
        for label in ["run-a", "run-b", "warmup", "rl", "reward", "step"] {
            assert!(texts.iter().any(|t| t == label), "{label} not in {texts:?}");
        }
    }
}
