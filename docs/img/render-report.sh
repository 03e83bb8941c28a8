#!/usr/bin/env bash
# Renders the report charts in this folder from real nodes:
#   report-10.{svg,png,pdf}     a small desk: 10 alerts over 5 weeks, 3 desks
#   report-10000.{svg,png,pdf}  10,000 alerts over 14 weeks (across New Year), 6 desks
#
# Each run starts desks on loopback (KR/seoul the hub, partners registered both ways with
# certificates from `kdesk certs`), and week by week: every desk imports the alerts it
# raised that week (`kdesk gen`), KR screens that week's manifests with --share, and
# records outcomes (some seizures) for a few of its hits; then `kdesk report --chart`
# writes the three formats. The desks run on a fake clock (libfaketime, Debian package
# `faketime`), moved forward one week at a time, so that the weekly trends have weeks. Also
# needs python3 (free ports, reading JSON).
#
# Usage: docs/img/render-report.sh [10|10000]...   (default: both)
#        KDESK=path/to/kdesk to use another binary (default: target/debug/kdesk, built
#        with `cargo build` if missing). Takes about 2 minutes for both.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kdesk=${KDESK:-${CARGO_TARGET_DIR:-$repo/target}/debug/kdesk}
if [ ! -x "$kdesk" ]; then
    (cd "$repo" && cargo build --bin kdesk)
fi
lib=$(find /usr/lib /usr/lib64 -name libfaketime.so.1 2>/dev/null | head -1 || true)
if [ -z "$lib" ]; then
    echo "render-report.sh needs libfaketime: apt-get install faketime" >&2
    exit 1
fi

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

clock="$work/clock"
# Every kdesk process reads the fake time from $clock (re-read at each call).
k() {
    LD_PRELOAD="$lib" FAKETIME_TIMESTAMP_FILE="$clock" FAKETIME_NO_CACHE=1 \
        FAKETIME_DONT_FAKE_MONOTONIC=1 RUST_LOG=warn "$kdesk" "$@"
}
# The same, replacing the shell (for a node run in the background: $! is the node).
kx() {
    LD_PRELOAD="$lib" FAKETIME_TIMESTAMP_FILE="$clock" FAKETIME_NO_CACHE=1 \
        FAKETIME_DONT_FAKE_MONOTONIC=1 RUST_LOG=warn exec "$kdesk" "$@"
}
set_day() { echo "@$1 09:00:00" >"$clock"; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# desk CC NAME: CA, node directory listening on a free loopback port, node certificate.
desk() {
    local cc=$1 name=$2 lc
    lc=$(echo "$1" | tr 'A-Z' 'a-z')
    local p
    p=$(port)
    k certs ca --country "$cc" --out "$run/$lc-ca" >/dev/null
    k init --data-dir "$run/$lc" --country "$cc" --node-name "$name" \
        --listen "127.0.0.1:$p" >/dev/null
    k certs node --ca "$run/$lc-ca" --country "$cc" --node-name "$name" \
        --host 127.0.0.1 --out "$run/$lc/tls" >/dev/null
    echo "$p" >"$run/$lc.port"
}

serve() {
    local lc=$1
    kx serve --data-dir "$run/$lc" </dev/null >/dev/null 2>>"$run/$lc.log" &
    pids+=($!)
    for _ in $(seq 100); do
        k status --data-dir "$run/$lc" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "node $lc did not start; log:" >&2
    cat "$run/$lc.log" >&2
    exit 1
}

# link A B: each registers the other.
link() {
    local a=$1 b=$2 A B
    A=$(echo "$a" | tr 'a-z' 'A-Z')
    B=$(echo "$b" | tr 'a-z' 'A-Z')
    k peer add --data-dir "$run/$a" --country "$B" \
        --endpoint "https://127.0.0.1:$(cat "$run/$b.port")" --ca "$run/$b-ca/ca.pem" \
        --signing-key "$(cat "$run/$b/keys/signing.pub")" >/dev/null
    k peer add --data-dir "$run/$b" --country "$A" \
        --endpoint "https://127.0.0.1:$(cat "$run/$a.port")" --ca "$run/$a-ca/ca.pem" \
        --signing-key "$(cat "$run/$a/keys/signing.pub")" >/dev/null
}

# Waits until KR holds N alerts (its own and its partners').
wait_alerts() {
    local want=$1 have=0
    for _ in $(seq 600); do
        have=$(k report --data-dir "$run/kr" --json | python3 -c \
            'import json,sys; print(json.load(sys.stdin)["totals"]["alerts"])')
        [ "$have" -ge "$want" ] && return 0
        sleep 0.2
    done
    echo "KR holds $have alerts, expected $want" >&2
    exit 1
}

# scenario NAME START_MONDAY WEEKS "DESKS" PLAN_FN
#   PLAN_FN WEEK DESK prints: alerts identifiers names profiles [tlp] (what that desk raises
#   that week, how many seeded matches its manifest for KR carries, and a TLP other than
#   amber for the batch).
scenario() {
    local name=$1 start=$2 weeks=$3 desks=$4 plan=$5
    run="$work/$name"
    mkdir -p "$run"
    pids=()
    set_day "$start"
    local d
    for d in $desks; do
        case $d in
        KR) desk KR seoul ;; TH) desk TH bangkok ;; VN) desk VN hanoi ;;
        MY) desk MY klia ;; NL) desk NL rotterdam ;; US) desk US lax ;;
        esac
    done
    for d in $desks; do serve "$(echo "$d" | tr 'A-Z' 'a-z')"; done
    for d in $desks; do
        [ "$d" = KR ] || link kr "$(echo "$d" | tr 'A-Z' 'a-z')"
    done
    local total=0 w seed=1 i=0
    for w in $(seq 0 $((weeks - 1))); do
        local day
        day=$(date -u -d "$start + $((7 * w + 1)) days" +%F)
        set_day "$day"
        for d in $desks; do
            local lc n ids names profiles tlp
            lc=$(echo "$d" | tr 'A-Z' 'a-z')
            read -r n ids names profiles tlp < <($plan "$w" "$d")
            [ "$n" -gt 0 ] || continue
            seed=$((seed + 1))
            k gen --out "$run/gen-$w-$lc" --alerts "$n" --lines $((40 + n / 10)) \
                --seed "$seed" --true-identifiers "$ids" --true-names "$names" \
                --true-profiles "$profiles" >/dev/null
            if [ -n "$tlp" ]; then
                # This batch under a stricter TLP (gen writes TLP:AMBER).
                sed -i "s/\"handling\":{\"tlp\":\"amber\",\"no_onward_sharing\":false}/\"handling\":{\"tlp\":\"$tlp\",\"no_onward_sharing\":true}/" \
                    "$run/gen-$w-$lc/alerts.jsonl"
            fi
            k alert import --data-dir "$run/$lc" --file "$run/gen-$w-$lc/alerts.jsonl" >/dev/null
            total=$((total + n))
        done
        wait_alerts "$total"
        # Screening two days later; hits are shared with the desk that raised the alert.
        set_day "$(date -u -d "$day + 2 days" +%F)"
        for d in $desks; do
            local lc
            lc=$(echo "$d" | tr 'A-Z' 'a-z')
            [ -f "$run/gen-$w-$lc/manifest.csv" ] || continue
            k screen --data-dir "$run/kr" --input "$run/gen-$w-$lc/manifest.csv" --share \
                --json >/dev/null
        done
        # Outcomes for some of the new hits, a day later: every third is a seizure, every
        # fourth stays without an outcome.
        set_day "$(date -u -d "$day + 3 days" +%F)"
        k hits list --data-dir "$run/kr" --json | python3 -c '
