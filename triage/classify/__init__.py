"""Classification: which rule chapter a message belongs to, and which rulebook judges it."""
