"""Build-time step of the backend image (Dockerfile); not used at run time.

The venv's pure-Python packages are imported from one compressed zip, which a `.pth` file in
site-packages puts on sys.path: they take a third of their size on disk. The zip holds every
module's source, so tracebacks keep their lines (zipimport hands the source to linecache), and
the bytecode of the modules the app imports, compiled here for the image's Python, so nothing
is compiled when the app starts. That bytecode is not checked against its source, which cannot
change inside the image.

    python docker-zip-packages.py separate SITE_PACKAGES PURE_DIR
        moves the pure-Python packages out of SITE_PACKAGES into PURE_DIR and writes the .pth
        naming the zip (Python skips a .pth entry that does not exist yet);
    python docker-zip-packages.py zip PURE_DIR SITE_PACKAGES
        writes SITE_PACKAGES/site-packages.zip from PURE_DIR: each source, and the bytecode of
        the modules that have some in PURE_DIR's __pycache__ (written by the warm-up).

Packages with extension modules stay on disk (a shared library cannot be loaded from a zip),
and so do those that hand their data files to other code as paths (KEEP_ON_DISK). The packages'
metadata (*.dist-info) stays on disk too, where importlib.metadata finds it.
"""

from __future__ import annotations

import py_compile
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

ZIP_NAME = "site-packages.zip"
PTH_NAME = "site-packages-zip.pth"
# Packages that open their data files by path: the Agents SDK reads its prompts next to its
# modules when it is imported; certifi hands httpx and the OpenAI SDK the path of its CA bundle
# (from a zip it would extract it at run time, onto a root file system that may be read-only).
KEEP_ON_DISK = {"agents", "certifi"}
# Fixed timestamps: the same packages and imports give a byte-identical zip (and image layer).
EPOCH = (1980, 1, 1, 0, 0, 0)


def is_pure(entry: Path) -> bool:
    if entry.name in KEEP_ON_DISK or entry.name.startswith(("_", ".")):
        return False
    if entry.is_file():
        return entry.suffix == ".py"
    if entry.suffix == ".dist-info" or entry.name == "__pycache__":
        return False
    return not any(path.suffix == ".so" for path in entry.rglob("*"))


def separate(site: Path, pure: Path) -> None:
    pure.mkdir(parents=True)
    moved = sorted(entry for entry in site.iterdir() if is_pure(entry))
    for entry in moved:
        shutil.move(entry, pure / entry.name)
    # site.py appends each line of a .pth file to sys.path, after site-packages itself.
    (site / PTH_NAME).write_text(f"{site / ZIP_NAME}\n")
    print(f"{len(moved)} pure-Python packages moved to {pure}, to be zipped")


def add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data, compresslevel=9)


def bytecode(source: Path, path_in_zip: str, scratch: Path) -> bytes:
    """Unchecked hash-based bytecode that names its place in the zip (for tracebacks)."""
    py_compile.compile(
        str(source),
        cfile=str(scratch),
        dfile=path_in_zip,
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    return scratch.read_bytes()


def imported(source: Path) -> bool:
    """Whether the warm-up imported this module: Python wrote its bytecode then."""
    return (source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc").exists()


def write_zip(pure: Path, site: Path) -> None:
    zip_path = site / ZIP_NAME
    scratch = Path(tempfile.mkdtemp()) / "module.pyc"
    compiled = 0
    with zipfile.ZipFile(zip_path, "w") as archive:
        for path in sorted(pure.rglob("*")):
            name = path.relative_to(pure).as_posix()
            if "__pycache__" in path.parts:
                continue
            if path.is_dir():
                # zipimport finds a namespace package (no __init__.py) by its entry.
                add(archive, name + "/", b"")
                continue
            add(archive, name, path.read_bytes())
            if path.suffix == ".py" and imported(path):
                # zipimport looks for a module's bytecode next to its source: mod.pyc.
                add(archive, name + "c", bytecode(path, f"{zip_path}/{name}", scratch))
                compiled += 1
    print(f"{zip_path}: {zip_path.stat().st_size / 1e6:.1f} MB, {compiled} modules with bytecode")


def main() -> None:
    command, source, target = sys.argv[1:]
    if command == "separate":
        separate(Path(source).resolve(), Path(target).resolve())
    elif command == "zip":
        write_zip(Path(source).resolve(), Path(target).resolve())
    else:
        sys.exit(f"unknown command {command!r}: separate or zip")


if __name__ == "__main__":
    main()
