"""Starting and stopping an hsa-serve process for scripts/serve_check.py and serve_load.py."""

import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Server:
    """An hsa-serve child process on a free loopback port; `url` is its base URL."""

    def __init__(self, binary, args, env=None):
        if not os.path.exists(binary):
            sys.exit(f"{binary}: not built (swift build --product hsa-serve)")
        self.process = subprocess.Popen(
            [binary, "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        deadline = time.time() + 60
        line = ""
        while time.time() < deadline:
            line = self.process.stdout.readline()
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                self.url = match.group(1)
                return
            if not line and self.process.poll() is not None:
                break
        self.stop()
        sys.exit(f"hsa-serve did not start: {line.strip()}")

    @property
    def pid(self):
        return self.process.pid

    def rss_kib(self):
        """The server's resident set size in KiB (Linux /proc)."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
