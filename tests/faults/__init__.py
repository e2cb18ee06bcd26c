"""The fault suite: the real stack, broken on purpose; nothing lost, nothing doubled."""
