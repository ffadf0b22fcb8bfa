"""Where should the next k facilities of a type go? Greedy maximum coverage, checked against the optimum.

The problem (maximum coverage): residents in cells beyond the type's threshold are *uncovered*; a
new facility at candidate cell c would bring within the threshold every uncovered cell whose walk
to c is within it (its *reach set*, found by a bounded search from each uncovered cell — walking is
symmetric). Choose k candidates covering the most uncovered residents.

* Candidates are the cells a facility could stand in and help someone: passable cells (on the
  network engine: cells snapped to a street) within the threshold of at least one uncovered
  resident. Cells with identical reach sets are merged (the one with the lowest position stands
  for them) — this changes no answer's value.
* :func:`greedy` picks, k times, the candidate adding the most uncovered residents (ties → lowest
  cell position). It is within (1 − 1/e) ≈ 0.632 of the optimum in theory (Nemhauser, Wolsey &
  Fisher 1978) and usually much closer; :func:`optimum` finds the true optimum — an integer
  programme solved by HiGHS through ``scipy.optimize.milp``, or exhaustive search over all k-subsets
  for small cases — so the gap is measured, not assumed.
"""
from __future__ import annotations

import csv
import io
import itertools
import math
import time
from dataclasses import dataclass, field

import h3
import numpy as np
import pandas as pd
import scipy.sparse as sp

from circle import access
from circle import grid as gridmod
from circle.names import english_name

MAX_K = 20


class SitingError(ValueError):
    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass
class CoverageProblem:
    """Uncovered residents, candidate sites and which candidate covers which uncovered cell."""

    type_id: str
    threshold_min: float
    threshold_m: float
    uncovered: np.ndarray        # (U,) cell positions beyond the threshold with residents
    weight: np.ndarray           # (U,) residents in each
    candidates: np.ndarray       # (C,) cell positions (representatives)
    cover: sp.csr_matrix         # (C, U) bool: candidate c brings uncovered cell u within
    residents_total: float = 0.0
    residents_within: float = 0.0
    timings: dict = field(default_factory=dict)

    @property
    def uncovered_residents(self) -> float:
        return float(self.weight.sum())

    def value(self, chosen) -> float:
        """Residents newly within if the candidates ``chosen`` (indices into ``candidates``) open."""
        chosen = list(chosen)
        if not chosen:
            return 0.0
        hit = np.asarray(self.cover[chosen].sum(axis=0)).ravel() > 0
        return float(self.weight[hit].sum())


def _reach(index, pos: int, limit_m: float) -> tuple[np.ndarray, np.ndarray]:
    if getattr(index, "engine", "grid") == "network":
        return index.network.reach_cell(pos, limit_m)
    g = index.grid
    cells, metres = access.reach_from(g.neighbours, g.edge_m, pos, limit_m, circuity=index.params.circuity)
    return cells.astype(np.int64), metres


def _can_host(index) -> np.ndarray:
    if getattr(index, "engine", "grid") == "network":
        return index.network.cell_leaf >= 0
    return index.grid.passable


def build_problem(index, type_id: str, dist_row: np.ndarray | None = None) -> CoverageProblem:
    """The coverage problem for a type, on the index's current distances or on ``dist_row`` (e.g.
    the state after what-if edits)."""
    if type_id not in index.type_pos:
        raise SitingError(f"未知的设施类型：{str(type_id)[:40]}", f"unknown facility type: {str(type_id)[:40]}")
    t0 = time.perf_counter()
    p = index.type_pos[type_id]
    thr = float(index.thresholds[p])
    mpm = access.metres_per_minute(index.params.speed_kmh)
    row = index.dist_m[p] if dist_row is None else np.asarray(dist_row, dtype=np.float32)
    within = (row / mpm) <= thr
    pop = index.population
    uncovered = np.flatnonzero((pop > 0) & ~within)
    weight = pop[uncovered].astype(np.float64)
    limit_m = thr * mpm
    host = _can_host(index)
    # Reach sets from each uncovered cell; keep hosts within the threshold by the index's own rule
    # (float32 metres ÷ metres per minute ≤ threshold), so a site's promise matches the what-if.
    rows_c, cols_u = [], []
    for j, u in enumerate(uncovered.tolist()):
        cells, metres = _reach(index, u, limit_m * 1.000001)
        ok = host[cells] & ((metres.astype(np.float32) / mpm) <= thr)
        rows_c.append(cells[ok])
        cols_u.append(np.full(int(ok.sum()), j, np.int64))
    t_reach = time.perf_counter() - t0
    if rows_c and sum(len(r) for r in rows_c):
        cand_cells = np.concatenate(rows_c)
        cols = np.concatenate(cols_u)
        positions, cand_idx = np.unique(cand_cells, return_inverse=True)
        cover = sp.csr_matrix((np.ones(len(cols), bool), (cand_idx, cols)), shape=(len(positions), len(uncovered)))
        cover.sum_duplicates()
        positions, cover = _merge_identical(positions, cover)
    else:
        positions = np.zeros(0, np.int64)
        cover = sp.csr_matrix((0, len(uncovered)), dtype=bool)
    total = float(pop.sum())
    return CoverageProblem(type_id, thr, limit_m, uncovered, weight, positions, cover, total,
                           float(pop[within].sum()),
                           {"reach_sets_s": t_reach, "build_problem_s": time.perf_counter() - t0})


