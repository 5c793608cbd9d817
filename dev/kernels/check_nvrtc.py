#!/usr/bin/env python3
"""Compiles the shipped kernel sources with NVRTC on a machine without a GPU.

NVRTC needs no driver, so a CPU machine can catch compile errors before spending GPU time:
    pip download nvidia-cuda-nvrtc==13.0.* (then unzip the wheel)
    python3 dev/kernels/check_nvrtc.py /path/to/libnvrtc.so.13 [sm_90 [nvrtc options...]]
It extracts the #\"\"\" ... \"\"\"# literals of Sources/HSACUDA/Kernels/*.swift, prepends the
prelude exactly as KernelSource does, and compiles each module with the backend's options.
"""
import ctypes
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
KERNELS = ROOT / "Sources/HSACUDA/Kernels"


def literals(path):
    """Raw multi-line string literals of a Swift file, indentation removed like Swift does."""
    text = path.read_text()
    blocks = []
    for match in re.finditer(r'#"""\n(.*?)\n( *)"""#', text, re.S):
        indent = len(match.group(2))
        lines = [line[indent:] for line in match.group(1).split("\n")]
        blocks.append("\n".join(lines))
    return blocks


def main():
    nvrtc = ctypes.CDLL(sys.argv[1])
    arch = sys.argv[2] if len(sys.argv) > 2 else "sm_90"
    prelude = literals(KERNELS / "KernelSource.swift")[0] + "\n"
    tensor_core = literals(KERNELS / "TensorCorePrelude.swift")[0]
    options = [f"--gpu-architecture={arch}", "--std=c++17", "--fmad=true", "-default-device"]
    options += sys.argv[3:]  # e.g. --ptxas-options=-v for register counts
    failed = 0
    for path in sorted(KERNELS.glob("*.swift")):
        if path.name in ("KernelSource.swift", "TensorCorePrelude.swift"):
            continue
        # The tensor-core modules start with TensorCorePrelude's helpers, as in KernelSource.
        extra = tensor_core if "TensorCore" in path.name else ""
        for body in literals(path):
            program = ctypes.c_void_p()
            source = (prelude + extra + body).encode()
            nvrtc.nvrtcCreateProgram(ctypes.byref(program), source, path.name.encode(), 0, None, None)
            array = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
            status = nvrtc.nvrtcCompileProgram(program, len(options), array)
            size = ctypes.c_size_t()
            nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
            log = ctypes.create_string_buffer(size.value)
            nvrtc.nvrtcGetProgramLog(program, log)
            print(f"{path.name}: {'ok' if status == 0 else 'FAILED'}")
            if log.value.strip():
                print(log.value.decode())
            failed += status != 0
            nvrtc.nvrtcDestroyProgram(ctypes.byref(program))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
