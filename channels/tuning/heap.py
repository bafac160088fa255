"""A warm-up parse, then the loaded model frozen out of the garbage collector's full collections
(see `freeze_startup_heap`).
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


_frozen = False

# Parsed once before the heap is frozen: the NLU pipeline loads some of its data on the first message
# (Jieba's dictionary, the emoji tables: about 200,000 objects), which should be frozen with the model.
WARM_UP_TEXT = "喂 你好，我家宽带从昨天开始断网了😡 电话13800000000 帮我转人工"


async def warm_up_and_freeze(app: Any) -> None:
    """After the server started: one parse through the model's graph (not counted in the metrics,
    not stored in any conversation), then `freeze_startup_heap`. Once per process: every channel's
    blueprint calls it when the server has started."""
    import asyncio

    if _frozen:
        return

    agent = getattr(app.ctx, "agent", None)
    if agent is not None and agent.is_ready() and agent.processor is not None:
        from rasa.core.channels.channel import UserMessage
        from rasa.shared.core.trackers import DialogueStateTracker

        processor = agent.processor
        message = UserMessage(WARM_UP_TEXT, sender_id="warm-up")
        tracker = DialogueStateTracker.from_events("warm-up", [])
        try:
            await asyncio.get_running_loop().run_in_executor(None, processor._parse_message_with_graph, message, tracker)
        except Exception:  # noqa: BLE001 - a warm-up failure must not stop the server; the first message pays
            logger.warning("warm-up parse failed", exc_info=True)
    freeze_startup_heap()


def freeze_startup_heap() -> None:
    """Move everything alive once the model is loaded out of the garbage collector's sight.

    A loaded model is about 750,000 Python objects (vocabularies, model weights' wrappers, Rasa's
    graph, the domain), alive for the life of the process. Python's cyclic collector walks all of
    them in each full (oldest-generation) collection, which the allocations of serving trigger every
    few seconds under load: measured at 100 customers, 11 full collections in 80 s, about 280 ms
    each and up to 510 ms, during which the process answers nobody (every turn in flight waits).
    ``gc.freeze()`` (Python 3.7+) moves them to a permanent generation that collections skip; what
    serving allocates is collected as before. Called once per process after the server started,
    i.e. after Rasa loaded the model (a ``before_server_start`` listener) and `warm_up_and_freeze`
    parsed a first message; a collection first, so that no garbage is frozen with them. Without the
    warm-up, the first message's lazy loads left full collections at about 60 ms each."""
    global _frozen
    if _frozen:
        return
    import gc

    gc.collect()
    gc.freeze()
    _frozen = True
    logger.info("startup heap frozen: %d objects out of the collector's reach", gc.get_freeze_count())
