//! A small UN/EDIFACT (ISO 9735) tokenizer, streaming from a [`BufRead`]: the service string
//! advice `UNA` (custom separators) and its default, the release character, segments split
//! into elements and components; and the envelope checks (UNB/UNG/UNH/UNT/UNE/UNZ references
//! and counts).
//!
//! Written here rather than taken from a crate: what kdesk needs is this much (about 300
//! lines), tied to its own segment numbering and error reporting, and it must hold one
//! segment in memory at most whatever the input. The crates that could be fetched were
//! weighed in docs/SCREENING.md.
//!
//! Rules: separators are those of `UNA` when the interchange starts with one, else the
//! defaults `:` `+` `.` `?` `'`; the release character makes the next character plain data;
//! carriage returns and line feeds are not data (files are often wrapped at 80 columns or put
//! one segment to a line) and are dropped; the repetition separator of syntax version 4 is not
//! split (no segment kdesk reads repeats an element). Text is UTF-8 when it is valid UTF-8,
//! else ISO 8859-1 (the character sets UNOA to UNOC); an interchange declaring UTF-8 (UNOW,
//! UNOY) with bytes that are not is reported. A segment longer than [`MAX_SEGMENT_BYTES`]
//! ends the reading, naming it.

use std::io::BufRead;

use super::{Event, SourceError};
use crate::screen::manifest::{Problem, Severity, Unit};

/// Longest segment accepted (bytes). Real segments are well under 1 KiB.
pub const MAX_SEGMENT_BYTES: usize = 64 * 1024;

/// The characters that structure an interchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Separators {
    /// Component data element separator (`:`).
    pub component: u8,
    /// Data element separator (`+`).
    pub element: u8,
    /// Decimal mark (`.`); `,` is always accepted too.
    pub decimal: u8,
    /// Release character (`?`); 0 when the `UNA` gives a space (none).
    pub release: u8,
    /// Segment terminator (`'`).
    pub terminator: u8,
}

impl Default for Separators {
    fn default() -> Self {
        Self {
            component: b':',
            element: b'+',
            decimal: b'.',
            release: b'?',
            terminator: b'\'',
        }
    }
}

/// One segment: its tag, elements and components, release characters resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// 1-based position in the input, counting `UNA` when present.
    pub number: u64,
    /// The tag (`NAD`, `DOC`, ...).
    pub tag: String,
    /// Data elements after the tag, each a list of components.
    pub elements: Vec<Vec<String>>,
}

impl Segment {
    /// Component `c` of element `e` (both 0-based, after the tag); empty when absent.
    pub fn get(&self, e: usize, c: usize) -> &str {
        self.elements
            .get(e)
            .and_then(|x| x.get(c))
            .map_or("", |s| s.as_str())
    }

    /// The components of element `e`; empty when absent.
    pub fn element(&self, e: usize) -> &[String] {
        self.elements.get(e).map_or(&[], Vec::as_slice)
    }

    /// The segment as written (default separators, for messages), shortened.
    pub fn show(&self) -> String {
        let mut s = self.tag.clone();
        for e in &self.elements {
            s.push('+');
            s.push_str(&e.join(":"));
        }
        if s.chars().count() > 60 {
            s = s.chars().take(57).collect::<String>() + "...";
        }
        s
    }
}

/// Reads segments from a byte stream.
pub struct Tokenizer<R> {
    r: R,
    seps: Separators,
    number: u64,
    started: bool,
    strict_utf8: bool,
    raw: Vec<u8>,
}

impl<R: BufRead> Tokenizer<R> {
    /// A tokenizer over `r`.
    pub fn new(r: R) -> Self {
        Self {
            r,
            seps: Separators::default(),
            number: 0,
            started: false,
            strict_utf8: false,
            raw: Vec::with_capacity(256),
        }
    }

    /// The separators in force.
    pub fn separators(&self) -> Separators {
        self.seps
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.r
    }

