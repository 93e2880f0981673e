"""The error type of model/: weights, devices, dtypes and presets.

model/ sits below render/ (render/ imports model/, never the reverse), so it has its own
error; ``render.base.RenderError`` subclasses it, and the front door catches both.
"""


class ModelError(RuntimeError):
    """Weights, a device or a preset that cannot be used here: the message says what is
    missing and how to fix it."""
