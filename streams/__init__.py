"""The stream worker: the Faust app, its screen agent, and the modules the agent calls."""
