//! Screening of Korea-bound manifests and passenger lists against the alerts a node holds.
//!
//! - [`manifest`]: the lines screened (a consignment or a traveler) and the problems found;
//! - [`formats`]: the readers (kdesk's CSV and JSON Lines, carriers' CSV with a mapping,
//!   UN/EDIFACT PAXLST and CUSCAR, IATA Cargo-XML XFWB and XFZB), detection by content;
//! - [`engine`]: the index of active alerts and the matchers;
//! - [`names`]: name similarity over folded tokens ([`crate::model::fold`]);
//! - [`gen`]: synthetic manifests and alerts with ground truth;
//! - [`report`]: alerts, hits and seizures by week, partner, route and substance;
//! - [`chart`]: the report as a one-page chart (SVG, PNG, PDF).
//!
//! [`screen_stream`] runs the whole pipeline on several threads, keeping line order.

pub mod chart;
pub mod engine;
pub mod formats;
pub mod gen;
pub mod manifest;
pub mod names;
pub mod report;
pub mod retro;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};

pub use engine::{AlertSource, Engine, EngineBuilder, Evidence, Match, Options, ScreenAlert};
pub use formats::{Format, ReadOptions};
pub use manifest::{BadLine, Kind, Problem, Severity, Unit};

/// A match found on one line.
#[derive(Clone, Debug)]
pub struct LineHit {
    /// 1-based position (line, or segment for EDIFACT).
    pub line: u64,
    /// The line's reference.
    pub reference: String,
    /// The match.
    pub hit: Match,
}

/// What screening one batch of lines found.
#[derive(Debug, Default)]
pub struct BlockResult {
    /// Lines read and screened.
    pub lines: u64,
    /// Matches, in input order.
    pub hits: Vec<LineHit>,
    /// Problems (bad fields, bad lines, warnings), in input order.
    pub problems: Vec<Problem>,
    /// Bytes of input in the batch.
    pub bytes: u64,
    /// The lines read, in order (for retro-screening: a node holds those not yet arrived).
    pub parsed: Vec<manifest::Line>,
}

/// Screens one batch.
pub fn screen_batch(engine: &Engine, batch: formats::Batch, unit: Unit) -> BlockResult {
    let mut r = BlockResult::default();
    let mut matches = Vec::new();
    let mut each = |e: formats::Event| match e {
        formats::Event::Line(line) => {
            r.lines += 1;
            matches.clear();
            engine.screen(&line, &mut matches);
            for m in matches.drain(..) {
                r.hits.push(LineHit {
                    line: line.line,
                    reference: line.reference.clone(),
                    hit: m,
                });
            }
            r.parsed.push(line);
        }
        formats::Event::Problem(p) => r.problems.push(p.in_unit(unit)),
    };
    match batch {
        formats::Batch::Lines { parser, block } => {
            r.bytes = block.bytes.len() as u64;
            parser.parse_block(&block.bytes, block.first_line, &mut each);
        }
        formats::Batch::Parsed { events, bytes } => {
            r.bytes = bytes;
            events.into_iter().for_each(&mut each);
        }
    }
    r
}

/// What is being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamInfo {
    /// The format (detected, or as told).
    pub format: Format,
    /// Kind of list.
    pub kind: Kind,
}

/// Totals of a screening run.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Summary {
    /// The format read.
    pub format: Option<Format>,
    /// Kind of list.
    pub kind: Option<Kind>,
    /// Lines read and screened.
    pub lines: u64,
    /// Lines that could not be read (not screened).
    pub bad_lines: u64,
    /// Values left out of lines that were screened.
    pub bad_fields: u64,
    /// Warnings (nothing left out).
    pub warnings: u64,
    /// Matches.
    pub hits: u64,
    /// Input bytes.
    pub bytes: u64,
    /// The run stopped early (a problem with `fail` policy, or the consumer stopped).
    pub stopped: bool,
}

