"""Work distribution: one interface, an in-process backend now, a broker backend later.

A work item says *what* to sync (a flow run, or named records), never the data: the
worker always reads the source's current state, so a redelivered or reordered item is
harmless.
"""

from isthmus.queue.base import InProcessQueue, WorkItem, WorkQueue

__all__ = ["InProcessQueue", "WorkItem", "WorkQueue"]
