"""limner: a local, open-weights image generator that plans before it draws.

    from limner import Limner
    plan = Limner().plan("three red apples left of a cup")
    result = Limner().generate("a poster that says \"HELLO\"", n=2)
"""

from limner.api import GeneratedImage, GenerateResult, Limner, LimnerError

__version__ = "0.1.0"
__all__ = ["GeneratedImage", "GenerateResult", "Limner", "LimnerError", "__version__"]