impl Summary {
    fn add(&mut self, r: &BlockResult) {
        self.lines += r.lines;
        self.hits += r.hits.len() as u64;
        self.bytes += r.bytes;
        for p in &r.problems {
            match p.severity {
                Severity::Warning => self.warnings += 1,
                Severity::BadField => self.bad_fields += 1,
                Severity::BadLine => self.bad_lines += 1,
            }
        }
    }
}

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The input is unusable from here on (format not recognised, no header, not well-formed,
    /// a line or segment too long).
    #[error("{0}")]
    Input(Problem),
    /// Reading the input failed.
    #[error("reading the input: {0}")]
    Read(String),
}

impl From<formats::SourceError> for StreamError {
    fn from(e: formats::SourceError) -> Self {
        match e {
            formats::SourceError::Input(p) => StreamError::Input(p),
            formats::SourceError::Read(e) => StreamError::Read(e.to_string()),
        }
    }
}

/// Screens a stream of input chunks (any boundaries) on `threads` worker threads: detects the
/// format (unless `opts` gives it), reads it, screens every line. `sink` receives each
/// batch's result in input order and returns `false` to stop.
///
/// # Errors
/// A fatal input problem or a read failure; results already passed to `sink` stand.
pub fn screen_stream<I, E>(
    engine: &Engine,
    opts: &ReadOptions,
    chunks: I,
    threads: usize,
    mut sink: impl FnMut(&StreamInfo, BlockResult) -> bool,
) -> Result<Summary, StreamError>
where
    I: Iterator<Item = Result<Vec<u8>, E>> + Send,
    E: std::fmt::Display,
{
    let threads = threads.max(1);
    let stop = AtomicBool::new(false);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, formats::Batch)>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    let (res_tx, res_rx) = mpsc::sync_channel::<(u64, BlockResult)>(threads * 4);
    let info: OnceLock<StreamInfo> = OnceLock::new();
    let mut summary = Summary::default();
    let outcome: Result<(), StreamError> = std::thread::scope(|s| {
        let stop = &stop;
        let work_rx = &work_rx;
        let info = &info;
        // Reader: detects the format and produces batches.
        let reader = s.spawn(move || -> Result<(), StreamError> {
            let r = formats::ChunkReader::new(chunks);
            let mut src = formats::open(r, opts)?;
            let _ = info.set(StreamInfo {
                format: src.format(),
                kind: src.kind(),
            });
            let mut seq = 0u64;
            loop {
                if stop.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let Some(b) = src.next_batch()? else {
                    return Ok(());
                };
                if work_tx.send((seq, b)).is_err() {
                    return Ok(());
                }
                seq += 1;
            }
        });
        for _ in 0..threads {
            let res_tx = res_tx.clone();
            s.spawn(move || loop {
                let next = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, batch)) = next else { return };
                if stop.load(Ordering::Relaxed) {
                    continue;
                }
                let unit = info.get().map_or(Unit::Line, |i| i.format.unit());
                let r = screen_batch(engine, batch, unit);
                if res_tx.send((seq, r)).is_err() {
                    return;
                }
            });
        }
        drop(res_tx);
        // Collector: in input order.
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        for (seq, r) in res_rx.iter() {
            pending.insert(seq, r);
            while let Some(r) = pending.remove(&next) {
                next += 1;
                if summary.stopped {
                    continue;
                }
                let Some(i) = info.get().copied() else {
                    continue;
                };
                summary.format = Some(i.format);
                summary.kind = Some(i.kind);
                summary.add(&r);
                if !sink(&i, r) {
                    summary.stopped = true;
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
        match reader.join() {
            Ok(r) => r,
            Err(_) => Err(StreamError::Read("the reader thread failed".into())),
        }
    });
    if let Some(i) = info.get() {
        summary.format = Some(i.format);
        summary.kind = Some(i.kind);
    }
    outcome?;
    Ok(summary)
}

/// Reads a file in chunks of `size` bytes.
pub fn file_chunks(
    mut f: impl std::io::Read + Send,
    size: usize,
) -> impl Iterator<Item = Result<Vec<u8>, std::io::Error>> + Send {
    std::iter::from_fn(move || {
        let mut buf = vec![0u8; size];
        let mut filled = 0;
        while filled < size {
            match f.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Some(Err(e)),
            }
        }
        if filled == 0 {
            return None;
        }
        buf.truncate(filled);
        Some(Ok(buf))
    })
}
