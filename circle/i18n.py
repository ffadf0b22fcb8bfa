"""Every UI string, in Chinese (first) and English: one catalogue for pages, charts and exports.

``t(key, lang, **values)`` returns the string in ``lang`` ('zh' or 'en') with ``{placeholders}``
filled. A missing key raises KeyError in tests (so typos are caught) rather than showing blanks.
"""
from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

STRINGS: dict[str, tuple[str, str]] = {
    # app chrome
    "app_title": ("乌海一刻钟社区生活圈", "Wuhai's 15-minute community life circle"),
    "language": ("语言 / Language", "语言 / Language"),
    "nav_story": ("故事", "Story"),
    "nav_my_circle": ("我的生活圈", "My circle"),
    "nav_city_map": ("全市地图", "City map"),
    "nav_progress": ("进展", "Progress"),
    "nav_data": ("数据与方法", "Data and methods"),
    "nav_gallery": ("图表库", "Chart gallery"),
    "nav_briefing": ("汇报模式", "Briefing"),
    "nav_chart": ("图表", "Chart"),
    "sidebar_data": ("当前数据：{label}", "Data shown: {label}"),
    "simulated_banner": (
        "本页设施与居民点为**模拟数据**（乌海尚无可离线获取的公开兴趣点数据），仅用于演示方法，不代表真实情况。官方数字另有标注。",
        "Facilities and homes on this page are **simulated** (no open POI data for Wuhai exists offline): they "
        "show the method, not the real city. Official figures are labelled as such."),
    "imported_banner": ("本页使用导入的数据：{label}", "This page uses imported data: {label}"),
    "loading_index": ("正在加载步行可达性索引……", "Loading the walking-access index…"),
    "bad_param": ("链接参数无效（{detail}），已显示默认视图。", "Invalid link parameter ({detail}); showing the default view."),
    # provenance tags
    "tag_official": ("官方", "Official"),
    "tag_computed": ("计算", "Computed"),
    "tag_simulated": ("模拟", "Simulated"),
    "tag_unverified": ("未核实", "Unverified"),
    # story
    "story_title": ("一刻钟社区生活圈 乌海人的幸福坐标", "The 15-minute life circle: where Wuhai's happiness is found"),
    "story_lede": (
        "买菜、锻炼、看病、上学、办事……在乌海，这些日常需求步行15分钟内即可满足。这里讲的是乌海如何把“一刻钟”建成全城的生活圈，以及数据能告诉我们什么。",
        "Groceries, exercise, a doctor, school, errands: in Wuhai these are meant to be a 15-minute walk from "
        "home. This is how the city built that life circle, and what the data can tell us about it."),
    "story_what_h": ("什么是一刻钟社区生活圈？", "What is a 15-minute community life circle?"),
    "story_what": (
        "居民从家出发步行15分钟的范围内，能满足教育、医疗、养老、购物、休闲等日常生活需求。乌海把它分成“八位一体”的八个圈：",
        "The area a resident reaches on foot in about 15 minutes, inside which daily needs are met: education, "
        "health, elderly care, shopping, leisure. Wuhai splits it into eight circles (八位一体):"),
    "story_journey_h": ("从试点到全覆盖", "From pilots to full coverage"),
    "story_figures_h": ("官方公布的建设成果", "What was built: the official figures"),
    "story_data_h": ("数据显示了什么", "What the data shows"),
    "story_data_note": (
        "下列数字由本应用的步行模型计算。设施和居民点是模拟的，因此这些数字说明的是方法，而不是乌海的真实覆盖率；导入真实数据后它们会随之更新。",
        "These numbers are computed by this app's walking model. Facilities and homes are simulated, so they "
        "show the method, not Wuhai's real coverage; load real data and they update."),
    "story_next": ("下一步：查看你家附近 → 我的生活圈", "Next: see your own neighbourhood → My circle"),
    "official_vs_computed": ("官方数字与计算结果", "Official figure and computed result"),
    # figures / metrics
    "m_all_circles": ("八个圈层全部覆盖的居民比例", "Residents with all eight circles covered"),
    "m_f15": ("F15：平均步行时间（PT）≤15分钟的居民比例", "F15: residents whose proximity time (PT) ≤ 15 min"),
    "m_pt": ("人口加权平均步行时间（PT）", "Population-weighted proximity time (PT)"),
    "m_gini": ("步行时间基尼系数", "Gini of proximity time"),
    "m_basic": ("商务部基本保障类业态齐全的居民比例", "Residents with all MOFCOM basic formats in reach"),
    "m_population": ("常住人口", "Residents"),
    "m_not_covered": ("未被八圈全覆盖的居民", "Residents without all eight circles"),
    "minutes": ("分钟", "min"),
    "method_coverage": (
        "方法：H3 第10级网格上的步行最短路（速度 {speed} km/h，绕行系数 1.2），每类设施在其步行阈值内即算覆盖；按人口加权。",
        "Method: shortest walking paths on the H3 resolution-10 grid ({speed} km/h, detour factor 1.2); a type is "
        "covered within its walking threshold; population-weighted."),
    # my circle
    "mc_title": ("我的生活圈", "My circle"),
    "mc_intro": ("输入小区、社区、街道或地标名称（中文、拼音、首字母或英文均可），或在地图上点击一个位置。",
                 "Type a community, street or landmark (Chinese, pinyin, initials or English), or click the map."),
    "mc_search": ("搜索地点", "Find a place"),
    "mc_search_placeholder": ("例如：长青社区、changqing、cqsq", "e.g. 长青社区, changqing, cqsq"),
    "mc_no_match": ("没有找到“{query}”，请换个写法试试。", "No place matches “{query}”; try another spelling."),
    "mc_results": ("搜索结果", "Matches"),
    "mc_speed": ("步行速度", "Walking speed"),
    "speed_elderly": ("老年人 3.6 km/h", "Elderly 3.6 km/h"),
    "speed_default": ("一般 4.0 km/h", "Typical 4.0 km/h"),
    "speed_brisk": ("较快 4.5 km/h", "Brisk 4.5 km/h"),
    "speed_fast": ("快走 5.0 km/h", "Fast 5.0 km/h"),
    "mc_here": ("位置：{district} · {street}", "Location: {district} · {street}"),
    "mc_covered": ("八个圈层中覆盖了 {n} 个", "{n} of 8 circles covered"),
    "mc_circles_h": ("八个圈层", "The eight circles"),
    "mc_types_h": ("每类设施：最近一处与15分钟内数量", "Each facility type: the nearest and how many within 15 minutes"),
    "mc_missing_h": ("与标准相比还缺什么", "What is missing against the standards"),
    "mc_nothing_missing": ("所有设施类型都在各自的标准步行时间内。", "Every facility type is within its standard walking time."),
    "mc_outside": ("该位置不在乌海市范围内，已显示默认位置。", "That location is outside Wuhai; showing the default place."),
    "mc_default_place": ("默认位置：{name}", "Default place: {name}"),
    "mc_permalink": ("本视图的永久链接", "Permanent link to this view"),
    "mc_reach_legend": ("地图：15分钟步行可达范围（颜色越深越近），黑点为所选位置。", "Map: the 15-minute walk (darker = nearer); the dot is the chosen place."),
    "mc_approx_location": ("注意：该社区位置为近似值（{quality}）。", "Note: this community's location is approximate ({quality})."),
    "col_type": ("设施类型", "Facility type"),
    "col_circle": ("圈层", "Circle"),
    "col_minutes": ("步行分钟", "Minutes on foot"),
    "col_threshold": ("标准（分钟）", "Standard (min)"),
    "col_nearest": ("最近一处", "Nearest"),
    "col_count15": ("15分钟内数量", "Within 15 min"),
    "col_ok": ("达标", "Within standard"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "no_data": ("无数据", "no data"),
    "covered": ("已覆盖", "covered"),
    "not_covered": ("未覆盖", "not covered"),
    # city map
    "cm_title": ("全市地图", "City map"),
    "cm_measure": ("显示指标", "Measure"),
    "measure_circles": ("覆盖的圈层数（0–8）", "Circles covered (0–8)"),
    "measure_minutes": ("到某类设施的步行分钟", "Minutes to a facility type"),
    "measure_population": ("居民人数", "Residents"),
    "measure_gap": ("未被八圈全覆盖的居民（缺口）", "Residents without all eight circles (the gap)"),
    "cm_type": ("设施类型", "Facility type"),
    "cm_district": ("区", "District"),
    "cm_street": ("街道/镇", "Street or town"),
    "all": ("全部", "All"),
    "cm_basemap": ("在线底图（需联网，可能无法在境内访问）", "Online basemap (needs internet; may be unreachable in China)"),
    "cm_legend": ("图例", "Legend"),
    "cm_context": ("地图上的区界、黄河和地名由本应用绘制，无需底图服务。", "District borders, the Yellow River and names are drawn by this app: no tile server needed."),
    # progress
    "pg_title": ("进展", "Progress"),
    "pg_by": ("统计单元", "Group by"),
    "by_city": ("全市", "City"),
    "by_district": ("区", "District"),
    "by_street": ("街道/镇", "Street or town"),
    "pg_reading": ("解读", "Reading"),
    # data & methods
    "dm_title": ("数据与方法", "Data and methods"),
    "dm_downloads": ("下载", "Downloads"),
    # charts
    "chart_source_sim": ("数据：模拟样本（非真实设施）；方法：H3网格步行模型", "Data: simulated sample (not real facilities); method: H3 grid walking model"),
    "chart_source_official": ("来源：{source}", "Source: {source}"),
}


def t(key: str, lang: str = DEFAULT_LANG, **values) -> str:
    """The string ``key`` in ``lang`` with ``{placeholders}`` filled from ``values``."""
    zh, en = STRINGS[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def normalise_lang(value) -> str:
    """'en', 'EN', 'en-US' → 'en'; anything else → 'zh' (Chinese first)."""
    text = str(value or "").strip().lower()
    return "en" if text.startswith("en") else DEFAULT_LANG


def pick(lang: str, zh: str, en: str) -> str:
    """Choose between two data-driven strings (e.g. a name_zh / name_en pair)."""
    return en if lang == "en" and en else zh
