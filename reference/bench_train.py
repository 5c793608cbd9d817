"""Training throughput of the PyTorch twin: forward + backward tokens/s for one preset.

    python3 reference/bench_train.py [--preset small] [--seq-len 4096] [--batch 1]
                                     [--warmup 2] [--steps 3] [--compile] [--device cpu|cuda]
                                     [--autocast bf16] [--threads N] [--out bench_train.json]

Prints one JSON object and writes it to --out: {impl, preset, seq_len, batch, tokens_per_s,
step_ms, peak_rss_mb, threads, torch, device, machine, ...}. A step is zero_grad, forward with
loss, backward (no optimizer update), on random tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hsa_reference import HSAConfig, HSAModel  # noqa: E402

# The "impl" of the JSON; dev/kernels/bench_train_triton.py names its variant here.
IMPL = "pytorch"


def machine_description(device: str) -> str:
    if device == "cuda":
        return torch.cuda.get_device_name()
    cpu = platform.processor() or "cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.machine()}"


def main() -> None:
    ap = argparse.ArgumentParser(description="forward+backward tokens/s of the PyTorch twin")
    ap.add_argument("--preset", default="small", choices=["tiny", "small", "paper"])
    ap.add_argument("--seq-len", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--compile", action="store_true", help="wrap the model in torch.compile")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    ap.add_argument("--autocast", default=None, choices=["bf16"],
                    help="run forward and loss under torch.autocast (bf16 matmuls, fp32 weights)")
    ap.add_argument("--attention", default=None, choices=["hsa", "swa", "full"],
                    help="override the preset's attention mode")
    ap.add_argument("--retrieval", default=None, choices=["per_token", "per_chunk"],
                    help="override the preset's retrieval granularity")
    ap.add_argument("--n-kv-heads", type=int, default=None,
                    help="override the preset's KV heads (query heads per KV head = n_heads / this)")
    ap.add_argument("--out", default="bench_train.json", help="JSON output path")
    args = ap.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    overrides = {"max_train_len": max(4096, args.seq_len)}
    if args.attention:
        overrides["attention"] = args.attention
    if args.retrieval:
        overrides["retrieval"] = args.retrieval
    if args.n_kv_heads:
        overrides["n_kv_heads"] = args.n_kv_heads
    cfg = HSAConfig.preset(args.preset, **overrides)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = HSAModel(cfg).to(device)
    step_model = torch.compile(model) if args.compile else model
    n_params = sum(p.numel() for p in model.parameters())
    tokens = torch.randint(0, cfg.vocab_size, (args.batch, args.seq_len + 1), device=device)
    x, y = tokens[:, :-1], tokens[:, 1:]

    def step() -> float:
        model.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.autocast == "bf16"):
            _, loss, _ = step_model(x, y)
        loss.backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)

    step_s = statistics.median(times)
    result = {
        "impl": IMPL,
        "preset": args.preset,
        "attention": cfg.attention,
        "retrieval": cfg.retrieval,
        "n_kv_heads": cfg.n_kv_heads,
        "seq_len": args.seq_len,
        "batch": args.batch,
        "params": n_params,
        "tokens_per_s": round(args.batch * args.seq_len / step_s, 1),
        "step_ms": round(step_s * 1000, 1),
        "step_ms_all": [round(t * 1000, 1) for t in times],
        "warmup": args.warmup,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": torch.get_num_threads(),
        "compile": args.compile,
        "autocast": args.autocast,
        "device": args.device,
        "torch": torch.__version__,
        "machine": machine_description(args.device),
    }
    if device.type == "cuda":
        result["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