    /// Skips a byte order mark and white space before the first segment, and reads `UNA`.
    fn start(&mut self) -> Result<Option<Segment>, SourceError> {
        self.started = true;
        loop {
            let buf = self.r.fill_buf()?;
            let skip = buf
                .iter()
                .position(|b| !b.is_ascii_whitespace() && !matches!(b, 0xEF | 0xBB | 0xBF))
                .unwrap_or(buf.len());
            let done = skip < buf.len() || buf.is_empty();
            self.r.consume(skip);
            if done {
                break;
            }
        }
        let mut head = [0u8; 9];
        let mut n = 0;
        while n < 3 {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            // Peek without consuming: UNA only if the first three bytes say so.
            let take = (3 - n).min(buf.len());
            head[n..n + take].copy_from_slice(&buf[..take]);
            if head[..n + take] != b"UNA"[..n + take] {
                // Not UNA: put back what we consumed (only whole "UN" prefixes were taken).
                self.raw.extend_from_slice(&head[..n]);
                return Ok(None);
            }
            self.r.consume(take);
            n += take;
        }
        if n < 3 {
            self.raw.extend_from_slice(&head[..n]);
            return Ok(None);
        }
        while n < 9 {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(SourceError::Input(
                    Problem::bad_line(1, "UNA: the service string advice must give 6 characters")
                        .in_unit(Unit::Segment),
                ));
            }
            head[n] = buf[0];
            self.r.consume(1);
            n += 1;
        }
        let s = Separators {
            component: head[3],
            element: head[4],
            decimal: head[5],
            release: if head[6] == b' ' { 0 } else { head[6] },
            terminator: head[8],
        };
        let distinct = [s.component, s.element, s.terminator];
        if distinct[0] == distinct[1]
            || distinct[0] == distinct[2]
            || distinct[1] == distinct[2]
            || (s.release != 0 && distinct.contains(&s.release))
            || distinct
                .iter()
                .any(|b| b.is_ascii_alphanumeric() || b.is_ascii_whitespace())
        {
            return Err(SourceError::Input(
                Problem::bad_line(
                    1,
                    format!(
                        "UNA{}: separators must be distinct and neither letters, digits nor \
                         spaces",
                        String::from_utf8_lossy(&head[3..9])
                    ),
                )
                .in_unit(Unit::Segment),
            ));
        }
        self.seps = s;
        self.number = 1;
        Ok(Some(Segment {
            number: 1,
            tag: "UNA".into(),
            elements: vec![vec![String::from_utf8_lossy(&head[3..9]).into_owned()]],
        }))
    }

    /// The next segment, `None` at the end of the input.
    ///
    /// # Errors
    /// A segment longer than [`MAX_SEGMENT_BYTES`], a bad `UNA`, or a read failure.
    pub fn next_segment(&mut self) -> Result<Option<Segment>, SourceError> {
        if !self.started {
            if let Some(una) = self.start()? {
                return Ok(Some(una));
            }
        }
        let t = self.seps.terminator;
        let rel = self.seps.release;
        let mut escaped = false;
        // `raw` may hold bytes put back by `start`.
        let mut ended = false;
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let mut used = buf.len();
            for (i, &b) in buf.iter().enumerate() {
                if escaped {
                    escaped = false;
                    if !matches!(b, b'\r' | b'\n') {
                        self.raw.push(b);
                    }
                    continue;
                }
                if b == t {
                    used = i + 1;
                    ended = true;
                    break;
                }
                if rel != 0 && b == rel {
                    escaped = true;
                    self.raw.push(b);
                    continue;
                }
                if !matches!(b, b'\r' | b'\n') {
                    self.raw.push(b);
                }
            }
            self.r.consume(used);
            if self.raw.len() > MAX_SEGMENT_BYTES {
                return Err(SourceError::Input(
                    Problem::bad_line(
                        self.number + 1,
                        format!(
                            "segment longer than {MAX_SEGMENT_BYTES} bytes (is the segment \
                             terminator {:?}?)",
                            t as char
                        ),
                    )
                    .in_unit(Unit::Segment),
                ));
            }
            if ended {
                break;
            }
        }
        let trimmed_start = self
            .raw
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(self.raw.len());
        if trimmed_start == self.raw.len() {
            self.raw.clear();
            if ended {
                // An empty segment (two terminators in a row): skip it.
                return self.next_segment();
            }
            return Ok(None);
        }
        self.number += 1;
        let seg = split(&self.raw[trimmed_start..], &self.seps, self.number);
        self.raw.clear();
        if seg.tag == "UNB" {
            self.strict_utf8 = matches!(seg.get(0, 0), "UNOW" | "UNOY");
        }
        Ok(Some(seg))
    }

    /// Whether the interchange declared UTF-8 (then bytes that are not UTF-8 are an error).
    pub fn strict_utf8(&self) -> bool {
        self.strict_utf8
    }
}

/// Text of a component: UTF-8 when valid, else ISO 8859-1.
fn decode(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => b.iter().map(|&c| c as char).collect(),
    }
}

