//! Name similarity: tolerant of case, diacritics, romanisation, token order and small typing
//! errors, and strict enough that different people do not look alike.
//!
//! A name is a list of folded tokens ([`crate::model::fold::name_tokens`]). Two names are
//! compared token by token: each token of the shorter name is paired with its most similar
//! unused token of the other (order does not matter), token similarity is the better of
//! edit similarity on the spelling and on the phonetic skeleton, and an initial (`"m"`) pairs
//! with any token starting with that letter. The score weighs pairs by token length and
//! penalises tokens left unpaired on either side, so `NGUYEN HUNG` against `NGUYEN VAN HUNG`
//! scores lower than an exact match but higher than a stranger.

use crate::model::fold::skeleton;

/// A name prepared for comparison.
#[derive(Clone, Debug, Default)]
pub struct PreparedName {
    /// Folded canonical tokens.
    pub tokens: Vec<String>,
    /// Their phonetic skeletons.
    pub skeletons: Vec<String>,
    /// How much each token says about identity (length × rarity).
    pub weights: Vec<f32>,
    /// Letter sets of tokens and skeletons, for a cheap lower bound on edit distance.
    masks: Vec<(u32, u32)>,
}

/// The set of characters of a token as bits (a-z, digits folded onto 6 more bits).
fn char_mask(t: &str) -> u32 {
    t.bytes().fold(0u32, |m, b| {
        m | match b {
            b'a'..=b'z' => 1 << (b - b'a'),
            b'0'..=b'9' => 1 << (26 + (b - b'0') % 6),
            _ => 0,
        }
    })
}

impl PreparedName {
    /// Prepares a name from display text.
    pub fn new(text: &str) -> Self {
        Self::from_tokens(crate::model::fold::name_tokens(text))
    }

    /// Prepares a name, weighing each token by `rarity` (an inverse document frequency: common
    /// words such as "trading" or a frequent family name say less about identity).
    pub fn weighted(text: &str, rarity: impl Fn(&str) -> f32) -> Self {
        let mut n = Self::new(text);
        n.reweigh(rarity);
        n
    }

    /// Prepares already folded tokens (weights by length only).
    pub fn from_tokens(tokens: Vec<String>) -> Self {
        let skeletons: Vec<String> = tokens.iter().map(|t| skeleton(t)).collect();
        let weights = tokens.iter().map(|t| length_weight(t)).collect();
        let masks = tokens
            .iter()
            .zip(&skeletons)
            .map(|(t, s)| (char_mask(t), char_mask(s)))
            .collect();
        Self {
            tokens,
            skeletons,
            weights,
            masks,
        }
    }

    /// Re-weighs tokens by length × `rarity`.
    pub fn reweigh(&mut self, rarity: impl Fn(&str) -> f32) {
        self.weights = self
            .tokens
            .iter()
            .map(|t| length_weight(t) * rarity(t))
            .collect();
    }

