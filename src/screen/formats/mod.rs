//! Readers of what desks receive, each streaming from a [`BufRead`] with bounded memory and
//! producing the lines the engine screens:
//!
//! - [`own`]: kdesk's own CSV and JSON Lines (columns by name, [`fields::Field`]);
//! - [`mapped_csv`]: a carrier's CSV read through a mapping file;
//! - [`edifact`]: the UN/EDIFACT tokenizer (service string advice, release character,
//!   envelope counts) under [`paxlst`] (passenger and crew lists, API data) and [`cuscar`]
//!   (sea cargo manifests);
//! - [`cargo_xml`]: IATA Cargo-XML XFWB (master air waybill) and XFZB (house waybill);
//! - [`values`]: the tolerant value rules they share (countries, dates, weights, routes).
//!
//! [`open`] detects the format by content unless told ([`detect`]); docs/SCREENING.md lists
//! the rules.

pub mod cargo_xml;
pub mod cuscar;
pub mod edifact;
pub mod fields;
pub mod mapped_csv;
pub mod own;
pub mod paxlst;
pub mod values;

use std::io::{BufRead, Read};
use std::sync::Arc;

use crate::screen::manifest::{Kind, Line, Problem, Unit, MAX_LINE_BYTES};

/// Input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// kdesk's CSV with a header row (RFC 4180 quoting), or a carrier's CSV with a mapping.
    Csv,
    /// kdesk's JSON Lines: one JSON object per line.
    Jsonl,
    /// UN/EDIFACT PAXLST: passenger and crew lists (API data).
    Paxlst,
    /// UN/EDIFACT CUSCAR: sea cargo manifest.
    Cuscar,
    /// IATA Cargo-XML XFWB: master air waybill.
    Xfwb,
    /// IATA Cargo-XML XFZB: house waybill.
    Xfzb,
}

impl Format {
    /// Every format.
    pub const ALL: &'static [Format] = &[
        Format::Csv,
        Format::Jsonl,
        Format::Paxlst,
        Format::Cuscar,
        Format::Xfwb,
        Format::Xfzb,
    ];

    /// `csv`, `jsonl`, `paxlst`, `cuscar`, `xfwb` or `xfzb`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Paxlst => "paxlst",
            Format::Cuscar => "cuscar",
            Format::Xfwb => "xfwb",
            Format::Xfzb => "xfzb",
        }
    }

    /// Parses a format's name (`ndjson` is JSON Lines).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" => Some(Self::Jsonl),
            "paxlst" => Some(Self::Paxlst),
            "cuscar" => Some(Self::Cuscar),
            "xfwb" => Some(Self::Xfwb),
            "xfzb" => Some(Self::Xfzb),
            _ => None,
        }
    }

    /// What positions in this format count: segments for EDIFACT, lines otherwise.
    pub fn unit(&self) -> Unit {
        match self {
            Format::Paxlst | Format::Cuscar => Unit::Segment,
            _ => Unit::Line,
        }
    }

    /// The kind of list the format always carries, when it does.
    pub fn fixed_kind(&self) -> Option<Kind> {
        match self {
            Format::Paxlst => Some(Kind::Passengers),
            Format::Cuscar | Format::Xfwb | Format::Xfzb => Some(Kind::Cargo),
            Format::Csv | Format::Jsonl => None,
        }
    }
}

/// What a reader produces, in input order.
#[derive(Debug)]
pub enum Event {
    /// A line to screen.
    Line(Line),
    /// Something wrong (or worth a warning) in the input.
    Problem(Problem),
}

/// Parses blocks of whole lines (CSV and JSON Lines), on the screening threads.
pub trait LineParser: Send + Sync {
    /// Kind of list.
    fn kind(&self) -> Kind;
    /// Parses every line of `block`, whose first line is `first_line`, in order.
    fn parse_block(&self, block: &[u8], first_line: u64, each: &mut dyn FnMut(Event));
}

/// A unit of work for the screening threads.
pub enum Batch {
    /// Whole lines of a line-based format, parsed by the thread that screens them.
    Lines {
        /// The file's parser.
        parser: Arc<dyn LineParser>,
        /// The lines.
        block: own::Block,
    },
    /// Lines (and problems) already read from a structured format.
    Parsed {
        /// In input order.
        events: Vec<Event>,
        /// Input bytes they took.
        bytes: u64,
    },
}

