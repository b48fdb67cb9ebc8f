"""The documentation site builds strictly (no broken link or anchor, no page outside the nav), and the
README stays a landing page that links into it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def nav_pages(nav: list) -> list[str]:
    pages = []
    for entry in nav:
        for value in (entry.values() if isinstance(entry, dict) else [entry]):
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_mkdocs_build_strict_passes(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "reference" / "configuration" / "index.html").exists()


def test_the_build_refuses_an_orphan_page_and_a_broken_link(tmp_path):
    # The strict settings are what make the check above mean something: prove they bite.
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\n[gone](missing.md) and [no anchor](index.md#nowhere)\n")
    (docs / "orphan.md").write_text("# Orphan\n")
    config = (ROOT / "mkdocs.yml").read_text()
    config = config[:config.index("\nnav:")] + "\nnav:\n  - Home: index.md\n"
    (tmp_path / "mkdocs.yml").write_text(config)
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "s")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode != 0
    for complaint in ("orphan.md", "missing.md", "#nowhere"):
        assert complaint in result.stderr, complaint


def test_every_page_under_docs_is_in_the_nav_once():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    pages = nav_pages(config["nav"])
    assert len(pages) == len(set(pages))
    on_disk = {str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md")}
    assert set(pages) == on_disk


def test_the_readme_is_a_landing_page_naming_the_two_commands():
    text = README.read_text()
    assert len(text.encode()) < 10 * 1024
    assert "make test " in text
    assert "make run " in text
    assert "`make test` is what CI runs" in text


def test_the_readmes_links_into_the_docs_exist():
    targets = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", README.read_text())
    assert targets
    for target in targets:
        assert (ROOT / target).exists(), target
