#!/usr/bin/env python3
"""Builds the wrapup-sandbox packages from a prebuilt `wrapup` binary (standard library only):

- the Python wheel: `wrapup_sandbox-<version>-py3-none-<platform tag>.whl`, with the binary
  under `wrapup_sandbox-<version>.data/scripts/` (pip puts it on the environment's PATH), the
  `wrapup_sandbox` module, its `pytest11` entry point, and a RECORD;
- the npm packages: `wrapup-sandbox-<version>.tgz` (the JavaScript module, its types and a
  `wrapup` launcher) and `wrapup-sandbox-<platform>-<version>.tgz`
  (`@wrapup-sandbox/<platform>`, the binary alone, with `os` and `cpu`), which the first
  lists as an optional dependency, as esbuild and Biome do.

The version is the workspace's (`[workspace.package] version` in Cargo.toml). CI packages the
debug binary its tests built; a release packages `cargo build --profile dist -p wrapup`
(stripped, see docs/testing.md), once per platform:

    python3 packages/build.py --binary target/dist/wrapup --platform linux-x64 --out dist/

Several `--binary`/`--platform` pairs make one wheel per platform and one npm platform
package each; the main npm package then lists them all.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIST_NAME = "wrapup-sandbox"
MODULE = "wrapup_sandbox"
NPM_SCOPE = "@wrapup-sandbox"
# Files in the packages get this time, so the same inputs make the same archives.
EPOCH = (2020, 1, 1, 0, 0, 0)
EPOCH_S = 1577836800

# npm's process.platform-process.arch -> (os, cpu, the wheel's platform tag, binary name).
# Linux wheels need the glibc the binary was linked against: "{glibc}" is filled in from it.
PLATFORMS = {
    "linux-x64": ("linux", "x64", "manylinux_{glibc}_x86_64", "wrapup"),
    "linux-arm64": ("linux", "arm64", "manylinux_{glibc}_aarch64", "wrapup"),
    "darwin-x64": ("darwin", "x64", "macosx_10_12_x86_64", "wrapup"),
    "darwin-arm64": ("darwin", "arm64", "macosx_11_0_arm64", "wrapup"),
    "win32-x64": ("win32", "x64", "win_amd64", "wrapup.exe"),
}


def workspace_version() -> str:
    """`[workspace.package] version` of the root Cargo.toml."""
    import tomllib

    with open(ROOT / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["workspace"]["package"]["version"]


def glibc_of(binary: bytes) -> str:
    """The newest glibc symbol version the binary needs, as a manylinux tag part (2_17)."""
    minors = [int(m) for m in re.findall(rb"GLIBC_2\.(\d+)", binary)]
    return f"2_{max(minors, default=17)}"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


# zlib's level: 9 for a release (the smallest download); CI's --fast takes 1 (seconds saved
# on a debug binary that is thrown away).
LEVEL = 9


def build_wheel(binary: Path, platform: str, version: str, out: Path) -> Path:
    _, _, tag_template, exe = PLATFORMS[platform]
    data = binary.read_bytes()
    tag = tag_template.format(glibc=glibc_of(data))
    name = f"{MODULE}-{version}"
    files: list[tuple[str, bytes, int]] = []
    for path in sorted((HERE / "python" / MODULE).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files.append((f"{MODULE}/{path.relative_to(HERE / 'python' / MODULE).as_posix()}", path.read_bytes(), 0o644))
    files.append((f"{name}.data/scripts/{exe}", data, 0o755))
    readme = (HERE / "python" / "README.md").read_text(encoding="utf-8")
    metadata = "\n".join([
        "Metadata-Version: 2.1",
        f"Name: {DIST_NAME}",
        f"Version: {version}",
        "Summary: The wrapup contact-center wrap-up server, packaged for tests: the binary, "
        "a server per test on a free port, a test clock, and pytest fixtures",
        "License: Apache-2.0",
        "Requires-Python: >=3.8",
        "Classifier: Framework :: Pytest",
        "Classifier: License :: OSI Approved :: Apache Software License",
        "Description-Content-Type: text/markdown",
        "",
        readme,
    ])
    info = f"{name}.dist-info"
    files.append((f"{info}/METADATA", metadata.encode(), 0o644))
    files.append((f"{info}/WHEEL", (
        "Wheel-Version: 1.0\nGenerator: wrapup packages/build.py\nRoot-Is-Purelib: false\n"
        f"Tag: py3-none-{tag}\n").encode(), 0o644))
    files.append((f"{info}/entry_points.txt", f"[pytest11]\nwrapup = {MODULE}.pytest_plugin\n".encode(), 0o644))
    record = "".join(f"{p},{_record_hash(b)},{len(b)}\n" for p, b, _ in files) + f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode(), 0o644))
    wheel = out / f"{name}-py3-none-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=LEVEL) as z:
        for path, content, mode in files:
            entry = zipfile.ZipInfo(path, date_time=EPOCH)
            entry.external_attr = (0o100000 | mode) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, content, compresslevel=LEVEL)
    return wheel


def _npm_tarball(path: Path, files: list[tuple[str, bytes, int]]) -> Path:
    """A package tarball as `npm pack` makes it: every file under `package/`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content, mode in sorted(files):
            entry = tarfile.TarInfo(f"package/{name}")
            entry.size, entry.mode, entry.mtime = len(content), mode, EPOCH_S
            tar.addfile(entry, io.BytesIO(content))
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=EPOCH_S, compresslevel=LEVEL) as gz:
        gz.write(buffer.getvalue())
    return path


