#!/usr/bin/env bash
# Runs each fuzz target (built by `make fuzz` into .build/fuzz) for SECONDS: first over its kept
# crashes (Fuzz/regressions/TARGET, each a regression test), then fuzzing from the seed corpus
# (Fuzz/corpus/TARGET) plus the corpus grown so far (.build/fuzz/corpus/TARGET). A new crash is
# saved into Fuzz/regressions/TARGET (commit it with the fix) and makes the exit status non-zero.
# Prints the executions per target.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=${*:-csv checkpoint metadata activation}
status=0
# LeakSanitizer on every target (a leak is a finding), with the suppressions of what is not ours.
export LSAN_OPTIONS=suppressions=$PWD/Sanitizers/lsan.supp:print_suppressions=0
for target in $targets; do
    binary=.build/fuzz/$target
    mkdir -p ".build/fuzz/corpus/$target" "Fuzz/regressions/$target"
    kept=(Fuzz/regressions/$target/*)
    if [ -e "${kept[0]}" ] && ! "$binary" -runs=1 "${kept[@]}" >".build/fuzz/$target.regressions.log" 2>&1; then
        echo "fuzz: $target: a kept crash fails again (see .build/fuzz/$target.regressions.log)"
        status=1
        continue
    fi
    # -rss_limit_mb: a huge allocation is a finding too (the readers check sizes before allocating).
    "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -detect_leaks=1 \
        -artifact_prefix="Fuzz/regressions/$target/" ".build/fuzz/corpus/$target" "Fuzz/corpus/$target" \
        >".build/fuzz/$target.log" 2>&1
    result=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' ".build/fuzz/$target.log")
    if [ $result -ne 0 ]; then
        echo "fuzz: $target: FINDING after ${runs:-?} executions (see .build/fuzz/$target.log; input kept in Fuzz/regressions/$target)"
        status=1
    else
        echo "fuzz: $target: ${runs:-?} executions in ${seconds} s, no findings"
    fi
done
exit $status
