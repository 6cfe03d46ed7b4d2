"""The worker's language: Chinese first, English when the phone asks for it or the worker switches."""
from flask import request
from werkzeug.exceptions import HTTPException

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

TEXT = {
    "zh": {
        "title": "驿站评价",
        "question": "对驿站服务满意吗?",
        "reasons_legend": "哪里不满意?(可多选)",
        "thanks_title": "谢谢您的评价!",
        "thanks_body": "您的意见已记录,我们会持续改进驿站服务。",
        "offers": "本站为您提供",
        "rate_again": "返回",
        "switch": "English",
        "error_title": "出错了",
        "not_found": "找不到这个驿站。请扫描驿站现场张贴的二维码。",
        "replaced": "此二维码已更换,请扫描驿站现场张贴的新二维码。",
        "closed": "此驿站目前暂停服务,暂不接受评价。",
        "pick_score": "请选择一个满意程度。",
        "bad_reason": "请从列表中选择原因。",
        "comment_too_long": "留言太长了,请不超过500字。",
        "form_expired": "页面已过期,请重新打开并提交。",
        "bad_text": "留言里有无法识别的字符,请重新输入。",
        "tap_hint": "点一下表情即可提交。",
        "you_said_we_did": "你说我改",
        "hours": "开放时间",
        "details_prompt": "愿意多说几句吗?(选填)",
        "send_details": "发送",
        "details_received": "已收到您的补充说明,谢谢!",
        "not_yours": "只能从刚才评价的手机补充说明。",
        "too_late": "评价已超过30分钟,不能再补充说明了。",
        "already_detailed": "这条评价已经补充过说明了。",
        "nothing_to_add": "请写点什么或选择原因后再发送。",
        "too_large": "提交的内容太多了,请精简后再试。",
        "page_not_found": "页面不存在。",
        "server_error": "服务暂时出了问题,请稍后再试。",
        "reason.water": "没有热水/饮用水",
        "reason.charging": "不能充电",
        "reason.toilet": "厕所不便",
        "reason.temperature": "太热或太冷",
        "reason.microwave": "微波炉不能用",
        "reason.closed": "该开门时没开",
        "reason.staff": "工作人员态度",
        "near_title": "附近的驿站",
        "near_intro": "找一个离您最近、正在开放的户外劳动者驿站。",
        "use_location": "用我的位置查找",
        "locating": "正在获取您的位置…",
        "location_failed": "无法获取位置,请选择所在区。",
        "district": "所在区",
        "pick_district": "请选择",
        "amenity_filter": "需要的设施",
        "kind_filter": "驿站类型",
        "any": "不限",
        "open_now_filter": "只看正在开放的",
        "find": "查找",
        "open_now": "正在开放",
        "closed_now": "现在关门",
        "hours_unknown": "开放时间未知",
        "all_day": "24小时",
        "navigate": "高德导航",
        "other_map": "其他地图",
        "none_found": "没有符合条件的驿站。",
        "nearby_open": "附近其他正在开放的驿站",
        "find_more": "查找更多驿站",
        "more": "下一页",
        "metres": "{n} 米",
        "kilometres": "{n} 公里",
        "bad_position": "位置不正确,请重新定位或选择所在区。",
        "unknown_amenity": "没有这种设施可选。",
        "bad_radius": "查找范围最大为50公里。",
        "bad_filter": "查找条件不正确,请重新选择。",
        "kind.fixed": "固定驿站", "kind.mobile": "移动驿站", "kind.partner": "合作网点",
        "amenity.water": "饮用水", "amenity.microwave": "微波炉", "amenity.sofa": "沙发座椅",
        "amenity.fridge": "冰箱", "amenity.first-aid": "急救药箱", "amenity.charging": "充电",
        "amenity.toilet": "厕所", "amenity.wifi": "无线网络", "amenity.air-conditioning": "空调",
    },
    "en": {
        "title": "Rate this station",
        "question": "Are you happy with this station?",
        "reasons_legend": "What was wrong? (tick any)",
        "thanks_title": "Thank you for rating!",
        "thanks_body": "Your rating is recorded and helps us improve this station.",
        "offers": "This station offers",
        "rate_again": "Back",
        "switch": "中文",
        "error_title": "Something went wrong",
        "not_found": "We cannot find this station. Please scan the QR code posted at the station.",
        "replaced": "This QR code has been replaced. Please scan the new poster at the station.",
        "closed": "This station is out of service and is not taking ratings just now.",
        "pick_score": "Please pick how satisfied you are.",
        "bad_reason": "Please choose reasons from the list.",
        "comment_too_long": "Your comment is too long: please keep it to 500 characters.",
        "form_expired": "This page has expired. Please open it again and resend.",
        "bad_text": "Your comment holds characters we cannot take. Please type it again.",
        "tap_hint": "One tap on a face sends your rating.",
        "you_said_we_did": "You said, we did",
        "hours": "Opening hours",
        "details_prompt": "Anything to add? (optional)",
        "send_details": "Send",
        "details_received": "Thank you: we have your details too.",
        "not_yours": "Details can only come from the phone that gave the rating.",
        "too_late": "It is more than 30 minutes since this rating: details can no longer be added.",
        "already_detailed": "This rating already has its details.",
        "nothing_to_add": "Write something or pick a reason before sending.",
        "too_large": "That was too much to send. Please shorten it and try again.",
        "page_not_found": "There is no such page.",
        "server_error": "Something went wrong on our side. Please try again later.",
        "reason.water": "No drinking or hot water",
        "reason.charging": "Cannot charge my phone or battery",
        "reason.toilet": "No usable toilet",
        "reason.temperature": "Too hot or too cold",
        "reason.microwave": "Microwave not working",
        "reason.closed": "Closed when it should be open",
        "reason.staff": "Staff attitude",
        "near_title": "Stations near you",
        "near_intro": "Find the nearest rest station for outdoor workers that is open now.",
        "use_location": "Use my location",
        "locating": "Finding where you are…",
        "location_failed": "Your location is not available: pick your district instead.",
        "district": "District",
        "pick_district": "Choose",
        "amenity_filter": "Needs",
        "kind_filter": "Kind of station",
        "any": "Any",
        "open_now_filter": "Open now only",
        "find": "Find",
        "open_now": "Open now",
        "closed_now": "Closed now",
        "hours_unknown": "Hours unknown",
        "all_day": "24 hours",
        "navigate": "Navigate (Amap)",
        "other_map": "Other map app",
        "none_found": "No station matches.",
        "nearby_open": "Other stations open nearby",
        "find_more": "Find more stations",
        "more": "Next page",
        "metres": "{n} m",
        "kilometres": "{n} km",
        "bad_position": "That position is not valid: locate again or pick your district.",
        "unknown_amenity": "There is no such amenity to choose.",
        "bad_radius": "The search radius is at most 50 km.",
        "bad_filter": "That search is not valid: please choose again.",
        "kind.fixed": "Fixed room", "kind.mobile": "Mobile cabin", "kind.partner": "Partner shop",
        "amenity.water": "Drinking water", "amenity.microwave": "Microwave", "amenity.sofa": "Sofa",
        "amenity.fridge": "Fridge", "amenity.first-aid": "First aid", "amenity.charging": "Charging",
        "amenity.toilet": "Toilet", "amenity.wifi": "Wi-Fi", "amenity.air-conditioning": "Air conditioning",
    },
}

# The amenities the pages have words for (a station may list others, shown as written).
AMENITIES = frozenset(key.removeprefix("amenity.") for key in TEXT[DEFAULT] if key.startswith("amenity."))

# Staff pages show keys by their labels, Chinese first.
TIER_LABELS = {"city": "市级", "provincial": "省级", "national": "国家级"}


def choose() -> str:
    """The language of this request: ?lang= (or the form's lang), then the remembered choice,
    then Accept-Language."""
    for candidate in (request.args.get("lang"), form_lang(), request.cookies.get("lang")):
        if candidate in LANGUAGES:
            return candidate
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT)


def form_lang() -> str | None:
    """The form's lang field; None when the body is one we refuse to read (too big, cut off),
    so the page that says so can still be drawn."""
    try:
        return request.form.get("lang")
    except HTTPException:
        return None


def translate(lang: str, key: str) -> str:
    """The text for ``key``; an amenity the list does not know is shown as written."""
    table = TEXT[lang]
    if key.startswith("amenity."):
        return table.get(key, key.removeprefix("amenity."))
    return table[key]
