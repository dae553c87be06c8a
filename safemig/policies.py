"""Rasa's RulePolicy, without replaying the whole conversation for every prediction.

To predict, RulePolicy turns the conversation into states by replaying it from the first event,
and right after a user message it does so twice (once to search the rules with the message's
text, once with its intent). Profiled under load (docs/benchmarks-notes.md) that replay was a
fifth of a turn, and it grows with the conversation. This policy keeps, per conversation, the
replay so far and applies only the events that are new since the last prediction; a
conversation whose history changed (a rewind, a restart, another conversation under the same
id) is replayed from the start. Same rules, same predictions: tests/test_policies.py compares
it with RulePolicy on every rule and story, step by step and with rewinds.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

# Conversations whose replay is kept, least recently used dropped. Like the tracker store's
# cache these are events in memory only; a conversation deleted from the store (the user's
# /delete_my_data) is replaced at its next message, as its history no longer matches.
REPLAYS_KEPT = 1000


@dataclass
class _Replay:
    """A conversation replayed up to `applied`: the tracker there, and the state before each
    action in it (what `DialogueStateTracker.past_states` lists, without the last one)."""

    domain: Domain
    tracker: DialogueStateTracker
    applied: list[Event] = field(default_factory=list)
    states: list[State] = field(default_factory=list)

    def continues(self, tracker: DialogueStateTracker, domain: Domain,
                  applied: list[Event]) -> bool:
        """Whether `applied` is this replay's events plus new ones (same domain and kind)."""
        return (domain is self.domain and tracker.is_rule_tracker == self.tracker.is_rule_tracker
                and len(applied) >= len(self.applied)
                and all(a is b or a == b for a, b in zip(applied, self.applied)))

    def advance(self, applied: list[Event]) -> list[State]:
        """Apply the new events; the states of the whole conversation (as `past_states`)."""
        for event in applied[len(self.applied):]:
            if isinstance(event, ActionExecuted):
                self.states.append(self._state())
            self.tracker.update(event)
            self.applied.append(event)
        return [*self.states, self._state()]

    def _state(self) -> State:
        return self.domain._clean_state(
            self.domain.get_active_state(self.tracker, omit_unset_slots=False))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT,
                          is_trainable=True)
class SharedStatesRulePolicy(RulePolicy):
    """RulePolicy that replays each conversation incrementally, once per prediction."""

    _shared: tuple[DialogueStateTracker, int, list[State]] | None = None
    _replays: OrderedDict[str, _Replay] | None = None

    def _predict(self, tracker: DialogueStateTracker, domain: Domain) -> Any:
        self._shared = None
        try:
            return super()._predict(tracker, domain)
        finally:
            self._shared = None  # the states of one prediction are not reused by the next

    def _states(self, tracker: DialogueStateTracker, domain: Domain) -> list[State]:
        """`tracker.past_states(domain)` (as RulePolicy asks for it), from the kept replay."""
        if self._replays is None:
            self._replays = OrderedDict()
        applied = tracker.applied_events()
        replay = self._replays.pop(tracker.sender_id, None)
        if replay is None or not replay.continues(tracker, domain, applied):
            replay = _Replay(domain, tracker.init_copy())
        self._replays[tracker.sender_id] = replay
        while len(self._replays) > REPLAYS_KEPT:
            self._replays.popitem(last=False)
        return replay.advance(applied)

    def _prediction_states(self, tracker: DialogueStateTracker, domain: Domain,
                           use_text_for_last_user_input: bool = False,
                           rule_only_data: dict[str, Any] | None = None) -> list[State]:
        shared = self._shared
        if shared is None or shared[0] is not tracker or shared[1] != len(tracker.events):
            # what the base class computes before choosing text or intent (RulePolicy keeps
            # rule-only turns, so `rule_only_data` plays no part; no max history)
            shared = self._shared = (tracker, len(tracker.events), self._states(tracker, domain))
        states = shared[2]
        # only the last state differs between the searches; the base class's clean-up of the
        # earlier ones (drop text where there is an intent) gives the same result every time. The
        # clean-up only deletes keys of the sub-states, so copying those is enough (a deepcopy
        # was 2% of a turn).
        chosen = [*states[:-1], {key: dict(sub) for key, sub in states[-1].items()}]
        self.featurizer._choose_last_user_input([chosen], use_text_for_last_user_input)
        return chosen
