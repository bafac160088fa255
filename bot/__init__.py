"""Domain of the telecom intake assistant: tickets, deadlines, severity, storage.

Nothing in this package imports Rasa or an HTTP framework; `actions/` and `channels/`
are thin adapters around it.
"""
