"""Workspaces: an imported data set in a folder of its own, never mixed with the shipped data.

A workspace folder holds::

    facilities.csv        the imported facilities ALONE, normalised
                          (id,type,name_zh,name_en,lat,lng,district_code,status=imported,source_file)
    import_report.csv     the rejected rows with their reason
    import_report.json    the whole validation report (counts, warnings, column mapping)
    dataset.json          label, source file, CRS, created time, types present, walking speed
    .cache/               its own index cache (the shipped .cache is never written)

Residents stay the simulated sample (``data/sample/residences.csv``, read only); every label says so.
Types absent from the import are ``Dataset.types_without_data``: shown as "no data", never as
"not covered".

An import is written to a staging folder inside the workspace and its index built there; only
when everything has succeeded are the files renamed into place (``dataset.json`` last). A failed
import leaves the previous contents untouched. A folder that holds anything other than a workspace
is refused, and so is anything inside (or above) ``data/`` and the shipped ``.cache``.

The app keeps an upload in a session workspace under the system temp folder
(:func:`session_workspace`); the CLI uses the folder the user names (default ``workspaces/<file>``).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from circle import importers
from circle.index import CityIndex, Dataset, Params, build_index, load_index
from circle.index import _hash_inputs as _index_key
from circle.sources import CACHE_DIR, DATA_DIR, PROJECT_ROOT, SAMPLE_DIR
from circle.taxonomy import facility_types

KIND = "wuhai-15min-circle-workspace"
VERSION = 1
FACILITIES = "facilities.csv"
REPORT_CSV = "import_report.csv"
REPORT_JSON = "import_report.json"
DATASET_JSON = "dataset.json"
CACHE = ".cache"
KEEP_INDEXES = 3                      # index files kept in a workspace cache (newest first)
DEFAULT_ROOT = PROJECT_ROOT / "workspaces"
SESSION_ROOT = Path(tempfile.gettempdir()) / "wuhai-circle-workspaces"
SESSION_MAX_AGE_S = 24 * 3600
RESIDENCES = SAMPLE_DIR / "residences.csv"
EXIT_OK, EXIT_BAD_INPUT = 0, 2


class WorkspaceError(ValueError):
    """A workspace problem the user can fix; ``str()`` is Chinese, then English."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en

    def message(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


def label_for(source_file: str) -> tuple[str, str]:
    name = importers.safe_name(source_file)
    return f"导入：{name}（居民分布为模拟）", f"imported: {name} (residents simulated)"


def write_atomic(path: Path, data: bytes) -> None:
    """Write then rename: readers see the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula (=, +, -, @) get a leading apostrophe:
    the report CSV is for people to open, and its names come from the uploaded file."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = [f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v for v in out[col]]
    return out


def _json_bytes(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1, default=str) + "\n").encode("utf-8")


def _is_workspace(folder: Path) -> bool:
    try:
        return json.loads((folder / DATASET_JSON).read_text(encoding="utf-8")).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False


def _within(path: Path, other: Path) -> bool:
    return path == other or other in path.parents


def check_folder(path: str | Path) -> Path:
    """The resolved folder, if an import may write there: not inside or above the shipped data or
    cache, and either missing, empty, or already a workspace."""
    if path is None or str(path).strip() == "":
        raise WorkspaceError("请指定工作区文件夹（--workspace）", "name a workspace folder (--workspace)")
    folder = Path(path).expanduser().resolve()
    for protected in (DATA_DIR.resolve(), CACHE_DIR.resolve()):
        if _within(folder, protected) or _within(protected, folder):
            raise WorkspaceError(f"工作区不能放在自带数据所在的位置（{folder}）",
                                 f"a workspace cannot be where the shipped data live ({folder})")
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(f"工作区路径已存在且不是文件夹：{folder}", f"the workspace path exists and is not a folder: {folder}")
    if folder.is_dir() and not _is_workspace(folder):
        if any(p for p in folder.iterdir() if not p.name.startswith(".staging-")):
            raise WorkspaceError(f"文件夹不为空，也不是工作区，未做任何改动：{folder}",
                                 f"the folder is not empty and not a workspace; nothing was changed: {folder}")
    return folder


@dataclass(frozen=True)
class Workspace:
    folder: Path

    @property
    def facilities_path(self) -> Path:
        return self.folder / FACILITIES

    @property
    def cache_dir(self) -> Path:
        return self.folder / CACHE

    def info(self) -> dict:
        return json.loads((self.folder / DATASET_JSON).read_text(encoding="utf-8"))

    def report(self) -> dict:
        return json.loads((self.folder / REPORT_JSON).read_text(encoding="utf-8"))

    @property
    def speed_kmh(self) -> float:
        return float(self.info().get("speed_kmh", 4.0))

    def dataset(self) -> Dataset:
        info = self.info()
        present = set(info.get("types_present", []))
        absent = tuple(t.id for t in facility_types() if t.id not in present)
        return Dataset(self.facilities_path, RESIDENCES, label_zh=info["label_zh"], label_en=info["label_en"],
                       simulated=False, types_without_data=absent)

    def load_index(self, speed_kmh: float | None = None, *, force: bool = False) -> CityIndex:
        """The workspace's index (from its own cache, or built into it)."""
        return load_index(self.dataset(), self.speed_kmh if speed_kmh is None else speed_kmh,
                          force=force, cache_dir=self.cache_dir)


def open_workspace(path: str | Path) -> Workspace:
    """A workspace folder written by an import; a bilingual WorkspaceError otherwise."""
    if path is None:
        raise WorkspaceError("请指定工作区文件夹", "name a workspace folder")
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise WorkspaceError(f"找不到工作区文件夹：{folder}", f"workspace folder not found: {folder}")
    if not _is_workspace(folder):
        raise WorkspaceError(f"不是工作区（缺少有效的 {DATASET_JSON}；请先用 build --pois 导入）：{folder}",
                             f"not a workspace (no valid {DATASET_JSON}; import with build --pois first): {folder}")
    if not (folder / FACILITIES).is_file():
        raise WorkspaceError(f"工作区缺少 {FACILITIES}：{folder}", f"the workspace has no {FACILITIES}: {folder}")
    return Workspace(folder)


def cache_dir_for(dataset: Dataset) -> Path:
    """Where a data set's index is cached: its workspace's own folder, else the shipped cache."""
    folder = Path(dataset.facilities_path).parent
    return folder / CACHE if _is_workspace(folder) else CACHE_DIR


def session_workspace() -> Path:
    """A fresh folder for one upload under the system temp folder; stale ones (older than a day,
    and only folders this module made) are removed on the way."""
    SESSION_ROOT.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in SESSION_ROOT.glob("ws-*"):
        try:
            if old.is_dir() and now - old.stat().st_mtime > SESSION_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return Path(tempfile.mkdtemp(prefix="ws-", dir=SESSION_ROOT))


def _prune_cache(cache: Path, keep: int = KEEP_INDEXES) -> None:
    files = sorted(cache.glob("index-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[keep:]:
        try:
            old.unlink()
        except OSError:
            pass


def save_import(result: importers.ImportResult, folder: str | Path, *, speed_kmh: float = 4.0,
                build: bool = True, force: bool = False) -> tuple[Workspace, dict[str, float]]:
    """Write an import into a workspace (and build its index); all or nothing.

    Returns the workspace and timings (seconds). Raises WorkspaceError for an unusable folder or an
    import with no accepted rows; in every failure the folder's previous contents are unchanged."""
    report = result.report
    if report.accepted == 0 or result.facilities.empty:
        raise WorkspaceError("没有可用的行，未写入任何内容", "no usable rows; nothing was written")
    folder = check_folder(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    committed = False
    try:
        t = time.perf_counter()
        label_zh, label_en = label_for(report.source_name)
        info = {
            "kind": KIND, "version": VERSION, "label_zh": label_zh, "label_en": label_en,
            "source_file": report.source_name, "format": report.format, "encoding": report.encoding,
            "crs_declared": report.crs_declared, "crs": report.crs_used, "crs_detected": report.crs_detected,
            "created": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "rows_read": report.rows_read, "facilities": report.accepted,
            "types_present": list(report.types_present), "types_absent": list(report.types_absent),
            "speed_kmh": float(speed_kmh),
            "residents": "simulated sample (data/sample/residences.csv) / 居民分布为模拟样本",
        }
        write_atomic(staging / FACILITIES, result.facilities.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        write_atomic(staging / REPORT_CSV, excel_safe(report.to_frame()).to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
        write_atomic(staging / REPORT_JSON, _json_bytes(report.to_dict()))
        write_atomic(staging / DATASET_JSON, _json_bytes(info))
        timings["write_s"] = time.perf_counter() - t
        built: list[Path] = []
        staged = Workspace(staging)
        params = Params(speed_kmh=float(speed_kmh))
        cached = folder / CACHE / f"index-{_index_key(staged.dataset(), params)}.npz"
        if build and cached.is_file() and not force:
            timings["index_build_s"] = 0.0  # the same data and parameters were built before
            os.utime(cached)  # newest: kept by the pruning below
        elif build:
            t = time.perf_counter()
            index = build_index(staged.dataset(), params, cache_dir=staging / CACHE, force=True)
            timings["index_build_s"] = time.perf_counter() - t
            timings.update({f"index_{k}": v for k, v in index.timings.items()})
            built = sorted((staging / CACHE).glob("index-*.npz"))
        # Commit: everything is ready; rename into place, the index first and dataset.json last.
        t = time.perf_counter()
        if built:
            (folder / CACHE).mkdir(exist_ok=True)
            for npz in built:
                os.replace(npz, folder / CACHE / npz.name)
        for name in (FACILITIES, REPORT_CSV, REPORT_JSON, DATASET_JSON):
            os.replace(staging / name, folder / name)
        timings["commit_s"] = time.perf_counter() - t
        committed = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not committed:
            shutil.rmtree(folder, ignore_errors=True)
    if (folder / CACHE).is_dir():
        _prune_cache(folder / CACHE)
    return Workspace(folder), timings


def _print_timings(timings: dict[str, float], out) -> None:
    print("用时 / timings:", file=out)
    for name, seconds in timings.items():
        print(f"  {name:<32} {seconds:8.3f} s", file=out)


def import_and_build(pois: str | Path | None, workspace: str | Path | None, crs: str = "auto",
                     speed_kmh: float = 4.0, force: bool = False, *, out=None, err=None) -> int:
    """The CLI's ``build --pois FILE --workspace DIR``: import, report, build. Returns the exit
    code: 0, or 2 with one bilingual line on bad input (and nothing changed).

    Without ``pois`` the workspace's index is rebuilt from its facilities (``--force`` to force)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if pois is None:
            ws = open_workspace(workspace)
            t = time.perf_counter()
            index = build_index(ws.dataset(), Params(speed_kmh=float(speed_kmh)), cache_dir=ws.cache_dir, force=force)
            if abs(ws.speed_kmh - float(speed_kmh)) > 1e-9:
                info = ws.info()
                info["speed_kmh"] = float(speed_kmh)
                write_atomic(ws.folder / DATASET_JSON, _json_bytes(info))
            print(f"工作区 / workspace {ws.folder}: index {index.key}, {len(index.facilities):,} 处设施 / facilities "
                  f"({time.perf_counter() - t:.2f} s)", file=out)
            _print_timings(index.timings, out)
            return EXIT_OK
        pois = Path(pois)
        if workspace is None:
            workspace = DEFAULT_ROOT / (Path(importers.safe_name(pois.name)).stem or "import")
        check_folder(workspace)  # before the (possibly long) import
        t = time.perf_counter()
        result = importers.import_file(pois, crs=crs)
        import_s = time.perf_counter() - t
        print(result.report.summary("zh"), file=out)
        print(file=out)
        print(result.report.summary("en"), file=out)
        print(file=out)
        if result.report.accepted == 0:
            print(f"没有可用的行，未写入任何内容（{pois.name}）/ No usable rows; nothing was written ({pois.name})",
                  file=err)
            return EXIT_BAD_INPUT
        ws, timings = save_import(result, workspace, speed_kmh=speed_kmh, force=force)
        t = time.perf_counter()
        index = ws.load_index()
        timings = {"import_s": import_s, **timings, "load_index_s": time.perf_counter() - t}
        print(f"工作区已就绪 / workspace ready: {ws.folder} — {len(index.facilities):,} 处设施 / facilities, "
              f"{len(ws.info()['types_present'])} 类有数据 / types with data", file=out)
        _print_timings(timings, out)
        return EXIT_OK
    except (importers.ImportInputError, WorkspaceError) as error:
        print(str(error).splitlines()[0], file=err)
        return EXIT_BAD_INPUT
