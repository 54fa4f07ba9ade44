"""The shipped deployment (docker-compose.yml, deploy/nginx.conf, deploy/new-env.sh): no published secret, nginx
replaces X-Forwarded-For with the address it saw, and linli believes that header from nginx's fixed address only."""
from __future__ import annotations

import ipaddress
import re
import subprocess
from pathlib import Path

import yaml

from bot.production import default_secret_problems
from bot.settings import parse

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def _default(value: str) -> str:
    return DEFAULT.sub(lambda m: m.group(2), value)


def test_compose_ships_no_secret():
    env = _compose()["x-linli"]["environment"]
    for name in ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_SECRET"):
        assert re.fullmatch(r"\$\{%s:\?.+\}" % name, env[name]), env[name]  # required, no default
    assert "${LINLI_DB_PASSWORD:?" in env["LINLI_DATABASE_URL"]
    assert "${LINLI_DB_PASSWORD:?" in _compose()["services"]["db"]["environment"]["POSTGRES_PASSWORD"]


def test_linli_trusts_exactly_the_nginx_container():
    compose = _compose()
    trusted = _default(compose["x-linli"]["environment"]["LINLI_TRUSTED_PROXIES"])
    nginx = _default(compose["services"]["nginx"]["networks"]["default"]["ipv4_address"])
    subnet = _default(compose["networks"]["default"]["ipam"]["config"][0]["subnet"])
    assert trusted == nginx and ipaddress.ip_address(nginx) in ipaddress.ip_network(subnet)
    assert parse({"LINLI_TRUSTED_PROXIES": trusted}).proxy_networks == (ipaddress.ip_network(f"{nginx}/32"),)
    conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # replaced, never appended to the client's
    assert "proxy_set_header X-Real-IP $remote_addr;" in conf
    assert "$proxy_add_x_forwarded_for" not in conf


def test_new_env_makes_secrets_production_accepts():
    out = subprocess.run(["sh", str(ROOT / "deploy" / "new-env.sh")], capture_output=True, text=True, check=True)
    values = dict(line.split("=", 1) for line in out.stdout.splitlines() if line and not line.startswith("#"))
    again = subprocess.run(["sh", str(ROOT / "deploy" / "new-env.sh")], capture_output=True, text=True).stdout
    assert values["WECHAT_TOKEN"] not in again  # fresh every time
    url = f"postgresql+asyncpg://linli:{values.pop('LINLI_DB_PASSWORD')}@db:5432/linli"
    settings = parse({**values, "LINLI_DATABASE_URL": url, "LINLI_WECHAT_API_BASE": "http://sandbox:8081"})
    assert settings.production and default_secret_problems(settings) == []


def test_nginx_hides_the_operator_endpoints():
    conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    hidden = re.search(r"location ~ \^/\(([a-z|]+)\)\$ \{\s*return 404;", conf)
    assert hidden and set(hidden.group(1).split("|")) == {"metrics", "healthz", "readyz"}
    env = _compose()["x-linli"]["environment"]
    assert _default(env["LINLI_METRICS_TOKEN"]) == "" and _default(env["WECHAT_ENCRYPT_MODE"]) == ""
