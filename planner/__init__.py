"""planner/: prompt (+ previous plan, + references) -> Plan. No torch, no PIL here."""

from planner.base import Planner, get_planner
from planner.schema import Plan, PlanError, SizeError

__all__ = ["Plan", "PlanError", "Planner", "SizeError", "get_planner"]