/// Why reading cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The input is unusable from here on (no header, not the format, not well-formed XML, an
    /// over-long line or segment); what was read before stands.
    #[error("{0}")]
    Input(Problem),
    /// Reading failed.
    #[error("reading the input: {0}")]
    Read(std::io::Error),
}

impl From<std::io::Error> for SourceError {
    fn from(e: std::io::Error) -> Self {
        SourceError::Read(e)
    }
}

/// A stream of batches from one input.
pub trait Source: Send {
    /// The format read.
    fn format(&self) -> Format;
    /// Kind of list.
    fn kind(&self) -> Kind;
    /// The next batch, `None` at the end.
    ///
    /// # Errors
    /// The input is unusable from here on, or reading failed.
    fn next_batch(&mut self) -> Result<Option<Batch>, SourceError>;
}

/// How to read an input.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// The format; detected from the content when `None`.
    pub format: Option<Format>,
    /// A mapping for a carrier's CSV (implies CSV).
    pub mapping: Option<Arc<mapped_csv::Mapping>>,
}

/// Bytes looked at to detect the format.
pub const DETECT_BYTES: usize = 64 * 1024;
/// Lines per batch of a structured format.
const BATCH_LINES: usize = 256;
/// Bytes per block of a line-based format.
const BLOCK_BYTES: usize = 256 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Detects the format of an input from its first bytes (a byte order mark and leading
/// white space ignored): `UNA`/`UNB`/`UNH` is UN/EDIFACT, PAXLST or CUSCAR by the message type
/// of its first `UNH`; `<` is XML, XFWB when its first element is `Waybill`, XFZB when it is
/// `HouseWaybill` (namespace prefixes ignored); `{` is JSON Lines; anything else CSV.
///
/// # Errors
/// An EDIFACT interchange of another message type, or an XML document of another kind, named.
pub fn detect(head: &[u8]) -> Result<Format, Problem> {
    let h = head.strip_prefix(BOM).unwrap_or(head);
    let start = h
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(h.len());
    let h = &h[start..];
    if h.starts_with(b"UNA") || h.starts_with(b"UNB") || h.starts_with(b"UNH") {
        return match edifact::message_type(h) {
            Some(t) if t == "PAXLST" => Ok(Format::Paxlst),
            Some(t) if t == "CUSCAR" => Ok(Format::Cuscar),
            Some(t) => Err(Problem::bad_line(
                1,
                format!(
                    "a UN/EDIFACT interchange of {t} messages; kdesk reads PAXLST (passenger \
                     lists) and CUSCAR (cargo manifests)"
                ),
            )
            .in_unit(Unit::Segment)),
            None => Err(Problem::bad_line(
                1,
                format!(
                    "a UN/EDIFACT interchange without a readable UNH message header in its \
                     first {} KiB: give --format paxlst or cuscar",
                    DETECT_BYTES / 1024
                ),
            )
            .in_unit(Unit::Segment)),
        };
    }
    if h.starts_with(b"<") {
        return match cargo_xml::root_name(h) {
            Some(n) if n == "Waybill" => Ok(Format::Xfwb),
            Some(n) if n == "HouseWaybill" => Ok(Format::Xfzb),
            Some(n) => Err(Problem::bad_line(
                1,
                format!(
                    "an XML document whose root element is {n:?}; kdesk reads IATA Cargo-XML \
                     XFWB (Waybill) and XFZB (HouseWaybill)"
                ),
            )),
            None => Err(Problem::bad_line(
                1,
                "an XML document without a readable root element",
            )),
        };
    }
    if h.starts_with(b"{") {
        return Ok(Format::Jsonl);
    }
    Ok(Format::Csv)
}

/// A [`BufRead`] that counts the bytes consumed through it.
pub struct Counting<R> {
    inner: R,
    /// Bytes consumed so far.
    pub consumed: u64,
}

impl<R> Counting<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self { inner, consumed: 0 }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

/// Opens an input: detects (or takes) its format, reads its header, and returns the
/// stream of batches.
///
/// # Errors
/// The format cannot be detected, the header is unusable, or reading failed.
pub fn open<'a, R: BufRead + Send + 'a>(
    mut r: R,
    opts: &ReadOptions,
) -> Result<Box<dyn Source + 'a>, SourceError> {
    // Look at the first bytes, then read them again through the format's reader.
    let mut head = Vec::with_capacity(4096);
    while head.len() < DETECT_BYTES {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len().min(DETECT_BYTES - head.len());
        head.extend_from_slice(&buf[..n]);
        r.consume(n);
    }
    if head.starts_with(BOM) {
        head.drain(..BOM.len());
    }
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(SourceError::Input(Problem::bad_line(
            1,
            "the input is empty",
        )));
    }
    let format = match (opts.format, &opts.mapping) {
        (Some(f), _) => f,
        (None, Some(_)) => Format::Csv,
        (None, None) => detect(&head).map_err(SourceError::Input)?,
    };
    if let (Some(_), false) = (&opts.mapping, format == Format::Csv) {
        return Err(SourceError::Input(Problem::bad_line(
            1,
            format!(
                "a mapping applies to CSV files; this input is read as {}",
                format.as_str()
            ),
        )));
    }
    let r = Counting::new(std::io::Cursor::new(head).chain(r));
    Ok(match format {
        Format::Csv | Format::Jsonl => Box::new(LineSource::open(r, format, opts)?),
        Format::Paxlst => Box::new(Batching::new(paxlst::Reader::new(r), format)),
        Format::Cuscar => Box::new(Batching::new(cuscar::Reader::new(r), format)),
        Format::Xfwb | Format::Xfzb => {
            Box::new(Batching::new(cargo_xml::Reader::new(r, format), format))
        }
    })
}

