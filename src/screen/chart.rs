//! The report as a one-page briefing chart (A4 landscape): SVG, and PNG or PDF made from it.
//!
//! The page shows the desk and the period in the title, the TLP label of what was counted
//! (top right and in the footer, TLP 2.0 colours on black), the weekly trends of alerts, hits
//! and seizures (one row each, each on its own scale, so a handful of hits stays visible
//! beside thousands of alerts), the breakdown by partner, seizures by route and by substance
//! (count and kilograms), and the precision of each source desk.
//!
//! Every label is measured with the embedded font ([`text_width`], a little wider than the
//! real text) and shortened with an ellipsis (or wrapped onto a second line) to the room it
//! has; long lists show their top rows and one `other (k)` row. The font (DejaVu Sans,
//! `assets/fonts/`, with its licence) is compiled in, so PNG and PDF look the same on any
//! machine and nothing is read from the system or the network.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::report::{self, Report, Row};
use crate::model::Tlp;

/// Page width in CSS pixels: A4 landscape (297 mm) at 96 px per inch.
pub const WIDTH: f64 = 1123.0;
/// Page height in CSS pixels: A4 landscape (210 mm) at 96 px per inch.
pub const HEIGHT: f64 = 794.0;
/// PNG pixels per CSS pixel (slides): the PNG is 2246 × 1588.
pub const PNG_SCALE: f32 = 2.0;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
/// The embedded font's family name.
pub const FAMILY: &str = "DejaVu Sans";

/// Margin around the page.
const M: f64 = 28.0;
const INK: &str = "#222222";
const GREY: &str = "#5f5f5f";
const GRID: &str = "#e4e4e4";
const AXIS: &str = "#8a8a8a";
const C_ALERTS: &str = "#4e79a7";
const C_HITS: &str = "#e8741c";
const C_SEIZURES: &str = "#d63a3d";
const C_KG: &str = "#8c5a3c";
const C_PRECISION: &str = "#3f8f3a";

/// What went wrong making a chart.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The file name does not say which format.
    #[error(
        "{path}: the chart format is chosen by the file extension: .svg, .png or .pdf \
         (got {ext})"
    )]
    Extension {
        /// The file asked for.
        path: String,
        /// Its extension, or `no extension`.
        ext: String,
    },
    /// The SVG could not be read back (a bug: kdesk wrote it).
    #[error("chart SVG: {0}")]
    Svg(String),
    /// Rasterising or encoding the PNG failed.
    #[error("chart PNG: {0}")]
    Png(String),
    /// Converting to PDF failed.
    #[error("chart PDF: {0}")]
    Pdf(String),
}

/// File formats of the chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartFormat {
    /// Scalable vector graphics, with the text as text.
    Svg,
    /// A raster image for slides, [`PNG_SCALE`] pixels per CSS pixel.
    Png,
    /// A one-page A4 landscape PDF with the font embedded.
    Pdf,
}

impl ChartFormat {
    /// The format named by a file's extension (`.svg`, `.png`, `.pdf`, any case).
    ///
    /// # Errors
    /// Another extension or none, naming the file.
    pub fn from_path(path: &Path) -> Result<Self, ChartError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => Ok(Self::Svg),
            Some("png") => Ok(Self::Png),
            Some("pdf") => Ok(Self::Pdf),
            other => Err(ChartError::Extension {
                path: path.display().to_string(),
                ext: other.map_or("no extension".into(), |e| format!(".{e}")),
            }),
        }
    }
}

/// The chart of `r` as a file of `format`.
///
/// # Errors
/// The PNG or PDF could not be made.
pub fn render(r: &Report, format: ChartFormat) -> Result<Vec<u8>, ChartError> {
    let svg = to_svg(r);
    match format {
        ChartFormat::Svg => Ok(svg.into_bytes()),
        ChartFormat::Png => to_png(&parse(&svg)?),
        ChartFormat::Pdf => to_pdf(&parse(&svg)?),
    }
}

/// The embedded fonts, loaded once.
pub fn fontdb() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_source(usvg::fontdb::Source::Binary(Arc::new(REGULAR)));
        db.load_font_source(usvg::fontdb::Source::Binary(Arc::new(BOLD)));
        db.set_sans_serif_family(FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// Parses an SVG with the embedded fonts only (no system fonts, no files, no network).
///
/// # Errors
/// Not an SVG usvg can read.
pub fn parse(svg: &str) -> Result<usvg::Tree, ChartError> {
    let opt = usvg::Options {
        font_family: FAMILY.to_owned(),
        fontdb: fontdb(),
        ..Default::default()
    };
    usvg::Tree::from_str(svg, &opt).map_err(|e| ChartError::Svg(e.to_string()))
}

/// Rasterises a parsed chart to PNG on white, [`PNG_SCALE`] pixels per CSS pixel.
///
/// # Errors
/// The image could not be allocated or encoded.
pub fn to_png(tree: &usvg::Tree) -> Result<Vec<u8>, ChartError> {
    use resvg::tiny_skia;
    let size = tree.size();
    let w = (size.width() * PNG_SCALE).round() as u32;
    let h = (size.height() * PNG_SCALE).round() as u32;
    let mut pixmap = tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| ChartError::Png(format!("cannot allocate a {w}x{h} image")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        tree,
        tiny_skia::Transform::from_scale(PNG_SCALE, PNG_SCALE),
        &mut pixmap.as_mut(),
    );
    // Opaque (white page): RGB, a third less than RGBA; adaptive filters and the best
    // compression keep the page small enough to mail.
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    encode_png(w, h, &rgb).map_err(|e| ChartError::Png(e.to_string()))
}

fn encode_png(w: u32, h: u32, rgb: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut wr = enc.write_header()?;
        wr.write_image_data(rgb)?;
        wr.finish()?;
    }
    Ok(out)
}

