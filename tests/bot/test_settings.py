"""Configuration: every bad value is reported at once, with its variable name, and secrets are not echoed."""
from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError, parse


def test_defaults_run_the_embedded_setup():
    settings = parse({})
    assert settings.database_url.startswith("sqlite+aiosqlite:///") and not settings.safe_mode
    assert settings.base_url == "http://127.0.0.1:8080"


def test_values_are_read_and_converted():
    settings = parse({"WECHAT_TOKEN": "abc123", "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                      "LINLI_PORT": "9000", "LINLI_LOG_LEVEL": "debug", "LINLI_REPLY_BUDGET": "3.5",
                      "LINLI_PUBLIC_URL": "https://linli.example.gov.cn/", "LINLI_DELIVERY_RATE": "50"})
    assert settings.safe_mode and settings.port == 9000 and settings.log_level == "DEBUG"
    assert settings.reply_budget == 3.5 and settings.base_url == "https://linli.example.gov.cn"
    assert settings.extra["LINLI_DELIVERY_RATE"] == "50"


def test_every_bad_value_is_named_once():
    with pytest.raises(SettingsError) as err:
        parse({"WECHAT_TOKEN": "a b", "WECHAT_APPID": "12345", "WECHAT_AES_KEY": "short-secret-key",
               "LINLI_DATABASE_URL": "mysql://x", "LINLI_PORT": "99999", "LINLI_LOG_LEVEL": "LOUD",
               "LINLI_REPLY_BUDGET": "soon", "LINLI_WECHAT_API_BASE": "ftp://x"})
    text = str(err.value)
    for name in ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_AES_KEY", "LINLI_DATABASE_URL", "LINLI_PORT",
                 "LINLI_LOG_LEVEL", "LINLI_REPLY_BUDGET", "LINLI_WECHAT_API_BASE"):
        assert name in text
    assert len(err.value.problems) == 8
    assert "short-secret-key" not in text  # the AES key is masked


def test_dotenv_is_read_and_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("WECHAT_TOKEN=fromfile\nLINLI_PORT=8100\n", encoding="utf-8")
    settings = Settings.from_env({"LINLI_PORT": "8200"}, dotenv=env_file)
    assert settings.wechat_token == "fromfile" and settings.port == 8200
