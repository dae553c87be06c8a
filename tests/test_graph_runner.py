"""The sequential graph runner gives Rasa's answers, without dask."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.agent import Agent
from rasa.engine.runner.dask import DaskGraphRunner

from safemig import graph_runner

MESSAGES = ["hello", "ខ្ញុំចង់ទៅធ្វើការនៅថៃដោយស្របច្បាប់", "ຂ້ອຍຢາກໄປເຮັດວຽກຢູ່ໄທ",
            "ဂျပန်ကို အလုပ်သွားချင်တယ်", "12345", "/ask_costs"]


async def parses(model: Path, sequential: bool) -> list[dict]:
    graph_runner.install(enabled=sequential)
    agent = Agent.load(str(model))
    expected = graph_runner.SequentialGraphRunner if sequential else DaskGraphRunner
    assert type(agent.processor.graph_runner) is expected
    results = [await agent.parse_message(text) for text in MESSAGES]
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
