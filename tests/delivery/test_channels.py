"""Pure parts: the 48-hour window, channel order, payloads, configuration."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.delivery import channels as ch
from bot.delivery.config import CategoryChannels, DeliveryConfig
from bot.settings import SettingsError
from bot.settings import parse as parse_settings

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("age_hours, used, reserve, expected", [
    (0, 0, 0, True), (47.99, 4, 0, True), (48, 0, 0, False), (1, 5, 0, False), (1, 4, 1, False), (1, 3, 1, True),
])
def test_window(age_hours, used, reserve, expected):
    assert ch.window_open(NOW - timedelta(hours=age_hours), used, NOW, reserve) is expected
    assert ch.window_open(None, 0, NOW) is False


def test_channel_order_and_fallbacks():
    both = CategoryChannels(subscribe="S", template="T")
    assert ch.choose(both, window=True) == "custom"
    assert ch.choose(both, window=False) == "subscribe"
    assert ch.choose(both, window=True, exclude=frozenset({"custom", "subscribe"})) == "template"
    assert ch.choose(CategoryChannels(), window=False) is None
    assert ch.choose(CategoryChannels(), window=True) == "custom"


def test_payloads():
    content = ch.Content("正文" * 30, title="关于三号楼电梯更换的公示（第二次征求意见稿）", link="https://x.invalid/n/1")
    assert ch.custom_text(content).startswith("【关于三号楼") and ch.custom_text(content).endswith("n/1")
    data = ch.template_data(CategoryChannels(fields={"thing1": "title", "thing2": "summary", "time3": "date",
                                                     "url": "link"}), content, "notice", NOW)
    assert len(data["thing1"]) == 20 and data["thing1"].endswith("…")
    assert data["url"] == "https://x.invalid/n/1" and data["time3"].startswith("2026-05-01")


def test_configuration():
    config = DeliveryConfig.from_settings(parse_settings({
        "LINLI_DELIVERY_RATE": "80", "LINLI_DELIVERY_TEMPLATE_NOTICE": "T1", "LINLI_DELIVERY_SUBSCRIBE_SURVEY": "S1",
        "LINLI_DELIVERY_FIELDS_NOTICE": "thing1=title,time2=date"}))
    assert config.rate == 80 and config.for_category("notice").template == "T1"
    assert config.for_category("notice").fields == {"thing1": "title", "time2": "date"}
    assert config.for_category("survey").subscribe == "S1" and config.for_category("meeting").template is None
    assert config.retry_delay(1) == 2 and config.retry_delay(20) == 300
    with pytest.raises(SettingsError) as err:
        parse_settings({"LINLI_DELIVERY_RATE": "fast", "LINLI_DELIVERY_BATCH": "0",
                        "LINLI_DELIVERY_FIELDS_MEETING": "a=b"})
    assert len(err.value.problems) == 3 and "LINLI_DELIVERY_RATE=fast" in str(err.value)