/// Converts a parsed chart to a one-page PDF (96 CSS pixels per inch: an A4 landscape page),
/// text kept as text in the embedded font.
///
/// # Errors
/// The conversion failed.
pub fn to_pdf(tree: &usvg::Tree) -> Result<Vec<u8>, ChartError> {
    svg2pdf::to_pdf(
        tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi: 96.0 },
    )
    .map_err(|e| ChartError::Pdf(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Text measurement

struct Faces {
    regular: ttf_parser::Face<'static>,
    bold: ttf_parser::Face<'static>,
}

fn faces() -> Option<&'static Faces> {
    static F: OnceLock<Option<Faces>> = OnceLock::new();
    F.get_or_init(|| {
        Some(Faces {
            regular: ttf_parser::Face::parse(REGULAR, 0).ok()?,
            bold: ttf_parser::Face::parse(BOLD, 0).ok()?,
        })
    })
    .as_ref()
}

/// Width in pixels of `text` set at `size` px in the embedded font: the sum of the glyph
/// advances (no kerning, which only narrows), plus 6 % and 1 px, so that a viewer that
/// shows the SVG in a slightly wider font still fits. A character the font lacks counts as
/// a full em.
pub fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    let units: f64 = match faces() {
        Some(f) => {
            let face = if bold { &f.bold } else { &f.regular };
            let upm = f64::from(face.units_per_em().max(1));
            text.chars()
                .map(|c| {
                    face.glyph_index(c)
                        .and_then(|g| face.glyph_hor_advance(g))
                        .map_or(1.0, |a| f64::from(a) / upm)
                })
                .sum()
        }
        // Not reached (the font is compiled in); wide enough for any Latin text.
        None => text.chars().count() as f64 * 0.75,
    };
    units * size * 1.06 + 1.0
}

/// `text` if it fits in `max` px, else its longest prefix that fits with `…` after it
/// (nothing if not even `…` fits).
pub fn fit(text: &str, max: f64, size: f64, bold: bool) -> String {
    if text_width(text, size, bold) <= max {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    for n in (0..chars.len()).rev() {
        let mut t: String = chars[..n].iter().collect();
        t = t.trim_end().to_owned();
        t.push('…');
        if text_width(&t, size, bold) <= max {
            return t;
        }
    }
    String::new()
}

/// `text` on at most `lines` lines of at most `max` px, broken at spaces and after hyphens;
/// the last line ends with `…` if the text does not fit.
pub fn wrap(text: &str, max: f64, size: f64, bold: bool, lines: usize) -> Vec<String> {
    if lines <= 1 || text_width(text, size, bold) <= max {
        return vec![fit(text, max, size, bold)];
    }
    // Words keep their trailing hyphen or space.
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        cur.push(c);
        if c == ' ' || c == '-' {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut i = 0;
    while i < words.len() {
        let candidate = format!("{line}{}", words[i]);
        if line.is_empty() || text_width(candidate.trim_end(), size, bold) <= max {
            line = candidate;
            i += 1;
            continue;
        }
        if out.len() + 1 == lines {
            break;
        }
        out.push(line.trim_end().to_owned());
        line = String::new();
    }
    let rest: String = std::iter::once(line)
        .chain(words[i..].iter().cloned())
        .collect();
    out.push(fit(rest.trim_end(), max, size, bold));
    out.into_iter()
        .map(|l| fit(&l, max, size, bold))
        .filter(|l| !l.is_empty())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Numbers and scales

/// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k at or above `v` (1 for 0 to 1):
/// the top of an axis, close enough to the largest value that bars use their room.
fn nice_max(v: f64) -> f64 {
    if v <= 1.0 {
        return 1.0;
    }
    let e = 10f64.powf(v.log10().floor());
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * e >= v - 1e-9 {
            return m * e;
        }
    }
    10.0 * e
}

/// Ticks 0, top/2 (when whole, or for kilograms), top.
fn ticks(top: f64, whole: bool) -> Vec<f64> {
    let mid = top / 2.0;
    if whole && mid.fract() != 0.0 {
        vec![0.0, top]
    } else {
        vec![0.0, mid, top]
    }
}

fn count(v: f64) -> String {
    report::thousands(v.round().max(0.0) as u64)
}

/// Kilograms for labels: `0`, `2.35`, `12.5`, `1,250`.
pub fn kg_text(kg: f64) -> String {
    if kg <= 0.0 {
        "0".into()
    } else if kg < 10.0 {
        let s = format!("{kg:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else if kg < 1000.0 {
        let s = format!("{kg:.1}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        report::thousands(kg.round() as u64)
    }
}

/// TLP 2.0 colours: the label's text colour (on black).
pub fn tlp_colour(t: Option<Tlp>) -> &'static str {
    match t.unwrap_or(Tlp::Clear) {
        Tlp::Clear => "#FFFFFF",
        Tlp::Green => "#33FF00",
        Tlp::Amber | Tlp::AmberStrict => "#FFC000",
        Tlp::Red => "#FF2B2B",
    }
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// ---------------------------------------------------------------------------------------------
// Drawing

#[derive(Clone, Copy, PartialEq)]
enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Clone, Copy)]
struct Font {
    size: f64,
    bold: bool,
    fill: &'static str,
}

const fn font(size: f64, bold: bool, fill: &'static str) -> Font {
    Font { size, bold, fill }
}

struct Canvas {
    svg: String,
}

impl Canvas {
    /// Text fitted to `max` px.
    fn text(&mut self, x: f64, y: f64, anchor: Anchor, f: Font, text: &str, max: f64) -> f64 {
        let t = fit(text, max, f.size, f.bold);
        if t.is_empty() {
            return 0.0;
        }
        let a = match anchor {
            Anchor::Start => "",
            Anchor::Middle => r#" text-anchor="middle""#,
            Anchor::End => r#" text-anchor="end""#,
        };
        let w = if f.bold { r#" font-weight="bold""# } else { "" };
        let _ = writeln!(
            self.svg,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{}"{w}{a} fill="{}">{}</text>"#,
            f.size,
            f.fill,
            esc(&t)
        );
        text_width(&t, f.size, f.bold)
    }
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, title: Option<&str>) {
        if w <= 0.0 || h <= 0.0 {
            return;
        }
        match title {
            Some(t) => {
                let _ = writeln!(
                    self.svg,
                    r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" fill="{fill}"><title>{}</title></rect>"#,
                    esc(t)
                );
            }
            None => {
                let _ = writeln!(
                    self.svg,
                    r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" fill="{fill}"/>"#
                );
            }
        }
    }
    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str) {
        let _ = writeln!(
            self.svg,
            r#"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" stroke="{stroke}" stroke-width="1"/>"#
        );
    }
    /// The TLP label as a badge whose right edge is at `right`; returns its width.
    fn tlp(&mut self, right: f64, top: f64, size: f64, t: Option<Tlp>) -> f64 {
        let label = report::tlp_label(t);
        let w = text_width(label, size, true) + size;
        let h = size * 1.7;
        let _ = writeln!(
            self.svg,
            r##"<rect x="{:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" rx="3" fill="#000000"/>"##,
            right - w
        );
        self.text(
            right - w / 2.0,
            top + h / 2.0 + size * 0.36,
            Anchor::Middle,
            font(size, true, tlp_colour(t)),
            label,
            w,
        );
        w
    }
}

/// The report as a self-contained SVG page (A4 landscape proportions).
pub fn to_svg(r: &Report) -> String {
    let mut c = Canvas {
        svg: String::with_capacity(64 * 1024),
    };
    let desk = if r.desk.is_empty() {
        "this desk"
    } else {
        &r.desk
    };
    let period = report::period_text(r);
    let _ = writeln!(
        c.svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="'{FAMILY}', Verdana, sans-serif">
<title>{} report, {}, {}</title>
<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##,
        esc(desk),
        esc(&period),
        report::tlp_label(r.tlp)
    );
    header(&mut c, r, desk, &period);
    let trends_bottom = trends(&mut c, r, 96.0);
    let top = trends_bottom + 10.0;
    let bottom = HEIGHT - 40.0;
    let gap = 30.0;
    let col = (WIDTH - 2.0 * M - 2.0 * gap) / 3.0;
    partners(&mut c, r, M, top, col, bottom);
    seizures(&mut c, r, M + col + gap, top, col, bottom);
    precision(&mut c, r, M + 2.0 * (col + gap), top, col, bottom);
    footer(&mut c, r, desk, &period);
    c.svg.push_str("</svg>\n");
    c.svg
}

/// `1 seizure`, `2 seizures`.
fn counted(n: u64, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        report::thousands(n),
        if n == 1 { one } else { many }
    )
}

