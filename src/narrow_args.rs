//! Narrowing on the command line (`--session`, `--host`, `--filter`) and the views of one
//! report (`--summary`, `--errors-only`): which sessions, which frames, how much of each. The
//! choice is handed on as plain values (report::narrow's `Selection`, a frame filter).

use clap::Args;
use ftpscope::capture::background::FrameFilter;
use ftpscope::report::narrow::Selection;
use std::net::IpAddr;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Narrowing")]
pub struct NarrowArgs {
    /// Only this session (its number in the report); repeat for several.
    #[arg(long, value_name = "ID")]
    pub session: Vec<u32>,
    /// Only sessions that touched ADDR, on either side, in any role: the control connection,
    /// a data connection or a try of one, or an address a negotiation advertised. Repeat for
    /// several.
    #[arg(long, value_name = "ADDR")]
    pub host: Vec<IpAddr>,
    /// Only the frames this BPF expression keeps are analysed (as `tcpdump -r FILE EXPR`); frames
    /// keep their numbers in the file. Needs a build with libpcap (the live feature).
    #[arg(long, value_name = "BPF")]
    pub filter: Option<String>,
}

#[derive(Args, Debug, Clone, Copy, Default)]
#[command(next_help_heading = "Views")]
pub struct ViewArgs {
    /// One line per session (client, server, user, modes, data connections ok and failed,
    /// worst finding), then the totals.
    #[arg(long, conflicts_with_all = ["json", "ndjson", "verbose"])]
    pub summary: bool,
    /// Only the sessions with an error finding.
    #[arg(long)]
    pub errors_only: bool,
}

impl NarrowArgs {
    /// The sessions chosen, with `errors_only` from the views.
    pub fn selection(&self, errors_only: bool) -> Selection {
        Selection { sessions: self.session.clone(), hosts: self.host.clone(), errors_only }
    }

    /// The frame filter asked for, compiled; None without `--filter`. A filter on ports is
    /// warned about (as for `live`: it hides the data connections).
    pub fn frame_filter(&self) -> Result<Option<FrameFilter>, String> {
        let Some(expression) = &self.filter else { return Ok(None) };
        let filter = compile(expression)?;
        if let Some(warning) = ftpscope::live::filter::data_connections_warning(expression) {
            eprintln!("ftpscope: warning: {warning}");
        }
        Ok(Some(filter))
    }
}

#[cfg(feature = "live")]
fn compile(expression: &str) -> Result<FrameFilter, String> {
    ftpscope::capture::bpf::frame_filter(expression)
}

#[cfg(not(feature = "live"))]
fn compile(_expression: &str) -> Result<FrameFilter, String> {
    Err("--filter needs libpcap, and this build has none (it was built without the live feature); build with \
         `cargo install --path . --features live` (libpcap's development files: apt-get install libpcap-dev), or filter \
         first: tcpdump -r FILE -w - EXPR | ftpscope analyze -"
        .to_string())
}
