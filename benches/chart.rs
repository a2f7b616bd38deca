//! The benchmark's picture: a horizontal grouped bar chart as SVG text (one group per
//! function, one bar per binding), written by hand so that the bench needs no plotting crate.
//! Tested by `tests/bench_chart.rs`, which includes this file (the bench has no test harness).

use std::fmt::Write as _;

/// One function's row: its label and one value per series (`None`: the binding does not
/// cover it, drawn as "n/a").
pub struct Group {
    pub label: String,
    /// Shown when the pointer rests on the group's bars (the C signature).
    pub detail: String,
    pub values: Vec<Option<f64>>,
}

/// Fill colours of the series, in order (colour-blind safe, from the Okabe–Ito palette).
const COLORS: [&str; 4] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"];

const WIDTH: f64 = 960.0;
const LABEL_WIDTH: f64 = 250.0;
/// Room right of the longest bar for its value.
const VALUE_ROOM: f64 = 60.0;
const BAR_HEIGHT: f64 = 9.0;
const GROUP_GAP: f64 = 9.0;
const TOP: f64 = 64.0;
const FONT: &str = "font-family=\"sans-serif\" font-size=\"11\"";

/// The SVG document of `groups`, with `series` names (one per value of a group) in the
/// legend, `title` above and `unit` naming the axis.
pub fn bar_chart(title: &str, unit: &str, series: &[&str], groups: &[Group]) -> String {
    let max = groups
        .iter()
        .flat_map(|g| g.values.iter().flatten())
        .fold(0.0_f64, |m, &v| m.max(v));
    let plot = WIDTH - LABEL_WIDTH - VALUE_ROOM - 10.0;
    let scale = if max > 0.0 { plot / max } else { 0.0 };
    let group_height = BAR_HEIGHT * series.len() as f64 + GROUP_GAP;
    let height = TOP + group_height * groups.len() as f64 + 30.0;

    let mut s = String::new();
    writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\">"
    )
    .unwrap();
    writeln!(s, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>").unwrap();
    writeln!(
        s,
        "<text x=\"10\" y=\"20\" font-family=\"sans-serif\" font-size=\"14\" \
         font-weight=\"bold\">{}</text>",
        escape(title)
    )
    .unwrap();
    let mut x = LABEL_WIDTH;
    for (i, name) in series.iter().enumerate() {
        writeln!(
            s,
            "<rect x=\"{x}\" y=\"32\" width=\"12\" height=\"12\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"42\" {FONT}>{}</text>",
            COLORS[i % COLORS.len()],
            x + 16.0,
            escape(name)
        )
        .unwrap();
        x += 24.0 + 7.0 * name.chars().count() as f64;
    }
    writeln!(
        s,
        "<text x=\"{}\" y=\"42\" {FONT} text-anchor=\"end\">{} (shorter is better)</text>",
        WIDTH - 10.0,
        escape(unit)
    )
    .unwrap();

    for (gi, group) in groups.iter().enumerate() {
        let y0 = TOP + group_height * gi as f64;
        if gi % 2 == 1 {
            // Alternate bands guide the eye from a label to its bars.
            writeln!(
                s,
                "<rect x=\"0\" y=\"{}\" width=\"{WIDTH}\" height=\"{group_height}\" \
                 fill=\"#f2f2f2\"/>",
                y0 - GROUP_GAP / 2.0
            )
            .unwrap();
        }
        writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" {FONT} text-anchor=\"end\">{}<title>{}</title></text>",
            LABEL_WIDTH - 8.0,
            y0 + BAR_HEIGHT * series.len() as f64 / 2.0 + 4.0,
            escape(&group.label),
            escape(&group.detail)
        )
        .unwrap();
        for (si, value) in group.values.iter().enumerate() {
            let y = y0 + BAR_HEIGHT * si as f64;
            let text_y = y + BAR_HEIGHT - 1.0;
            match value {
                Some(v) => {
                    let w = (v * scale).max(0.5);
                    writeln!(
                        s,
                        "<rect class=\"bar\" x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{w:.1}\" \
                         height=\"{}\" fill=\"{}\"><title>{}: {} {v:.0}</title></rect>\
                         <text x=\"{:.1}\" y=\"{text_y}\" font-family=\"sans-serif\" \
                         font-size=\"9\">{v:.0}</text>",
                        BAR_HEIGHT - 1.0,
                        COLORS[si % COLORS.len()],
                        escape(&group.label),
                        escape(series.get(si).copied().unwrap_or("")),
                        LABEL_WIDTH + w + 3.0
                    )
                    .unwrap();
                }
                None => writeln!(
                    s,
                    "<text x=\"{}\" y=\"{text_y}\" font-family=\"sans-serif\" font-size=\"9\" \
                     fill=\"#888\">n/a</text>",
                    LABEL_WIDTH + 3.0
                )
                .unwrap(),
            }
        }
    }
    let axis_bottom = TOP + group_height * groups.len() as f64;
    writeln!(
        s,
        "<line x1=\"{LABEL_WIDTH}\" y1=\"{}\" x2=\"{LABEL_WIDTH}\" y2=\"{axis_bottom}\" \
         stroke=\"#444\"/>",
        TOP - GROUP_GAP / 2.0
    )
    .unwrap();
    s.push_str("</svg>\n");
    s
}

/// `text` with XML's special characters as entities.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