fn header(c: &mut Canvas, r: &Report, desk: &str, period: &str) {
    let badge = c.tlp(WIDTH - M, 20.0, 15.0, r.tlp);
    let room = WIDTH - 2.0 * M - badge - 20.0;
    let tf = font(21.0, true, INK);
    // The desk and the period first; the rest of the title only if it fits.
    let long = format!("{desk}, {period}: alerts, hits and seizures");
    let title = if text_width(&long, tf.size, true) <= room {
        long
    } else {
        format!("{desk}, {period}")
    };
    c.text(M, 42.0, Anchor::Start, tf, &title, room);
    let t = &r.totals;
    let weeks = r.weeks.len() as u64;
    let sub = format!(
        "{}  ·  {}  ·  {}  ·  {} with an outcome  ·  {}, {} kg seized",
        counted(weeks, "ISO week", "ISO weeks"),
        counted(t.alerts, "alert", "alerts"),
        counted(t.hits, "hit", "hits"),
        report::thousands(t.outcomes),
        counted(t.seizures, "seizure", "seizures"),
        kg_text(t.seized_kg)
    );
    c.text(
        M,
        66.0,
        Anchor::Start,
        font(13.0, false, "#333333"),
        &sub,
        room,
    );
    c.line(M, 80.0, WIDTH - M, 80.0, "#bbbbbb");
}