def build_npm_platform(binary: Path, platform: str, version: str, out: Path) -> Path:
    os_name, cpu, _, exe = PLATFORMS[platform]
    manifest = {
        "name": f"{NPM_SCOPE}/{platform}",
        "version": version,
        "description": f"The wrapup server binary for {platform} (used by the wrapup-sandbox package).",
        "license": "Apache-2.0",
        "os": [os_name],
        "cpu": [cpu],
        "preferUnplugged": True,
    }
    files = [
        ("package.json", (json.dumps(manifest, indent=2) + "\n").encode(), 0o644),
        (f"bin/{exe}", binary.read_bytes(), 0o755),
        ("README.md", f"The `wrapup` binary for {platform}; install `wrapup-sandbox` instead.\n".encode(), 0o644),
    ]
    return _npm_tarball(out / f"{DIST_NAME}-{platform}-{version}.tgz", files)


def build_npm_main(platforms: list[str], version: str, out: Path) -> Path:
    src = HERE / "npm" / "wrapup-sandbox"
    manifest = json.loads((src / "package.json").read_text(encoding="utf-8"))
    manifest["version"] = version
    manifest["optionalDependencies"] = {f"{NPM_SCOPE}/{p}": version for p in platforms}
    files = [("package.json", (json.dumps(manifest, indent=2) + "\n").encode(), 0o644)]
    for path in sorted(src.rglob("*")):
        if path.is_file() and path.name != "package.json":
            mode = 0o755 if path.parent.name == "bin" else 0o644
            files.append((path.relative_to(src).as_posix(), path.read_bytes(), mode))
    return _npm_tarball(out / f"{DIST_NAME}-{version}.tgz", files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", action="append", required=True, type=Path, help="a wrapup binary (repeat per platform)")
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS),
                        help="its platform, e.g. linux-x64 (repeat per --binary; default linux-x64)")
    parser.add_argument("--out", required=True, type=Path, help="where to write the packages")
    parser.add_argument("--fast", action="store_true", help="compress less, faster (CI)")
    args = parser.parse_args()
    global LEVEL
    if args.fast:
        LEVEL = 1
    platforms = args.platform or ["linux-x64"]
    if len(platforms) != len(args.binary):
        parser.error("give one --platform per --binary")
    version = workspace_version()
    args.out.mkdir(parents=True, exist_ok=True)
    built = []
    for binary, platform in zip(args.binary, platforms):
        built.append(build_wheel(binary, platform, version, args.out))
        built.append(build_npm_platform(binary, platform, version, args.out))
    built.append(build_npm_main(platforms, version, args.out))
    for path in built:
        print(f"{path}  ({os.path.getsize(path) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
