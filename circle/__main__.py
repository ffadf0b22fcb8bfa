"""Command line: ``python -m circle build|sample|stats|lookup ...``.

Every command calls the same functions as the app. Bad arguments exit with status 2 and one line
in Chinese and English, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

EXIT_USAGE = 2


class CliError(Exception):
    """An error the user can fix; printed as one bilingual line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print usage and an English message
        if any("\u4e00" <= ch <= "\u9fff" for ch in message):  # already bilingual (our own checks)
            raise CliError(f"参数错误 / Invalid arguments: {message}")
        raise CliError(f"参数错误（见 --help）/ Invalid arguments: {message} (see --help)")


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"步行速度须为数字 / speed must be a number: {text!r}")
    if not math.isfinite(value) or not 1.0 <= value <= 10.0:
        raise argparse.ArgumentTypeError(f"步行速度须在 1–10 km/h / speed must be 1–10 km/h: {text!r}")
    return value


def _coordinate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"坐标须为数字 / coordinate must be a number: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m circle", description="乌海一刻钟社区生活圈 engine / Wuhai 15-minute life circle engine")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    build = sub.add_parser("build", help="build the index (prints timings) / 构建索引")
    build.add_argument("--force", action="store_true", help="rebuild even if the cache is fresh")
    build.add_argument("--speed", type=_speed, default=4.0, help="walking speed km/h (default 4.0)")
    build.add_argument("--pois", type=Path, help="import facilities from FILE into --workspace and build there")
    build.add_argument("--crs", default="auto",
                       help="coordinate system of --pois: wgs84|gcj02|bd09, or auto (default: detect, with a warning)")
    build.add_argument("--workspace", type=Path, help="workspace folder for imported data")

    sample = sub.add_parser("sample", help="regenerate the simulated sample / 重新生成模拟样本")
    sample.add_argument("--seed", type=int, default=None)
    sample.add_argument("--out", type=Path, default=None, help="folder (default data/sample)")

    stats = sub.add_parser("stats", help="coverage statistics / 覆盖统计")
    stats.add_argument("--by", choices=("city", "district", "street"), default="city")
    stats.add_argument("--speed", type=_speed, default=None)
    stats.add_argument("--format", choices=("table", "csv", "json"), default="table")
    stats.add_argument("--workspace", type=Path)

    lookup = sub.add_parser("lookup", help="what one point reaches on foot / 查询一个地点")
    lookup.add_argument("lat", type=_coordinate)
    lookup.add_argument("lng", type=_coordinate)
    lookup.add_argument("--crs", choices=("wgs84", "gcj02", "bd09"), default="wgs84")
    lookup.add_argument("--speed", type=_speed, default=None)
    lookup.add_argument("--json", action="store_true")
    lookup.add_argument("--workspace", type=Path)
    briefing = sub.add_parser("briefing", help="export the briefing deck / 导出汇报幻灯片 (PPTX or PDF)")
    briefing.add_argument("--out", type=Path, required=True, help="FILE.pptx or FILE.pdf")
    briefing.add_argument("--lang", choices=("zh", "en"), default="zh")
    briefing.add_argument("--district", default=None, help="focus: 海勃湾区|海南区|乌达区 (or code / English name)")
    briefing.add_argument("--workspace", type=Path)
    return parser


def _index_for(args):
    from circle.index import load_index

    if getattr(args, "workspace", None) is not None:
        from circle.workspace import open_workspace  # the import issue's module

        return open_workspace(args.workspace).load_index()
    return load_index()


def cmd_build(args) -> int:
    from circle.index import DEFAULT_DATASET, Params, build_index

    if args.pois is not None or args.workspace is not None:
        from circle.workspace import import_and_build

        return import_and_build(args.pois, args.workspace, crs=args.crs, speed_kmh=args.speed, force=args.force)
    index = build_index(DEFAULT_DATASET, Params(speed_kmh=args.speed), force=args.force)
    print(f"index {index.key}: {index.grid.size:,} cells × {len(index.type_ids)} types, "
          f"{len(index.facilities):,} facilities / 索引已就绪")
    for name, seconds in index.timings.items():
        print(f"  {name:<24} {seconds:8.3f} s")
    return 0


