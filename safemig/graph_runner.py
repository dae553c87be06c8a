"""Run Rasa's prediction graph in plain Python instead of through dask.

Rasa 3.6 runs every message through `DaskGraphRunner`, which builds a dask task graph and
hands it to dask's local scheduler, twice per turn (NLU, then the policies). Profiled with
py-spy, the scheduler added about a quarter on top of the components' own time in a parse.
The graph is small and its nodes run one after another anyway (dask's `get_sync`), so this
runner computes the same nodes in dependency order, with the same inputs and outputs and the
same error type. Installed by the catalog NLG (which Rasa creates before it loads the model)
and by the NLU evaluation.

Intent shortcuts ("/ask_costs{"country": "TH"}", what the bot's buttons send) skip the NLU
graph altogether, as later Rasa releases do: its last node, RegexMessageHandler, replaces
whatever the tokenizer, featurizers, classifier and extractors made of "/ask_costs" with a new
message built from the shortcut alone, so running them was a third of such a turn's CPU.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message


class SequentialGraphRunner(DaskGraphRunner):
    """DaskGraphRunner's contract (`run(inputs, targets)`), executed depth-first."""

    _schemas: dict[tuple[str, ...], GraphSchema]

    def run(self, inputs: dict[str, Any] | None = None,
            targets: list[str] | None = None) -> dict[str, Any]:
        run_targets = list(targets or self._graph_schema.target_names)
        schemas = self.__dict__.setdefault("_schemas", {})
        key = tuple(run_targets)
        if key not in schemas:
            schemas[key] = self._graph_schema.minimal_graph_schema(run_targets)
        schema = schemas[key]
        # inputs stand in for the placeholder nodes of the same name, as in dask's graph
        results: dict[str, tuple[str, Any]] = {
            name: (name, value) for name, value in (inputs or {}).items()}

        def compute(name: str) -> tuple[str, Any]:
            if name not in results:
                parents = [compute(parent) for parent in schema.nodes[name].needs.values()]
                results[name] = self._instantiated_nodes[name](*parents)
            return results[name]

        try:
            return dict(compute(target) for target in run_targets)
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error


_RASA_PARSE = MessageProcessor._parse_message_with_graph


def _parse_shortcut_or_graph(self: MessageProcessor, message: UserMessage,
                             tracker: DialogueStateTracker,
                             only_output_properties: bool = True) -> dict[str, Any]:
    """RegexMessageHandler's answer for a valid shortcut, without the NLU graph before it."""
    text = message.text
    if (isinstance(text, str) and text.lstrip().startswith(INTENT_MESSAGE_PREFIX)
            and self.model_metadata.nlu_target == f"run_{RegexMessageHandler.__name__}"):
        unpacked = YAMLStoryReader.unpack_regex_message(
            Message({TEXT: text}), self.domain, entity_extractor_name=RegexMessageHandler.__name__)
        if unpacked.get(INTENT) is not None:
            parse_data: dict[str, Any] = {  # what Rasa's processor starts from, too
                TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
                ENTITIES: []}
            parse_data.update(unpacked.as_dict(only_output_properties=only_output_properties))
            return parse_data
    return _RASA_PARSE(self, message, tracker, only_output_properties)


def install(enabled: bool = True) -> None:
    """Make Rasa's message processor load models with the sequential runner and parse
    shortcuts without the graph (or, with `enabled=False`, undo both: the stock-Rasa anchor is
    measured that way)."""
    import rasa.core.processor

    chosen = SequentialGraphRunner if enabled else DaskGraphRunner
    rasa.core.processor.DaskGraphRunner = chosen  # type: ignore[misc]
    MessageProcessor._parse_message_with_graph = (  # type: ignore[method-assign]
        _parse_shortcut_or_graph if enabled else _RASA_PARSE)
