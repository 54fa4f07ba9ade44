"""The baseline: a bare aiohttp app that answers `success` to every POST (run by bench/webhook.py)."""
import sys

from aiohttp import web


async def ok(_request):
    return web.Response(text="success")


app = web.Application()
app.router.add_post("/wechat", ok)
app.router.add_get("/healthz", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
