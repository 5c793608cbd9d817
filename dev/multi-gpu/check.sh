#!/usr/bin/env bash
# Multi-GPU check for `hsa train --gpus N` (docs/MULTI-GPU.md). Run from the repository root on
# a host with >= 2 GPUs; everything goes to $OUT. Takes a few minutes on 2 H100s:
#   (a) make a little data, (b) 1-GPU vs 2-GPU training with the same global batch (loss curves
#   side by side + max |diff|), and 2 GPUs with the all-reduce overlapped with the backward pass
#   (default) vs after it (HSA_OVERLAP_REDUCE=0): the losses must be identical bits, (c)
#   tokens/s of --preset paper --seq-len 4096 on 1..N GPUs, overlap on and off (JSON), (d) kill
#   one rank mid-run: the launcher's message and how long the others took to stop, then
#   --resume on 1 GPU.
# Env: HSA_GZ (gzipped static hsa, default .build-nccl-rel/hsa.gz), OUT (default ./out-multi-gpu),
#      GPUS (largest N to benchmark, default: all visible), BENCH_STEPS (default 6).
set -u
OUT=${OUT:-$PWD/out-multi-gpu}
mkdir -p "$OUT"
HSA_GZ=${HSA_GZ:-.build-nccl-rel/hsa.gz}
HSA=/tmp/hsa-nccl
gunzip -c "$HSA_GZ" > "$HSA" && chmod +x "$HSA"
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:${LD_LIBRARY_PATH:-}
WORK=$(mktemp -d /tmp/hsa-multi-gpu.XXXX)
LOG="$OUT/check.txt"
exec > >(tee "$LOG") 2>&1

# NCCL: from PyTorch's pip wheel (nvidia-nccl-cu12/cu13) if present, else anywhere on disk.
if [ -z "${HSA_NCCL_LIBRARY:-}" ]; then
  for py in python3 python; do
    dir=$($py -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null) && break
  done
  if [ -n "${dir:-}" ] && [ -e "$dir/libnccl.so.2" ]; then
    export HSA_NCCL_LIBRARY="$dir/libnccl.so.2"
  else
    found=$(find / -xdev \( -path /proc -o -path /sys \) -prune -o -name 'libnccl.so*' -print 2>/dev/null | head -1)
    [ -n "$found" ] && export HSA_NCCL_LIBRARY="$found"
  fi
fi
echo "HSA_NCCL_LIBRARY=${HSA_NCCL_LIBRARY:-<not found, relying on the default search>}"
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader
"$HSA" doctor
NGPU=$(nvidia-smi -L | wc -l)
GPUS=${GPUS:-$NGPU}
BENCH_STEPS=${BENCH_STEPS:-6}

# Steps of a run's log.jsonl as "step loss tokens_per_s" lines.
steps() {
  grep '"event" *: *"step"' "$1/log.jsonl" | while read -r line; do
    s=$(echo "$line" | grep -o '"step" *: *[0-9]*' | grep -o '[0-9]*$')
    l=$(echo "$line" | grep -o '"loss" *: *[-0-9.eE+]*' | sed 's/.*: *//')
    t=$(echo "$line" | grep -o '"tokens_per_s" *: *[-0-9.eE+]*' | sed 's/.*: *//')
    echo "$s $l $t"
  done
}

echo "== (a) data"
seq 1 300000 | awk '{ printf "record %d: the chunk encoder reads landmark %d while token %d waits for %d.\n", $1, $1 % 97, ($1 * 7) % 13, $1 % 11 }' > "$WORK/corpus.txt"
"$HSA" data prepare "$WORK/corpus.txt" --out "$WORK/tokens" --validation-fraction 0 || exit 1

echo "== (b) 1 GPU vs 2 GPUs, same global batch (small preset, B 8, T 256, 30 steps)"
TRAIN=(train --data "$WORK/tokens" --backend cuda --preset small --batch-size 8 --seq-len 256
  --steps 30 --warmup-steps 5 --eval-every 0 --checkpoint-every 0 --report-every 10)
"$HSA" "${TRAIN[@]}" --out "$WORK/run1" || echo "1-GPU run FAILED"
"$HSA" "${TRAIN[@]}" --gpus 2 --out "$WORK/run2" || echo "2-GPU run FAILED"
HSA_OVERLAP_REDUCE=0 "$HSA" "${TRAIN[@]}" --gpus 2 --out "$WORK/run2off" \
  || echo "2-GPU run without overlap FAILED"
