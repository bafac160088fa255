"""Create the Official Account's custom menu (咨询 / 投诉 / 查询进度 / 人工客服):

    source scripts/env.sh && .venv/bin/python -m channels.wechat.menu

Uses the same settings (WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_API_BASE) and the same shared
access token as the running servers, so creating the menu never invalidates their token.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Optional, Sequence

from bot.settings import Settings
from bot.storage.database import Database
from bot.wechat import AccessTokens
from channels.hub import Undeliverable
from channels.wechat.api import WeChatApi
from channels.wechat.dispatch import MENU


async def create_menu(settings: Settings) -> None:
    db = Database(settings.database_url)
    db.migrate()

    async def run(method: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, lambda: method(*args))

    api = WeChatApi(settings.wechat_app_id, settings.wechat_app_secret, AccessTokens(db, settings.wechat_app_id), run,
                    settings.wechat_api_base)
    try:
        await api.create_menu(MENU)
    finally:
        await api.close()
        db.dispose()


def main(argv: Optional[Sequence[str]] = None) -> int:
    settings = Settings.from_env()
    if not settings.wechat_app_id:
        print("WECHAT_APP_ID is not set: the WeChat channel is off", file=sys.stderr)
        return 2
    try:
        asyncio.run(create_menu(settings))
    except Undeliverable as error:
        print(f"menu not created: {error}", file=sys.stderr)
        return 1
    print("menu created: " + " / ".join(b["name"] for b in MENU["button"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
