#!/usr/bin/env python3
"""Writes Tests/Fixtures/ruler-nvidia/ with NVIDIA RULER's own data preparation.

Runs `long_context_eval/data/prepare.py` of PyPI nvidia-long-context-eval 26.3, unmodified,
once per task, exactly as RULER's run scripts do (prepare.py builds the prompt template with
the task's answer prefix and calls data/synthetic/niah.py or variable_tracking.py). The only
substitution is the tokenizer: `--tokenizer_type openai` with the offline tiktoken stand-in
in stub/ (words and punctuation marks), since no real tokenizer can be downloaded here.
Output layout is RULER's: <task>/validation.jsonl.

Setup (a throwaway venv; nothing else is installed):

    python3 -m venv /tmp/rv
    /tmp/rv/bin/pip install --no-deps nvidia-long-context-eval==26.3
    /tmp/rv/bin/pip install nltk==3.9.1 wonderwords==2.2.0 numpy==2.4.6 tqdm pyyaml tenacity
    /tmp/rv/bin/python dev/ruler-fixture/make_fixture.py

Only tasks that need no downloaded data run: the essay haystacks need nltk's punkt model
(sent_tokenize), which is not installed offline.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import long_context_eval

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE.parents[1] / "Tests" / "Fixtures" / "ruler-nvidia"
PACKAGE = pathlib.Path(long_context_eval.__file__).resolve().parent

# task -> (max_seq_length in stand-in tokens, samples). Small, but not too small: when not
# even the smallest haystack fits, the generators retry forever (NIAH's tokens_to_generate
# alone takes 128), and vt also holds an in-context example sized for 500 tokens.
TASKS = {
    "niah_single_1": (512, 2),
    "niah_multikey_2": (512, 2),
    "niah_multikey_3": (512, 2),
    "vt": (1024, 1),
}


def main():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE / "stub"), env.get("PYTHONPATH", "")])
    # prepare.py starts each generator as `python ...`: make that this interpreter.
    env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env["PATH"]])
    with tempfile.TemporaryDirectory() as work:
        for task, (length, samples) in TASKS.items():
            command = [
                sys.executable, str(PACKAGE / "data" / "prepare.py"),
                "--save_dir", work, "--benchmark", "synthetic", "--task", task,
                "--tokenizer_path", "words", "--tokenizer_type", "openai",
                "--max_seq_length", str(length), "--model_template_type", "base",
                "--num_samples", str(samples),
            ]
            print(" ".join(command[1:]))
            subprocess.run(command, check=True, env=env, cwd=work, stdout=subprocess.DEVNULL)
            produced = pathlib.Path(work) / task / "validation.jsonl"
            if not produced.exists():
                sys.exit(f"{task}: the generator wrote nothing (prepare.py hides its errors)")
            (OUT / task).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(produced, OUT / task / "validation.jsonl")


if __name__ == "__main__":
    main()
