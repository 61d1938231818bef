"""triage: the first reading of industry invitations in a healthcare function mailbox."""

__version__ = "0.1.0"
