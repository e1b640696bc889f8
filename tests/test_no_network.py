"""Nothing reaches out: the library imports and the tiny pipeline's stages run with network blocked.

Processes are started with ``tests/netguard`` on PYTHONPATH, whose sitecustomize refuses any
connection or name lookup beyond loopback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NETGUARD = Path(__file__).resolve().parent / "netguard"


def guarded_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(NETGUARD), str(ROOT)])
    return env


def run_guarded(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=guarded_env(),
                          capture_output=True, text=True, timeout=600)


def test_guard_blocks_outside_connections():
    result = run_guarded(
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('93.184.216.34', 80), timeout=1)\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n"
    )
    assert "NetworkBlocked" in result.stdout, result.stderr


def test_every_library_module_imports_offline():
    result = run_guarded(
        "import importlib, pkgutil, fugu\n"
        "names = [m.name for m in pkgutil.walk_packages(fugu.__path__, 'fugu.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print('imported', len(names) + 1)\n"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "imported" in result.stdout
