"""The protocol ceiling: aiohttp + wechatpy checking the signature, parsing each message and echoing its text,
with no database (run by bench/webhook.py beside linli, in the same invocation, so their ratio is printed).

    python bench/echo_app.py PORT TOKEN APPID [AES_KEY]      (with AES_KEY: safe mode, as WeChat's 安全模式)
"""
import sys

from aiohttp import web
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

PORT, TOKEN, APPID = int(sys.argv[1]), sys.argv[2], sys.argv[3]
CRYPTO = WeChatCrypto(TOKEN, sys.argv[4], APPID) if len(sys.argv) > 4 else None


async def echo(request: web.Request) -> web.Response:
    q = request.query
    body = await request.read()
    try:
        check_signature(TOKEN, q["signature"], q["timestamp"], q["nonce"])
        if CRYPTO is not None:
            body = CRYPTO.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
    except (KeyError, InvalidSignatureException):
        return web.Response(status=403, text="forbidden")
    message = parse_message(body)
    xml = create_reply(getattr(message, "content", "") or "收到", message).render()
    if CRYPTO is not None:
        xml = CRYPTO.encrypt_message(xml, q["nonce"], q["timestamp"])
    return web.Response(text=xml, content_type="application/xml")


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


app = web.Application()
app.router.add_post("/wechat", echo)
app.router.add_get("/healthz", healthz)
web.run_app(app, host="127.0.0.1", port=PORT, print=None, access_log=None)
