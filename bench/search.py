"""Benchmark: place search (My circle's search box and ``?place=`` links).

Ours: ``circle.search.search(query, limit=8)`` (Chinese, pinyin, initials, English, typos), with
its pinyin cache cleared before every call so no query is helped by an earlier one. Baseline, in
the same run: what a plain implementation would do, ``difflib.get_close_matches`` of the query
against every name of the gazetteer (Chinese and English), plus a substring scan. Ten queries of
the kinds readers type, 20 rounds. Goal: median ≤ 5 ms per query (typing feels instant).
"""
from __future__ import annotations

import difflib
import statistics
import time

from bench.common import Report, fmt_s, fmt_x, log, ratio, verdict

QUERIES = ("长青社区", "changqing", "chanqing", "幸福社区", "Wuhai railway station", "长清社区",
           "fenghuanglin", "乌海机场", "cqsq", "团结北路社区")
ROUNDS = 20
GOAL_S = 0.005


def _naive(names: list[str]):
    def search(query: str) -> list[str]:
        q = query.strip().lower()
        hits = [n for n in names if q in n.lower()]
        return hits + difflib.get_close_matches(q, names, n=8, cutoff=0.3)
    return search


def _time_each(fn, rounds: int, before=None) -> list[float]:
    times = []
    for _ in range(rounds):
        for q in QUERIES:
            if before:
                before()
            t = time.perf_counter()
            fn(q)
            times.append(time.perf_counter() - t)
    return times


def run(quick: bool = False) -> Report:
    from circle import search as S

    rep = Report()
    rounds = 5 if quick else ROUNDS
    S._index()  # built once per process, like the app's first search
    frame = S.gazetteer()
    names = sorted({str(n) for n in frame["name_zh"]} | {str(n) for n in frame["name_en"] if n})
    log(f"[search] {len(QUERIES)} queries × {rounds}, ours and the difflib baseline over {len(names):,} names ...")
    ours = _time_each(lambda q: S.search(q, limit=8), rounds, before=S._pinyin_forms.cache_clear)
    base = _time_each(_naive(names), rounds)
    med, base_med = statistics.median(ours), statistics.median(base)
    rep.add("search", "search(query), median per query (pinyin cache cleared)", fmt_s(med), "≤ 5 ms",
            verdict(med <= GOAL_S), med, "s")
    rep.add("search", "baseline: difflib + substring over every name, median", fmt_s(base_med), "", "INFO", base_med, "s")
    rep.add("search", "ours vs baseline", fmt_x(ratio(base_med, med)), "", "INFO", ratio(base_med, med), "×",
            note="the baseline knows no pinyin, initials or typos of Chinese names: it is the speed reference only")
    rep.details.update({"queries": list(QUERIES), "rounds": rounds, "ours_s": ours, "baseline_s": base})
    return rep
