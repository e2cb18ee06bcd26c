"""What trading desks subscribe with: alert readers, filters and ``stancewire tail``."""
