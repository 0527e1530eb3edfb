"""replayvault."""
