//! Tests of the benchmark's SVG chart writer (`benches/chart.rs`), included here because the
//! bench is a `harness = false` target whose own tests would not run.

#[path = "../benches/chart.rs"]
mod chart;

use chart::{bar_chart, Group};

fn groups() -> Vec<Group> {
    vec![
        Group {
            label: "noop".into(),
            detail: "void()".into(),
            values: vec![Some(143.0), Some(165.0), Some(371.0)],
        },
        Group {
            label: "view <&> \"rw\"".into(),
            detail: "loop(o.x = o.x + 1) & 'more'".into(),
            values: vec![Some(1359.0), Some(1218.0), None],
        },
    ]
}

/// Checks that tags nest and close, and that every `&` starts an entity; a small
/// checker rather than an XML crate, which the bench does not otherwise need.
fn assert_well_formed(svg: &str) {
    let mut open: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        assert!(!text.contains('>'), "stray '>' in text {text:?}");
        assert_entities(text);
        let end = rest[start..].find('>').expect("tag closes") + start;
        let tag = &rest[start + 1..end];
        assert!(!tag.contains('<'), "'<' inside tag {tag:?}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "mismatched </{name}>");
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap();
            open.push(name.to_string());
        }
        // Attribute values are quoted, with no raw quote or '<' inside.
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "unbalanced quotes in {tag:?}"
        );
        assert_entities(tag);
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed tags {open:?}");
    assert!(svg.trim_start().starts_with("<svg"));
}

fn assert_entities(text: &str) {
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity),
            "bad entity {entity:?}"
        );
    }
}

#[test]
fn the_chart_is_well_formed_xml() {
    let svg = bar_chart(
        "calls <per> function",
        "instr/call",
        &["hand-written", "moonthunk", "libffi"],
        &groups(),
    );
    assert_well_formed(&svg);
}

#[test]
fn one_bar_per_value() {
    let svg = bar_chart("t", "u", &["a", "b", "c"], &groups());
    assert_eq!(svg.matches("<rect class=\"bar\"").count(), 5);
    assert_eq!(svg.matches(">n/a<").count(), 1);
    // The longest bar spans the plot; the others are in proportion.
    let widths: Vec<f64> = svg
        .match_indices("class=\"bar\"")
        .map(|(i, _)| {
            let w = &svg[i..][svg[i..].find("width=\"").unwrap() + 7..];
            w[..w.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    let max = widths.iter().cloned().fold(0.0, f64::max);
    assert!(
        (widths[0] / max - 143.0 / 1359.0).abs() < 0.01,
        "{widths:?}"
    );
}

#[test]
fn labels_are_escaped() {
    let svg = bar_chart("a & b", "<u>", &["x\"y"], &groups());
    assert!(svg.contains("view &lt;&amp;&gt; &quot;rw&quot;"));
    assert!(svg.contains("&apos;more&apos;"));
    assert!(svg.contains("a &amp; b"));
    assert!(svg.contains("&lt;u&gt;"));
    assert!(!svg.contains("<&>"));
    assert_well_formed(&svg);
}

#[test]
fn no_values_draws_no_bars() {
    let svg = bar_chart("t", "u", &["a"], &[]);
    assert_well_formed(&svg);
    assert_eq!(svg.matches("class=\"bar\"").count(), 0);
}
