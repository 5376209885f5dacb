"""The two languages of every page: zh-CN (default) and en.

A page's language comes from ``?lang=``, else the ``lang`` cookie, else zh-CN. Messages are
keyed by a short English id; a missing translation falls back to zh-CN and then to the key.
"""

from __future__ import annotations

from fastapi import Request

DEFAULT = "zh-CN"
LANGUAGES = ("zh-CN", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "refund_policy": {"zh-CN": "退款政策", "en": "Refund policy"},
    "policy_intro": {
        "zh-CN": "以下规则决定您的退款申请如何处理。符合条件的申请提交后即刻自动处理。",
        "en": "These rules decide how your refund request is handled. Requests that meet "
        "them are handled automatically the moment you submit them.",
    },
    "policy_version": {"zh-CN": "政策版本", "en": "Policy version"},
    "published_at": {"zh-CN": "发布时间", "en": "Published"},
    "no_policy": {
        "zh-CN": "商家尚未发布退款政策。",
        "en": "The shop has not published a refund policy yet.",
    },
    "language_switch": {"zh-CN": "English", "en": "中文"},
    "find_my_order": {"zh-CN": "查询订单/申请退款", "en": "Find my order"},
}


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get("lang")
    return asked if asked in LANGUAGES else DEFAULT


def translate(key: str, lang: str) -> str:
    texts = MESSAGES.get(key)
    if texts is None:
        return key
    return texts.get(lang) or texts.get(DEFAULT) or key