import json, sys
for h in json.load(sys.stdin):
    if h["screened_by"].startswith("KR") and not h["outcomes"]:
        print(h["id"])' >"$run/open-hits" || true
        local hit
        while read -r hit; do
            i=$((i + 1))
            case $((i % 4)) in
            0) ;;
            1) k outcome record --data-dir "$run/kr" --hit "$hit" --result seized \
                   --substance "$(sed -n "$(( (i + w) % 5 + 1 ))p" <<<'methamphetamine
cocaine
ketamine
narcotic-pharmaceuticals
precursor-chemicals')" --quantity-kg "$(( (i * 7 + w * 3) % 40 + 1 )).$((i % 10))" >/dev/null ;;
            2) k outcome record --data-dir "$run/kr" --hit "$hit" --result nothing-found >/dev/null ;;
            3) k outcome record --data-dir "$run/kr" --hit "$hit" --result false-positive >/dev/null ;;
            esac
        done <"$run/open-hits"
    done
    for ext in svg png pdf; do
        k report --data-dir "$run/kr" --chart "$here/report-$name.$ext" >/dev/null
    done
    k report --data-dir "$run/kr" >"$run/report.txt"
    head -3 "$run/report.txt"
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pids=()
}

# 10 alerts: KR raises 4, TH 4, VN 2; KR's manifests carry one seeded match now and then.
plan10() {
    local w=$1 d=$2
    case "$w:$d" in
    0:KR) echo 2 1 0 0 ;; 0:TH) echo 1 1 0 0 ;;
    1:TH) echo 2 1 0 0 ;;
    2:KR) echo 1 0 1 0 ;; 2:VN) echo 1 1 0 0 ;;
    3:VN) echo 1 0 0 0 ;; 3:TH) echo 1 1 0 0 ;;
    4:KR) echo 1 1 0 0 ;;
    *) echo 0 0 0 0 ;;
    esac
}

# 10,000 alerts over 14 weeks: shares KR 34 %, TH 24 %, VN 16 %, MY 12 %, NL 9 %, US 5 %,
# weekly volume rising then dipping over New Year; 0-2 seeded matches of each kind per
# manifest.
plan10000() {
    local w=$1 d=$2 share
    case $d in
    KR) share=34 ;; TH) share=24 ;; VN) share=16 ;; MY) share=12 ;; NL) share=9 ;; US) share=5 ;;
    esac
    # Week weights (sum 140): 7 8 9 10 11 12 9 6 8 11 12 13 12 12.
    local weights=(7 8 9 10 11 12 9 6 8 11 12 13 12 12)
    local n=$((10000 * share * ${weights[$w]} / 14000))
    # Rounding leftovers go to KR in the last week.
    if [ "$d" = KR ] && [ "$w" = 13 ]; then
        local sum=0 ww s
        for ww in $(seq 0 13); do
            for s in 34 24 16 12 9 5; do
                sum=$((sum + 10000 * s * ${weights[$ww]} / 14000))
            done
        done
        n=$((n + 10000 - sum))
    fi
    # NL's batch of week 5 is TLP:AMBER+STRICT: the report carries the strictest label.
    local tlp=""
    [ "$w:$d" = 5:NL ] && tlp=amber+strict
    echo "$n $(((w + share) % 3)) $(((w * share) % 2)) $((w % 4 == 1 ? 1 : 0)) $tlp"
}

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 10000)
for s in "${sizes[@]}"; do
    case $s in
    10) scenario 10 2026-01-26 5 "KR TH VN" plan10 ;;
    10000) scenario 10000 2025-11-17 14 "KR TH VN MY NL US" plan10000 ;;
    *) echo "unknown size $s (10 or 10000)" >&2; exit 64 ;;
    esac
done
ls -l "$here"/report-*
