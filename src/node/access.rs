//! Who may use the Admin API: the node's owner (the user running `kdesk serve`), and the
//! members of an officers' group when `[admin] group` names one. Checked on every request
//! from the socket peer's credentials (SO_PEERCRED), so a socket or data directory made
//! reachable by mistake still gives nobody else control.

use std::ffi::{CStr, CString};

/// The Admin API's access rule.
#[derive(Debug, Clone)]
pub struct AdminAccess {
    owner: u32,
    group: Option<(String, u32)>,
}

impl AdminAccess {
    /// The rule for this process's user and an optional group name.
    ///
    /// # Errors
    /// The group does not exist.
    pub fn new(group: Option<&str>) -> Result<Self, String> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let owner = unsafe { libc::geteuid() };
        let group = match group {
            None => None,
            Some(name) => Some((name.to_owned(), gid_of(name)?)),
        };
        Ok(Self { owner, group })
    }

    /// The group's id, if one is configured (the socket is made reachable to it).
    pub fn group_id(&self) -> Option<u32> {
        self.group.as_ref().map(|g| g.1)
    }

    /// Whether a peer with these credentials may use the API.
    pub fn allows(&self, uid: u32, gid: u32) -> bool {
        if uid == self.owner {
            return true;
        }
        match &self.group {
            Some((_, g)) => gid == *g || member_of(uid, *g),
            None => false,
        }
    }

    /// Why a peer was refused, for its error message.
    pub fn refusal(&self, uid: u32) -> String {
        match &self.group {
            Some((name, _)) => format!(
                "permission denied: uid {uid} is neither the node's owner (uid {}) nor in its \
                 officers' group {name}",
                self.owner
            ),
            None => format!(
                "permission denied: uid {uid} is not the node's owner (uid {}); an officers' \
                 group can be allowed with [admin] group in kdesk.toml",
                self.owner
            ),
        }
    }
}

fn gid_of(name: &str) -> Result<u32, String> {
    let c = CString::new(name).map_err(|_| format!("admin.group {name:?}: contains NUL"))?;
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the call; buf outlives the result we read.
    let rc =
        unsafe { libc::getgrnam_r(c.as_ptr(), &mut grp, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return Err(format!(
            "admin.group {name:?}: no such group on this system"
        ));
    }
    Ok(grp.gr_gid)
}

/// Whether `uid`'s user has `gid` among its groups (primary or supplementary).
fn member_of(uid: u32, gid: u32) -> bool {
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the call.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return false;
    }
    // SAFETY: pw_name points into buf, NUL-terminated, valid while buf lives.
    let name = unsafe { CStr::from_ptr(pw.pw_name) };
    let mut groups = vec![0 as libc::gid_t; 256];
    let mut n = groups.len() as libc::c_int;
    // SAFETY: groups has room for n entries; name is a valid C string.
    let rc = unsafe { libc::getgrouplist(name.as_ptr(), pw.pw_gid, groups.as_mut_ptr(), &mut n) };
    if rc < 0 {
        return false;
    }
    groups.truncate(usize::try_from(n).unwrap_or(0));
    groups.contains(&gid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_is_allowed_and_others_only_through_the_group() {
        let a = AdminAccess::new(None).unwrap();
        // SAFETY: as above.
        let me = unsafe { libc::geteuid() };
        assert!(a.allows(me, 12345));
        assert!(!a.allows(me.wrapping_add(1), 12345));
        assert!(a.refusal(me.wrapping_add(1)).contains("permission denied"));
        assert!(AdminAccess::new(Some("no-such-group-kdesk")).is_err());
        let root = AdminAccess::new(Some("root")).unwrap();
        assert!(
            root.allows(me.wrapping_add(1), 0),
            "primary gid in the group"
        );
    }
}
