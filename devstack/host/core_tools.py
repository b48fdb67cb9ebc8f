"""``python -m devstack up --core-tools``: the function app under Azure Functions Core Tools (opt-in).

The stack is the same (Azurite, the identity provider, the SignalR emulator, the same settings);
only the function app runs under ``func start`` instead of ``devstack.host``. It is opt-in
because Core Tools cannot be installed from the package registries alone: the npm package
``azure-functions-core-tools`` downloads the ``func`` binary at install, and ``func start``
downloads the extension bundle named in host.json, both from Microsoft's CDN (docs/development/local-host.md).

``func start`` reads its settings only from ``local.settings.json`` in the app directory, so the
stack's settings file is copied there for the run and removed at the end. A file there that the
stack did not write is the developer's own: it is never overwritten, the stack refuses to start.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

SETTINGS_NAME = "local.settings.json"
INSTALL_URL = "https://learn.microsoft.com/azure/azure-functions/functions-run-local"
MISSING_FUNC = f"""--core-tools runs the function app with Azure Functions Core Tools (`func start`), and `func` is
not on PATH. Install Core Tools v4 on a machine that reaches the internet, for example
    npm install -g azure-functions-core-tools@4
(or see {INSTALL_URL}), then run this again.
It is opt-in because the npm package only installs an installer: it downloads the `func` binary,
and `func start` downloads the extension bundle, from Microsoft's CDN, which machines limited to
the package registries (this project's CI) cannot reach. Without --core-tools the stack runs the
function app in the in-process host (devstack.host), which needs nothing more."""


class CoreToolsError(RuntimeError):
    """Core Tools cannot run here; the message says why and what to do."""


def find_func() -> str:
    """The ``func`` executable on PATH, or CoreToolsError with the install hint."""
    found = shutil.which("func")
    if found is None:
        raise CoreToolsError(MISSING_FUNC)
    return found


def func_command(func: str, port: int, verbose: bool = False) -> list[str]:
    return [func, "start", "--port", str(port), *(["--verbose"] if verbose else [])]


def func_environment(base: dict[str, str]) -> dict[str, str]:
    """The stack's environment, with this interpreter (and its installed requirements) as the
    Python worker's: Core Tools otherwise takes the first ``python`` on PATH."""
    python_dir = str(Path(sys.executable).parent)
    return {
        **base,
        "languageWorkers__python__defaultExecutablePath": sys.executable,
        "PATH": os.pathsep.join([python_dir, base.get("PATH", "")]),
        "FUNCTIONS_CORE_TOOLS_TELEMETRY_OPTOUT": "1",
    }


class AppSettingsFile:
    """``<app_dir>/local.settings.json`` for the run: placed only where it overwrites nothing but
    the stack's own earlier copy (recorded in ``marker``), removed at the end."""

    def __init__(self, app_dir: Path, marker: Path) -> None:
        self.path = app_dir / SETTINGS_NAME
        self.marker = marker

    def check(self) -> None:
        """Refuse, before anything starts, to replace a settings file the developer wrote."""
        if self.path.exists() and not self._ours():
            raise CoreToolsError(
                f"{self.path} exists and devstack did not write it. `func start` reads its settings only "
                "from there, and --core-tools would replace it with the stack's: move it aside and run again."
            )

    def place(self, text: str) -> None:
        self.check()
        self.marker.write_text(text)
        self.marker.chmod(0o600)
        self.path.write_text(text)
        self.path.chmod(0o600)  # it holds the emulator's access key

    def remove(self) -> None:
        if self.path.exists() and self._ours():
            self.path.unlink()
        self.marker.unlink(missing_ok=True)

    def _ours(self) -> bool:
        try:
            return self.marker.read_text() == self.path.read_text()
        except FileNotFoundError:
            return False
