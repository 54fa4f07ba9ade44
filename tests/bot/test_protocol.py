"""The wire format, without a server: signatures, the official sample vectors, parsing, rendering."""
from __future__ import annotations

import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from bot.protocol import Codec, ProtocolError, check_signature, escape_cdata, parse, signature
from bot.simulator import event_xml, message_xml, text_xml
from bot.types import Reply, split_text

# Tencent's sample for official accounts (WXBizMsgCrypt): token, key, AppID, timestamp, nonce, msg_signature.
SAMPLE = dict(token="spamtest", key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", appid="wx2c2769f8efd9abc2",
              timestamp="1409735669", nonce="1320562132", msg_signature="5d197aaffba7e9b25a30732f161a50dee96bd5fa")
SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9"
    "FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt"
    "+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h"
    "0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)


def test_signature_matches_the_documented_example():
    assert signature("AAAAA", "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    assert check_signature("AAAAA", "899cf89e464efb63f54ddac96b0a0a235f53aa78", "1714037059", "486452656")
    assert not check_signature("AAAAA", "899cf89e464efb63f54ddac96b0a0a235f53aa79", "1714037059", "486452656")


def _sample_query(**over):
    q = dict(signature=signature(SAMPLE["token"], SAMPLE["timestamp"], SAMPLE["nonce"]), timestamp=SAMPLE["timestamp"],
             nonce=SAMPLE["nonce"], encrypt_type="aes", msg_signature=SAMPLE["msg_signature"])
    q.update(over)
    return q


def test_official_safe_mode_sample_decrypts():
    codec = Codec(SAMPLE["token"], SAMPLE["appid"], [SAMPLE["key"]])
    body = f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
    envelope = codec.open(body.encode(), _sample_query())
    assert envelope.message.content == "abcdteT"
    assert envelope.message.openid == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert envelope.message.msg_id == "6054768590064713728"
    assert envelope.crypto is not None


def test_official_sample_with_a_wrong_msg_signature_is_refused():
    codec = Codec(SAMPLE["token"], SAMPLE["appid"], [SAMPLE["key"]])
    body = f"<xml><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
    with pytest.raises(ProtocolError) as err:
        codec.open(body.encode(), _sample_query(msg_signature="0" * 40))
    assert err.value.status == 403


def test_rotated_key_falls_back_to_the_previous_one():
    codec = Codec(SAMPLE["token"], SAMPLE["appid"], ["ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut", SAMPLE["key"]])
    body = f"<xml><Encrypt><![CDATA[{SAMPLE_ENCRYPT}]]></Encrypt></xml>"
    envelope = codec.open(body.encode(), _sample_query())
    assert envelope.message.content == "abcdteT"
    assert envelope.crypto.key == WeChatCrypto(SAMPLE["token"], SAMPLE["key"], SAMPLE["appid"]).key


def test_events_parse_with_scene_and_dedupe_key():
    scan = parse(event_xml("o1", "subscribe", "qrscene_HX-YYL-YJ", create_time=1700000000))
    assert (scan.kind, scan.event, scan.event_key) == ("event", "subscribe_scan", "HX-YYL-YJ")
    again = parse(event_xml("o1", "subscribe", "qrscene_HX-YYL-YJ", create_time=1700000000))
    later = parse(event_xml("o1", "subscribe", "qrscene_HX-YYL-YJ", create_time=1700000001))
    assert scan.dedupe_key == again.dedupe_key != later.dedupe_key
    text = parse(text_xml("o1", "你好", msg_id=42))
    assert text.dedupe_key == parse(text_xml("o2", "别的", msg_id=42)).dedupe_key  # MsgId is global


@pytest.mark.parametrize("body", [
    "<xml><FromUserName>o</FromUserName>",  # truncated
    "not xml at all",
    "<other><FromUserName>o</FromUserName><MsgType>text</MsgType></other>",  # wrong root
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    "<xml><FromUserName>&lol2;</FromUserName><MsgType>text</MsgType></xml>",  # entity expansion
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<xml><FromUserName>&xxe;</FromUserName><MsgType>text</MsgType></xml>",  # external entity
    "<xml><MsgType>text</MsgType></xml>",  # no sender
])
def test_hostile_or_malformed_xml_is_a_400(body):
    with pytest.raises(ProtocolError) as err:
        parse(body)
    assert err.value.status == 400


def test_cdata_breakout_is_neutralised():
    codec = Codec("tok", "wx5a1d0c0ffee0b0b0", [])
    message = parse(text_xml("o1", "hi"))
    evil = "abc]]><MsgType><![CDATA[image]]></MsgType><Content><![CDATA[x"
    xml = codec.render(Reply(evil), message, None)
    fields = xmltodict.parse(xml)["xml"]
    assert fields["MsgType"] == "text"
    assert fields["Content"] == evil
    assert escape_cdata("]]>") != "]]>"


def test_unknown_types_parse_as_their_kind():
    video = parse(message_xml("o1", "video", {"MediaId": "m", "ThumbMediaId": "t"}))
    assert video.kind == "video"
    weird = parse(message_xml("o1", "hologram", {"Foo": "bar"}))
    assert weird.kind == "unknown"


def test_split_text_respects_the_byte_limit():
    text = "\n".join("第%d段：" % i + "物业服务" * 60 for i in range(20))
    chunks = split_text(text, 2000)
    assert all(len(c.encode()) <= 2000 for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")
    assert split_text("短") == ["短"]
