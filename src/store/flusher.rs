//! Group commit: the store's one durability point.
//!
//! sled 0.34.7 deadlocks when its asynchronous flush runs on several tasks at once (sled issue
//! #1308, fixed only on sled's unreleased main branch). kdesk therefore never uses it.
//! One dedicated thread owns every flush and calls sled's synchronous `flush`; a writer that
//! needs durability asks for a flush and waits for it. A flush covers every write committed
//! before it *started*, so a writer always waits for a flush that starts after its request,
//! and every writer waiting at that moment shares it: ten concurrent batches cost one or two
//! flushes, not ten.
//!
//! sled's own background flusher is turned off when the store opens (`flush_every_ms(None)`),
//! so this thread is the only caller of flush in the process. When nobody asks, it still
//! flushes every [`IDLE_FLUSH`] so that writes that need no acknowledgement (counters, caches)
//! reach the disk too.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::activity::Activity;

/// How often the flusher flushes when nobody asks.
pub const IDLE_FLUSH: Duration = Duration::from_millis(500);

/// Why the database stopped taking writes. sled 0.34 keeps refusing every write after one
/// failed to reach the disk, until the database is opened again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFailure {
    /// sled's error, as text.
    pub cause: String,
    /// The failure was a lack of space (ENOSPC, EDQUOT): freeing space and opening the
    /// database again heals it.
    pub no_space: bool,
}

impl WriteFailure {
    fn of(e: &sled::Error) -> Self {
        let no_space = match e {
            sled::Error::Io(io) => {
                io.kind() == std::io::ErrorKind::StorageFull
                    || io.kind() == std::io::ErrorKind::QuotaExceeded
                    || matches!(io.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT))
            }
            _ => false,
        };
        Self {
            cause: e.to_string(),
            no_space,
        }
    }
}

/// Why a flush a writer waited for did not make its writes durable.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FlushError {
    /// sled's flush failed.
    #[error("flush failed: {0}")]
    Failed(String),
    /// The flusher has stopped (the store is closing).
    #[error("the store is closing; nothing more is flushed")]
    Stopped,
    /// The deadline passed before the flush finished.
    #[error("flush did not finish within {0:?}")]
    Deadline(Duration),
}

#[derive(Default)]
struct State {
    /// Highest flush number a writer waits for.
    wanted: u64,
    /// Flushes started so far (the number of the one running or last run).
    started: u64,
    /// Flushes finished so far.
    finished: u64,
    /// Highest flush number that succeeded.
    ok_upto: u64,
    /// The error of the last failed flush.
    last_error: Option<String>,
    /// Set while flushes fail (sled refuses every write after one failed); cleared by a
    /// flush that succeeds.
    failure: Option<WriteFailure>,
    stop: bool,
    stopped: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes the flusher thread.
    work: Condvar,
    /// Wakes blocking waiters.
    done: Condvar,
    /// Wakes async waiters: the number of finished flushes.
    finished: tokio::sync::watch::Sender<u64>,
}

/// Handle to the flusher thread. The thread stops when the last handle is dropped.
#[derive(Clone)]
pub struct Flusher {
    shared: Arc<Shared>,
    _owner: Arc<StopOnDrop>,
}

struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let mut s = lock(&self.0.state);
        s.stop = true;
        self.0.work.notify_all();
        // Wait (bounded) for the thread to flush and let go of the database, so the
        // directory can be opened again at once; a stuck disk must not hang the caller.
        let until = Instant::now() + STOP_WAIT;
        while !s.stopped {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::error!("the flusher did not stop within {STOP_WAIT:?}; leaving it");
                return;
            }
            s = match self.0.done.wait_timeout(s, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

/// How long dropping the last handle waits for the flusher thread to finish.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// Marks the flusher stopped and wakes every waiter when dropped (also on unwind).
struct MarkStopped(Arc<Shared>);

impl Drop for MarkStopped {
    fn drop(&mut self) {
        let mut st = lock(&self.0.state);
        if std::thread::panicking() {
            st.last_error = Some("the flusher thread panicked".into());
            tracing::error!(
                "the store's flusher thread panicked: no write is acknowledged any more"
            );
        }
        st.stopped = true;
        self.0.done.notify_all();
        self.0.finished.send_replace(st.finished);
    }
}

/// A flush a writer registered for.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

impl Flusher {
    /// Starts the flusher thread for `db`. `delay` (a test fault) holds every flush that long
    /// before it starts, to play a disk that stalls.
    ///
    /// # Errors
    /// The thread could not be spawned.
    pub fn start(
        db: sled::Db,
        activity: Activity,
        delay: Option<Duration>,
        on_flush: Option<super::FlushObserver>,
    ) -> std::io::Result<Self> {
        let (finished, _) = tokio::sync::watch::channel(0);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            done: Condvar::new(),
            finished,
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name("kdesk-flusher".into())
            .spawn(move || {
                // However the thread ends (a panic inside sled included), waiters are told
                // the flusher stopped instead of waiting forever.
                let _stopped = MarkStopped(s.clone());
                run(&s, &db, &activity, delay, on_flush.as_ref());
                drop(db);
            })?;
        Ok(Self {
            _owner: Arc::new(StopOnDrop(shared.clone())),
            shared,
        })
    }

    /// Registers for the next flush to start: it will cover everything committed before this
    /// call.
    pub fn request(&self) -> Ticket {
        let t = {
            let mut s = lock(&self.shared.state);
            let t = s.started + 1;
            s.wanted = s.wanted.max(t);
            t
        };
        self.shared.work.notify_one();
        Ticket(t)
    }

    /// Waits (async) until the ticket's flush has finished.
    ///
    /// # Errors
    /// The flush failed or the flusher stopped.
    pub async fn wait(&self, t: Ticket) -> Result<(), FlushError> {
        let mut rx = self.shared.finished.subscribe();
        loop {
            if let Some(r) = self.outcome(t) {
                return r;
            }
            if rx.changed().await.is_err() {
                return Err(FlushError::Stopped);
            }
        }
    }

    /// Waits (blocking) until the ticket's flush has finished or `deadline` passes.
    ///
    /// # Errors
    /// The flush failed, the flusher stopped or the deadline passed.
    pub fn wait_blocking(&self, t: Ticket, deadline: Duration) -> Result<(), FlushError> {
        let until = Instant::now() + deadline;
        let mut s = lock(&self.shared.state);
        loop {
            if let Some(r) = outcome(&s, t) {
                return r;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(FlushError::Deadline(deadline));
            }
            s = match self.shared.done.wait_timeout(s, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Flushes everything committed so far and waits for it (async).
    ///
    /// # Errors
    /// As [`Flusher::wait`].
    pub async fn flush(&self) -> Result<(), FlushError> {
        let t = self.request();
        self.wait(t).await
    }

    /// Whether the flusher thread has stopped.
    pub fn is_stopped(&self) -> bool {
        lock(&self.shared.state).stopped
    }

    /// Records that a write failed inside sled, which then refuses every write (and every
    /// flush) until the database is opened again.
    pub fn note_failure(&self, e: &sled::Error) {
        let mut s = lock(&self.shared.state);
        if s.failure.is_none() {
            tracing::error!(cause = %e, "a database write failed: the database takes no more writes until it is opened again");
            s.failure = Some(WriteFailure::of(e));
        }
    }

    /// Why the database takes no writes, when its flushes fail.
    pub fn write_failure(&self) -> Option<WriteFailure> {
        lock(&self.shared.state).failure.clone()
    }

    /// Flushes started so far (for `flushes per record` figures).
    pub fn flushes(&self) -> u64 {
        lock(&self.shared.state).started
    }

    fn outcome(&self, t: Ticket) -> Option<Result<(), FlushError>> {
        outcome(&lock(&self.shared.state), t)
    }
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // The state is plain counters: a panic elsewhere cannot leave it inconsistent.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn outcome(s: &State, t: Ticket) -> Option<Result<(), FlushError>> {
    if s.ok_upto >= t.0 {
        // A later successful flush covers everything an earlier one would have.
        return Some(Ok(()));
    }
    if s.finished >= t.0 {
        return Some(Err(FlushError::Failed(
            s.last_error.clone().unwrap_or_else(|| "unknown".into()),
        )));
    }
    if s.stopped {
        return Some(Err(FlushError::Stopped));
    }
    None
}

fn run(
    shared: &Shared,
    db: &sled::Db,
    activity: &Activity,
    delay: Option<Duration>,
    on_flush: Option<&super::FlushObserver>,
) {
    let mut s = lock(&shared.state);
    loop {
        if s.wanted <= s.started {
            if s.stop {
                break;
            }
            let (g, timeout) = match shared.work.wait_timeout(s, IDLE_FLUSH) {
                Ok(x) => x,
                Err(p) => p.into_inner(),
            };
            s = g;
            if !timeout.timed_out() || s.wanted > s.started {
                continue;
            }
            // Idle: flush anyway so unacknowledged writes reach the disk too.
        }
        s.started += 1;
        let n = s.started;
        drop(s);
        let result = {
            let _busy = activity.begin("flush");
            let started = std::time::Instant::now();
            if let Some(d) = delay {
                std::thread::sleep(d);
            }
            let r = db.flush();
            if let Some(observe) = on_flush {
                observe(started.elapsed());
            }
            r
        };
        s = lock(&shared.state);
        s.finished = n;
        match result {
            Ok(_) => {
                s.ok_upto = n;
                s.failure = None;
            }
            Err(e) => {
                if s.failure.is_none() {
                    tracing::error!(cause = %e, "store flush failed: the database takes no more writes until it is opened again");
                }
                s.last_error = Some(e.to_string());
                s.failure = Some(WriteFailure::of(&e));
            }
        }
        shared.done.notify_all();
        shared.finished.send_replace(n);
    }
    // Last words: everything written before the stop is flushed once more.
    drop(s);
    let result = db.flush();
    let mut s = lock(&shared.state);
    s.started += 1;
    s.finished = s.started;
    if result.is_ok() {
        s.ok_upto = s.started;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> sled::Db {
        sled::Config::new()
            .temporary(true)
            .flush_every_ms(None)
            .open()
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_flushes_and_all_get_durability() {
        let db = db();
        let f = Flusher::start(db.clone(), Activity::default(), None, None).unwrap();
        let before = f.flushes();
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            let (db, f) = (db.clone(), f.clone());
            tasks.push(tokio::spawn(async move {
                db.insert(i.to_be_bytes(), vec![1u8; 64]).unwrap();
                f.flush().await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let used = f.flushes() - before;
        assert!(used >= 1);
        assert!(
            used < 200,
            "200 writers used {used} flushes: no group commit"
        );
    }

    #[test]
    fn a_ticket_waits_for_a_flush_that_starts_after_it() {
        let db = db();
        // Every flush takes 50 ms, so a request made during one must wait for the next.
        let f = Flusher::start(
            db.clone(),
            Activity::default(),
            Some(Duration::from_millis(50)),
            None,
        )
        .unwrap();
        let t1 = f.request();
        std::thread::sleep(Duration::from_millis(10)); // flush 1 is running
        let t2 = f.request();
        assert!(t2.0 > t1.0, "a request during a flush gets the next one");
        f.wait_blocking(t1, Duration::from_secs(5)).unwrap();
        f.wait_blocking(t2, Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn a_deadline_is_reported_and_dropping_the_last_handle_stops_the_thread() {
        let f = Flusher::start(
            db(),
            Activity::default(),
            Some(Duration::from_millis(300)),
            None,
        )
        .unwrap();
        let t = f.request();
        assert!(matches!(
            f.wait_blocking(t, Duration::from_millis(20)),
            Err(FlushError::Deadline(_))
        ));
        f.wait_blocking(t, Duration::from_secs(5)).unwrap();
        let shared = f.shared.clone();
        drop(f);
        let start = Instant::now();
        while !lock(&shared.state).stopped {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "flusher did not stop"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
