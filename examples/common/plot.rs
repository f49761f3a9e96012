//! A line chart of training curves as a small SVG file, written by hand:
//! a few polylines, axes and labels need no plotting library, and the file
//! opens in any browser.

use std::fmt::Write as _;

/// One curve: a name, a colour and one value per epoch.
pub struct Series<'a> {
    /// The legend's label.
    pub name: &'a str,
    /// An SVG colour.
    pub colour: &'a str,
    /// The values, epoch 1 first.
    pub values: &'a [f64],
}

/// A panel: a title, the range of its y axis, and its curves.
pub struct Panel<'a> {
    /// The title above the panel.
    pub title: &'a str,
    /// The y axis runs from `y_range.0` (bottom) to `y_range.1` (top).
    pub y_range: (f64, f64),
    /// Formats a tick label.
    pub tick: fn(f64) -> String,
    /// The curves.
    pub series: &'a [Series<'a>],
    /// Whether the legend goes in the top right corner (else bottom right).
    pub legend_top: bool,
}

const WIDTH: f64 = 420.0;
const HEIGHT: f64 = 260.0;
const MARGIN: (f64, f64, f64, f64) = (56.0, 16.0, 34.0, 40.0); // left, right, top, bottom

/// The panels side by side, as an SVG document.
pub fn svg(panels: &[Panel<'_>]) -> String {
    let mut out = String::new();
    let total = WIDTH * panels.len() as f64;
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{HEIGHT}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (i, panel) in panels.iter().enumerate() {
        draw(&mut out, panel, WIDTH * i as f64);
    }
    out.push_str("</svg>\n");
    out
}

fn draw(out: &mut String, panel: &Panel<'_>, x0: f64) {
    let (left, right, top, bottom) = MARGIN;
    let (w, h) = (WIDTH - left - right, HEIGHT - top - bottom);
    let epochs = panel
        .series
        .iter()
        .map(|s| s.values.len())
        .max()
        .unwrap_or(0)
        .max(2);
    let (lo, hi) = panel.y_range;
    let x = |epoch: usize| x0 + left + w * (epoch - 1) as f64 / (epochs - 1) as f64;
    let y = |v: f64| top + h * (1.0 - ((v - lo) / (hi - lo)).clamp(0.0, 1.0));
    let _ = writeln!(
        out,
        r#"<text x="{}" y="20" text-anchor="middle" font-size="13">{}</text>"#,
        x0 + left + w / 2.0,
        panel.title
    );
    let _ = writeln!(
        out,
        r##"<rect x="{}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#888"/>"##,
        x0 + left
    );
    for k in 0..=5 {
        let v = lo + (hi - lo) * k as f64 / 5.0;
        let (x1, x2, yv) = (x0 + left, x0 + left + w, y(v));
        let _ = writeln!(
            out,
            r##"<line x1="{x1}" x2="{x2}" y1="{yv}" y2="{yv}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
            x1 - 4.0,
            yv + 4.0,
            (panel.tick)(v)
        );
    }
    for epoch in 1..=epochs {
        if epochs <= 12 || epoch % 5 == 0 || epoch == 1 {
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle">{epoch}</text>"#,
                x(epoch),
                top + h + 14.0
            );
        }
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">epoch</text>"#,
        x0 + left + w / 2.0,
        HEIGHT - 6.0
    );
    for (i, s) in panel.series.iter().enumerate() {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(e, &v)| format!("{:.1},{:.1}", x(e + 1), y(v)))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
            points.join(" "),
            s.colour
        );
        let ly = if panel.legend_top {
            top + 14.0 + 14.0 * i as f64
        } else {
            top + h - 10.0 - 14.0 * (panel.series.len() - 1 - i) as f64
        };
        let _ = writeln!(
            out,
            r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
            x0 + left + w - 110.0,
            x0 + left + w - 92.0,
            s.colour,
            x0 + left + w - 88.0,
            ly + 4.0,
            s.name
        );
    }
}
