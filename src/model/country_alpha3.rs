//! ISO 3166-1 alpha-3 country codes, for the lists and messages that carry them (PAXLST
//! nationality and issuing state, carriers' manifests): `KOR`, `THA`, `VNM`.
//!
//! Source: ISO 3166-1:2020, the officially assigned codes as published on ISO's Online
//! Browsing Platform (the same 249 countries as [`ISO_3166_ALPHA2`], in the same order), which
//! ICAO Doc 9303 part 3 and the WCO/IATA/ICAO API-PNR guidelines use for nationality and
//! issuing state. ICAO Doc 9303 adds one one-letter code used in place of an alpha-3 code,
//! `D` for Germany, accepted here too. Its other codes (`XXA` stateless, `XXB` refugee, `UNO`
//! United Nations, `GBD` and the other British nationality codes, `EUE`) name no ISO 3166-1
//! country and are refused, as are withdrawn codes.

use super::ids::ISO_3166_ALPHA2;
use super::{compact_upper, CountryCode, InvalidValue};

/// The alpha-3 code of each country, in the order of [`ISO_3166_ALPHA2`] (alphabetical by
/// alpha-2 code): `ISO_3166_ALPHA3[i]` is the alpha-3 code of `ISO_3166_ALPHA2[i]`.
pub const ISO_3166_ALPHA3: [&str; 249] = [
    "AND", "ARE", "AFG", "ATG", "AIA", "ALB", "ARM", "AGO", "ATA", "ARG", "ASM", "AUT", "AUS",
    "ABW", "ALA", "AZE", "BIH", "BRB", "BGD", "BEL", "BFA", "BGR", "BHR", "BDI", "BEN", "BLM",
    "BMU", "BRN", "BOL", "BES", "BRA", "BHS", "BTN", "BVT", "BWA", "BLR", "BLZ", "CAN", "CCK",
    "COD", "CAF", "COG", "CHE", "CIV", "COK", "CHL", "CMR", "CHN", "COL", "CRI", "CUB", "CPV",
    "CUW", "CXR", "CYP", "CZE", "DEU", "DJI", "DNK", "DMA", "DOM", "DZA", "ECU", "EST", "EGY",
    "ESH", "ERI", "ESP", "ETH", "FIN", "FJI", "FLK", "FSM", "FRO", "FRA", "GAB", "GBR", "GRD",
    "GEO", "GUF", "GGY", "GHA", "GIB", "GRL", "GMB", "GIN", "GLP", "GNQ", "GRC", "SGS", "GTM",
    "GUM", "GNB", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IRL", "ISR", "IMN",
    "IND", "IOT", "IRQ", "IRN", "ISL", "ITA", "JEY", "JAM", "JOR", "JPN", "KEN", "KGZ", "KHM",
    "KIR", "COM", "KNA", "PRK", "KOR", "KWT", "CYM", "KAZ", "LAO", "LBN", "LCA", "LIE", "LKA",
    "LBR", "LSO", "LTU", "LUX", "LVA", "LBY", "MAR", "MCO", "MDA", "MNE", "MAF", "MDG", "MHL",
    "MKD", "MLI", "MMR", "MNG", "MAC", "MNP", "MTQ", "MRT", "MSR", "MLT", "MUS", "MDV", "MWI",
    "MEX", "MYS", "MOZ", "NAM", "NCL", "NER", "NFK", "NGA", "NIC", "NLD", "NOR", "NPL", "NRU",
    "NIU", "NZL", "OMN", "PAN", "PER", "PYF", "PNG", "PHL", "PAK", "POL", "SPM", "PCN", "PRI",
    "PSE", "PRT", "PLW", "PRY", "QAT", "REU", "ROU", "SRB", "RUS", "RWA", "SAU", "SLB", "SYC",
    "SDN", "SWE", "SGP", "SHN", "SVN", "SJM", "SVK", "SLE", "SMR", "SEN", "SOM", "SUR", "SSD",
    "STP", "SLV", "SXM", "SYR", "SWZ", "TCA", "TCD", "ATF", "TGO", "THA", "TJK", "TKL", "TLS",
    "TKM", "TUN", "TON", "TUR", "TTO", "TUV", "TWN", "TZA", "UKR", "UGA", "UMI", "USA", "URY",
    "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "MYT", "ZAF",
    "ZMB", "ZWE",
];

