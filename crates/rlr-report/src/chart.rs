//! What a plot shows, apart from how it is drawn: lines (one per run or
//! binding, broken into segments at stage boundaries), bands around them,
//! and vertical marks where stages start.

/// One labelled line of a chart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Line {
    /// The legend label.
    pub label: String,
    /// Its colour, an index into the palette.
    pub color: usize,
    /// Connected runs of `(x, y)` points; segments are not joined to each other.
    pub segments: Vec<Vec<(f64, f64)>>,
    /// Shaded `(x, low, high)` runs around the line (mean ± std).
    pub bands: Vec<Vec<(f64, f64, f64)>>,
}

impl Line {
    /// Points in all segments.
    pub fn points(&self) -> usize {
        self.segments.iter().map(Vec::len).sum()
    }
}

/// A vertical mark: where a stage starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// Its x position.
    pub x: f64,
    /// The stage that starts there.
    pub label: String,
    /// Whether to draw a line (not for the first stage, which starts at the axis).
    pub line: bool,
}

/// A chart: axes, lines and marks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chart {
    /// The caption.
    pub title: String,
    /// The x axis' description.
    pub x_label: String,
    /// The y axis' description.
    pub y_label: String,
    /// The lines, drawn in order.
    pub lines: Vec<Line>,
    /// Stage boundaries.
    pub marks: Vec<Mark>,
}

/// Draw points as well as lines up to this many points per line, so sparse
/// series (held-out evaluations, a single step) stay visible.
pub const MARKERS_UP_TO: usize = 60;

impl Chart {
    /// The x range: from the first to the last point or mark, at least 1
    /// wide; (0, 1) when there are none.
    pub fn x_range(&self) -> (f64, f64) {
        let xs = self
            .lines
            .iter()
            .flat_map(|l| l.segments.iter().flatten().map(|p| p.0))
            .chain(self.marks.iter().map(|m| m.x))
            .filter(|x| x.is_finite());
        let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
        if lo > hi {
            return (0.0, 1.0);
        }
        (lo, hi.max(lo + 1.0))
    }

    /// The y range of every point and band, padded by 5 % (a flat line gets
    /// room around it).
    pub fn y_range(&self) -> (f64, f64) {
        let ys = self.lines.iter().flat_map(|l| {
            l.segments
                .iter()
                .flatten()
                .map(|p| p.1)
                .chain(l.bands.iter().flatten().flat_map(|b| [b.1, b.2]))
        });
        let (lo, hi) = ys
            .filter(|y| y.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
                (lo.min(y), hi.max(y))
            });
        if lo > hi {
            return (0.0, 1.0);
        }
        let span = hi - lo;
        let pad = if span < 1e-12 {
            (hi.abs() * 0.1).max(0.5)
        } else {
            span * 0.05
        };
        (lo - pad, hi + pad)
    }
}

/// A corner of the plotting area (where the legend goes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corner {
    /// Top right.
    UpperRight,
    /// Bottom right.
    LowerRight,
    /// Top left.
    UpperLeft,
    /// Bottom left.
    LowerLeft,
}

impl Chart {
    /// The corner with the fewest points in it (a third of each axis), so
    /// the legend hides as little as possible; the top right on a tie. A
    /// stage's name, written at the top, counts as a few points.
    pub fn emptiest_corner(&self) -> Corner {
        let (x0, x1) = self.x_range();
        let (y0, y1) = self.y_range();
        let (xw, yw) = ((x1 - x0) / 3.0, (y1 - y0) / 3.0);
        let labels = self
            .marks
            .iter()
            .flat_map(|m| std::iter::repeat_n((m.x, y1), 3));
        let points: Vec<(f64, f64)> = self
            .lines
            .iter()
            .flat_map(|l| l.segments.iter().flatten().copied())
            .chain(labels)
            .collect();
        let count = |right: bool, top: bool| {
            points
                .iter()
                .filter(|(x, y)| {
                    let in_x = if right { *x >= x1 - xw } else { *x <= x0 + xw };
                    let in_y = if top { *y >= y1 - yw } else { *y <= y0 + yw };
                    in_x && in_y
                })
                .count()
        };
        [
            (Corner::UpperRight, count(true, true)),
            (Corner::LowerRight, count(true, false)),
            (Corner::UpperLeft, count(false, true)),
            (Corner::LowerLeft, count(false, false)),
        ]
        .into_iter()
        .min_by_key(|(_, n)| *n)
        .map_or(Corner::UpperRight, |(c, _)| c)
    }
}

/// Tick labels short enough for an axis: at most 4 significant digits,
/// scientific for very large or small magnitudes.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.2e}");
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_points_and_bands() {
        let c = Chart {
            lines: vec![Line {
                segments: vec![vec![(1.0, 0.5), (4.0, 1.5)]],
                bands: vec![vec![(1.0, 0.0, 1.0), (4.0, 1.0, 2.0)]],
                ..Line::default()
            }],
            marks: vec![Mark {
                x: 6.0,
                label: "rl".into(),
                line: true,
            }],
            ..Chart::default()
        };
        // From the first point to the stage mark after it.
        assert_eq!(c.x_range(), (1.0, 6.0));
        assert_eq!(Chart::default().x_range(), (0.0, 1.0));
        let (lo, hi) = c.y_range();
        assert!(
            (lo + 0.1).abs() < 1e-12 && (hi - 2.1).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert_eq!(Chart::default().y_range(), (0.0, 1.0));
    }

    #[test]
    fn the_legend_goes_where_the_data_is_not() {
        let rising = |label: &str| Line {
            label: label.into(),
            segments: vec![(0..=10).map(|i| (f64::from(i), f64::from(i))).collect()],
            ..Line::default()
        };
        let mut c = Chart {
            lines: vec![rising("a")],
            ..Chart::default()
        };
        assert_eq!(c.emptiest_corner(), Corner::LowerRight);
        c.lines[0].segments[0]
            .iter_mut()
            .for_each(|p| p.1 = 10.0 - p.1);
        assert_eq!(c.emptiest_corner(), Corner::UpperRight);
        // A stage name in the top left (and few points) keeps it clear.
        c.lines[0].segments[0] = vec![(9.0, 10.0), (10.0, 9.0), (10.0, 0.0)];
        c.marks.push(Mark {
            x: 0.0,
            label: "warmup".into(),
            line: false,
        });
        assert_eq!(c.emptiest_corner(), Corner::LowerLeft);
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(0.123456), "0.1235");
        assert_eq!(tick(150.0), "150");
        assert_eq!(tick(1234.6), "1235");
        assert_eq!(tick(2e-5), "2.00e-5");
        assert_eq!(tick(-0.5), "-0.5");
    }
}