/// Reads one line (up to and including `\n`), at most `max` bytes.
///
/// # Errors
/// A longer line, or a read failure.
pub fn read_line_bounded(
    r: &mut impl BufRead,
    max: usize,
    line_no: u64,
) -> Result<Option<Vec<u8>>, SourceError> {
    let mut out = Vec::new();
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok((!out.is_empty()).then_some(out));
        }
        let (n, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        out.extend_from_slice(&buf[..n]);
        r.consume(n);
        if out.len() > max {
            return Err(SourceError::Input(Problem::bad_line(
                line_no,
                format!("line longer than {max} bytes"),
            )));
        }
        if done {
            return Ok(Some(out));
        }
    }
}

/// kdesk's CSV and JSON Lines, and carriers' CSV: blocks of whole lines.
struct LineSource<R> {
    r: Counting<R>,
    format: Format,
    parser: Arc<dyn LineParser>,
    split: own::Splitter,
    first: Vec<Event>,
    done: bool,
}

impl<R: BufRead + Send> LineSource<R> {
    fn open(mut r: Counting<R>, format: Format, opts: &ReadOptions) -> Result<Self, SourceError> {
        let mut first = Vec::new();
        let mut line = 1u64;
        let (parser, split): (Arc<dyn LineParser>, own::Splitter) = match format {
            Format::Jsonl => {
                // Leading blank lines are skipped; the first object decides the kind and is
                // then read as a data line.
                let (text, at) = loop {
                    match read_line_bounded(&mut r, MAX_LINE_BYTES, line)? {
                        None => {
                            return Err(SourceError::Input(Problem::bad_line(
                                1,
                                "the input is empty",
                            )))
                        }
                        Some(l) if l.iter().all(u8::is_ascii_whitespace) => line += 1,
                        Some(l) => break (l, line),
                    }
                };
                let t = text.strip_suffix(b"\n").unwrap_or(&text);
                let t = t.strip_suffix(b"\r").unwrap_or(t);
                let schema = own::JsonlSchema::from_first(t, at).map_err(SourceError::Input)?;
                let mut split = own::Splitter::new(false, at);
                if let Some(b) = split.push(&text, usize::MAX).map_err(SourceError::Input)? {
                    // Unreachable in practice (min is usize::MAX), kept whole if it happens.
                    split = own::Splitter::new(false, b.first_line);
                    split
                        .push(&b.bytes, usize::MAX)
                        .map_err(SourceError::Input)?;
                }
                (Arc::new(schema), split)
            }
            _ => {
                let header = read_line_bounded(&mut r, MAX_LINE_BYTES, 1)?.unwrap_or_default();
                let h = header.strip_suffix(b"\n").unwrap_or(&header);
                let h = h.strip_suffix(b"\r").unwrap_or(h);
                if h.iter().all(u8::is_ascii_whitespace) {
                    return Err(SourceError::Input(Problem::bad_line(
                        1,
                        "the header row is empty",
                    )));
                }
                let parser: Arc<dyn LineParser> = match &opts.mapping {
                    Some(m) => {
                        let (p, warnings) = mapped_csv::MappedSchema::from_header(m.clone(), h)
                            .map_err(SourceError::Input)?;
                        first.extend(warnings.into_iter().map(Event::Problem));
                        Arc::new(p)
                    }
                    None => {
                        let (p, warnings) =
                            own::CsvSchema::from_header(h).map_err(SourceError::Input)?;
                        first.extend(warnings.into_iter().map(Event::Problem));
                        Arc::new(p)
                    }
                };
                (parser, own::Splitter::new(true, 2))
            }
        };
        Ok(Self {
            r,
            format,
            parser,
            split,
            first,
            done: false,
        })
    }
}

