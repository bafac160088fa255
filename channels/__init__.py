"""Channel adapters: how customers reach the assistant (web chat now, messaging apps next)."""
