"""Run Rasa's prediction graph in plain Python instead of through dask.

Rasa 3.6 runs every message through `DaskGraphRunner`, which builds a dask task graph and
hands it to dask's local scheduler, twice per turn (NLU, then the policies). Profiled with
py-spy, the scheduler added about a quarter on top of the components' own time in a parse.
The graph is small and its nodes run one after another anyway (dask's `get_sync`), so this
runner computes the same nodes in dependency order, with the same inputs and outputs and the
same error type. Installed by the catalog NLG (which Rasa creates before it loads the model)
and by the NLU evaluation.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner


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


def install(enabled: bool = True) -> None:
    """Make Rasa's message processor load models with the sequential runner (or, with
    `enabled=False`, with Rasa's own again: the stock-Rasa anchor is measured that way)."""
    import rasa.core.processor

    chosen = SequentialGraphRunner if enabled else DaskGraphRunner
    rasa.core.processor.DaskGraphRunner = chosen  # type: ignore[misc]
