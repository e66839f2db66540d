"""The React test app's npm packages (React, esbuild, TypeScript), installed when the tests need
them and never committed, and its esbuild bundle (React 19 ships CommonJS only, so the page
cannot import it as an ES module without one)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent / "react_app"
NODE_MODULES = APP_DIR / "node_modules"
_STAMP = NODE_MODULES / ".installed-package-json-sha256"


def _run(command: list[str], what: str, timeout_s: float) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(command, cwd=APP_DIR, capture_output=True, text=True, timeout=timeout_s)
    except FileNotFoundError:
        pytest.fail(
            f"{command[0]} is not installed: run `bash .ci/ensure-browser.sh` (Node.js and npm)",
            pytrace=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{what} took more than {timeout_s:.0f} s", pytrace=False)
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({' '.join(command)}):\n{result.stdout}\n{result.stderr}", pytrace=False)
    return result


def install_npm_packages() -> None:
    """`npm install` in tests/sdk/react_app unless node_modules matches its package.json already."""
    wanted = hashlib.sha256((APP_DIR / "package.json").read_bytes()).hexdigest()
    if _STAMP.is_file() and _STAMP.read_text() == wanted:
        return
    if shutil.which("npm") is None:
        pytest.fail("npm is not installed: run `bash .ci/ensure-browser.sh` (Node.js and npm)", pytrace=False)
    print(
        "installing React, esbuild and TypeScript from npm for the browser tests…",
        file=sys.stderr,
        flush=True,
    )
    _run(
        ["npm", "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"],
        "npm install in tests/sdk/react_app",
        timeout_s=600,
    )
    _STAMP.write_text(wanted)


def bundle_react_app(out_dir: Path) -> bytes:
    """app.jsx and what it imports (the SDK through its npm folder, React) as one ES module."""
    install_npm_packages()
    out_file = out_dir / "react-app.js"
    _run(
        [
            str(NODE_MODULES / ".bin" / "esbuild"),
            "app.jsx",
            "--bundle",
            "--format=esm",
            "--jsx=automatic",
            # resolve `react` from where the app installed the SDK (a symlink), as a bundler in an app would
            "--preserve-symlinks",
            '--define:process.env.NODE_ENV="development"',
            f"--outfile={out_file}",
            "--log-level=warning",
        ],
        "bundling the React test app with esbuild",
        timeout_s=120,
    )
    return out_file.read_bytes()


def typecheck() -> subprocess.CompletedProcess:
    install_npm_packages()
    return _run(
        [str(NODE_MODULES / ".bin" / "tsc"), "-p", "tsconfig.json"], "tsc on typecheck.ts", timeout_s=180
    )