/// Index into [`ISO_3166_ALPHA2`] of an alpha-3 code, by binary search over a sorted copy
/// built once.
fn alpha3_index(code: &str) -> Option<usize> {
    static SORTED: std::sync::OnceLock<Vec<(&'static str, usize)>> = std::sync::OnceLock::new();
    let sorted = SORTED.get_or_init(|| {
        let mut v: Vec<(&'static str, usize)> = ISO_3166_ALPHA3
            .iter()
            .enumerate()
            .map(|(i, a)| (*a, i))
            .collect();
        v.sort_unstable();
        v
    });
    sorted
        .binary_search_by(|(a, _)| (*a).cmp(code))
        .ok()
        .map(|i| sorted[i].1)
}

impl CountryCode {
    /// Parses an ISO 3166-1 alpha-2 (`KR`) or alpha-3 (`KOR`) code, or ICAO Doc 9303's `D`
    /// for Germany; case and surrounding spaces are ignored.
    ///
    /// # Errors
    /// Not two or three letters, or not an assigned ISO 3166-1 code (the error says which).
    pub fn parse_alpha2_or_3(raw: &str) -> Result<Self, InvalidValue> {
        let t = raw.trim();
        if t.len() == 2 {
            return Self::parse(t);
        }
        let v = compact_upper(t);
        let bad = |rule: &str| {
            InvalidValue::new(raw, "an ISO 3166-1 alpha-2 or alpha-3 country code", rule)
        };
        if v == "D" {
            return Self::parse("DE");
        }
        if v.len() != 3 || !v.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad("must be two or three letters"));
        }
        match alpha3_index(&v) {
            Some(i) => Self::parse(ISO_3166_ALPHA2[i]),
            None => Err(bad(match v.as_str() {
                "XXA" | "XXB" | "XXC" | "XXX" | "UNO" | "UNA" | "UNK" | "EUE" | "XOM" | "XPO"
                | "XCC" | "XES" | "XMP" | "GBD" | "GBN" | "GBO" | "GBP" | "GBS" | "RKS" => {
                    "an ICAO Doc 9303 code that names no ISO 3166-1 country"
                }
                _ => "not an assigned ISO 3166-1 alpha-3 code",
            })),
        }
    }

    /// The alpha-3 code of this country (`KR` → `KOR`).
    pub fn alpha3(&self) -> &'static str {
        ISO_3166_ALPHA2
            .binary_search(&self.as_str())
            .map_or("???", |i| ISO_3166_ALPHA3[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_whole_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in ISO_3166_ALPHA3 {
            assert!(
                a.len() == 3 && a.bytes().all(|b| b.is_ascii_uppercase()),
                "{a}"
            );
            assert!(seen.insert(a), "{a} twice");
        }
        // Every alpha-3 code maps back to its own alpha-2 code.
        for (i, a) in ISO_3166_ALPHA3.iter().enumerate() {
            let c = CountryCode::parse_alpha2_or_3(a).unwrap();
            assert_eq!(c.as_str(), ISO_3166_ALPHA2[i]);
            assert_eq!(c.alpha3(), *a);
        }
    }

    #[test]
    fn partner_countries_and_icao_codes() {
        for (a3, a2) in [
            ("KOR", "KR"),
            ("THA", "TH"),
            ("VNM", "VN"),
            ("MYS", "MY"),
            ("USA", "US"),
            ("NLD", "NL"),
            ("KHM", "KH"),
            ("LAO", "LA"),
            ("CAN", "CA"),
            ("DEU", "DE"),
            ("FRA", "FR"),
            ("GBR", "GB"),
            ("ECU", "EC"),
            ("COL", "CO"),
            ("CHN", "CN"),
            ("JPN", "JP"),
            ("PRK", "KP"),
            ("AUT", "AT"),
            ("AUS", "AU"),
            ("SGS", "GS"),
            ("ATF", "TF"),
            ("MYT", "YT"),
            ("SRB", "RS"),
            ("ROU", "RO"),
            ("TLS", "TL"),
            ("SSD", "SS"),
            ("kor", "KR"),
            (" tha ", "TH"),
            ("KR", "KR"),
            ("th", "TH"),
            ("D", "DE"),
        ] {
            assert_eq!(
                CountryCode::parse_alpha2_or_3(a3).unwrap().as_str(),
                a2,
                "{a3}"
            );
        }
        let e = CountryCode::parse_alpha2_or_3("XXA").unwrap_err();
        assert!(e.to_string().contains("names no ISO 3166-1 country"), "{e}");
        let e = CountryCode::parse_alpha2_or_3("KOE").unwrap_err();
        assert!(e.to_string().contains("not an assigned"), "{e}");
        for bad in ["", "K", "KORE", "K0R", "XX", "ANT"] {
            assert!(CountryCode::parse_alpha2_or_3(bad).is_err(), "{bad}");
        }
    }
}
