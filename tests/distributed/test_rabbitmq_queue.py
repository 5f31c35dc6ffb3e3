"""The RabbitMQ backend of the work queue, on the machine's broker (a queue per test)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from isthmus.queue import WorkItem
from isthmus.queue.config import QueueConfig
from isthmus.queue.rabbitmq import RabbitQueue, decode, encode
from tests.distributed.services import AMQP_URL, delete_queue, require_rabbitmq, unique_queue

ITEM = WorkItem("customers", "records", "crm", ("001A", "001B"), trigger="webhook")


@pytest.fixture
def config() -> QueueConfig:
    require_rabbitmq()
    return QueueConfig(backend="rabbitmq", url=AMQP_URL, name=unique_queue(), prefetch=1)


@pytest.fixture
def cleanup(config: QueueConfig) -> Iterator[None]:
    yield
    asyncio.run(delete_queue(config.name))


def test_an_item_survives_encoding_and_garbage_is_refused() -> None:
    assert decode(encode(ITEM)) == ITEM
    with pytest.raises(ValueError, match="not an Isthmus work item"):
        decode(b'{"flow": "x"}')
    with pytest.raises(ValueError, match="unknown work item kind"):
        decode(encode(ITEM).replace(b'"records"', b'"explode"'))


def test_the_broker_url_is_required() -> None:
    with pytest.raises(ValueError, match=r"queue\.url"):
        QueueConfig(backend="rabbitmq")


def test_items_travel_between_processes_and_are_counted_per_delivery(
    config: QueueConfig, cleanup: None
) -> None:
    asyncio.run(_test_items_travel_between_processes_and_are_counted_per_delivery(config))


async def _test_items_travel_between_processes_and_are_counted_per_delivery(
    config: QueueConfig,
) -> None:
    publisher = RabbitQueue(config, consume=False)
    await publisher.connect()
    consumer = RabbitQueue(config)
    await consumer.connect()
    try:
        assert await publisher.put(ITEM)
        first = await asyncio.wait_for(consumer.receive(), 10)
        assert (first.item, first.attempt) == (ITEM, 1)
        # A failure is counted, and its error travels with the item.
        await consumer.again(first, "ValueError: boom")
        second = await asyncio.wait_for(consumer.receive(), 10)
        assert (second.item, second.attempt, second.last_error) == (ITEM, 2, "ValueError: boom")
        # A wait for a system that is down is not counted.
        await consumer.again(second, "erp is down", failed=False)
        third = await asyncio.wait_for(consumer.receive(), 10)
        assert third.attempt == 2
        await third.ack()
    finally:
        await consumer.close()
        await publisher.close()


def test_an_unacknowledged_item_goes_to_the_next_consumer_with_one_attempt_more(
    config: QueueConfig, cleanup: None
) -> None:
    asyncio.run(
        _test_an_unacknowledged_item_goes_to_the_next_consumer_with_one_attempt_more(config)
    )


async def _test_an_unacknowledged_item_goes_to_the_next_consumer_with_one_attempt_more(
    config: QueueConfig,
) -> None:
    first = RabbitQueue(config)
    await first.connect()
    await first.put(ITEM)
    taken = await asyncio.wait_for(first.receive(), 10)
    assert taken.attempt == 1
    await first.close()  # dies holding it: no ack
    second = RabbitQueue(config)
    await second.connect()
    try:
        again = await asyncio.wait_for(second.receive(), 10)
        assert (again.item, again.attempt) == (ITEM, 2)
        await again.ack()
    finally:
        await second.close()


def test_the_plain_queue_interface_acknowledges_on_done(config: QueueConfig, cleanup: None) -> None:
    asyncio.run(_test_the_plain_queue_interface_acknowledges_on_done(config))


async def _test_the_plain_queue_interface_acknowledges_on_done(config: QueueConfig) -> None:
    queue = RabbitQueue(config)
    await queue.connect()
    try:
        await queue.put(ITEM)
        item = await asyncio.wait_for(queue.get(), 10)
        assert item == ITEM
        queue.done(item)
    finally:
        await queue.close()
    # Done means acknowledged: a new consumer finds nothing.
    check = RabbitQueue(config, consume=False)
    await check.connect()
    try:
        assert await check.waiting() == 0
    finally:
        await check.close()


def test_an_unreachable_broker_says_where_and_what_to_check() -> None:
    asyncio.run(_test_an_unreachable_broker_says_where_and_what_to_check())


async def _test_an_unreachable_broker_says_where_and_what_to_check() -> None:
    config = QueueConfig(backend="rabbitmq", url="amqp://guest:secret@127.0.0.1:1/", name="x")
    queue = RabbitQueue(config)
    with pytest.raises(Exception, match=r"cannot reach RabbitMQ at amqp://guest@127\.0\.0\.1:1/"):
        await queue.connect()


def test_an_item_past_its_lifetime_is_never_delivered(config: QueueConfig, cleanup: None) -> None:
    asyncio.run(_expired(config))


async def _expired(config: QueueConfig) -> None:
    publisher = RabbitQueue(config, consume=False)
    await publisher.connect()
    poll = WorkItem("customers", "run", trigger="schedule")
    await publisher.put(poll, expires_in=0.1)
    await asyncio.sleep(0.5)  # nobody consumed it within its lifetime
    await publisher.put(ITEM)
    await publisher.close()
    consumer = RabbitQueue(config)
    await consumer.connect()
    try:
        first = await asyncio.wait_for(consumer.receive(), 10)
        assert first.item == ITEM  # the expired poll was dropped by the broker
        await first.ack()
        assert consumer.depth() == 0
    finally:
        await consumer.close()
