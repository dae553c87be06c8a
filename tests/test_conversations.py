"""Conversations through the real REST channel: corridor answers, asking for the country,
the broker red-flag check in every language, fallbacks that offer a hotline."""

import uuid

import pytest
from conftest import Stack

from safemig.config import PROJECT_ROOT
from safemig.i18n import Catalogs
from safemig.language import script_language
from safemig.render import Renderer

RENDER = Renderer(PROJECT_ROOT, Catalogs(PROJECT_ROOT / "locales"))
LANGS = ("en", "km", "lo", "my")


def user() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def expected(name: str, lang: str, **variables: str) -> str:
    return RENDER.render(name, lang, variables)["text"]


def test_costs_cambodia_to_thailand_is_corridor_specific(stack: Stack) -> None:
    meta = {"language": "en"}
    replies = stack.send(user(), '/ask_costs{"country": "TH"}', meta)
    # Without an origin the language decides: English has none, so the destination answer.
    assert expected("utter_ask_costs__TH", "en") in texts(replies)
    sender = user()
    stack.send(sender, "ជំរាបសួរ")
    replies = stack.send(sender, '/ask_costs{"country": "TH"}')
    assert expected("utter_ask_costs__KH_TH", "km") in texts(replies)


def test_legal_channels_without_country_asks_which_country_with_buttons(stack: Stack) -> None:
    sender = user()
    replies = stack.send(sender, "/ask_legal_channels", {"language": "lo"})
    asked = [r for r in replies if r.get("buttons")]
    assert asked and any('"country": "TH"' in b["payload"] for b in asked[0]["buttons"])
    assert all(b["payload"].startswith("/ask_legal_channels") for b in asked[0]["buttons"])
    replies = stack.send(sender, asked[0]["buttons"][0]["payload"], {"language": "lo"})
    assert expected("utter_ask_legal_channels__LA_TH", "lo") in texts(replies)


@pytest.mark.parametrize("origin,dest,lang", [("KH", "MY", "km"), ("KH", "KR", "km"),
                                              ("MM", "TH", "my"), ("MM", "MY", "my"),
                                              ("MM", "SG", "my")])
def test_each_corridor_has_its_own_answer(stack: Stack, origin: str, dest: str,
                                          lang: str) -> None:
    sender = user()
    payload = ('/ask_legal_channels{"country": "' + dest + '"}')
    replies = stack.send(sender, payload, {"language": lang})
    assert expected(f"utter_ask_legal_channels__{origin}_{dest}", lang).split("\n")[0] in texts(
        replies)


@pytest.mark.parametrize("lang", LANGS)
def test_red_flag_check_end_to_end(stack: Stack, lang: str) -> None:
    sender = user()
    meta = {"language": lang}
    replies = stack.send(sender, "/start_red_flag_check", meta)
    assert expected("utter_ask_rf_fee", lang) in texts(replies)
    answers = ["/affirm", "/affirm"] + ["/deny"] * 6  # fee + passport kept: high risk
    for answer in answers:
        replies = stack.send(sender, answer, meta)
    final = texts(replies)
    assert expected("utter_red_flag_verdict_high", lang, flags="2").split("\n")[0] in final
    assert any(b["payload"] == "/report_abuse" for r in replies for b in r.get("buttons", []))
    if lang != "en":
        assert script_language(final) == lang


def test_red_flag_check_answered_with_thumbs(stack: Stack) -> None:
    """People answer yes/no questions with 👍 and 👎; the check understands them as typed."""
    sender = user()
    stack.send(sender, "/start_red_flag_check")
    for answer in ["👍", "👍🏽"] + ["👎"] * 6:  # fee + passport kept: high risk
        replies = stack.send(sender, answer)
    final = texts(replies)
    assert expected("utter_red_flag_verdict_high", "en", flags="2").split("\n")[0] in final


def test_red_flag_check_with_no_warning_signs_says_low_risk(stack: Stack) -> None:
    sender = user()
    stack.send(sender, "/start_red_flag_check")
    for _ in range(8):
        replies = stack.send(sender, "/deny")
    assert expected("utter_red_flag_verdict_low", "en").split("\n")[0] in texts(replies)


@pytest.mark.parametrize("text", ["what is the weather on mars", "12345", "🙂🙂🙂", "asdkjh qwpoe"])
def test_nonsense_gets_a_fallback_with_a_hotline_never_a_wrong_answer(stack: Stack,
                                                                      text: str) -> None:
    parsed = stack.parse(text)
    assert parsed["intent"]["name"] in ("nlu_fallback", "out_of_scope")
    replies = stack.send(user(), text)
    assert "☎" in texts(replies)


@pytest.mark.parametrize("text", ["ဝေါ့ပါမစ် သက်တမ်းကုန်ခါနီးပြီ ဘယ်လိုတိုးရမလဲ",
                                  "တရားဝင်နိုင်ငံခြားသွားနည်း ပြောပြပေးပါ",
                                  "ဝန်ကြီးဌာနက အေဂျင်စီစာရင်း ဘယ်မှာရလဲ"])
def test_burmese_typed_with_zero_for_wa_is_understood_the_same(stack: Stack, text: str) -> None:
    typed = text.replace("ဝ", "၀")  # digit zero for the letter wa, as many people type it
    right, mistyped = stack.parse(text), stack.parse(typed)
    assert mistyped["intent"] == right["intent"]
    assert right["intent"]["name"] not in ("nlu_fallback", "out_of_scope")


def test_change_language_request_switches_and_tells_the_front_end(stack: Stack) -> None:
    sender = user()
    replies = stack.send(sender, '/change_language{"language": "my"}')
    assert any((r.get("custom") or {}).get("set_language") == "my" for r in replies)
    replies = stack.send(sender, "/help")
    assert script_language(texts(replies)) == "my"
