#!/usr/bin/env bash
# Every figure in BENCHMARKS.md, ours and the anchors', side by side in one run. Ours, and the
# anchors of Benchmarks/anchors (which take --json), are also written as JSON lines to
# WORKDIR/results.jsonl, from which Benchmarks/scripts/tables.sh rewrites BENCHMARKS.md's generated
# tables at the end.
# Usage: Benchmarks/scripts/run_all.sh SHARED_DIR PYTHON WORKDIR
#   SHARED_DIR: the project's shared/ (anchors and banknote.csv); PYTHON: the anchors' venv python
#   (see SHARED_DIR/anchors/README.md); WORKDIR: where the generated CSV files go (~8 GB).
set -euo pipefail
shared=${1:?usage: run_all.sh SHARED_DIR PYTHON WORKDIR}
python=${2:?}
work=${3:?}
mkdir -p "$work"
results="$work/results.jsonl"
: > "$results"
# One of our benchmarks, or an anchor of Benchmarks/anchors: its JSON results saved, and printed.
bench() { .build/release/bench "$@" --json | tee -a "$results"; }
anchor() { "$python" "Benchmarks/anchors/$1" "${@:2}" --json | tee -a "$results"; }
swift build -c release >/dev/null
peak() { /usr/bin/time -f "peak RSS %M KiB" "$@"; }

echo "## seed recipe, banknote, 300 epochs"
for t in 1 2; do
  bench seed --data "$shared/data/banknote.csv" --threads $t
  "$python" "$shared/anchors/torch_seed.py" "$shared/data/banknote.csv" $t | tail -1
done

echo "## seed network, 1,000,000 synthetic rows (800,000 train), full batch"
for t in 1 2 4; do bench seed --data synthetic:1000000 --threads $t --epochs 3; done
for t in 1 2; do anchor torch_seed_rows.py 800000 $t 3; done

echo "## wide 28-512-512-512-2, batch 1024"
for t in 1 2 4; do bench wide --threads $t; done
for t in 1 2; do "$python" "$shared/anchors/torch_wide.py" $t; done

echo "## regression and classification on the same wide network and the same features (60,000 rows, 2 epochs)"
[ -f "$work/cls28.csv" ] || .build/release/datagen --rows 60000 --features 28 --format short --out "$work/cls28.csv"
[ -f "$work/reg28.csv" ] || .build/release/datagen --task regression --rows 60000 --features 28 --format short --out "$work/reg28.csv"
for round in 1 2 3; do
  for task in classification regression; do
    file=$([ $task = regression ] && echo reg28 || echo cls28)
    .build/release/train --data "$work/$file.csv" --task $task --hidden 512,512,512 --batch-size 1024 --epochs 2 \
      --test-fraction 0 --threads 2 --quiet --out "$work/run-$task-$round-$$"
    echo "$task $(grep '"train_samples_per_second"' "$work/run-$task-$round-$$/summary.json")"
  done
done

echo "## scaling of the wide network, 1 to all cores"
bench scaling --plot "$work/scaling.svg"

echo "## GEMM"
bench gemm
OPENBLAS_NUM_THREADS=1 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" "$shared/anchors/sgemm.py"
(unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; OPENBLAS_NUM_THREADS=1 anchor sgemm_shapes.py)

echo "## activations"
bench activations --repeat 21  # ratios: medians of 21 rounds, a fraction of a second per activation

echo "## CSV, 500,000 HIGGS-shaped rows"
[ -f "$work/higgs500k.csv" ] || .build/release/datagen --rows 500000 --label first --no-header --out "$work/higgs500k.csv"
for t in 1 2; do
  peak .build/release/bench csv "$work/higgs500k.csv" --threads $t --json | tee -a "$results"
  anchor csv_read.py "$work/higgs500k.csv" $t
done

echo "## datagen"
time .build/release/datagen --rows 500000 --label first --no-header --force --out "$work/datagen-speed.csv"
rm -f "$work/datagen-speed.csv"

echo "## 5,000,000 rows end to end: load + one epoch of the wide network, and of the seed network"
[ -f "$work/higgs5m.csv" ] || .build/release/datagen --rows 5000000 --label first --no-header --out "$work/higgs5m.csv"
peak .build/release/train --data "$work/higgs5m.csv" --target 0 --hidden 512,512,512 --batch-size 1024 --epochs 1 \
  --test-fraction 0 --quiet --out "$work/run5m-$$"
grep -E '"(load_seconds|load_mb_per_second|train_seconds|train_samples_per_second)"' "$work/run5m-$$/summary.json"

echo "## predict, 5,000,000 rows of the seed network"
[ -f "$work/seed5m.csv" ] || .build/release/datagen --rows 5000000 --features 4 --format short --out "$work/seed5m.csv"
.build/release/train --data "$shared/data/banknote.csv" --preset seed --quiet --out "$work/seedmodel-$$"
cut -d, -f1-4 "$work/seed5m.csv" | sed '1s/.*/variance,skewness,curtosis,entropy/' > "$work/seed5m-features.csv"
for t in 1 2; do
  peak .build/release/predict --model "$work/seedmodel-$$/model.safetensors" --data "$work/seed5m-features.csv" \
    --output "$work/pred5m.csv" --threads $t
done

Benchmarks/scripts/tables.sh "$results" BENCHMARKS.md
