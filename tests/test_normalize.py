"""Normalization steps: each fixes one way the same word arrives in different code points."""

from safemig.nlu import normalize as norm


def test_zero_width_characters_are_removed() -> None:
    assert norm.strip_invisible("ខ្ញុំ\u200bចង់\u200bទៅ") == "ខ្ញុំចង់ទៅ"
    assert norm.strip_invisible("a\ufeffb\u200cc\u200d") == "abc"


def test_lao_compatibility_letters_are_decomposed() -> None:
    # ໜ (U+0EDC) and ຳ (U+0EB3) are written ຫນ and ໍາ by other keyboards.
    assert norm.strip_invisible("ໜ້າ") == norm.strip_invisible("ຫນ້າ")
    assert norm.strip_invisible("ຄຳ") == norm.strip_invisible("ຄໍາ")


def test_khmer_character_order_is_canonical() -> None:
    assert norm.khmer_order("ស្រ្តី") == "ស្ត្រី"
    assert norm.khmer_order("ខ្ញំុ") == "ខ្ញុំ"
    assert norm.khmer_order("hello") == "hello"


def test_zawgyi_is_converted_and_unicode_is_left_alone() -> None:
    unicode_text = "မင်္ဂလာပါ ပတ်စ်ပို့ ဘယ်လိုလုပ်ရမလဲ"
    zawgyi_text = "မဂၤလာပါ ပတ္စ္ပို႔ ဘယ္လိုလုပ္ရမလဲ"
    assert norm.zawgyi_probability(zawgyi_text) > norm.ZAWGYI_THRESHOLD
    assert norm.zawgyi_to_unicode(zawgyi_text) == unicode_text
    assert norm.zawgyi_to_unicode(unicode_text) == unicode_text


def test_native_digits_become_ascii() -> None:
    assert norm.ascii_digits("៥០០០ ບາດ ໑໒ ၁၂၃") == "5000 ບາດ 12 123"
    assert int(norm.ascii_digits("៥០០០")) == 5000


def test_burmese_letters_typed_as_digits_become_letters() -> None:
    # ၀ for ဝ (wa) and ၇ for ရ (ra): the letter where no digit is next to it
    assert norm.ascii_digits("၀န်ထမ်း") == "ဝန်ထမ်း"  # employee
    assert norm.ascii_digits("အလုပ်၀င်") == "အလုပ်ဝင်"  # start work
    assert norm.ascii_digits("၇ွာ") == "ရွာ"  # village: a digit never takes a medial
    # real numbers stay numbers, glued to words or not
    assert norm.ascii_digits("၁၀၀၀ဘတ် ၅၀သိန်း ၀၉ ၄၅၆ ၇ရက် ၀") == "1000ဘတ် 50သိန်း 09 456 7ရက် 0"


def test_entity_offsets_follow_the_text() -> None:
    text = "ទៅ\u200bថៃ\u200bធ្វើការ"
    start = text.index("ថៃ")
    new_text, spans = norm.normalize_with_spans(text, [(start, start + 2)], norm.strip_invisible)
    assert new_text == "ទៅថៃធ្វើការ"
    assert new_text[spans[0][0]:spans[0][1]] == "ថៃ"


def test_full_normalize_is_idempotent() -> None:
    for text in ["ស្រ្តី\u200b៥០", "ໜ້າ ໑", "မဂၤလာပါ", "Hello 123", ""]:
        once = norm.normalize(text)
        assert norm.normalize(once) == once
