//! systemd service notifications for `Type=notify` units (`contrib/kdesk.service`): READY=1
//! once the node serves, WATCHDOG=1 at half the `WATCHDOG_USEC` interval while the store is
//! not stalled, STOPPING=1 when the drain starts. Each is a no-op when `NOTIFY_SOCKET` is
//! unset (not started by systemd).

use std::sync::Weak;
use std::time::Duration;

use sd_notify::NotifyState;
use tracing::{info, warn};

use super::Node;

fn send(state: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(state) {
        warn!(cause = %e, "cannot notify systemd (NOTIFY_SOCKET)");
    }
}

/// Tells the service manager the node serves.
pub(super) fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// Tells the service manager the node is stopping (draining).
pub(super) fn stopping() {
    send(&[
        NotifyState::Stopping,
        NotifyState::Status("draining requests and flushing"),
    ]);
}

/// Tells the service manager the node is opening its database again (it stops, then starts
/// again in the same process and sends READY=1 once serving).
pub(super) fn reopening() {
    send(&[
        NotifyState::Reloading,
        NotifyState::Status("opening the database again after the disk filled"),
    ]);
}

/// Starts the watchdog pings when the service manager asked for them (`WatchdogSec=`): from
/// a thread of its own, so that a stalled async runtime cannot hide behind a live thread and
/// a stalled store stops the pings (systemd then restarts the node).
pub(super) fn spawn_watchdog(node: Weak<Node>) {
    let Some(interval) = sd_notify::watchdog_enabled() else {
        return;
    };
    let every = (interval / 2).max(Duration::from_millis(50));
    info!(
        watchdog_ms = interval.as_millis() as u64,
        ping_ms = every.as_millis() as u64,
        "systemd watchdog on"
    );
    let spawned = std::thread::Builder::new()
        .name("kdesk-sd-watchdog".into())
        .spawn(move || {
            let mut silent = false;
            loop {
                let Some(n) = node.upgrade() else { return };
                match n.stalled() {
                    None => {
                        send(&[NotifyState::Watchdog]);
                        silent = false;
                    }
                    Some(s) if !silent => {
                        warn!(
                            waiting = %s.what,
                            "store stalled: systemd watchdog pings withheld until it moves"
                        );
                        silent = true;
                    }
                    Some(_) => {}
                }
                drop(n);
                std::thread::sleep(every);
            }
        });
    if let Err(e) = spawned {
        warn!(cause = %e, "cannot start the systemd watchdog thread");
    }
}
