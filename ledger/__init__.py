"""fundledger: an append-only, double-entry ledger for a multinational procurement fund."""

__version__ = "0.1.0"
