//! Screening of Korea-bound manifests and passenger lists against the alerts a node holds.
//!
//! - [`manifest`]: CSV / JSON Lines input, streamed in blocks of whole lines;
//! - [`engine`]: the index of active alerts and the matchers;
//! - [`names`]: name similarity over folded tokens ([`crate::model::fold`]);
//! - [`gen`]: synthetic manifests and alerts with ground truth;
//! - [`report`]: alerts, hits and seizures by week, partner, route and substance;
//! - [`chart`]: the report as a one-page chart (SVG, PNG, PDF).
//!
//! [`screen_stream`] runs the whole pipeline on several threads, keeping line order.

pub mod chart;
pub mod engine;
pub mod gen;
pub mod manifest;
pub mod names;
pub mod report;
pub mod retro;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

pub use engine::{Engine, Evidence, Match, Options, ScreenAlert};
pub use manifest::{BadLine, Format, Kind};

/// A match found on one line.
#[derive(Clone, Debug)]
pub struct LineHit {
    /// 1-based line number.
    pub line: u64,
    /// The line's reference.
    pub reference: String,
    /// The match.
    pub hit: Match,
}

/// What screening one block of lines found.
#[derive(Debug, Default)]
pub struct BlockResult {
    /// Lines read successfully.
    pub lines: u64,
    /// Matches, in line order.
    pub hits: Vec<LineHit>,
    /// Bad lines, in line order.
    pub bad: Vec<BadLine>,
    /// Bytes of input in the block.
    pub bytes: u64,
    /// The lines read, in order (for retro-screening: a node holds those not yet arrived).
    pub parsed: Vec<manifest::Line>,
}

/// Screens one block of whole lines.
pub fn screen_block(
    engine: &Engine,
    schema: &manifest::Schema,
    block: &manifest::Block,
) -> BlockResult {
    let mut r = BlockResult {
        bytes: block.bytes.len() as u64,
        ..Default::default()
    };
    let mut matches = Vec::new();
    schema.parse_block(&block.bytes, block.first_line, |line| match line {
        Ok(line) => {
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
        Err(b) => r.bad.push(b),
    });
    r
}

/// Totals of a screening run.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Summary {
    /// Kind of list.
    pub kind: Option<Kind>,
    /// Lines read and screened.
    pub lines: u64,
    /// Lines refused.
    pub bad_lines: u64,
    /// Matches.
    pub hits: u64,
    /// Input bytes.
    pub bytes: u64,
    /// The run stopped early (a bad line with `fail` policy, or the consumer stopped).
    pub stopped: bool,
}

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The header (or first object) is unusable, or a line is too long.
    #[error("{0}")]
    Input(BadLine),
    /// Reading the input failed.
    #[error("reading the input: {0}")]
    Read(String),
}

/// Screens a stream of input chunks (any boundaries) on `threads` worker threads. `sink`
/// receives each block's result in input order and returns `false` to stop.
///
/// # Errors
/// A fatal input problem or a read failure; results already passed to `sink` stand.
pub fn screen_stream<I, E>(
    engine: &Engine,
    format: Format,
    chunks: I,
    threads: usize,
    mut sink: impl FnMut(&Kind, BlockResult) -> bool,
) -> Result<Summary, StreamError>
where
    I: Iterator<Item = Result<Vec<u8>, E>> + Send,
    E: std::fmt::Display,
{
    let threads = threads.max(1);
    let stop = AtomicBool::new(false);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, manifest::Block)>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    let (res_tx, res_rx) = mpsc::sync_channel::<(u64, BlockResult)>(threads * 4);
    let schema_slot: Mutex<Option<manifest::Schema>> = Mutex::new(None);
    let mut summary = Summary::default();
    let outcome: Result<(), StreamError> = std::thread::scope(|s| {
        let schema_slot = &schema_slot;
        let stop = &stop;
        let work_rx = &work_rx;
        // Reader: cuts chunks into blocks.
        let reader = s.spawn(move || -> Result<(), StreamError> {
            let mut split = manifest::Splitter::new(format);
            let mut seq = 0u64;
            let mut send = |b: manifest::Block, split: &manifest::Splitter| -> bool {
                if let (Ok(mut slot), Some(schema)) = (schema_slot.lock(), split.schema()) {
                    if slot.is_none() {
                        *slot = Some(schema.clone());
                    }
                }
                let ok = work_tx.send((seq, b)).is_ok();
                seq += 1;
                ok
            };
            for chunk in chunks {
                if stop.load(Ordering::Relaxed) {
                    return Ok(());
                }
                let chunk = chunk.map_err(|e| StreamError::Read(e.to_string()))?;
                if let Some(b) = split.push(&chunk).map_err(StreamError::Input)? {
                    if !send(b, &split) {
                        return Ok(());
                    }
                }
            }
            if let Some(b) = split.finish().map_err(StreamError::Input)? {
                send(b, &split);
            } else if let (Ok(mut slot), Some(schema)) = (schema_slot.lock(), split.schema()) {
                slot.get_or_insert_with(|| schema.clone());
            }
            Ok(())
        });
        for _ in 0..threads {
            let res_tx = res_tx.clone();
            s.spawn(move || loop {
                let next = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, block)) = next else { return };
                if stop.load(Ordering::Relaxed) {
                    continue;
                }
                let schema = schema_slot.lock().ok().and_then(|s| s.clone());
                let Some(schema) = schema else { return };
                let r = screen_block(engine, &schema, &block);
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
                let kind = schema_slot
                    .lock()
                    .ok()
                    .and_then(|s| s.as_ref().map(|s| s.kind))
                    .unwrap_or(Kind::Cargo);
                summary.kind = Some(kind);
                summary.lines += r.lines;
                summary.bad_lines += r.bad.len() as u64;
                summary.hits += r.hits.len() as u64;
                summary.bytes += r.bytes;
                if !sink(&kind, r) {
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
    outcome?;
    if summary.kind.is_none() {
        summary.kind = schema_slot
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.kind));
    }
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
