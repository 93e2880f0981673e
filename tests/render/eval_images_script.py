"""scripts/eval_images.py as a module, loaded once per test session (its OCR engine is built
once): the text tests score read-back with the same rules as the eval script."""

import importlib.util
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def eval_module():
    if "eval_images" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "eval_images", os.path.join(REPO, "scripts", "eval_images.py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules["eval_images"] = mod
    return sys.modules["eval_images"]
