"""SharedStatesRulePolicy predicts exactly what Rasa's RulePolicy predicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.training import load_data
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

from safemig.config import PROJECT_ROOT
from safemig.policies import SharedStatesRulePolicy


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


def test_same_prediction_at_every_step_of_every_rule_and_story(trained) -> None:  # type: ignore[no-untyped-def]
    domain, stock, ours = trained
    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(PROJECT_ROOT / "domain"),
        training_data_paths=[str(PROJECT_ROOT / "dialogue")])
    trackers = load_data(importer, domain, augmentation_factor=0)
    steps = 0
    for tracker in trackers:
        events = list(tracker.events)
        for i, event in enumerate(events):
            if not isinstance(event, ActionExecuted) or i == 0:
                continue
            before = DialogueStateTracker.from_events(tracker.sender_id, events[:i],
                                                      domain.slots)
            expected = stock.predict_action_probabilities(before, domain)
            got = ours.predict_action_probabilities(before, domain)
            assert got.probabilities == expected.probabilities, (tracker.sender_id, i)
            assert (got.events, got.optional_events, got.is_end_to_end_prediction,
                    got.is_no_user_prediction, got.action_metadata) == (
                expected.events, expected.optional_events, expected.is_end_to_end_prediction,
                expected.is_no_user_prediction, expected.action_metadata)
            steps += 1
    assert steps > 100  # every rule and story of the bot, step by step (126 today)
