# -*- coding: utf-8 -*-
"""Shared helpers: transliteration of Latin diacritics and date-of-birth relations.
Standard library only."""
import datetime
import re
import unicodedata

_SPECIAL = (('Đ', 'D'), ('đ', 'd'), ('ß', 'ss'), ('ẞ', 'SS'), ('Œ', 'OE'), ('œ', 'oe'),
            ('Æ', 'AE'), ('æ', 'ae'), ('Ø', 'O'), ('ø', 'o'))


def strip_marks(s):
    """Drop diacritics the way most carrier systems do (é->e, ü->u, Đ->D, ß->ss)."""
    for a, b in _SPECIAL:
        s = s.replace(a, b)
    return ''.join(ch for ch in unicodedata.normalize('NFD', s)
                   if unicodedata.category(ch) != 'Mn')


def up(s):
    return strip_marks(s).upper()


def de_icao(s):
    """German umlauts per ICAO Doc 9303 Part 3 sec. 6 preferred form (Ä->AE ...)."""
    for a, b in (('Ä', 'AE'), ('Ö', 'OE'), ('Ü', 'UE'), ('ä', 'ae'), ('ö', 'oe'), ('ü', 'ue')):
        s = s.replace(a, b)
    return strip_marks(s)


DATE_RE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})$')


def parse_full(s):
    m = DATE_RE.match(s)
    if not m:
        return None
    y, mo, d = map(int, m.groups())
    try:
        return datetime.date(y, mo, d)
    except ValueError:
        return None


def valid_date_field(s, allow_partial):
    """'' | YYYY-MM-DD | (if allow_partial) YYYY-00-00 or YYYY-MM-00."""
    if s == '':
        return True
    m = DATE_RE.match(s)
    if not m:
        return False
    y, mo, d = map(int, m.groups())
    if parse_full(s):
        return True
    if not allow_partial:
        return False
    if mo == 0 and d == 0:
        return 1900 <= y <= 2030
    if d == 0 and 1 <= mo <= 12:
        return 1900 <= y <= 2030
    return False


def hamming(a, b):
    return sum(1 for x, y in zip(a, b) if x != y)


def dob_relation(alert, manifest):
    """Classify how the manifest DOB relates to the alert DOB.

    Returns one of: same, missing, year, yearmonth, swap, offby1, typo,
    transposition, year-differs, yearmonth-differs, different."""
    if manifest == '':
        return 'missing'
    if alert == manifest:
        return 'same'
    a = parse_full(alert)
    if manifest.endswith('-00-00'):
        return 'year' if manifest[:4] == alert[:4] else 'year-differs'
    if manifest.endswith('-00'):
        return 'yearmonth' if manifest[:7] == alert[:7] else 'yearmonth-differs'
    b = parse_full(manifest)
    if a is None or b is None:
        return 'invalid'
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return 'swap'
    if abs(a.toordinal() - b.toordinal()) == 1:
        return 'offby1'
    da, db = alert.replace('-', ''), manifest.replace('-', '')
    if hamming(da, db) == 1:
        return 'typo'
    diff = [i for i in range(8) if da[i] != db[i]]
    if len(diff) == 2 and diff[1] == diff[0] + 1 and da[diff[0]] == db[diff[1]] \
            and da[diff[1]] == db[diff[0]]:
        return 'transposition'
    return 'different'


def clearly_different(alert, manifest):
    """True when the manifest DOB cannot be explained as one of the accepted
    DOB-variant kinds (used for namesake negatives)."""
    rel = dob_relation(alert, manifest)
    if rel == 'year-differs':
        y1, y2 = alert[:4], manifest[:4]
        return abs(int(y1) - int(y2)) >= 3 and hamming(y1, y2) >= 2
    if rel != 'different':
        return False
    a, b = parse_full(alert), parse_full(manifest)
    da, db = alert.replace('-', ''), manifest.replace('-', '')
    if a.year != b.year:
        return abs(a.year - b.year) >= 3 and hamming(da, db) >= 3
    return a.month != b.month and a.day != b.day and abs(a.toordinal() - b.toordinal()) > 31
