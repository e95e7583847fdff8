#!/usr/bin/env bash
# The README's activation table: every activation on the bank-note data and on the built-in
# nonlinear synthetic problem, default recipe otherwise; test accuracy and final test loss, mean of
# three seeds. Usage: Benchmarks/scripts/activation_table.sh BANKNOTE.csv [epochs]
set -euo pipefail
data=${1:?usage: activation_table.sh BANKNOTE.csv [epochs]}
epochs=${2:-300}
train=.build/release/train
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
field() { sed -n "s/^  \"$2\" : \([-0-9.e]*\),*$/\1/p" "$1/summary.json"; }
echo "| activation | banknote accuracy | banknote test loss | synthetic accuracy | synthetic test loss |"
echo "|---|---|---|---|---|"
for act in affine softexp srelu brelu isru swish silu relu leaky_relu tanh sigmoid gelu; do
  row="| $act"
  for source in "$data" synthetic; do
    results=""
    for seed in 1 2 3; do
      out="$work/$act-$seed-$RANDOM"
      "$train" --data "$source" --activation "$act" --seed "$seed" --epochs "$epochs" --quiet --out "$out"
      results+="$(field "$out" test_accuracy) $(field "$out" final_test_loss)"$'\n'
    done
    row+=$(printf '%s' "$results" | awk '{ a += $1; l += $2 } END { printf " | %.4f | %.4f", a / NR, l / NR }')
  done
  echo "$row |"
done
