"""`python -m devstack up --core-tools`: the same stack with the function app under `func start`.

Core Tools cannot be installed here (its npm install downloads the binary from Microsoft's CDN), so
the tests put a stand-in `func` on PATH: a script that records how it was started (arguments,
working directory, environment, the settings file it would read), listens on the port it was
given, and records the signal that stops it. The rest of the stack is real.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from devstack.child_stack import ROOT, start_stack, stop_stack

FAKE_FUNC = textwrap.dedent(
    """\
    #!{python}
    # A stand-in for Azure Functions Core Tools' `func`: record, listen, stop on SIGTERM (bounded).
    import json, os, signal, socket, sys, time
    record = os.environ["FAKE_FUNC_RECORD"]
    settings = os.path.join(os.getcwd(), "local.settings.json")
    seen = {{
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "python": os.environ.get("languageWorkers__python__defaultExecutablePath"),
        "path_head": os.environ.get("PATH", "").split(os.pathsep)[0],
        "settings": json.load(open(settings)) if os.path.exists(settings) else None,
        "settings_mode": oct(os.stat(settings).st_mode & 0o777) if os.path.exists(settings) else None,
    }}
    def stop(signum, frame):
        seen["stopped_by"] = signum
        json.dump(seen, open(record, "w"))
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    json.dump(seen, open(record, "w"))
    server = socket.create_server(("127.0.0.1", int(sys.argv[sys.argv.index("--port") + 1])))
    server.settimeout(0.2)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            server.accept()[0].close()
        except TimeoutError:
            pass
    """
)


def fake_func(directory: Path) -> Path:
    directory.mkdir()
    script = directory / "func"
    script.write_text(FAKE_FUNC.format(python=sys.executable))
    script.chmod(0o755)
    return script


def app_dir(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    for name in ("function_app.py", "host.json"):
        (app / name).write_text((ROOT / name).read_text())
    return app


def run_up(tmp_path: Path, path: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devstack", "up", "--core-tools", "--state-dir", str(tmp_path / "state"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, "PATH": path},
    )


def test_without_func_on_path_it_fails_at_once_saying_how_to_install_it_and_why_it_is_opt_in(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    started = time.monotonic()
    result = run_up(tmp_path, str(empty))
    assert result.returncode == 2
    assert time.monotonic() - started < 30  # nothing was started: no Azurite, no emulator
    assert "npm install -g azure-functions-core-tools@4" in result.stderr
    assert "opt-in" in result.stderr
    assert "in-process host" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "state").exists()


def test_a_settings_file_the_developer_wrote_is_never_replaced(tmp_path):
    bin_dir = tmp_path / "bin"
    fake_func(bin_dir)
    app = app_dir(tmp_path)
    (app / "local.settings.json").write_text('{"Values": {"MINE": "1"}}')
    result = run_up(tmp_path, os.pathsep.join([str(bin_dir), os.environ["PATH"]]), "--app-dir", str(app))
    assert result.returncode == 2
    assert "devstack did not write it" in result.stderr
    assert "Traceback" not in result.stderr
    assert (app / "local.settings.json").read_text() == '{"Values": {"MINE": "1"}}'


def test_func_start_gets_the_host_port_the_app_dir_the_stacks_settings_and_this_python(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    fake_func(bin_dir)
    app = app_dir(tmp_path)
    record = tmp_path / "func-record.json"
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), os.environ["PATH"]]))
    monkeypatch.setenv("FAKE_FUNC_RECORD", str(record))
    stack = start_stack(tmp_path / "state", "--core-tools", "--app-dir", str(app), "--no-backend")
    try:
        assert any("under Core Tools" in line for line in stack.output)
        seen = json.loads(record.read_text())
        assert seen["argv"] == ["start", "--port", str(stack.ports["host"])]
        assert Path(seen["cwd"]) == app
        assert seen["python"] == sys.executable
        assert seen["path_head"] == str(Path(sys.executable).parent)
        assert seen["settings_mode"] == "0o600"
        # The same file the in-process host reads, in the place `func start` reads it.
        assert seen["settings"] == json.loads((tmp_path / "state" / "local.settings.json").read_text())
        values = seen["settings"]["Values"]
        assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
        assert f"Port={stack.ports['emulator']};" in values["AzureSignalRConnectionString"]
        assert f":{stack.ports['queue']}/" in values["AzureWebJobsStorage"]
        assert seen["settings"]["Host"]["CORS"] == f"http://localhost:{stack.ports['host']}"
    finally:
        assert stop_stack(stack) == 0
    seen = json.loads(record.read_text())
    assert seen["stopped_by"] == signal.SIGTERM  # to the process group the stack started
    assert not (app / "local.settings.json").exists()  # removed with the stack

