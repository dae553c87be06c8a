"""Word segmentation per script, and which language a message or conversation is in."""

from safemig.language import Turn, conversation_language, is_decisive, script_language
from safemig.nlu.segment import Names, segment_words


def words(text: str) -> list[str]:
    return [w.text for w in segment_words(text)]


def test_khmer_lao_burmese_sentences_are_split_into_words() -> None:
    assert words("ខ្ញុំចង់ទៅធ្វើការនៅថៃ") == ["ខ្ញុំ", "ចង់", "ទៅ", "ធ្វើការ", "នៅ", "ថៃ"]
    assert words("ຂ້ອຍຢາກໄປເຮັດວຽກຢູ່ໄທ") == ["ຂ້ອຍ", "ຢາກ", "ໄປ", "ເຮັດວຽກ", "ຢູ່", "ໄທ"]
    assert len(words("ကျွန်တော်ထိုင်းကိုအလုပ်သွားလုပ်ချင်တယ်")) >= 4


def test_offsets_point_at_the_words() -> None:
    text = "go ថៃ 5000 baht"
    for word in segment_words(text):
        assert text[word.start:word.end] == word.text


def test_latin_directly_before_burmese_is_split_at_the_script_change() -> None:
    assert words("japanကို") == ["japan", "ကို"]


def test_lao_country_names_come_apart_from_the_word_for_country() -> None:
    """laonlp keeps ປະເທດໄທ whole; the extractor must see ໄທ to tag Thailand."""
    assert words("ໄປເຮັດວຽກປະເທດໄທ") == ["ໄປ", "ເຮັດວຽກ", "ປະເທດ", "ໄທ"]
    assert words("ປະເທດ") == ["ປະເທດ"]


def test_thai_script_is_split_into_words() -> None:
    """Many Lao users type Thai: a whole Thai sentence is words, and the country is one."""
    assert words("เอกสารไปทำงานไทยมีอะไรบ้างครับ") == [
        "เอกสาร", "ไป", "ทำงาน", "ไทย", "มี", "อะไร", "บ้าง", "ครับ"]
    assert words("ໄປເຮັດວຽກประเทศไทย เกาหลี") == ["ໄປ", "ເຮັດວຽກ", "ประเทศ", "ไทย", "เกาหลี"]


def test_other_scripts_keep_their_combining_marks() -> None:
    """Combining marks stay on their letters in scripts without a segmenter."""
    assert words("cafe\u0301 ok") == ["cafe\u0301", "ok"]
    assert words("Việt Nam") == ["Việt", "Nam"]
    assert words("5000baht taiwan1ថ្ងៃ") == ["5000", "baht", "taiwan", "1", "ថ្ងៃ"]


NAMES = Names(frozenset({"ម៉ាឡេស៊ី", "ជប៉ុន", "ကာတာ", "ဆော်ဒီ", "ស្រុកខ្មែរ", "ထိုင်း"}))


def test_country_names_glued_to_a_word_come_apart() -> None:
    """khmercut glues the destination to the verb: ធ្វើការម៉ាឡេស៊ី (work-Malaysia)."""
    assert words("ទៅធ្វើការម៉ាឡេស៊ី") == ["ទៅ", "ធ្វើការម៉ាឡេស៊ី"]  # the segmenter alone
    assert [w.text for w in segment_words("ទៅធ្វើការម៉ាឡេស៊ី", NAMES)] == ["ទៅ", "ធ្វើការ",
                                                                       "ម៉ាឡេស៊ី"]


def test_country_names_cut_into_pieces_are_joined() -> None:
    """burmesenlp cuts Qatar in two, and Saudi across its particle."""
    assert words("ကာတာ ကို") == ["ကာ", "တာ", "ကို"]
    assert [w.text for w in segment_words("ကာတာ ကို", NAMES)] == ["ကာတာ", "ကို"]
    text = "ဆော်ဒီမှာ အလုပ်"
    mended = segment_words(text, NAMES)
    assert [w.text for w in mended] == ["ဆော်ဒီ", "မှာ", "အလုပ်"]
    assert all(text[w.start:w.end] == w.text for w in mended)


def test_mending_leaves_other_words_alone() -> None:
    for text in ("ខ្ញុំនៅម៉ាឡេស៊ី ចង់បានលេខស្ថានទូត", "ចង់ត្រឡប់មកស្រុកខ្មែរវិញ",
                 "ကျွန်တော်ထိုင်းကိုအလုပ်သွားလုပ်ချင်တယ်", "ມື້ນີ້ຂ້ອຍໄປຕະຫຼາດ"):
        mended = [w.text for w in segment_words(text, NAMES)]
        assert mended == words(text), text  # ស្រុកខ្មែរ, with its country word, is no name


def test_burmese_spaced_by_syllable_gives_the_words_written_together() -> None:
    """ထိုင်း သွား အလုပ် လုပ် ချင် တယ်: the spaces go before segmenting, and each word
    still points at its letters in the text as typed."""
    text = "ထိုင်း သွား အ လုပ် လုပ် ချင် တယ် ကာ တာ job"
    spaced = segment_words(text, NAMES)
    assert [w.text for w in spaced] == [w.text for w in segment_words(
        "ထိုင်းသွားအလုပ်လုပ်ချင်တယ်ကာတာ job", NAMES)]
    assert "ကာတာ" in [w.text for w in spaced]
    for word in spaced:
        assert text[word.start:word.end].replace(" ", "") == word.text


def test_spaces_between_longer_pieces_stay_word_boundaries() -> None:
    """Burmese typed word by word keeps the writer's boundaries; Khmer and Lao always do."""
    assert words("ဂျပန်နိုင်ငံ အလုပ်သွားလုပ်") == words("ဂျပန်နိုင်ငံ") + words("အလုပ်သွားလုပ်")
    assert words("ခ ဂျပန်နိုင်ငံ အလုပ်သွားလုပ်")[0] == "ခ"
    assert words("ខ្ញុំ ចង់") == ["ខ្ញុំ", "ចង់"]
    assert words("ໄປ ໄທ") == ["ໄປ", "ໄທ"]


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
