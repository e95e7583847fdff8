#!/usr/bin/env bash
# BENCHMARKS.md's generated tables, from `bench ... --json` output, so the tables and the tool agree.
# Usage: Benchmarks/scripts/tables.sh RESULTS.jsonl [BENCHMARKS.md]
#   Prints every table (one per bench kind found in RESULTS.jsonl); with BENCHMARKS.md, rewrites in
#   place each block between "<!-- bench KIND -->" and "<!-- /bench -->" with KIND's table.
# Needs jq (Debian: apt-get install jq).
set -euo pipefail
results=${1:?usage: tables.sh RESULTS.jsonl [BENCHMARKS.md]}
target=${2:-}

# The markdown table of one bench kind, with the machine it ran on. Objects with an "anchor" field
# (Benchmarks/anchors/*.py --json) are the anchors' figures: each anchor gets a column beside ours,
# matched by the kind's key (seed: rows, batch, threads; gemm: shape; csv: threads, bytes), and the
# first anchor a ratio column (ours / anchor, in speed: higher is faster for ours).
table() {
  jq -rs --arg kind "$1" '
    def pct: . * 1000 | round / 10 | tostring + "%";
    def num($d): . * pow(10; $d) | round / pow(10; $d) | tostring;
    def commas: if length > 3 then (.[:-3] | commas) + "," + .[-3:] else . end;
    def thousands: round | tostring | commas;
    def key: if $kind == "seed" then [.rows, .batch_size, .threads] elif $kind == "gemm" then [.shape]
      elif $kind == "csv" then [.threads, .bytes] else null end;
    def speed: if $kind == "seed" then .samples_per_second elif $kind == "gemm" then .gflops else .load_mb_per_second end;
    def shown: if $kind == "seed" then .ms_per_epoch | num(3) elif $kind == "gemm" then .gflops | num(1)
      else .load_mb_per_second | thousands end;
    def unit: if $kind == "seed" then ", ms/epoch" elif $kind == "gemm" then ", GFLOP/s" else ", MB/s" end;
    map(select(.bench == $kind)) as $all
    | ($all | map(select(.anchor | not))) as $rows
    | ($all | map(select(.anchor))) as $anchors
    | ($anchors | reduce .[].anchor as $n ([]; if any(.[]; . == $n) then . else . + [$n] end)) as $names
    # The anchor cells of result $r: one per anchor, and the ratio to the first.
    | def anchored($r):
        [$names[] as $n | $anchors | map(select(.anchor == $n and key == ($r | key))) | .[0]] as $found
        | if ($names | length) == 0 then "" else
            ($found | map(if . then shown else "-" end) | join(" | ")) + " | "
            + (if $found[0] then ($r | speed) / ($found[0] | speed) | num(2) + "x" else "-" end) + " |" end;
      def anchorHeader: if ($names | length) == 0 then "" else
          ($names | map(. + unit) | join(" | ")) + " | ours / " + $names[0] + " |" end;
      def anchorRule: if ($names | length) == 0 then "" else ($names | map("---|") | join("")) + "---|" end;
    ($rows[0].machine | "Machine: \(.cpu), \(.logical_cpus) logical CPUs, kernels \(.isa), \(.openmp), commit \(.commit).\n"),
      if $kind == "scaling" then
        "| ranks | threads | shards | workers | samples/s | speed-up | ideal | efficiency | barrier | all-reduce + optimizer |",
        "|---|---|---|---|---|---|---|---|---|---|",
        ($rows[] | "| \(.ranks) | \(.threads) | \(.shards) | \(.workers // "-") | \(.samples_per_second | thousands) | \(.speedup | num(2))x | \(.ideal_speedup)x | \(.efficiency | pct) | \(.barrier_fraction | pct) | \(.allreduce_fraction | pct) |")
      elif $kind == "wide" then
        "| network | threads | shards | samples/s | barrier | all-reduce + optimizer |", "|---|---|---|---|---|---|",
        ($rows[] | "| \(.network) | \(.threads) | \(.shards) | \(.samples_per_second | thousands) | \(.barrier_fraction | pct) | \(.allreduce_fraction | pct) |")
      elif $kind == "seed" then
        "| rows | batch | threads | ours, ms/epoch | samples/s | \(anchorHeader)", "|---|---|---|---|---|\(anchorRule)",
        ($rows[] | "| \(.rows | thousands) | \(.batch_size | thousands) | \(.threads) | \(.ms_per_epoch | num(3)) | \(.samples_per_second | thousands) | \(anchored(.))")
      elif $kind == "gemm" then
        "| group | shape | isa | GFLOP/s | \(anchorHeader)", "|---|---|---|---|\(anchorRule)",
        ($rows[] | "| \(.group) | \(.shape) | \(.isa) | \(.gflops | num(1)) | \(anchored(.))")
      elif $kind == "activations" then
        "| activation | size | isa | GB/s | vs copy | time vs affine |", "|---|---|---|---|---|---|",
        ($rows[] | "| \(.activation) | \(.rows)x\(.cols) | \(.isa) | \(.gbs | num(1)) | \(.vs_copy | num(2))x | \(if .vs_affine then (.vs_affine | num(2)) + "x" else "-" end) |")
      elif $kind == "csv" then
        "| threads | MB | MB/s | peak RSS above the matrix | cache reload speed-up | \(anchorHeader)", "|---|---|---|---|---|\(anchorRule)",
        ($rows[] | "| \(.threads) | \(.bytes / 1e6 | num(1)) | \(.load_mb_per_second | thousands) | \(.peak_rss_overhead_bytes / 1048576 | num(1)) MiB | \(.cache_speedup | num(1))x | \(anchored(.))")
      else error("unknown bench kind \($kind)") end' "$results"
}

kinds=$(jq -r .bench "$results" | awk '!seen[$0]++')
if [ -z "$target" ]; then
  for kind in $kinds; do echo "### $kind"; echo; table "$kind"; echo; done
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for kind in $kinds; do table "$kind" > "$work/$kind.md"; done
# Replace each marked block's body; blocks whose kind has no results stay as they are.
awk -v dir="$work" '
  /^<!-- bench [a-z]+ -->$/ { print; kind = $3; file = dir "/" kind ".md"
    if ((getline line < file) > 0) { print line; while ((getline line < file) > 0) print line; skipping = 1 }
    next }
  /^<!-- \/bench -->$/ { skipping = 0 }
  !skipping' "$target" > "$target.tmp-$$"
mv "$target.tmp-$$" "$target"  # atomic: the temporary file is in the same directory