impl<R: BufRead + Send> Source for LineSource<R> {
    fn format(&self) -> Format {
        self.format
    }

    fn kind(&self) -> Kind {
        self.parser.kind()
    }

    fn next_batch(&mut self) -> Result<Option<Batch>, SourceError> {
        if !self.first.is_empty() {
            return Ok(Some(Batch::Parsed {
                events: std::mem::take(&mut self.first),
                bytes: 0,
            }));
        }
        if self.done {
            return Ok(None);
        }
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                self.done = true;
                return Ok(self.split.finish().map(|block| Batch::Lines {
                    parser: self.parser.clone(),
                    block,
                }));
            }
            let n = buf.len();
            let got = self
                .split
                .push(buf, BLOCK_BYTES)
                .map_err(SourceError::Input)?;
            self.r.consume(n);
            if let Some(block) = got {
                return Ok(Some(Batch::Lines {
                    parser: self.parser.clone(),
                    block,
                }));
            }
        }
    }
}

/// A reader of a structured format, one event at a time.
pub trait Records: Send {
    /// Kind of list.
    fn kind(&self) -> Kind;
    /// The next event, `None` at the end.
    ///
    /// # Errors
    /// The input is unusable from here on, or reading failed.
    fn next_event(&mut self) -> Result<Option<Event>, SourceError>;
    /// Input bytes consumed so far.
    fn consumed(&self) -> u64;
}

/// Groups a structured reader's events into batches.
struct Batching<T> {
    inner: T,
    format: Format,
    reported: u64,
    done: bool,
    pending: Option<SourceError>,
}

impl<T: Records> Batching<T> {
    fn new(inner: T, format: Format) -> Self {
        Self {
            inner,
            format,
            reported: 0,
            done: false,
            pending: None,
        }
    }
}

impl<T: Records> Source for Batching<T> {
    fn format(&self) -> Format {
        self.format
    }

    fn kind(&self) -> Kind {
        self.inner.kind()
    }

    fn next_batch(&mut self) -> Result<Option<Batch>, SourceError> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        if self.done {
            return Ok(None);
        }
        let mut events = Vec::new();
        let mut lines = 0;
        while lines < BATCH_LINES {
            match self.inner.next_event() {
                Ok(Some(e)) => {
                    lines += usize::from(matches!(e, Event::Line(_)));
                    events.push(e);
                }
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    // Hand over what was read; the error comes with the next call.
                    self.done = true;
                    self.pending = Some(e);
                    break;
                }
            }
        }
        let consumed = self.inner.consumed();
        let bytes = consumed - self.reported;
        self.reported = consumed;
        if events.is_empty() {
            return match self.pending.take() {
                Some(e) => Err(e),
                None => Ok(None),
            };
        }
        Ok(Some(Batch::Parsed { events, bytes }))
    }
}

/// A [`BufRead`] over a stream of chunks (the pieces of a file sent over the Admin API, or
/// read from disk), without copying them.
pub struct ChunkReader<I> {
    chunks: I,
    cur: Vec<u8>,
    pos: usize,
}

impl<I> ChunkReader<I> {
    /// Reads `chunks` in order.
    pub fn new(chunks: I) -> Self {
        Self {
            chunks,
            cur: Vec::new(),
            pos: 0,
        }
    }
}

