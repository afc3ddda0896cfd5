//! A session's ladder diagram ([`Ladder`]) drawn as inline SVG for the HTML page: one lane per
//! participant (client, the NAT routers the capture implies, a router that sent ICMP, server),
//! headed by its role and address; one arrow per step, in frame order, with its frame number in
//! the left margin and its protocol text above it. Control lines are solid, data connections
//! dashed; a step that did not arrive ends in a cross of [`FAILURE`] at the lane where it died,
//! with the way it ended beside it.
//!
//! Owns the geometry and the drawing only: which lanes and steps there are is report::ladder's
//! decision. Every label goes through [`Escaped`] (reply texts and file names come from the
//! capture).

use super::escape::Escaped;
use super::ladder::{Channel, Ending, Ladder};
use crate::model::notation::Ip;
use std::fmt::Write as _;

/// Where a step died: drawn nowhere else on the page, so that it stands out (and a screenshot
/// test can find it).
pub const FAILURE: &str = "#e3001b";
/// The diagram's background, also drawn nowhere else.
pub const PANEL: &str = "#f4f6fb";

const WIDTH: f64 = 1040.0;
/// Left margin, for the frame numbers.
const GUTTER: f64 = 64.0;
/// From the margin (and the right edge) to the outer lanes: room for a lane's heading and for
/// the words beside a cross on an outer lane ("refused (RST)").
const LANE_INSET: f64 = 110.0;
const HEAD: f64 = 64.0;
const ROW: f64 = 32.0;
const FOOT: f64 = 28.0;
/// Half the size of the failure cross.
const CROSS: f64 = 8.0;

const CONTROL: &str = "#3a3a44";
const DATA: &str = "#1f5fa8";
const LANE: &str = "#a9afbf";

/// The diagram of session `id` as an `<svg>` element.
pub fn ladder_svg(out: &mut String, id: u32, ladder: &Ladder) {
    let height = HEAD + ROW * ladder.steps.len() as f64 + FOOT;
    let _ = write!(
        out,
        "<svg class=\"ladder\" role=\"img\" aria-label=\"ladder diagram of session {id}\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"ui-monospace,Menlo,Consolas,monospace\" \
         font-size=\"12\">\n<rect width=\"{WIDTH}\" height=\"{height}\" rx=\"6\" fill=\"{PANEL}\"/>\n"
    );
    let x = |lane: usize| lane_x(lane, ladder.lanes.len());
    for (i, lane) in ladder.lanes.iter().enumerate() {
        let lx = x(i);
        let _ = writeln!(
            out,
            "<line x1=\"{lx}\" y1=\"{}\" x2=\"{lx}\" y2=\"{}\" stroke=\"{LANE}\" stroke-width=\"2\"/>\n\
             <text x=\"{lx}\" y=\"22\" text-anchor=\"middle\" font-family=\"system-ui,sans-serif\" font-size=\"13\" \
             font-weight=\"600\">{}</text>",
            HEAD - 16.0,
            height - FOOT + 8.0,
            lane.role.title()
        );
        match lane.address {
            Some(a) => {
                let _ = writeln!(out, "<text x=\"{lx}\" y=\"40\" text-anchor=\"middle\">{}</text>", Ip(a));
            }
            None => {
                let _ = writeln!(out, "<text x=\"{lx}\" y=\"40\" text-anchor=\"middle\" fill=\"#777\">(address not seen)</text>");
            }
        }
    }
    for (row, step) in ladder.steps.iter().enumerate() {
        let y = HEAD + ROW * row as f64 + ROW * 0.7;
        let (x1, x2) = (x(step.from), x(step.to));
        let colour = match step.channel {
            Channel::Control => CONTROL,
            Channel::Data => DATA,
        };
        let dash = if step.channel == Channel::Data { " stroke-dasharray=\"6 4\"" } else { "" };
        let _ = writeln!(out, "<text x=\"8\" y=\"{}\" fill=\"#555\">#{}</text>", y + 4.0, step.frame);
        // A step from a lane to itself (a box that answered for the host behind it) is a short stub.
        let x2 = if x1 == x2 { x1 + 40.0 } else { x2 };
        let dir = if x2 > x1 { 1.0 } else { -1.0 };
        let label_x = (x1 + x2) / 2.0;
        let _ = writeln!(
            out,
            "<text x=\"{label_x}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\">{}</text>",
            y - 6.0,
            Escaped(&step.label)
        );
        match step.ending {
            Ending::Delivered => {
                let tip = x2 - dir * 1.0;
                let _ = writeln!(
                    out,
                    "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"1.6\"{dash}/>\n\
                     <polygon points=\"{tip},{y} {},{} {},{}\" fill=\"{colour}\"/>",
                    tip - dir * 8.0,
                    tip - dir * 9.0,
                    y - 4.5,
                    tip - dir * 9.0,
                    y + 4.5
                );
            }
            failed => {
                let end = x2 - dir * CROSS;
                let _ = writeln!(
                    out,
                    "<line x1=\"{x1}\" y1=\"{y}\" x2=\"{end}\" y2=\"{y}\" stroke=\"{FAILURE}\" stroke-width=\"2\"{dash}/>\n\
                     <path d=\"M{} {} L{} {} M{} {} L{} {}\" stroke=\"{FAILURE}\" stroke-width=\"4\" stroke-linecap=\"round\"/>\n\
                     <text x=\"{}\" y=\"{}\" text-anchor=\"{}\" fill=\"{FAILURE}\" font-weight=\"700\">{}</text>",
                    x2 - CROSS,
                    y - CROSS,
                    x2 + CROSS,
                    y + CROSS,
                    x2 - CROSS,
                    y + CROSS,
                    x2 + CROSS,
                    y - CROSS,
                    x2 + dir * (CROSS + 6.0),
                    y + 4.0,
                    if dir > 0.0 { "start" } else { "end" },
                    ending_words(failed)
                );
            }
        }
    }
    if ladder.negotiations_not_drawn > 0 {
        let _ = writeln!(
            out,
            "<text x=\"{GUTTER}\" y=\"{}\" fill=\"#555\">{} more negotiation(s) not drawn: see the table below</text>",
            height - 8.0,
            ladder.negotiations_not_drawn
        );
    }
    out.push_str("</svg>\n");
}