    /// No token at all (a name made only of legal-form words or punctuation).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The folded name, tokens joined by spaces.
    pub fn folded(&self) -> String {
        self.tokens.join(" ")
    }
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions), bounded:
/// returns `max + 1` as soon as the distance exceeds `max`.
pub fn osa_distance(a: &[u8], b: &[u8], max: usize) -> usize {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max {
        return max + 1;
    }
    if n == 0 || m == 0 {
        return n.max(m);
    }
    // Names tokens are short; longer ones are compared on their first 63 bytes.
    const W: usize = 64;
    let (a, b) = (&a[..n.min(W - 1)], &b[..m.min(W - 1)]);
    let (n, m) = (a.len(), b.len());
    // Three rolling rows on the stack.
    let mut prev2 = [0u16; W];
    let mut prev = [0u16; W];
    let mut cur = [0u16; W];
    for (j, p) in prev.iter_mut().enumerate().take(m + 1) {
        *p = j as u16;
    }
    for i in 1..=n {
        cur[0] = i as u16;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = u16::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if usize::from(row_min) > max {
            return max + 1;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    usize::from(prev[m])
}

/// Similarity of two tokens in 0..=1; `ma`, `mb` are their (token, skeleton) letter sets.
fn token_similarity(a: &str, sa: &str, ma: (u32, u32), b: &str, sb: &str, mb: (u32, u32)) -> f32 {
    if a == b {
        return 1.0;
    }
    // Initials: "m" for "minho".
    if a.len() == 1 || b.len() == 1 {
        return if a.as_bytes()[0] == b.as_bytes()[0] {
            0.8
        } else {
            0.0
        };
    }
    if sa == sb {
        return 0.95;
    }
    let edit = |x: &str, y: &str, mx: u32, my: u32| -> f32 {
        let len = x.len().max(y.len());
        // Up to one edit in 4 characters, two from 8: more is a different name.
        let max = (len / 4).max(1);
        // One edit changes at most two letters of the letter set: a cheap refusal first.
        if (mx ^ my).count_ones() as usize > 2 * max {
            return 0.0;
        }
        let d = osa_distance(x.as_bytes(), y.as_bytes(), max);
        if d > max {
            0.0
        } else {
            1.0 - d as f32 / len as f32
        }
    };
    edit(a, b, ma.0, mb.0).max(edit(sa, sb, ma.1, mb.1) * 0.97)
}

/// Similarity of two names in 0..=1 (1 = the same tokens). A name split differently
/// (`Min-ho`, `Min Ho`, `Minho`) is compared with adjacent tokens of the longer name joined.
pub fn similarity(x: &PreparedName, y: &PreparedName) -> f32 {
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let (short, long) = if x.tokens.len() <= y.tokens.len() {
        (x, y)
    } else {
        (y, x)
    };
    let mut best = paired(short, long);
    if long.tokens.len() > short.tokens.len() && long.tokens.len() <= 6 && best < 1.0 {
        for i in 0..long.tokens.len() - 1 {
            // Only worth scoring when the joined token could pair with a token of the other
            // name: same first letter, about the same length.
            let len = long.tokens[i].len() + long.tokens[i + 1].len();
            let first = long.tokens[i].as_bytes()[0];
            if !short
                .tokens
                .iter()
                .any(|t| t.as_bytes()[0] == first && t.len().abs_diff(len) <= (len / 4).max(1))
            {
                continue;
            }
            let mut joined = long.clone();
            let next = joined.tokens.remove(i + 1);
            joined.tokens[i].push_str(&next);
            joined.skeletons.remove(i + 1);
            joined.skeletons[i] = skeleton(&joined.tokens[i]);
            joined.masks.remove(i + 1);
            joined.masks[i] = (
                char_mask(&joined.tokens[i]),
                char_mask(&joined.skeletons[i]),
            );
            let w = joined.weights.remove(i + 1);
            joined.weights[i] = joined.weights[i].max(w);
            best = best.max(paired(short, &joined));
        }
    }
    best
}

/// Token-pairing score of a name against one with at least as many tokens.
fn paired(short: &PreparedName, long: &PreparedName) -> f32 {
    if short.tokens.len() > long.tokens.len() {
        return paired(long, short);
    }
    let mut used = [false; 16];
    let mut matched_short = 0.0f32;
    let mut matched_long = 0.0f32;
    for (i, t) in short.tokens.iter().enumerate().take(16) {
        let mut best = (0.0f32, usize::MAX);
        for (j, u) in long.tokens.iter().enumerate().take(16) {
            if used[j] {
                continue;
            }
            let s = token_similarity(
                t,
                &short.skeletons[i],
                short.masks[i],
                u,
                &long.skeletons[j],
                long.masks[j],
            );
            if s > best.0 {
                best = (s, j);
            }
        }
        if best.1 != usize::MAX {
            used[best.1] = true;
            matched_short += best.0 * short.weights[i];
            matched_long += best.0 * long.weights[best.1];
        }
    }
    let total_short: f32 = short.weights.iter().take(16).sum();
    let total_long: f32 = long.weights.iter().take(16).sum();
    if total_short <= 0.0 || total_long <= 0.0 {
        return 0.0;
    }
    // Both sides must be explained: a missing middle name costs less than a missing surname.
    0.6 * (matched_short / total_short) + 0.4 * (matched_long / total_long)
}

/// Longer tokens carry more identity; initials little.
fn length_weight(token: &str) -> f32 {
    (token.len().min(8) as f32).max(1.0)
}

/// Blocking keys of a token, as hashes: the skeleton itself and, for skeletons of 5 or more
/// letters, every skeleton with one letter deleted (so one typing error still meets its twin).
/// Hashed as they are formed (FNV-1a), with no string built.
pub fn blocking_keys(skeleton: &str, out: &mut Vec<u64>) {
    let b = skeleton.as_bytes();
    if b.len() < 2 {
        return;
    }
    out.push(fnv(FNV_OFFSET, b));
    if b.len() >= 5 {
        for i in 0..b.len() {
            out.push(fnv(fnv(FNV_OFFSET, &b[..i]), &b[i + 1..]));
        }
    }
}

const FNV_OFFSET: u64 = 0xcbf29ce484222325;

/// FNV-1a over `bytes`, continuing from `h`. Keys are short; a collision only adds candidates,
/// which are then scored.
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &x in bytes {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(a: &str, b: &str) -> f32 {
        similarity(&PreparedName::new(a), &PreparedName::new(b))
    }

    #[test]
    fn distance() {
        assert_eq!(osa_distance(b"nguyen", b"nguyen", 2), 0);
        assert_eq!(osa_distance(b"nguyen", b"ngyuen", 2), 1, "transposition");
        assert_eq!(osa_distance(b"hung", b"hugn", 2), 1);
        assert_eq!(osa_distance(b"kitten", b"sitting", 3), 3);
        assert_eq!(osa_distance(b"kitten", b"sitting", 1), 2, "bounded");
    }

    #[test]
    fn variants_score_high() {
        for (a, b) in [
            ("Nguyễn Văn Hùng", "NGUYEN VAN HUNG"),
            ("Nguyen Van Hung", "Hung Nguyen Van"),
            ("Nguyen Van Hung", "Nguyen Van Hugn"),
            ("Lee Min-ho", "Yi Minho"),
            ("Somchai Srisuk", "Somchay Srisook"),
            (
                "Golden Star Trading Co., Ltd.",
                "GOLDEN STAR TRADING COMPANY LIMITED",
            ),
        ] {
            let s = sim(a, b);
            assert!(s >= 0.85, "{a} ~ {b}: {s}");
        }
    }

    #[test]
    fn strangers_score_low() {
        for (a, b) in [
            ("Nguyen Van Hung", "Nguyen Thi Lan"),
            ("Lee Min-ho", "Park Ji-sung"),
            ("Golden Star Trading", "Silver Moon Logistics"),
            ("Somchai Srisuk", "Somsak Chaiyaphum"),
        ] {
            let s = sim(a, b);
            assert!(s < 0.85, "{a} !~ {b}: {s}");
        }
    }

    #[test]
    fn blocking_meets_typos() {
        let mut a = vec![];
        let mut b = vec![];
        blocking_keys(&skeleton("nguyen"), &mut a);
        blocking_keys(&skeleton("ngyuen"), &mut b);
        assert!(a.iter().any(|k| b.contains(k)));
    }
}