/// The weekly rows from `top`; returns the bottom of the x-axis labels.
fn trends(c: &mut Canvas, r: &Report, top: f64) -> f64 {
    let head = c.text(
        M,
        top + 8.0,
        Anchor::Start,
        font(14.0, true, INK),
        "Per ISO week",
        300.0,
    );
    c.text(
        M + head + 10.0,
        top + 8.0,
        Anchor::Start,
        font(11.0, false, GREY),
        "each row on its own scale; seizures counted in the week of their hit; weeks Monday to Sunday, UTC",
        WIDTH - 2.0 * M - head - 10.0,
    );
    let left = M + 124.0;
    let right = WIDTH - M;
    let plot_w = right - left;
    let row_h = 50.0;
    let gap = 15.0;
    let first = top + 24.0;
    let n = r.weeks.len();
    let t = &r.totals;
    let series: [(&str, &str, u64, Vec<f64>); 3] = [
        (
            "Alerts",
            C_ALERTS,
            t.alerts,
            r.weeks.iter().map(|w| w.alerts as f64).collect(),
        ),
        (
            "Hits",
            C_HITS,
            t.hits,
            r.weeks.iter().map(|w| w.hits as f64).collect(),
        ),
        (
            "Seizures",
            C_SEIZURES,
            t.seizures,
            r.weeks.iter().map(|w| w.seizures as f64).collect(),
        ),
    ];
    let slot = if n > 0 { plot_w / n as f64 } else { plot_w };
    let bar_w = (slot * 0.72).clamp(1.0, 60.0);
    let value_font = font(9.5, false, INK);
    for (i, (name, colour, total, vals)) in series.iter().enumerate() {
        let y0 = first + i as f64 * (row_h + gap);
        let base = y0 + row_h;
        let plot_top = y0 + 11.0;
        let max = vals.iter().copied().fold(0.0, f64::max);
        let top_v = nice_max(max);
        let y_of = |v: f64| base - v / top_v * (base - plot_top);
        c.text(
            M,
            y0 + row_h / 2.0,
            Anchor::Start,
            font(12.5, true, colour),
            name,
            80.0,
        );
        c.text(
            M,
            y0 + row_h / 2.0 + 15.0,
            Anchor::Start,
            font(10.5, false, GREY),
            &format!("total {}", report::thousands(*total)),
            82.0,
        );
        for tv in ticks(top_v, true) {
            let y = y_of(tv);
            c.line(left, y, right, y, if tv == 0.0 { AXIS } else { GRID });
            c.line(left - 4.0, y, left, y, AXIS);
            c.text(
                left - 6.0,
                y + 3.5,
                Anchor::End,
                font(9.5, false, GREY),
                &count(tv),
                30.0,
            );
        }
        if n == 0 {
            c.text(
                left + 8.0,
                base - 6.0,
                Anchor::Start,
                font(11.0, false, GREY),
                "no records in this period",
                plot_w,
            );
            continue;
        }
        let widest = text_width(&count(max), value_font.size, false);
        let show_values = widest + 2.0 <= slot;
        for (k, v) in vals.iter().enumerate() {
            if *v <= 0.0 {
                continue;
            }
            let x = left + k as f64 * slot + (slot - bar_w) / 2.0;
            let y = y_of(*v);
            let w = &r.weeks[k];
            c.rect(
                x,
                y,
                bar_w,
                base - y,
                colour,
                Some(&format!(
                    "{} (from {}): {} {}",
                    w.week,
                    w.starts,
                    count(*v),
                    name.to_lowercase()
                )),
            );
            if show_values {
                c.text(
                    x + bar_w / 2.0,
                    y - 3.0,
                    Anchor::Middle,
                    value_font,
                    &count(*v),
                    slot,
                );
            }
        }
    }
    // The shared week axis under the last row.
    let base = first + 2.0 * (row_h + gap) + row_h;
    let wf = font(9.5, false, GREY);
    let yf = font(9.5, true, GREY);
    let label_w = text_width("W53", wf.size, false) + 6.0;
    let every = ((label_w / slot).ceil() as usize).max(1);
    let mut last_year: Option<i32> = None;
    let mut year_end = f64::MIN;
    for (k, w) in r.weeks.iter().enumerate() {
        if k % every != 0 {
            continue;
        }
        let (year, week) = split_week(&w.week);
        let x = left + (k as f64 + 0.5) * slot;
        c.line(x, base, x, base + 3.0, AXIS);
        let wl = format!("W{week:02}");
        let (ax, anchor) = inside(x, text_width(&wl, wf.size, false), left, right);
        c.text(
            ax,
            base + 15.0,
            anchor,
            wf,
            &wl,
            label_w.max(slot * every as f64),
        );
        if last_year != Some(year) {
            let yl = year.to_string();
            let yw = text_width(&yl, yf.size, true);
            let (ax, anchor) = inside(x, yw, left, right);
            let start = match anchor {
                Anchor::Start => ax,
                Anchor::Middle => ax - yw / 2.0,
                Anchor::End => ax - yw,
            };
            if start > year_end + 6.0 {
                c.text(ax, base + 27.0, anchor, yf, &yl, 60.0);
                year_end = start + yw;
                last_year = Some(year);
            }
        }
    }
    base + 29.0
}

/// Where to put a label of width `w` centred on `x` so that it stays between `left` and
/// `right`: centred, or flush with the nearer edge.
fn inside(x: f64, w: f64, left: f64, right: f64) -> (f64, Anchor) {
    if x - w / 2.0 < left {
        (left, Anchor::Start)
    } else if x + w / 2.0 > right {
        (right, Anchor::End)
    } else {
        (x, Anchor::Middle)
    }
}

fn split_week(label: &str) -> (i32, u8) {
    let (y, w) = label.split_once("-W").unwrap_or((label, "0"));
    (y.parse().unwrap_or(0), w.parse().unwrap_or(0))
}

/// One metric column of a bar table: title, colour, value of a row, text of a value.
struct Metric<T> {
    title: &'static str,
    colour: &'static str,
    value: fn(&T) -> f64,
    text: fn(f64) -> String,
    whole: bool,
}

/// Font of the row labels of bar tables.
const LABEL: Font = font(11.0, false, INK);
/// Line height of two-line row labels.
const LABEL_LINE: f64 = 11.0 * 1.2;
/// Smallest row that takes a two-line label.
const TWO_LINES: f64 = 2.0 * LABEL_LINE + 3.0;
/// Bar table header (metric titles) and axis (ticks and their labels) heights.
const TABLE_HEAD: f64 = 18.0;
const TABLE_AXIS: f64 = 20.0;

/// Row heights: `h` each, or [`TWO_LINES`] for a label that needs two lines in `label_w`.
fn heights(labels: &[String], label_w: f64, h: f64) -> Vec<f64> {
    labels
        .iter()
        .map(|l| {
            if text_width(l, LABEL.size, false) > label_w - 6.0 {
                h.max(TWO_LINES)
            } else {
                h
            }
        })
        .collect()
}

