#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Validate pairs.tsv and the flight files; print a summary table.

    python3 tools/check.py            # validate, print summary
    python3 tools/check.py --readme   # ... and write the summary into README.md

Exit status 1 if any check fails.  Standard library only.
"""
import collections
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import up, valid_date_field, dob_relation, clearly_different  # noqa: E402

ROOT = os.path.dirname(HERE)
HEADER = ['id', 'class', 'country', 'kind', 'label', 'alert_name', 'alert_dob',
          'manifest_name', 'manifest_dob', 'note']
POS = ['kr-surname-romanization', 'kr-given-romanization', 'kr-hangul', 'vn-diacritics-order',
       'th-romanization', 'kh-la-romanization', 'my-patronymic-abbrev', 'cn-my-order',
       'nl-de-particles-umlauts', 'fr-accents-hyphens', 'western-nicknames', 'dob-variants',
       'company-legal-forms', 'company-word-abbrev']
NEG = ['neg-same-dob-similar-name', 'neg-patronymic-swap', 'neg-namesake-different-dob',
       'neg-particles-other-family', 'neg-company-similar', 'neg-korean-similar',
       'neg-shared-given-different-surname']
COMPANY = {'company-legal-forms', 'company-word-abbrev', 'neg-company-similar'}
COUNTRIES = {'KR', 'VN', 'TH', 'MY', 'KH', 'LA', 'CN', 'US', 'CA', 'NL', 'DE', 'FR', 'SG'}
DOB_VARIANT_KINDS = {'swap', 'typo', 'offby1', 'year', 'yearmonth', 'missing'}
MIN_PER_CLASS = 60

errors = []


def err(msg):
    errors.append(msg)


def norm(s):
    return re.sub(r'[^A-Z0-9]', '', up(s))


def read_tsv(path):
    with open(path, encoding='utf-8', newline='') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    return [ln.split('\t') for ln in lines]


def check_pairs():
    rows = read_tsv(os.path.join(ROOT, 'pairs.tsv'))
    if rows[0] != HEADER:
        err(f'pairs.tsv header is {rows[0]}')
    data = rows[1:]
    ids, keys, unordered = set(), set(), set()
    cosmetic = collections.Counter()
    dob_kinds = collections.Counter()
    for n, r in enumerate(data, 2):
        if len(r) != len(HEADER):
            err(f'line {n}: {len(r)} columns')
            continue
        rid, cls, cc, kind, label, a, adob, m, mdob, note = r
        if not re.fullmatch(r'N\d{4}', rid):
            err(f'line {n}: bad id {rid}')
        if rid in ids:
            err(f'line {n}: duplicate id {rid}')
        ids.add(rid)
        if cls not in POS + NEG:
            err(f'line {n}: unknown class {cls}')
        want = 'nonmatch' if cls in NEG else 'match'
        if label not in ('match', 'nonmatch'):
            err(f'line {n}: bad label {label}')
        elif label != want:
            err(f'line {n}: label {label} inconsistent with class {cls}')
        if cc not in COUNTRIES:
            err(f'line {n}: bad country {cc}')
        if kind not in ('person', 'company') or (kind == 'company') != (cls in COMPANY):
            err(f'line {n}: bad kind {kind} for {cls}')
        if not a.strip() or not m.strip() or not note.strip():
            err(f'line {n}: empty name or note')
        if a != a.strip() or m != m.strip() or '  ' in a or '  ' in m:
            err(f'line {n}: stray whitespace')
        if not valid_date_field(adob, allow_partial=False):
            err(f'line {n}: bad alert_dob {adob!r}')
        if not valid_date_field(mdob, allow_partial=True):
            err(f'line {n}: bad manifest_dob {mdob!r}')
        if kind == 'company':
            if adob or mdob:
                err(f'line {n}: company row with DOB')
        else:
            if not adob:
                err(f'line {n}: person alert without DOB')
            rel = dob_relation(adob, mdob)
            if cls == 'dob-variants':
                if rel not in DOB_VARIANT_KINDS:
                    err(f'line {n}: dob-variants row with relation {rel}')
                dob_kinds[rel] += 1
            elif cls == 'neg-namesake-different-dob':
                if not clearly_different(adob, mdob):
                    err(f'line {n}: namesake DOB not clearly different ({rel})')
            elif rel != 'same':
                err(f'line {n}: {cls} must keep the DOB identical ({rel})')
        key = (a, adob, m, mdob)
        if key in keys:
            err(f'line {n}: duplicated pair')
        keys.add(key)
        ukey = (frozenset([(norm(a), adob), (norm(m), mdob)]))
        if ukey in unordered and cls != 'dob-variants':
            err(f'line {n}: pair duplicated up to case/punctuation/direction')
        unordered.add(ukey)
        if label == 'match' and cls != 'dob-variants' and norm(a) == norm(m):
            cosmetic[cls] += 1
        if label == 'match' and cls != 'dob-variants' and a == m:
            err(f'line {n}: positive with identical strings')
    return data, cosmetic, dob_kinds


def check_flight(prefix):
    rows = read_tsv(os.path.join(ROOT, f'{prefix}.tsv'))
    alert = read_tsv(os.path.join(ROOT, f'{prefix}-alert.tsv'))
    key = read_tsv(os.path.join(ROOT, f'{prefix}-key.tsv'))
    if rows[0] != ['seat', 'name', 'dob', 'nationality', 'document']:
        err(f'{prefix}: bad header')
    pax = rows[1:]
    if len(pax) != 300:
        err(f'{prefix}: {len(pax)} passengers, expected 300')
    seats, docs = set(), set()
    for r in pax:
        if len(r) != 5:
            err(f'{prefix}: bad row {r}')
            continue
        seat, name, dob, nat, doc = r
        if seat in seats:
            err(f'{prefix}: duplicate seat {seat}')
        if doc in docs:
            err(f'{prefix}: duplicate document {doc}')
        seats.add(seat)
        docs.add(doc)
        if not valid_date_field(dob, allow_partial=False) or not dob:
            err(f'{prefix}: bad dob {dob}')
        if not re.fullmatch(r'[A-Z]{3}', nat):
            err(f'{prefix}: bad nationality {nat}')
        if not re.fullmatch(r'[A-Z][A-Z \-\']*', name):
            err(f'{prefix}: unexpected characters in {name!r}')
    if alert[0] != ['name', 'dob', 'nationality', 'flight', 'date'] or len(alert) != 2:
        err(f'{prefix}-alert: bad format')
    if len(key) != 2:
        err(f'{prefix}-key: expected exactly one key row')
    else:
        k = key[1]
        hits = [r for r in pax if r[0] == k[2] and r[1] == k[3] and r[2] == k[4]]
        if len(hits) != 1:
            err(f'{prefix}-key: key passenger not found in manifest')
        if k[0] != alert[1][3] or k[1] != alert[1][4]:
            err(f'{prefix}-key: flight/date do not match the alert')
        same_dob = [r for r in pax if r[2] == alert[1][1]]
        if len(same_dob) != 1:
            err(f'{prefix}: {len(same_dob)} passengers carry the alerted DOB exactly')
    yr = alert[1][1][:4]
    return {'passengers': len(pax), 'nationalities': collections.Counter(r[3] for r in pax),
            'same_birth_year': sum(1 for r in pax if r[2][:4] == yr)}


def summary(data, cosmetic, dob_kinds, flights):
    by_cls = collections.Counter(r[1] for r in data)
    by_cls_label = collections.Counter((r[1], r[4]) for r in data)
    by_cls_cc = collections.defaultdict(collections.Counter)
    for r in data:
        by_cls_cc[r[1]][r[2]] += 1
    by_cc = collections.Counter(r[2] for r in data)
    by_label = collections.Counter(r[4] for r in data)
    out = []
    out.append(f'Total pairs: **{len(data)}** — match {by_label["match"]}, '
               f'nonmatch {by_label["nonmatch"]}; persons '
               f'{sum(1 for r in data if r[3] == "person")}, companies '
               f'{sum(1 for r in data if r[3] == "company")}.')
    out.append('')
    out.append('| class | match | nonmatch | total | countries |')
    out.append('| --- | ---: | ---: | ---: | --- |')
    for cls in POS + NEG:
        cc = ', '.join(f'{k} {v}' for k, v in sorted(by_cls_cc[cls].items()))
        out.append(f'| {cls} | {by_cls_label[(cls, "match")]} | {by_cls_label[(cls, "nonmatch")]} '
                   f'| {by_cls[cls]} | {cc} |')
    out.append('')
    out.append('| country | pairs | match | nonmatch |')
    out.append('| --- | ---: | ---: | ---: |')
    for cc in sorted(by_cc):
        mm = sum(1 for r in data if r[2] == cc and r[4] == 'match')
        out.append(f'| {cc} | {by_cc[cc]} | {mm} | {by_cc[cc] - mm} |')
    out.append('')
    out.append('DOB-variant kinds in `dob-variants`: ' +
               ', '.join(f'{k} {v}' for k, v in sorted(dob_kinds.items())) + '.')
    out.append('')
    out.append('Positives whose two names differ only in case, diacritics, spaces or punctuation '
               '(e.g. `Van Der Berg` / `VANDERBERG`): ' +
               (', '.join(f'{k} {v}' for k, v in sorted(cosmetic.items())) or 'none') + '.')
    out.append('')
    for prefix, info in flights.items():
        nat = ', '.join(f'{k} {v}' for k, v in info['nationalities'].most_common())
        out.append(f'`{prefix}.tsv`: {info["passengers"]} passengers ({nat}); '
                   f'{info["same_birth_year"]} share the alerted birth year.')
    out.append('')
    small = [c for c in POS + NEG if by_cls[c] < MIN_PER_CLASS]
    if small:
        err(f'classes below {MIN_PER_CLASS}: {small}')
    return '\n'.join(out)


def main():
    data, cosmetic, dob_kinds = check_pairs()
    flights = {p: check_flight(p) for p in ('flight', 'flight2')}
    text = summary(data, cosmetic, dob_kinds, flights)
    print(text)
    if '--readme' in sys.argv:
        path = os.path.join(ROOT, 'README.md')
        with open(path, encoding='utf-8') as f:
            readme = f.read()
        begin, end = '<!-- SUMMARY:BEGIN -->', '<!-- SUMMARY:END -->'
        i, j = readme.index(begin) + len(begin), readme.index(end)
        readme = readme[:i] + '\n' + text + '\n' + readme[j:]
        with open(path, 'w', encoding='utf-8') as f:
            f.write(readme)
    if errors:
        print(f'\n{len(errors)} problem(s):')
        for e in errors[:50]:
            print('  ' + e)
        sys.exit(1)
    print('all checks passed')


if __name__ == '__main__':
    main()
