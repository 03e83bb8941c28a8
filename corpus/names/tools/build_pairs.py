#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Build ../pairs.tsv, the labelled name-pair corpus.

Deterministic: every class draws from its own random.Random seeded with
SEED and the class name, and only selects/combines hand-encoded entries from
namedata.py and the hand-written lists below.  Standard library only.

    python3 tools/build_pairs.py
"""
import datetime
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import namedata as N  # noqa: E402
from common import strip_marks, up, de_icao, clearly_different, dob_relation  # noqa: E402

SEED = 20251107
ROOT = os.path.dirname(HERE)
HEADER = ['id', 'class', 'country', 'kind', 'label', 'alert_name', 'alert_dob',
          'manifest_name', 'manifest_dob', 'note']


def R(name):
    return random.Random(f'{SEED}:{name}')


def rand_date(rng, y0=1950, y1=2004):
    a = datetime.date(y0, 1, 1).toordinal()
    b = datetime.date(y1, 12, 31).toordinal()
    return datetime.date.fromordinal(rng.randint(a, b))


def rdob(rng):
    return rand_date(rng).isoformat()


def squash(s):
    return ' '.join(s.split())


class Corpus:
    def __init__(self):
        self.rows = []
        self.seen = set()

    def add(self, cls, country, kind, alert, adob, man, mdob, note):
        label = 'nonmatch' if cls.startswith('neg-') else 'match'
        alert, man = squash(alert), squash(man)
        key = (alert, adob, man, mdob)
        if key in self.seen:
            return False
        if alert == man and adob == mdob:
            return False
        for f in (alert, man, note):
            assert '\t' not in f and '\n' not in f, f
        self.seen.add(key)
        self.rows.append([cls, country, kind, label, alert, adob, man, mdob, note])
        return True

    def count(self, cls):
        return sum(1 for r in self.rows if r[0] == cls)


# ===========================================================================
# Korean helpers
# ===========================================================================
KR_SUR = {s[0]: s for s in N.KR_SURNAMES + N.KR_SURNAMES_EXTRA}
KR_GIV = {g[0]: g for g in N.KR_GIVEN}


def kr_norm(s):
    return s.lower().replace('-', '').replace(' ', '')


def kr_sur_variants(s):
    out = []
    for v in list(s[3]) + [s[1], s[2]]:
        if v and v not in out:
            out.append(v)
    return out


def kr_sur_usual(s):
    return s[3][0] if s[3] else s[1]


def kr_sur_tag(s, v):
    t = []
    if v == s[1]:
        t.append('RR')
    if v == s[2]:
        t.append('MR')
    if v in s[3]:
        t.append('customary passport spelling')
    return '/'.join(t)


def kr_giv_variants(g):
    out = []
    for v in list(g[3]) + [g[1], g[1].replace('-', ''), g[2]]:
        if v and v not in out:
            out.append(v)
    return out


def kr_giv_tag(g, v):
    k = kr_norm(v)
    t = []
    if k == kr_norm(g[1]):
        t.append('RR')
    if g[2] and k == kr_norm(g[2]):
        t.append('MR')
    return '/'.join(t) or 'passport spelling'


def kr_pick_sur(rng, compound_ok=False):
    pool = [s for s in N.KR_SURNAMES if compound_ok or len(s[0]) == 1]
    w = [N.KR_SURNAME_WEIGHT.get(s[0], 0.15) for s in pool]
    return rng.choices(pool, w)[0]


def kr_fmt(sur, giv, order):
    return f'{sur.upper()} {giv.upper()}' if order == 'SF' else f'{giv.upper()} {sur.upper()}'


def order_note(order):
    return '; manifest given-name first' if order == 'GF' else ''


def build_kr_surname(c):
    cls = 'kr-surname-romanization'
    rng = R(cls)
    surs = [s for s in N.KR_SURNAMES if len(kr_sur_variants(s)) >= 2]
    i = 0
    while c.count(cls) < 78:
        s = surs[i % len(surs)]
        i += 1
        vs = kr_sur_variants(s)
        if rng.random() < 0.6:
            a, b = vs[0], rng.choice(vs[1:])
        else:
            a, b = rng.sample(vs, 2)
        g = rng.choice(N.KR_GIVEN)
        ga = rng.choice(g[3] or [g[1]])
        gb = ga.replace('-', '').replace(' ', '') if rng.random() < 0.6 else ga
        order = 'SF' if rng.random() < 0.75 else 'GF'
        dob = rdob(rng)
        note = (f'surname {s[0]}: {a} ({kr_sur_tag(s, a)}) vs {b.upper()} '
                f'({kr_sur_tag(s, b)}); same given name {g[0]} and DOB{order_note(order)}')
        c.add(cls, 'KR', 'person', f'{a} {ga}', dob, kr_fmt(b, gb, order), dob, note)


def build_kr_given(c):
    cls = 'kr-given-romanization'
    rng = R(cls)
    givs = [g for g in N.KR_GIVEN if len({kr_norm(v) for v in kr_giv_variants(g)}) >= 2]
    rng.shuffle(givs)
    i = 0
    while c.count(cls) < 78:
        g = givs[i % len(givs)]
        i += 1
        vs = kr_giv_variants(g)
        s = kr_pick_sur(rng)
        sur = kr_sur_usual(s)
        a = rng.choice(vs)
        if rng.random() < 0.85:
            cands = [v for v in vs if kr_norm(v) != kr_norm(a)]
        else:
            cands = [v for v in vs if kr_norm(v) == kr_norm(a) and v != a]
        if not cands:
            continue
        b = rng.choice(cands)
        order = 'SF' if rng.random() < 0.6 else 'GF'
        dob = rdob(rng)
        sep_only = ' (separator only)' if kr_norm(a) == kr_norm(b) else ''
        note = (f'given name {g[0]}: {a} ({kr_giv_tag(g, a)}) vs {b.upper()} '
                f'({kr_giv_tag(g, b)}){sep_only}; same surname and DOB{order_note(order)}')
        c.add(cls, 'KR', 'person', f'{sur} {a}', dob, kr_fmt(sur, b, order), dob, note)


def build_kr_hangul(c):
    cls = 'kr-hangul'
    rng = R(cls)
    systems = ['passport', 'rr-given', 'rr', 'mr']
    weights = [0.38, 0.24, 0.16, 0.22]
    desc = {'passport': 'customary passport spelling',
            'rr-given': 'Revised Romanization given name, customary surname spelling',
            'rr': 'strict Revised Romanization (2000), surname included',
            'mr': 'McCune-Reischauer without diacritics/apostrophes'}
    givs = list(N.KR_GIVEN)
    rng.shuffle(givs)
    i = 0
    while c.count(cls) < 78:
        g = givs[i % len(givs)]
        i += 1
        s = kr_pick_sur(rng, compound_ok=(rng.random() < 0.06))
        system = rng.choices(systems, weights)[0]
        if system == 'mr' and (not s[2] or not g[2]):
            system = 'passport'
        if system == 'passport':
            sur, giv = kr_sur_usual(s), rng.choice(g[3] or [g[1]])
        elif system == 'rr-given':
            sur, giv = kr_sur_usual(s), rng.choice([g[1], g[1].replace('-', '')])
        elif system == 'rr':
            sur, giv = s[1], rng.choice([g[1], g[1].replace('-', '')])
        else:
            sur, giv = s[2], g[2]
        order = 'SF' if rng.random() < 0.75 else 'GF'
        dob = rdob(rng)
        alert = s[0] + g[0]
        note = f'Hangul {s[0]}+{g[0]} -> {desc[system]}{order_note(order)}'
        c.add(cls, 'KR', 'person', alert, dob, kr_fmt(sur, giv, order), dob, note)


def build_neg_korean(c):
    cls = 'neg-korean-similar'
    rng = R(cls)
    second = list(N.KR_NEG_GIVEN_PAIRS)
    rng.shuffle(second)
    # every pair once, then half of them again in the other direction
    plan = list(N.KR_NEG_GIVEN_PAIRS) + [(b, a) for a, b in second[:len(second) // 2]]
    for ha, hb in plan:
        ga, gb = KR_GIV[ha], KR_GIV[hb]
        va = {kr_norm(v) for v in kr_giv_variants(ga)}
        vb = {kr_norm(v) for v in kr_giv_variants(gb)}
        assert not (va & vb), (ha, hb, va & vb)
        s = kr_pick_sur(rng)
        dob = rdob(rng)
        if rng.random() < 0.35:
            alert = s[0] + ga[0]
        else:
            alert = f'{kr_sur_usual(s)} {rng.choice(ga[3] or [ga[1]])}'
        vs = kr_sur_variants(s)
        sur_m = rng.choice(vs) if (len(vs) > 1 and rng.random() < 0.3) else kr_sur_usual(s)
        giv_m = rng.choice(kr_giv_variants(gb))
        order = 'SF' if rng.random() < 0.7 else 'GF'
        note = (f'different given name {ha} vs {hb} ({ga[1]} / {gb[1]}); same surname '
                f'{s[0]} and DOB{order_note(order)}')
        c.add(cls, 'KR', 'person', alert, dob, kr_fmt(sur_m, giv_m, order), dob, note)
    for sa, sb in N.KR_NEG_SURNAME_PAIRS:
        A, B = KR_SUR[sa], KR_SUR[sb]
        va = {kr_norm(v) for v in kr_sur_variants(A)}
        vb = {kr_norm(v) for v in kr_sur_variants(B)}
        assert not (va & vb), (sa, sb)
        g = rng.choice(N.KR_GIVEN)
        dob = rdob(rng)
        if rng.random() < 0.35:
            alert = sa + g[0]
        else:
            alert = f'{kr_sur_usual(A)} {rng.choice(g[3] or [g[1]])}'
        order = 'SF' if rng.random() < 0.7 else 'GF'
        man = kr_fmt(rng.choice(kr_sur_variants(B)), rng.choice(kr_giv_variants(g)), order)
        note = (f'different surname {sa} ({"/".join(kr_sur_variants(A))}) vs {sb} '
                f'({"/".join(kr_sur_variants(B))}); same given name {g[0]} and DOB'
                f'{order_note(order)}')
        c.add(cls, 'KR', 'person', alert, dob, man, dob, note)


# ===========================================================================
# Vietnamese
# ===========================================================================
VN_MARKERS = {'Văn', 'Thị'}


def vn_person(rng, female=None, need_marker=False, need_two_mid=False):
    while True:
        fem = (rng.random() < 0.5) if female is None else female
        fam = rng.choice(N.VN_FAMILY)
        mid = rng.choice(N.VN_MIDDLE_F if fem else N.VN_MIDDLE_M)
        giv = rng.choice(N.VN_GIVEN_F if fem else N.VN_GIVEN_M)
        toks = mid.split()
        if giv in toks or fam == giv or fam in toks:
            continue
        if need_marker and not (set(toks) & VN_MARKERS):
            continue
        if need_two_mid and len(toks) < 2:
            continue
        return fam, mid, giv


def vn_form(fam, mid, giv, form):
    F, M, G = up(fam), up(mid), up(giv)
    rest = ' '.join(t for t in mid.split() if t not in VN_MARKERS)
    Rr = up(rest)
    return {
        'strip': f'{F} {M} {G}',
        'gmf': f'{G} {M} {F}',
        'mgf': f'{M} {G} {F}',
        'drop_fg': f'{F} {Rr} {G}',
        'drop_gf': f'{Rr} {G} {F}',
    }[form]


VN_NOTES = {
    'strip': 'diacritics stripped, Vietnamese order family-middle-given kept',
    'gmf': 'Western order given-middle-family, diacritics stripped',
    'mgf': 'given-names field (middle+given) first, family name last',
    'drop_fg': 'middle marker Văn/Thị omitted',
    'drop_gf': 'middle marker Văn/Thị omitted, given-first order',
}


def build_vn(c):
    cls = 'vn-diacritics-order'
    rng = R(cls)
    plan = (['strip'] * 14 + ['gmf'] * 12 + ['mgf'] * 14 + ['drop_fg'] * 10 +
            ['drop_gf'] * 10 + ['plain'] * 8 + ['drop2'] * 8)
    rng.shuffle(plan)
    for form in plan:
        while True:
            if form == 'drop2':
                fam, mid, giv = vn_person(rng, female=True, need_marker=True, need_two_mid=True)
                f = rng.choice(['drop_fg', 'drop_gf'])
            elif form.startswith('drop'):
                fam, mid, giv = vn_person(rng, need_marker=True)
                f = form
            else:
                fam, mid, giv = vn_person(rng)
                f = rng.choice(['gmf', 'mgf']) if form == 'plain' else form
            alert = f'{fam} {mid} {giv}'
            note = VN_NOTES[f]
            if form == 'plain':
                alert = strip_marks(alert)
                note = 'alert typed without diacritics; ' + note
            if 'Đ' in fam + mid + giv:
                note += '; Đ->D'
            dob = rdob(rng)
            if c.add(cls, 'VN', 'person', alert, dob, vn_form(fam, mid, giv, f), dob, note):
                break


# ===========================================================================
# Thai
# ===========================================================================
def th_tag(entry, v):
    return 'RTGS' if v == entry[1] else 'passport spelling'


def build_th(c):
    cls = 'th-romanization'
    rng = R(cls)
    while c.count(cls) < 78:
        f = rng.choice(N.TH_FIRST)
        s = rng.choice(N.TH_SURNAMES)
        mode = rng.choices(['first', 'sur', 'both'], [0.35, 0.35, 0.3])[0]
        fv, sv = f[1:], s[1:]
        fa = fv[0] if rng.random() < 0.5 else rng.choice(fv)
        sa = sv[0] if rng.random() < 0.5 else rng.choice(sv)
        fm = rng.choice([v for v in fv if v != fa]) if mode in ('first', 'both') else fa
        sm = rng.choice([v for v in sv if v != sa]) if mode in ('sur', 'both') else sa
        order = 'GF' if rng.random() < 0.6 else 'SF'
        man = f'{up(fm)} {up(sm)}' if order == 'GF' else f'{up(sm)} {up(fm)}'
        parts = []
        if fm != fa:
            parts.append(f'first name {fa} ({th_tag(f, fa)}) vs {fm.upper()} ({th_tag(f, fm)})')
        if sm != sa:
            parts.append(f'surname {sa} ({th_tag(s, sa)}) vs {sm.upper()} ({th_tag(s, sm)})')
        note = f'{f[0]} {s[0]}: ' + '; '.join(parts)
        if order == 'SF':
            note += '; manifest surname first'
        dob = rdob(rng)
        c.add(cls, 'TH', 'person', f'{fa} {sa}', dob, man, dob, note)


# ===========================================================================
# Khmer / Lao
# ===========================================================================
def build_kh_la(c):
    cls = 'kh-la-romanization'
    rng = R(cls)
    for country, surs, givs, target in (('KH', N.KH_SURNAMES, N.KH_GIVEN, 39),
                                         ('LA', N.LA_SURNAMES, N.LA_GIVEN, 39)):
        n = 0
        while n < target:
            s = rng.choice(surs)
            g = rng.choice(givs)
            change_s = len(s) > 1 and rng.random() < (0.5 if country == 'LA' else 0.35)
            change_g = (not change_s) or rng.random() < 0.4
            if change_g and len(g) < 2:
                continue
            sa = s[0] if rng.random() < 0.6 else rng.choice(s)
            ga = g[0] if rng.random() < 0.6 else rng.choice(g)
            sm = rng.choice([v for v in s if v != sa]) if change_s else sa
            gm = rng.choice([v for v in g if v != ga]) if change_g else ga
            if country == 'KH':
                alert = f'{sa} {ga}'           # Khmer order: family name first
                native_first = True
            else:
                alert = f'{ga} {sa}'           # Lao order: given name first
                native_first = False
            swap = rng.random() < 0.5
            fam_first = native_first != swap
            man = f'{sm.upper()} {gm.upper()}' if fam_first else f'{gm.upper()} {sm.upper()}'
            parts = []
            if gm != ga:
                parts.append(f'given {ga} vs {gm.upper()}')
            if sm != sa:
                parts.append(f'family {sa} vs {sm.upper()}')
            trad = 'Khmer' if country == 'KH' else 'Lao'
            note = f'{trad} spelling variant: ' + '; '.join(parts)
            if swap:
                note += '; manifest ' + ('family-name first' if fam_first else 'given-name first')
            dob = rdob(rng)
            if c.add(cls, country, 'person', alert, dob, man, dob, note):
                n += 1


# ===========================================================================
# Malay patronymics
# ===========================================================================
def my_render_same(tokens, rng, prefer_full=True):
    out = []
    for t in tokens:
        if t.startswith('@'):
            g = N.MY_GROUPS[t[1:]]
            out.append(g['full'][0] if prefer_full else
                       rng.choice([v for v in g['full'] + g['abbr'] if v != 'B']))
        else:
            out.append(t)
    return ' '.join(out)


def my_pair(tokens, rng, max_changes=2):
    groups = [i for i, t in enumerate(tokens) if t.startswith('@')]
    k = rng.randint(1, min(max_changes, len(groups)))
    change = set(rng.sample(groups, k))
    a_parts, m_parts, notes = [], [], []
    for i, t in enumerate(tokens):
        if not t.startswith('@'):
            a_parts.append(t)
            m_parts.append(t)
            continue
        key = t[1:]
        g = N.MY_GROUPS[key]
        if i in change:
            if key == 'MOHD' and rng.random() < 0.2:
                a, b = rng.sample(g['full'], 2)
                notes.append((key, f'{a}/{b} (spelling variants of Muhammad)'))
            elif rng.random() < 0.6:
                a, b = rng.choice(g['full']), rng.choice(g['abbr'])
                notes.append((key, f'{a}->{b}'))
            else:
                a, b = rng.choice(g['abbr']), rng.choice(g['full'])
                if a == 'B':
                    a = 'b.'
                notes.append((key, f'{a}->{b}'))
        else:
            a = b = rng.choice(g['full'] + g['abbr'][:1])
        if a == 'B':
            a = 'b.'
        a_parts.append(a)
        m_parts.append(b)
    return ' '.join(a_parts), ' '.join(m_parts), notes


def build_my(c):
    cls = 'my-patronymic-abbrev'
    rng = R(cls)
    n_drop = 0
    while c.count(cls) < 78:
        r = rng.random()
        if r < 0.05:
            own, father = rng.choice(N.MY_TENGKU)
            female = own[1] == 'Nur'
        elif r < 0.72:
            own, father, female = rng.choice(N.MY_M_GIVEN), rng.choice(N.MY_FATHER), False
        else:
            own, father, female = rng.choice(N.MY_F_GIVEN), rng.choice(N.MY_FATHER), True
        if set(own) & set(father) - {'@MOHD', '@ABD', '@HAJI', '@TENGKU', '@MUHD', '@NUR'}:
            continue
        tokens = own + ['@BINTI' if female else '@BIN'] + father
        alert, man, notes = my_pair(tokens, rng)
        man = up(man)
        if rng.random() < 0.7:
            man = man.replace('.', '')
        extra = ''
        if n_drop < 6 and not female and rng.random() < 0.12 and len(notes) > 1:
            man = ' '.join(t for t in man.split() if t not in ('BIN', 'B', 'BN', 'B.'))
            extra = '; bin omitted by carrier (father name kept in same position)'
            notes = [n for n in notes if n[0] != 'BIN']
            n_drop += 1
        if not notes:
            continue
        note = ('abbreviation/spelling: ' + ', '.join(n[1] for n in notes) +
                '; father name in same position' + extra)
        dob = rdob(rng)
        c.add(cls, 'MY', 'person', alert, dob, man, dob, note)


def build_neg_swap(c):
    cls = 'neg-patronymic-swap'
    rng = R(cls)
    n_syed = 0
    while c.count(cls) < 80:
        if n_syed < 8 and rng.random() < 0.12:
            x, y = rng.sample(N.MY_SYED_POOL, 2)
            syed = True
        else:
            x, y = rng.sample(N.MY_SWAP_POOL, 2)
            syed = False
        core_x = {t for t in x if not t.startswith('@')}
        core_y = {t for t in y if not t.startswith('@')}
        if syed:
            core_x, core_y = core_x - {'Syed'}, core_y - {'Syed'}
        if core_x & core_y:
            continue
        a_tokens = x + ['@BIN'] + y
        m_tokens = y + ['@BIN'] + x
        alert = my_render_same(a_tokens, rng, prefer_full=rng.random() < 0.5)
        man = up(my_render_same(m_tokens, rng, prefer_full=rng.random() < 0.5)).replace('.', '')
        dob = rdob(rng)
        note = ('own name and father\'s name swapped: a different person (e.g. father/son), '
                'same DOB')
        if c.add(cls, 'MY', 'person', alert, dob, man, dob, note) and syed:
            n_syed += 1


# ===========================================================================
# Chinese / Chinese-Malaysian
# ===========================================================================
def pinyin_join(a, b):
    return a + ("'" if b[0] in 'aoe' else '') + b


def build_cn_my(c):
    cls = 'cn-my-order'
    rng = R(cls)
    # --- PRC pinyin
    n = 0
    while n < 39:
        form = rng.choices(['gf', 'split', 'split_gf', 'hyphen', 'single', 'alert_gf',
                            'compound'], [8, 7, 6, 6, 6, 4, 2])[0]
        sur = rng.choice(N.CN_SURNAMES)
        g1, g2 = rng.choice(N.CN_GIVEN2)
        joined = pinyin_join(g1, g2)
        JO = (g1 + g2).upper()
        apos = "'" in joined
        if form == 'gf':
            alert, man, note = f'{sur} {joined}', f'{JO} {sur.upper()}', 'pinyin, given-name first in manifest'
        elif form == 'split':
            alert, man, note = f'{sur} {joined}', f'{sur.upper()} {g1.upper()} {g2.upper()}', 'given-name syllables split'
        elif form == 'split_gf':
            alert, man, note = f'{sur} {joined}', f'{g1.upper()} {g2.upper()} {sur.upper()}', 'given-name syllables split, given first'
        elif form == 'hyphen':
            alert, man, note = f'{sur} {g1}-{g2}', f'{sur.upper()} {JO}', 'hyphenated given name joined'
        elif form == 'single':
            g = rng.choice(N.CN_GIVEN1)
            alert, man, note = f'{sur} {g}', f'{g.upper()} {sur.upper()}', 'single-syllable given name, order reversed'
            apos = False
        elif form == 'alert_gf':
            alert, man, note = f'{joined} {sur}', f'{sur.upper()} {JO}', 'alert written Western order, manifest surname first'
        else:
            sur = rng.choice(N.CN_COMPOUND_SURNAMES)
            alert, man, note = f'{sur} {joined}', f'{JO} {sur.upper()}', 'compound surname, given-name first'
        if apos:
            note += "; pinyin apostrophe dropped"
        dob = rdob(rng)
        if c.add(cls, 'CN', 'person', alert, dob, man, dob, 'PRC ' + note):
            n += 1
    # --- Chinese-Malaysian
    n = 0
    while n < 39:
        female = rng.random() < 0.45
        sur = rng.choice(N.MYC_SURNAMES)
        giv = rng.choice(N.MYC_GIVEN_F if female else N.MYC_GIVEN_M)
        west = rng.choice(N.MYC_WEST_F if female else N.MYC_WEST_M)
        g1, g2 = giv.split()
        S, G, GJ, W = sur.upper(), giv.upper(), (g1 + g2).upper(), west.upper()
        form = rng.choices(['gf', 'joined', 'hyph', 'west_back', 'west_mid', 'west_joined'],
                           [8, 6, 6, 7, 7, 5])[0]
        if form == 'gf':
            alert, man, note = f'{sur} {giv}', f'{G} {S}', 'surname-first vs given-first'
        elif form == 'joined':
            alert, man, note = f'{sur} {giv}', f'{S} {GJ}', 'given-name syllables joined'
        elif form == 'hyph':
            alert, man, note = f'{sur} {g1}-{g2}', f'{G} {S}', 'hyphenated given name split, given-first'
        elif form == 'west_back':
            alert, man, note = f'{west} {sur} {giv}', f'{S} {G} {W}', 'Western name moved after Chinese name'
        elif form == 'west_mid':
            alert, man, note = f'{west} {sur} {giv}', f'{W} {G} {S}', 'Western + Chinese given names first, surname last'
        else:
            alert, man, note = f'{west} {sur} {giv}', f'{S} {GJ} {W}', 'Western name last, Chinese syllables joined'
        dob = rdob(rng)
        if c.add(cls, 'MY', 'person', alert, dob, man, dob, 'Chinese-Malaysian ' + note):
            n += 1


# ===========================================================================
# Dutch / German particles and umlauts
# ===========================================================================
def nl_split(s):
    toks = s.split()
    parts = [t for t in toks if t[0].islower() or t.startswith("'")]
    main = [t for t in toks if t not in parts]
    return parts, main


def nl_forms(s):
    parts, main = nl_split(s)
    U = up(s)
    f = {'spaced': ' '.join(U.replace("'", ' ').split()),
         'joined': U.replace("'", '').replace(' ', ''),
         'sorted': ' '.join(up(' '.join(main)).split() + up(' '.join(parts)).replace("'", '').split())}
    if "'" in s:
        f['spaced_apos'] = U
    if parts[:2] in (['van', 'der'], ['van', 'den']) and len(parts) == 2:
        f['vd'] = 'VD ' + up(' '.join(main))
        f['v.d.'] = 'V.D. ' + up(' '.join(main))
    return f


NL_FORM_NOTE = {'spaced': 'particles as separate words', 'joined': 'particles joined to the surname',
                'sorted': 'Dutch sorting form (main surname, then particles)',
                'spaced_apos': "particle 't kept", 'vd': 'van der/van den abbreviated vd',
                'v.d.': 'van der/van den abbreviated v.d.'}


def build_nl_de(c):
    cls = 'nl-de-particles-umlauts'
    rng = R(cls)
    n = 0
    while n < 39:
        g = rng.choice(N.NL_GIVEN)
        s = rng.choice(N.NL_PARTICLE_SURNAMES)
        forms = nl_forms(s)
        keys = list(forms)
        w = [{'joined': 35, 'spaced': 25, 'sorted': 10, 'spaced_apos': 8, 'vd': 6, 'v.d.': 4}[k] for k in keys]
        mk = rng.choices(keys, w)[0]
        astyle = rng.choices(['dutch', 'cap', 'joined'], [70, 20, 10])[0]
        if astyle == 'dutch':
            asur = s
        elif astyle == 'cap':
            asur = ' '.join(t[0].upper() + t[1:] if not t.startswith("'") else t for t in s.split())
        else:
            asur = s.replace(' ', '').replace("'", '')
            asur = asur[0].upper() + asur[1:].lower()
        order = 'GF' if (rng.random() < 0.55 and mk != 'sorted') else 'SF'
        G = up(g)
        man = f'{G} {forms[mk]}' if order == 'GF' else f'{forms[mk]} {G}'
        alert = f'{g} {asur}'
        if up(alert).replace("'", '') == man.replace("'", ''):
            continue
        note = f'Dutch surname {s}: {NL_FORM_NOTE[mk]}'
        if astyle == 'cap':
            note += '; alert capitalises particles'
        elif astyle == 'joined':
            note += '; alert wrote particles joined'
        if G != g.upper():
            note += '; diaeresis dropped in given name'
        if order == 'SF':
            note += '; manifest surname first'
        dob = rdob(rng)
        if c.add(cls, 'NL', 'person', alert, dob, man, dob, note):
            n += 1
    n = 0
    while n < 39:
        g = rng.choice(N.DE_GIVEN)
        s = rng.choice(N.DE_SURNAMES)
        scheme = 'icao' if rng.random() < 0.55 else 'plain'
        tr = (lambda x: de_icao(x).upper()) if scheme == 'icao' else (lambda x: strip_marks(x).upper())
        alert_typed = rng.random() < 0.2 and scheme == 'plain'
        notes = []
        if s.startswith('von '):
            main = s.split(' ')
            parts = [t for t in main if t[0].islower()]
            core = [t for t in main if t[0].isupper()]
            sf = rng.choice(['spaced', 'joined', 'sorted'])
            S = {'spaced': tr(s), 'joined': tr(s).replace(' ', ''),
                 'sorted': tr(' '.join(core)) + ' ' + tr(' '.join(parts))}[sf]
            notes.append({'spaced': 'von kept as separate word', 'joined': 'von joined to surname',
                          'sorted': 'sorting form (surname, then von)'}[sf])
        elif '-' in s:
            hf = rng.choice(['space', 'joined', 'kept'])
            S = {'space': tr(s).replace('-', ' '), 'joined': tr(s).replace('-', ''), 'kept': tr(s)}[hf]
            notes.append({'space': 'double surname hyphen -> space', 'joined': 'double surname joined',
                          'kept': 'double surname hyphen kept'}[hf])
        else:
            S = tr(s)
        if '-' in g:
            gf = rng.choice(['space', 'joined', 'kept'])
            G = {'space': tr(g).replace('-', ' '), 'joined': tr(g).replace('-', ''), 'kept': tr(g)}[gf]
            if gf != 'kept':
                notes.append('given-name hyphen ' + ('-> space' if gf == 'space' else 'removed'))
        else:
            G = tr(g)
        if any(ch in g + s for ch in 'äöüÄÖÜ'):
            notes.append('umlaut ' + ('-> AE/OE/UE (ICAO preferred)' if scheme == 'icao' else '-> A/O/U (ICAO alternative)'))
        if 'ß' in g + s:
            notes.append('ß -> SS')
        alert = f'{g} {s}'
        if alert_typed:
            alert = de_icao(alert)
            notes.insert(0, 'alert typed with ae/oe/ue')
        sorted_form = s.startswith('von ') and S.endswith(' VON') or S.endswith(' VON DER')
        order = 'GF' if (rng.random() < 0.55 and not sorted_form) else 'SF'
        man = f'{G} {S}' if order == 'GF' else f'{S} {G}'
        if up(alert) == man or de_icao(alert).upper() == man:
            continue
        note = f'German name {g} {s}: ' + '; '.join(notes) + ('; manifest surname first' if order == 'SF' else '')
        dob = rdob(rng)
        if c.add(cls, 'DE', 'person', alert, dob, man, dob, note):
            n += 1


# ===========================================================================
# French / French-Canadian
# ===========================================================================
def fr_given_forms(g):
    b = up(g)
    f = {'plain': b}
    if '-' in g:
        f['space'] = b.replace('-', ' ')
        f['joined'] = b.replace('-', '')
    return f


def fr_sur_forms(s):
    b = up(s)
    sp = ' '.join(b.replace("'", ' ').replace('-', ' ').split())
    f = {'plain': sp}
    if sp.replace(' ', '') != sp:
        f['joined'] = sp.replace(' ', '')
    if "'" in b or '-' in b:
        f['kept'] = b
    return f


def build_fr(c):
    cls = 'fr-accents-hyphens'
    rng = R(cls)
    for country, givs, surs in (('FR', N.FR_GIVEN, N.FR_SURNAMES + N.FR_COMMON_SURNAMES[:6]),
                                ('CA', N.CA_GIVEN, N.CA_SURNAMES)):
        n = 0
        while n < 39:
            g = rng.choice(givs)
            s = rng.choice(surs)
            gfs, sfs = fr_given_forms(g), fr_sur_forms(s)
            gk = rng.choice(list(gfs))
            sk = rng.choice(list(sfs))
            order = 'GF' if rng.random() < 0.55 else 'SF'
            man = f'{gfs[gk]} {sfs[sk]}' if order == 'GF' else f'{sfs[sk]} {gfs[gk]}'
            alert = f'{g} {s}'
            if up(alert) == man:
                continue
            notes = []
            if strip_marks(g + s) != g + s:
                notes.append('accents dropped')
            if gk == 'space':
                notes.append('compound given name hyphen -> space')
            elif gk == 'joined':
                notes.append('compound given name joined')
            if "'" in s and sk != 'kept':
                notes.append('apostrophe dropped' + (' and joined' if sk == 'joined' else ''))
            elif '-' in s and sk != 'kept':
                notes.append('compound surname hyphen ' + ('removed' if sk == 'joined' else '-> space'))
            elif ' ' in s and sk == 'joined':
                notes.append('particle joined to surname')
            if order == 'SF':
                notes.append('manifest surname first')
            if not [x for x in notes if x != 'manifest surname first']:
                continue
            dob = rdob(rng)
            if c.add(cls, country, 'person', alert, dob, man, dob, '; '.join(notes)):
                n += 1


# ===========================================================================
# Western nicknames
# ===========================================================================
def west_up(s, country, scheme):
    if country == 'DE' and scheme == 'icao':
        return de_icao(s).upper()
    return up(s)


def west_manifest(given, surname, country, rng, order=None, scheme=None, join_particles=False):
    if scheme is None:
        scheme = 'icao' if (country == 'DE' and rng.random() < 0.6) else 'plain'
    g = west_up(given, country, scheme).replace('-', ' ')
    s = west_up(surname, country, scheme)
    if join_particles:
        s = s.replace(' ', '')
    if order is None:
        order = 'GF' if rng.random() < 0.6 else 'SF'
    return (f'{g} {s}' if order == 'GF' else f'{s} {g}'), order


def build_nick(c):
    cls = 'western-nicknames'
    rng = R(cls)
    plan = (('US', N.EN_NICK, N.US_SURNAMES), ('CA', N.EN_NICK, N.CA_EN_SURNAMES),
            ('DE', N.DE_NICK, N.DE_COMMON_SURNAMES), ('NL', N.NL_NICK, N.NL_COMMON_SURNAMES),
            ('FR', N.FR_NICK, N.FR_COMMON_SURNAMES))
    for country, nicks, surs in plan:
        pool = list(nicks)
        rng.shuffle(pool)
        n, i = 0, 0
        while n < 16:
            nick, formal = pool[i % len(pool)]
            i += 1
            sur = rng.choice(surs)
            dob = rdob(rng)
            reverse = rng.random() < 0.1
            given_m = formal
            extra = ''
            fem = formal in N.FEMALE_FORMAL
            if not reverse:
                if country in ('US', 'CA') and rng.random() < 0.15:
                    mid = rng.choice([m for m in (N.US_MIDDLE_F if fem else N.US_MIDDLE_M) if m != formal])
                    given_m = f'{formal} {mid}'
                    extra = '; passport adds middle name'
                elif country == 'NL' and rng.random() < 0.3:
                    more = rng.choice([m for m in (N.NL_BAPTISMAL_F if fem else N.NL_BAPTISMAL_M) if m != formal])
                    given_m = f'{formal} {more}'
                    extra = '; passport lists a second official given name'
                elif country == 'DE' and rng.random() < 0.15:
                    more = rng.choice([m for m in (N.DE_SECOND_F if fem else N.DE_SECOND_M) if m != formal])
                    given_m = f'{formal} {more}'
                    extra = '; passport adds second given name'
            if reverse:
                alert = f'{formal} {sur}'
                man, order = west_manifest(nick, sur, country, rng)
                note = f'{nick} is a standard short form of {formal}; cargo/contact record uses the short form'
            else:
                alert = f'{nick} {sur}'
                man, order = west_manifest(given_m, sur, country, rng)
                kind = 'roepnaam (call name)' if country == 'NL' else 'short form'
                note = f'{nick} is the standard {kind} of {formal}' + extra
            if order == 'SF':
                note += '; manifest surname first'
            if c.add(cls, country, 'person', alert, dob, man, dob, note):
                n += 1


# ===========================================================================
# DOB variants
# ===========================================================================
def simple_name(country, rng):
    """Alert name and a manifest rendering that is the same or a light variant."""
    if country == 'KR':
        s, g = kr_pick_sur(rng), rng.choice(N.KR_GIVEN)
        giv, sur = rng.choice(g[3] or [g[1]]), kr_sur_usual(s)
        return f'{sur} {giv}', kr_fmt(sur, giv.replace('-', '').replace(' ', ''), 'SF')
    if country == 'VN':
        fam, mid, giv = vn_person(rng)
        return f'{fam} {mid} {giv}', vn_form(fam, mid, giv, rng.choice(['strip', 'strip', 'gmf']))
    if country == 'TH':
        f, s = rng.choice(N.TH_FIRST), rng.choice(N.TH_SURNAMES)
        fa, sa = rng.choice(f[1:]), rng.choice(s[1:])
        return f'{fa} {sa}', f'{up(fa)} {up(sa)}'
    if country == 'MY':
        if rng.random() < 0.7:
            female = rng.random() < 0.35
            own = rng.choice(N.MY_F_GIVEN if female else N.MY_M_GIVEN)
            tokens = own + ['@BINTI' if female else '@BIN'] + rng.choice(N.MY_FATHER)
            a = my_render_same(tokens, rng)
            return a, up(a)
        sur, giv = rng.choice(N.MYC_SURNAMES), rng.choice(N.MYC_GIVEN_M + N.MYC_GIVEN_F)
        return f'{sur} {giv}', f'{sur} {giv}'.upper()
    if country == 'CN':
        sur = rng.choice(N.CN_SURNAMES)
        g1, g2 = rng.choice(N.CN_GIVEN2)
        return f'{sur} {pinyin_join(g1, g2)}', f'{sur} {g1}{g2}'.upper()
    if country == 'KH':
        s, g = rng.choice(N.KH_SURNAMES), rng.choice(N.KH_GIVEN)
        return f'{s[0]} {g[0]}', f'{s[0]} {g[0]}'.upper()
    if country == 'LA':
        s, g = rng.choice(N.LA_SURNAMES), rng.choice(N.LA_GIVEN)
        return f'{g[0]} {s[0]}', f'{g[0]} {s[0]}'.upper()
    if country == 'US':
        g, s = rng.choice(N.EN_NICK)[1], rng.choice(N.US_SURNAMES)
    elif country == 'CA':
        if rng.random() < 0.5:
            g, s = rng.choice(N.EN_NICK)[1], rng.choice(N.CA_EN_SURNAMES)
        else:
            g, s = rng.choice(N.CA_GIVEN), rng.choice(N.CA_SURNAMES)
    elif country == 'NL':
        g, s = rng.choice(N.NL_GIVEN), rng.choice(N.NL_COMMON_SURNAMES)
    elif country == 'DE':
        g, s = rng.choice(N.DE_GIVEN), rng.choice(N.DE_SURNAMES + N.DE_COMMON_SURNAMES)
    else:
        g, s = rng.choice(N.FR_GIVEN), rng.choice(N.FR_COMMON_SURNAMES)
    man, _ = west_manifest(g, s, country, rng)
    return f'{g} {s}', man


def dob_variant(rng, kind):
    """Return (alert_dob, manifest_dob, note) for one DOB-variant kind."""
    while True:
        d = rand_date(rng)
        a = d.isoformat()
        if kind == 'swap':
            if d.day > 12 or d.day == d.month:
                continue
            m = f'{d.year:04d}-{d.day:02d}-{d.month:02d}'
            return a, m, 'DOB day and month swapped (DD/MM vs MM/DD)'
        if kind == 'offby1':
            m = (d + datetime.timedelta(days=rng.choice([-1, 1]))).isoformat()
            return a, m, 'DOB off by one day'
        if kind == 'year':
            return a, f'{d.year:04d}-00-00', 'manifest document gives year of birth only'
        if kind == 'yearmonth':
            return a, f'{d.year:04d}-{d.month:02d}-00', 'manifest gives year and month only'
        if kind == 'missing':
            return a, '', 'DOB missing in manifest'
        if kind == 'typo':
            digits = list(a.replace('-', ''))
            pos = rng.choice([3, 5, 6, 7, 7, 6, 2])
            old = digits[pos]
            digits[pos] = rng.choice([x for x in '0123456789' if x != old])
            s = ''.join(digits)
            m = f'{s[:4]}-{s[4:6]}-{s[6:]}'
            if dob_relation(a, m) != 'typo':
                continue
            b = datetime.date(int(s[:4]), int(s[4:6]), int(s[6:]))
            if not (1930 <= b.year <= 2010):
                continue
            part = 'year' if pos < 4 else ('month' if pos < 6 else 'day')
            return a, m, f'one digit mistyped in the {part} ({old}->{digits[pos]})'


def build_dob(c):
    cls = 'dob-variants'
    rng = R(cls)
    countries = ['KR', 'VN', 'TH', 'MY', 'CN', 'KH', 'LA', 'US', 'CA', 'NL', 'DE', 'FR']
    kinds = ['swap', 'typo', 'offby1', 'year', 'yearmonth', 'missing']
    slots = []
    for i, cc in enumerate(countries * 7):
        slots.append((cc, kinds[(i + i // 12) % 6]))
    slots = slots[:80]
    for cc, kind in slots:
        while True:
            alert, man = simple_name(cc, rng)
            a, m, dnote = dob_variant(rng, kind)
            note = dnote + ('' if up(alert) == man else '; name as carried by the manifest')
            if c.add(cls, cc, 'person', alert, a, man, m, note):
                break


# ===========================================================================
# Hand-written person negatives
# ===========================================================================
# styles: 'VN' (fam, mid, giv) | 'MYP' full Malay string | 'FS' (family, given:
# family-first tradition) | 'GS' (given, surname) | 'KR' (surname, given)
def fmt_person(style, country, parts, rng, is_manifest, join_particles=False):
    if style == 'VN':
        fam, mid, giv = parts
        if not is_manifest:
            return f'{fam} {mid} {giv}', ''
        f = rng.choice(['strip', 'strip', 'gmf', 'mgf'])
        return vn_form(fam, mid, giv, f), ('' if f == 'strip' else '; manifest given-name first')
    if style == 'MYP':
        return (up(parts) if is_manifest else parts), ''
    if style == 'KR':
        sur, giv = parts
        if not is_manifest:
            return f'{sur} {giv}', ''
        order = 'SF' if rng.random() < 0.7 else 'GF'
        return kr_fmt(sur, giv.replace('-', ''), order), order_note(order)
    if style == 'FS':
        fam, giv = parts
        if not is_manifest:
            return f'{fam} {giv}', ''
        if rng.random() < 0.6:
            return f'{up(fam)} {up(giv)}', ''
        return f'{up(giv)} {up(fam)}', '; manifest given-name first'
    giv, sur = parts
    if not is_manifest:
        return f'{giv} {sur}', ''
    man, order = west_manifest(giv, sur, country, rng, join_particles=join_particles)
    return man, ('; manifest surname first' if order == 'SF' else '')


NEG_SIMILAR = [
    ('KR', 'KR', ('Lee', 'Dong-hyuk'), ('Lee', 'Dong-hyun'), 'Dong-hyuk 동혁 vs Dong-hyun 동현'),
    ('KR', 'KR', ('Kim', 'Ji-hyun'), ('Kim', 'Ji-hoon'), 'Ji-hyun 지현 vs Ji-hoon 지훈'),
    ('KR', 'KR', ('Park', 'Min-jun'), ('Park', 'Min-jae'), 'Min-jun 민준 vs Min-jae 민재'),
    ('KR', 'KR', ('Choi', 'Eun-ji'), ('Choi', 'Eun-bi'), 'Eun-ji 은지 vs Eun-bi 은비'),
    ('KR', 'KR', ('Jung', 'Hyun-woo'), ('Jung', 'Hyun-soo'), 'Hyun-woo 현우 vs Hyun-soo 현수'),
    ('KR', 'KR', ('Kang', 'Yoo-jin'), ('Kang', 'Yoo-na'), 'Yoo-jin 유진 vs Yoo-na 유나'),
    ('VN', 'VN', ('Nguyễn', 'Văn', 'An'), ('Nguyễn', 'Văn', 'Anh'), 'An vs Anh: different given names'),
    ('VN', 'VN', ('Trần', 'Thị', 'Lan'), ('Trần', 'Thị', 'Loan'), 'Lan vs Loan'),
    ('VN', 'VN', ('Lê', 'Văn', 'Minh'), ('Lê', 'Văn', 'Mạnh'), 'Minh vs Mạnh'),
    ('VN', 'VN', ('Phạm', 'Thị', 'Hoa'), ('Phạm', 'Thị', 'Hoài'), 'Hoa vs Hoài'),
    ('VN', 'VN', ('Hoàng', 'Văn', 'Tâm'), ('Hoàng', 'Văn', 'Tân'), 'Tâm vs Tân'),
    ('VN', 'VN', ('Đặng', 'Văn', 'Khánh'), ('Đặng', 'Văn', 'Khang'), 'Khánh vs Khang'),
    ('VN', 'VN', ('Vũ', 'Minh', 'Quân'), ('Vũ', 'Minh', 'Quang'), 'Quân vs Quang'),
    ('TH', 'GS', ('Somchai', 'Srisuk'), ('Somchat', 'Srisuk'), 'Somchai สมชาย vs Somchat สมชาติ'),
    ('TH', 'GS', ('Prasert', 'Wongsawat'), ('Prasit', 'Wongsawat'), 'Prasert ประเสริฐ vs Prasit ประสิทธิ์'),
    ('TH', 'GS', ('Wichai', 'Thongdee'), ('Wichit', 'Thongdee'), 'Wichai วิชัย vs Wichit วิชิต'),
    ('TH', 'GS', ('Surachai', 'Saetang'), ('Surachet', 'Saetang'), 'Surachai สุรชัย vs Surachet สุรเชษฐ์'),
    ('TH', 'GS', ('Thanawat', 'Kaewkham'), ('Thanawut', 'Kaewkham'), 'Thanawat ธนวัฒน์ vs Thanawut ธนวุฒิ'),
    ('TH', 'GS', ('Boonmee', 'Jaidee'), ('Boonma', 'Jaidee'), 'Boonmee บุญมี vs Boonma บุญมา'),
    ('TH', 'GS', ('Jintana', 'Rattanakorn'), ('Jintara', 'Rattanakorn'), 'Jintana จินตนา vs Jintara จินตรา'),
    ('MY', 'MYP', 'Ahmad Azman bin Ismail', 'Ahmad Azmi bin Ismail', 'Azman vs Azmi'),
    ('MY', 'MYP', 'Mohd Rahim bin Osman', 'Mohd Rahman bin Osman', 'Rahim vs Rahman'),
    ('MY', 'MYP', 'Amir bin Hamzah', 'Amin bin Hamzah', 'Amir vs Amin'),
    ('MY', 'MYP', 'Siti Aminah binti Yusof', 'Siti Amirah binti Yusof', 'Aminah vs Amirah'),
    ('MY', 'MYP', 'Farid bin Kassim', 'Faris bin Kassim', 'Farid vs Faris'),
    ('MY', 'MYP', 'Nur Aina binti Ali', 'Nur Aini binti Ali', 'Aina vs Aini'),
    ('MY', 'FS', ('Lim', 'Siew Lan'), ('Lim', 'Siew Ling'), 'Siew Lan vs Siew Ling'),
    ('CN', 'FS', ('Zhang', 'Wei'), ('Zhang', 'Wen'), 'Wei vs Wen'),
    ('CN', 'FS', ('Wang', 'Jing'), ('Wang', 'Jin'), 'Jing vs Jin'),
    ('CN', 'FS', ('Chen', 'Jie'), ('Chen', 'Jia'), 'Jie vs Jia'),
    ('CN', 'FS', ('Liu', 'Yang'), ('Liu', 'Yan'), 'Yang vs Yan'),
    ('CN', 'FS', ('Zhao', 'Lei'), ('Zhao', 'Li'), 'Lei vs Li'),
    ('CN', 'FS', ('Yang', 'Fan'), ('Yang', 'Fang'), 'Fan vs Fang'),
    ('CN', 'FS', ('Li', 'Xiaoming'), ('Li', 'Xiaoling'), 'Xiaoming vs Xiaoling'),
    ('KH', 'FS', ('Sok', 'Sophea'), ('Sok', 'Sopheap'), 'Sophea vs Sopheap'),
    ('KH', 'FS', ('Keo', 'Vanna'), ('Keo', 'Vannak'), 'Vanna vs Vannak'),
    ('KH', 'FS', ('Heng', 'Sokha'), ('Heng', 'Sokhom'), 'Sokha vs Sokhom'),
    ('KH', 'FS', ('Chea', 'Sothea'), ('Chea', 'Sothy'), 'Sothea vs Sothy'),
    ('KH', 'FS', ('Meas', 'Chantha'), ('Meas', 'Chanthy'), 'Chantha vs Chanthy'),
    ('KH', 'FS', ('Prak', 'Dara'), ('Prak', 'Darith'), 'Dara vs Darith'),
    ('LA', 'GS', ('Khamphanh', 'Sisavath'), ('Khamphone', 'Sisavath'), 'Khamphanh vs Khamphone'),
    ('LA', 'GS', ('Somphone', 'Keomany'), ('Somphong', 'Keomany'), 'Somphone vs Somphong'),
    ('LA', 'GS', ('Chanthala', 'Inthavong'), ('Chanthaly', 'Inthavong'), 'Chanthala vs Chanthaly'),
    ('LA', 'GS', ('Manivanh', 'Thammavong'), ('Manivone', 'Thammavong'), 'Manivanh vs Manivone'),
    ('LA', 'GS', ('Phonesavanh', 'Vongxay'), ('Phonesavath', 'Vongxay'), 'Phonesavanh vs Phonesavath'),
    ('LA', 'GS', ('Souksavanh', 'Luangrath'), ('Souksakhone', 'Luangrath'), 'Souksavanh vs Souksakhone'),
    ('US', 'GS', ('Dean', 'Mitchell'), ('Sean', 'Mitchell'), 'Dean vs Sean'),
    ('US', 'GS', ('Kevin', 'Turner'), ('Devin', 'Turner'), 'Kevin vs Devin'),
    ('US', 'GS', ('Ryan', 'Cooper'), ('Bryan', 'Cooper'), 'Ryan vs Bryan'),
    ('US', 'GS', ('Jason', 'Reed'), ('Mason', 'Reed'), 'Jason vs Mason'),
    ('US', 'GS', ('Paul', 'Bennett'), ('Paula', 'Bennett'), 'Paul vs Paula (twins)'),
    ('US', 'GS', ('Daniel', 'Hughes'), ('Danielle', 'Hughes'), 'Daniel vs Danielle (twins)'),
    ('US', 'GS', ('Lance', 'Foster'), ('Vance', 'Foster'), 'Lance vs Vance'),
    ('CA', 'GS', ('Joan', 'MacDonald'), ('Jean', 'MacDonald'), 'Joan vs Jean'),
    ('CA', 'GS', ('Eric', 'Tremblay'), ('Erica', 'Tremblay'), 'Eric vs Erica (twins)'),
    ('CA', 'GS', ('Denis', 'Côté'), ('Denise', 'Côté'), 'Denis vs Denise (twins)'),
    ('CA', 'GS', ('Louis', 'Gagnon'), ('Louise', 'Gagnon'), 'Louis vs Louise (twins)'),
    ('CA', 'GS', ('Adrien', 'Pelletier'), ('Adrienne', 'Pelletier'), 'Adrien vs Adrienne (twins)'),
    ('CA', 'GS', ('Carl', 'Fraser'), ('Carla', 'Fraser'), 'Carl vs Carla (twins)'),
    ('NL', 'GS', ('Kees', 'de Vries'), ('Koos', 'de Vries'), 'Kees (Cornelis) vs Koos (Jacobus)'),
    ('NL', 'GS', ('Jan', 'Bakker'), ('Jaap', 'Bakker'), 'Jan vs Jaap'),
    ('NL', 'GS', ('Sem', 'Visser'), ('Sam', 'Visser'), 'Sem vs Sam'),
    ('NL', 'GS', ('Joost', 'Smit'), ('Joop', 'Smit'), 'Joost vs Joop'),
    ('NL', 'GS', ('Bram', 'Mulder'), ('Bas', 'Mulder'), 'Bram vs Bas'),
    ('NL', 'GS', ('Wouter', 'de Boer'), ('Wolter', 'de Boer'), 'Wouter vs Wolter'),
    ('DE', 'GS', ('Heike', 'Schulz'), ('Heiko', 'Schulz'), 'Heike vs Heiko (twins)'),
    ('DE', 'GS', ('Lena', 'Hoffmann'), ('Lea', 'Hoffmann'), 'Lena vs Lea'),
    ('DE', 'GS', ('Tim', 'Becker'), ('Tom', 'Becker'), 'Tim vs Tom'),
    ('DE', 'GS', ('Anna', 'Wagner'), ('Hanna', 'Wagner'), 'Anna vs Hanna'),
    ('DE', 'GS', ('Ines', 'Schäfer'), ('Inga', 'Schäfer'), 'Ines vs Inga'),
    ('DE', 'GS', ('Karl', 'Richter'), ('Kurt', 'Richter'), 'Karl vs Kurt'),
    ('DE', 'GS', ('Jens', 'Neumann'), ('Jan', 'Neumann'), 'Jens vs Jan'),
    ('FR', 'GS', ('Louis', 'Martin'), ('Louise', 'Martin'), 'Louis vs Louise (twins)'),
    ('FR', 'GS', ('Denis', 'Moreau'), ('Denise', 'Moreau'), 'Denis vs Denise (twins)'),
    ('FR', 'GS', ('Simon', 'Laurent'), ('Simone', 'Laurent'), 'Simon vs Simone (twins)'),
    ('FR', 'GS', ('Pascal', 'Girard'), ('Pascale', 'Girard'), 'Pascal vs Pascale (twins)'),
    ('FR', 'GS', ('Michel', 'Lefèvre'), ('Michèle', 'Lefèvre'), 'Michel vs Michèle (twins)'),
    ('FR', 'GS', ('Jean', 'Rousseau'), ('Jeanne', 'Rousseau'), 'Jean vs Jeanne (twins)'),
]

NEG_SHARED_GIVEN = [
    ('VN', 'VN', ('Nguyễn', 'Văn', 'Hùng'), ('Trần', 'Văn', 'Hùng'), 'Nguyễn vs Trần'),
    ('VN', 'VN', ('Phạm', 'Thị', 'Lan'), ('Phan', 'Thị', 'Lan'), 'Phạm vs Phan'),
    ('VN', 'VN', ('Hồ', 'Văn', 'Nam'), ('Hà', 'Văn', 'Nam'), 'Hồ vs Hà'),
    ('VN', 'VN', ('Lê', 'Thị', 'Mai'), ('Lý', 'Thị', 'Mai'), 'Lê vs Lý'),
    ('VN', 'VN', ('Đinh', 'Văn', 'Sơn'), ('Đoàn', 'Văn', 'Sơn'), 'Đinh vs Đoàn'),
    ('VN', 'VN', ('Đào', 'Thị', 'Hoa'), ('Đỗ', 'Thị', 'Hoa'), 'Đào vs Đỗ'),
    ('VN', 'VN', ('Trương', 'Minh', 'Tuấn'), ('Trần', 'Minh', 'Tuấn'), 'Trương vs Trần'),
    ('TH', 'GS', ('Somchai', 'Wongsawat'), ('Somchai', 'Wongsawang'), 'Wongsawat vs Wongsawang'),
    ('TH', 'GS', ('Prasert', 'Saetang'), ('Prasert', 'Saelim'), 'Sae-tang vs Sae-lim clans'),
    ('TH', 'GS', ('Malee', 'Thongdee'), ('Malee', 'Thongma'), 'Thongdee vs Thongma'),
    ('TH', 'GS', ('Siriporn', 'Srisuk'), ('Siriporn', 'Srisombat'), 'Srisuk vs Srisombat'),
    ('TH', 'GS', ('Kittisak', 'Rattanakorn'), ('Kittisak', 'Rattanaporn'), 'Rattanakorn vs Rattanaporn'),
    ('TH', 'GS', ('Nattapong', 'Charoenkul'), ('Nattapong', 'Charoensuk'), 'Charoenkul vs Charoensuk'),
    ('TH', 'GS', ('Wanida', 'Kaewkham'), ('Wanida', 'Kaewmanee'), 'Kaewkham vs Kaewmanee'),
    ('MY', 'MYP', 'Ahmad bin Ismail', 'Ahmad bin Ibrahim', "father's name Ismail vs Ibrahim"),
    ('MY', 'MYP', 'Siti Aminah binti Hassan', 'Siti Aminah binti Hussein', "father's name Hassan vs Hussein"),
    ('MY', 'MYP', 'Mohd Faizal bin Yusof', 'Mohd Faizal bin Yunus', "father's name Yusof vs Yunus"),
    ('MY', 'MYP', 'Nur Aisyah binti Abdullah', 'Nur Aisyah binti Abdul Rahman', "father's name Abdullah vs Abdul Rahman"),
    ('MY', 'FS', ('Tan', 'Wei Ming'), ('Lim', 'Wei Ming'), 'Tan vs Lim'),
    ('MY', 'FS', ('Ng', 'Kok Leong'), ('Wong', 'Kok Leong'), 'Ng vs Wong'),
    ('MY', 'FS', ('Lee', 'Mei Ling'), ('Lau', 'Mei Ling'), 'Lee vs Lau'),
    ('CN', 'FS', ('Wang', 'Wei'), ('Zhang', 'Wei'), 'Wang vs Zhang'),
    ('CN', 'FS', ('Li', 'Jun'), ('Liu', 'Jun'), 'Li vs Liu'),
    ('CN', 'FS', ('Chen', 'Hao'), ('Cheng', 'Hao'), 'Chen vs Cheng'),
    ('CN', 'FS', ('Huang', 'Lei'), ('Wang', 'Lei'), 'Huang vs Wang'),
    ('CN', 'FS', ('Zhou', 'Min'), ('Zhao', 'Min'), 'Zhou vs Zhao'),
    ('CN', 'FS', ('Xu', 'Jing'), ('Xue', 'Jing'), 'Xu vs Xue'),
    ('CN', 'FS', ('Sun', 'Tao'), ('Song', 'Tao'), 'Sun vs Song'),
    ('KH', 'FS', ('Sok', 'Dara'), ('Som', 'Dara'), 'Sok vs Som'),
    ('KH', 'FS', ('Keo', 'Sokha'), ('Kem', 'Sokha'), 'Keo vs Kem'),
    ('KH', 'FS', ('Ly', 'Sophal'), ('Lim', 'Sophal'), 'Ly vs Lim'),
    ('KH', 'FS', ('Chea', 'Sophea'), ('Chhay', 'Sophea'), 'Chea vs Chhay'),
    ('KH', 'FS', ('Heng', 'Vanna'), ('Hem', 'Vanna'), 'Heng vs Hem'),
    ('KH', 'FS', ('Meas', 'Bopha'), ('Mao', 'Bopha'), 'Meas vs Mao'),
    ('KH', 'FS', ('Prak', 'Rotha'), ('Pich', 'Rotha'), 'Prak vs Pich'),
    ('LA', 'GS', ('Souksavanh', 'Phommachanh'), ('Souksavanh', 'Phommavong'), 'Phommachanh vs Phommavong'),
    ('LA', 'GS', ('Bounmy', 'Vongxay'), ('Bounmy', 'Vongsa'), 'Vongxay vs Vongsa (different names)'),
    ('LA', 'GS', ('Khamphanh', 'Sisavath'), ('Khamphanh', 'Sisouphanh'), 'Sisavath vs Sisouphanh'),
    ('LA', 'GS', ('Somphone', 'Inthavong'), ('Somphone', 'Inthalath'), 'Inthavong vs Inthalath'),
    ('LA', 'GS', ('Vilay', 'Keomany'), ('Vilay', 'Keophila'), 'Keomany vs Keophila'),
    ('LA', 'GS', ('Chanthala', 'Sayasone'), ('Chanthala', 'Xayavong'), 'Sayasone vs Xayavong'),
    ('LA', 'GS', ('Manivanh', 'Luangrath'), ('Manivanh', 'Luangkhot'), 'Luangrath vs Luangkhot'),
    ('US', 'GS', ('Michael', 'Johnson'), ('Michael', 'Johnston'), 'Johnson vs Johnston'),
    ('US', 'GS', ('Robert', 'Carter'), ('Robert', 'Parker'), 'Carter vs Parker'),
    ('US', 'GS', ('Jennifer', 'Hill'), ('Jennifer', 'Hall'), 'Hill vs Hall'),
    ('US', 'GS', ('David', 'Harris'), ('David', 'Harrison'), 'Harris vs Harrison'),
    ('US', 'GS', ('James', 'Miller'), ('James', 'Mills'), 'Miller vs Mills'),
    ('US', 'GS', ('Sarah', 'Collins'), ('Sarah', 'Collier'), 'Collins vs Collier'),
    ('US', 'GS', ('Daniel', 'Bell'), ('Daniel', 'Ball'), 'Bell vs Ball'),
    ('CA', 'GS', ('Marc', 'Roy'), ('Marc', 'Ray'), 'Roy vs Ray'),
    ('CA', 'GS', ('Sophie', 'Morin'), ('Sophie', 'Marin'), 'Morin vs Marin'),
    ('CA', 'GS', ('Luc', 'Boucher'), ('Luc', 'Bouchard'), 'Boucher vs Bouchard'),
    ('CA', 'GS', ('Julie', 'Gagnon'), ('Julie', 'Gagné'), 'Gagnon vs Gagné'),
    ('CA', 'GS', ('Ryan', 'Murray'), ('Ryan', 'Murphy'), 'Murray vs Murphy'),
    ('CA', 'GS', ('Chantal', 'Leblanc'), ('Chantal', 'Lebrun'), 'Leblanc vs Lebrun'),
    ('CA', 'GS', ('Eric', 'Fortin'), ('Eric', 'Fortier'), 'Fortin vs Fortier'),
    ('NL', 'GS', ('Jan', 'de Vries'), ('Jan', 'de Vos'), 'de Vries vs de Vos'),
    ('NL', 'GS', ('Pieter', 'Bakker'), ('Pieter', 'Bekker'), 'Bakker vs Bekker'),
    ('NL', 'GS', ('Sanne', 'van Dijk'), ('Sanne', 'van Dam'), 'van Dijk vs van Dam'),
    ('NL', 'GS', ('Thijs', 'Bos'), ('Thijs', 'Bok'), 'Bos vs Bok'),
    ('NL', 'GS', ('Femke', 'Hoekstra'), ('Femke', 'Hoeksma'), 'Hoekstra vs Hoeksma'),
    ('NL', 'GS', ('Ruud', 'Postma'), ('Ruud', 'Posthuma'), 'Postma vs Posthuma'),
    ('NL', 'GS', ('Joost', 'Kok'), ('Joost', 'Kuik'), 'Kok vs Kuik'),
    ('DE', 'GS', ('Thomas', 'Becker'), ('Thomas', 'Beckmann'), 'Becker vs Beckmann'),
    ('DE', 'GS', ('Sabine', 'Weber'), ('Sabine', 'Weiser'), 'Weber vs Weiser'),
    ('DE', 'GS', ('Stefan', 'Fischer'), ('Stefan', 'Fechner'), 'Fischer vs Fechner'),
    ('DE', 'GS', ('Andreas', 'Richter'), ('Andreas', 'Reichert'), 'Richter vs Reichert'),
    ('DE', 'GS', ('Katrin', 'Klein'), ('Katrin', 'Kleine'), 'Klein vs Kleine'),
    ('DE', 'GS', ('Michael', 'Wolf'), ('Michael', 'Wolter'), 'Wolf vs Wolter'),
    ('DE', 'GS', ('Jürgen', 'Hahn'), ('Jürgen', 'Hagen'), 'Hahn vs Hagen'),
    ('FR', 'GS', ('Pierre', 'Martin'), ('Pierre', 'Marin'), 'Martin vs Marin'),
    ('FR', 'GS', ('Nathalie', 'Bernard'), ('Nathalie', 'Besnard'), 'Bernard vs Besnard'),
    ('FR', 'GS', ('Sophie', 'Durand'), ('Sophie', 'Durant'), 'Durand vs Durant'),
    ('FR', 'GS', ('Julien', 'Moreau'), ('Julien', 'Morel'), 'Moreau vs Morel'),
    ('FR', 'GS', ('Camille', 'Girard'), ('Camille', 'Gérard'), 'Girard vs Gérard'),
    ('FR', 'GS', ('Nicolas', 'Faure'), ('Nicolas', 'Favre'), 'Faure vs Favre'),
    ('FR', 'GS', ('Isabelle', 'Blanc'), ('Isabelle', 'Blanchard'), 'Blanc vs Blanchard'),
]

NEG_NAMESAKE = [
    ('KR', 'KR', ('Kim', 'Min-jun')), ('KR', 'KR', ('Lee', 'Ji-eun')), ('KR', 'KR', ('Park', 'Ji-hoon')),
    ('KR', 'HANGUL', ('김영수', 'KIM YOUNGSOO')), ('KR', 'KR', ('Choi', 'Seo-yeon')),
    ('KR', 'KR', ('Jung', 'Min-ji')), ('KR', 'HANGUL', ('이서준', 'LEE SEOJUN')),
    ('VN', 'VN', ('Nguyễn', 'Thị', 'Lan')), ('VN', 'VN', ('Nguyễn', 'Văn', 'Hùng')),
    ('VN', 'VN', ('Trần', 'Văn', 'Nam')), ('VN', 'VN', ('Lê', 'Thị', 'Hoa')),
    ('VN', 'VN', ('Phạm', 'Văn', 'Long')), ('VN', 'VN', ('Nguyễn', 'Thị', 'Hương')),
    ('VN', 'VN', ('Trần', 'Thị', 'Mai')),
    ('TH', 'GS', ('Somchai', 'Saetang')), ('TH', 'GS', ('Somsak', 'Thongdee')),
    ('TH', 'GS', ('Malee', 'Jaidee')), ('TH', 'GS', ('Prasert', 'Saelim')),
    ('TH', 'GS', ('Siriporn', 'Srisuk')), ('TH', 'GS', ('Somporn', 'Boonsong')),
    ('MY', 'MYP', 'Mohd Faizal bin Ahmad'), ('MY', 'MYP', 'Nur Aisyah binti Abdullah'),
    ('MY', 'MYP', 'Ahmad bin Ismail'), ('MY', 'MYP', 'Siti Aminah binti Hassan'),
    ('MY', 'MYP', 'Muhammad Hafiz bin Abdullah'), ('MY', 'FS', ('Tan', 'Wei Ming')),
    ('MY', 'FS', ('Lim', 'Siew Lan')),
    ('CN', 'FS', ('Zhang', 'Wei')), ('CN', 'FS', ('Wang', 'Fang')), ('CN', 'FS', ('Li', 'Na')),
    ('CN', 'FS', ('Liu', 'Yang')), ('CN', 'FS', ('Chen', 'Jing')), ('CN', 'FS', ('Wang', 'Wei')),
    ('CN', 'FS', ('Li', 'Qiang')),
    ('KH', 'FS', ('Sok', 'Dara')), ('KH', 'FS', ('Chea', 'Sophea')), ('KH', 'FS', ('Keo', 'Sokha')),
    ('KH', 'FS', ('Heng', 'Vanna')), ('KH', 'FS', ('Ly', 'Sophal')), ('KH', 'FS', ('Chan', 'Bopha')),
    ('LA', 'GS', ('Somphone', 'Inthavong')), ('LA', 'GS', ('Bounmy', 'Keomany')),
    ('LA', 'GS', ('Khamphanh', 'Vongxay')), ('LA', 'GS', ('Souksavanh', 'Phommachanh')),
    ('LA', 'GS', ('Vilay', 'Sisavath')), ('LA', 'GS', ('Chanthala', 'Thammavong')),
    ('US', 'GS', ('John', 'Smith')), ('US', 'GS', ('Michael', 'Johnson')), ('US', 'GS', ('David', 'Williams')),
    ('US', 'GS', ('James', 'Brown')), ('US', 'GS', ('Robert', 'Jones')), ('US', 'GS', ('Mary', 'Miller')),
    ('US', 'GS', ('Jennifer', 'Davis')),
    ('CA', 'GS', ('David', 'Martin')), ('CA', 'GS', ('Sarah', 'Wilson')), ('CA', 'GS', ('Jean', 'Tremblay')),
    ('CA', 'GS', ('Marie', 'Gagnon')), ('CA', 'GS', ('Michael', 'Brown')), ('CA', 'GS', ('Emily', 'Roy')),
    ('NL', 'GS', ('Jan', 'de Vries')), ('NL', 'GS', ('Peter', 'de Jong')), ('NL', 'GS', ('Jan', 'Jansen')),
    ('NL', 'GS', ('Kees', 'Bakker')), ('NL', 'GS', ('Sanne', 'Visser')), ('NL', 'GS', ('Daan', 'de Boer')),
    ('NL', 'GS', ('Anouk', 'van Dijk')),
    ('DE', 'GS', ('Thomas', 'Müller')), ('DE', 'GS', ('Michael', 'Schmidt')),
    ('DE', 'GS', ('Andreas', 'Schneider')), ('DE', 'GS', ('Stefan', 'Fischer')),
    ('DE', 'GS', ('Sabine', 'Weber')), ('DE', 'GS', ('Anna', 'Meyer')), ('DE', 'GS', ('Jürgen', 'Wagner')),
    ('FR', 'GS', ('Marie', 'Martin')), ('FR', 'GS', ('Jean', 'Bernard')), ('FR', 'GS', ('Pierre', 'Dubois')),
    ('FR', 'GS', ('Nicolas', 'Thomas')), ('FR', 'GS', ('Sophie', 'Petit')), ('FR', 'GS', ('Philippe', 'Robert')),
    ('FR', 'GS', ('Nathalie', 'Durand')),
]

NEG_PARTICLES = {
    'NL': [('van der Berg', 'van den Berg'), ('van den Bosch', 'van den Bos'),
           ('van der Linden', 'van der Linde'), ('de Jong', 'de Jongh'), ('de Jong', 'de Jonge'),
           ('Jansen', 'Janssen'), ('Jansen', 'Janse'), ('Visser', 'Vissers'), ('Smit', 'Smits'),
           ('de Wit', 'de Witte'), ('Mulder', 'Mulders'), ('Hendriks', 'Hendrikx'),
           ('Peters', 'Peeters'), ('Willems', 'Willemse'), ('van Dam', 'van Damme'),
           ('de Graaf', 'de Graaff'), ('van der Wal', 'van de Wal'), ('Kuiper', 'Kuipers'),
           ('Dekker', 'Dekkers'), ('van der Heijden', 'van der Heide'),
           ('van der Velde', 'van de Velde'), ('van der Veen', 'van de Veen'),
           ('Vermeulen', 'van der Meulen'), ('van der Meer', 'van der Meulen'),
           ('van den Berg', 'van den Burg')],
    'DE': [('Müller', 'Möller'), ('Schmidt', 'Schmitt'), ('Schmidt', 'Schmid'), ('Meyer', 'Meier'),
           ('Maier', 'Mayer'), ('Hoffmann', 'Hofmann'), ('Schulz', 'Schulze'), ('Schulz', 'Schultz'),
           ('Wagner', 'Wegner'), ('Krüger', 'Kröger'), ('Schröder', 'Schröter'), ('Wolf', 'Wolff'),
           ('Neumann', 'Naumann'), ('Lange', 'Lang'), ('Vogel', 'Vogl'), ('Schneider', 'Schnieder'),
           ('Bauer', 'Baur'), ('Frank', 'Franke'), ('Kraus', 'Krause'), ('Walter', 'Walther'),
           ('Schäfer', 'Schäffer'), ('Peters', 'Petersen'), ('Zimmermann', 'Zimmer'),
           ('Lehmann', 'Lehnert'), ('Seidel', 'Seidl')],
    'FR': [('Lefèvre', 'Lefebvre'), ('Lefèvre', 'Lefeuvre'), ('Dupont', 'Dupond'),
           ('Renaud', 'Renault'), ('Leclerc', 'Leclercq'), ('Gauthier', 'Gautier'),
           ('Chevalier', 'Chevallier'), ('Roux', 'Leroux'), ('Lemaire', 'Lemaître'),
           ('Rousseau', 'Rousset'), ('Boucher', 'Bouchet'), ('Michaud', 'Michaux'),
           ('Marchand', 'Marchant'), ('Arnaud', 'Arnault'), ('Fontaine', 'Lafontaine'),
           ('Girard', 'Girardin'), ('Perrin', 'Perrot'), ('Bertrand', 'Bertin'), ('Roy', 'Leroy'),
           ('Lebrun', 'Brun'), ('Leblanc', 'Blanc'), ('Dumont', 'Dumond'), ('Delmas', 'Dumas'),
           ('Thibault', 'Thibaud'), ('Duval', 'Laval')],
}
PART_GIVEN = {
    'NL': ['Jan', 'Pieter', 'Sanne', 'Anouk', 'Daan', 'Thijs', 'Femke', 'Lotte', 'Bram', 'Joost',
           'Marieke', 'Wouter', 'Eva', 'Ruben', 'Sjoerd'],
    'DE': ['Thomas', 'Michael', 'Sabine', 'Andreas', 'Stefan', 'Katrin', 'Jürgen', 'Ute',
           'Christian', 'Julia', 'Markus', 'Petra', 'Frank', 'Birgit', 'Tobias'],
    'FR': ['Pierre', 'Marie', 'Jean', 'Sophie', 'Nicolas', 'Camille', 'Julien', 'Nathalie',
           'François', 'Céline', 'Hélène', 'Laurent', 'Isabelle', 'Mathieu', 'Élodie'],
}


def build_neg_people(c):
    # neg-same-dob-similar-name / neg-shared-given-different-surname
    for cls, rows in (('neg-same-dob-similar-name', NEG_SIMILAR),
                      ('neg-shared-given-different-surname', NEG_SHARED_GIVEN)):
        rng = R(cls)
        for country, style, pa, pb, note in rows:
            while True:
                dob = rdob(rng)
                alert, _ = fmt_person(style, country, pa, rng, False)
                man, onote = fmt_person(style, country, pb, rng, True)
                if c.add(cls, country, 'person', alert, dob, man, dob,
                         f'different person: {note}; same DOB{onote}'):
                    break
    # neg-namesake-different-dob
    cls = 'neg-namesake-different-dob'
    rng = R(cls)
    for country, style, parts in NEG_NAMESAKE:
        while True:
            d = rand_date(rng, 1950, 2002)
            adob = d.isoformat()
            mode = rng.choices(['year', 'sameyear', 'yearonly'], [0.55, 0.3, 0.15])[0]
            if mode == 'year':
                y2 = d.year + rng.choice([-1, 1]) * rng.randint(3, 25)
                if not 1940 <= y2 <= 2010:
                    continue
                mdob = datetime.date(y2, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
                dnote = 'different year of birth'
            elif mode == 'sameyear':
                mdob = datetime.date(d.year, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
                dnote = 'same year, different month and day'
            else:
                y2 = d.year + rng.choice([-1, 1]) * rng.randint(3, 20)
                mdob = f'{y2:04d}-00-00'
                dnote = 'manifest gives a different year of birth only'
            if not clearly_different(adob, mdob):
                continue
            if style == 'HANGUL':
                alert, man, onote = parts[0], parts[1], ''
            else:
                alert, _ = fmt_person(style, country, parts, rng, False)
                man, onote = fmt_person(style, country, parts, rng, True)
            if c.add(cls, country, 'person', alert, adob, man, mdob,
                     f'common name, different person: {dnote}{onote}'):
                break
    # neg-particles-other-family
    cls = 'neg-particles-other-family'
    rng = R(cls)
    for country in ('NL', 'DE', 'FR'):
        for sa, sb in NEG_PARTICLES[country]:
            while True:
                g = rng.choice(PART_GIVEN[country])
                dob = rdob(rng)
                alert = f'{g} {sa}'
                join = country == 'NL' and ' ' in sb and rng.random() < 0.35
                man, order = west_manifest(g, sb, country, rng, join_particles=join)
                note = f'different family name: {sa} vs {sb}; same given name and DOB'
                if join:
                    note += '; manifest joins particles'
                if order == 'SF':
                    note += '; manifest surname first'
                if c.add(cls, country, 'person', alert, dob, man, dob, note):
                    break


# ===========================================================================
# Companies (hand-written)
# ===========================================================================
CO_LEGAL = [
    ('MY', 'Golden Harvest Trading Sdn. Bhd.', 'GOLDEN HARVEST TRADING SENDIRIAN BERHAD', 'Sdn. Bhd. = Sendirian Berhad (private limited company)'),
    ('MY', 'Sinar Jaya Logistik Sendirian Berhad', 'SINAR JAYA LOGISTIK SDN BHD', 'Sendirian Berhad = Sdn Bhd'),
    ('MY', 'Perniagaan Cahaya Timur Sdn Bhd', 'PERNIAGAAN CAHAYA TIMUR S/B', 'S/B = informal abbreviation of Sdn Bhd'),
    ('MY', 'Bintang Maju Holdings Berhad', 'BINTANG MAJU HOLDINGS BHD', 'Berhad = Bhd (public company)'),
    ('MY', 'Syarikat Kilang Getah Sentosa Sdn. Bhd.', 'SYARIKAT KILANG GETAH SENTOSA SENDIRIAN BERHAD', 'Sdn. Bhd. = Sendirian Berhad'),
    ('MY', 'Teguh Marine Engineering (M) Sdn Bhd', 'TEGUH MARINE ENGINEERING (M) SENDIRIAN BERHAD', 'Sdn Bhd = Sendirian Berhad'),
    ('MY', 'Lembah Hijau Plantations Bhd.', 'LEMBAH HIJAU PLANTATIONS BERHAD', 'Bhd. = Berhad'),
    ('MY', 'Pelangi Tekstil PLT', 'PELANGI TEKSTIL PERKONGSIAN LIABILITI TERHAD', 'PLT = Perkongsian Liabiliti Terhad (LLP)'),
    ('TH', 'Siam Pacific Foods Co., Ltd.', 'SIAM PACIFIC FOODS COMPANY LIMITED', 'Co., Ltd. = Company Limited (บริษัท ... จำกัด)'),
    ('TH', 'Chao Phraya Cold Storage Company Limited', 'CHAO PHRAYA COLD STORAGE CO LTD', 'Company Limited = Co Ltd'),
    ('TH', 'Rattanakosin Sugar Public Company Limited', 'RATTANAKOSIN SUGAR PCL', 'Public Company Limited = PCL'),
    ('TH', 'Nakhon Ratchasima Feedmill PCL', 'NAKHON RATCHASIMA FEEDMILL PUBLIC COMPANY LIMITED', 'PCL = Public Company Limited (บริษัท ... จำกัด (มหาชน))'),
    ('TH', 'Thai Ruamjai Packaging Public Co., Ltd.', 'THAI RUAMJAI PACKAGING PCL', 'Public Co., Ltd. = PCL'),
    ('TH', 'Lanna Silk Limited Partnership', 'LANNA SILK LTD., PART.', 'Limited Partnership = Ltd., Part. (ห้างหุ้นส่วนจำกัด)'),
    ('TH', 'Sukhothai Ceramic Co.,Ltd.', 'SUKHOTHAI CERAMIC COMPANY LIMITED', 'Co.,Ltd. = Company Limited'),
    ('VN', 'Công ty TNHH Thương mại Hoàng Long', 'HOANG LONG TRADING CO., LTD.', 'Vietnamese registered name vs registered English name: Công ty TNHH = Co., Ltd., Thương mại = Trading'),
    ('VN', 'An Phát Seafood Joint Stock Company', 'AN PHAT SEAFOOD JSC', 'Joint Stock Company = JSC'),
    ('VN', 'Công ty Cổ phần Thủy sản Minh Phát', 'MINH PHAT SEAFOOD JOINT STOCK COMPANY', 'Công ty Cổ phần = Joint Stock Company, Thủy sản = Seafood'),
    ('VN', 'Công ty TNHH Dệt may Minh Quang', 'MINH QUANG TEXTILE AND GARMENT COMPANY LIMITED', 'TNHH = Limited (Liability) Company, Dệt may = Textile and Garment'),
    ('VN', 'Tân Phú Plastics Limited Liability Company', 'TAN PHU PLASTICS LLC', 'Limited Liability Company = LLC (Công ty TNHH)'),
    ('VN', 'Công ty Cổ phần Vận tải Biển Bình Minh', 'BINH MINH MARITIME TRANSPORT JSC', 'Công ty Cổ phần = JSC, Vận tải Biển = Maritime Transport'),
    ('VN', 'CTCP Xuất nhập khẩu Thành Đạt', 'THANH DAT IMPORT EXPORT JOINT STOCK COMPANY', 'CTCP = Công ty Cổ phần = Joint Stock Company'),
    ('VN', 'Công ty TNHH MTV Gỗ Phú Thịnh', 'PHU THINH WOOD ONE MEMBER CO., LTD.', 'TNHH MTV = One Member Co., Ltd., Gỗ = Wood'),
    ('KR', '(주)한빛상사', 'HANBIT SANGSA CO., LTD.', '(주) = 주식회사 = Co., Ltd.; 한빛상사 transliterated'),
    ('KR', '주식회사 대성테크', 'DAESUNG TECH CO LTD', '주식회사 = Co Ltd; 대성테크 transliterated'),
    ('KR', 'Daesung Precision Chusik Hoesa', 'DAESUNG PRECISION CO., LTD.', 'Chusik Hoesa (McCune-Reischauer of 주식회사) = Co., Ltd.'),
    ('KR', 'Hanil Chemical Jusik Hoesa', 'HANIL CHEMICAL CO LTD', 'Jusik Hoesa (Revised Romanization of 주식회사) = Co Ltd'),
    ('KR', 'Seoul Marine Co., Ltd.', 'SEOUL MARINE COMPANY LIMITED', 'Co., Ltd. = Company Limited'),
    ('KR', '동방물류(주)', 'DONGBANG LOGISTICS CO., LTD.', '(주) suffix = Co., Ltd.; 물류 = logistics'),
    ('KR', 'Sejin Trading Yuhan Hoesa', 'SEJIN TRADING LTD', 'Yuhan Hoesa (유한회사, limited company) = Ltd'),
    ('CN', 'Ningbo Haixing Trading Co., Ltd.', 'NINGBO HAIXING TRADING COMPANY LIMITED', 'Co., Ltd. = Company Limited (有限公司)'),
    ('CN', 'Shenzhen Jinhua Electronics Company Limited', 'SHENZHEN JINHUA ELECTRONICS CO LTD', 'Company Limited = Co Ltd'),
    ('CN', 'Guangzhou Baiyun Garment Co Ltd', 'GUANGZHOU BAIYUN GARMENT CO., LTD.', 'Co Ltd = Co., Ltd.'),
    ('CN', 'Yiwu Hengxin Commodity Youxian Gongsi', 'YIWU HENGXIN COMMODITY CO., LTD.', 'Youxian Gongsi (pinyin of 有限公司) = Co., Ltd.'),
    ('CN', 'Qingdao Lanhai Foods Ltd.', 'QINGDAO LANHAI FOODS LIMITED', 'Ltd. = Limited'),
    ('CN', 'Xiamen Ruixiang Import and Export Co., Ltd.', 'XIAMEN RUIXIANG IMPORT AND EXPORT COMPANY LIMITED', 'Co., Ltd. = Company Limited'),
    ('KH', 'Angkor Golden Rice Co., Ltd.', 'ANGKOR GOLDEN RICE COMPANY LIMITED', 'Co., Ltd. = Company Limited (private limited company)'),
    ('KH', 'Mekong Garment Manufacturing Company Limited', 'MEKONG GARMENT MANUFACTURING CO LTD', 'Company Limited = Co Ltd'),
    ('KH', 'Phnom Penh Cold Chain Plc.', 'PHNOM PENH COLD CHAIN PUBLIC LIMITED COMPANY', 'Plc. = Public Limited Company'),
    ('KH', 'Kampot Pepper Export Co., Ltd.', 'KAMPOT PEPPER EXPORT CO LTD', 'Co., Ltd. = Co Ltd'),
    ('KH', 'Battambang Agro Industry Co., Ltd.', 'BATTAMBANG AGRO INDUSTRY COMPANY LIMITED', 'Co., Ltd. = Company Limited'),
    ('LA', 'Vientiane Coffee Export Sole Co., Ltd.', 'VIENTIANE COFFEE EXPORT SOLE COMPANY LIMITED', 'Sole Co., Ltd. = Sole Company Limited'),
    ('LA', 'Champasak Agro Co., Ltd.', 'CHAMPASAK AGRO COMPANY LIMITED', 'Co., Ltd. = Company Limited'),
    ('LA', 'Luang Prabang Handicraft Sole Company Limited', 'LUANG PRABANG HANDICRAFT SOLE CO LTD', 'Sole Company Limited = Sole Co Ltd'),
    ('LA', 'Savan Logistics Co.,Ltd', 'SAVAN LOGISTICS COMPANY LIMITED', 'Co.,Ltd = Company Limited'),
    ('LA', 'Lao Mekong Trading Public Company', 'LAO MEKONG TRADING PUBLIC CO', 'Public Company = Public Co'),
    ('LA', 'Xieng Khouang Minerals Co., Ltd.', 'XIENG KHOUANG MINERALS COMPANY LIMITED', 'Co., Ltd. = Company Limited'),
    ('US', 'Pacific Rim Imports, Inc.', 'PACIFIC RIM IMPORTS INCORPORATED', 'Inc. = Incorporated'),
    ('US', 'Great Lakes Machinery Corporation', 'GREAT LAKES MACHINERY CORP', 'Corporation = Corp'),
    ('US', 'Blue Ridge Outdoor Supply LLC', 'BLUE RIDGE OUTDOOR SUPPLY LIMITED LIABILITY COMPANY', 'LLC = Limited Liability Company'),
    ('US', 'Bayside Freight Forwarding Company', 'BAYSIDE FREIGHT FORWARDING CO', 'Company = Co'),
    ('US', 'Lone Star Cotton Traders, L.L.C.', 'LONE STAR COTTON TRADERS LLC', 'L.L.C. = LLC'),
    ('US', 'Evergreen Medical Devices Incorporated', 'EVERGREEN MEDICAL DEVICES INC', 'Incorporated = Inc'),
    ('CA', 'Northern Maple Foods Ltd.', 'NORTHERN MAPLE FOODS LIMITED', 'Ltd. = Limited'),
    ('CA', 'Les Aliments Boréal Ltée', 'LES ALIMENTS BOREAL LIMITEE', 'Ltée = Limitée (French form of Ltd.)'),
    ('CA', 'Fraser Valley Lumber Inc.', 'FRASER VALLEY LUMBER INCORPORATED', 'Inc. = Incorporated'),
    ('CA', 'Distribution St-Laurent Inc.', 'DISTRIBUTION ST-LAURENT INCORPOREE', 'Inc. = Incorporée (French form)'),
    ('CA', 'Prairie Grain Exporters Corporation', 'PRAIRIE GRAIN EXPORTERS CORP.', 'Corporation = Corp.'),
    ('CA', 'Atlantic Seafood Packers Limited', 'ATLANTIC SEAFOOD PACKERS LTD', 'Limited = Ltd'),
    ('DE', 'Schneider Maschinenbau GmbH', 'SCHNEIDER MASCHINENBAU GESELLSCHAFT MIT BESCHRAENKTER HAFTUNG', 'GmbH = Gesellschaft mit beschränkter Haftung (GmbHG §4)'),
    ('DE', 'Hansa Kühltransporte Gesellschaft mit beschränkter Haftung', 'HANSA KUEHLTRANSPORTE GMBH', 'Gesellschaft mit beschränkter Haftung = GmbH; ü -> UE'),
    ('DE', 'Becker Import Handelsgesellschaft mbH', 'BECKER IMPORT HANDELSGESELLSCHAFT MIT BESCHRAENKTER HAFTUNG', 'Handelsgesellschaft mbH spelled out'),
    ('DE', 'Nordlicht Logistik GmbH & Co. KG', 'NORDLICHT LOGISTIK GMBH UND CO KG', 'GmbH & Co. KG = GmbH und Co KG'),
    ('DE', 'Rheinland Chemie AG', 'RHEINLAND CHEMIE AKTIENGESELLSCHAFT', 'AG = Aktiengesellschaft (AktG §4)'),
    ('DE', 'Bayerische Präzisionsteile Gesellschaft mbH', 'BAYERISCHE PRAEZISIONSTEILE GMBH', 'Gesellschaft mbH = GmbH; ä -> AE'),
    ('DE', 'Weber Textil Handelsges. mbH', 'WEBER TEXTIL HANDELSGESELLSCHAFT MBH', 'Handelsges. = Handelsgesellschaft'),
    ('NL', 'Van Dijk Bloemen B.V.', 'VAN DIJK BLOEMEN BV', 'B.V. = BV'),
    ('NL', 'Hollandse Kaashandel Besloten Vennootschap', 'HOLLANDSE KAASHANDEL B.V.', 'Besloten Vennootschap = B.V. (BW2 art. 2:177)'),
    ('NL', 'Rotterdam Maritime Services N.V.', 'ROTTERDAM MARITIME SERVICES NAAMLOZE VENNOOTSCHAP', 'N.V. = Naamloze Vennootschap'),
    ('NL', 'De Vries & Zonen V.O.F.', 'DE VRIES EN ZONEN VENNOOTSCHAP ONDER FIRMA', 'V.O.F. = Vennootschap onder firma; & = en'),
    ('NL', 'Westland Kassenbouw BV', 'WESTLAND KASSENBOUW BESLOTEN VENNOOTSCHAP', 'BV = Besloten Vennootschap'),
    ('NL', 'Brabant Agri Trading B.V.', 'BRABANT AGRI TRADING B V', 'B.V. = B V (punctuation to space)'),
    ('FR', 'Martin Frères SARL', 'MARTIN FRERES SOCIETE A RESPONSABILITE LIMITEE', 'SARL = Société à responsabilité limitée'),
    ('FR', 'SAS Transports Lefèvre', 'TRANSPORTS LEFEVRE S.A.S.', 'legal form before vs after the name; SAS = S.A.S.'),
    ('FR', 'Société anonyme des Vins du Rhône', 'VINS DU RHONE SA', 'Société anonyme = SA, moved to the end'),
    ('FR', 'Parfums de Grasse S.A.S.', 'PARFUMS DE GRASSE SOCIETE PAR ACTIONS SIMPLIFIEE', 'S.A.S. = Société par actions simplifiée'),
    ('FR', 'Durand Emballages EURL', 'DURAND EMBALLAGES ENTREPRISE UNIPERSONNELLE A RESPONSABILITE LIMITEE', 'EURL spelled out'),
    ('FR', 'Atelier Bernard S.A.R.L.', 'ATELIER BERNARD SARL', 'S.A.R.L. = SARL'),
    ('SG', 'Lion City Shipping Pte. Ltd.', 'LION CITY SHIPPING PRIVATE LIMITED', 'Pte. Ltd. = Private Limited'),
    ('SG', 'Straits Chemical Trading Pte Ltd', 'STRAITS CHEMICAL TRADING PTE. LTD.', 'Pte Ltd = Pte. Ltd.'),
    ('SG', 'Marina Bay Electronics Private Limited', 'MARINA BAY ELECTRONICS PTE LTD', 'Private Limited = Pte Ltd'),
]

CO_WORDS = [
    ('MY', 'Golden Star Trading Sdn Bhd', 'GOLDEN STAR TRDG SDN BHD', 'Trading -> Trdg'),
    ('MY', 'Sri Murni Import & Export Sdn Bhd', 'SRI MURNI IMP & EXP SDN BHD', 'Import & Export -> Imp & Exp'),
    ('MY', 'Nusantara International Logistics Sdn Bhd', 'NUSANTARA INTL LOGISTICS SDN BHD', 'International -> Intl'),
    ('MY', 'Kenanga Plastic Industries Sdn Bhd', 'KENANGA PLASTIC INDS SDN BHD', 'Industries -> Inds'),
    ('MY', 'Wong Brothers Enterprise', 'WONG BROS ENT.', 'Brothers -> Bros, Enterprise -> Ent.'),
    ('MY', 'Teck Seng Hardware Trading Company', 'TECK SENG HARDWARE TRD CO', 'Trading -> Trd, Company -> Co'),
    ('TH', 'Siam Thonburi Chemical Industries Co., Ltd.', 'SIAM THONBURI CHEM INDS CO., LTD.', 'Chemical -> Chem, Industries -> Inds'),
    ('TH', 'Bangkok International Trading Co., Ltd.', "BANGKOK INT'L TRDG CO., LTD.", "International -> Int'l, Trading -> Trdg"),
    ('TH', 'Chonburi Manufacturing and Engineering Co., Ltd.', 'CHONBURI MFG & ENGG CO LTD', 'Manufacturing -> Mfg, and -> &, Engineering -> Engg'),
    ('TH', 'Korat Agricultural Products Co., Ltd.', 'KORAT AGRI PRODUCTS CO., LTD.', 'Agricultural -> Agri'),
    ('TH', 'Eastern Seaboard Logistics Services Co., Ltd.', 'EASTERN SEABOARD LOGISTICS SVCS CO LTD', 'Services -> Svcs'),
    ('TH', 'Sahamit Pharmaceutical Co., Ltd.', 'SAHAMIT PHARMA CO., LTD.', 'Pharmaceutical -> Pharma'),
    ('VN', 'Hoang Long Import-Export Co., Ltd.', 'HOANG LONG IMP-EXP CO., LTD.', 'Import-Export -> Imp-Exp'),
    ('VN', 'Minh Phat Trading and Services JSC', 'MINH PHAT TRDG & SVCS JSC', 'Trading -> Trdg, and -> &, Services -> Svcs'),
    ('VN', 'Hoàng Long Logistics Co., Ltd.', 'HOANGLONG LOGISTICS CO LTD', 'Vietnamese syllables joined, diacritics stripped'),
    ('VN', 'Viet Thai International Development JSC', 'VIET THAI INTL DEV JSC', 'International -> Intl, Development -> Dev'),
    ('VN', 'Saigon Pharmaceutical Manufacturing Co., Ltd.', 'SAIGON PHARMA MFG CO., LTD.', 'Pharmaceutical -> Pharma, Manufacturing -> Mfg'),
    ('VN', 'Phu Thinh Wood Industries JSC', 'PHU THINH WOOD INDS JSC', 'Industries -> Inds'),
    ('VN', 'Công ty TNHH XNK Thành Đạt', 'CONG TY TNHH XUAT NHAP KHAU THANH DAT', 'XNK = Xuất nhập khẩu (import-export)'),
    ('KR', 'Samsung Precision Trading Co., Ltd.', 'SAM SUNG PRECISION TRADING CO., LTD.', '삼성 Samsung / Sam Sung (syllables split)'),
    ('KR', 'Hyundai Marine Parts Co., Ltd.', 'HYUN DAI MARINE PARTS CO LTD', '현대 Hyundai / Hyun Dai'),
    ('KR', 'Daewoo Textile International Co., Ltd.', 'DAE WOO TEXTILE INTL CO., LTD.', '대우 Daewoo / Dae Woo; International -> Intl'),
    ('KR', 'Doosan Machinery Co., Ltd.', 'DUSAN MACHINERY CO., LTD.', '두산 customary Doosan / RR Dusan'),
    ('KR', 'Hanwha Agro Trading Co., Ltd.', 'HANHWA AGRO TRDG CO LTD', '한화 customary Hanwha / RR Hanhwa; Trading -> Trdg'),
    ('KR', 'Daelim Fasteners Co., Ltd.', 'TAERIM FASTENERS CO., LTD.', '대림 customary Daelim / McCune-Reischauer Taerim'),
    ('KR', 'Shinsegae Fabric Co., Ltd.', 'SINSEGYE FABRIC CO LTD', '신세계 customary Shinsegae / RR Sinsegye'),
    ('KR', 'Kumho Electric Wire Co., Ltd.', 'GEUMHO ELECTRIC WIRE CO LTD', '금호 customary Kumho / RR Geumho'),
    ('KR', 'Poongsan Valve Industries Co., Ltd.', 'PUNGSAN VALVE INDS CO., LTD.', '풍산 customary Poongsan / RR Pungsan; Industries -> Inds'),
    ('KR', 'Ssangyong Logistics Co., Ltd.', 'SSANG YONG LOGISTICS CO LTD', '쌍용 Ssangyong / Ssang Yong'),
    ('KR', 'Kukdong Brothers Co., Ltd.', 'GEUKDONG BROS CO., LTD.', '극동 customary Kukdong / RR Geukdong; Brothers -> Bros'),
    ('KR', 'Hanjin Electronics Co., Ltd.', 'HAN JIN ELECTRONICS CO LTD', '한진 Hanjin / Han Jin'),
    ('CN', 'Shenzhen Huaxing Electronics Technology Co., Ltd.', 'SHENZHEN HUA XING ELECTRONICS TECH CO LTD', 'pinyin syllables split; Technology -> Tech'),
    ('CN', 'Zhejiang Jinlong Chemical Industry Co., Ltd.', 'ZHEJIANG JINLONG CHEM IND CO., LTD.', 'Chemical -> Chem, Industry -> Ind'),
    ('CN', 'Guangdong Meida International Trading Co., Ltd.', 'GUANGDONG MEIDA INTL TRDG CO LTD', 'International -> Intl, Trading -> Trdg'),
    ('CN', 'Hebei Xinyuan Pharmaceutical Co., Ltd.', 'HEBEI XINYUAN PHARMA CO., LTD.', 'Pharmaceutical -> Pharma'),
    ('CN', 'Qingdao Haisheng Import and Export Co., Ltd.', 'QINGDAO HAISHENG IMP & EXP CO., LTD.', 'Import and Export -> Imp & Exp'),
    ('CN', 'Fujian Anxin Machinery Manufacturing Co., Ltd.', 'FUJIAN ANXIN MACHINERY MFG CO LTD', 'Manufacturing -> Mfg'),
    ('KH', 'Angkor International Trading Co., Ltd.', 'ANGKOR INTL TRADING CO., LTD.', 'International -> Intl'),
    ('KH', 'Sovannaphum Import Export Co., Ltd.', 'SOVANNAPHUM IMP-EXP CO LTD', 'Import Export -> Imp-Exp'),
    ('KH', 'Mekong Brothers Logistics Co., Ltd.', 'MEKONG BROS LOGISTICS CO., LTD.', 'Brothers -> Bros'),
    ('KH', 'Kampuchea Agricultural Development Co., Ltd.', 'KAMPUCHEA AGRI DEV CO LTD', 'Agricultural -> Agri, Development -> Dev'),
    ('KH', 'Phnom Penh Garment Manufacturing Co., Ltd.', 'PHNOM PENH GARMENT MFG CO., LTD.', 'Manufacturing -> Mfg'),
    ('LA', 'Lao Viet International Transport Co., Ltd.', 'LAO VIET INTL TRANSPORT CO LTD', 'International -> Intl'),
    ('LA', 'Vientiane Trading and Services Sole Co., Ltd.', 'VIENTIANE TRDG & SVCS SOLE CO., LTD.', 'Trading -> Trdg, and -> &, Services -> Svcs'),
    ('LA', 'Savannakhet Import-Export Co., Ltd.', 'SAVANNAKHET IMP-EXP CO., LTD.', 'Import-Export -> Imp-Exp'),
    ('LA', 'Pakse Construction Development Co., Ltd.', 'PAKSE CONSTR DEV CO LTD', 'Construction -> Constr, Development -> Dev'),
    ('LA', 'Mekong Lao Brothers Co., Ltd.', 'MEKONG LAO BROS CO LTD', 'Brothers -> Bros'),
    ('US', 'Johnson Brothers Manufacturing Corporation', 'JOHNSON BROS MFG CORP', 'Brothers -> Bros, Manufacturing -> Mfg, Corporation -> Corp'),
    ('US', 'Atlantic International Logistics, Inc.', 'ATLANTIC INTL LOGISTICS INC', 'International -> Intl'),
    ('US', 'Midwest Chemical Distribution Co.', 'MIDWEST CHEM DISTRIBUTION COMPANY', 'Chemical -> Chem, Co. -> Company'),
    ('US', 'Carter & Lowell Pharmaceuticals LLC', 'CARTER AND LOWELL PHARMA LLC', '& -> and, Pharmaceuticals -> Pharma'),
    ('US', 'Pacific Coast Industries Corp.', 'PACIFIC COAST INDS CORPORATION', 'Industries -> Inds, Corp. -> Corporation'),
    ('US', 'Gulf States Engineering Services, Inc.', 'GULF STATES ENGG SVCS INC', 'Engineering -> Engg, Services -> Svcs'),
    ('CA', 'MacKenzie Brothers Trading Ltd.', 'MACKENZIE BROS TRDG LTD', 'Brothers -> Bros, Trading -> Trdg'),
    ('CA', 'Northern International Development Corp.', 'NORTHERN INTL DEV CORP', 'International -> Intl, Development -> Dev'),
    ('CA', 'Laurentian Pharmaceutical Products Inc.', 'LAURENTIAN PHARMA PRODUCTS INC', 'Pharmaceutical -> Pharma'),
    ('CA', 'Pacific Western Manufacturing Ltd.', 'PACIFIC WESTERN MFG LTD', 'Manufacturing -> Mfg'),
    ('CA', 'Import-Export Tremblay et Fils Inc.', 'IMP-EXP TREMBLAY & FILS INC', 'Import-Export -> Imp-Exp, et -> &'),
    ('DE', 'Gebrüder Schmidt Spedition GmbH', 'GEBR. SCHMIDT SPEDITION GMBH', 'Gebrüder (brothers) -> Gebr.'),
    ('DE', 'Müller & Söhne Maschinenbau GmbH', 'MUELLER UND SOEHNE MASCHINENBAU GMBH', '& -> und; ü -> UE, ö -> OE'),
    ('DE', 'Gebrüder Weiß Chemie GmbH', 'GEBR. WEISS CHEMIE GMBH', 'Gebrüder -> Gebr.; ß -> SS'),
    ('DE', 'Hoffmann Import-Export GmbH', 'HOFFMANN IMP-EXP GMBH', 'Import-Export -> Imp-Exp'),
    ('DE', 'Becker International Logistics GmbH', 'BECKER INTL LOGISTICS GMBH', 'International -> Intl'),
    ('DE', 'Krüger Industries GmbH & Co. KG', 'KRUEGER INDS GMBH & CO. KG', 'Industries -> Inds; ü -> UE'),
    ('NL', 'Gebroeders de Jong B.V.', 'GEBR. DE JONG B.V.', 'Gebroeders (brothers) -> Gebr.'),
    ('NL', 'Van Leeuwen en Zonen Transport B.V.', 'VAN LEEUWEN & ZN TRANSPORT BV', 'en Zonen -> & Zn.'),
    ('NL', 'Holland International Trading B.V.', 'HOLLAND INTL TRADING BV', 'International -> Intl'),
    ('NL', 'Rijnmond Chemical Distribution B.V.', 'RIJNMOND CHEM DISTRIBUTION B.V.', 'Chemical -> Chem'),
    ('NL', 'Bakker Brothers Import-Export B.V.', 'BAKKER BROS IMP-EXP BV', 'Brothers -> Bros, Import-Export -> Imp-Exp'),
    ('NL', 'Westland Pharmaceuticals N.V.', 'WESTLAND PHARMA NV', 'Pharmaceuticals -> Pharma'),
    ('FR', 'Établissements Martin et Fils', 'ETS MARTIN & FILS', 'Établissements -> Ets, et -> &'),
    ('FR', "Société Lyonnaise d'Import-Export SARL", 'STE LYONNAISE D IMP-EXP SARL', 'Société -> Sté, Import-Export -> Imp-Exp'),
    ('FR', 'Dubois et Compagnie SA', 'DUBOIS & CIE SA', 'et Compagnie -> & Cie'),
    ('FR', 'Laboratoires Pharmaceutiques Girard SAS', 'LABORATOIRES PHARMA GIRARD SAS', 'Pharmaceutiques -> Pharma'),
    ('FR', 'Transports Internationaux Bernard SARL', 'TRANSPORTS INTL BERNARD SARL', 'Internationaux -> Intl'),
    ('FR', 'Établissements Lefèvre Frères', 'ETS LEFEVRE FRERES', 'Établissements -> Ets; accents dropped'),
    ('SG', 'Lion City International Trading Pte Ltd', 'LION CITY INTL TRDG PTE LTD', 'International -> Intl, Trading -> Trdg'),
    ('SG', 'Straits Chemical Industries Pte. Ltd.', 'STRAITS CHEM INDS PTE LTD', 'Chemical -> Chem, Industries -> Inds'),
]

CO_NEG = [
    ('MY', 'Golden Star Trading Sdn Bhd', 'GOLDEN SUN TRADING SDN BHD', 'Star vs Sun: different company'),
    ('MY', 'Sinar Jaya Logistik Sdn Bhd', 'SINAR JATI LOGISTIK SDN BHD', 'Jaya vs Jati'),
    ('MY', 'Kenanga Plastic Industries Sdn Bhd', 'KENANGA RUBBER INDS SDN BHD', 'Plastic vs Rubber (with Inds abbreviation)'),
    ('MY', 'Bintang Maju Holdings Berhad', 'BINTANG MAJU TRADING SDN BHD', 'listed holding company vs its differently named operating subsidiary'),
    ('MY', 'Syarikat Perniagaan Ah Kow', 'SYARIKAT PERNIAGAAN AH KIAT', 'Ah Kow vs Ah Kiat'),
    ('MY', 'Cahaya Timur Sdn Bhd', 'CAHAYA BARAT SDN BHD', 'Timur (east) vs Barat (west)'),
    ('TH', 'Siam Pacific Foods Co., Ltd.', 'SIAM PACIFIC FEEDS CO., LTD.', 'Foods vs Feeds'),
    ('TH', 'Chao Phraya Cold Storage Co., Ltd.', 'CHAO PHRAYA COLD CHAIN CO LTD', 'Cold Storage vs Cold Chain'),
    ('TH', 'Rattanakosin Sugar PCL', 'RATTANAKOSIN SUGAR TRADING CO., LTD.', 'listed parent vs trading subsidiary'),
    ('TH', 'Thai Ruamjai Packaging Co., Ltd.', 'THAI RUAMMIT PACKAGING CO., LTD.', 'Ruamjai vs Ruammit'),
    ('TH', 'Lanna Silk Co., Ltd.', 'LANNA SILVER CO., LTD.', 'Silk vs Silver'),
    ('TH', 'Bangkok Union Trading Co., Ltd.', 'BANGKOK UNITED TRDG CO., LTD.', 'Union vs United'),
    ('VN', 'Hoang Long Trading Co., Ltd.', 'HOANG LAN TRADING CO., LTD.', 'Hoàng Long vs Hoàng Lan'),
    ('VN', 'Minh Phat Seafood JSC', 'MINH PHUC SEAFOOD JSC', 'Minh Phát vs Minh Phúc'),
    ('VN', 'Tan Phu Plastics JSC', 'TAN PHU HOLDINGS JSC', 'operating company vs parent holding company'),
    ('VN', 'Thanh Dat Import Export Co., Ltd.', 'THANH DAT CONSTRUCTION CO., LTD.', 'Import Export vs Construction'),
    ('VN', 'Công ty TNHH Dệt may Minh Quang', 'MINH QUANG FOOTWEAR COMPANY LIMITED', 'Dệt may (textile & garment) vs Footwear'),
    ('VN', 'Viet Thai Logistics JSC', 'VIET THAI LOGISTICS (CAMBODIA) CO., LTD.', 'Vietnamese company vs its Cambodian subsidiary'),
    ('KR', 'Han River Logistics Co., Ltd.', 'HAN RIVER CHEMICAL CO LTD', 'Logistics vs Chemical'),
    ('KR', 'Daesung Tech Co., Ltd.', 'DAEWON TECH CO., LTD.', '대성 vs 대원'),
    ('KR', '(주)한빛상사', 'HANBYEOL SANGSA CO., LTD.', '한빛 Hanbit vs 한별 Hanbyeol'),
    ('KR', 'Dongbang Logistics Co., Ltd.', 'DONGBU LOGISTICS CO., LTD.', '동방 vs 동부'),
    ('KR', 'Sejin Trading Co., Ltd.', 'SEJIN TRADING (VIETNAM) CO., LTD.', 'Korean parent vs Vietnamese subsidiary'),
    ('KR', 'Hanil Chemical Co., Ltd.', 'HANUL CHEMICAL CO LTD', '한일 vs 한울'),
    ('KR', 'Samil Precision Co., Ltd.', 'SAMIK PRECISION CO., LTD.', '삼일 vs 삼익'),
    ('CN', 'Shenzhen Jinhua Electronics Co., Ltd.', 'SHENZHEN JINHUI ELECTRONICS CO LTD', 'Jinhua vs Jinhui'),
    ('CN', 'Ningbo Haixing Trading Co., Ltd.', 'NINGBO HAIXIN TRADING CO., LTD.', 'Haixing vs Haixin'),
    ('CN', 'Yiwu Hengxin Commodity Co., Ltd.', 'YIWU HENGXIN PACKAGING CO., LTD.', 'Commodity vs Packaging'),
    ('CN', 'Xiamen Ruixiang Import and Export Co., Ltd.', 'XIAMEN RUIXIANG HOLDING GROUP CO., LTD.', 'trading subsidiary vs group parent'),
    ('CN', 'Qingdao Lanhai Foods Co., Ltd.', 'QINGDAO LANTIAN FOODS CO., LTD.', 'Lanhai vs Lantian'),
    ('CN', 'Guangzhou Baiyun Garment Co., Ltd.', 'GUANGZHOU BAIYUN FOOTWEAR CO LTD', 'Garment vs Footwear'),
    ('KH', 'Angkor Golden Rice Co., Ltd.', 'ANGKOR GREEN RICE CO., LTD.', 'Golden vs Green'),
    ('KH', 'Mekong Garment Manufacturing Co., Ltd.', 'MEKONG FOOTWEAR MFG CO., LTD.', 'Garment vs Footwear'),
    ('KH', 'Kampot Pepper Export Co., Ltd.', 'KAMPOT SALT EXPORT CO., LTD.', 'Pepper vs Salt'),
    ('KH', 'Phnom Penh Cold Chain Plc.', 'SIEM REAP COLD CHAIN PLC', 'Phnom Penh vs Siem Reap'),
    ('KH', 'Battambang Agro Industry Co., Ltd.', 'BATTAMBANG AGRO TRADING CO LTD', 'Industry vs Trading'),
    ('LA', 'Vientiane Coffee Export Sole Co., Ltd.', 'VIENTIANE TEA EXPORT SOLE CO., LTD.', 'Coffee vs Tea'),
    ('LA', 'Champasak Agro Co., Ltd.', 'CHAMPASAK AQUA CO., LTD.', 'Agro vs Aqua'),
    ('LA', 'Savan Logistics Co., Ltd.', 'SAVAN LOGISTICS (THAILAND) CO., LTD.', 'Lao company vs its Thai subsidiary'),
    ('LA', 'Luang Prabang Handicraft Co., Ltd.', 'LUANG NAMTHA HANDICRAFT CO., LTD.', 'Luang Prabang vs Luang Namtha'),
    ('LA', 'Xieng Khouang Minerals Co., Ltd.', 'XIENG KHOUANG METALS CO LTD', 'Minerals vs Metals'),
    ('US', 'ABC Import Export Inc.', 'ABD IMPORT EXPORT INC', 'ABC vs ABD'),
    ('US', 'Pacific Rim Imports, Inc.', 'PACIFIC RIM EXPORTS INC', 'Imports vs Exports'),
    ('US', 'Great Lakes Machinery Corp.', 'GREAT PLAINS MACHINERY CORP', 'Lakes vs Plains'),
    ('US', 'Blue Ridge Outdoor Supply LLC', 'BLUE RIDGE OUTDOOR HOLDINGS LLC', 'operating company vs holding parent'),
    ('US', 'Lone Star Cotton Traders LLC', 'LONE STAR COFFEE TRADERS LLC', 'Cotton vs Coffee'),
    ('US', 'Evergreen Medical Devices Inc.', 'EVERGREEN DENTAL DEVICES INC', 'Medical vs Dental'),
    ('CA', 'Northern Maple Foods Ltd.', 'NORTHERN MAPLE FARMS LTD', 'Foods vs Farms'),
    ('CA', 'Fraser Valley Lumber Inc.', 'FRASER RIVER LUMBER INC', 'Valley vs River'),
    ('CA', 'Prairie Grain Exporters Corp.', 'PRAIRIE GRAIN HANDLERS CORP', 'Exporters vs Handlers'),
    ('CA', 'Atlantic Seafood Packers Ltd.', 'PACIFIC SEAFOOD PACKERS LTD', 'Atlantic vs Pacific'),
    ('CA', 'Les Aliments Boréal Ltée', 'LES ALIMENTS BOREALIS LTEE', 'Boréal vs Borealis'),
    ('DE', 'Schneider Maschinenbau GmbH', 'SCHNEIDER ANLAGENBAU GMBH', 'Maschinenbau vs Anlagenbau'),
    ('DE', 'Müller Logistik GmbH', 'MOELLER LOGISTIK GMBH', 'Müller vs Möller'),
    ('DE', 'Nordlicht Logistik GmbH & Co. KG', 'NORDLICHT LOGISTIK VERWALTUNGS GMBH', 'the KG vs its general-partner GmbH (separate legal entity)'),
    ('DE', 'Rheinland Chemie AG', 'RHEINLAND CHEMIE HOLDING AG', 'company vs holding parent'),
    ('DE', 'Becker Import Handelsgesellschaft mbH', 'BECKMANN IMPORT HANDELSGESELLSCHAFT MBH', 'Becker vs Beckmann'),
    ('DE', 'Hansa Kühltransporte GmbH', 'HANSA KUEHLHAUS GMBH', 'Kühltransporte vs Kühlhaus'),
    ('NL', 'Van Dijk Bloemen B.V.', 'VAN DAM BLOEMEN B.V.', 'Van Dijk vs Van Dam'),
    ('NL', 'Hollandse Kaashandel B.V.', 'HOLLANDSE VISHANDEL B.V.', 'Kaashandel vs Vishandel'),
    ('NL', 'Rotterdam Maritime Services N.V.', 'AMSTERDAM MARITIME SERVICES N.V.', 'Rotterdam vs Amsterdam'),
    ('NL', 'Westland Kassenbouw B.V.', 'WESTLAND KASSENBOUW HOLDING B.V.', 'company vs holding parent'),
    ('NL', 'Van der Berg Transport B.V.', 'VAN DEN BERG TRANSPORT BV', 'van der Berg vs van den Berg'),
    ('NL', 'Brabant Agri Trading B.V.', 'LIMBURG AGRI TRADING BV', 'Brabant vs Limburg'),
    ('FR', 'Martin Frères SARL', 'MARTIN FILS SARL', 'Frères vs Fils'),
    ('FR', 'Transports Lefèvre SAS', 'TRANSPORTS LEFEBVRE SAS', 'Lefèvre vs Lefebvre: different family names'),
    ('FR', 'Parfums de Grasse SAS', 'PARFUMS DE PROVENCE SAS', 'Grasse vs Provence'),
    ('FR', 'Durand Emballages EURL', 'DURANT EMBALLAGES EURL', 'Durand vs Durant'),
    ('FR', 'Atelier Bernard SARL', 'ATELIER BESNARD SARL', 'Bernard vs Besnard'),
    ('FR', 'Société des Vins du Rhône SA', 'SOCIETE DES VINS DE LA LOIRE SA', 'Rhône vs Loire'),
    ('SG', 'Lion City Shipping Pte. Ltd.', 'LION CITY SHIPPING (MALAYSIA) SDN BHD', 'Singapore company vs its Malaysian subsidiary'),
    ('SG', 'Straits Chemical Trading Pte Ltd', 'STRAITS PETROCHEMICAL TRADING PTE LTD', 'Chemical vs Petrochemical'),
]


def build_companies(c):
    for cls, rows in (('company-legal-forms', CO_LEGAL), ('company-word-abbrev', CO_WORDS),
                      ('neg-company-similar', CO_NEG)):
        for country, a, m, note in rows:
            assert c.add(cls, country, 'company', a, '', m, '', note), (cls, a)


# ===========================================================================
def main():
    c = Corpus()
    build_kr_surname(c)
    build_kr_given(c)
    build_kr_hangul(c)
    build_vn(c)
    build_th(c)
    build_kh_la(c)
    build_my(c)
    build_cn_my(c)
    build_nl_de(c)
    build_fr(c)
    build_nick(c)
    build_dob(c)
    build_companies(c)
    build_neg_people(c)
    build_neg_swap(c)
    build_neg_korean(c)
    out = os.path.join(ROOT, 'pairs.tsv')
    with open(out, 'w', encoding='utf-8', newline='') as f:
        f.write('\t'.join(HEADER) + '\n')
        for i, r in enumerate(c.rows, 1):
            f.write('\t'.join([f'N{i:04d}'] + r) + '\n')
    print(f'wrote {len(c.rows)} pairs to {out}')


if __name__ == '__main__':
    main()