/// The x of lane `i` of `lanes`, the outer lanes inset from the edges.
fn lane_x(i: usize, lanes: usize) -> f64 {
    let (left, right) = (GUTTER + LANE_INSET, WIDTH - LANE_INSET);
    if lanes < 2 {
        return (left + right) / 2.0;
    }
    (left + (right - left) * i as f64 / (lanes - 1) as f64).round()
}

fn ending_words(ending: Ending) -> &'static str {
    match ending {
        Ending::Delivered => "",
        Ending::Refused => "refused (RST)",
        Ending::Unreachable => "unreachable",
        Ending::Lost => "no answer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;
    use crate::report::ladder::{Lane, Role, Step};

    fn step(frame: u64, from: usize, to: usize, label: &str, ending: Ending) -> Step {
        Step { frame, time: Timestamp(0), from, to, channel: Channel::Data, label: label.to_string(), ending }
    }

    #[test]
    fn a_failed_step_ends_in_a_cross_at_the_lane_where_it_died() {
        let lanes = vec![
            Lane { role: Role::Client, address: Some("192.168.1.10".parse().unwrap()) },
            Lane { role: Role::ClientNat, address: None },
            Lane { role: Role::Router, address: Some("203.0.113.1".parse().unwrap()) },
            Lane { role: Role::Server, address: Some("198.51.100.2".parse().unwrap()) },
        ];
        let steps = vec![step(17, 0, 2, "SYN :40005", Ending::Unreachable), step(18, 2, 0, "ICMP 3/1 <host>", Ending::Delivered)];
        let mut out = String::new();
        ladder_svg(&mut out, 0, &Ladder { lanes, steps, negotiations_not_drawn: 2 });
        // One cross, centred on the router's lane.
        assert_eq!(out.matches(&format!("stroke=\"{FAILURE}\" stroke-width=\"4\"")).count(), 1);
        let router = lane_x(2, 4);
        assert!(out.contains(&format!("M{} ", router - CROSS)), "{out}");
        assert!(out.contains(">unreachable</text>"));
        for text in ["192.168.1.10", "203.0.113.1", "198.51.100.2", "#17", "#18", "SYN :40005", "(address not seen)", "2 more"] {
            assert!(out.contains(text), "{text}");
        }
        assert!(out.contains("ICMP 3/1 &lt;host&gt;") && !out.contains("<host>"), "labels escaped");
    }

    #[test]
    fn lanes_span_the_width_in_order() {
        assert_eq!(lane_x(0, 3), GUTTER + LANE_INSET);
        assert_eq!(lane_x(2, 3), WIDTH - LANE_INSET);
        assert!(lane_x(1, 3) > lane_x(0, 3) && lane_x(1, 3) < lane_x(2, 3));
    }
}
