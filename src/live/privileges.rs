//! Giving up privileges once the capture is open, like `tcpdump -Z`: packets are hostile input,
//! and parsing them needs no privilege. As root: switch to an unprivileged user (`nobody` by
//! default, `--user`): supplementary groups, group, then user, in that order (after setuid the
//! others could no longer be changed). Not root but with capabilities (setcap): drop them all.
//! Either way, no exec can gain privileges back (PR_SET_NO_NEW_PRIVS).
//!
//! Called before any thread is started (setuid changes the calling thread's credentials; glibc
//! passes them to the others, but there should be none to rely on that).

use std::ffi::CString;

/// What was given up.
#[derive(Debug, PartialEq, Eq)]
pub enum Dropped {
    /// Now running as this user.
    User { name: String, uid: u32, gid: u32 },
    /// Not root: the capabilities the binary had (setcap) are cleared.
    Capabilities,
    /// `--user root`: nothing given up, as asked.
    Kept,
}

pub fn drop_privileges(user: &str) -> Result<Dropped, String> {
    // SAFETY: plain system calls with valid arguments; no memory is shared with them.
    let euid = unsafe { libc::geteuid() };
    let dropped = if euid != 0 {
        clear_capabilities()?;
        Dropped::Capabilities
    } else {
        let (uid, gid) = lookup(user)?;
        if uid == 0 {
            return Ok(Dropped::Kept);
        }
        unsafe {
            if libc::setgroups(0, std::ptr::null()) != 0 {
                return Err(format!("setgroups: {}", std::io::Error::last_os_error()));
            }
            if libc::setgid(gid) != 0 {
                return Err(format!("setgid({gid}): {}", std::io::Error::last_os_error()));
            }
            if libc::setuid(uid) != 0 {
                return Err(format!("setuid({uid}): {}", std::io::Error::last_os_error()));
            }
            // The switch must be for good: getting root back must fail.
            if libc::setuid(0) == 0 {
                return Err("could still switch back to root after setuid".into());
            }
        }
        Dropped::User { name: user.to_string(), uid, gid }
    };
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    }
    Ok(dropped)
}

/// The user's uid and primary gid.
fn lookup(user: &str) -> Result<(u32, u32), String> {
    let name = CString::new(user).map_err(|_| format!("bad user name {user:?}"))?;
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwnam_r writes into pwd and buf, both valid for the lengths given.
    let rc = unsafe { libc::getpwnam_r(name.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        return Err(format!("no user {user:?} to run as (--user NAME chooses another)"));
    }
    Ok((pwd.pw_uid, pwd.pw_gid))
}

/// For every subcommand but `live`, at start: a binary given capabilities (setcap on ftpscope
/// itself, against the README's advice) gives them up before it reads a capture, since parsing
/// files needs none. Root is left as it is: it has every capability by being root, and taking
/// them away would only stop it reading files that it may read. True when something was dropped.
pub fn drop_unneeded_capabilities() -> Result<bool, String> {
    // SAFETY: geteuid has no arguments and cannot fail.
    if unsafe { libc::geteuid() } == 0 || !has_capabilities()? {
        return Ok(false);
    }
    clear_capabilities()?;
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    }
    Ok(true)
}

/// capget/capset's header (version 3: two data structs, for capabilities 0-31 and 32-63).
#[repr(C)]
struct Header {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const VERSION_3: u32 = 0x2008_0522;

/// Whether this thread holds any capability (permitted, so effective or not).
fn has_capabilities() -> Result<bool, String> {
    let header = Header { version: VERSION_3, pid: 0 };
    let mut data = [Data::default(); 2];
    // SAFETY: capget reads the header and writes two data structs, laid out as the kernel expects.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &header as *const Header, data.as_mut_ptr()) };
    if rc != 0 {
        return Err(format!("capget: {}", std::io::Error::last_os_error()));
    }
    Ok(data.iter().any(|d| d.permitted != 0 || d.effective != 0))
}

/// Clears the effective, permitted and inheritable capability sets (capset, version 3).
fn clear_capabilities() -> Result<(), String> {
    let header = Header { version: VERSION_3, pid: 0 };
    let data = [Data::default(); 2];
    // SAFETY: capset reads the header and two data structs, laid out as the kernel expects.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &header as *const Header, data.as_ptr()) };
    if rc != 0 {
        return Err(format!("capset: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}
