"""Word segmentation per script, and which language a message or conversation is in."""

from safemig.language import Turn, conversation_language, is_decisive, script_language
from safemig.nlu.segment import segment_words


def words(text: str) -> list[str]:
    return [w for w, _ in segment_words(text)]


def test_khmer_lao_burmese_sentences_are_split_into_words() -> None:
    assert words("ខ្ញុំចង់ទៅធ្វើការនៅថៃ") == ["ខ្ញុំ", "ចង់", "ទៅ", "ធ្វើការ", "នៅ", "ថៃ"]
    assert words("ຂ້ອຍຢາກໄປເຮັດວຽກຢູ່ໄທ") == ["ຂ້ອຍ", "ຢາກ", "ໄປ", "ເຮັດວຽກ", "ຢູ່", "ໄທ"]
    assert len(words("ကျွန်တော်ထိုင်းကိုအလုပ်သွားလုပ်ချင်တယ်")) >= 4


def test_offsets_point_at_the_words() -> None:
    text = "go ថៃ 5000 baht"
    for word, start in segment_words(text):
        assert text[start:start + len(word)] == word


def test_latin_directly_before_burmese_is_split_at_the_script_change() -> None:
    assert words("japanကို") == ["japan", "ကို"]


def test_script_decides_the_language() -> None:
    assert script_language("ជំរាបសួរ") == "km"
    assert script_language("ສະບາຍດີ") == "lo"
    assert script_language("မင်္ဂလာပါ") == "my"
    assert script_language("မဂၤလာပါ") == "my"  # Zawgyi uses the same block
    assert script_language("hi") == "en"
    assert script_language("12345 🙂") is None
    assert script_language("passport ប៉ាស្ព័រ ធ្វើយ៉ាងម៉េច") == "km"  # mixed: majority wins


def test_latin_text_is_not_decisive() -> None:
    assert not is_decisive("ok")
    assert is_decisive("ສະບາຍດີ")


def test_conversation_language_follows_newest_signal() -> None:
    turns = [Turn("ok"), Turn("ជំរាបសួរ")]  # newest first
    assert conversation_language(turns) == "km"
    explicit = [Turn("hello", metadata={"language": "lo"})]
    assert conversation_language(explicit) == "lo"
    change = [Turn("speak burmese", intent="change_language",
                   entities=[{"entity": "language", "value": "my"}])]
    assert conversation_language(change) == "my"
    assert conversation_language([Turn("hi")]) == "en"
    assert conversation_language([]) == "en"
