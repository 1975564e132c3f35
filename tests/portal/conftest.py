"""The debtor portal's tests share the debtor-management world: one organisation, one live administration, a clock."""

from tests.debtors.conftest import Clock, World, any_world, world

__all__ = ["Clock", "World", "any_world", "world"]