/// Splits a segment's bytes (terminator removed) into tag, elements and components.
pub fn split(raw: &[u8], s: &Separators, number: u64) -> Segment {
    let mut elements: Vec<Vec<String>> = Vec::new();
    let mut comps: Vec<String> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut escaped = false;
    for &b in raw {
        if escaped {
            cur.push(b);
            escaped = false;
        } else if s.release != 0 && b == s.release {
            escaped = true;
        } else if b == s.element {
            comps.push(decode(&cur));
            cur.clear();
            elements.push(std::mem::take(&mut comps));
        } else if b == s.component {
            comps.push(decode(&cur));
            cur.clear();
        } else {
            cur.push(b);
        }
    }
    comps.push(decode(&cur));
    elements.push(comps);
    let tag = elements
        .first()
        .and_then(|e| e.first())
        .map(|t| t.trim().to_ascii_uppercase())
        .unwrap_or_default();
    Segment {
        number,
        tag,
        elements: elements.into_iter().skip(1).collect(),
    }
}

/// The message type of the first `UNH` in the first bytes of an interchange (`PAXLST`).
pub fn message_type(head: &[u8]) -> Option<String> {
    let mut t = Tokenizer::new(head);
    for _ in 0..8 {
        match t.next_segment() {
            Ok(Some(s)) if s.tag == "UNH" => {
                return Some(s.get(1, 0).trim().to_ascii_uppercase()).filter(|m| !m.is_empty())
            }
            Ok(Some(_)) => {}
            _ => return None,
        }
    }
    None
}

/// Checks the envelope: interchange (UNB…UNZ), optional groups (UNG…UNE) and messages
/// (UNH…UNT), their references and counts. Each mismatch is an error naming the segment.
#[derive(Debug, Default)]
pub struct Envelope {
    interchange: Option<(u64, String)>,
    group: Option<(u64, String)>,
    message: Option<(u64, String)>,
    /// Segments of the current message so far, UNH included.
    segments: u64,
    /// Messages in the interchange (outside groups) and in the current group.
    messages: u64,
    group_messages: u64,
    groups: u64,
    /// Segments seen outside any message (reported once).
    stray_reported: bool,
    /// Messages seen in the whole input.
    seen: u64,
}

fn err(seg: &Segment, field: &str, message: String) -> Event {
    Event::Problem(Problem {
        line: seg.number,
        unit: Unit::Segment,
        field: field.to_owned(),
        message,
        severity: Severity::BadLine,
    })
}

fn count(v: &str) -> Option<u64> {
    v.trim().parse().ok()
}

impl Envelope {
    /// Whether a message (UNH…UNT) is open.
    pub fn in_message(&self) -> bool {
        self.message.is_some()
    }

