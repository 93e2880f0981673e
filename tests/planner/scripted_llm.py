"""A stand-in for model.llm's decoder, shared by the LLM planner's tests."""


class Scripted:
    """Replies from a list (the last one repeats) and records every call: the first
    conversation's messages, the schemas, seed, temperature and token budget."""

    def __init__(self, *replies: str):
        self.replies = list(replies)
        self.calls: list[dict] = []

    def generate_json_batch(self, conversations, json_schemas, max_new_tokens, seed=0,
                            temperature=0.0):
        self.calls.append({"messages": conversations[0], "schemas": json_schemas,
                           "schema": json_schemas[0], "seed": seed,
                           "temperature": temperature, "budget": max_new_tokens})
        text = self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]
        return [text] * len(conversations)