steps "$WORK/run1" > "$WORK/s1.txt"; steps "$WORK/run2" > "$WORK/s2.txt"
steps "$WORK/run2off" > "$WORK/s2off.txt"
echo "step loss_1gpu loss_2gpu |diff|" | tee "$OUT/loss-1v2.txt"
paste -d' ' "$WORK/s1.txt" "$WORK/s2.txt" | awk '{ d = $2 - $5; if (d < 0) d = -d; if (d > m) m = d;
  printf "%d %.6f %.6f %.2e\n", $1, $2, $5, d } END { printf "max |diff| = %.3e\n", m }' \
  | tee -a "$OUT/loss-1v2.txt"
# Overlap changes only when each bucket's all-reduce starts, never what it sums: expect 0.
paste -d' ' "$WORK/s2.txt" "$WORK/s2off.txt" | awk '{ if ($2 != $5) n++ }
  END { printf "2 GPUs overlap on vs off: %d of %d step losses differ (expect 0)\n", n, NR }' \
  | tee "$OUT/loss-overlap-on-off.txt"

echo "== (c) tokens/s, paper preset, T 4096, 1 sequence per GPU (overlap on, then off)"
# Median tokens/s of a benchmark run on $1 GPUs with HSA_OVERLAP_REDUCE=$2 (steps after the
# first two: warm-up is kernel compile and pool growth); "null" when it failed.
bench() {
  local run="$WORK/bench$1-$2"
  HSA_OVERLAP_REDUCE=$2 "$HSA" train --data "$WORK/tokens" --backend cuda --preset paper \
    --seq-len 4096 --batch-size "$1" --gpus "$1" --steps "$BENCH_STEPS" --warmup-steps 1 \
    --eval-every 0 --checkpoint-every 0 --report-every 1 --out "$run" >&2 \
    || { echo "bench $1 GPUs (overlap $2) FAILED" >&2; echo null; return; }
  steps "$run" | awk 'NR > 2 { print $3 }' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
  rm -rf "$run/checkpoints"
}
echo "[" > "$OUT/bench-multi-gpu.json"
first=1
for n in 1 2 4 8; do
  [ "$n" -gt "$GPUS" ] && break
  tps=$(bench "$n" 1)
  # One GPU has nothing to reduce: the switch changes nothing there.
  if [ "$n" -gt 1 ]; then off=$(bench "$n" 0); else off=$tps; fi
  [ $first -eq 0 ] && echo "," >> "$OUT/bench-multi-gpu.json"; first=0
  printf '{"gpus": %d, "preset": "paper", "seq_len": 4096, "global_batch": %d, "tokens_per_s": %s, "tokens_per_s_no_overlap": %s, "gpu": "%s"}' \
    "$n" "$n" "${tps:-null}" "${off:-null}" "$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)" >> "$OUT/bench-multi-gpu.json"
  echo "gpus=$n tokens/s=$tps (overlap off: $off)"
done
echo "]" >> "$OUT/bench-multi-gpu.json"
cat "$OUT/bench-multi-gpu.json"

echo "== (d) kill rank 1 mid-run, then resume on 1 GPU"
FAIL=(train --data "$WORK/tokens" --backend cuda --preset small --batch-size 8 --seq-len 256
  --warmup-steps 5 --eval-every 0 --checkpoint-every 10 --report-every 10
  --out "$WORK/runfail")
"$HSA" "${FAIL[@]}" --steps 400 --gpus 2 > "$WORK/fail.txt" 2>&1 &
LPID=$!
for _ in $(seq 1 600); do
  n=$(grep -c '"event" *: *"checkpoint"' "$WORK/runfail/log.jsonl" 2>/dev/null || true)
  [ "${n:-0}" -ge 2 ] && break
  sleep 0.2
done
RPID=$(grep -o 'rank 1: pid [0-9]*' "$WORK/fail.txt" | grep -o '[0-9]*$')
echo "killing rank 1 (pid $RPID) with SIGKILL"
t0=$(date +%s.%N)
kill -9 "$RPID"
wait $LPID; status=$?
t1=$(date +%s.%N)
cat "$WORK/fail.txt"
echo "launcher exit status $status; all ranks gone $(awk "BEGIN { print $t1 - $t0 }") s after the kill"
ps -o pid,cmd --ppid $LPID 2>/dev/null | tail -n +2 | sed 's/^/STILL RUNNING: /'
"$HSA" "${FAIL[@]}" --steps 60 --resume || echo "resume FAILED"
steps "$WORK/runfail" | tail -3
cp "$WORK"/run1/log.jsonl "$OUT/log-1gpu.jsonl"; cp "$WORK"/run2/log.jsonl "$OUT/log-2gpu.jsonl"
cp "$WORK"/run2off/log.jsonl "$OUT/log-2gpu-no-overlap.jsonl"
rm -rf "$WORK"
echo "done; outputs in $OUT"
