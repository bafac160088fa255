"""The model's graph walked without dask.

Every message and every prediction runs a part of the model's graph through Rasa's
``DaskGraphRunner``, which first recomputes which nodes the targets need (a recursive walk that
visits shared dependencies again for every path to them) and then hands a dozen nodes to dask's
synchronous scheduler, whose bookkeeping (ordering, task keys, a callback machinery) is built for
graphs of thousands of tasks. Together about a twelfth of a Rasa process's CPU under load. The graph
does not change while serving: the needed part is computed once per set of targets, and the nodes
are called in dependency order by a plain memoized walk (each node once, results shared), which is
what dask's synchronous scheduler does for such a graph.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

logger = logging.getLogger(__name__)


def run_graph(graph: Dict[Text, Any], targets: List[Text]) -> List[Any]:
    """The values of `targets` in a dask-style graph (``{key: (callable, *keys) or literal}``).

    Each key is computed once and its value shared; an argument that is not a key of the graph is
    passed as it is, as dask does. Only the graphs Rasa's runner builds are expected here: every
    argument of a task is a key (a node or an input name)."""
    values: Dict[Text, Any] = {}

    def value(key: Any) -> Any:
        if key in values:
            return values[key]
        if key not in graph:
            return key
        task = graph[key]
        if isinstance(task, tuple) and task and callable(task[0]):
            result = task[0](*[value(argument) for argument in task[1:]])
        else:
            result = task
        values[key] = result
        return result

    return [value(target) for target in targets]


def install_graph_runner() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner, logger as runner_logger

    original = DaskGraphRunner.run

    def run(self: Any, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = list(targets if targets else self._graph_schema.target_names)
        minimal = self.__dict__.setdefault("_minimal_graphs", {})
        key = tuple(run_targets)
        if key not in minimal:
            minimal[key] = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        graph = dict(minimal[key])
        if inputs:
            self._add_inputs_to_graph(inputs, graph)
        if runner_logger.isEnabledFor(logging.DEBUG):
            runner_logger.debug(f"Running graph with inputs: {inputs}, targets: {targets} and {self._execution_context}.")
        try:
            return dict(run_graph(graph, run_targets))
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error

    run.__wrapped__ = original  # type: ignore[attr-defined]
    DaskGraphRunner.run = run  # type: ignore[assignment]
