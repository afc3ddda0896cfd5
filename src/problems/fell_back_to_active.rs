//! fell_back_to_active: the client's passive data connection to this server had failed, and it
//! switched to active mode, which worked here. The answer to "it works from the office but not
//! from home": from behind a NAT router active mode fails too.

use super::{Cause, Words};
use crate::model::finding::FellBack;
use crate::model::notation::Sock;
use crate::model::Finding;
use std::fmt::{self, Formatter};

pub const FELL_BACK_TO_ACTIVE: Cause = Cause {
    name: "fell_back_to_active",
    sentence: "The client's passive mode failed and it fell back to active mode, which worked from where it is; clients that \
               stay in passive mode, or whose active mode cannot reach them (behind NAT), fail.",
    brief: "client fell back to active mode",
};

impl Words for FellBack {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "client fell back to active mode ({:?}) after passive mode failed in session {}", self.command, self.failed.session)
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "This client's passive mode with this server failed in session {} (frame {}), and it switched to active mode \
             (lftp's ftp:auto-passive-mode and FileZilla's fallback to the other transfer mode do so). Here active mode worked: \
             the server's connection reached {}. From behind a NAT router without an FTP helper it fails as well, and clients \
             that stay in passive mode fail: the passive setup is what to fix.",
            self.failed.session,
            self.failed.frame,
            Sock(self.reached)
        )
    }

    fn cause(&self) -> Cause {
        FELL_BACK_TO_ACTIVE
    }
}
