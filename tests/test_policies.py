"""SharedStatesRulePolicy predicts exactly what Rasa's RulePolicy predicts."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.training import load_data
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUtteranceReverted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from safemig import policies
from safemig.config import PROJECT_ROOT
from safemig.policies import SharedStatesRulePolicy, _Replay


def _policy(cls: type[RulePolicy], storage: LocalModelStorage, resource: str) -> RulePolicy:
    context = ExecutionContext(GraphSchema({}), "test")
    return cls.load({**cls.get_default_config()}, storage, Resource(resource), context)


@pytest.fixture(scope="module")
def trained(trained_model: Path, tmp_path_factory: pytest.TempPathFactory,
            ) -> tuple[Domain, RulePolicy, RulePolicy]:
    storage, metadata = LocalModelStorage.from_model_archive(
        tmp_path_factory.mktemp("model"), trained_model)
    resource = next(name for name in metadata.train_schema.nodes
                    if "RulePolicy" in name and name.startswith("train_"))
    return (metadata.domain, _policy(RulePolicy, storage, resource),
            _policy(SharedStatesRulePolicy, storage, resource))


def _steps(domain: Domain) -> list[tuple[str, list[Event]]]:
    """(conversation, events before the action) at every action of every rule and story."""
    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(PROJECT_ROOT / "domain"),
        training_data_paths=[str(PROJECT_ROOT / "dialogue")])
    steps = []
    for tracker in load_data(importer, domain, augmentation_factor=0):
        events = list(tracker.events)
        steps += [(tracker.sender_id, events[:i]) for i, event in enumerate(events)
                  if isinstance(event, ActionExecuted) and i > 0]
    return steps


def _assert_same(stock: RulePolicy, ours: RulePolicy, tracker: DialogueStateTracker,
                 domain: Domain) -> None:
    expected = stock.predict_action_probabilities(tracker, domain)
    got = ours.predict_action_probabilities(tracker, domain)
    assert got.probabilities == expected.probabilities, (tracker.sender_id, len(tracker.events))
    assert (got.events, got.optional_events, got.is_end_to_end_prediction,
            got.is_no_user_prediction, got.action_metadata) == (
        expected.events, expected.optional_events, expected.is_end_to_end_prediction,
        expected.is_no_user_prediction, expected.action_metadata)


def test_same_prediction_at_every_step_of_every_rule_and_story(trained, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    domain, stock, ours = trained
    replays = []
    monkeypatch.setattr(policies, "_Replay", lambda *a: replays.append(a) or _Replay(*a))
    steps = _steps(domain)
    for sender, events in steps:
        _assert_same(stock, ours, DialogueStateTracker.from_events(sender, events, domain.slots),
                     domain)
    assert len(steps) > 100  # every rule and story of the bot, step by step (126 today)
    # each conversation was replayed once from its start, then only its new events
    assert len(replays) == len({sender for sender, _ in steps})


def test_same_prediction_when_the_history_is_rewound_or_replaced(trained) -> None:  # type: ignore[no-untyped-def]
    """One conversation id whose history jumps between stories, goes back, and is rewound by
    a UserUtteranceReverted: every prediction still equals RulePolicy's."""
    domain, stock, ours = trained
    steps = _steps(domain)
    random.Random(7).shuffle(steps)
    for _, events in steps[:80]:
        for history in (events, [*events, UserUtteranceReverted()]):
            _assert_same(stock, ours,
                         DialogueStateTracker.from_events("one-user", history, domain.slots),
                         domain)


def test_rule_index_finds_what_rulepolicy_finds(
        trained: tuple[Domain, RulePolicy, RulePolicy]) -> None:
    """The index behind `_get_possible_keys` on rules that ask for less than both the
    previous action and the intent (our rules all ask for both), and on the real rules."""
    _, _, ours = trained
    listen = {"action_name": "action_listen"}
    rule_states = [
        [{"prev_action": listen, "user": {"intent": "greet"}}],
        [{"prev_action": listen}],  # any intent
        [{"prev_action": {"action_text": "hi"}, "user": {"intent": "greet"}}],  # any action name
        [{"prev_action": {"action_name": "utter_x"}, "user": {"intent": "should_not_be_set"}}],
        [{"user": {"intent": "greet"}}],  # a conversation start
        [{"prev_action": listen, "user": {"intent": "deny"}},
         {"prev_action": listen, "user": {"intent": "greet"}}],
        [{"prev_action": listen, "user": {"text": "hello"}}],
    ]
    lookup = {json.dumps(states): "utter_x" for states in rule_states}
    lookup.update(ours.lookup["rules"])
    conversations = [
        [{}], [{"user": {"intent": "greet"}}],
        [{}, {"prev_action": listen, "user": {"intent": "greet"}}],
        [{}, {"prev_action": listen, "user": {"intent": "deny"}},
         {"prev_action": listen, "user": {"intent": "greet"}}],
        [{}, {"prev_action": listen, "user": {"text": "hello"}}],
        [{}, {"prev_action": {"action_name": "utter_x"}}],
        [{}, {"prev_action": {"action_name": "utter_x"}, "user": {"intent": "greet"}}],
        [{}, {"prev_action": {"action_text": "hi"}, "user": {"intent": "greet"}}],
    ]
    for states in conversations:
        expected = RulePolicy._get_possible_keys(ours, lookup, states)
        assert ours._get_possible_keys(lookup, states) == expected, states
    assert any(RulePolicy._get_possible_keys(ours, lookup, s) for s in conversations)