impl<I, E> Read for ChunkReader<I>
where
    I: Iterator<Item = Result<Vec<u8>, E>>,
    E: std::fmt::Display,
{
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<I, E> BufRead for ChunkReader<I>
where
    I: Iterator<Item = Result<Vec<u8>, E>>,
    E: std::fmt::Display,
{
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        while self.pos >= self.cur.len() {
            match self.chunks.next() {
                None => return Ok(&[]),
                Some(Ok(c)) => {
                    self.cur = c;
                    self.pos = 0;
                }
                Some(Err(e)) => return Err(std::io::Error::other(e.to_string())),
            }
        }
        Ok(&self.cur[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.cur.len());
    }
}

/// Reads a whole input (for tests and tools): its format, kind, lines and problems in order.
///
/// # Errors
/// As [`open`] and [`Source::next_batch`].
pub fn read_all(
    input: &[u8],
    opts: &ReadOptions,
) -> Result<(Format, Kind, Vec<Line>, Vec<Problem>), SourceError> {
    let mut src = open(input, opts)?;
    let (format, kind) = (src.format(), src.kind());
    let mut lines = Vec::new();
    let mut problems = Vec::new();
    let unit = format.unit();
    while let Some(b) = src.next_batch()? {
        let mut each = |e: Event| match e {
            Event::Line(l) => lines.push(l),
            Event::Problem(p) => problems.push(p.in_unit(unit)),
        };
        match b {
            Batch::Lines { parser, block } => {
                parser.parse_block(&block.bytes, block.first_line, &mut each)
            }
            Batch::Parsed { events, .. } => events.into_iter().for_each(&mut each),
        }
    }
    Ok((format, kind, lines, problems))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::manifest::{Severity, Subject};

    fn sample(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/manifests")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// Reads `input` pushed through a chunk reader in pieces of `chunk` bytes.
    fn read_chunked(
        input: &[u8],
        chunk: usize,
        opts: &ReadOptions,
    ) -> Result<(Format, Kind, Vec<Line>, Vec<Problem>), SourceError> {
        let chunks: Vec<Result<Vec<u8>, String>> =
            input.chunks(chunk.max(1)).map(|c| Ok(c.to_vec())).collect();
        let mut src = open(ChunkReader::new(chunks.into_iter()), opts)?;
        let (format, kind) = (src.format(), src.kind());
        let (mut lines, mut problems) = (vec![], vec![]);
        while let Some(b) = src.next_batch()? {
            let mut each = |e: Event| match e {
                Event::Line(l) => lines.push(l),
                Event::Problem(p) => problems.push(p.in_unit(format.unit())),
            };
            match b {
                Batch::Lines { parser, block } => {
                    parser.parse_block(&block.bytes, block.first_line, &mut each)
                }
                Batch::Parsed { events, .. } => events.into_iter().for_each(&mut each),
            }
        }
        Ok((format, kind, lines, problems))
    }

    fn cargo(l: &Line) -> &crate::screen::manifest::CargoLine {
        match &l.subject {
            Subject::Cargo(c) => c,
            Subject::Passenger(_) => panic!("not cargo: {l:?}"),
        }
    }

    fn pax(l: &Line) -> &crate::screen::manifest::PassengerLine {
        match &l.subject {
            Subject::Passenger(p) => p,
            Subject::Cargo(_) => panic!("not a passenger: {l:?}"),
        }
    }

    fn fields(problems: &[Problem]) -> Vec<(u64, String, Severity)> {
        problems
            .iter()
            .map(|p| (p.line, p.field.clone(), p.severity))
            .collect()
    }

    #[test]
    fn detection_by_content() {
        for (name, want) in [
            ("paxlst-VN416-HAN-ICN.edi", Format::Paxlst),
            ("cuscar-THLCH-KRPUS.edi", Format::Cuscar),
            ("xfwb-180-83410224-KUL-ICN.xml", Format::Xfwb),
            ("xfzb-SKL2612031177-KUL-ICN.xml", Format::Xfzb),
            ("passengers-TG658.jsonl", Format::Jsonl),
            ("korea-bound-cargo.csv", Format::Csv),
        ] {
            assert_eq!(detect(&sample(name)).unwrap(), want, "{name}");
        }
        assert_eq!(
            detect(b"\xEF\xBB\xBF  \nUNB+UNOA:4+A+B+1+1'UNH+1+PAXLST:D:05B:UN:IATA'").unwrap(),
            Format::Paxlst
        );
        let e = detect(b"UNB+UNOA:4+A+B+1+1'UNH+1+INVOIC:D:96A:UN'").unwrap_err();
        assert!(e.message.contains("INVOIC"), "{e}");
        let e = detect(b"<?xml version=\"1.0\"?><x:Invoice xmlns:x=\"a\"/>").unwrap_err();
        assert!(e.message.contains("\"Invoice\""), "{e}");
        assert_eq!(detect(b"<Waybill/>").unwrap(), Format::Xfwb);
        // --format overrides detection: a CSV header read as JSON Lines is not an object.
        let e = read_all(
            b"reference,route\nA,express\n",
            &ReadOptions {
                format: Some(Format::Jsonl),
                mapping: None,
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a JSON object"), "{e}");
        assert!(read_all(b"  \n", &ReadOptions::default()).is_err());
    }

    #[test]
    fn paxlst_sample_any_chunking() {
        let input = sample("paxlst-VN416-HAN-ICN.edi");
        for chunk in [1, 7, 100, 1 << 20] {
            let (f, k, lines, problems) =
                read_chunked(&input, chunk, &ReadOptions::default()).unwrap();
            assert_eq!((f, k), (Format::Paxlst, Kind::Passengers));
            assert!(problems.is_empty(), "chunk {chunk}: {problems:?}");
            assert_eq!(lines.len(), 6);
            let p = pax(&lines[0]);
            assert_eq!(lines[0].line, 13, "the NAD's segment number");
            assert_eq!(
                (p.family_name.as_str(), p.given_names.as_deref()),
                ("NGUYEN", Some("VAN HUNG"))
            );
            assert_eq!(p.date_of_birth.unwrap().to_string(), "1994-03-17");
            assert_eq!(p.nationality.unwrap().as_str(), "VN");
            assert_eq!(p.document_number.as_ref().unwrap().as_str(), "C03005988");
            assert_eq!(p.document_country.unwrap().as_str(), "VN");
            assert_eq!(p.flight_or_voyage.as_ref().unwrap().as_str(), "VN416");
            assert_eq!(p.travel_date.unwrap().to_string(), "2026-12-02");
            // The visa after the passport is not the travel document.
            let p = pax(&lines[1]);
            assert_eq!(p.document_number.as_ref().unwrap().as_str(), "AB9876543");
            assert_eq!(p.document_country.unwrap().as_str(), "TH");
            // A partial date of birth, a released apostrophe, the crew member.
            assert_eq!(
                pax(&lines[3]).date_of_birth.unwrap().to_string(),
                "1985-00-00"
            );
            assert_eq!(pax(&lines[4]).family_name, "O'BRIEN");
            assert!(pax(&lines[5]).crew && !pax(&lines[4]).crew);
            assert!(lines[5].reference.contains("crew"));
        }
    }

    #[test]
    fn paxlst_several_messages_and_custom_separators() {
        let input = b"UNA|^,! ~UNB^UNOA|4^S^R^261202|1540^IC9~\
            UNH^1^PAXLST|D|05B|UN|IATA~BGM^745~TDT^20^KE652~DTM^189|2612021010|201~\
            NAD^FL^^^KIM|MIN!^JUN~DTM^329|19900102|102~NAT^2^KOR~UNT^8^1~\
            UNH^2^PAXLST|D|05B|UN|IATA~BGM^250~TDT^20^KE652~\
            NAD^FM^^^LEE|JI HO~NAT^2^KOR~DOC^P^M1234567~LOC^91^KOR~CNT^42|1~UNT^9^2~UNZ^2^IC9~";
        let (_, _, lines, problems) = read_all(input, &ReadOptions::default()).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(lines.len(), 2);
        assert_eq!(pax(&lines[0]).given_names.as_deref(), Some("MIN^JUN"));
        assert_eq!(
            pax(&lines[0]).date_of_birth.unwrap().to_string(),
            "1990-01-02"
        );
        assert!(pax(&lines[1]).crew);
        assert_eq!(
            pax(&lines[1]).travel_date,
            None,
            "the second message has no DTM"
        );
    }

    #[test]
    fn paxlst_mixed_values_every_bad_field_reported() {
        let (_, _, lines, problems) =
            read_all(&sample("mixed-values-paxlst.edi"), &ReadOptions::default()).unwrap();
        // The good identifiers and names are kept.
        assert_eq!(lines.len(), 3);
        let nguyen = pax(&lines[0]);
        assert_eq!(
            nguyen.document_number.as_ref().unwrap().as_str(),
            "C03005988"
        );
        assert_eq!(nguyen.date_of_birth, None);
        let srisuk = pax(&lines[1]);
        assert_eq!(srisuk.date_of_birth.unwrap().to_string(), "1988-11-02");
        assert_eq!(
            (srisuk.nationality, srisuk.document_number.as_ref()),
            (None, None)
        );
        assert_eq!(pax(&lines[2]).document_number, None, "no issuing state");
        let got = fields(&problems);
        assert_eq!(
            got,
            [
                (9, "DTM+329 C507 (date_of_birth)".into(), Severity::BadField),
                (15, "NAT C042 (nationality)".into(), Severity::BadField),
                (
                    16,
                    "DOC C503 1004 (document_number)".into(),
                    Severity::BadField
                ),
                (18, "NAD C080".into(), Severity::BadLine),
                (20, "LOC+91 (document_country)".into(), Severity::BadField),
                (25, "UNT 0074".into(), Severity::BadLine),
            ]
        );
        assert!(problems.iter().all(|p| p.unit == Unit::Segment));
        assert!(
            problems[0].message.contains("\"941317\"") && problems[0].message.contains("month 13")
        );
        assert!(problems[5].message.contains("99 segments; 24 were counted"));
    }

    #[test]
    fn cuscar_sample_by_segment_group() {
        let input = sample("cuscar-THLCH-KRPUS.edi");
        for chunk in [3, 1 << 20] {
            let (f, _, lines, problems) =
                read_chunked(&input, chunk, &ReadOptions::default()).unwrap();
            assert_eq!(f, Format::Cuscar);
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(lines.len(), 4);
            let c = cargo(&lines[0]);
            assert_eq!(c.container_numbers[0].as_str(), "MSKU9070323");
            assert_eq!(c.transport_document.as_deref(), Some("MEDUTH2604417"));
            assert_eq!(c.vessel_imo.as_ref().unwrap().as_str(), "9351622");
            assert_eq!(c.loading_port.as_ref().unwrap().as_str(), "THLCH");
            assert_eq!(c.discharge_port.as_ref().unwrap().as_str(), "KRPUS");
            assert_eq!(c.hs_code.as_ref().unwrap().as_str(), "080390");
            assert_eq!(c.weight_grams, Some(21_480_000));
            assert_eq!(c.arrival_date.unwrap().to_string(), "2026-12-18");
            let c = cargo(&lines[1]);
            assert_eq!(
                lines[1].reference, "SKLTH26120318",
                "the house B/L names the line"
            );
            assert_eq!(
                c.consignee.name.as_deref(),
                Some("HANBIT FRESH TRADING CO LTD")
            );
            assert_eq!(c.weight_grams, Some(18_240_500), "decimal comma");
            assert_eq!(cargo(&lines[2]).container_numbers.len(), 2);
            assert_eq!(
                cargo(&lines[2]).shipper.country.unwrap().as_str(),
                "TH",
                "alpha-3"
            );
            assert_eq!(cargo(&lines[3]).weight_grams, Some(14_000_129), "pounds");
        }
    }

    #[test]
    fn cuscar_mixed_values_every_bad_field_reported() {
        let (_, _, lines, problems) =
            read_all(&sample("mixed-values-cuscar.edi"), &ReadOptions::default()).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            cargo(&lines[0]).container_numbers.len(),
            1,
            "the good container stays"
        );
        assert_eq!(cargo(&lines[0]).vessel_imo, None);
        assert_eq!(
            cargo(&lines[1]).transport_document.as_deref(),
            Some("MEDUEC12345678")
        );
        let got: Vec<(u64, String)> = problems.iter().map(|p| (p.line, p.field.clone())).collect();
        assert_eq!(
            got,
            [
                (5, "TDT C222 8213 (vessel_imo)".to_owned()),
                (10, "NAD+CN 3207 (consignee country)".into()),
                (12, "PIA 7140 (hs_code)".into()),
                (13, "MEA C174 6314 (weight)".into()),
                (15, "EQD C237 8260 (container_numbers)".into()),
                (17, "LOC+9 C517 3225 (port)".into()),
                (18, "MEA C174 6411 (weight unit)".into()),
            ]
        );
        assert!(problems.iter().all(|p| p.severity == Severity::BadField));
    }

    #[test]
    fn cargo_xml_samples() {
        let (f, _, lines, problems) = read_chunked(
            &sample("xfwb-180-83410224-KUL-ICN.xml"),
            5,
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(f, Format::Xfwb);
        assert!(problems.is_empty(), "{problems:?}");
        let c = cargo(&lines[0]);
        assert_eq!(lines[0].reference, "AWB 180-83410224");
        assert_eq!(c.air_waybill.as_ref().unwrap().as_str(), "18083410224");
        assert_eq!(c.shipper.country.unwrap().as_str(), "MY");
        assert_eq!(c.weight_grams, Some(240_000));
        assert_eq!(c.hs_code.as_ref().unwrap().as_str(), "210690");
        assert_eq!(c.flight_or_voyage.as_ref().unwrap().as_str(), "KE672");
        assert_eq!(
            c.goods_description.as_deref(),
            Some("VITAMIN C SUPPLEMENT POWDER & CAPSULES")
        );
        let (f, _, lines, problems) = read_all(
            &sample("xfzb-SKL2612031177-KUL-ICN.xml"),
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(f, Format::Xfzb);
        assert!(problems.is_empty(), "{problems:?}");
        let c = cargo(&lines[0]);
        assert_eq!(c.house_waybill.as_deref(), Some("SKL2612031177"));
        assert_eq!(c.air_waybill.as_ref().unwrap().as_str(), "61812345675");
        assert_eq!(c.consignee.country.unwrap().as_str(), "KR");
        assert_eq!(
            c.goods_description.as_deref(),
            Some("HERBAL SUPPLEMENT POWDER")
        );
    }

    #[test]
    fn cargo_xml_mixed_values_and_malformed() {
        let (_, _, lines, problems) =
            read_all(&sample("mixed-values-xfwb.xml"), &ReadOptions::default()).unwrap();
        assert_eq!(lines.len(), 2, "two messages in one file");
        assert_eq!(
            cargo(&lines[0]).consignee.name.as_deref(),
            Some("DAEHAN BIO TRADING")
        );
        assert_eq!(
            cargo(&lines[1]).air_waybill.as_ref().unwrap().as_str(),
            "18083410224"
        );
        let got: Vec<(u64, &str)> = problems
            .iter()
            .map(|p| (p.line, p.field.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (4, "BusinessHeaderDocument/ID (air_waybill)"),
                (11, "ConsigneeParty/PostalStructuredAddress/CountryID"),
                (6, "GrossWeightMeasure@unitCode (weight unit)"),
                (
                    22,
                    "ArrivalEvent/ScheduledOccurrenceDateTime (arrival_date)"
                ),
                (26, "GrossWeightMeasure (weight)"),
                (25, "ConsignmentItem/TypeCode (hs_code)"),
            ]
        );
        // Not well-formed: the waybill before the error stands, the error names the line.
        let mut bad = sample("xfwb-180-83410224-KUL-ICN.xml");
        bad.extend_from_slice(b"\n<rsm:Waybill>\n<a></b>\n");
        let mut src = open(&bad[..], &ReadOptions::default()).unwrap();
        let mut lines = 0;
        let err = loop {
            match src.next_batch() {
                Ok(Some(Batch::Parsed { events, .. })) => {
                    lines += events
                        .iter()
                        .filter(|e| matches!(e, Event::Line(_)))
                        .count()
                }
                Ok(_) => panic!("no error"),
                Err(e) => break e,
            }
        };
        assert_eq!(lines, 1);
        assert!(
            err.to_string().contains("line 76") && err.to_string().contains("well-formed"),
            "{err}"
        );
    }

    proptest::proptest! {
        #[test]
        fn readers_never_panic_on_random_bytes(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1500),
            f in 0usize..6,
        ) {
            let opts = ReadOptions { format: Some(Format::ALL[f]), mapping: None };
            let _ = read_all(&bytes, &opts);
        }

        #[test]
        fn xml_reader_never_panics_on_mangled_waybills(cut in 0usize..3000, flip in 0usize..3000, b in proptest::prelude::any::<u8>()) {
            let mut x = sample("xfwb-180-83410224-KUL-ICN.xml");
            let n = x.len();
            x[flip % n] = b;
            x.truncate(cut % (n + 1));
            let _ = read_all(&x, &ReadOptions::default());
        }

        #[test]
        fn edifact_readers_never_panic_on_mangled_messages(cut in 0usize..4000, flip in 0usize..4000, b in proptest::prelude::any::<u8>()) {
            for name in ["cuscar-THLCH-KRPUS.edi", "paxlst-VN416-HAN-ICN.edi"] {
                let mut x = sample(name);
                let n = x.len();
                x[flip % n] = b;
                x.truncate(cut % (n + 1));
                let _ = read_all(&x, &ReadOptions::default());
            }
        }
    }
}
