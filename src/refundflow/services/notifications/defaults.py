# ruff: noqa: E501  (message wording reads best unbroken)
"""The shipped wording of every notice, zh-CN and en. ``refundflow migrate`` stores them;
managers edit the stored copies through the API (an edited template is never overwritten,
an untouched one follows the shipped wording when it changes).

The HTML part is built from the text part (one paragraph per blank-line-separated block)
inside a plain layout; values are escaped by the renderer.
"""

from __future__ import annotations

from refundflow.services.notifications.ports import MessageTemplate

# notice → (sms params, {language: (subject, text, short)})
DEFAULTS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, str, str]]]] = {
    "request_received": (
        ("number", "status", "deadline"),
        {
            "zh-CN": (
                "【{{ shop.name }}】已收到您的{{ request.type_label }}申请 {{ request.number }}",
                "{{ customer.name }}您好：\n\n"
                "我们已收到您的{{ request.type_label }}申请（{{ request.number }}，订单 "
                "{{ request.order_no }}，金额 {{ request.amount_requested }}）。\n\n"
                "{% if decision %}审核结果：{{ decision.outcome_label }}。{{ decision.explanation }}"
                "{% endif %}\n\n"
                "{% if next_step %}下一步：{{ next_step.step_label }}（{{ next_step.who }}），"
                "请在 {{ next_step.due_at }} 前完成。{% if next_step.step == 'ship_back' %}"
                "退货地址：{{ shop.return_address }}{% endif %}{% endif %}\n\n"
                "查看进度：{{ link }}",
                "{{ shop.name }}：已收到退款申请{{ request.number }}，当前{{ request.status_label }}"
                "{% if next_step %}，下一步{{ next_step.step_label }}，截止{{ next_step.due_at }}"
                "{% endif %}。",
            ),
            "en": (
                "[{{ shop.name }}] We received your request {{ request.number }}",
                "Hello {{ customer.name }},\n\n"
                "We received your {{ request.type_label }} request {{ request.number }} "
                "(order {{ request.order_no }}, {{ request.amount_requested }}).\n\n"
                "{% if decision %}Decision: {{ decision.outcome_label }}. "
                "{{ decision.explanation }}{% endif %}\n\n"
                "{% if next_step %}Next step: {{ next_step.step_label }} ({{ next_step.who }}), "
                "by {{ next_step.due_at }}.{% if next_step.step == 'ship_back' %} "
                "Return address: {{ shop.return_address }}{% endif %}{% endif %}\n\n"
                "Follow it here: {{ link }}",
                "{{ shop.name }}: request {{ request.number }} received, "
                "{{ request.status_label }}{% if next_step %}; next: {{ next_step.step_label }} "
                "by {{ next_step.due_at }}{% endif %}.",
            ),
        },
    ),
    "approved": (
        ("number", "amount"),
        {
            "zh-CN": (
                "【{{ shop.name }}】您的申请 {{ request.number }} 已通过",
                "您的{{ request.type_label }}申请 {{ request.number }} 已通过，"
                "退款金额 {{ request.amount_approved }}。{% if reason %}说明：{{ reason }}{% endif %}\n\n"
                "{% if next_step %}下一步：{{ next_step.step_label }}，预计 {{ next_step.due_at }} "
                "前完成。{% endif %}\n\n查看进度：{{ link }}",
                "{{ shop.name }}：申请{{ request.number }}已通过，退款{{ request.amount_approved }}。",
            ),
            "en": (
                "[{{ shop.name }}] Request {{ request.number }} approved",
                "Your {{ request.type_label }} request {{ request.number }} was approved for "
                "{{ request.amount_approved }}.{% if reason %} Note: {{ reason }}{% endif %}\n\n"
                "{% if next_step %}Next: {{ next_step.step_label }}, by {{ next_step.due_at }}."
                "{% endif %}\n\nFollow it here: {{ link }}",
                "{{ shop.name }}: request {{ request.number }} approved, "
                "{{ request.amount_approved }}.",
            ),
        },
    ),
    "rejected": (
        ("number", "reason"),
        {
            "zh-CN": (
                "【{{ shop.name }}】您的申请 {{ request.number }} 未通过",
                "很抱歉，您的申请 {{ request.number }} 未通过。\n\n原因：{{ reason }}\n\n"
                "如有异议，您可以在申请页面提交一次申诉{% if shop.hotline %}，或致电 "
                "{{ shop.hotline }}{% endif %}。\n\n{{ link }}",
                "{{ shop.name }}：申请{{ request.number }}未通过，原因：{{ reason }}。可在线申诉。",
            ),
            "en": (
                "[{{ shop.name }}] Request {{ request.number }} was not approved",
                "We are sorry: your request {{ request.number }} was not approved.\n\n"
                "Why: {{ reason }}\n\nYou may appeal once from the request page"
                "{% if shop.hotline %} or call {{ shop.hotline }}{% endif %}.\n\n{{ link }}",
                "{{ shop.name }}: request {{ request.number }} not approved: {{ reason }}. "
                "You may appeal online.",
            ),
        },
    ),
    "ship_goods": (
        ("number", "deadline"),
        {
            "zh-CN": (
                "【{{ shop.name }}】{% if reminder %}提醒：{% endif %}请寄回商品（{{ request.number }}）",
                "{% if reminder %}温馨提醒：您的退货尚未寄出。{% else %}您的申请 {{ request.number }} "
                "已同意，请寄回商品。{% endif %}\n\n退货地址：{{ shop.return_address }}\n\n"
                "{% if next_step %}请在 {{ next_step.due_at }} 前寄出，并在申请页面填写快递公司和"
                "运单号，逾期申请将自动关闭。{% endif %}\n\n{{ link }}",
                "{{ shop.name }}：{% if reminder %}提醒，{% endif %}请在{{ next_step.due_at if "
                "next_step else '' }}前寄回申请{{ request.number }}的商品并填写运单号。",
            ),
            "en": (
                "[{{ shop.name }}] {% if reminder %}Reminder: {% endif %}please send the goods "
                "back ({{ request.number }})",
                "{% if reminder %}A reminder: we have not seen your return yet.{% else %}Your "
                "request {{ request.number }} is approved: please send the goods back.{% endif %}"
                "\n\nReturn address: {{ shop.return_address }}\n\n{% if next_step %}Please ship "
                "by {{ next_step.due_at }} and enter the carrier and tracking number on the "
                "request page; after that the request closes by itself.{% endif %}\n\n{{ link }}",
                "{{ shop.name }}: {% if reminder %}reminder: {% endif %}send the goods of "
                "{{ request.number }} back by {{ next_step.due_at if next_step else '' }} and "
                "enter the tracking number.",
            ),
        },
    ),
    "parcel_received": (
        ("number",),
        {
            "zh-CN": (
                "【{{ shop.name }}】已收到您的退货（{{ request.number }}）",
                "仓库已签收您的退货（{{ request.number }}），接下来进行质检"
                "{% if next_step %}，预计 {{ next_step.due_at }} 前完成{% endif %}。\n\n{{ link }}",
                "{{ shop.name }}：已收到申请{{ request.number }}的退货，正在质检。",
            ),
            "en": (
                "[{{ shop.name }}] We received your return ({{ request.number }})",
                "Our warehouse received your return for {{ request.number }}; inspection comes "
                "next{% if next_step %}, by {{ next_step.due_at }}{% endif %}.\n\n{{ link }}",
                "{{ shop.name }}: return for {{ request.number }} received, being inspected.",
            ),
        },
    ),
    "inspection_result": (
        ("number", "status"),
        {
            "zh-CN": (
                "【{{ shop.name }}】质检{% if passed %}通过{% else %}未通过{% endif %}"
                "（{{ request.number }}）",
                "{% if passed %}您的退货已通过质检，{% if request.type == 'exchange' %}我们将尽快"
                "发出换货{% else %}退款金额 {{ request.amount_approved }}，即将退回{% endif %}。"
                "{% else %}您的退货未通过质检：{{ reason }}。客服将与您联系。{% endif %}"
                "\n\n{{ link }}",
                "{{ shop.name }}：申请{{ request.number }}质检{% if passed %}通过{% else %}未通过"
                "{% endif %}，当前{{ request.status_label }}。",
            ),
            "en": (
                "[{{ shop.name }}] Inspection {% if passed %}passed{% else %}failed{% endif %} "
                "({{ request.number }})",
                "{% if passed %}Your return passed inspection; {% if request.type == 'exchange' "
                "%}the replacement ships soon{% else %}{{ request.amount_approved }} will be "
                "refunded{% endif %}.{% else %}Your return did not pass inspection: {{ reason }}. "
                "Customer service will contact you.{% endif %}\n\n{{ link }}",
                "{{ shop.name }}: inspection of {{ request.number }} {% if passed %}passed"
                "{% else %}failed{% endif %}; now {{ request.status_label }}.",
            ),
        },
    ),
    "refunded": (
        ("number", "amount"),
        {
            "zh-CN": (
                "【{{ shop.name }}】退款 {{ request.amount_refunded }} 已退回（{{ request.number }}）",
                "您的退款 {{ request.amount_refunded }} 已{{ request.route_label }}，"
                "{{ arrival }}。\n\n申请 {{ request.number }} 已完成，感谢您的耐心。\n\n{{ link }}",
                "{{ shop.name }}：申请{{ request.number }}已退款{{ request.amount_refunded }}，"
                "{{ arrival }}。",
            ),
            "en": (
                "[{{ shop.name }}] Refund of {{ request.amount_refunded }} sent "
                "({{ request.number }})",
                "Your refund of {{ request.amount_refunded }} went {{ request.route_label }}; "
                "it {{ arrival }}.\n\nRequest {{ request.number }} is complete. Thank you for "
                "your patience.\n\n{{ link }}",
                "{{ shop.name }}: {{ request.amount_refunded }} refunded for "
                "{{ request.number }}; it {{ arrival }}.",
            ),
        },
    ),
    "refund_failed": (
        ("number",),
        {
            "zh-CN": (
                "【{{ shop.name }}】退款暂未成功（{{ request.number }}）",
                "您的退款（{{ request.number }}）暂未成功：{{ reason }}。\n\n"
                "财务将在 {{ next_step.due_at if next_step else '1 个工作日内' }} 重新处理，"
                "必要时会联系您更换退款方式，您无需重新申请。{% if shop.hotline %}如有疑问请致电 "
                "{{ shop.hotline }}。{% endif %}\n\n{{ link }}",
                "{{ shop.name }}：申请{{ request.number }}退款暂未成功，财务将尽快重新处理，无需重新申请。",
            ),
            "en": (
                "[{{ shop.name }}] Your refund did not go through yet ({{ request.number }})",
                "Your refund for {{ request.number }} did not go through: {{ reason }}.\n\n"
                "Finance will try again by {{ next_step.due_at if next_step else 'the next "
                "business day' }} and may ask you for another refund route; you need not ask "
                "again.{% if shop.hotline %} Questions: {{ shop.hotline }}.{% endif %}\n\n{{ link }}",
                "{{ shop.name }}: refund for {{ request.number }} failed; finance will retry "
                "soon, no need to ask again.",
            ),
        },
    ),
    "exchange_shipped": (
        ("number",),
        {
            "zh-CN": (
                "【{{ shop.name }}】换货已发出（{{ request.number }}）",
                "您的换货{{ request.exchange_name }}已发出，请留意签收。\n\n{{ link }}",
                "{{ shop.name }}：申请{{ request.number }}的换货已发出，请留意签收。",
            ),
            "en": (
                "[{{ shop.name }}] Your replacement is on its way ({{ request.number }})",
                "Your replacement {{ request.exchange_name }} has shipped.\n\n{{ link }}",
                "{{ shop.name }}: the replacement for {{ request.number }} has shipped.",
            ),
        },
    ),
    "appeal_received": (
        ("number", "deadline"),
        {
            "zh-CN": (
                "【{{ shop.name }}】已收到您的申诉（{{ request.number }}）",
                "我们已收到您对申请 {{ request.number }} 的申诉，资深客服将重新审核"
                "{% if next_step %}，预计 {{ next_step.due_at }} 前给您答复{% endif %}。\n\n{{ link }}",
                "{{ shop.name }}：已收到申请{{ request.number }}的申诉，将尽快复核。",
            ),
            "en": (
                "[{{ shop.name }}] We received your appeal ({{ request.number }})",
                "We received your appeal on {{ request.number }}; a senior agent will review it"
                "{% if next_step %} and answer by {{ next_step.due_at }}{% endif %}.\n\n{{ link }}",
                "{{ shop.name }}: appeal on {{ request.number }} received, under review.",
            ),
        },
    ),
    "survey_invitation": (
        ("number", "survey"),
        {
            "zh-CN": (
                "【{{ shop.name }}】邀请您评价本次售后服务",
                "您的申请 {{ request.number }} 已处理完成。花 30 秒告诉我们您是否满意：\n\n"
                "{{ survey.link }}\n\n（链接 {{ survey.expires_at }} 前有效，无需登录。）",
                "{{ shop.name }}：申请{{ request.number }}已完成，邀请您评价：{{ survey.link }}",
            ),
            "en": (
                "[{{ shop.name }}] How did we do?",
                "Your request {{ request.number }} is complete. Tell us in 30 seconds how we "
                "did:\n\n{{ survey.link }}\n\n(The link works until {{ survey.expires_at }}; "
                "no login needed.)",
                "{{ shop.name }}: {{ request.number }} is complete. Rate us: {{ survey.link }}",
            ),
        },
    ),
    "sla_delay": (
        ("number",),
        {
            "zh-CN": (
                "【{{ shop.name }}】抱歉，您的申请处理晚了（{{ request.number }}）",
                "非常抱歉，您的申请 {{ request.number }} 的{{ delay.step_label }}未能在 "
                "{{ delay.due_at }} 前完成。我们已将它升级给主管优先处理。\n\n"
                "{% if shop.hotline %}如需帮助请致电 {{ shop.hotline }}。{% endif %}\n\n{{ link }}",
                "{{ shop.name }}：抱歉，申请{{ request.number }}处理超时，已升级优先处理。",
            ),
            "en": (
                "[{{ shop.name }}] Sorry, we are late with {{ request.number }}",
                "We are sorry: {{ delay.step_label }} for your request {{ request.number }} "
                "was due by {{ delay.due_at }} and is not done yet. A manager is on it now."
                "\n\n{% if shop.hotline %}Need help? Call {{ shop.hotline }}.{% endif %}\n\n{{ link }}",
                "{{ shop.name }}: sorry, {{ request.number }} is late; a manager is on it.",
            ),
        },
    ),
    "login_code": (
        ("code",),
        {
            "zh-CN": (
                "【{{ shop.name }}】您的验证码 {{ code }}",
                "您的验证码是 {{ code }}，{{ valid_minutes }} 分钟内有效。请勿告诉他人；"
                "如非本人操作请忽略。",
                "{{ shop.name }}验证码{{ code }}，{{ valid_minutes }}分钟内有效，请勿告诉他人。",
            ),
            "en": (
                "[{{ shop.name }}] Your code is {{ code }}",
                "Your one-time code is {{ code }}. It works for {{ valid_minutes }} minutes. "
                "Do not share it; if you did not ask for it, ignore this message.",
                "{{ shop.name }} code {{ code }}, valid {{ valid_minutes }} min. Do not share it.",
            ),
        },
    ),
    "staff_escalation": (
        ("number",),
        {
            "zh-CN": (
                "【超时升级】{{ request.number }} {{ delay.step_label }}",
                "退款单 {{ request.number }}（订单 {{ request.order_no }}，{{ request.amount }}）"
                "的「{{ delay.step_label }}」步骤（{{ delay.queue_label }}）已超过时限 "
                "{{ delay.due_at }}，已升级到主管队列。\n\n{{ link }}",
                "超时升级：{{ request.number }} {{ delay.step_label }}",
            ),
            "en": (
                "[Escalated] {{ request.number }}: {{ delay.step_label }}",
                "Request {{ request.number }} (order {{ request.order_no }}, {{ request.amount }}):"
                " {{ delay.step_label }} ({{ delay.queue_label }}) passed its deadline "
                "{{ delay.due_at }} and went to the manager queue.\n\n{{ link }}",
                "Escalated: {{ request.number }} {{ delay.step_label }}",
            ),
        },
    ),
    "staff_complaint": (
        ("number",),
        {
            "zh-CN": (
                "【新投诉】{{ request.number }}（{{ complaint.severity_label }}）",
                "退款单 {{ request.number }}（订单 {{ request.order_no }}）收到一条新投诉，"
                "严重程度：{{ complaint.severity_label }}，来源：{{ complaint.source }}。"
                "已进入资深客服队列。\n\n{{ link }}",
                "新投诉：{{ request.number }}（{{ complaint.severity_label }}）",
            ),
            "en": (
                "[New complaint] {{ request.number }} ({{ complaint.severity_label }})",
                "Request {{ request.number }} (order {{ request.order_no }}) has a new complaint,"
                " severity {{ complaint.severity_label }}, from {{ complaint.source }}. It is in "
                "the senior queue.\n\n{{ link }}",
                "New complaint: {{ request.number }} ({{ complaint.severity_label }})",
            ),
        },
    ),
}

LAYOUT = (
    '<!doctype html><html lang="{{ language }}"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
    '<body style="font-family: sans-serif; color: #1f2933; line-height: 1.6; max-width: 36em">'
    "{body}"
    '<p style="color: #52606d; font-size: 0.875em">{{ shop.name }}'
    "{% if shop.hotline %} · {{ shop.hotline }}{% endif %}</p></body></html>"
)


def html_from_text(text: str) -> str:
    """Paragraphs of the text part as HTML paragraphs inside the layout."""
    for link in ("link", "survey.link"):
        tag = "{{ " + link + " }}"
        text = text.replace(tag, f'<a href="{tag}">{tag}</a>')
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    body = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return LAYOUT.replace("{body}", body)


def shipped_templates() -> list[MessageTemplate]:
    return [
        MessageTemplate(
            notice=notice,
            language=language,
            subject=subject,
            text=text,
            html=html_from_text(text),
            short=short,
            sms_template=None,  # the merchant registers their own with the provider
            sms_params=params,
        )
        for notice, (params, wording) in DEFAULTS.items()
        for language, (subject, text, short) in wording.items()
    ]
