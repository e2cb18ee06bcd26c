"""What brings headlines in: feed poller, HTTP push, archives. Imports only ``schemas``."""
