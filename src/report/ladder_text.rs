//! A [`Ladder`] drawn in plain text, at most [`WIDTH`] columns: one lifeline per lane, one
//! arrow per step with its frame number in the margin; `-` for the control channel, `=` for
//! data, and `X` at the lane where a step was lost or refused.
//!
//! Owns the text layout of the diagram only; what is drawn is report::ladder's choice.

use super::ladder::{Channel, Ending, Ladder, Role};
use std::fmt::{self, Display, Formatter};

/// Columns of every line.
pub const WIDTH: usize = 80;

/// The diagram as text, for `{}`.
pub struct LadderText<'a>(pub &'a Ladder);

impl Role {
    /// The lane's heading.
    pub fn title(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::ClientNat => "client NAT",
            Role::Router => "router",
            Role::ServerNat => "server NAT",
            Role::Server => "server",
        }
    }
}

impl Display for LadderText<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let ladder = self.0;
        if ladder.lanes.is_empty() {
            return Ok(());
        }
        let grid = Grid::new(ladder);
        let titles: Vec<String> = ladder.lanes.iter().map(|l| l.role.title().to_string()).collect();
        let addresses: Vec<String> = ladder.lanes.iter().map(|l| l.address.map_or("?".to_string(), |a| a.to_string())).collect();
        writeln!(f, "{}", grid.headings(&titles))?;
        // An address wider than its column (IPv6) goes to a legend instead.
        if addresses.iter().all(|a| a.len() < grid.cell) {
            writeln!(f, "{}", grid.headings(&addresses))?;
        } else {
            for (title, address) in titles.iter().zip(&addresses) {
                writeln!(f, "  {title}: {address}")?;
            }
        }
        writeln!(f, "{}", grid.finish(grid.lifelines()))?;
        for step in &ladder.steps {
            let (from, to) = (grid.centers[step.from], grid.centers[step.to]);
            let (left, right) = (from.min(to), from.max(to));
            let label: Vec<char> = step.label.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect();
            let mut arrow = grid.lifelines();
            let body = if step.channel == Channel::Data { '=' } else { '-' };
            // A step from a lane to itself (one host both ends, as a capture on loopback shows)
            // has no body: its mark and label alone.
            for cell in arrow.get_mut(left + 1..right).into_iter().flatten() {
                *cell = body;
            }
            match step.ending {
                Ending::Delivered if to > from => arrow[to - 1] = '>',
                Ending::Delivered if to < from => arrow[to + 1] = '<',
                Ending::Delivered => {}
                _ => arrow[to] = 'X',
            }
            // The label inside the arrow when it fits with room to spare, else on the line above.
            let inside = (right - left).saturating_sub(1);
            if label.len() + 6 <= inside {
                let at = left + 1 + (inside - label.len()) / 2;
                arrow[at - 1] = ' ';
                arrow[at + label.len()] = ' ';
                arrow[at..at + label.len()].copy_from_slice(&label);
            } else {
                let mut above = grid.lifelines();
                let room = WIDTH - grid.margin;
                let shown = &label[..label.len().min(room)];
                let at = (left + 2).min(WIDTH - shown.len());
                above[at..at + shown.len()].copy_from_slice(shown);
                writeln!(f, "{}", grid.finish(above))?;
            }
            let frame = format!("#{}", step.frame);
            arrow[..frame.len()].copy_from_slice(&frame.chars().collect::<Vec<_>>());
            writeln!(f, "{}", grid.finish(arrow))?;
        }
        writeln!(f, "{}", grid.finish(grid.lifelines()))?;
        if ladder.negotiations_not_drawn > 0 {
            writeln!(f, "({} more negotiation(s) of this session not drawn)", ladder.negotiations_not_drawn)?;
        }
        writeln!(f, "- control channel   = data connection   X lost or refused at that lane")
    }
}

/// Where the lanes stand.
struct Grid {
    /// Columns left of the first lane's cell, for the frame numbers.
    margin: usize,
    cell: usize,
    centers: Vec<usize>,
}

impl Grid {
    fn new(ladder: &Ladder) -> Grid {
        let widest = ladder.steps.iter().map(|s| s.frame.to_string().len() + 1).max().unwrap_or(0);
        let margin = (widest + 1).max(8);
        let cell = (WIDTH - margin) / ladder.lanes.len();
        let centers = (0..ladder.lanes.len()).map(|i| margin + cell * i + cell / 2).collect();
        Grid { margin, cell, centers }
    }

    fn lifelines(&self) -> Vec<char> {
        let mut row = vec![' '; WIDTH];
        for &c in &self.centers {
            row[c] = '|';
        }
        row
    }