    /// Takes one segment; envelope problems go to `out`. Returns `true` for a service
    /// segment (UNA, UNB, UNG, UNH, UNT, UNE, UNZ) that the message reader need not see.
    pub fn observe(&mut self, seg: &Segment, out: &mut Vec<Event>) -> bool {
        if self.message.is_some() {
            self.segments += 1;
        }
        match seg.tag.as_str() {
            "UNA" => true,
            "UNB" => {
                if let Some((at, _)) = &self.interchange {
                    out.push(err(
                        seg,
                        "UNB",
                        format!("a second interchange header before the UNZ of the one opened at segment {at}"),
                    ));
                }
                self.interchange = Some((seg.number, seg.get(4, 0).trim().to_owned()));
                self.messages = 0;
                self.groups = 0;
                true
            }
            "UNG" => {
                self.group = Some((seg.number, seg.get(4, 0).trim().to_owned()));
                self.group_messages = 0;
                self.groups += 1;
                true
            }
            "UNH" => {
                if let Some((at, r)) = &self.message {
                    out.push(err(
                        seg,
                        "UNH",
                        format!(
                            "message {r:?} opened at segment {at} has no UNT: it is incomplete"
                        ),
                    ));
                }
                self.message = Some((seg.number, seg.get(0, 0).trim().to_owned()));
                self.segments = 1;
                self.messages += 1;
                self.seen += 1;
                self.group_messages += 1;
                true
            }
            "UNT" => {
                match self.message.take() {
                    None => out.push(err(seg, "UNT", "a message trailer without its UNH".into())),
                    Some((at, r)) => {
                        let said = seg.get(0, 0);
                        match count(said) {
                            Some(n) if n == self.segments => {}
                            Some(n) => out.push(err(
                                seg,
                                "UNT 0074",
                                format!(
                                    "says the message has {n} segments; {} were counted from \
                                     its UNH at segment {at} to this UNT: segments are missing \
                                     or extra",
                                    self.segments
                                ),
                            )),
                            None => out.push(err(
                                seg,
                                "UNT 0074",
                                format!("{said:?} is not a segment count"),
                            )),
                        }
                        let rr = seg.get(1, 0).trim();
                        if rr != r {
                            out.push(err(
                                seg,
                                "UNT 0062",
                                format!("message reference {rr:?} differs from the UNH's {r:?}"),
                            ));
                        }
                    }
                }
                self.segments = 0;
                true
            }
            "UNE" => {
                match self.group.take() {
                    None => out.push(err(seg, "UNE", "a group trailer without its UNG".into())),
                    Some((_, r)) => {
                        let said = seg.get(0, 0);
                        if count(said) != Some(self.group_messages) {
                            out.push(err(
                                seg,
                                "UNE 0060",
                                format!(
                                    "says the group has {said:?} messages; {} were counted",
                                    self.group_messages
                                ),
                            ));
                        }
                        if seg.get(1, 0).trim() != r {
                            out.push(err(
                                seg,
                                "UNE 0048",
                                format!(
                                    "group reference {:?} differs from the UNG's {r:?}",
                                    seg.get(1, 0).trim()
                                ),
                            ));
                        }
                    }
                }
                true
            }
            "UNZ" => {
                match self.interchange.take() {
                    None => out.push(err(
                        seg,
                        "UNZ",
                        "an interchange trailer without its UNB".into(),
                    )),
                    Some((_, r)) => {
                        // The count is of groups when the interchange has groups, else of
                        // messages.
                        let expected = if self.groups > 0 {
                            self.groups
                        } else {
                            self.messages
                        };
                        let said = seg.get(0, 0);
                        if count(said) != Some(expected) {
                            out.push(err(
                                seg,
                                "UNZ 0036",
                                format!(
                                    "says the interchange has {said:?} {}; {expected} were counted",
                                    if self.groups > 0 {
                                        "groups"
                                    } else {
                                        "messages"
                                    }
                                ),
                            ));
                        }
                        if seg.get(1, 0).trim() != r {
                            out.push(err(
                                seg,
                                "UNZ 0020",
                                format!(
                                    "interchange reference {:?} differs from the UNB's {r:?}",
                                    seg.get(1, 0).trim()
                                ),
                            ));
                        }
                    }
                }
                true
            }
            _ => {
                if self.message.is_none() && !self.stray_reported {
                    self.stray_reported = true;
                    out.push(Event::Problem(Problem {
                        line: seg.number,
                        unit: Unit::Segment,
                        field: seg.tag.clone(),
                        message: "segment outside a message (UNH…UNT), ignored".into(),
                        severity: Severity::Warning,
                    }));
                }
                self.message.is_none()
            }
        }
    }

