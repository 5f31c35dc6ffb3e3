"""The ``queue:`` section of a config file: which backend distributes work.

``embedded`` (the default) keeps everything in one process. ``rabbitmq`` hands work to
a RabbitMQ quorum queue that any number of ``isthmus worker`` processes consume; it
needs a PostgreSQL store, shared by every process.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class QueueConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["embedded", "rabbitmq"] = "embedded"
    # amqp://user:password@host:5672/vhost
    url: str | None = None
    # The quorum queue's name; installations sharing one broker use different names.
    name: str = Field(default="isthmus.work", min_length=1, max_length=200)
    # Messages a worker holds unacknowledged at once (work buffered ahead of it).
    prefetch: int = Field(default=2, ge=1, le=1000)
    # Deliveries of one work item before it is a poison message: its records become
    # dead letters instead of going round forever.
    max_deliveries: int = Field(default=5, ge=1, le=1000)
    # Records per work item when a poll fans out its changes to the workers.
    batch: int = Field(default=200, ge=1, le=10_000)

    @model_validator(mode="after")
    def _url_for_broker(self) -> QueueConfig:
        if self.backend == "rabbitmq" and not self.url:
            raise ValueError(
                "queue.backend rabbitmq needs queue.url, e.g. amqp://guest:guest@127.0.0.1:5672/"
            )
        return self

    @property
    def distributed(self) -> bool:
        return self.backend != "embedded"