    /// One text centred on each lane.
    fn headings(&self, texts: &[String]) -> String {
        let mut row = vec![' '; WIDTH];
        for (text, &center) in texts.iter().zip(&self.centers) {
            let text: Vec<char> = text.chars().take(self.cell - 1).collect();
            let at = center.saturating_sub(text.len() / 2).min(WIDTH - text.len());
            row[at..at + text.len()].copy_from_slice(&text);
        }
        self.finish(row)
    }

    fn finish(&self, row: Vec<char>) -> String {
        row.into_iter().collect::<String>().trim_end().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;
    use crate::report::ladder::{Lane, Step};

    fn step(frame: u64, from: usize, to: usize, channel: Channel, label: &str, ending: Ending) -> Step {
        Step { frame, time: Timestamp(0), from, to, channel, label: label.to_string(), ending }
    }

    fn lanes(roles: &[(Role, Option<&str>)]) -> Vec<Lane> {
        roles.iter().map(|&(role, a)| Lane { role, address: a.map(|a| a.parse().unwrap()) }).collect()
    }

    #[test]
    fn five_lanes_fit_80_columns_with_the_loss_marked_and_every_frame_shown() {
        let ladder = Ladder {
            lanes: lanes(&[
                (Role::Client, Some("192.168.1.10")),
                (Role::ClientNat, None),
                (Role::Router, Some("203.0.113.1")),
                (Role::ServerNat, Some("198.51.100.2")),
                (Role::Server, Some("10.0.0.20")),
            ]),
            steps: vec![
                step(5, 0, 4, Channel::Control, "connect :21", Ending::Delivered),
                step(16, 4, 0, Channel::Control, "227 10.0.0.20:40005", Ending::Delivered),
                step(17, 0, 2, Channel::Data, "SYN :40005", Ending::Unreachable),
                step(
                    1234567,
                    2,
                    0,
                    Channel::Data,
                    "ICMP 3/1 host unreachable and a label far too long for any line of it",
                    Ending::Delivered,
                ),
            ],
            negotiations_not_drawn: 2,
        };
        let text = LadderText(&ladder).to_string();
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        for frame in ["#5 ", "#16 ", "#17 ", "#1234567 "] {
            assert!(text.lines().any(|l| l.starts_with(frame)), "{frame} in\n{text}");
        }
        assert!(text.contains("client NAT") && text.contains("203.0.113.1") && text.contains('?'), "{text}");
        let syn = text.lines().find(|l| l.starts_with("#17 ")).unwrap();
        let router = text.lines().nth(1).unwrap().find("203.0.113.1").unwrap() + "203.0.113.1".len() / 2;
        assert_eq!(syn.find('X'), Some(router), "X under the router's lane:\n{text}");
        assert!(syn.contains("SYN :40005") && syn.contains("=="), "{text}");
        let to_client = text.lines().find(|l| l.starts_with("#16 ")).unwrap();
        assert!(to_client.contains("<-") && to_client.contains("227 10.0.0.20:40005"), "{text}");
        assert!(text.contains("2 more negotiation(s)"), "{text}");
    }

    #[test]
    fn a_step_from_a_lane_to_itself_is_drawn_without_a_body() {
        // Client and server on one host (loopback): a refused data connection stays on its lane.
        let ladder = Ladder {
            lanes: lanes(&[(Role::Client, Some("127.0.0.1")), (Role::Server, Some("127.0.0.1"))]),
            steps: vec![
                step(17, 1, 1, Channel::Data, "SYN :40005", Ending::Refused),
                step(18, 0, 0, Channel::Data, "SYN :1", Ending::Delivered),
            ],
            negotiations_not_drawn: 0,
        };
        let text = LadderText(&ladder).to_string();
        let syn = text.lines().find(|l| l.starts_with("#17 ")).unwrap();
        assert!(syn.contains('X') && !syn.contains('='), "{text}");
        assert!(text.contains("SYN :40005") && text.lines().any(|l| l.starts_with("#18 ")), "{text}");
    }

    #[test]
    fn wide_addresses_go_to_a_legend() {
        let ladder = Ladder {
            lanes: lanes(&[
                (Role::Client, Some("2001:db8:c::10")),
                (Role::Router, Some("2001:db8:ffff:ffff:ffff:ffff:ffff:1")),
                (Role::Server, Some("2001:db8:5::30")),
            ]),
            steps: vec![step(9, 0, 2, Channel::Control, "EPSV", Ending::Delivered)],
            negotiations_not_drawn: 0,
        };
        let text = LadderText(&ladder).to_string();
        assert!(text.contains("  router: 2001:db8:ffff:ffff:ffff:ffff:ffff:1"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        let epsv = text.lines().find(|l| l.starts_with("#9 ")).unwrap();
        assert!(epsv.contains(" EPSV ") && epsv.ends_with(">|"), "{text}");
    }
}
