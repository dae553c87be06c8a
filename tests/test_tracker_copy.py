"""The state copy of a tracker is the copy Rasa makes by replaying the conversation."""

from __future__ import annotations

import copy

from rasa.core.training import load_data
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    ConversationResumed,
    FollowupAction,
    Restarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.shared.importers.importer import TrainingDataImporter

from safemig.config import PROJECT_ROOT
from safemig.tracker_copy import _RASA_COPY, state_copy


def _prefixes() -> tuple[Domain, list[DialogueStateTracker]]:
    """The tracker at every event of every story and rule (forms, rejections, resets)."""
    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(PROJECT_ROOT / "domain"),
        training_data_paths=[str(PROJECT_ROOT / "dialogue")])
    domain = importer.get_domain()
    said = [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet"})]
    rarer = [  # events no story has: the state they leave must be copied too
        [*said, ConversationPaused()], [*said, ConversationPaused(), ConversationResumed()],
        [*said, FollowupAction("utter_greet")], [*said, UserUtteranceReverted()],
        [*said, Restarted()]]
    out = [DialogueStateTracker.from_events("rare", events, domain.slots) for events in rarer]
    for story in load_data(importer, domain, augmentation_factor=0):
        events = list(story.events)
        for end in range(1, len(events) + 1):
            tracker = DialogueStateTracker.from_events(story.sender_id, events[:end],
                                                       domain.slots)
            tracker.is_rule_tracker = story.is_rule_tracker
            out.append(tracker)
    return domain, out


def _everything(tracker: DialogueStateTracker, domain: Domain) -> tuple:
    """Every part of the tracker's state, as a snapshot."""
    return copy.deepcopy((tracker.current_state(EventVerbosity.ALL), tracker.past_states(domain),
            {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()},
            tracker.latest_action, tracker.active_loop, tracker.followup_action,
            tracker.is_paused(), tracker.is_rule_tracker, tracker.sender_id,
            tracker.sender_source, tracker.model_id, list(tracker.events)))


def test_state_copy_equals_rasas_replayed_copy_at_every_step() -> None:
    domain, trackers = _prefixes()
    assert len(trackers) > 200
    assert any(t.active_loop for t in trackers)  # the forms are in there
    for tracker in trackers:
        assert _everything(state_copy(tracker), domain) == _everything(
            _RASA_COPY(tracker), domain), (tracker.sender_id, len(tracker.events))


def test_changing_the_copy_leaves_the_original_alone() -> None:
    domain, trackers = _prefixes()
    tracker = next(t for t in reversed(trackers) if t.active_loop_name)  # a real form
    before = _everything(tracker, domain)
    copied = state_copy(tracker)
    copied.update_with_events([SlotSet(next(iter(tracker.slots)), "changed"),
                               ActionExecuted("action_listen"), UserUttered("hi")], domain)
    copied.reject_action(tracker.active_loop.name)  # sets a flag inside the active loop
    assert _everything(tracker, domain) == before
