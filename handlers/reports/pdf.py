"""The report as a PDF: the print page rendered by the headless Chromium the project already uses for its
browser tests (`LINLI_REPORT_CHROMIUM`, default /usr/bin/chromium), from a file in a private temporary folder,
with a throw-away profile and every background network feature off — the page itself has no external asset
(styles and SVG charts are inline), so nothing leaves the machine.
"""
from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

from bot.errors import DomainError

log = logging.getLogger("linli.reports")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
         "--no-default-browser-check", "--disable-dev-shm-usage", "--no-pdf-header-footer")


class PdfError(DomainError):
    """The PDF could not be made (no browser, a crash, too slow): 503, the HTML report still works."""

    status = 503
    code = "pdf_unavailable"


async def html_to_pdf(html: str, *, chromium: str = "/usr/bin/chromium", timeout: float = 60.0) -> bytes:
    """PDF bytes of a standalone HTML page. Raises PdfError (Chinese message) when Chromium cannot make it."""
    if not Path(chromium).is_file():
        raise PdfError(f"无法生成 PDF：找不到 Chromium（{chromium}），请安装 chromium 或设置 LINLI_REPORT_CHROMIUM；"
                       "可先用打印版页面打印。")
    with tempfile.TemporaryDirectory(prefix="linli-report-") as tmp:
        folder = Path(tmp)
        source, target = folder / "report.html", folder / "report.pdf"
        source.write_text(html, encoding="utf-8")
        proc = await asyncio.create_subprocess_exec(
            chromium, *FLAGS, f"--user-data-dir={folder / 'profile'}", f"--print-to-pdf={target}", source.as_uri(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            _, err = await asyncio.wait_for(proc.communicate(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise PdfError(f"生成 PDF 超时（{timeout:g} 秒），请稍后再试或使用打印版页面。") from None
        if proc.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            log.warning("chromium print-to-pdf failed (exit %s): %s", proc.returncode,
                        err[-500:].decode(errors="replace"))
            raise PdfError("生成 PDF 失败，请稍后再试或使用打印版页面。")
        return target.read_bytes()
