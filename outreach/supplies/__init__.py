"""Supply catalog (and, later, the stock ledger)."""
