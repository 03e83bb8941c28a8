//! Text folding for matching: what officers and manifests write differently about one name.
//!
//! Names reach a desk typed by different people in different scripts and keyboards:
//! `Nguyễn Văn Hùng`, `NGUYEN VAN HUNG`, `Hung Nguyen Van`, `Nguyen Van Hugn`; `이민호`,
//! `Lee Min-ho`, `Yi Minho`; `Somchai`, `Somchay`. Folding turns each into comparable ASCII
//! tokens; screening then scores token lists.

/// Transliterates to ASCII (any script, via `deunicode`), lower-cases, and splits into tokens
/// of `[a-z0-9]`. Everything else separates tokens. Appends to `out`.
pub fn tokens_into(text: &str, out: &mut Vec<String>) {
    if text.is_ascii() {
        split_ascii(text, out);
    } else {
        split_ascii(&deunicode::deunicode(text), out);
    }
}

/// [`tokens_into`] into a new vector.
pub fn tokens(text: &str) -> Vec<String> {
    let mut v = Vec::new();
    tokens_into(text, &mut v);
    v
}

fn split_ascii(text: &str, out: &mut Vec<String>) {
    for t in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if !t.is_empty() {
            out.push(t.to_ascii_lowercase());
        }
    }
}

/// Whether `word` (already folded) appears as a whole token of `text`'s tokens.
pub fn contains_token(tokens: &[String], word: &str) -> bool {
    tokens.iter().any(|t| t == word)
}

/// Romanisations of one name that are in common use, mapped to one spelling. Korean surnames
/// have several official and customary romanisations (Revised Romanization, McCune-Reischauer,
/// passport habits); a desk must treat them as the same name.
const VARIANTS: &[(&str, &[&str])] = &[
    ("lee", &["yi", "rhee", "ri", "rhie", "lie"]),
    ("park", &["pak", "bak", "bahk", "pack"]),
    ("choi", &["choe", "chey", "chwe"]),
    ("jung", &["jeong", "chung", "joung", "cheong", "jong"]),
    ("kim", &["gim", "ghim"]),
    ("kang", &["gang"]),
    ("cho", &["jo", "joe"]),
    ("yoon", &["yun", "youn"]),
    ("shin", &["sin", "shinn"]),
    ("lim", &["im", "rim", "yim"]),
    ("han", &["hahn"]),
    ("seo", &["suh", "seoh"]),
    ("kwon", &["gwon"]),
    ("hwang", &["whang"]),
    ("song", &["soung"]),
    ("ryu", &["yoo", "yu", "ryoo", "rhyu"]),
    ("moon", &["mun"]),
    ("nguyen", &["nguyn", "ngyuen"]),
    ("tran", &["chan"]),
    (
        "mohammad",
        &["mohammed", "muhammad", "muhammed", "mohamed", "mohamad"],
    ),
];

/// The canonical spelling of a known romanisation variant, else the token itself.
pub fn canonical(token: &str) -> &str {
    for (canon, vars) in VARIANTS {
        if token == *canon || vars.contains(&token) {
            return canon;
        }
    }
    token
}

/// A phonetic skeleton that erases transliteration habits that do not change how a name
/// sounds: `h` after a consonant (`ph`, `th`, `kh`), doubled letters, `oo`/`ou` → `u`,
/// `ee` → `i`, `y` → `i`, `w` after a vowel dropped. `Somchay` and `Somchai` share `somcai`.
pub fn skeleton(token: &str) -> String {
    let b = token.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    let vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u');
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let mapped = match (c, next) {
            (b'o', Some(b'o')) | (b'o', Some(b'u')) => {
                i += 1;
                b'u'
            }
            (b'e', Some(b'e')) => {
                i += 1;
                b'i'
            }
            (b'y', _) => b'i',
            (b'h', _) if out.last().is_some_and(|&p| !vowel(p)) => {
                i += 1;
                continue;
            }
            (b'w', _) if out.last().is_some_and(|&p| vowel(p)) => {
                i += 1;
                continue;
            }
            _ => c,
        };
        if out.last() != Some(&mapped) {
            out.push(mapped);
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Legal-form and filler words of company names, ignored when comparing names: "ABC Trading
/// Co., Ltd." and "ABC Trading Company Limited" are one company.
const COMPANY_NOISE: &[&str] = &[
    "co",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "company",
    "llc",
    "sdn",
    "bhd",
    "pte",
    "gmbh",
    "bv",
    "plc",
    "jsc",
    "tnhh",
    "cty",
    "cong",
    "ty",
    "pt",
    "sa",
    "ag",
    "nv",
    "the",
    "and",
    "of",
    "mbh",
    "kg",
    "srl",
    "lp",
];

/// Whether a token carries no identifying value in a company name.
pub fn is_noise(token: &str) -> bool {
    COMPANY_NOISE.contains(&token)
}

/// Folded, canonical, noise-free name tokens.
pub fn name_tokens(text: &str) -> Vec<String> {
    let mut raw = Vec::new();
    tokens_into(text, &mut raw);
    raw.into_iter()
        .filter(|t| !is_noise(t))
        .map(|t| canonical(&t).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(tokens("Nguyễn Văn Hùng"), ["nguyen", "van", "hung"]);
        assert_eq!(tokens("ĐẶNG Thị-Ánh"), ["dang", "thi", "anh"]);
        assert_eq!(
            tokens("Müller GmbH & Co. KG"),
            ["muller", "gmbh", "co", "kg"]
        );
        assert_eq!(tokens("이민호"), ["iminho"], "Hangul is romanised");
        assert_eq!(name_tokens("Rhee Min-ho"), ["lee", "min", "ho"]);
        assert_eq!(name_tokens("ABC Trading Co., Ltd."), ["abc", "trading"]);
    }

    #[test]
    fn skeletons() {
        assert_eq!(skeleton("somchay"), skeleton("somchai"));
        assert_eq!(skeleton("phuong"), "puong");
        assert_eq!(skeleton("srisook"), skeleton("srisuk"));
        assert_eq!(skeleton("thanh"), "tan");
        assert_ne!(skeleton("park"), skeleton("pork"));
    }
}
