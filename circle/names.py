"""English forms of Chinese place names (one home, used by search, tables and exports).

Administrative suffixes get their usual English words; the rest is toneless pinyin, capitalised:
'凤凰岭街道' → 'Fenghuangling Subdistrict', '长青社区' → 'Changqing Community'.
"""
from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin

# Longest suffix first, so '社区居委会' wins over '居委会'.
SUFFIXES = (
    ("社区居委会", "Community"), ("村民委员会", "Village"), ("村委会", "Village"), ("居委会", "Community"),
    ("街道", "Subdistrict"), ("社区", "Community"), ("镇", "Town"), ("村", "Village"), ("区", "District"),
)
FIXED = {
    "海勃湾区": "Haibowan District", "乌达区": "Wuda District", "海南区": "Hainan District", "乌海市": "Wuhai",
    "乌海高新技术产业开发区海勃湾产业园": "Wuhai High-tech Zone, Haibowan Industrial Park",
    "乌达经济开发区": "Wuda Economic Development Zone",
    # pypinyin reads 乐 as yue out of context; the community is Minle.
    "民乐社区居委会": "Minle Community", "民乐社区": "Minle Community",
    "乌海高新技术产业开发区海勃湾产业园综合服务中心虚拟社区": "Haibowan Industrial Park Service Centre (virtual community)",
    "乌达经济开发区虚拟社区": "Wuda Economic Development Zone (virtual community)",
    "西来峰工业园社区": "Xilaifeng Industrial Park Community",
    "卓山至骆驼山矿区社区": "Zhuoshan–Luotuoshan Mining Area Community",
}


def pinyin(text: str) -> str:
    """Toneless pinyin of Chinese text, syllables joined, first letter capitalised."""
    return "".join(lazy_pinyin(text)).capitalize()


@lru_cache(maxsize=4096)
def english_name(name_zh: str) -> str:
    if name_zh in FIXED:
        return FIXED[name_zh]
    for suffix, word in SUFFIXES:
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix):
            return f"{pinyin(name_zh[: -len(suffix)])} {word}"
    return pinyin(name_zh)