/// A table of horizontal bars: a label column then one bar column per metric, each on its
/// own scale with an axis (0, middle, top) under it; row `i` is `heights[i]` tall. Returns
/// the bottom used.
#[allow(clippy::too_many_arguments)]
fn bar_table<T>(
    c: &mut Canvas,
    x: f64,
    top: f64,
    width: f64,
    label_w: f64,
    rows: &[T],
    labels: &[String],
    metrics: &[Metric<T>],
    heights: &[f64],
) -> f64 {
    let vf = font(9.5, false, INK);
    let head_y = top + 10.0;
    let gap = 10.0;
    let mw = (width - label_w - gap * metrics.len() as f64) / metrics.len() as f64;
    let rows_top = top + TABLE_HEAD;
    // Row centres and the axis under the last row.
    let mut centres = Vec::with_capacity(rows.len());
    let mut y = rows_top;
    for (i, h) in heights.iter().enumerate().take(rows.len()) {
        if i % 2 == 1 {
            c.rect(x - 4.0, y, width + 4.0, *h, "#f3f3f3", None);
        }
        centres.push(y + h / 2.0);
        y += h;
    }
    let axis_y = y + 2.0;
    for ((label, cy), h) in labels.iter().zip(&centres).zip(heights) {
        let lines = if *h >= TWO_LINES { 2 } else { 1 };
        let lines = wrap(label, label_w - 6.0, LABEL.size, false, lines);
        let y1 = cy + 4.0 - LABEL_LINE * (lines.len() as f64 - 1.0) / 2.0;
        for (i, l) in lines.iter().enumerate() {
            c.text(
                x,
                y1 + i as f64 * LABEL_LINE,
                Anchor::Start,
                LABEL,
                l,
                label_w - 6.0,
            );
        }
    }
    for (m, metric) in metrics.iter().enumerate() {
        let x0 = x + label_w + m as f64 * (mw + gap);
        c.text(
            x0,
            head_y,
            Anchor::Start,
            font(10.5, true, metric.colour),
            metric.title,
            mw,
        );
        let max = rows.iter().map(metric.value).fold(0.0, f64::max);
        let top_v = nice_max(max);
        let widest = rows
            .iter()
            .map(|row| text_width(&(metric.text)((metric.value)(row)), vf.size, false))
            .fold(0.0, f64::max);
        // The top tick label is centred on the end of the scale: keep it inside the column.
        let tf = font(9.0, false, GREY);
        let top_label = text_width(&(metric.text)(top_v), tf.size, false);
        let bar_max = (mw - widest - 4.0).min(mw - top_label / 2.0).max(10.0);
        let x_of = |v: f64| x0 + v / top_v * bar_max;
        let tks = ticks(top_v, metric.whole);
        for tv in &tks {
            let tx = x_of(*tv);
            c.line(
                tx,
                rows_top,
                tx,
                axis_y,
                if *tv == 0.0 { AXIS } else { GRID },
            );
            c.line(tx, axis_y, tx, axis_y + 3.0, AXIS);
        }
        c.line(x0, axis_y, x0 + bar_max, axis_y, AXIS);
        // Tick labels: 0 flush left, the top centred, the middle one only if it has room.
        let zero_end = x0 - 1.0 + text_width("0", tf.size, false);
        let top_start = x_of(top_v) - top_label / 2.0;
        for (k, tv) in tks.iter().enumerate() {
            let t = (metric.text)(*tv);
            let tw = text_width(&t, tf.size, false);
            let tx = x_of(*tv);
            if k == 0 {
                c.text(tx - 1.0, axis_y + 13.0, Anchor::Start, tf, &t, tw + 2.0);
            } else if k + 1 == tks.len()
                || (tx - tw / 2.0 > zero_end + 4.0 && tx + tw / 2.0 + 4.0 < top_start)
            {
                c.text(tx, axis_y + 13.0, Anchor::Middle, tf, &t, tw + 2.0);
            }
        }
        for (row, (cy, h)) in rows.iter().zip(centres.iter().zip(heights)) {
            let v = (metric.value)(row);
            let bh = (h * 0.6).min(14.0);
            let w = x_of(v) - x0;
            c.rect(x0, cy - bh / 2.0, w, bh, metric.colour, None);
            c.text(
                x0 + w + 3.0,
                cy + 3.5,
                Anchor::Start,
                vf,
                &(metric.text)(v),
                widest + 2.0,
            );
        }
    }
    axis_y + TABLE_AXIS
}

/// Faint bands on every other row help the eye follow a row across columns.
fn band(c: &mut Canvas, x: f64, top: f64, width: f64, row_h: f64, rows: usize) {
    for r in (1..rows).step_by(2) {
        c.rect(
            x - 4.0,
            top + r as f64 * row_h,
            width + 4.0,
            row_h,
            "#f3f3f3",
            None,
        );
    }
}

/// Rows that fit in `room` px at `min_h` px each (at least 1, at most `cap`).
fn rows_that_fit(room: f64, min_h: f64, cap: usize) -> usize {
    ((room / min_h).floor().max(1.0) as usize).min(cap)
}

/// A panel's title and the note under it; returns where its content starts.
fn panel_title(c: &mut Canvas, x: f64, y: f64, width: f64, title: &str, note: &str) -> f64 {
    c.text(
        x,
        y + 12.0,
        Anchor::Start,
        font(14.0, true, INK),
        title,
        width,
    );
    c.text(
        x,
        y + 27.0,
        Anchor::Start,
        font(10.5, false, GREY),
        note,
        width,
    );
    y + 36.0
}
/// Height of [`panel_title`].
const PANEL_TITLE: f64 = 36.0;

fn nothing(c: &mut Canvas, x: f64, y: f64, width: f64, text: &str) -> f64 {
    c.text(
        x,
        y + 14.0,
        Anchor::Start,
        font(11.0, false, GREY),
        text,
        width,
    );
    y + 22.0
}

fn count_metric(title: &'static str, colour: &'static str, value: fn(&Row) -> f64) -> Metric<Row> {
    Metric {
        title,
        colour,
        value,
        text: count,
        whole: true,
    }
}

fn partners(c: &mut Canvas, r: &Report, x: f64, top: f64, width: f64, bottom: f64) {
    let y = panel_title(
        c,
        x,
        top,
        width,
        "By partner (alert origin)",
        "each column on its own scale",
    );
    if r.by_partner.is_empty() {
        nothing(c, x, y, width, "no alerts or hits in this period");
        return;
    }
    let room = bottom - y - TABLE_HEAD - TABLE_AXIS;
    let n = rows_that_fit(room, 20.0, 12);
    let rows = report::top_rows(&r.by_partner, n, |x| (x.alerts, x.hits, x.seizures));
    let h = (room / rows.len() as f64).min(26.0);
    let labels: Vec<String> = rows.iter().map(|x| x.key.clone()).collect();
    let metrics = [
        count_metric("Alerts", C_ALERTS, |x| x.alerts as f64),
        count_metric("Hits", C_HITS, |x| x.hits as f64),
        count_metric("Seizures", C_SEIZURES, |x| x.seizures as f64),
    ];
    let hs = heights(&labels, 72.0, h);
    bar_table(c, x, y, width, 72.0, &rows, &labels, &metrics, &hs);
}

