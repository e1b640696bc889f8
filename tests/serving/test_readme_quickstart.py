"""The README's serving quickstart runs as written: its bash block, executed by bash.

Only three things differ from a user's shell, each for the test's sake: ``dvc repro fetch``
is replaced by a small generated replay table in the same place (running DVC here would
rewrite the checkout's dvc.lock), ports 8000/8001 become free ports (other tests and people
share the machine), and ``fugu``/``python`` are this interpreter's. The curl answer must be
the recorded answer of the pool's first worker (the priority router's first choice).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from fugu.data.table import TABLE_FILE, write_outcome_table
from fugu.serving.worker_server import free_port
from tests.outcome_fixtures import tidy_table

ROOT = Path(__file__).resolve().parents[2]


def quickstart_block() -> str:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- quickstart:begin -->\s*```bash\n(.*?)```\s*<!-- quickstart:end -->", readme, re.S)
    assert block, "README.md has no quickstart block between the quickstart markers"
    return block.group(1)


def test_the_readme_quickstart_runs_as_written(tmp_path):
    script = quickstart_block()
    assert script.splitlines()[0].startswith("dvc repro fetch")
    table = tidy_table(6)
    write_outcome_table(table, tmp_path / "artifacts/fetch/routing" / TABLE_FILE)
    fugu_port, worker_port = free_port(), free_port()
    script = "\n".join(script.splitlines()[1:])  # the fetch step: the table above stands in for it
    script = script.replace("8000", str(fugu_port)).replace("8001", str(worker_port))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "fugu").write_text(f"#!/bin/sh\nexec {sys.executable} -m fugu.cli \"$@\"\n")
    (bin_dir / "python").write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
    for tool in ("fugu", "python"):
        (bin_dir / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    env.pop("FUGU_API_KEY", None)
    process = subprocess.Popen(["bash", "-e", "-c", script], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = process.communicate(timeout=150)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # whatever the script left running
        except ProcessLookupError:
            pass
    assert process.returncode == 0, err[-3000:]
    answer = json.loads(out.strip().splitlines()[-1].removeprefix('{"status":"ok"}'))
    first_question = table.drop_duplicates("question_id").iloc[0]
    recorded = table[(table.question_id == first_question.question_id) & (table.model == sorted(table.model)[0])]
    assert answer["choices"][0]["message"]["content"] == recorded.iloc[0]["response"]
    assert first_question["question"] in out  # `fugu questions` listed it
