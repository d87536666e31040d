"""Broker capacity: the sizes MSK offers and the moves between them, the broker policy, the
reassignment new brokers need, and what each choice costs."""
