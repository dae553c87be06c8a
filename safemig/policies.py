"""Rasa's RulePolicy, without replaying the whole conversation for every prediction.

To predict, RulePolicy turns the conversation into states by replaying it from the first event,
and right after a user message it does so twice (once to search the rules with the message's
text, once with its intent). Profiled under load (docs/benchmarks-notes.md) that replay was a
fifth of a turn, and it grows with the conversation. This policy keeps, per conversation, the
replay so far and applies only the events that are new since the last prediction; a
conversation whose history changed (a rewind, a restart, another conversation under the same
id) is replayed from the start. Same rules, same predictions: tests/test_policies.py compares
it with RulePolicy on every rule and story, step by step and with rewinds.

RulePolicy also tests every rule against the current state, four times a turn or more; here
the rules are indexed by the previous action and intent their last state asks for, and only
the rules that can match are tested (with RulePolicy's own test).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
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


_Wanted = tuple[str | None, str | None]  # previous action, intent; None: any


def _wanted(state: State, rule: bool) -> _Wanted:
    """What a rule's state asks of the previous action's name and the intent (as
    `RulePolicy._does_rule_match_state` reads it), or what a conversation's state has."""
    def value(sub_state: str, key: str) -> str | None:
        found = state.get(sub_state, {}).get(key)  # type: ignore[attr-defined]
        if rule and (not found or found == SHOULD_NOT_BE_SET):
            return None  # no demand on the conversation (or one the full test checks)
        return found if isinstance(found, str) else None
    return value(PREVIOUS_ACTION, "action_name"), value(USER, "intent")


@dataclass
class _RuleIndex:
    """The keys of one rule lookup, by the last state of their rule."""

    size: int
    starters: set[str] = field(default_factory=set)  # rule ends at a conversation start
    by_wanted: dict[_Wanted, list[str]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, lookup: dict[str, Any]) -> _RuleIndex:
        index = cls(len(lookup))
        for key in lookup:
            last = RulePolicy._rule_key_to_state(key)[-1]
            if last.get(PREVIOUS_ACTION):
                index.by_wanted[_wanted(last, rule=True)].append(key)
            else:
                index.starters.add(key)
        return index

    def candidates(self, current: State) -> Iterable[str]:
        """Every key whose rule can match `current` in its last state: the others would
        fail on the previous action or the intent."""
        action, intent = _wanted(current, rule=False)
        for wanted in {(action, intent), (action, None), (None, intent), (None, None)}:
            yield from self.by_wanted.get(wanted, ())


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT,
                          is_trainable=True)
class SharedStatesRulePolicy(RulePolicy):
    """RulePolicy that replays each conversation incrementally, once per prediction."""

    _shared: tuple[DialogueStateTracker, int, list[State]] | None = None
    _replays: OrderedDict[str, _Replay] | None = None
    _indexes: dict[int, tuple[dict[str, Any], _RuleIndex]] | None = None

    def _get_possible_keys(self, lookup: dict[str, Any], states: list[State]) -> set[str]:
        """RulePolicy's answer, testing only the rules the index leaves for the last state."""
        if not states:
            return super()._get_possible_keys(lookup, states)
        current = states[-1]
        if current.get(PREVIOUS_ACTION):
            possible = {key for key in self._index(lookup).candidates(current)
                        if self._is_rule_applicable(key, 0, current)}
        else:  # a conversation start matches every rule that ends at one, untested
            possible = set(self._index(lookup).starters)
        for turn, state in enumerate(reversed(states[:-1]), start=1):
            possible = {key for key in possible if self._is_rule_applicable(key, turn, state)}
        return possible

    def _index(self, lookup: dict[str, Any]) -> _RuleIndex:
        """The index of `lookup`, rebuilt when training removed rules from it."""
        if self._indexes is None:
            self._indexes = {}
        kept = self._indexes.get(id(lookup))
        if kept is None or kept[0] is not lookup or kept[1].size != len(lookup):
            kept = self._indexes[id(lookup)] = (lookup, _RuleIndex.of(lookup))
        return kept[1]

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
