"""Rasa SDK actions: thin adapters between the dialogue and the domain in `bot/`.

`python -m actions.server --actions actions` imports every module of this package; one module per flow.
Importing it has no side effects: actions/server.py main() configures logging and wires the services.
"""
