#!/usr/bin/env bash
# Scan benchmark: builds the release binary, generates the 100k-resource corpus from the real
# corpus (cached under ~/.cache/palisade/bench), and reports MB/s, resources/s and peak RSS
# for one thread and for all cores, with every default rule and JSON output.
#
#   bench/run.sh [RESOURCES]        default 100000
#
# Figures go to stdout and to bench/out/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
resources="${1:-100000}"
shared="${PALISADE_SHARED:-$PWD/../shared}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/palisade/bench"
corpus="$cache/corpus-$resources"
single="$cache/single-20000.yaml"
mkdir -p "$cache" bench/out

cargo build --release --locked -p palisade --quiet
bin="${CARGO_TARGET_DIR:-target}/release/palisade"

if [ ! -d "$corpus" ]; then
  python3 "$shared/corpus/make_bench_corpus.py" --resources "$resources" --out "$corpus" \
    --real "$shared/corpus/real" >/dev/null
fi
if [ ! -f "$single" ]; then
  python3 "$shared/corpus/make_bench_corpus.py" --resources 20000 --single "$single" \
    --real "$shared/corpus/real" >/dev/null
fi

bytes=$(find "$corpus" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$corpus" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | wc -l)
single_bytes=$(stat -c %s "$single")

measure() { # label threads path size [cpu list: pin the whole process to these cores]
  local label=$1 threads=$2 path=$3 size=$4 cpus=${5:-} log pin=()
  log=$(mktemp)
  if [ -n "$cpus" ]; then pin=(taskset -c "$cpus"); fi
  # The report is written to a real file: JSON output is part of what is measured. The
  # previous run's report is removed first, so that freeing its blocks is not.
  rm -f "$cache/report.json"
  /usr/bin/time -v "${pin[@]}" "$bin" scan "$path" --format json --output "$cache/report.json" \
    --threads "$threads" 2>"$log" || true
  local secs rss objects
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ {print int($2/1024)}' "$log")
  objects=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["summary"]["objects"])' "$cache/report.json")
  python3 - "$label" "$threads" "$size" "$secs" "$rss" "$objects" <<'PY'
import sys
label, threads, size, secs, rss, objects = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
print(f"| {label} | {threads} | {size/1e6:.1f} MB | {objects:,} | {secs:.2f} s | {size/1e6/secs:.1f} MB/s | {objects/secs:,.0f} /s | {rss} MB |")
PY
  rm -f "$log"
}

{
  echo "palisade $("$bin" --version | cut -d' ' -f2), $(nproc) cores, $(date -u +%Y-%m-%d)"
  echo
  echo "| input | threads | size | resources | wall | throughput | resources/s | peak RSS |"
  echo "|---|---|---|---|---|---|---|---|"
  # Warm-up run (page cache), not reported.
  "$bin" scan "$corpus" --format json --output /dev/null >/dev/null 2>&1 || true
  measure "$files files, one core (taskset)" 1 "$corpus" "$bytes" 0
  measure "$files files" 1 "$corpus" "$bytes"
  measure "$files files" "$(nproc)" "$corpus" "$bytes"
  measure "one file, 20,000 resources" 1 "$single" "$single_bytes"
  measure "one file, 20,000 resources" "$(nproc)" "$single" "$single_bytes"
} | tee bench/out/results.md
