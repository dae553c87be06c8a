"""Copy a conversation tracker without replaying the conversation.

Before running each action (two or three a turn) Rasa's processor copies the tracker, so that
the events a policy predicted can be dropped if the action is rejected. Rasa's `copy()` builds
an empty tracker and applies every event of the conversation to it again: under 20 users
(py-spy, November 29) that was 12% of Rasa's CPU, and it grows with the conversation. The state
those events produce is already in the tracker being copied, so this copies that state: the
same event objects (the replay shares them too), each slot copied as the replay's empty tracker
copies it, and fresh copies of the latest action and the active loop (the copy may change
them in place). tests/test_tracker_copy.py compares both copies at every step of every story
and rule. Trackers with a capped event history, or of another class, still get Rasa's copy.
"""

from __future__ import annotations

import copy
from collections import deque

from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.trackers import DialogueStateTracker

_RASA_COPY = DialogueStateTracker.copy


def state_copy(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """What `tracker.copy()` returns, built from the tracker's state instead of its events."""
    if type(tracker) is not DialogueStateTracker or tracker._max_event_history is not None:
        return _RASA_COPY(tracker)
    new = DialogueStateTracker(tracker.sender_id or DEFAULT_SENDER_ID, [],
                               is_rule_tracker=tracker.is_rule_tracker)
    new.slots = {slot.name: copy.copy(slot) for slot in tracker.slots.values()}
    new.events = deque(tracker.events)
    new._paused = tracker._paused
    new.followup_action = tracker.followup_action
    new.latest_action = None if tracker.latest_action is None else dict(tracker.latest_action)
    new.latest_message = tracker.latest_message
    new.latest_bot_utterance = tracker.latest_bot_utterance
    new.active_loop = copy.copy(tracker.active_loop)
    return new


def install(enabled: bool = True) -> None:
    """Make `DialogueStateTracker.copy` the state copy (or Rasa's own again)."""
    DialogueStateTracker.copy = state_copy if enabled else _RASA_COPY  # type: ignore[method-assign]
