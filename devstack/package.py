"""Build the deployment package: ``python -m devstack.package [dist/signalr-facade.zip]`` (``make package``).

The zip holds exactly what the app runs: every file of the tree that ``.funcignore`` does not
exclude (the same file Core Tools' ``func azure functionapp publish`` reads), which is
``function_app.py``, ``host.json``, ``requirements.txt``, ``constraints.txt`` and the
``functions/`` package. docs/operations/deploy.md deploys this zip with a remote build, which installs
``requirements.txt`` (and so the pins of ``constraints.txt``) on the platform.

Entries are sorted and dated 1980-01-01, so the same tree always gives the same bytes.
"""

from __future__ import annotations

import fnmatch
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "dist" / "signalr-facade.zip"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def ignore_patterns(root: Path = ROOT) -> list[str]:
    """The patterns of ``.funcignore`` (gitignore syntax; this project uses no negations)."""
    lines = (root / ".funcignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def is_ignored(relative: str, patterns: list[str]) -> bool:
    """Whether a path (POSIX, relative to the root) or one of its folders matches a pattern."""
    parts = relative.split("/")
    for pattern in patterns:
        directory_only = pattern.endswith("/")
        name = pattern.rstrip("/").lstrip("/")
        anchored = pattern.startswith("/") or "/" in name
        candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)] if anchored else parts
        for index, candidate in enumerate(candidates):
            is_last = index == len(candidates) - 1
            if directory_only and is_last:
                continue  # a file named like a directory pattern is not that directory
            if fnmatch.fnmatchcase(candidate, name):
                return True
    return False


def package_files(root: Path = ROOT) -> list[str]:
    """Every file the package holds, as sorted relative POSIX paths."""
    patterns = ignore_patterns(root)
    files = []
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not path.is_symlink() and not is_ignored(relative, patterns):
            files.append(relative)
    return sorted(files)


def build_package(output: Path = DEFAULT_OUTPUT, root: Path = ROOT) -> list[str]:
    """Write the zip; the files it holds."""
    files = package_files(root)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in files:
            info = zipfile.ZipInfo(relative, FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, (root / relative).read_bytes())
    return files


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    names = build_package(target)
    print(f"{target}: {len(names)} files")
    for name in names:
        print(f"  {name}")
