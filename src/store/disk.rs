//! Free disk space under the node's database, and the reserve the node keeps.
//!
//! sled fails hard when the disk fills in the middle of a write; the node instead refuses to
//! sign or store anything new once free space falls below `[storage] min_free_mb`, so that a
//! filling disk stops writes cleanly (nothing half-written, nothing acknowledged) and the
//! admin sees why in `kdesk status`.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Space on the file system holding a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    /// Bytes available to this (unprivileged) process.
    pub free: u64,
    /// Size of the file system.
    pub total: u64,
}

/// Space on the file system holding `path` (`statvfs`).
///
/// # Errors
/// The path does not exist or the file system does not answer.
pub fn space(path: &Path) -> std::io::Result<DiskSpace> {
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in path"))?;
    // SAFETY: `c` is a valid NUL-terminated string and `st` a properly sized out-parameter
    // that statvfs fills in; it is read only when the call succeeds.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let unit = st.f_frsize as u64;
    Ok(DiskSpace {
        free: (st.f_bavail as u64).saturating_mul(unit),
        total: (st.f_blocks as u64).saturating_mul(unit),
    })
}

/// Why a write was refused for lack of space.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReserveError {
    /// Free space is below the reserve.
    #[error(
        "only {} MiB free on the disk holding {path}, below the reserve of {} MiB \
         ([storage] min_free_mb in kdesk.toml); nothing was signed or stored: free disk space, \
         then retry",
        free >> 20, reserve >> 20
    )]
    Low {
        /// The database directory.
        path: String,
        /// Free bytes.
        free: u64,
        /// Reserve in bytes.
        reserve: u64,
    },
    /// Free space is below the database's working room, which is kept whatever the reserve
    /// (also when it is off).
    #[error(
        "only {} KiB free on the disk holding {path}, below the {} MiB the database needs to \
         write safely (kept even with [storage] min_free_mb = 0); nothing was signed or \
         stored: free disk space, then retry",
        free >> 10, room >> 20
    )]
    NoRoom {
        /// The database directory.
        path: String,
        /// Free bytes.
        free: u64,
        /// The working room in bytes.
        room: u64,
    },
    /// A write to the database failed (the disk filled between two checks, or the reserve is
    /// off): the database takes no more writes until the node opens it again, which it does
    /// by itself once `heal_free` bytes are free.
    #[error(
        "the database could not write to the disk holding {path} ({cause}); nothing new is \
         signed or stored{}",
        if *no_space {
            format!(": free disk space; once more than {} MiB are free the node opens its database again by itself, then retry", heal_free >> 20)
        } else {
            ": check the disk and the node's log, then restart the node".to_owned()
        }
    )]
    WriteFailed {
        /// The database directory.
        path: String,
        /// sled's error.
        cause: String,
        /// The cause was a lack of space.
        no_space: bool,
        /// Free bytes at which the node opens its database again.
        heal_free: u64,
    },
    /// The free space could not be read: refused rather than risk filling the disk.
    #[error(
        "cannot read the free space of the disk holding {path} ({cause}); nothing was signed or \
         stored (set [storage] min_free_mb = 0 in kdesk.toml to turn the reserve check off)"
    )]
    Unknown {
        /// The database directory.
        path: String,
        /// The error.
        cause: String,
    },
}

/// Free space (bytes) above which a node whose database failed for lack of space opens it
/// again: the reserve, and at least [`HEAL_MIN_FREE`] even when the reserve is off.
#[must_use]
pub fn heal_free(reserve: u64) -> u64 {
    reserve.max(HEAL_MIN_FREE)
}

/// Free space the database keeps for its own writes whatever the reserve: sled fails hard
/// (and refuses every write until opened again) when a write meets a full disk, so writes
/// stop cleanly before that.
pub const WORKING_ROOM: u64 = 4 << 20;

/// Least free space for opening the database again after it filled the disk.
pub const HEAL_MIN_FREE: u64 = 8 << 20;

/// Checks that the file system holding `path` has more than `reserve` bytes free (a reserve of
/// 0 is not checked).
///
/// # Errors
/// [`ReserveError`].
pub fn check_reserve(path: &Path, reserve: u64) -> Result<(), ReserveError> {
    if reserve == 0 {
        return Ok(());
    }
    match space(path) {
        Ok(s) if s.free > reserve => Ok(()),
        Ok(s) => Err(ReserveError::Low {
            path: path.display().to_string(),
            free: s.free,
            reserve,
        }),
        Err(e) => Err(ReserveError::Unknown {
            path: path.display().to_string(),
            cause: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_of_a_real_directory_and_the_reserve_rule() {
        let d = tempfile::tempdir().unwrap();
        let s = space(d.path()).unwrap();
        assert!(s.total > 0 && s.free <= s.total, "{s:?}");
        assert_eq!(check_reserve(d.path(), 0), Ok(()));
        assert_eq!(check_reserve(d.path(), 1), Ok(()));
        let e = check_reserve(d.path(), s.total + (1 << 30)).unwrap_err();
        assert!(matches!(e, ReserveError::Low { .. }), "{e}");
        assert!(e.to_string().contains("min_free_mb"), "{e}");
        let gone = d.path().join("missing");
        let e = check_reserve(&gone, 1).unwrap_err();
        assert!(matches!(e, ReserveError::Unknown { .. }), "{e}");
        assert!(e.to_string().contains("min_free_mb = 0"), "{e}");
    }
}
