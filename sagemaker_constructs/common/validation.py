"""Collect every problem with a construct's arguments, then raise once."""

from __future__ import annotations

from aws_cdk import CfnResource
from constructs import Construct


class Problems:
    """Accumulates rule violations for one construct and raises them together.

    >>> problems = Problems("endpoint")
    >>> problems.check(False, "max_concurrency must be 1-200 (got 500)")
    >>> problems.raise_if_any()
    Traceback (most recent call last):
    ValueError: Invalid endpoint props: max_concurrency must be 1-200 (got 500)
    """

    def __init__(self, subject: str) -> None:
        self._subject = subject
        self._items: list[str] = []

    def add(self, message: str) -> None:
        """Record one problem; the message names the rule and the actual value."""
        self._items.append(message)

    def check(self, ok: bool, message: str) -> None:
        """Record `message` unless `ok`."""
        if not ok:
            self.add(message)

    @property
    def messages(self) -> list[str]:
        """The problems recorded so far."""
        return list(self._items)

    def raise_if_any(self) -> None:
        """Raise a ValueError listing every recorded problem, if there is one."""
        if self._items:
            raise ValueError(f"Invalid {self._subject} props: " + "; ".join(self._items))


def stable_logical_id(construct: Construct, logical_id: str) -> None:
    """Pin the CloudFormation logical ID of a stateful resource.

    A changed logical ID makes CloudFormation create a new resource and orphan (or
    delete) the old one: for a bucket, key or user pool that means losing data.
    Pinning it keeps refactors of the construct tree from ever doing that.
    """
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to pin")
    resource.override_logical_id(logical_id)
