"""`make bench`: our assistant (embedded and production profiles) against stock Rasa 3.6.21.

Latency and throughput under closed-loop load, an outage storm, cold start, training time and peak
memory; see bench/README.md.
"""
