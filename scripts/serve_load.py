#!/usr/bin/env python3
"""A bounded loopback load test of hsa-serve: N concurrent clients send a fixed number of
completions in total; prints the latency percentiles, the statuses, the server's RSS before and
after, and whether every request got an answer (none lost).

Starts .build/<config>/hsa-serve with the shipped tiny model unless --url names a running
server (then RSS is not measured). Plain http.client: no dependency beyond Python.

    python3 scripts/serve_load.py --clients 8 --requests 200 --max-tokens 16 [--stream]
"""

import argparse
import http.client
import json
import os
import statistics
import threading
import time
import urllib.parse

from serve_common import ROOT, Server


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def one_request(host, port, body):
    """Sends one completion; returns (status, seconds, bytes)."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=300)
    try:
        connection.request("POST", "/v1/completions", body,
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        return response.status, time.perf_counter() - start, len(data)
    finally:
        connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--prompt-bytes", type=int, default=256)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--queue-depth", type=int, default=64)
    parser.add_argument("--config", default="debug", help="debug or release build")
    parser.add_argument("--url", help="a running server instead of starting one")
    options = parser.parse_args()

    server = None
    url = options.url
    if url is None:
        server = Server(
            os.path.join(ROOT, ".build", options.config, "hsa-serve"),
            ["--model", os.path.join(ROOT, "models", "ruler-4k-seq-top8"),
             "--workers", str(options.workers), "--queue-depth", str(options.queue_depth)])
        url = server.url
    parsed = urllib.parse.urlparse(url)
    prompt = ("The grass is green. The sky is blue. " * 100)[: options.prompt_bytes]
    body = json.dumps({"model": "ruler-4k-seq-top8", "prompt": prompt, "temperature": 0,
                       "max_tokens": options.max_tokens, "stream": options.stream})
    rss_before = server.rss_kib() if server else None

    results = []
    lock = threading.Lock()
    remaining = [options.requests]

    def client():
        while True:
            with lock:
                if remaining[0] == 0:
                    return
                remaining[0] -= 1
            try:
                outcome = one_request(parsed.hostname, parsed.port, body)
            except Exception as error:  # a lost request: no answer at all
                outcome = (f"error: {error}", 0.0, 0)
            with lock:
                results.append(outcome)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(options.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    rss_after = server.rss_kib() if server else None
    if server:
        server.stop()

    statuses = {}
    for status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = [seconds * 1000 for status, seconds, _ in results if status == 200]
    answered = sum(count for status, count in statuses.items() if isinstance(status, int))
    print(f"requests: {options.requests} sent, {answered} answered, "
          f"{options.requests - answered} lost; statuses {statuses}")
    if latencies:
        print(f"latency ms (200s): p50 {percentile(latencies, 0.5):.1f}, "
              f"p90 {percentile(latencies, 0.9):.1f}, p99 {percentile(latencies, 0.99):.1f}, "
              f"mean {statistics.mean(latencies):.1f}, max {max(latencies):.1f}")
    print(f"throughput: {answered / wall:.1f} requests/s over {wall:.1f} s "
          f"({options.clients} clients, max_tokens {options.max_tokens}, "
          f"{options.prompt_bytes}-byte prompt, stream {options.stream})")
    if server:
        print(f"server RSS: {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB after")
    if answered != options.requests:
        raise SystemExit("serve_load: some requests got no answer")


if __name__ == "__main__":
    main()
