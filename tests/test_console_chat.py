"""The console chat, round trip through the real Rasa server and action server."""

import subprocess
import sys

from conftest import Stack

from safemig.config import PROJECT_ROOT
from safemig.hotlines import country_name
from safemig.i18n import Catalogs
from safemig.language import script_language
from safemig.render import Renderer


def renderer() -> Renderer:
    return Renderer(PROJECT_ROOT, Catalogs(PROJECT_ROOT / "locales"))


def chat(stack: Stack, lines: list[str]) -> str:
    result = subprocess.run([sys.executable, "-m", "safemig.cli", "chat", "--attach"],
                            input="\n".join(lines) + "\n", capture_output=True, text=True,
                            env=stack.env, cwd=PROJECT_ROOT, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def bot_lines(output: str) -> list[str]:
    return [line[5:] for line in output.splitlines() if line.startswith("bot> ")]


def test_greetings_are_answered_in_the_users_language(stack: Stack) -> None:
    for greeting, lang in [("hi", "en"), ("ជំរាបសួរ", "km"), ("ສະບາຍດີ", "lo"),
                           ("မင်္ဂလာပါ", "my")]:
        answer = bot_lines(chat(stack, [greeting]))
        expected = renderer().render("utter_greet", lang)["text"].splitlines()[0]
        assert answer and answer[0] == expected, (greeting, answer)
        assert script_language(answer[0]) == lang


def test_hotline_in_khmer_gives_khmer_text_and_cambodian_numbers(stack: Stack) -> None:
    output = chat(stack, ["ខ្ញុំចង់បានលេខទូរស័ព្ទជំនួយ hotline"])
    answer = "\n".join(bot_lines(output))
    assert "1288" in answer and "117" in answer
    assert country_name("KH", "km") in answer
    assert script_language(answer) == "km"


def test_buttons_are_numbered_and_pressing_a_number_sends_the_payload(stack: Stack) -> None:
    output = chat(stack, ["hello", "4"])  # 4 = "Hotlines" on the greeting menu
    assert "[4]" in output
    assert "☎" in output


def test_red_flag_check_in_the_console_in_every_language(stack: Stack) -> None:
    for greeting, lang in [("hi", "en"), ("ជំរាបសួរ", "km"), ("ສະບາຍດີ", "lo"),
                           ("မင်္ဂလာပါ", "my")]:
        lines = [greeting, "/start_red_flag_check", "/affirm", "/affirm"] + ["/deny"] * 6
        answer = "\n".join(bot_lines(chat(stack, lines)))
        verdict = renderer().render("utter_red_flag_verdict_high", lang, {"flags": "2"})
        assert verdict["text"].splitlines()[0] in answer, lang
