"""Rasa input channels: the web chat, REST, Telegram, the agent console, the backend API and ops.

Importing this package does nothing else: the process set-up (logging, patches into Rasa) runs at
server start (channels/startup.py), and the services are wired onto the Sanic app when it starts
(channels/hub/setup.py).
"""
