#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Build two simulated Korea-bound passenger manifests with one alerted
traveller each:

    ../flight.tsv  ../flight-alert.tsv  ../flight-key.tsv    (VN416 HAN-ICN)
    ../flight2.tsv ../flight2-alert.tsv ../flight2-key.tsv   (KE652 BKK-ICN)

Names are drawn from the hand-encoded tables in namedata.py; the alerted
traveller, his namesakes and the other deliberate distractors are written out
explicitly below.  Deterministic (fixed seed), standard library only.
"""
import datetime
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import namedata as N  # noqa: E402
from common import up, dob_relation  # noqa: E402
from build_pairs import (kr_sur_variants, kr_sur_usual, kr_giv_variants, kr_norm,  # noqa: E402
                         KR_SUR, KR_GIV, pinyin_join)

SEED = 20251107
ROOT = os.path.dirname(HERE)
NEAR = {'same', 'swap', 'offby1', 'typo', 'transposition'}

PH_SUR = ['Santos', 'Reyes', 'Cruz', 'Bautista', 'Ocampo', 'Garcia', 'Mendoza', 'Torres',
          'Villanueva', 'Ramos', 'Aquino', 'Castillo', 'Dela Cruz', 'Navarro']
PH_GIV = ['Maria Cristina', 'Jose', 'Mark Anthony', 'John Paul', 'Jennifer', 'Rowena',
          'Ricardo', 'Jocelyn', 'Marites', 'Ramon', 'Angelica', 'Rodel']
JP_SUR = ['Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Watanabe', 'Ito', 'Yamamoto',
          'Nakamura', 'Kobayashi', 'Kato']
JP_GIV = ['Hiroshi', 'Takeshi', 'Yuki', 'Haruto', 'Sakura', 'Yui', 'Kenji', 'Akiko',
          'Daisuke', 'Naoko']
EN_GIV = sorted({f for _, f in N.EN_NICK} | {'John', 'Mary', 'Emily', 'Sarah', 'Laura'})


def rand_dob(rng, today):
    r = rng.random()
    if r < 0.01:
        lo, hi = today - datetime.timedelta(days=700), today - datetime.timedelta(days=30)
    elif r < 0.09:
        lo, hi = datetime.date(2009, 1, 1), datetime.date(2022, 12, 31)
    else:
        lo, hi = datetime.date(1948, 1, 1), datetime.date(2006, 12, 31)
    return datetime.date.fromordinal(rng.randint(lo.toordinal(), hi.toordinal())).isoformat()


def doc_number(rng, nat, used):
    while True:
        d = lambda n: ''.join(rng.choice('0123456789') for _ in range(n))  # noqa: E731
        L = lambda n: ''.join(rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ') for _ in range(n))  # noqa: E731
        doc = {
            'VNM': lambda: rng.choice('BCNP') + d(7),
            'KOR': lambda: ('M' + d(8)) if rng.random() < 0.5 else ('M' + d(3) + L(1) + d(4)),
            'USA': lambda: rng.choice('56') + d(8),
            'CHN': lambda: ('E' + d(8)) if rng.random() < 0.5 else ('E' + L(1) + d(7)),
            'THA': lambda: 'A' + L(1) + d(7),
            'MYS': lambda: 'A' + d(8),
            'PHL': lambda: 'P' + d(7) + L(1),
            'JPN': lambda: 'T' + L(1) + d(7),
            'AUS': lambda: 'P' + L(1) + d(7),
            'FRA': lambda: d(2) + L(2) + d(5),
            'DEU': lambda: 'C' + ''.join(rng.choice('0123456789CFGHJKLMNPRTVWXYZ') for _ in range(8)),
            'CAN': lambda: L(2) + d(6),
            'LAO': lambda: 'P' + d(7),
        }[nat]()
        if doc not in used:
            used.add(doc)
            return doc


def name_for(rng, nat):
    """Manifest-style name: mostly SURNAME GIVEN as taken from the passport."""
    if nat == 'VNM':
        fem = rng.random() < 0.5
        fams = list(N.VN_FAMILY_WEIGHT)
        fam = rng.choices(fams, [N.VN_FAMILY_WEIGHT[f] for f in fams])[0]
        mid = rng.choice(N.VN_MIDDLE_F if fem else N.VN_MIDDLE_M)
        giv = rng.choice(N.VN_GIVEN_F if fem else N.VN_GIVEN_M)
        if giv in mid.split():
            return name_for(rng, nat)
        if rng.random() < 0.1:
            return f'{up(mid)} {up(giv)} {up(fam)}'
        return f'{up(fam)} {up(mid)} {up(giv)}'
    if nat == 'KOR':
        pool = [s for s in N.KR_SURNAMES if len(s[0]) == 1]
        s = rng.choices(pool, [N.KR_SURNAME_WEIGHT.get(x[0], 0.15) for x in pool])[0]
        sur = kr_sur_usual(s) if rng.random() < 0.9 else rng.choice(kr_sur_variants(s))
        g = rng.choice(N.KR_GIVEN)
        giv = rng.choice(g[3] or [g[1]])
        r = rng.random()
        giv = giv.replace('-', '').replace(' ', '') if r < 0.7 else (giv.replace('-', ' ') if r < 0.9 else giv)
        if rng.random() < 0.06:
            return f'{giv.upper()} {sur.upper()}'
        return f'{sur.upper()} {giv.upper()}'
    if nat in ('USA', 'AUS', 'CAN'):
        sur = rng.choice(N.US_SURNAMES if nat != 'CAN' else N.CA_EN_SURNAMES)
        return f'{up(sur)} {up(rng.choice(EN_GIV))}'
    if nat == 'CHN':
        sur = rng.choice(N.CN_SURNAMES)
        if rng.random() < 0.3:
            return f'{sur.upper()} {rng.choice(N.CN_GIVEN1).upper()}'
        g1, g2 = rng.choice(N.CN_GIVEN2)
        return f'{sur.upper()} {(g1 + g2).upper()}'
    if nat == 'THA':
        f, s = rng.choice(N.TH_FIRST), rng.choice(N.TH_SURNAMES)
        return f'{up(rng.choice(s[1:]))} {up(rng.choice(f[1:]))}'
    if nat == 'MYS':
        if rng.random() < 0.5:
            fem = rng.random() < 0.4
            own = rng.choice(N.MY_F_GIVEN if fem else N.MY_M_GIVEN)
            toks = own + ['@BINTI' if fem else '@BIN'] + rng.choice(N.MY_FATHER)
            out = []
            for t in toks:
                out.append(rng.choice(N.MY_GROUPS[t[1:]]['full'] + N.MY_GROUPS[t[1:]]['abbr'][:1])
                           if t.startswith('@') else t)
            return up(' '.join(out)).replace('.', '')
        return f'{rng.choice(N.MYC_SURNAMES).upper()} {rng.choice(N.MYC_GIVEN_M + N.MYC_GIVEN_F).upper()}'
    if nat == 'PHL':
        return f'{up(rng.choice(PH_SUR))} {up(rng.choice(PH_GIV))}'
    if nat == 'JPN':
        return f'{rng.choice(JP_SUR).upper()} {rng.choice(JP_GIV).upper()}'
    if nat == 'FRA':
        return f'{up(rng.choice(N.FR_COMMON_SURNAMES))} {up(rng.choice(N.FR_GIVEN)).replace("-", " ")}'
    if nat == 'DEU':
        return f'{up(rng.choice(N.DE_COMMON_SURNAMES))} {up(rng.choice(N.DE_GIVEN)).replace("-", " ")}'
    if nat == 'LAO':
        s, g = rng.choice(N.LA_SURNAMES), rng.choice(N.LA_GIVEN)
        return f'{s[0].upper()} {g[0].upper()}'
    raise ValueError(nat)


def seats(rng, business_rows, business_letters, eco_rows, eco_letters, n):
    all_seats = [f'{r}{c}' for r in business_rows for c in business_letters] + \
                [f'{r}{c}' for r in eco_rows for c in eco_letters]
    assert len(all_seats) >= n
    empty = set(rng.sample(all_seats[len(business_rows) * len(business_letters):], len(all_seats) - n))
    return [s for s in all_seats if s not in empty]


def write(path, header, rows):
    with open(path, 'w', encoding='utf-8', newline='') as f:
        f.write('\t'.join(header) + '\n')
        for r in rows:
            assert all('\t' not in x for x in r)
            f.write('\t'.join(r) + '\n')


def build(flight, date, seat_list, mix, fixed, is_suspicious, alert, key_note, prefix, rng):
    today = datetime.date.fromisoformat(date)
    used_docs = set()
    pax = []
    for name, dob, nat, role in fixed:
        pax.append([name, dob, nat, doc_number(rng, nat, used_docs), role])
    nats = []
    for nat, k in mix:
        nats += [nat] * k
    assert len(nats) + len(fixed) == len(seat_list), (len(nats), len(fixed), len(seat_list))
    for nat in nats:
        while True:
            name, dob = name_for(rng, nat), rand_dob(rng, today)
            if dob_relation(alert[1], dob) in NEAR or is_suspicious(name):
                continue
            if any(p[0] == name for p in pax):
                continue
            pax.append([name, dob, nat, doc_number(rng, nat, used_docs), ''])
            break
    rng.shuffle(pax)
    # business class first rows get a slightly older, mixed crowd: just assign in order
    rows, key = [], None
    for seat, p in zip(seat_list, pax):
        rows.append([seat, p[0], p[1], p[2], p[3]])
        if p[4] == 'TARGET':
            key = [flight, date, seat, p[0], p[1], p[2], p[3], key_note]
    assert key and sum(1 for p in pax if p[4] == 'TARGET') == 1
    write(os.path.join(ROOT, f'{prefix}.tsv'), ['seat', 'name', 'dob', 'nationality', 'document'], rows)
    write(os.path.join(ROOT, f'{prefix}-alert.tsv'), ['name', 'dob', 'nationality', 'flight', 'date'],
          [list(alert)])
    write(os.path.join(ROOT, f'{prefix}-key.tsv'),
          ['flight', 'date', 'seat', 'manifest_name', 'dob', 'nationality', 'document', 'note'], [key])
    return rows, key


def flight1():
    rng = random.Random(f'{SEED}:VN416')
    alert = ('Nguyễn Đức Thắng', '1988-04-17', 'VNM', 'VN416', '2025-11-14')
    fixed = [
        ('DUC THANG NGUYEN', '1988-04-17', 'VNM', 'TARGET'),   # the alerted traveller
        ('NGUYEN DUC THANG', '1962-10-05', 'VNM', 'namesake, 26 years older'),
        ('THANG NGUYEN', '1999-07-21', 'VNM', 'namesake-like (middle dropped), different DOB'),
        ('NGUYEN DUC THANH', '1988-09-23', 'VNM', 'one letter off, same birth year'),
        ('NGUYEN VAN THANG', '1979-02-05', 'VNM', 'same surname and given name, other middle'),
        ('TRAN DUC THANG', '1991-12-01', 'VNM', 'same middle and given name, other surname'),
        ('LE DUC THANG', '1984-08-26', 'VNM', 'same middle and given name, other surname'),
        ('PHAM THANG', '1988-01-30', 'VNM', 'same given name, same birth year'),
        ('NGUYEN THI THANH HUONG', '1988-06-11', 'VNM', 'same surname, same birth year'),
        ('NGUYEN DUC THUAN', '1983-03-09', 'VNM', 'same surname+middle, similar given'),
        ('NGUYEN DUC TRUNG', '1988-07-14', 'VNM', 'same surname+middle, same birth year'),
        ('DUC THANH NGUYEN', '1995-04-17', 'VNM', 'given-first order, one letter off, same day-month'),
    ]

    def suspicious(name):
        t = set(name.split())
        return 'THANG' in t or ('NGUYEN' in t and 'DUC' in t and ({'THANH', 'THUAN', 'TRUNG'} & t))

    mix = [('VNM', 163), ('KOR', 90), ('USA', 7), ('CHN', 6), ('THA', 5), ('MYS', 4), ('PHL', 4),
           ('JPN', 3), ('AUS', 2), ('FRA', 1), ('DEU', 1), ('CAN', 1), ('LAO', 1)]
    seat_list = seats(rng, range(1, 8), 'ADGK', range(10, 41), 'ABCDEFHJK', 300)
    return build('VN416', alert[4], seat_list, mix, fixed, suspicious, alert,
                 'alert Nguyễn Đức Thắng written in Western order (given-middle-family), '
                 'diacritics stripped; DOB identical', 'flight', rng)


def flight2():
    rng = random.Random(f'{SEED}:KE652')
    alert = ('박지훈', '1984-11-03', 'KOR', 'KE652', '2025-11-15')
    fixed = [
        ('PAK JIHUN', '1984-11-03', 'KOR', 'TARGET'),           # the alerted traveller
        ('PARK JIHOON', '1991-06-25', 'KOR', 'namesake, different DOB'),
        ('PARK JI HOON', '1984-07-22', 'KOR', 'namesake, same birth year'),
        ('JIHOON PARK', '2012-02-14', 'KOR', 'namesake child, given-first'),
        ('PARK JIHYUN', '1986-02-14', 'KOR', 'same surname, one syllable off'),
        ('PARK JIWON', '1984-05-09', 'KOR', 'same surname, one syllable off, same birth year'),
        ('BAEK JIHOON', '1983-01-27', 'KOR', '백 not 박: different surname'),
        ('LEE JIHOON', '1982-08-19', 'KOR', 'same given name, other surname'),
        ('PARK JIHO', '1984-10-08', 'KOR', 'same surname, similar given, same birth year'),
        ('PARK SEUNGHOON', '1977-05-30', 'KOR', 'same surname, shares hoon'),
        ('KIM JIHUN', '1984-03-11', 'KOR', 'same given name, other surname, day-month of alert swapped'),
    ]
    park = {kr_norm(v) for v in kr_sur_variants(KR_SUR['박'])} | {kr_norm(v) for v in kr_sur_variants(KR_SUR['백'])}
    jihoon = {kr_norm(v).upper() for v in kr_giv_variants(KR_GIV['지훈'])}

    def suspicious(name):
        t = name.split()
        joined = ''.join(t)
        if any(kr_norm(x) in park for x in t) and ('JI' in t or any(x.startswith('JI') for x in t)):
            return True
        return any(j in joined for j in jihoon)

    mix = [('KOR', 214), ('THA', 45), ('USA', 8), ('CHN', 6), ('VNM', 5), ('JPN', 4), ('MYS', 3),
           ('LAO', 2), ('CAN', 2)]
    seat_list = seats(rng, range(7, 14), 'ACDFHK', range(28, 55), 'ABCDEFGHJK', 300)
    return build('KE652', alert[4], seat_list, mix, fixed, suspicious, alert,
                 'alert 박지훈 in Hangul; passport spelling PAK (McCune-Reischauer surname) + JIHUN '
                 '(Revised Romanization given name); DOB identical', 'flight2', rng)


if __name__ == '__main__':
    for fn in (flight1, flight2):
        rows, key = fn()
        print(f'{key[0]}: {len(rows)} passengers, alerted traveller in seat {key[2]} as {key[3]}')