/// Label column of the route and substance tables.
const LABEL_W: f64 = 128.0;

/// Seizures by route, then by substance under it.
fn seizures(c: &mut Canvas, r: &Report, x: f64, top: f64, width: f64, bottom: f64) {
    let metrics = [
        count_metric("Seizures", C_SEIZURES, |x| x.seizures as f64),
        Metric {
            title: "Seized kg",
            colour: C_KG,
            value: |x: &Row| x.seized_kg,
            text: kg_text,
            whole: false,
        },
    ];
    let rank = |x: &Row| (x.seizures, x.seized_grams, x.hits, x.alerts);
    let with_hits = |v: &[Row]| -> Vec<Row> { v.iter().filter(|x| x.hits > 0).cloned().collect() };
    let routes = with_hits(&r.by_route);
    let substances = with_hits(&r.by_substance);
    let gap = 16.0;
    // Both tables' fixed parts, then rows: up to 8 routes and 6 substances at 17 px or more
    // (two-line labels take more), fewer routes (the rest as "other") if they do not fit.
    let fixed = 2.0 * (PANEL_TITLE + TABLE_HEAD + TABLE_AXIS) + gap;
    let room = bottom - top - fixed;
    let names = |v: &[Row]| -> Vec<String> { v.iter().map(|x| x.key.clone()).collect() };
    let subs = report::top_rows(&substances, rows_that_fit(room / 2.0, 17.0, 6), rank);
    let sub_labels = names(&subs);
    let sub_min: f64 = heights(&sub_labels, LABEL_W, 17.0).iter().sum();
    let n_routes = rows_that_fit(room - sub_min, 17.0, 8);
    let rts = report::top_rows(&routes, n_routes, rank);
    let route_labels = names(&rts);
    let rows = (rts.len().max(1) + subs.len().max(1)) as f64;
    let extra = sub_min - 17.0 * subs.len() as f64;
    let h = ((room - extra) / rows).clamp(17.0, 24.0);

    let y = panel_title(
        c,
        x,
        top,
        width,
        "Seizures by route",
        "routes with hits; count and kilograms, each on its own scale",
    );
    let end = if rts.is_empty() {
        nothing(c, x, y, width, "no hits in this period")
    } else {
        let hs = heights(&route_labels, LABEL_W, h);
        bar_table(c, x, y, width, LABEL_W, &rts, &route_labels, &metrics, &hs)
    };
    let y = panel_title(
        c,
        x,
        end + gap,
        width,
        "Seizures by substance",
        "the substance found, else the alert's; count and kilograms",
    );
    if subs.is_empty() {
        nothing(c, x, y, width, "no hits in this period");
    } else {
        let hs = heights(&sub_labels, LABEL_W, h);
        bar_table(c, x, y, width, LABEL_W, &subs, &sub_labels, &metrics, &hs);
    }
}

/// Precision by source desk, then the hits by outcome under it when there is room.
fn precision(c: &mut Canvas, r: &Report, x: f64, top: f64, width: f64, bottom: f64) {
    let y = panel_title(
        c,
        x,
        top,
        width,
        "Precision by source desk",
        "seizures / hits with an outcome; n = hits with an outcome",
    );
    if r.sources.is_empty() {
        nothing(c, x, y, width, "no hits in this period");
        return;
    }
    // Leave room for the outcome bar under it (title, bar, legend: 84 px).
    let room = bottom - y - TABLE_HEAD - TABLE_AXIS - 84.0;
    let n = rows_that_fit(room, 20.0, 10);
    let rows = report::top_sources(&r.sources, n);
    let row_h = (room / rows.len() as f64).min(24.0);
    let label_w = 72.0;
    let value_w = text_width("100%", 10.5, true) + 4.0 + text_width("n=10,000", 10.0, false);
    let bar_x = x + label_w;
    let bar_max = width - label_w - value_w - 10.0;
    let head_y = y + 10.0;
    c.text(
        bar_x,
        head_y,
        Anchor::Start,
        font(10.5, true, C_PRECISION),
        "Precision",
        bar_max,
    );
    let rows_top = y + TABLE_HEAD;
    let axis_y = rows_top + row_h * rows.len() as f64 + 2.0;
    band(c, x, rows_top, width, row_h, rows.len());
    for (k, p) in [0.0, 0.5, 1.0].iter().enumerate() {
        let tx = bar_x + p * bar_max;
        c.line(tx, rows_top, tx, axis_y, if k == 0 { AXIS } else { GRID });
        c.line(tx, axis_y, tx, axis_y + 3.0, AXIS);
        let (anchor, ax) = if k == 0 {
            (Anchor::Start, tx - 1.0)
        } else {
            (Anchor::Middle, tx)
        };
        c.text(
            ax,
            axis_y + 13.0,
            anchor,
            font(9.0, false, GREY),
            &format!("{:.0}%", p * 100.0),
            40.0,
        );
    }
    c.line(bar_x, axis_y, bar_x + bar_max, axis_y, AXIS);
    for (i, s) in rows.iter().enumerate() {
        let cy = rows_top + row_h * (i as f64 + 0.5);
        c.text(x, cy + 4.0, Anchor::Start, LABEL, &s.source, label_w - 6.0);
        let bh = (row_h * 0.6).min(14.0);
        let vx = bar_x + bar_max + 10.0;
        let (text, ink) = match s.precision {
            Some(p) => {
                c.rect(
                    bar_x,
                    cy - bh / 2.0,
                    p * bar_max,
                    bh,
                    C_PRECISION,
                    Some(&format!(
                        "{}: {} seizures / {} hits with an outcome ({} hits)",
                        s.source, s.seizures, s.with_outcome, s.hits
                    )),
                );
                (format!("{:.0}%", p * 100.0), INK)
            }
            None => ("–".to_owned(), GREY),
        };
        let w = c.text(
            vx,
            cy + 4.0,
            Anchor::Start,
            font(10.5, true, ink),
            &text,
            value_w,
        );
        c.text(
            vx + w + 4.0,
            cy + 4.0,
            Anchor::Start,
            font(10.0, false, GREY),
            &format!("n={}", report::thousands(s.with_outcome)),
            value_w - w - 4.0,
        );
    }
    outcomes(c, r, x, axis_y + TABLE_AXIS + 12.0, width, bottom);
}

