#!/usr/bin/env bash
# Joins the per-cell evaluations of eval-host.sh (results/NAME/SUITE-TASK-LENGTH/, from the GPU
# host and from any CPU that finished cells later) into one `hsa eval` directory per model and
# suite, rebuilds their tables and plots (`hsa eval --report-only`) and puts the models side
# by side (`hsa compare`).
#   RESULTS=dir/results OUT=dir bash recipes/main/merge.sh
# Knobs: HSA [hsa on PATH], COMPARE ["main seq main-s2 main-s3 mean": the names of the RULER
# comparison], COMPARE_NAMES [the same, comma-separated: names sharing a value are seeds].
set -u
: "${RESULTS:?RESULTS must name eval-host.sh results/}"
: "${OUT:?OUT must name the output directory}"
HSA=${HSA:-hsa}
for model in "$RESULTS"/*/; do
    name=$(basename "$model")
    for suite in ruler babilong; do
        ls -d "$model$suite"-* > /dev/null 2>&1 || continue
        mkdir -p "$OUT/$name/$suite"
        cat "$model$suite"-*/results.jsonl > "$OUT/$name/$suite/results.jsonl"
        "$HSA" eval --report-only --out "$OUT/$name/$suite" > /dev/null
    done
done
read -ra names <<< "${COMPARE:-main seq main-s2 main-s3 mean}"
dirs=()
for name in "${names[@]}"; do dirs+=("$OUT/$name/ruler"); done
list=${COMPARE_NAMES:-$(IFS=,; echo "${names[*]}")}
"$HSA" compare "${dirs[@]}" --names "$list" --out "$OUT/compare" > /dev/null
echo "tables: $OUT/*/*/results.md, $OUT/compare/comparison.md"
