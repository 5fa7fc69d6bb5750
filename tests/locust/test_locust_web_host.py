"""The locustfiles keep Locust's web UI on 127.0.0.1 unless told otherwise.

Locust's own default is every interface. Locust runs in subprocesses only (importing it
here would patch the test process with gevent): one parses the options as Locust does,
with the locustfile's listeners, and prints the effective ``web_host``; another starts the
web UI for real and we read the address its socket is bound to.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILES = [
    pytest.param("scenarios/locustfile.py", id="service"),
    pytest.param("scenarios/gemini_locustfile.py", id="gemini"),
]
# Loads the locustfile (its init_command_line_parser listeners) and parses as Locust does.
EFFECTIVE_WEB_HOST = """
import sys
from locust.argument_parser import get_parser
from locust.util.load_locustfile import load_locustfile
load_locustfile(sys.argv[1])
print(get_parser(default_config_files=[]).parse_args(sys.argv[2:]).web_host)
"""


def effective_web_host(locustfile: str, args: list[str], env: dict[str, str]) -> str:
    cmd = [sys.executable, "-c", EFFECTIVE_WEB_HOST, locustfile, "-f", locustfile, *args]
    done = subprocess.run(
        cmd, cwd=REPO, capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("locustfile", LOCUSTFILES)
@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        pytest.param([], {}, "127.0.0.1", id="default"),
        pytest.param(["--web-host", "127.0.0.2"], {}, "127.0.0.2", id="flag"),
        pytest.param([], {"LOCUST_WEB_HOST": "127.0.0.3"}, "127.0.0.3", id="env"),
        pytest.param(["--config", "scenarios/locust.conf"], {}, "127.0.0.1", id="conf"),
    ],
)
def test_the_web_ui_defaults_to_loopback_and_can_be_moved(
    locustfile: str, args: list[str], env: dict[str, str], expected: str
) -> None:
    assert effective_web_host(locustfile, args, env) == expected


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening_addresses(pid: int, port: int) -> set[str]:
    connections = psutil.Process(pid).net_connections(kind="tcp")
    return {c.laddr.ip for c in connections if c.status == "LISTEN" and c.laddr.port == port}


@pytest.mark.parametrize("locustfile", LOCUSTFILES)
def test_the_web_ui_listens_on_loopback_only(locustfile: str, tmp_path: Path) -> None:
    port = _free_port()
    # --host: the locustfile starts no mock or service; port 9 (discard) is never called.
    args = ["-f", locustfile, "--web-port", str(port), "--host", "http://127.0.0.1:9"]
    with open(tmp_path / "locust.log", "w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "locust", *args], cwd=REPO, stdout=log, stderr=log
        )
        try:
            addresses: set[str] = set()
            deadline = time.monotonic() + 30
            while not addresses and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
                addresses = _listening_addresses(proc.pid, port)
        finally:
            proc.terminate()
            proc.wait(15)
        log.seek(0)
        assert addresses == {"127.0.0.1"}, log.read()[-2000:]