def _merge_identical(positions: np.ndarray, cover: sp.csr_matrix) -> tuple[np.ndarray, sp.csr_matrix]:
    """Keep one candidate (the lowest position) per distinct reach set."""
    cover = cover.tocsr()
    cover.sort_indices()
    keys = {}
    keep = []
    for i in range(cover.shape[0]):
        key = cover.indices[cover.indptr[i]:cover.indptr[i + 1]].tobytes()
        if key not in keys:
            keys[key] = i
            keep.append(i)
    keep = np.array(keep, dtype=np.int64)
    return positions[keep], cover[keep]


# --- the two methods ------------------------------------------------------------------------------

def greedy(problem: CoverageProblem, k: int) -> tuple[list[int], list[float]]:
    """Indices of up to k candidates chosen greedily, and the residents each adds (stops early when
    no candidate adds anyone)."""
    cover = problem.cover.tocsr().astype(np.float64)
    by_cell = cover.tocsc()
    w = problem.weight.copy()
    gains = cover @ w
    chosen, added = [], []
    for _ in range(int(k)):
        if len(gains) == 0:
            break
        best = int(np.argmax(gains))          # first maximum = lowest cell position among ties
        if gains[best] <= 0:
            break
        newly = cover.indices[cover.indptr[best]:cover.indptr[best + 1]]
        newly = newly[w[newly] > 0]
        chosen.append(best)
        added.append(float(w[newly].sum()))
        gains -= by_cell[:, newly] @ w[newly]
        w[newly] = 0.0
        gains[best] = -1.0
    return chosen, added


def optimum(problem: CoverageProblem, k: int, method: str = "milp", time_limit_s: float = 60.0
            ) -> tuple[list[int], float, dict]:
    """The best k candidates (indices) and the residents they cover, by ``milp`` (HiGHS) or
    ``exhaustive`` search. The info dict says whether the optimum is proven."""
    k = int(k)
    n_c, n_u = problem.cover.shape
    if n_c == 0 or k <= 0:
        return [], 0.0, {"method": method, "proven": True}
    k = min(k, n_c)
    if method == "exhaustive":
        dense = problem.cover.toarray()
        best, best_val = (), -1.0
        n_sets = math.comb(n_c, k)
        if n_sets > 2_000_000:
            raise SitingError("候选点太多，无法穷举", "too many candidates for exhaustive search")
        for combo in itertools.combinations(range(n_c), k):
            val = float(problem.weight[dense[list(combo)].any(axis=0)].sum())
            if val > best_val + 1e-9:
                best, best_val = combo, val
        return list(best), best_val, {"method": "exhaustive", "proven": True, "subsets": n_sets}
    if method != "milp":
        raise ValueError(f"unknown method {method!r}")
    from scipy.optimize import Bounds, LinearConstraint, milp

    # Variables: x_c (open candidate c, binary), y_u (cell u covered, continuous 0..1).
    c = np.concatenate([np.zeros(n_c), -problem.weight])
    a = problem.cover.T.astype(np.float64).tocsr()             # (U, C)
    link = sp.hstack([-a, sp.identity(n_u, format="csr")], format="csr")   # y_u − Σ x_c ≤ 0
    budget = sp.csr_matrix(np.concatenate([np.ones(n_c), np.zeros(n_u)])[None, :])
    constraints = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(budget, 0.0, float(k))]
    integrality = np.concatenate([np.ones(n_c), np.zeros(n_u)])
    t = time.perf_counter()
    res = milp(c, constraints=constraints, integrality=integrality, bounds=Bounds(0.0, 1.0),
               options={"time_limit": float(time_limit_s), "disp": False})
    info = {"method": "milp", "status": int(res.status), "message": str(res.message),
            "proven": res.status == 0, "solve_s": time.perf_counter() - t}
    if res.x is None:
        return [], float("nan"), info
    x = res.x[:n_c]
    chosen = [int(i) for i in np.flatnonzero(x > 0.5)]
    info["mip_gap"] = getattr(res, "mip_gap", None)
    return chosen, problem.value(chosen), info


# --- the answer the app shows ---------------------------------------------------------------------

@dataclass
class SitingResult:
    type_id: str
    k: int
    problem: CoverageProblem
    sites: pd.DataFrame     # rank, cell, lat, lng, district, street, residents_added, cumulative, shares
    timings: dict = field(default_factory=dict)

    @property
    def residents_added(self) -> float:
        return float(self.sites["residents_added"].sum()) if len(self.sites) else 0.0


