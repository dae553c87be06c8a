"""`rasa data validate`, failing on every warning except responses that are used from code.

Rasa's validator warns about any response not named in a story or rule. Ours include the
questions forms ask (utter_ask_<slot>), corridor-specific answers chosen by
action_answer_topic (utter_<topic>__<corridor>) and responses actions send by name; those are
used, so they are allowed. Everything else Rasa warns about fails the check.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

_UNUSED = re.compile(r"The utterance '(\w+)' is not used in any story or rule")
_WARNING = re.compile(r"(UserWarning): (.*)")  # Rasa's validator warns with UserWarning
# "lao" is LA as a country and lo as a language: Rasa warns when merging, TypedSynonymMapper
# keeps both (it keys synonyms by entity type). Only that language-vs-country clash is allowed.
_TYPED_CLASH = re.compile(
    r"inconsistent entity synonyms .* overwriting \S+->([A-Za-z]{2}) with \S+->([A-Za-z]{2})"
)


def used_from_code(root: Path) -> set[str]:
    names: set[str] = set()
    for path in (root / "actions").glob("*.py"):
        names.update(re.findall(r"[\"'](utter_\w+)[\"']", path.read_text(encoding="utf-8")))
    return names


def allowed(name: str, code_names: set[str]) -> bool:
    if name in code_names or name.startswith("utter_ask_") or name == "utter_default":
        return True
    if "__" in name:  # corridor variant of a topic answer
        return True
    return any(name.startswith(prefix) for prefix in ("utter_red_flag_verdict_",))


def main(root: Path) -> int:
    cmd = [str(Path(sys.executable).with_name("rasa")), "data", "validate",
           "--domain", "domain", "--data", "nlu_data", "dialogue", "--config", "config.yml"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    code_names = used_from_code(root)
    problems = []
    for line in (proc.stdout + proc.stderr).splitlines():
        match = _WARNING.search(line)
        if not match:
            continue
        clash = _TYPED_CLASH.search(line)
        if clash and {clash.group(1).isupper(), clash.group(2).isupper()} == {True, False}:
            continue
        unused = _UNUSED.search(line)
        if unused and allowed(unused.group(1), code_names):
            continue
        problems.append(match.group(2).strip())
    for problem in problems:
        print(f"validate: {problem}")
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
    ok = proc.returncode == 0 and not problems
    print("rasa data validate: OK" if ok else "rasa data validate: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent.parent))
