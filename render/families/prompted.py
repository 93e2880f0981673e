"""What the families whose pipelines read the prompt text at call time share.

Ideogram 4, GLM-Image and Janus-Pro take no precomputed embeddings: Ideogram 4 packs its text
features with the image grid, GLM-Image's generator reads the prompt (and its glyph encoder
the quoted texts) inside the call, Janus-Pro samples image codes after the prompt. Their
``encode`` therefore keeps each prompt's text, as UTF-8 bytes in a padded integer tensor (the
shape the shared encoder cache selects rows from), and their sampling hooks hand the pipeline
the strings back, unchanged. None of them is regional, none has SDEdit or inpainting: layout
reaches them through the prompt (a caption with boxes for Ideogram 4, position words for the
others), and an edit is the Plan rendered whole, composited through the change mask by the
shared renderer.
"""

from __future__ import annotations

from render.families.base import Embeds, Family


def text_rows(texts: list[str]):
    """Texts → (LongTensor ``(N, max bytes)`` of UTF-8 bytes padded with 0, bool mask)."""
    import torch

    raw = [t.encode("utf-8") for t in texts]
    longest = max(1, max(len(b) for b in raw))
    tokens = torch.zeros(len(raw), longest, dtype=torch.long)
    mask = torch.zeros(len(raw), longest, dtype=torch.bool)
    for i, b in enumerate(raw):
        if b:
            tokens[i, :len(b)] = torch.tensor(list(b), dtype=torch.long)
            mask[i, :len(b)] = True
    return tokens, mask


def texts_of(tokens, mask) -> list[str]:
    """The inverse of :func:`text_rows`."""
    return [bytes(t[m].tolist()).decode("utf-8") for t, m in zip(tokens, mask.bool())]


class PromptedFamily(Family):
    """A family whose pipeline is called with the prompt strings themselves."""

    def encode(self, pipe, texts, max_len, device, region=False) -> Embeds:
        return Embeds(*text_rows(list(texts)))

    def guidance(self, tier, options):
        # Guidance happens inside these pipelines; none reads limner's negative prompt.
        return False, {"guidance_scale": tier.guidance}

    def call_kwargs(self, e: Embeds) -> dict:
        return dict(prompt_bytes=e.tokens, prompt_mask=e.mask)

    @staticmethod
    def prompts(common: dict) -> tuple[list[str], dict]:
        """(prompt strings, the other call arguments) from the shared renderer's ``common``."""
        rest = dict(common)
        texts = texts_of(rest.pop("prompt_bytes"), rest.pop("prompt_mask"))
        return texts, rest