def cmd_sample(args) -> int:
    from circle import sample
    from circle.sources import SAMPLE_DIR

    folder = args.out or SAMPLE_DIR
    seed = sample.DEFAULT_SEED if args.seed is None else args.seed
    t = time.perf_counter()
    files = sample.write_sample(folder, seed)
    print(f"sample written to {folder} (seed {seed}) in {time.perf_counter() - t:.2f} s / 模拟样本已生成")
    for path in (files.communities, files.residences, files.facilities):
        print(f"  {path}")
    return 0


def cmd_stats(args) -> int:
    from circle import metrics

    index = _index_for(args)
    table = metrics.summary(index, args.by, args.speed)
    if args.format == "csv":
        sys.stdout.write(table.to_csv(index=False))
    elif args.format == "json":
        print(json.dumps(_finite(table.to_dict("records")), ensure_ascii=False, indent=1))
    else:
        print(f"数据 / data: {index.describe('zh')} / {index.describe('en')}")
        cols = ["name_zh", "population", "share_all_circles", "share_basic_complete", "f15",
                "mean_pt_minutes", "gini_pt"]
        print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def cmd_lookup(args) -> int:
    index = _index_for(args)
    profile = index.lookup(args.lat, args.lng, crs=args.crs, speed_kmh=args.speed)
    data = profile.to_dict()
    if args.json:
        print(json.dumps(_finite(data), ensure_ascii=False))
        return 0
    if not profile.inside:
        print(f"({profile.lat:.6f}, {profile.lng:.6f}) 不在乌海市范围内 / is outside Wuhai")
        return 0
    print(f"{profile.district} {profile.street} · cell {profile.cell} · {profile.speed_kmh} km/h")
    print(f"覆盖圈层 circles covered: {profile.circles_covered}/8 · PT {profile.pt_minutes} min")
    for type_id, access in profile.types.items():
        minutes = "—" if access.minutes is None else f"{access.minutes:5.1f}"
        flag = "✓" if access.within_threshold else ("?" if access.within_threshold is None else "✗")
        print(f"  {flag} {type_id:<26} {minutes:>6} min  (≤{access.threshold_min})  "
              f"{access.count_15min:>4} within 15 min  {access.nearest_name or ''}")
    return 0


def cmd_briefing(args) -> int:
    from circle import briefing
    from circle.chart_state import find_district

    fmt = args.out.suffix.lower().lstrip(".")
    if fmt not in ("pptx", "pdf"):
        raise CliError(f"输出文件须以 .pptx 或 .pdf 结尾 / --out must end in .pptx or .pdf: {args.out}")
    district = None
    if args.district:
        district = find_district(args.district)
        if district is None:
            raise CliError(f"没有这个区：{args.district}（海勃湾区、海南区、乌达区）/ no such district: "
                           f"{args.district} (Haibowan, Hainan, Wuda)")
    if not args.out.parent.exists():
        raise CliError(f"输出目录不存在：{args.out.parent} / output folder does not exist: {args.out.parent}")
    started = time.perf_counter()
    index = _index_for(args)
    deck = briefing.build_deck(index, args.lang, district)
    data = briefing.export(deck, fmt)
    args.out.write_bytes(data)
    print(f"{args.out}: {len(deck)} slides, {len(data):,} bytes, {time.perf_counter() - started:.1f} s / 汇报幻灯片已导出")
    return 0


COMMANDS = {"build": cmd_build, "sample": cmd_sample, "stats": cmd_stats, "lookup": cmd_lookup,
            "briefing": cmd_briefing}


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except BrokenPipeError:  # output piped into `head`: not an error worth a traceback
        sys.stderr.close()
        return 0
    except CliError as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, FileNotFoundError, KeyError) as error:
        message = str(error).strip("'\"")
        if "/" not in message:
            message = f"出错了：{message} / Error: {message}"
        print(message.splitlines()[0] if message else "出错了 / Error", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
