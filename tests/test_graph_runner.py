"""The sequential graph runner gives Rasa's answers, without dask."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.agent import Agent
from rasa.engine.exceptions import GraphComponentException
from rasa.engine.runner.dask import DaskGraphRunner

from safemig import graph_runner

MESSAGES = ["hello", "ខ្ញុំចង់ទៅធ្វើការនៅថៃដោយស្របច្បាប់", "ຂ້ອຍຢາກໄປເຮັດວຽກຢູ່ໄທ",
            "ဂျပန်ကို အလုပ်သွားချင်တယ်", "12345", "/ask_costs"]
# Intent shortcuts skip the NLU graph; those that are no valid shortcut must still go through.
SHORTCUTS = ['/ask_costs{"country": "TH"}', " /greet@0.4", '/report_abuse{"country": "XX"}',
             "/no_such_intent", "/", "/greet{not json", "/ask costs", "/ask_costs extra words"]


async def parses(model: Path, sequential: bool) -> list[dict]:
    graph_runner.install(enabled=sequential)
    agent = Agent.load(str(model))
    expected = graph_runner.SequentialGraphRunner if sequential else DaskGraphRunner
    assert type(agent.processor.graph_runner) is expected
    results = [await agent.parse_message(text) for text in MESSAGES + SHORTCUTS]
    for result in results:
        result.pop("response_selector", None)
    return results


@pytest.fixture(autouse=True)
def restore_runner():  # type: ignore[no-untyped-def]
    yield
    graph_runner.install(enabled=True)


async def test_sequential_runner_parses_exactly_like_rasas_dask_runner(
        trained_model: Path) -> None:
    ours = await parses(trained_model, sequential=True)
    rasas = await parses(trained_model, sequential=False)
    assert ours == rasas
    assert ours[1]["intent"]["name"] == "ask_legal_channels"


async def test_shortcuts_skip_the_nlu_components(trained_model: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A button press needs none of the tokenizer, featurizers or classifier."""
    from safemig.nlu.classifier import LinearIntentClassifier

    def no_nlu(*args: object, **kwargs: object) -> None:
        raise AssertionError("the classifier ran")

    monkeypatch.setattr(LinearIntentClassifier, "process", no_nlu)  # Rasa binds it at load
    graph_runner.install(enabled=True)
    agent = Agent.load(str(trained_model))
    parsed = await agent.parse_message('/ask_costs{"country": "TH"}')
    assert parsed["intent"] == {"name": "ask_costs", "confidence": 1.0}
    assert [(e["entity"], e["value"]) for e in parsed["entities"]] == [("country", "TH")]
    with pytest.raises(GraphComponentException) as raised:  # not a shortcut: the graph runs
        await agent.parse_message("/no_such_intent")
    assert "classifier ran" in str(raised.value.__cause__)
