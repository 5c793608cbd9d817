#!/usr/bin/env python3
"""End-to-end check of hsa-serve with the official `openai` client and curl.

Starts .build/debug/hsa-serve on a free loopback port with the shipped tiny model (and a
document memory built with .build/debug/hsa when that binary exists), then checks: /v1/models,
a greedy completion, the same completion streamed (chunks joined = whole text), the memory
answering like the full prompt, the client's typed errors (404 unknown model, 400 bad field,
401 wrong key), and with curl: /health, the raw SSE framing ending in `data: [DONE]`, 413 for
a body over the limit. Last, a graceful stop: SIGTERM while a completion is being read, which
must still be answered in full, after which the server exits 0. Exits non-zero at the first
failure.

    python3 scripts/serve_check.py [--build-dir .build/debug]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from serve_common import ROOT, Server

import openai

MODEL = "ruler-4k-seq-top8"
DOCUMENT = (
    "The grass is green. The sky is blue. " * 6
    + "One of the special magic numbers for quiet-lake is: 4817263. "
    + "The sun is yellow. Here we go. " * 4
)
QUESTION = (
    "\nWhat is the special magic number for quiet-lake mentioned in the provided text? "
    "The special magic number for quiet-lake mentioned in the provided text is"
)
KEY = "sk-serve-check"


def check(condition, what):
    if not condition:
        sys.exit(f"serve_check: FAILED: {what}")
    print(f"serve_check: ok: {what}")


def curl(*args):
    result = subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, timeout=60)
    return result.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", default=os.path.join(ROOT, ".build", "debug"))
    options = parser.parse_args()
    model_dir = os.path.join(ROOT, "models", MODEL)
    with tempfile.TemporaryDirectory() as scratch:
        args = ["--model", model_dir, "--max-body-bytes", "4096"]
        hsa = os.path.join(options.build_dir, "hsa")
        memory = os.path.exists(hsa)
        if memory:
            document = os.path.join(scratch, "document.txt")
            with open(document, "w") as handle:
                handle.write(DOCUMENT)
            subprocess.run(
                [hsa, "memory", "build", "--model", model_dir, "--out",
                 os.path.join(scratch, "mem"), document],
                check=True, capture_output=True)
            args += ["--memory", "haystack=" + os.path.join(scratch, "mem")]
        else:
            print(f"serve_check: skipped the memory check: {hsa} not built")
        server = Server(os.path.join(options.build_dir, "hsa-serve"), args, {"HSA_API_KEY": KEY})
        try:
            run_checks(server.url, memory)
        finally:
            server.stop()
    check_graceful_stop(os.path.join(options.build_dir, "hsa-serve"), model_dir)
    print("serve_check: all checks passed")


def check_graceful_stop(binary, model_dir):
    """SIGTERM during a completion (a ~4,000-byte prompt takes seconds to read in a debug
    build): the completion is answered in full, then the server exits 0."""
    server = Server(binary, ["--model", model_dir])
    answer = {}

    def complete():
        body = json.dumps(
            {"model": MODEL, "prompt": DOCUMENT * 12, "max_tokens": 8, "temperature": 0})
        request = urllib.request.Request(
            server.url + "/v1/completions", body.encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            answer["status"] = response.status
            answer["usage"] = json.loads(response.read())["usage"]

    thread = threading.Thread(target=complete)
    thread.start()
    time.sleep(1.0)
    server.process.send_signal(signal.SIGTERM)
    thread.join()
    code = server.process.wait(timeout=60)
    check(answer.get("status") == 200 and answer["usage"]["completion_tokens"] > 0,
          "SIGTERM during a completion: it is still answered in full")
    check(code == 0, "SIGTERM: the server exits 0 once the completion is answered")


def run_checks(url, memory):
    client = openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)
    ids = [model.id for model in client.models.list()]
    check(ids[0] == MODEL and ("haystack" in ids) == memory, f"/v1/models lists {ids}")

    prompt = DOCUMENT + QUESTION
    whole = client.completions.create(model=MODEL, prompt=prompt, max_tokens=8, temperature=0)
    text = whole.choices[0].text
    check(len(text) > 0 and whole.usage.completion_tokens <= 8, f"completion {text!r}")
    check(whole.usage.prompt_tokens == len(prompt.encode()) + 1, "prompt_tokens = bytes + BOS")

    stream = client.completions.create(
        model=MODEL, prompt=prompt, max_tokens=8, temperature=0, stream=True)
    chunks = list(stream)
    check("".join(c.choices[0].text for c in chunks) == text, "streamed chunks join to the text")
    check(chunks[-1].choices[0].finish_reason in ("stop", "length"), "last chunk's finish_reason")

    if memory:
        answer = client.completions.create(
            model="haystack", prompt=QUESTION, max_tokens=8, temperature=0)
        check(answer.choices[0].text == text, "the memory answers as the full prompt does")

    try:
        client.completions.create(model="nope", prompt="x")
        check(False, "unknown model refused")
    except openai.NotFoundError as error:
        check(error.status_code == 404, "unknown model: NotFoundError (404)")
    try:
        client.completions.create(model=MODEL, prompt="x", temperature=9)
        check(False, "temperature 9 refused")
    except openai.BadRequestError as error:
        check(error.body.get("param") == "temperature", "bad field: BadRequestError naming it")
    wrong = openai.OpenAI(base_url=url + "/v1", api_key="sk-wrong", max_retries=0)
    try:
        wrong.models.list()
        check(False, "wrong key refused")
    except openai.AuthenticationError:
        check(True, "wrong API key: AuthenticationError (401)")

    health = json.loads(curl(url + "/health"))
    check(health.get("status") == "ok", "curl /health")
    body = json.dumps({"model": MODEL, "prompt": "x", "max_tokens": 3, "stream": True})
    raw = curl("-N", "-H", "Authorization: Bearer " + KEY, "-H", "Content-Type: application/json",
               "-d", body, url + "/v1/completions")
    events = [e for e in raw.split("\n\n") if e]
    check(all(e.startswith("data: ") for e in events) and raw.endswith("data: [DONE]\n\n"),
          f"curl SSE framing ({len(events)} events, ends with [DONE])")
    big = json.dumps({"model": MODEL, "prompt": "x" * 10000})
    status = curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer " + KEY,
                  "--data-binary", big, url + "/v1/completions")
    check(status == "413", "curl: body over --max-body-bytes gets 413")


if __name__ == "__main__":
    main()
