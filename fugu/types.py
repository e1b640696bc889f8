"""The conversation types every layer shares: one definition, imported from here only."""

from __future__ import annotations

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}
Conversation = list[Message]
