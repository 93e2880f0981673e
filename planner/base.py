"""The planner interface and the registry that picks one by name."""

from __future__ import annotations

from typing import Any, Protocol

from planner.schema import Plan, PlanError

PLANNERS = ("rules", "llm", "auto")


class Planner(Protocol):
    name: str

    def plan(self, prompt: str, *, size: tuple[int, int] | None = None, seed: int = 0,
             quality: str = "auto", background: str = "auto") -> Plan: ...

    def revise(self, plan: Plan, instruction: str) -> Plan: ...


def get_planner(name: str = "rules", model: str | None = None, **kwargs: Any) -> Planner:
    """``rules`` (no weights), ``llm`` (a local model: preset name or path), or ``auto``
    (the configured LLM when there is one, else rules).

    Raises:
        PlanError: unknown planner name.
    """
    if name == "rules":
        from planner.rules import RulesPlanner

        return RulesPlanner(**kwargs)
    if name in ("llm", "auto"):
        try:
            from planner.llm import LLMPlanner, configured_model
        except ImportError as e:  # pragma: no cover - until the LLM planner lands
            if name == "auto":
                from planner.rules import RulesPlanner

                return RulesPlanner(**kwargs)
            raise PlanError(f"the LLM planner is not available: {e}") from None
        chosen = model or configured_model()
        if chosen is None:
            if name == "auto":
                from planner.rules import RulesPlanner

                return RulesPlanner(**kwargs)
            raise PlanError("--planner llm needs --model PRESET_OR_PATH "
                            "(or LIMNER_PLANNER_MODEL set)")
        return LLMPlanner(chosen, **kwargs)
    raise PlanError(f"unknown planner {name!r}; choose one of: {', '.join(PLANNERS)}")