def propose_sites(index, type_id: str, k: int, dist_row: np.ndarray | None = None) -> SitingResult:
    """k new sites for ``type_id`` (greedy), with where they are and the residents each adds."""
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise SitingError("k 须为整数", "k must be a whole number") from None
    if not 1 <= k <= MAX_K:
        raise SitingError(f"k 须在 1 到 {MAX_K} 之间", f"k must be between 1 and {MAX_K}")
    t0 = time.perf_counter()
    problem = build_problem(index, type_id, dist_row)
    t = time.perf_counter()
    chosen, added = greedy(problem, k)
    greedy_s = time.perf_counter() - t
    positions = problem.candidates[chosen] if chosen else np.zeros(0, np.int64)
    districts = gridmod.districts()
    streets = gridmod.streets()
    total = problem.residents_total
    cumulative = np.cumsum(added) if added else np.zeros(0)
    rows = []
    for rank, (pos, gain, cum) in enumerate(zip(positions.tolist(), added, cumulative.tolist()), start=1):
        d = districts[int(index.grid.district[pos])]
        s_name = str(streets.iloc[int(index.grid.street[pos])]["name"])
        rows.append({
            "rank": rank, "cell": h3.int_to_str(int(index.grid.cells[pos])), "position": int(pos),
            "lat": round(float(index.grid.lat[pos]), 6), "lng": round(float(index.grid.lng[pos]), 6),
            "district_zh": d.name_zh, "district_en": d.name_en, "street_zh": s_name,
            "street_en": english_name(s_name), "residents_added": int(round(gain)),
            "residents_cumulative": int(round(cum)),
            "share_within_after": (problem.residents_within + cum) / total if total > 0 else float("nan"),
        })
    sites = pd.DataFrame(rows, columns=["rank", "cell", "position", "lat", "lng", "district_zh", "district_en",
                                        "street_zh", "street_en", "residents_added", "residents_cumulative",
                                        "share_within_after"])
    timings = dict(problem.timings, greedy_s=greedy_s, total_s=time.perf_counter() - t0)
    return SitingResult(type_id, k, problem, sites, timings)


CSV_COLUMNS = {
    "zh": {"rank": "序号", "cell": "H3单元", "lat": "纬度(WGS-84)", "lng": "经度(WGS-84)", "district": "区",
           "street": "街道", "residents_added": "新增覆盖居民", "residents_cumulative": "累计新增覆盖居民",
           "share_within_after": "覆盖率(累计)", "type": "设施类型", "threshold_min": "阈值(分钟)"},
    "en": {"rank": "rank", "cell": "h3_cell", "lat": "lat_wgs84", "lng": "lng_wgs84", "district": "district",
           "street": "street", "residents_added": "residents_added", "residents_cumulative": "residents_cumulative",
           "share_within_after": "share_within_after", "type": "facility_type", "threshold_min": "threshold_min"},
}


def _csv_safe(value):
    """Text that a spreadsheet will not read as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(result: SitingResult, lang: str = "zh") -> bytes:
    """The proposed sites as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    from circle.taxonomy import facility_types

    lang = "en" if lang == "en" else "zh"
    names = CSV_COLUMNS[lang]
    ft = {t.id: t for t in facility_types()}[result.type_id]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    keys = ["rank", "type", "threshold_min", "cell", "lat", "lng", "district", "street", "residents_added",
            "residents_cumulative", "share_within_after"]
    writer.writerow([names[k] for k in keys])
    for r in result.sites.itertuples():
        writer.writerow([_csv_safe(v) for v in [
            r.rank, ft.name(lang), ft.threshold_min, r.cell, f"{r.lat:.6f}", f"{r.lng:.6f}",
            r.district_en if lang == "en" else r.district_zh, r.street_en if lang == "en" else r.street_zh,
            r.residents_added, r.residents_cumulative, f"{r.share_within_after:.4f}"]])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def compare_with_optimum(index, type_id: str, ks=(1, 2, 3, 5), method: str = "milp",
                         time_limit_s: float = 60.0) -> pd.DataFrame:
    """Greedy vs the proven optimum for several k on the real index: one row per k."""
    problem = build_problem(index, type_id)
    rows = []
    for k in ks:
        t = time.perf_counter()
        _, added = greedy(problem, k)
        g_s = time.perf_counter() - t
        _, best, info = optimum(problem, k, method=method, time_limit_s=time_limit_s)
        g = float(sum(added))
        rows.append({"type": type_id, "k": k, "candidates": int(problem.cover.shape[0]),
                     "uncovered_cells": int(problem.cover.shape[1]), "greedy": g, "optimum": best,
                     "ratio": g / best if best > 0 else 1.0, "proven": bool(info.get("proven")),
                     "greedy_s": g_s, "optimum_s": info.get("solve_s", float("nan"))})
    return pd.DataFrame(rows)
