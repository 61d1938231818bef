"""The rulebooks (data, one file each) and the checks that decide their rules."""
