"""What the LLM-encoder families share: the Plan as one structured prompt.

Qwen-Image, Z-Image and FLUX.2 read their prompt through a chat LLM (Qwen2.5-VL, Qwen3,
Mistral 3), which follows a long explicit description better than per-box segments; their
adapters therefore return one global segment, written by render/prompting.py. None of them
implements regional attention (their joint/single-stream attention would need its own mask
processors; not done): a Plan's layout reaches them through the position words of the prompt
and, where the family has an img2img path, through the draft init (SDEdit).
"""

from __future__ import annotations

from render.families.base import Family


class StructuredPromptFamily(Family):
    """A family whose conditioning is ``render.prompting.structured_prompt`` of the Plan."""

    def conditioning(self, plan, key_name=None, text_mode: str = "exact"):
        from render.prompting import structured_prompt
        from render.text_modes import effective_mode

        mode = effective_mode(text_mode, self.capabilities.native_text)
        return [(structured_prompt(plan, mode, key_name, alpha=self.capabilities.alpha), (),
                 True)]


def padded(rows: list, device=None):
    """Variable-length embeddings ``[(L_i, D), ...]`` → ``(N, max L, D)`` zero-padded and a
    bool mask ``(N, max L)``: the shape the shared encoder cache (rows, index_select) keeps."""
    import torch

    longest = max(r.shape[0] for r in rows)
    tokens = torch.stack([torch.cat([r, r.new_zeros(longest - r.shape[0], r.shape[1])])
                          for r in rows])
    mask = torch.stack([torch.arange(longest, device=r.device) < r.shape[0] for r in rows])
    return tokens, mask


def unpadded(tokens, mask) -> list:
    """The inverse of :func:`padded`: one ``(L_i, D)`` tensor per row."""
    return [t[m] for t, m in zip(tokens, mask.bool())]