/// Every hit of the period as one bar: seized, another outcome, no outcome yet.
fn outcomes(c: &mut Canvas, r: &Report, x: f64, top: f64, width: f64, bottom: f64) {
    if bottom - top < 72.0 {
        return;
    }
    let t = &r.totals;
    let y = panel_title(
        c,
        x,
        top,
        width,
        "Hits by outcome",
        &format!("all {} hits of the period", report::thousands(t.hits)),
    );
    let parts = [
        ("seized", t.seizures, C_SEIZURES),
        (
            "other outcome",
            t.outcomes.saturating_sub(t.seizures),
            "#8d9db0",
        ),
        (
            "no outcome yet",
            t.hits.saturating_sub(t.outcomes),
            "#d9d9d9",
        ),
    ];
    let total = t.hits.max(1) as f64;
    let mut bx = x;
    for (name, n, colour) in parts {
        let w = n as f64 / total * width;
        c.rect(bx, y + 2.0, w, 14.0, colour, Some(&format!("{name}: {n}")));
        bx += w;
    }
    // Legend: swatch, text; entries on one line, or the next when full.
    let lf = font(10.0, false, INK);
    let (mut lx, mut ly) = (x, y + 32.0);
    for (name, n, colour) in parts {
        let pct = if t.hits > 0 {
            format!(" ({:.0}%)", n as f64 / total * 100.0)
        } else {
            String::new()
        };
        let text = format!("{name} {}{pct}", report::thousands(n));
        let w = 14.0 + text_width(&text, lf.size, false) + 12.0;
        if lx > x && lx + w > x + width {
            lx = x;
            ly += 15.0;
        }
        if ly > bottom {
            break;
        }
        c.rect(lx, ly - 9.0, 10.0, 10.0, colour, None);
        c.text(lx + 14.0, ly, Anchor::Start, lf, &text, width - 14.0);
        lx += w;
    }
}

