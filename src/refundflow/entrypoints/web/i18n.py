"""The two languages of every page: zh-CN (default) and en.

A page's language comes from ``?lang=``, else the ``lang`` cookie, else zh-CN. Messages are
keyed by a short English id; a missing translation falls back to zh-CN and then to the key.
"""

from __future__ import annotations

from fastapi import Request

from refundflow.entrypoints.web.console_messages import CONSOLE, DASHBOARD

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
    "find_my_order": {"zh-CN": "查询订单 / 申请退款", "en": "Find my order"},
    "find_intro": {
        "zh-CN": "输入订单号和下单时留的手机号或邮箱，我们会发送一个 6 位验证码。",
        "en": "Enter your order number and the phone or e-mail on the order: we will send "
        "you a 6-digit code.",
    },
    "order_no": {"zh-CN": "订单号", "en": "Order number"},
    "contact": {"zh-CN": "手机号或邮箱", "en": "Phone or e-mail"},
    "send_code": {"zh-CN": "发送验证码", "en": "Send code"},
    "enter_code": {"zh-CN": "输入验证码", "en": "Enter the code"},
    "code_sent": {
        "zh-CN": "如果订单号与联系方式匹配，验证码已发送，10 分钟内有效。",
        "en": "If the order and contact match, a code is on its way; it is valid for 10 minutes.",
    },
    "code": {"zh-CN": "6 位验证码", "en": "6-digit code"},
    "verify": {"zh-CN": "验证并查看订单", "en": "Verify and open my order"},
    "wrong_code": {
        "zh-CN": "验证码错误或已过期，请重新获取。",
        "en": "That code is wrong or has expired: ask for a new one.",
    },
    "your_order": {"zh-CN": "我的订单", "en": "My order"},
    "refundable": {"zh-CN": "可退数量", "en": "Refundable"},
    "ask_refund": {"zh-CN": "申请退款", "en": "Ask for a refund"},
    "type": {"zh-CN": "申请类型", "en": "What do you want?"},
    "type_refund_only": {"zh-CN": "仅退款", "en": "Refund only"},
    "type_return_and_refund": {"zh-CN": "退货退款", "en": "Return and refund"},
    "type_exchange": {"zh-CN": "换货", "en": "Exchange"},
    "quantity": {"zh-CN": "数量", "en": "Quantity"},
    "reason": {"zh-CN": "退款原因", "en": "Reason"},
    "description": {"zh-CN": "问题描述（选填）", "en": "What happened (optional)"},
    "photos": {"zh-CN": "照片（最多 6 张）", "en": "Photos (up to 6)"},
    "route": {"zh-CN": "退款方式", "en": "Refund to"},
    "route_original": {"zh-CN": "原路退回", "en": "Original payment method"},
    "route_store_credit": {"zh-CN": "退到店铺余额", "en": "Store credit"},
    "route_bank_transfer": {"zh-CN": "银行转账", "en": "Bank transfer"},
    "route_e_wallet": {"zh-CN": "电子钱包", "en": "E-wallet"},
    "preview": {"zh-CN": "先看看结果", "en": "Preview the decision"},
    "submit": {"zh-CN": "提交申请", "en": "Submit"},
    "offers": {"zh-CN": "您也可以选择", "en": "You could also choose"},
    "offer_exchange": {"zh-CN": "换货", "en": "an exchange"},
    "offer_store_credit": {
        "zh-CN": "退到余额，额外赠送 {pct}%",
        "en": "store credit with a {pct}% bonus",
    },
    "offer_keep": {"zh-CN": "保留商品，退还 {pct}%", "en": "keep the item and get {pct}% back"},
    "request": {"zh-CN": "退款申请", "en": "Refund request"},
    "status": {"zh-CN": "当前状态", "en": "Status"},
    "next_step": {"zh-CN": "下一步", "en": "Next step"},
    "by": {"zh-CN": "截止", "en": "by"},
    "timeline": {"zh-CN": "处理进度", "en": "Progress"},
    "ship_back": {"zh-CN": "填写退货物流", "en": "Send the goods back"},
    "carrier": {"zh-CN": "快递公司", "en": "Carrier"},
    "tracking_no": {"zh-CN": "运单号", "en": "Tracking number"},
    "save": {"zh-CN": "提交", "en": "Save"},
    "cancel_request": {"zh-CN": "撤销申请", "en": "Cancel the request"},
    "appeal": {"zh-CN": "申诉", "en": "Appeal"},
    "appeal_reason": {"zh-CN": "申诉理由", "en": "Why should we look again?"},
    "contact_us": {"zh-CN": "联系客服", "en": "Contact us"},
    "hotline": {"zh-CN": "客服热线", "en": "Hotline"},
    "chat": {"zh-CN": "在线客服", "en": "Online chat"},
    "live": {"zh-CN": "页面会自动更新", "en": "This page updates by itself"},
    "push_on": {"zh-CN": "开启浏览器推送通知", "en": "Turn on browser notifications"},
    "push_off": {"zh-CN": "关闭浏览器推送通知", "en": "Turn off browser notifications"},
    "push_is_on": {
        "zh-CN": "已开启：进度有变化时，本浏览器会收到通知",
        "en": "On: this browser is told when anything changes",
    },
    "push_denied": {
        "zh-CN": "浏览器未允许通知，可在浏览器设置中开启",
        "en": "The browser does not allow notifications; allow them in its settings",
    },
    "push_failed": {
        "zh-CN": "暂时无法开启推送，请稍后再试",
        "en": "Notifications could not be turned on; please try again later",
    },
    "sign_out": {"zh-CN": "退出", "en": "Sign out"},
    "survey": {"zh-CN": "服务评价", "en": "Rate our service"},
    "csat": {"zh-CN": "您对这次退款服务满意吗？", "en": "How satisfied are you with this refund?"},
    "resolved": {"zh-CN": "问题解决了吗？", "en": "Was your problem solved?"},
    "yes": {"zh-CN": "是", "en": "Yes"},
    "no": {"zh-CN": "否", "en": "No"},
    "comment": {"zh-CN": "还想对我们说（选填）", "en": "Anything else (optional)"},
    "thanks": {"zh-CN": "感谢您的评价！", "en": "Thank you for your feedback!"},
    "link_expired": {"zh-CN": "链接已失效。", "en": "This link has expired."},
    "not_found": {"zh-CN": "找不到该页面。", "en": "Page not found."},
    "error": {"zh-CN": "出错了", "en": "Something went wrong"},
    "back": {"zh-CN": "返回", "en": "Back"},
    "my_requests": {"zh-CN": "我的退款申请", "en": "My refund requests"},
    "amount": {"zh-CN": "金额", "en": "Amount"},
    "st_pending_review": {"zh-CN": "待审核", "en": "Under review"},
    "st_awaiting_return": {"zh-CN": "待寄回商品", "en": "Waiting for your parcel"},
    "st_received": {"zh-CN": "已收到退货，质检中", "en": "Parcel received, being checked"},
    "st_refund_pending": {"zh-CN": "退款处理中", "en": "Refund being prepared"},
    "st_refunding": {"zh-CN": "退款中", "en": "Refund on its way"},
    "st_refund_failed": {"zh-CN": "退款失败，处理中", "en": "Refund failed, being fixed"},
    "st_exchange_pending": {"zh-CN": "待发出换货", "en": "Replacement being sent"},
    "st_refunded": {"zh-CN": "已退款", "en": "Refunded"},
    "st_exchanged": {"zh-CN": "已换货", "en": "Exchanged"},
    "st_rejected": {"zh-CN": "未通过", "en": "Not accepted"},
    "st_cancelled": {"zh-CN": "已撤销", "en": "Cancelled"},
    "who_cs": {"zh-CN": "客服", "en": "Customer service"},
    "who_cs_senior": {"zh-CN": "客服主管", "en": "Senior customer service"},
    "who_warehouse": {"zh-CN": "仓库", "en": "Warehouse"},
    "who_finance": {"zh-CN": "财务", "en": "Finance"},
    "who_customer": {"zh-CN": "您", "en": "You"},
    "who_system": {"zh-CN": "系统", "en": "System"},
    "act_submit": {"zh-CN": "提交申请", "en": "Request submitted"},
    "act_decide": {"zh-CN": "自动审核：转人工", "en": "Automatic check: sent to review"},
    "act_approve": {"zh-CN": "审核通过", "en": "Approved"},
    "act_reject": {"zh-CN": "审核未通过", "en": "Not accepted"},
    "act_cancel": {"zh-CN": "已撤销", "en": "Cancelled"},
    "act_return-shipment": {"zh-CN": "已寄回", "en": "Parcel sent back"},
    "act_carrier-delivered": {"zh-CN": "物流显示已签收", "en": "Carrier delivered the parcel"},
    "act_receive": {"zh-CN": "仓库已收货", "en": "Parcel received"},
    "act_inspect": {"zh-CN": "质检完成", "en": "Inspection done"},
    "act_finance-approve": {"zh-CN": "财务复核通过", "en": "Finance approved"},
    "act_execute": {"zh-CN": "开始退款", "en": "Refund started"},
    "act_retry": {"zh-CN": "重新退款", "en": "Refund retried"},
    "act_mark-refunded": {"zh-CN": "退款成功", "en": "Refund completed"},
    "act_mark-failed": {"zh-CN": "退款失败", "en": "Refund failed"},
    "act_ship-replacement": {"zh-CN": "换货已发出", "en": "Replacement shipped"},
    "act_appeal": {"zh-CN": "已申诉", "en": "Appealed"},
    "act_difference-refund": {"zh-CN": "换货差价退款", "en": "Price difference refunded"},
    "act_complaint-resolved": {"zh-CN": "投诉已处理", "en": "Complaint resolved"},
}


MESSAGES.update(CONSOLE)
MESSAGES.update(DASHBOARD)


def language(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get("lang")
    return asked if asked in LANGUAGES else DEFAULT


def translate(key: str, lang: str) -> str:
    texts = MESSAGES.get(key)
    if texts is None:
        return key
    return texts.get(lang) or texts.get(DEFAULT) or key
