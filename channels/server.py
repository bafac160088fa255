"""The Rasa server with our logging from its first line:

    python -m channels.server run --model ... --endpoints endpoints.yml --credentials credentials.yml

is ``python -m rasa run ...`` except that Rasa's console logging (coloredlogs) is replaced by ours
(bot/logs.py: LOG_FORMAT=json|text, LOG_LEVEL, personal data masked in every record). Plain
``rasa run`` still works: the ops channel takes the logging over when the server starts, but the
lines written before the channels are loaded keep Rasa's format.
"""

from __future__ import annotations

from typing import Any


def main() -> None:
    # Imports inside main(): our logging has to be in place before Rasa (or anything importing it) logs.
    from bot import logs

    logs.configure(import_first=logs.OWN_HANDLER_LIBRARIES)
    import rasa.utils.io

    def configure_colored_logging(loglevel: Any) -> None:
        logs.configure(loglevel, import_first=logs.OWN_HANDLER_LIBRARIES)

    # Rasa's main() calls this right after reading the command line; everything else it configures
    # (levels, structlog on top of the standard loggers) goes through our handler.
    rasa.utils.io.configure_colored_logging = configure_colored_logging
    # After the logging, like every import here: what the channel package once did when imported.
    from channels.startup import prepare_process

    prepare_process()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
