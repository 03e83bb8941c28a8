//! `contrib/kdesk.service` passes `systemd-analyze verify` as shipped. Skipped,
//! with a line saying so, where systemd-analyze is not installed.

use std::path::Path;
use std::process::Command;

#[test]
fn unit_file_verifies() {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/kdesk.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    for want in [
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=",
        "User=kdesk",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "KillSignal=SIGTERM",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/kdesk",
        "CapabilityBoundingSet=\n",
        "UMask=0077",
        "MemoryDenyWriteExecute=yes",
        "SystemCallFilter=@system-service",
        "--log-format json",
    ] {
        assert!(text.contains(want), "unit lacks {want:?}");
    }
    let Ok(out) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze not installed: unit verification skipped");
        return;
    };
    assert!(out.status.success());
    // The unit as shipped, exactly as an admin would check it.
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify: {stderr}"
    );
}
