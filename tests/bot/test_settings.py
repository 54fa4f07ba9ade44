"""Configuration: every bad value is reported at once, with its variable name, and secrets are not echoed."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.settings import VARIABLES, Settings, SettingsError, markdown_table, parse


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
    assert settings.delivery_rate == 50.0


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


def test_a_boolean_has_one_meaning_everywhere():
    for word, meaning in (("1", True), ("on", True), ("YES", True), ("0", False), ("off", False), ("no", False)):
        settings = parse({"LINLI_DELIVERY_IN_WEB": word, "LINLI_NOTICE_FOUR_EYES": word,
                          "LINLI_CONSOLE_TRUST_PROXY": word})
        assert settings.delivery_in_web is settings.notice_four_eyes is settings.console_trust_proxy is meaning
    with pytest.raises(SettingsError) as err:
        parse({"LINLI_DELIVERY_IN_WEB": "maybe", "LINLI_NOTICE_FOUR_EYES": "2"})
    assert len(err.value.problems) == 2


def test_families_collect_their_suffixes():
    settings = parse({"LINLI_DELIVERY_TEMPLATE_NOTICE": "T1", "LINLI_DELIVERY_FIELDS_MEETING": "thing1=title",
                      "LINLI_TICKET_RESOLVE_DAYS_REPAIR": "community:3",
                      "LINLI_SCORECARD_WEIGHTS_PROPERTY": "survey:50"})
    assert settings.delivery_template == {"NOTICE": "T1"} and settings.delivery_fields == {"MEETING": "thing1=title"}
    assert settings.ticket_resolve_days_by_category == {"REPAIR": "community:3"}
    assert settings.scorecard_weights == {"PROPERTY": "survey:50"}
    with pytest.raises(SettingsError, match="LINLI_DELIVERY_FIELDS_SURVEY"):
        parse({"LINLI_DELIVERY_FIELDS_SURVEY": "thing1=nowhere"})


def test_bad_retry_settings_stop_the_start_instead_of_falling_back():
    with pytest.raises(SettingsError) as err:
        parse({"LINLI_WECHAT_RETRY_ATTEMPTS": "many", "LINLI_WECHAT_RETRY_BASE_DELAY": "-1"})
    assert len(err.value.problems) == 2


def test_an_unknown_linli_variable_is_reported_as_a_likely_typo(caplog):
    with caplog.at_level(logging.WARNING, logger="linli.settings"):
        parse({"LINLI_TICKET_SIGN_DAY": "2"})
    assert "LINLI_TICKET_SIGN_DAY" in caplog.text


def test_with_env_goes_through_the_same_checks():
    assert Settings().with_env({"LINLI_NOTICE_PAGE_TTL": "0"}).notice_page_ttl == 0
    with pytest.raises(SettingsError):
        Settings().with_env({"LINLI_NOTICE_PAGE_TTL": "301"})


def test_the_readme_table_is_generated_from_the_declarations():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "README 的配置表与 bot/settings.py 不一致：用 markdown_table() 重新生成"
    documented = {v.env for v in VARIABLES}
    assert len(documented) == len(VARIABLES)  # each variable declared once