fn footer(c: &mut Canvas, r: &Report, desk: &str, period: &str) {
    let y = HEIGHT - 14.0;
    c.line(M, y - 16.0, WIDTH - M, y - 16.0, "#bbbbbb");
    let badge = c.tlp(WIDTH - M, y - 12.0, 10.0, r.tlp);
    c.text(
        M,
        y,
        Anchor::Start,
        font(9.5, false, GREY),
        &format!(
            "kdesk report  ·  {desk}  ·  {period}  ·  alerts: first versions issued in the period; \
             hits, outcomes: by the day of the hit  ·  TLP: the strictest counted"
        ),
        WIDTH - 2.0 * M - badge - 16.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::report::fixture;
    use crate::screen::report::{build, Period};

    fn report(alerts: usize) -> Report {
        build(
            &fixture::store(alerts),
            &fixture::origin("KR/seoul"),
            Period::default(),
        )
    }

    /// A label as laid out by usvg with the embedded font: text, box, size, bold.
    type Laid = (String, usvg::Rect, f64, bool);

    /// Every text element's box as laid out by usvg with the embedded font.
    fn text_boxes(tree: &usvg::Tree) -> Vec<Laid> {
        fn walk(g: &usvg::Group, out: &mut Vec<Laid>) {
            for n in g.children() {
                match n {
                    usvg::Node::Group(g) => walk(g, out),
                    usvg::Node::Text(t) => {
                        let s: String = t.chunks().iter().map(|c| c.text()).collect();
                        let span = t.chunks().first().and_then(|c| c.spans().first());
                        let size = span.map_or(0.0, |s| f64::from(s.font_size().get()));
                        let bold = span.is_some_and(|s| s.font().weight() >= 600);
                        out.push((s, t.abs_bounding_box(), size, bold));
                    }
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        walk(tree.root(), &mut out);
        out
    }

    fn check_layout(r: &Report) {
        let svg = to_svg(r);
        let tree = parse(&svg).unwrap();
        let boxes = text_boxes(&tree);
        // Every label was laid out with the embedded font (none dropped for want of one).
        assert_eq!(boxes.len(), svg.matches("<text ").count());
        for (t, b, _, _) in &boxes {
            assert!(
                b.left() >= 0.0
                    && b.top() >= 0.0
                    && b.right() <= WIDTH as f32
                    && b.bottom() <= HEIGHT as f32,
                "{t:?} at {b:?} is cut off by the page"
            );
        }
        for (i, (ta, a, _, _)) in boxes.iter().enumerate() {
            for (tb, b, _, _) in &boxes[i + 1..] {
                let overlap = a.left() < b.right() - 0.01
                    && b.left() < a.right() - 0.01
                    && a.top() < b.bottom() - 0.01
                    && b.top() < a.bottom() - 0.01;
                assert!(!overlap, "{ta:?} at {a:?} overlaps {tb:?} at {b:?}");
            }
        }
        // Our estimate is never narrower than the real text.
        for (t, b, size, bold) in &boxes {
            assert!(
                f64::from(b.width()) <= text_width(t, *size, *bold),
                "{t:?} ({size} px, bold {bold}): {} px laid out, {} px measured",
                b.width(),
                text_width(t, *size, *bold)
            );
        }
    }

    #[test]
    fn no_label_overlaps_another_or_leaves_the_page_at_10_and_10000_alerts() {
        for n in [10, 10_000] {
            let mut r = report(n);
            if n == 10_000 {
                // More partners than rows: the top rows and one "other" row.
                for i in 0..20u64 {
                    r.by_partner.push(Row {
                        key: format!("Q{i}"),
                        alerts: i + 1,
                        ..Default::default()
                    });
                    r.sources
                        .push(report::Source::new(&format!("Q{i}"), i + 1, i, 0));
                }
            }
            check_layout(&r);
            let svg = to_svg(&r);
            assert!(svg.contains("KR/seoul") && svg.contains("TLP:AMBER+STRICT"));
            assert!(svg.contains(&report::period_text(&r)));
            assert!(svg.matches("<text ").count() > 80);
            if n == 10_000 {
                assert!(svg.contains(">other (21)<"), "no other row of partners");
                assert!(svg.contains(">other (2"), "no other row of sources");
            }
        }
        // An empty store and a single week are drawn too.
        check_layout(&build(&[], &fixture::origin("KR/seoul"), Period::default()));
        let one = fixture::store(3);
        check_layout(&build(
            &one[..1],
            &fixture::origin("TH/bangkok"),
            Period::default(),
        ));
    }

    #[test]
    fn long_periods_and_long_names_still_fit() {
        // Two years of weeks, a long node name.
        let p = Period::new(
            Some(crate::model::Date::parse("2024-06-01").unwrap()),
            Some(crate::model::Date::parse("2026-06-01").unwrap()),
        )
        .unwrap();
        let r = build(
            &fixture::store(500),
            &fixture::origin("KR/incheon-airport-cargo-terminal2"),
            p,
        );
        assert!(r.weeks.len() > 100);
        check_layout(&r);
    }

    #[test]
    fn hits_keep_their_own_scale_next_to_thousands_of_alerts() {
        let r = report(10_000);
        let svg = to_svg(&r);
        // The tallest hits bar reaches (nearly) the top of its row: bars titled "... hits".
        let tallest = |what: &str| -> f64 {
            svg.lines()
                .filter(|l| l.contains("<rect") && l.contains(&format!(" {what}</title>")))
                .filter_map(|l| {
                    let h = l.split("height=\"").nth(1)?.split('"').next()?;
                    h.parse::<f64>().ok()
                })
                .fold(0.0, f64::max)
        };
        assert!(tallest("alerts") > 25.0);
        assert!(tallest("hits") > 18.0, "hits bars {}", tallest("hits"));
        assert!(tallest("seizures") > 18.0);
    }

    #[test]
    fn labels_are_shortened_with_an_ellipsis_or_wrapped() {
        let w = text_width("narcotic-pharmaceuticals", 11.0, false);
        assert!(w > 100.0 && w < 170.0, "{w}");
        assert!(text_width("W", 10.0, true) > text_width("i", 10.0, true));
        let f = fit("narcotic-pharmaceuticals", 80.0, 11.0, false);
        assert!(f.ends_with('…') && f.starts_with("narcotic"), "{f}");
        assert!(text_width(&f, 11.0, false) <= 80.0);
        assert_eq!(fit("KR", 80.0, 11.0, false), "KR");
        assert_eq!(fit("KR", 2.0, 11.0, false), "");
        assert_eq!(
            wrap("narcotic-pharmaceuticals", 110.0, 11.0, false, 2),
            ["narcotic-", "pharmaceuticals"]
        );
        let w = wrap(
            "a very long label that cannot fit on two lines",
            60.0,
            11.0,
            false,
            2,
        );
        assert_eq!(w.len(), 2);
        assert!(w[1].ends_with('…'));
        assert!(w.iter().all(|l| text_width(l, 11.0, false) <= 60.0));
    }

    #[test]
    fn numbers_and_scales() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.0), 3.0);
        assert_eq!(nice_max(7.0), 8.0);
        assert_eq!(nice_max(14.0), 15.0);
        assert_eq!(nice_max(1_234.0), 1_500.0);
        assert_eq!(nice_max(2_400.0), 2_500.0);
        assert_eq!(ticks(1.0, true), [0.0, 1.0]);
        assert_eq!(ticks(10.0, true), [0.0, 5.0, 10.0]);
        assert_eq!(kg_text(0.0), "0");
        assert_eq!(kg_text(2.35), "2.35");
        assert_eq!(kg_text(12.25), "12.2");
        assert_eq!(kg_text(1_250.4), "1,250");
    }

    #[test]
    fn the_extension_chooses_the_format() {
        assert_eq!(
            ChartFormat::from_path(Path::new("a/b.svg")).unwrap(),
            ChartFormat::Svg
        );
        assert_eq!(
            ChartFormat::from_path(Path::new("b.PNG")).unwrap(),
            ChartFormat::Png
        );
        assert_eq!(
            ChartFormat::from_path(Path::new("b.pdf")).unwrap(),
            ChartFormat::Pdf
        );
        let e = ChartFormat::from_path(Path::new("brief.jpg"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("brief.jpg") && e.contains(".svg, .png or .pdf") && e.contains("(got .jpg)"),
            "{e}"
        );
        let e = ChartFormat::from_path(Path::new("brief"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no extension"), "{e}");
    }

    #[test]
    fn png_and_pdf_from_the_same_page() {
        let r = report(10);
        let png = render(&r, ChartFormat::Png).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let w = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
        let h = u32::from_be_bytes([png[20], png[21], png[22], png[23]]);
        assert_eq!((w, h), (2246, 1588));
        let pdf = render(&r, ChartFormat::Pdf).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // One A4 landscape page: 842 x 595.5 pt.
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains("/MediaBox [0 0 842.25 595.5]"),
            "no A4 media box"
        );
    }
}
