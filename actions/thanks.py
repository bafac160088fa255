"""Thanks and praise. Praise of an installer, a clerk or the assistant is thanks too (LABELS.md);
it is answered as praise, because "不客气，这是我们应该做的" to a customer who wrote in to commend
someone reads as if nobody had listened."""

from __future__ import annotations

import re
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_text

_PRAISE = re.compile(
    r"表扬|点赞|点个赞|好评|五星|满分|夸夸|夸一下|锦旗|感谢信|👍"
    r"|(服务|态度)[^，。！!,]{0,4}(好|棒|到位|周到|热情)|(很|特别|非常|挺|真)(专业|负责|周到|热情|暖心)"
)


class ActionThank(Action):
    def name(self) -> Text:
        return "action_thank"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        praised = _PRAISE.search(latest_text(tracker))
        dispatcher.utter_message(response="utter_thank_for_praise" if praised else "utter_thank")
        return []
