"""Rasa's RulePolicy, building a conversation's states once per prediction.

Right after a user message RulePolicy looks for a rule twice: once with the message's text
and once with its intent. Each time it turns the whole conversation into states by replaying
it from the first event; profiled under load (docs/benchmarks-notes.md) that replay was a fifth
of a turn. The two sets of states differ only in the last one (text or intent), so this policy
builds them once and gives each search its own copy of the last state. Same rules, same
predictions: tests/test_policies.py compares it with RulePolicy on every rule and story.
"""

from __future__ import annotations

import copy
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT,
                          is_trainable=True)
class SharedStatesRulePolicy(RulePolicy):
    """RulePolicy whose two rule searches per prediction share one replay of the tracker."""

    _shared: tuple[DialogueStateTracker, int, Any, list[State]] | None = None

    def _predict(self, tracker: DialogueStateTracker, domain: Domain) -> Any:
        self._shared = None
        try:
            return super()._predict(tracker, domain)
        finally:
            self._shared = None  # never hold on to a conversation between predictions

    def _prediction_states(self, tracker: DialogueStateTracker, domain: Domain,
                           use_text_for_last_user_input: bool = False,
                           rule_only_data: dict[str, Any] | None = None) -> list[State]:
        shared = self._shared
        if shared is None or shared[0] is not tracker or shared[1] != len(tracker.events) \
                or shared[2] != rule_only_data:
            # what the base class computes before choosing text or intent (RulePolicy keeps
            # rule-only turns, has no max history and no action_unlikely_intent)
            states = self.featurizer._create_states(tracker, domain, rule_only_data=rule_only_data)
            shared = self._shared = (tracker, len(tracker.events), rule_only_data, states)
        states = shared[3]
        if not states:
            return super()._prediction_states(tracker, domain, use_text_for_last_user_input,
                                              rule_only_data)
        # only the last state differs between the searches; the base class's clean-up of the
        # earlier ones (drop text where there is an intent) gives the same result every time
        chosen = [*states[:-1], copy.deepcopy(states[-1])]
        self.featurizer._choose_last_user_input([chosen], use_text_for_last_user_input)
        return chosen
