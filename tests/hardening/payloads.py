"""A data set whose facility names (and file name) carry script, event-handler, link and formula
payloads, placed around 长青社区 so that each is the nearest of its type there (it shows in the
profile table, the map's tooltips, the what-if map). Used by the AppTest injection tests and by
the browser test (which uploads it through the Load data page)."""
from __future__ import annotations

import io
import math

import pandas as pd

MARKER = "XSS-MARKER"
CENTRE = (39.674319, 106.816083)          # 长青社区 (the app's default place)
FILE_NAME = "<img src=x onerror=alert('XSS')>.csv"
PAYLOADS = (
    f"<script>console.log('{MARKER}');alert('XSS')</script>",
    f"<img src=x onerror=\"console.log('{MARKER}');alert('XSS')\">",
    f"<svg/onload=console.log('{MARKER}')>",
    "[点我 click](javascript:alert('XSS'))",
    "![x](http://127.0.0.1:9/xss.png)",
    "javascript:alert('XSS')",
    f"\"><iframe src=javascript:console.log('{MARKER}')>",
    '=HYPERLINK("http://evil.example","XSS")',
    "**粗体** <b>bold</b> {label} $x$",
    f"<a href=\"javascript:console.log('{MARKER}')\">链接</a>",
    "<style>*{display:none!important}</style>",
    f"<details open ontoggle=console.log('{MARKER}')>",
)
TYPES = ("convenience_store", "breakfast_shop", "pharmacy", "wet_market", "supermarket", "health_station",
         "kindergarten", "primary_school", "park", "elderly_day_care", "parcel_point", "community_service")
CSV_HEADER = ("名称", "经度", "纬度", "类型")


def frame() -> pd.DataFrame:
    """One facility per payload, each of its own type, 120–450 m around the centre."""
    rows = []
    lat0, lng0 = CENTRE
    for k, (name, type_id) in enumerate(zip(PAYLOADS, TYPES)):
        angle = 2 * math.pi * k / len(PAYLOADS)
        metres = 120 + 30 * k
        lat = lat0 + metres * math.cos(angle) / 111_320
        lng = lng0 + metres * math.sin(angle) / (111_320 * math.cos(math.radians(lat0)))
        rows.append({"名称": name, "经度": f"{lng:.6f}", "纬度": f"{lat:.6f}", "类型": type_id})
    return pd.DataFrame(rows, columns=list(CSV_HEADER))


def csv_bytes() -> bytes:
    buffer = io.StringIO()
    frame().to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")