    /// At the end of the input: an open message, group or interchange is reported.
    ///
    /// # Errors
    /// The input held no message at all (it is not `what`, e.g. `a PAXLST interchange`).
    pub fn finish(
        &mut self,
        last: u64,
        out: &mut Vec<Event>,
        what: &str,
    ) -> Result<(), SourceError> {
        if self.seen == 0 {
            return Err(SourceError::Input(
                Problem::bad_line(
                    last.max(1),
                    format!("no UNH message header in the input: it is not {what}"),
                )
                .in_unit(Unit::Segment),
            ));
        }
        let end = Segment {
            number: last,
            ..Default::default()
        };
        if let Some((at, r)) = self.message.take() {
            out.push(err(
                &end,
                "UNT",
                format!(
                    "the input ends inside message {r:?} opened at segment {at}: it is truncated"
                ),
            ));
        }
        if let Some((at, _)) = self.group.take() {
            out.push(err(
                &end,
                "UNE",
                format!("the input ends inside the group opened at segment {at}"),
            ));
        }
        if let Some((at, _)) = self.interchange.take() {
            out.push(err(
                &end,
                "UNZ",
                format!("the input ends without the UNZ of the interchange opened at segment {at}: it is truncated"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<Segment> {
        let mut t = Tokenizer::new(input);
        let mut v = vec![];
        while let Some(s) = t.next_segment().unwrap() {
            v.push(s);
        }
        v
    }

    #[test]
    fn default_separators_and_release() {
        let s = all(b"UNB+UNOA:4+A+B+261202:0900+7'\r\nNAD+FL+++O?'BRIEN:ANN?+MARIE+1?:2'UNZ+0+7'");
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].tag, "UNB");
        assert_eq!(s[0].get(0, 1), "4");
        assert_eq!(s[1].number, 2);
        assert_eq!(s[1].get(3, 0), "O'BRIEN");
        assert_eq!(s[1].get(3, 1), "ANN+MARIE");
        assert_eq!(s[1].get(4, 0), "1:2");
        assert_eq!(s[1].get(9, 9), "");
    }

    #[test]
    fn una_custom_separators() {
        let s = all(b"UNA|^,! ~\nUNB^UNOC|3^X~NAD^FL^^^DOE|JOHN!~X~UNZ^0^1~");
        assert_eq!(s[0].tag, "UNA");
        assert_eq!(s[1].tag, "UNB");
        assert_eq!(s[1].number, 2);
        assert_eq!(s[2].get(3, 1), "JOHN~X");
        assert_eq!(s[3].tag, "UNZ");
        // UNA with a space for the release character: no release.
        let s = all(b"UNA:+.  'NAD+FL+++A?B'");
        assert_eq!(s[1].get(3, 0), "A?B");
    }

    #[test]
    fn latin1_and_utf8() {
        let s = all(b"NAD+FL+++M\xdcLLER'NAD+FL+++M\xc3\x9cLLER'");
        assert_eq!(s[0].get(3, 0), "MÜLLER");
        assert_eq!(s[1].get(3, 0), "MÜLLER");
    }

    #[test]
    fn too_long_and_bad_una_are_errors() {
        let mut long = b"NAD+".to_vec();
        long.extend(std::iter::repeat_n(b'A', MAX_SEGMENT_BYTES + 10));
        let mut t = Tokenizer::new(&long[..]);
        assert!(t.next_segment().is_err());
        let mut t = Tokenizer::new(&b"UNA:::?  'UNB'"[..]);
        assert!(t.next_segment().is_err());
        let mut t = Tokenizer::new(&b"UNA:+"[..]);
        assert!(t.next_segment().is_err());
    }

    #[test]
    fn envelope_counts() {
        let input = b"UNB+UNOA:4+S+R+261202:0900+IC1'UNH+M1+PAXLST:D:05B:UN:IATA'BGM+745'\
            UNT+3+M1'UNH+M2+PAXLST:D:05B:UN:IATA'BGM+745'NAD+FL+++X'UNT+3+M9'UNZ+3+IC2'";
        let mut env = Envelope::default();
        let mut out = vec![];
        let segs = all(input);
        for s in &segs {
            env.observe(s, &mut out);
        }
        env.finish(segs.len() as u64, &mut out, "x").unwrap();
        let msgs: Vec<String> = out
            .iter()
            .map(|e| match e {
                Event::Problem(p) => p.to_string(),
                Event::Line(_) => String::new(),
            })
            .collect();
        assert_eq!(msgs.len(), 4, "{msgs:?}");
        assert!(
            msgs[0].starts_with("segment 8: UNT 0074: says the message has 3 segments; 4"),
            "{msgs:?}"
        );
        assert!(msgs[1].contains("UNT 0062"), "{msgs:?}");
        assert!(
            msgs[2].contains("UNZ 0036") && msgs[2].contains("2 were counted"),
            "{msgs:?}"
        );
        assert!(msgs[3].contains("UNZ 0020"), "{msgs:?}");
        // Truncated.
        let mut env = Envelope::default();
        let mut out = vec![];
        for s in all(b"UNB+UNOA:4+S+R+1+1'UNH+1+CUSCAR'BGM+85'") {
            env.observe(&s, &mut out);
        }
        env.finish(3, &mut out, "x").unwrap();
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn detects_message_type() {
        assert_eq!(
            message_type(b"UNA:+.? 'UNB+UNOA:4+X+Y+1+1'UNH+1+CUSCAR:D:95B:UN'").as_deref(),
            Some("CUSCAR")
        );
        assert_eq!(message_type(b"UNB+UNOA:4+X").as_deref(), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            let mut t = Tokenizer::new(&bytes[..]);
            let mut env = Envelope::default();
            let mut out = vec![];
            let mut n = 0;
            while let Ok(Some(s)) = t.next_segment() {
                env.observe(&s, &mut out);
                n += 1;
                proptest::prop_assert!(n <= bytes.len() + 1);
            }
            let _ = env.finish(n as u64, &mut out, "x");
        }

        #[test]
        fn released_separators_round_trip(v in "[ -~]{0,40}") {
            let mut esc = String::new();
            for c in v.chars() {
                if matches!(c, ':' | '+' | '\'' | '?') {
                    esc.push('?');
                }
                esc.push(c);
            }
            let input = format!("NAD+FL+++{esc}'");
            let s = all(input.as_bytes());
            proptest::prop_assert_eq!(s[0].get(3, 0), v.as_str());
        }
    }
}
