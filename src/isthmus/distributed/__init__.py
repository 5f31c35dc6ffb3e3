"""Distributed mode: many workers on one PostgreSQL store and one RabbitMQ queue.

- ``leader``: one scheduler at a time queues polls (a session-level advisory lock);
- ``locks``: one record applied by one worker at a time (advisory locks per record);
- ``budget``: each system's call rate and daily allowance, shared by every worker;
- ``dispatch``: a poll fans its changes out to the workers as record batches;
- ``worker``: takes work items, syncs them, and buries poison items as dead letters.

Nothing here is a cluster protocol of its own: PostgreSQL and RabbitMQ do the agreeing.
"""
